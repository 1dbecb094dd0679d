/*
 * state.c - what the embedded controller remembers per HPA between
 * passes (horizontal.go's recommendations / scaleUpEvents /
 * scaleDownEvents maps, the selector map of the ambiguity check, and the
 * Events written), keyed by namespace/name, reset when the uid changes,
 * dropped when the HPA goes away.
 */
#include "hpaloop/hpaloop_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void event_record_clear(struct hpaloop__event_record *r)
{
	free(r->type);
	free(r->reason);
	free(r->message);
	json_decref(r->obj);
	memset(r, 0, sizeof(*r));
}

static void state_free(struct hpaloop__state *st)
{
	free(st->key);
	free(st->uid);
	free(st->selector);
	hpa_history_clear(&st->history);
	for (size_t i = 0; i < st->n_events; i++)
		event_record_clear(&st->events[i]);
	free(st);
}

/* Index of key in s->v, or where it would go (*found false). */
static const char *state_key(const void *v, size_t i)
{
	return ((struct hpaloop__state *const *)v)[i]->key;
}

/* Index of key in s, or of the slot where it would go (common's search). */
static size_t states_search(const struct hpaloop__states *s, const char *key, bool *found)
{
	return sorted_str_search(s->v, s->n, state_key, key, found);
}

void hpaloop__states_begin(struct hpaloop__states *s)
{
	s->pass++;
}

struct hpaloop__state *hpaloop__states_find(const struct hpaloop__states *s, const char *ns, const char *name)
{
	char *key = xasprintf("%s/%s", ns, name);
	bool found;
	size_t i = states_search(s, key, &found);

	free(key);
	return found ? s->v[i] : NULL;
}

struct hpaloop__state *hpaloop__states_get(struct hpaloop__states *s, const char *ns, const char *name,
				 const char *uid)
{
	char *key = xasprintf("%s/%s", ns, name);
	bool found;
	size_t i = states_search(s, key, &found);
	struct hpaloop__state *st;

	if (found && strcmp(s->v[i]->uid, uid ? uid : "") != 0) {
		log_v(2, "HPA %s was created again (uid %s): its history starts over", key,
		      uid ? uid : "");
		state_free(s->v[i]);
		memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
		s->n--;
		found = false;
	}
	if (found) {
		free(key);
		s->v[i]->seen = s->pass;
		return s->v[i];
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	st = xcalloc(1, sizeof(*st));
	st->key = key;
	st->uid = xstrdup(uid ? uid : "");
	st->seen = s->pass;
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i] = st;
	s->n++;
	return st;
}

size_t hpaloop__states_prune(struct hpaloop__states *s)
{
	size_t kept = 0, dropped = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i]->seen == s->pass) {
			s->v[kept++] = s->v[i];
			continue;
		}
		log_v(2, "HPA %s is gone or no longer selected: its history is dropped",
		      s->v[i]->key);
		state_free(s->v[i]);
		dropped++;
	}
	s->n = kept;
	return dropped;
}

void hpaloop__states_clear(struct hpaloop__states *s)
{
	for (size_t i = 0; i < s->n; i++)
		state_free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void hpaloop__state_take_history(struct hpaloop__state *st, struct hpa_history *h)
{
	hpa_history_clear(&st->history);
	st->history = *h;
	memset(h, 0, sizeof(*h));
}

/* ---- Events remembered for aggregation ------------------------------------ */

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

struct hpaloop__event_record *hpaloop__state_event_find(struct hpaloop__state *st, const struct hpa_event *ev)
{
	for (size_t i = 0; i < st->n_events; i++) {
		struct hpaloop__event_record *r = &st->events[i];

		if (same(r->type, ev->type) && same(r->reason, ev->reason) &&
		    same(r->message, ev->message))
			return r;
	}
	return NULL;
}

void hpaloop__state_event_put(struct hpaloop__state *st, const struct hpa_event *ev, json_t *obj,
			 uint64_t pass)
{
	struct hpaloop__event_record *r = hpaloop__state_event_find(st, ev);

	if (!r && st->n_events < HPALOOP_EVENT_CACHE) {
		r = &st->events[st->n_events++];
	} else if (!r) {
		r = &st->events[0];
		for (size_t i = 1; i < st->n_events; i++)
			if (st->events[i].used < r->used)
				r = &st->events[i];
	}
	if (r->obj != obj) {
		event_record_clear(r);
		r->type = xstrdup(ev->type ? ev->type : "");
		r->reason = xstrdup(ev->reason ? ev->reason : "");
		r->message = xstrdup(ev->message ? ev->message : "");
		r->obj = json_incref(obj);
	}
	r->used = pass;
}
