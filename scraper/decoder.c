/*
 * decoder.c - streaming /metrics/resource decoder with metrics-server's
 * rules (pkg/scraper/client/resource/decode.go).
 *
 * Bytes arrive in chunks of any size.  Whole lines are parsed in place
 * from the chunk; only a line split across chunks is copied into a small
 * buffer (at most SCRAPER_MAX_LINE bytes).  Container points accumulate
 * in open-addressing hash tables over index arrays and a string arena,
 * all kept across bodies: after warm-up a body costs no allocation.
 */
#include "scraper/scraper_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECODER_MAX_CONTAINERS (1u << 20)
#define DECODER_MIN_SLOTS 64
#define NONE UINT32_MAX

struct dec_pod {
	uint64_t hash;
	uint32_t ns_off, ns_len, name_off, name_len;
	uint32_t first, last; /* containers, in first-seen order */
};

struct dec_container {
	uint64_t hash;
	uint32_t pod, name_off, name_len, next;
	struct store_point pt;
};

/* Open addressing: slot = index + 1, 0 = empty. */
struct dec_table {
	uint32_t *slots;
	size_t mask;
};

struct scraper_decoder {
	char *node;
	size_t node_cap; /* a decoder serves one node after another: reuse the copy */
	int64_t default_ts_ns; /* whole milliseconds, as upstream */
	uint64_t lineno;
	char *part; /* a line split across chunks */
	size_t part_len, part_cap;
	struct store_point nodept;
	bool node_seen;
	struct dec_pod *pods;
	size_t npods, pods_cap;
	struct dec_container *conts;
	size_t nconts, conts_cap;
	struct dec_table pod_tab, cont_tab;
	uint32_t cursor; /* the container after the last one a line named */
	char *strs; /* NUL-terminated names, addressed by offset */
	size_t strs_len, strs_cap;
	char *scratch; /* unescaped label values */
	size_t scratch_cap;
	int err;
	bool finished;
	char detail[160];
	char errmsg[256];
};

/* ---- small helpers ---------------------------------------------------- */

#if defined(__SIZEOF_INT128__)
/* 16 bytes a round through one 64x64->128 multiply (wyhash's "mum"). */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t hash_span(uint64_t h, const char *p, size_t n)
{
	uint64_t a, b;
	size_t len = n;

	for (; n > 16; n -= 16, p += 16) {
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		h = mum(a ^ UINT64_C(0xa0761d6478bd642f), b ^ h);
	}
	a = b = 0;
	if (n > 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, n - 8);
	} else {
		memcpy(&a, p, n);
	}
	return mum(a ^ UINT64_C(0xe7037ed1a0b428db) ^ len, b ^ h ^ UINT64_C(0x8ebc6af09c88c6e3));
}
#else
static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= UINT64_C(0x9e3779b97f4a7c15);
	return h ^ (h >> 32);
}

static uint64_t hash_span(uint64_t h, const char *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = mix(h, w);
	}
	w = 0;
	memcpy(&w, p, n);
	return mix(h, w ^ ((uint64_t)n << 56));
}
#endif

/* Go's uint64(f) for the values a kubelet sends; NaN and negatives are 0
 * (Go leaves them undefined), huge values saturate. */
static uint64_t to_u64(double f)
{
	if (!(f > 0))
		return 0;
	if (f >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)f;
}

static int64_t to_i64(double f)
{
	if (isnan(f))
		return 0;
	if (f >= 9223372036854775808.0)
		return INT64_MAX;
	if (f < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)f;
}

static int set_error(struct scraper_decoder *d, int err, const char *detail)
{
	snprintf(d->errmsg, sizeof(d->errmsg), "failed parsing metrics: line %llu: %s",
		 (unsigned long long)d->lineno, detail);
	d->err = err;
	return err;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	while (c < need)
		c *= 2;
	if (c == *cap)
		return p;
	*cap = c;
	return xrealloc(p, c * elem);
}

