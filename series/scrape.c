/*
 * scrape.c - the writer's sessions: a target's samples are matched to its
 * series (the merged, sorted label set hashed and looked up in the
 * target's index) and buffered; commit (store.c) applies them.  Limits
 * are checked as new series appear: the first one over a limit fails the
 * scrape at once and gives its new series back, so a target exposing a
 * million series costs at most the limit.
 */
#include "series/series_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define EXPORTED "exported_"
#define EXPORTED_LEN 9

enum { FAIL_TARGET = 1, FAIL_TOTAL, FAIL_LABELS };

static bool target_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct series *s = ctx;

	return strcmp(s->targets[idx]->info->name, key) == 0;
}

struct series__target *series__target_find(const struct series *s, const char *key, uint64_t hash)
{
	int64_t i = series__map_find(&s->tindex, hash, target_eq, s, key);

	return i < 0 ? NULL : s->targets[i];
}

/* The target's labels as a label set: sorted (labels already is), empty
 * values dropped as Prometheus drops them. */
static struct series__labelset *target_info(const char *key, const struct labels *tl)
{
	size_t n = 0, all = tl ? tl->n : 0;
	struct label *items = xmalloc((all ? all : 1) * sizeof(*items));
	struct series__labelset *ls;

	for (size_t i = 0; i < all; i++)
		if (tl->items[i].value && *tl->items[i].value)
			items[n++] = tl->items[i];
	ls = series__labelset_new(key, true, items, n, series__labels_hash(items, n));
	free(items);
	return ls;
}

static bool same_target_labels(const struct series__labelset *info, const struct labels *tl)
{
	size_t k = 0, all = tl ? tl->n : 0;

	for (size_t i = 0; i < all; i++) {
		if (!tl->items[i].value || !*tl->items[i].value)
			continue;
		if (k >= info->labels.n || strcmp(info->labels.items[k].key, tl->items[i].key) != 0 ||
		    strcmp(info->labels.items[k].value, tl->items[i].value) != 0)
			return false;
		k++;
	}
	return k == info->labels.n;
}

static struct series__target *target_new(struct series *s, const char *key, uint64_t hash,
					 const struct labels *tl)
{
	struct series__target *t = xcalloc(1, sizeof(*t));

	t->info = target_info(key, tl);
	t->pos = s->ntargets;
	t->newest_ms = INT64_MIN;
	s->targets = series__reserve(s->targets, &s->cap_targets, s->ntargets + 1, sizeof(*s->targets));
	s->targets[s->ntargets++] = t;
	series__map_insert(&s->tindex, hash, (uint32_t)t->pos);
	series__publish(s, t, NULL);
	return t;
}

struct series_scrape *series_scrape_begin(struct series *s, const char *target_key,
					  const struct labels *target_labels, int64_t scrape_time_ms)
{
	struct series__target *t;
	struct series_scrape *sc;
	uint64_t hash;

	if (!s || !target_key || !*target_key)
		return NULL;
	hash = hash_str(HASH_FNV_OFFSET, target_key);
	t = series__target_find(s, target_key, hash);
	if (!t) {
		t = target_new(s, target_key, hash, target_labels);
	} else if (t->sc.open) {
		return NULL;
	} else if (!same_target_labels(t->info, target_labels)) {
		/* new label sets: the old series go stale as absent ones */
		series__labelset_unref(t->info);
		t->info = target_info(target_key, target_labels);
	}
	if (t->removed) {
		t->removed = false;
		s->nremoved--;
	}
	sc = &t->sc;
	sc->store = s;
	sc->t = t;
	sc->time_ms = scrape_time_ms;
	if (++s->gen == 0)
		s->gen = 1;
	sc->gen = s->gen;
	sc->open = true;
	sc->failed = false;
	sc->would_have = t->nlive;
	sc->npend = sc->nfresh = 0;
	sc->fail_kind = 0;
	return sc;
}

/* Gives back the series created by the scrape (a failed scrape keeps none). */
static void rollback_fresh(struct series_scrape *sc)
{
	struct series__target *t = sc->t;

	for (size_t k = 0; k < sc->nfresh; k++) {
		uint32_t i = sc->fresh[k];
		struct series__wslot *ws = &t->slots[i];

		series__map_remove(&t->index, ws->ls->hash, i);
		series__labelset_unref(ws->ls);
		*ws = (struct series__wslot){ NULL, 0, 0 };
		t->free_slots = series__reserve(t->free_slots, &t->cap_free, t->nfree + 1,
						sizeof(*t->free_slots));
		t->free_slots[t->nfree++] = i;
		t->nlive--;
		sc->store->nseries--;
		t->layout++;
	}
	sc->nfresh = 0;
	sc->npend = 0;
}

