/*
 * table.c - meta.k8s.io Table output for kubectl's human-readable get:
 * content negotiation, column definitions, rows with the object as
 * PartialObjectMetadata, and duration.HumanDuration ages.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sim_table_wanted(const struct sim_request *req)
{
	static const char *const versions[] = { "v1beta1", "v1" };
	static const char *const api_versions[] = { "meta.k8s.io/v1beta1", "meta.k8s.io/v1" };
	int i = sim_accept_version(req, "Table", "meta.k8s.io", versions,
				   COMMON_ARRAY_LEN(versions));

	return i < 0 ? NULL : api_versions[i];
}

/* duration.HumanDuration. */
static void human_duration(int64_t d_ns, char *buf, size_t len)
{
	int64_t sec = d_ns / NS_PER_SEC, min = sec / 60, hours = min / 60, days = hours / 24;

	if (sec < -1)
		snprintf(buf, len, "<invalid>");
	else if (sec < 0)
		snprintf(buf, len, "0s");
	else if (sec < 120)
		snprintf(buf, len, "%llds", (long long)sec);
	else if (min < 10 && sec % 60)
		snprintf(buf, len, "%lldm%llds", (long long)min, (long long)(sec % 60));
	else if (min < 180)
		snprintf(buf, len, "%lldm", (long long)min);
	else if (hours < 8 && min % 60)
		snprintf(buf, len, "%lldh%lldm", (long long)hours, (long long)(min % 60));
	else if (hours < 48)
		snprintf(buf, len, "%lldh", (long long)hours);
	else if (hours < 24 * 8 && hours % 24)
		snprintf(buf, len, "%lldd%lldh", (long long)days, (long long)(hours % 24));
	else if (hours < 24 * 365 * 2)
		snprintf(buf, len, "%lldd", (long long)days);
	else if (hours < 24 * 365 * 8 && days % 365)
		snprintf(buf, len, "%lldy%lldd", (long long)(days / 365), (long long)(days % 365));
	else
		snprintf(buf, len, "%lldy", (long long)(days / 365));
}

void sim_table_age(const json_t *obj, int64_t now_ns, char *buf, size_t len)
{
	const char *ts = jpath_str(obj, "metadata.creationTimestamp");
	int64_t t;

	if (!ts || parse_rfc3339(ts, &t) != ERR_OK) {
		snprintf(buf, len, "<unknown>");
		return;
	}
	human_duration(now_ns - t, buf, len);
}

static int write_columns(struct dynbuf *out, const struct sim_kind *k)
{
	json_t *cols = json_array();
	const struct sim_column *c;
	char *s;
	int rc;

	for (c = k->columns; c->name; c++)
		json_array_append_new(cols, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", c->name,
						      "type", c->type, "format", c->format,
						      "description", c->description,
						      "priority", c->priority));
	s = json_dumps(cols, JSON_COMPACT);
	rc = dynbuf_printf(out, "\"columnDefinitions\":%s,\"rows\":[", s);
	free(s);
	json_decref(cols);
	return rc;
}

/* The row's "object" per includeObject (Metadata by default). */
static json_t *row_object(const struct sim_kind *k, json_t *obj, const char *include,
			  const char *api_version)
{
	if (include && strcmp(include, "None") == 0)
		return NULL;
	if (include && strcmp(include, "Object") == 0) {
		json_t *full = json_pack("{s:s,s:s}", "kind", k->kind, "apiVersion",
					 sim_kind_api_version(k));

		json_object_update(full, obj);
		return full;
	}
	return json_pack("{s:s,s:s,s:O}", "kind", "PartialObjectMetadata", "apiVersion",
			 api_version, "metadata", json_object_get(obj, "metadata"));
}

static int write_row(struct dynbuf *out, const struct sim_kind *k, const struct sim_obj *o,
		     const char *include, const char *api_version, int64_t now)
{
	json_t *obj = sim_obj_load(o), *row, *cells = json_array(), *ro;
	char *s;
	int rc;

	k->cells(obj, cells, now);
	row = json_pack("{s:o}", "cells", cells);
	ro = row_object(k, obj, include, api_version);
	if (ro)
		json_object_set_new(row, "object", ro);
	s = json_dumps(row, JSON_COMPACT);
	rc = dynbuf_addstr(out, s);
	free(s);
	json_decref(row);
	json_decref(obj);
	return rc;
}

int sim_table_write(struct dynbuf *out, const char *api_version, const struct sim_kind *k,
		    struct sim_obj *const *objs, size_t n, const char *list_meta,
		    const char *include)
{
	int64_t now = clock_now_ns();
	size_t i;
	int rc;

	rc = dynbuf_printf(out, "{\"kind\":\"Table\",\"apiVersion\":\"%s\",\"metadata\":%s,",
			   api_version, list_meta);
	if (!rc)
		rc = write_columns(out, k);
	for (i = 0; i < n && !rc; i++) {
		if (i)
			rc = dynbuf_addch(out, ',');
		if (!rc)
			rc = write_row(out, k, objs[i], include, api_version, now);
	}
	if (!rc)
		rc = dynbuf_addstr(out, "]}");
	return rc;
}

void sim_cell_str(json_t *cells, const char *s)
{
	json_array_append_new(cells, json_string(s && *s ? s : "<none>"));
}

void sim_cell_int(json_t *cells, json_int_t v)
{
	json_array_append_new(cells, json_integer(v));
}

void sim_cell_age(json_t *cells, const json_t *obj, int64_t now_ns)
{
	char age[32];

	sim_table_age(obj, now_ns, age, sizeof(age));
	json_array_append_new(cells, json_string(age));
}

void sim_cell_name(json_t *cells, const json_t *obj)
{
	sim_cell_str(cells, jpath_str(obj, "metadata.name"));
}
