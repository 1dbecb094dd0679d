/*
 * peers.c - the other HPAs of a namespace, as the ambiguity check
 * (AmbiguousSelector) needs them.  Upstream's controller reconciles every
 * HPA, so it knows every HPA's selector; with --hpa=annotated this loop
 * acts on some only.  The selectors of the HPAs it acts on come from their
 * state (set when their Scale is read); those of the others are read here,
 * GET only and never written, at most once per pass each, and only for a
 * namespace where an HPA is acted on (on the first need).  `hpa explain
 * --live` uses the same code with no HPA acted on.
 */
#include "hpaloop/hpaloop_int.h"

#include <stdlib.h>
#include <string.h>

static int peer_cmp(const void *a, const void *b)
{
	const struct hpaloop__peer *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

void hpaloop__peers_init(struct hpaloop__peers *p, const json_t *items, enum hpaloop_mode mode)
{
	const json_t *hpa;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->v = xcalloc(json_array_size(items) + 1, sizeof(*p->v));
	json_array_foreach(items, i, hpa) {
		struct hpaloop__peer *e = &p->v[p->n];

		e->ns = jpath_str(hpa, "metadata.namespace");
		e->name = jpath_str(hpa, "metadata.name");
		if (!e->ns || !e->name)
			continue;
		e->hpa = hpa;
		e->acted = hpaloop_selected(mode, hpa);
		p->n++;
	}
	qsort(p->v, p->n, sizeof(*p->v), peer_cmp);
}

/* Index of the first peer of namespace ns (or where it would be). */
static size_t ns_first(const struct hpaloop__peers *p, const char *ns)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(p->v[mid].ns, ns) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

json_t *hpaloop__peers_others(struct hpaloop__peers *p, const struct hpaloop__states *s, const char *ns,
			 const char *self, hpaloop__selector_fn read, void *ud)
{
	json_t *out = json_array();

	for (size_t i = ns_first(p, ns); i < p->n && strcmp(p->v[i].ns, ns) == 0; i++) {
		struct hpaloop__peer *e = &p->v[i];
		const char *sel = NULL;

		if (strcmp(e->name, self) == 0)
			continue;
		if (e->acted) {
			const struct hpaloop__state *st = s ? hpaloop__states_find(s, ns, e->name) : NULL;

			sel = st ? st->selector : NULL;
		} else {
			if (!e->fetched && read)
				e->selector = read(ud, e->hpa);
			e->fetched = true;
			sel = e->selector;
		}
		if (sel && *sel)
			json_array_append_new(out, hpaloop__other_entry(ns, e->name, sel));
	}
	return out;
}

void hpaloop__peers_clear(struct hpaloop__peers *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].selector);
	free(p->v);
	memset(p, 0, sizeof(*p));
}