static int fail(struct series_scrape *sc, int why, size_t limit)
{
	sc->failed = true;
	sc->fail_kind = why;
	sc->fail_limit = limit;
	if (why == FAIL_TARGET)
		sc->fail_n = sc->would_have + 1;
	else if (why == FAIL_TOTAL)
		sc->fail_n = sc->store->nseries + 1;
	rollback_fresh(sc);
	return ERR_TOOBIG;
}

/* sc->tmp := __name__, the scraped labels (colliding ones renamed), the
 * target's; sorted by key, later duplicates dropped.  The count, or -1
 * when a label is NULL. */
static long merge(struct series_scrape *sc, const char *name, const struct series_label *l, size_t nl)
{
	const struct labels *tl = &sc->t->info->labels;
	size_t k = 0, bytes = 0, out = 0;
	char *np;

	sc->tmp = series__reserve(sc->tmp, &sc->cap_tmp, 1 + nl + tl->n, sizeof(*sc->tmp));
	for (size_t i = 0; i < nl; i++) {
		if (!l[i].name || !l[i].value)
			return -1;
		if (*l[i].value && series__label_get(tl, l[i].name))
			bytes += (tl->n + 1) * (strlen(l[i].name) + EXPORTED_LEN * (tl->n + 1) + 1);
	}
	if (bytes)
		sc->names = series__reserve(sc->names, &sc->cap_names, bytes, 1);
	np = sc->names;
	sc->tmp[k++] = (struct label){ (char *)"__name__", (char *)name };
	for (size_t i = 0; i < nl; i++) {
		const char *key = l[i].name;

		if (!*l[i].value)
			continue;
		while (series__label_get(tl, key)) {
			size_t len = strlen(key);

			memcpy(np, EXPORTED, EXPORTED_LEN);
			memmove(np + EXPORTED_LEN, key, len + 1);
			key = np;
			np += EXPORTED_LEN + len + 1;
		}
		sc->tmp[k++] = (struct label){ (char *)key, (char *)l[i].value };
	}
	for (size_t i = 0; i < tl->n; i++)
		sc->tmp[k++] = tl->items[i];
	/* stable insertion sort: a duplicate key keeps its first value */
	for (size_t i = 1; i < k; i++) {
		struct label x = sc->tmp[i];
		size_t j = i;

		for (; j > 0 && strcmp(sc->tmp[j - 1].key, x.key) > 0; j--)
			sc->tmp[j] = sc->tmp[j - 1];
		sc->tmp[j] = x;
	}
	for (size_t i = 0; i < k; i++)
		if (!out || strcmp(sc->tmp[out - 1].key, sc->tmp[i].key) != 0)
			sc->tmp[out++] = sc->tmp[i];
	return (long)out;
}

struct lookup {
	const struct label *items;
	size_t n;
};

static bool series_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct series__target *t = ctx;
	const struct lookup *k = key;

	return series__labelset_eq(t->slots[idx].ls, k->items, k->n);
}

static void pend(struct series_scrape *sc, uint32_t slot, double v, int64_t t_ms)
{
	sc->pend = series__reserve(sc->pend, &sc->cap_pend, sc->npend + 1, sizeof(*sc->pend));
	sc->pend[sc->npend++] = (struct series__pending){ slot, { t_ms, v } };
}

/* A new series for the merged labels; the limits were checked. */
static uint32_t new_series(struct series_scrape *sc, size_t n, uint64_t hash, bool has_ts)
{
	struct series__target *t = sc->t;
	uint32_t i;

	if (t->nfree) {
		i = t->free_slots[--t->nfree];
	} else {
		t->slots = series__reserve(t->slots, &t->cap_slots, t->nslots + 1, sizeof(*t->slots));
		i = (uint32_t)t->nslots++;
	}
	t->slots[i] = (struct series__wslot){
		series__labelset_new(NULL, false, sc->tmp, n, hash), sc->gen,
		(uint8_t)(SERIES__FRESH | (has_ts ? SERIES__TS : 0)),
	};
	series__map_insert(&t->index, hash, i);
	sc->fresh = series__reserve(sc->fresh, &sc->cap_fresh, sc->nfresh + 1, sizeof(*sc->fresh));
	sc->fresh[sc->nfresh++] = i;
	t->nlive++;
	sc->store->nseries++;
	sc->would_have++;
	t->layout++;
	return i;
}