/* Appends s[0..n) and a NUL to the arena; returns its offset. */
static uint32_t arena_add(struct scraper_decoder *d, const char *s, size_t n)
{
	uint32_t off = (uint32_t)d->strs_len;

	d->strs = grow(d->strs, &d->strs_cap, d->strs_len + n + 1, 1);
	memcpy(d->strs + d->strs_len, s, n);
	d->strs[d->strs_len + n] = '\0';
	d->strs_len += n + 1;
	return off;
}

static inline bool arena_eq(const struct scraper_decoder *d, uint32_t off, uint32_t len,
			    const char *s, size_t n)
{
	return len == n && memcmp(d->strs + off, s, n) == 0;
}

/* ---- hash tables ------------------------------------------------------ */

static void table_clear(struct dec_table *t)
{
	if (t->slots)
		memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
}

/* Makes room for n entries at load <= 1/2, rehashing from hashes. */
static void table_reserve(struct dec_table *t, size_t n, const void *items, size_t stride)
{
	size_t want = DECODER_MIN_SLOTS;

	while (want < n * 2)
		want *= 2;
	if (t->slots && want <= t->mask + 1)
		return;
	free(t->slots);
	t->slots = xcalloc(want, sizeof(*t->slots));
	t->mask = want - 1;
	for (size_t i = 0; i + 1 < n; i++) {
		uint64_t h = *(const uint64_t *)((const char *)items + i * stride);
		size_t j = h & t->mask;
		while (t->slots[j])
			j = (j + 1) & t->mask;
		t->slots[j] = (uint32_t)i + 1;
	}
}

struct key {
	const char *ns, *pod, *cont;
	size_t ns_len, pod_len, cont_len;
	uint64_t pod_hash, cont_hash;
};

static uint32_t pod_find_or_add(struct scraper_decoder *d, const struct key *k)
{
	size_t j = k->pod_hash & d->pod_tab.mask;

	for (; d->pod_tab.slots[j]; j = (j + 1) & d->pod_tab.mask) {
		const struct dec_pod *p = &d->pods[d->pod_tab.slots[j] - 1];
		if (p->hash == k->pod_hash && arena_eq(d, p->name_off, p->name_len, k->pod, k->pod_len) &&
		    arena_eq(d, p->ns_off, p->ns_len, k->ns, k->ns_len))
			return d->pod_tab.slots[j] - 1;
	}
	d->pods = grow(d->pods, &d->pods_cap, d->npods + 1, sizeof(*d->pods));
	struct dec_pod *p = &d->pods[d->npods];
	p->hash = k->pod_hash;
	p->ns_off = arena_add(d, k->ns, k->ns_len);
	p->ns_len = (uint32_t)k->ns_len;
	p->name_off = arena_add(d, k->pod, k->pod_len);
	p->name_len = (uint32_t)k->pod_len;
	p->first = p->last = NONE;
	d->pod_tab.slots[j] = (uint32_t)++d->npods;
	table_reserve(&d->pod_tab, d->npods + 1, d->pods, sizeof(*d->pods));
	return (uint32_t)d->npods - 1;
}

static struct dec_container *cont_add(struct scraper_decoder *d, const struct key *k, size_t slot)
{
	uint32_t pod = pod_find_or_add(d, k);
	uint32_t idx = (uint32_t)d->nconts;

	d->conts = grow(d->conts, &d->conts_cap, d->nconts + 1, sizeof(*d->conts));
	struct dec_container *c = &d->conts[idx];
	memset(c, 0, sizeof(*c));
	c->hash = k->cont_hash;
	c->pod = pod;
	c->name_off = arena_add(d, k->cont, k->cont_len);
	c->name_len = (uint32_t)k->cont_len;
	c->next = NONE;
	if (d->pods[pod].last == NONE)
		d->pods[pod].first = idx;
	else
		d->conts[d->pods[pod].last].next = idx;
	d->pods[pod].last = idx;
	d->cont_tab.slots[slot] = idx + 1;
	d->nconts++;
	table_reserve(&d->cont_tab, d->nconts + 1, d->conts, sizeof(*d->conts));
	return &d->conts[idx];
}

