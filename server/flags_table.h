/*
 * flags_table.h - private to server/flags*.c (and run.c, which calls
 * server__apply_logging): the one table describing every command-line
 * flag (name, shorthand, type, where it lives in struct server_config,
 * help section and text); also the namedCertKey splitter serving.c uses
 * for --tls-sni-cert-key.
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
	/* issue 12 item 3: the types of the other metrics-server flags */
	FLAG_FLOAT32,   /* double within float32 (strconv.ParseFloat(s, 32)) */
	FLAG_INT32S,    /* struct server_strlist of int32 texts (pflag int32Slice) */
	FLAG_CERTKEY,   /* struct server_strlist, one "crt,key[:names]" per use */
	FLAG_QUANTITY,  /* int64_t bytes (resource.Quantity) */
	FLAG_VMODULE,   /* struct server_strlist of "pattern=N" (appended) */
	FLAG_GATES,     /* no flag: where hpaloop's --feature-gates is listed (name NULL) */
};

/* What a flag does here; flags without effect are logged once at start. */
enum flag_effect {
	FX_USED = 0,    /* implemented */
	FX_IGNORED,     /* no meaning in metrics-apiserver */
	FX_TODO,        /* accepted with upstream's checks, not implemented yet */
};

struct flag_def {
	const char *name;
	char shorthand;         /* 0 = none */
	enum flag_type type;
	size_t offset;          /* into struct server_config */
	const char *section;    /* help section title */
	const char *usage;
	enum flag_effect effect;
};

extern const struct flag_def server__flag_defs[];
extern const size_t server__flag_ndefs;

/* Help section titles, in the order --help prints them. */
extern const char *const server__flag_sections[];
extern const size_t server__flag_nsections;

/* Value parsers (flags_values.c), Go's texts in why; 0 or ERR_INVAL. */
int server__parse_int(const char *s, long long min, long long max, const char *fn, int *out,
		      char *why, size_t len);
int server__parse_float32(const char *s, double *out, char *why, size_t len);
int server__parse_int32s(const char *s, struct server_strlist *l, char *why, size_t len);
int server__parse_certkey(const char *s, char *why, size_t len);
/* One --tls-sni-cert-key value, split (serving.c uses it too). */
struct server__certkey {
	char *cert_file, *key_file;
	struct server_strlist names;  /* the domain patterns given; n = 0: none */
};
/* server__parse_certkey's checks; out (NULL: checks only) gets the parts,
 * emptied with server__certkey_clear. */
int server__certkey_split(const char *s, struct server__certkey *out, char *why, size_t len);
void server__certkey_clear(struct server__certkey *c);
int server__parse_quantity(const char *s, int64_t *out, char *why, size_t len);
int server__parse_vmodule(const char *s, struct server_strlist *l, char *why, size_t len);
/* Appends a copy of the len bytes at s to l; ERR_TOOBIG when l is full. */
int server__strlist_add(struct server_strlist *l, const char *s, size_t len);

/* Validate()'s checks of flags_check.c: 0, or ERR_INVAL with upstream's text. */
int server__check_logging(const struct server_logging_flags *l, char *err, size_t errlen);
int server__check_run_options(const struct server_generic_flags *g, char *err, size_t errlen);
/* Sets the process' log verbosity, format and vmodule from checked flags
 * (flags_check.c; run.c calls it at start-up). */
void server__apply_logging(const struct server_logging_flags *l, int verbosity);

#define SERVER_FLAGS_MAX_LIST 256     /* values in one list flag */

#endif