int series_scrape_add(struct series_scrape *sc, const char *name, const struct series_label *labels,
		      size_t nlabels, double value, bool has_ts, int64_t ts_ms)
{
	struct series *s;
	struct series__target *t;
	struct lookup key;
	size_t bytes = 0;
	uint64_t hash;
	int64_t found;
	long n;

	if (!sc || !sc->open || !name || !*name || (nlabels && !labels))
		return ERR_INVAL;
	if (sc->failed) {
		sc->fail_n++; /* each later sample counted as a series */
		return ERR_TOOBIG;
	}
	s = sc->store;
	t = sc->t;
	n = merge(sc, name, labels, nlabels);
	if (n < 0)
		return ERR_INVAL;
	key = (struct lookup){ sc->tmp, (size_t)n };
	hash = series__labels_hash(sc->tmp, (size_t)n);
	found = series__map_find(&t->index, hash, series_eq, t, &key);
	if (found >= 0) {
		struct series__wslot *ws = &t->slots[found];

		if (ws->gen == sc->gen) {
			atomic_fetch_add_explicit(&s->duplicates, 1, memory_order_relaxed);
			return 0;
		}
		ws->gen = sc->gen;
		if (has_ts)
			ws->flags |= SERIES__TS;
		pend(sc, (uint32_t)found, value, has_ts ? ts_ms : sc->time_ms);
		return 0;
	}
	for (long i = 0; i < n; i++)
		bytes += strlen(sc->tmp[i].key) + strlen(sc->tmp[i].value);
	if (bytes > s->opt.max_label_bytes) {
		if (!sc->err)
			sc->err = xmalloc(SERIES__ERR_MAX);
		snprintf(sc->err, SERIES__ERR_MAX,
			 "label set too long: a series of %s (%s) has %zu bytes of labels, limit %zu",
			 name, t->info->name, bytes, s->opt.max_label_bytes);
		return fail(sc, FAIL_LABELS, 0);
	}
	if (s->opt.max_series_per_target && sc->would_have + 1 > s->opt.max_series_per_target)
		return fail(sc, FAIL_TARGET, s->opt.max_series_per_target);
	if (s->opt.max_series && s->nseries + 1 > s->opt.max_series)
		return fail(sc, FAIL_TOTAL, s->opt.max_series);
	pend(sc, new_series(sc, (size_t)n, hash, has_ts), value, has_ts ? ts_ms : sc->time_ms);
	return 0;
}

/* The failed scrape's text. */
static void fail_text(const struct series_scrape *sc, char *err, size_t errlen)
{
	if (sc->fail_kind == FAIL_LABELS)
		snprintf(err, errlen, "%s", sc->err);
	else if (sc->fail_kind == FAIL_TARGET)
		snprintf(err, errlen, "series limit exceeded: target %s would have %zu series, limit %zu",
			 sc->t->info->name, sc->fail_n, sc->fail_limit);
	else
		snprintf(err, errlen,
			 "series limit exceeded: target %s would bring the store to %zu series, "
			 "limit %zu (--max-series)",
			 sc->t->info->name, sc->fail_n, sc->fail_limit);
}

int series_scrape_commit(struct series_scrape *sc, char *err, size_t errlen)
{
	struct series *s;
	int64_t now;

	if (!sc || !sc->open)
		return ERR_INVAL;
	s = sc->store;
	now = sc->time_ms;
	if (sc->failed) {
		char text[512];

		fail_text(sc, text, sizeof(text));
		log_warn("series: %s", text);
		if (err && errlen)
			snprintf(err, errlen, "%s", text);
		atomic_fetch_add_explicit(&s->refusals, 1, memory_order_relaxed);
		series__commit(sc, false);
		if (s->nremoved)
			series_expire(s, now);
		return ERR_TOOBIG;
	}
	series__commit(sc, true);
	if (s->nremoved)
		series_expire(s, now);
	return ERR_OK;
}

void series_scrape_abort(struct series_scrape *sc)
{
	struct series *s;
	int64_t now;

	if (!sc || !sc->open)
		return;
	s = sc->store;
	now = sc->time_ms;
	series__commit(sc, false);
	if (s->nremoved)
		series_expire(s, now);
}