/*
 * A kubelet writes every family's series in the same order, so after the
 * first family a line names, nearly always, the container that comes
 * after the last one named: compare with it before hashing.
 */
static struct dec_container *cont_at_cursor(struct scraper_decoder *d, const struct key *k)
{
	struct dec_container *c;
	const struct dec_pod *p;

	if (d->cursor >= d->nconts)
		return NULL;
	c = &d->conts[d->cursor];
	p = &d->pods[c->pod];
	if (!arena_eq(d, c->name_off, c->name_len, k->cont, k->cont_len) ||
	    !arena_eq(d, p->name_off, p->name_len, k->pod, k->pod_len) ||
	    !arena_eq(d, p->ns_off, p->ns_len, k->ns, k->ns_len))
		return NULL;
	d->cursor++;
	return c;
}

/* The container for k, created on first sight; NULL when over the cap. */
static struct dec_container *cont_lookup(struct scraper_decoder *d, struct key *k)
{
	struct dec_container *c = cont_at_cursor(d, k);

	if (c)
		return c;
	k->pod_hash = hash_span(hash_span(0, k->ns, k->ns_len), k->pod, k->pod_len);
	k->cont_hash = hash_span(k->pod_hash, k->cont, k->cont_len);

	size_t j = k->cont_hash & d->cont_tab.mask;
	for (; d->cont_tab.slots[j]; j = (j + 1) & d->cont_tab.mask) {
		const struct dec_pod *p;
		c = &d->conts[d->cont_tab.slots[j] - 1];
		if (c->hash != k->cont_hash || !arena_eq(d, c->name_off, c->name_len, k->cont, k->cont_len))
			continue;
		p = &d->pods[c->pod];
		if (arena_eq(d, p->name_off, p->name_len, k->pod, k->pod_len) &&
		    arena_eq(d, p->ns_off, p->ns_len, k->ns, k->ns_len)) {
			d->cursor = d->cont_tab.slots[j];
			return c;
		}
	}
	if (d->nconts >= DECODER_MAX_CONTAINERS)
		return NULL;
	c = cont_add(d, k, j);
	d->cursor = (uint32_t)d->nconts;
	return c;
}

/* ---- one sample --------------------------------------------------------- */

/* Label values as keys: borrowed from the line, or unescaped into scratch. */
static int container_key(struct scraper_decoder *d, const struct scraper__sample *s, struct key *k)
{
	const struct scraper__lval *lv[3] = {&s->ns, &s->pod, &s->container};
	static const char *const names[3] = {"namespace", "pod", "container"};
	const char *out[3];
	size_t len[3], need = 3, at = 0;

	for (int i = 0; i < 3; i++) {
		if (!lv[i]->p || lv[i]->len == 0) {
			snprintf(d->detail, sizeof(d->detail), "container series without a \"%s\" label",
				 names[i]);
			return set_error(d, ERR_PARSE, d->detail);
		}
		need += lv[i]->len;
	}
	if ((s->ns.escaped || s->pod.escaped || s->container.escaped) && need > d->scratch_cap)
		d->scratch = grow(d->scratch, &d->scratch_cap, need, 1);
	for (int i = 0; i < 3; i++) {
		if (lv[i]->escaped) {
			out[i] = d->scratch + at;
			len[i] = scraper__lval_unescape(lv[i], d->scratch + at);
			at += len[i] + 1;
		} else {
			out[i] = lv[i]->p;
			len[i] = lv[i]->len;
		}
	}
	k->ns = out[0], k->ns_len = len[0];
	k->pod = out[1], k->pod_len = len[1];
	k->cont = out[2], k->cont_len = len[2];
	return 0;
}

