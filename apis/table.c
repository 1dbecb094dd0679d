/*
 * table.c - meta.k8s.io Table output of metrics-server's ConvertToTable
 * (pkg/api/table.go) plus the generic apiserver's includeObject handling:
 * columns Name, the first item's sorted usage keys, Window; pod cells are
 * sums over containers.
 */
#include "apis/apis_int.h"

#include <string.h>

static int write_columns(struct dynbuf *b, bool with_usage)
{
	int rc = dynbuf_addstr(b, ",\"columnDefinitions\":[{\"name\":\"Name\",\"type\":\"string\","
				  "\"format\":\"name\",\"description\":\"Name of the resource\","
				  "\"priority\":0},");

	if (!rc && with_usage)
		rc = dynbuf_addstr(b, "{\"name\":\"cpu\",\"type\":\"string\",\"format\":\"quantity\","
				      "\"description\":\"\",\"priority\":0},{\"name\":\"memory\","
				      "\"type\":\"string\",\"format\":\"quantity\",\"description\":\"\","
				      "\"priority\":0},");
	if (!rc)
		rc = dynbuf_addstr(b, "{\"name\":\"Window\",\"type\":\"string\",\"format\":\"duration\","
				      "\"description\":\"\",\"priority\":0}]");
	return rc;
}

/* Usage of an item (pods: Quantity.Add over the containers). */
static bool item_usage(const struct apis_item *it, enum apis_kind kind, uint64_t *cpu,
		       uint64_t *mem)
{
	if (kind == KIND_NODES) {
		*cpu = it->usage.cpu_nanocores;
		*mem = it->usage.mem_bytes;
		return true;
	}
	*cpu = *mem = 0;
	for (size_t i = 0; i < it->ncontainers; i++) {
		const struct store_container_usage *c = &it->containers[i];

		*cpu = c->cpu_nanocores > UINT64_MAX - *cpu ? UINT64_MAX : *cpu + c->cpu_nanocores;
		*mem = c->mem_bytes > UINT64_MAX - *mem ? UINT64_MAX : *mem + c->mem_bytes;
	}
	return it->ncontainers > 0;
}

static int write_object(struct dynbuf *b, const struct apis_items *items, const struct apis_item *it,
			struct apis_wctx *w, const char *table_version, enum include_object inc)
{
	int rc;

	if (inc == INCLUDE_NONE)
		return ERR_OK;
	rc = dynbuf_addstr(b, ",\"object\":");
	if (!rc && inc == INCLUDE_OBJECT)
		return apis__write_item(b, items->kind, it, w, true);
	if (!rc)
		rc = dynbuf_printf(b, "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":"
				      "\"meta.k8s.io/%s\",\"metadata\":", table_version);
	if (!rc)
		rc = apis__write_meta(b, it, w);
	return rc ? rc : dynbuf_addch(b, '}');
}

/* cells [name, (cpu, memory,) window] */
static int write_cells(struct dynbuf *b, const struct apis_item *it, bool usage, uint64_t cpu,
		       uint64_t mem)
{
	char c[48], m[48], w[40];
	int rc = dynbuf_addstr(b, "{\"cells\":[");

	if (!rc)
		rc = jsonw_string(b, it->name);
	if (!rc && usage) {
		apis__cpu_string(cpu, c, sizeof(c));
		apis__mem_string(mem, m, sizeof(m));
		rc = dynbuf_printf(b, ",\"%s\",\"%s\"", c, m);
	}
	fmt_go_duration(it->usage.window_ns, w, sizeof(w));
	return rc ? rc : dynbuf_printf(b, ",\"%s\"]", w);
}

int apis__write_table(struct dynbuf *b, const struct apis_items *items, struct apis_wctx *w,
		     const char *table_version, enum include_object inc)
{
	bool have_names = false;
	uint64_t cpu, mem;
	int rc;

	rc = dynbuf_printf(b, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/%s\",\"metadata\":{}",
			   table_version);
	if (!rc && items->n == 0)
		return dynbuf_addstr(b, ",\"columnDefinitions\":null,\"rows\":null}");
	/* Columns come from the first item with usage (table.go recomputes
	 * them until one has some). */
	for (size_t i = 0; i < items->n && !have_names; i++)
		have_names = item_usage(&items->v[i], items->kind, &cpu, &mem);
	if (!rc)
		rc = write_columns(b, have_names);
	if (!rc)
		rc = dynbuf_addstr(b, ",\"rows\":[");
	have_names = false;
	for (size_t i = 0; !rc && i < items->n; i++) {
		const struct apis_item *it = &items->v[i];
		bool has = item_usage(it, items->kind, &cpu, &mem);

		have_names = have_names || has;
		rc = i ? dynbuf_addch(b, ',') : ERR_OK;
		if (!rc)
			rc = write_cells(b, it, have_names, cpu, mem);
		if (!rc)
			rc = write_object(b, items, it, w, table_version, inc);
		if (!rc)
			rc = dynbuf_addch(b, '}');
	}
	return rc ? rc : dynbuf_addstr(b, "]}");
}
