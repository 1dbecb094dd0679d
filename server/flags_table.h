/*
 * flags_table.h - private to server/flags*.c: the one table describing
 * every command-line flag (name, shorthand, type, where it lives in
 * struct server_config, help section and text).
 */
#ifndef SERVER_FLAGS_TABLE_H
#define SERVER_FLAGS_TABLE_H

#include <stddef.h>

#include "server/server.h"

enum flag_type {
	FLAG_BOOL,      /* bool */
	FLAG_STRING,    /* char * */
	FLAG_INT,       /* int (strconv.ParseInt rules) */
	FLAG_DURATION,  /* int64_t ns (Go duration) */
	FLAG_STRINGS,   /* struct server_strlist (comma-separated) */
	FLAG_IP,        /* char * holding a valid IP address */
	FLAG_LEVEL,     /* int, klog -v */
	FLAG_FLOAT,     /* double (strconv.ParseFloat rules) */
	FLAG_HPA,       /* no flag: the place of hpaloop_flag_table's section (name NULL) */
};

struct flag_def {
	const char *name;
	char shorthand;         /* 0 = none */
	enum flag_type type;
	size_t offset;          /* into struct server_config */
	const char *section;    /* help section title */
	const char *usage;
};

extern const struct flag_def server__flag_defs[];
extern const size_t server__flag_ndefs;

#endif