static int apply_sample(struct scraper_decoder *d, const struct scraper__sample *s)
{
	int64_t ts = s->has_ts ? s->ts_ms * NS_PER_MS : d->default_ts_ns;
	struct dec_container *c;
	struct key k = { 0 };

	switch (s->metric) {
	case SCRAPER__M_NODE_CPU:
		d->nodept.cpu_ns = to_u64(s->value * 1e9);
		d->nodept.ts_ns = ts;
		d->node_seen = true;
		return 0;
	case SCRAPER__M_NODE_MEM:
		d->nodept.mem_bytes = to_u64(s->value);
		d->nodept.ts_ns = ts;
		d->node_seen = true;
		return 0;
	case SCRAPER__M_OTHER:
		return 0;
	default:
		break;
	}
	if (container_key(d, s, &k))
		return d->err;
	c = cont_lookup(d, &k);
	if (!c)
		return set_error(d, ERR_TOOBIG, "too many containers");
	if (s->metric == SCRAPER__M_CONT_CPU) {
		c->pt.cpu_ns = to_u64(s->value * 1e9);
		c->pt.ts_ns = ts;
	} else if (s->metric == SCRAPER__M_CONT_MEM) {
		c->pt.mem_bytes = to_u64(s->value);
		c->pt.ts_ns = ts;
	} else {
		c->pt.start_ns = to_i64(s->value * 1e9);
	}
	return 0;
}

static int process_line(struct scraper_decoder *d, const char *p, size_t n)
{
	struct scraper__sample s;
	int rc;

	d->lineno++;
	if (n > SCRAPER_MAX_LINE) {
		snprintf(d->detail, sizeof(d->detail), "line longer than %u bytes", SCRAPER_MAX_LINE);
		return set_error(d, ERR_TOOBIG, d->detail);
	}
	rc = scraper__promtext_line(p, n, &s, d->detail, sizeof(d->detail));
	if (rc < 0)
		return set_error(d, rc, d->detail);
	return rc ? apply_sample(d, &s) : 0;
}

/* ---- streaming ---------------------------------------------------------- */

/* Keeps an unfinished line; fails when it would exceed the line cap. */
static int stash(struct scraper_decoder *d, const char *p, size_t n)
{
	if (n > SCRAPER_MAX_LINE - d->part_len) {
		d->lineno++;
		snprintf(d->detail, sizeof(d->detail), "line longer than %u bytes", SCRAPER_MAX_LINE);
		return set_error(d, ERR_TOOBIG, d->detail);
	}
	d->part = grow(d->part, &d->part_cap, d->part_len + n, 1);
	memcpy(d->part + d->part_len, p, n);
	d->part_len += n;
	return 0;
}

int scraper_decoder_feed(struct scraper_decoder *d, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	int rc;

	if (d->err)
		return d->err;
	if (d->finished)
		return set_error(d, ERR_INVAL, "data after the end of the body");
	if (d->part_len && len) {
		nl = memchr(p, '\n', len);
		rc = stash(d, p, nl ? (size_t)(nl - p) : len);
		if (rc || !nl)
			return rc;
		rc = process_line(d, d->part, d->part_len);
		d->part_len = 0;
		if (rc)
			return rc;
		p = nl + 1;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return stash(d, p, (size_t)(end - p));
		rc = process_line(d, p, (size_t)(nl - p));
		if (rc)
			return rc;
		p = nl + 1;
	}
	return 0;
}

/* ---- completeness rules and output ------------------------------------- */

static void emit_pod(struct scraper_decoder *d, const struct dec_pod *p,
		     const struct scraper__sink *sink, void *ud)
{
	const char *ns = d->strs + p->ns_off, *pod = d->strs + p->name_off;

	for (uint32_t i = p->first; i != NONE; i = d->conts[i].next) {
		const struct dec_container *c = &d->conts[i];
		if (c->pt.cpu_ns == 0 || c->pt.mem_bytes == 0) {
			log_v(1, "\"Failed getting complete Pod metric\" pod=\"%s/%s\" container=\"%s\"", ns,
			      pod, d->strs + c->name_off);
			return;
		}
	}
	for (uint32_t i = p->first; i != NONE; i = d->conts[i].next)
		sink->container(ud, ns, pod, d->strs + d->conts[i].name_off, &d->conts[i].pt);
}

int scraper__decoder_emit(struct scraper_decoder *d, const struct scraper__sink *sink, void *ud)
{
	if (!d->err && d->finished)
		set_error(d, ERR_INVAL, "body already finished");
	if (!d->err && d->part_len) {
		process_line(d, d->part, d->part_len); /* last line without '\n' */
		d->part_len = 0;
	}
	if (d->err)
		return d->err;
	d->finished = true;
	if (d->node_seen && d->nodept.cpu_ns != 0 && d->nodept.mem_bytes != 0)
		sink->node(ud, d->node, &d->nodept);
	else
		log_v(1, "\"Failed getting complete node metric\" node=\"%s\" cpu=%llu memory=%llu",
		      d->node, (unsigned long long)d->nodept.cpu_ns,
		      (unsigned long long)d->nodept.mem_bytes);
	for (size_t i = 0; i < d->npods; i++)
		emit_pod(d, &d->pods[i], sink, ud);
	return 0;
}

static void batch_node(void *ud, const char *node, const struct store_point *p)
{
	store_batch_add_node(ud, node, p);
}

static void batch_container(void *ud, const char *ns, const char *pod, const char *container,
			    const struct store_point *p)
{
	store_batch_add_container(ud, ns, pod, container, p);
}

int scraper_decoder_finish(struct scraper_decoder *d, struct store_batch *batch)
{
	static const struct scraper__sink to_batch = {batch_node, batch_container};

	return scraper__decoder_emit(d, &to_batch, batch);
}

const char *scraper_decoder_error(const struct scraper_decoder *d)
{
	return d->err ? d->errmsg : "";
}

/* ---- life cycle ---------------------------------------------------------- */

void scraper_decoder_reset(struct scraper_decoder *d, const char *node, int64_t default_ts_ns)
{
	size_t len = strlen(node);

	if (len >= d->node_cap) {
		d->node_cap = len + 1 > 64 ? len + 1 : 64;
		free(d->node);
		d->node = xmalloc(d->node_cap);
	}
	memcpy(d->node, node, len + 1);
	/* timestamp.FromTime(): whole milliseconds */
	d->default_ts_ns = default_ts_ns - default_ts_ns % NS_PER_MS;
	d->lineno = 0;
	d->part_len = 0;
	memset(&d->nodept, 0, sizeof(d->nodept));
	d->node_seen = false;
	d->npods = d->nconts = d->strs_len = 0;
	d->cursor = 0;
	table_reserve(&d->pod_tab, 1, d->pods, sizeof(*d->pods));
	table_reserve(&d->cont_tab, 1, d->conts, sizeof(*d->conts));
	table_clear(&d->pod_tab);
	table_clear(&d->cont_tab);
	d->err = 0;
	d->finished = false;
	d->errmsg[0] = '\0';
}

atomic_size_t scraper__decoders_live;

struct scraper_decoder *scraper_decoder_new(const char *node, int64_t default_ts_ns)
{
	struct scraper_decoder *d = xcalloc(1, sizeof(*d));

	atomic_fetch_add_explicit(&scraper__decoders_live, 1, memory_order_relaxed);
	scraper_decoder_reset(d, node, default_ts_ns);
	return d;
}

void scraper_decoder_free(struct scraper_decoder *d)
{
	if (!d)
		return;
	atomic_fetch_sub_explicit(&scraper__decoders_live, 1, memory_order_relaxed);
	free(d->node);
	free(d->part);
	free(d->pods);
	free(d->conts);
	free(d->pod_tab.slots);
	free(d->cont_tab.slots);
	free(d->strs);
	free(d->scratch);
	free(d);
}
