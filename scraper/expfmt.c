/*
 * expfmt.c - a streaming parser of any exporter's /metrics body, text
 * 0.0.4 or OpenMetrics 1.0 (scraper.h has the contract).
 *
 * Lines are split here and tokenized by promtext's generic mode
 * (promtext_gen.c); this file keeps what spans lines: the families (TYPE
 * and HELP, which family a sample belongs to), the limits, OpenMetrics'
 * "# EOF" framing, and the series seen (duplicates).  Buffers grow to the
 * largest line, label count, family and series tables seen, and are kept
 * across bodies, so a steady scrape allocates nothing.
 */
#include "scraper/scraper_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAM_NONE UINT32_MAX

struct fam {
	uint64_t hash;      /* 0: free slot */
	uint32_t name_off;  /* in p->names, NUL-terminated */
	uint32_t name_len;
	enum scraper_expfmt_type type;
	bool has_type, has_help, has_samples;
};

struct scraper_expfmt {
	enum scraper_expfmt_format fmt;
	struct scraper_expfmt_limits lim;
	scraper_expfmt_sample_fn fn;
	void *ud;
	/* the unfinished line */
	char *part;
	size_t part_len, part_cap;
	size_t consumed; /* body bytes before the current line */
	/* one line's tokens and their unescaped copies */
	struct scraper__plabel *plabels;
	struct scraper_expfmt_label *labels;
	uint32_t label_cap;
	char *scratch;
	size_t scratch_cap;
	/* families of this body: open addressing over hashes */
	struct fam *fams;
	size_t fam_cap, fam_n;
	char *names;
	size_t names_len, names_cap;
	/* series of this body (64-bit hashes; 0 is free) */
	uint64_t *series;
	size_t series_cap, series_n;
	/* state */
	size_t lineno;
	bool finished, eof_seen;
	int err;
	size_t err_line;
	char reason[320];
	char errbuf[360];
	struct scraper_expfmt_stats st;
};

/* ---- small helpers -------------------------------------------------------- */

static void *grow_array(void *a, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return a;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	a = xrealloc(a, n * elem);
	*cap = n;
	return a;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static uint64_t hash_of(const char *s, size_t n)
{
	return mix64(hash_bytes(HASH_FNV_OFFSET, s, n)) | 1; /* never 0 (a free slot) */
}

static int set_error(struct scraper_expfmt *p, int err, size_t line, const char *reason)
{
	p->err = err;
	p->err_line = line;
	if (reason != p->reason)
		snprintf(p->reason, sizeof(p->reason), "%s", reason);
	snprintf(p->errbuf, sizeof(p->errbuf), "line %zu: %s", line, p->reason);
	return err;
}

/* ---- families --------------------------------------------------------------- */

static struct fam *fam_find(struct scraper_expfmt *p, const char *name, size_t len, uint64_t h)
{
	if (!p->fam_cap)
		return NULL;
	for (size_t i = h & (p->fam_cap - 1);; i = (i + 1) & (p->fam_cap - 1)) {
		struct fam *f = &p->fams[i];
		if (!f->hash)
			return NULL;
		if (f->hash == h && f->name_len == len && memcmp(p->names + f->name_off, name, len) == 0)
			return f;
	}
}

static struct fam *fam_add(struct scraper_expfmt *p, const char *name, size_t len, uint64_t h)
{
	if ((p->fam_n + 1) * 2 > p->fam_cap) {
		struct fam *old = p->fams;
		size_t oldcap = p->fam_cap;
		p->fam_cap = oldcap ? oldcap * 2 : 64;
		p->fams = xcalloc(p->fam_cap, sizeof(*p->fams));
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].hash)
				continue;
			size_t j = old[i].hash & (p->fam_cap - 1);
			while (p->fams[j].hash)
				j = (j + 1) & (p->fam_cap - 1);
			p->fams[j] = old[i];
		}
		free(old);
	}
	size_t j = h & (p->fam_cap - 1);
	while (p->fams[j].hash)
		j = (j + 1) & (p->fam_cap - 1);
	p->names = grow_array(p->names, &p->names_cap, p->names_len + len + 1, 1);
	memcpy(p->names + p->names_len, name, len);
	p->names[p->names_len + len] = '\0';
	p->fams[j] = (struct fam){h, (uint32_t)p->names_len, (uint32_t)len, SCRAPER_EXPFMT_UNTYPED,
				  false, false, false};
	p->names_len += len + 1;
	p->fam_n++;
	return &p->fams[j];
}

static struct fam *fam_get(struct scraper_expfmt *p, const char *name, size_t len)
{
	uint64_t h = hash_of(name, len);
	struct fam *f = fam_find(p, name, len, h);

	return f ? f : fam_add(p, name, len, h);
}

/* Series name suffixes and the family types they belong to. */
static const struct {
	const char *sfx;
	size_t len;
	unsigned types; /* bit per enum scraper_expfmt_type */
	bool om_only;
} suffixes[] = {
	{"_bucket", 7, 1u << SCRAPER_EXPFMT_HISTOGRAM | 1u << SCRAPER_EXPFMT_GAUGEHISTOGRAM, false},
	{"_sum", 4, 1u << SCRAPER_EXPFMT_HISTOGRAM | 1u << SCRAPER_EXPFMT_SUMMARY, false},
	{"_count", 6, 1u << SCRAPER_EXPFMT_HISTOGRAM | 1u << SCRAPER_EXPFMT_SUMMARY, false},
	{"_total", 6, 1u << SCRAPER_EXPFMT_COUNTER, true},
	{"_created", 8,
	 1u << SCRAPER_EXPFMT_COUNTER | 1u << SCRAPER_EXPFMT_HISTOGRAM | 1u << SCRAPER_EXPFMT_SUMMARY,
	 true},
	{"_gsum", 5, 1u << SCRAPER_EXPFMT_GAUGEHISTOGRAM, true},
	{"_gcount", 7, 1u << SCRAPER_EXPFMT_GAUGEHISTOGRAM, true},
	{"_info", 5, 1u << SCRAPER_EXPFMT_INFO, true},
};

/* The family of series `name`: a typed family of that name, else a typed
 * family whose type has this suffix, else the name's own (untyped). *sfx
 * is the suffix's index, or -1. */
static struct fam *resolve(struct scraper_expfmt *p, const char *name, size_t len, int *sfx)
{
	uint64_t h = hash_of(name, len);
	struct fam *own = fam_find(p, name, len, h);

	*sfx = -1;
	if (own && own->has_type)
		return own;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(suffixes); i++) {
		size_t sl = suffixes[i].len;
		if (len <= sl || memcmp(name + len - sl, suffixes[i].sfx, sl) != 0)
			continue;
		if (suffixes[i].om_only && p->fmt != SCRAPER_EXPFMT_OPENMETRICS)
			continue;
		struct fam *base = fam_find(p, name, len - sl, hash_of(name, len - sl));
		if (base && base->has_type && (suffixes[i].types & (1u << base->type))) {
			*sfx = (int)i;
			return base;
		}
	}
	return own ? own : fam_add(p, name, len, h);
}

/* ---- series ------------------------------------------------------------------- */

/* Whether the series was seen in this body; records it if not. */
static bool series_seen(struct scraper_expfmt *p, uint64_t h)
{
	if ((p->series_n + 1) * 2 > p->series_cap) {
		uint64_t *old = p->series;
		size_t oldcap = p->series_cap;
		p->series_cap = oldcap ? oldcap * 2 : 256;
		p->series = xcalloc(p->series_cap, sizeof(*p->series));
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i])
				continue;
			size_t j = old[i] & (p->series_cap - 1);
			while (p->series[j])
				j = (j + 1) & (p->series_cap - 1);
			p->series[j] = old[i];
		}
		free(old);
	}
	size_t j = h & (p->series_cap - 1);
	for (; p->series[j]; j = (j + 1) & (p->series_cap - 1))
		if (p->series[j] == h)
			return true;
	p->series[j] = h;
	p->series_n++;
	return false;
}

/* ---- one line ----------------------------------------------------------------- */

static int metadata(struct scraper_expfmt *p, const struct scraper__pline *pl)
{
	if (pl->kind == SCRAPER__PK_EOF) {
		p->eof_seen = true;
		return 0;
	}
	if (pl->kind != SCRAPER__PK_HELP && pl->kind != SCRAPER__PK_TYPE)
		return 0;
	struct fam *f = fam_get(p, pl->name.p, pl->name.len);
	if (pl->kind == SCRAPER__PK_HELP) {
		if (f->has_help)
			p->st.warnings++; /* second HELP: the first is kept */
		f->has_help = true;
	} else if (f->has_type || f->has_samples) {
		p->st.warnings++; /* second TYPE, or TYPE after samples: the first is kept */
	} else {
		f->type = pl->type;
		f->has_type = true;
	}
	return 0;
}

static const char *label_value(const struct scraper_expfmt_sample *s, const char *name)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

/* Family rules on a sample: le, quantile, histogram counts, exemplars. */
static int family_rules(struct scraper_expfmt *p, const struct scraper_expfmt_sample *s, int sfx,
			bool exemplar)
{
	bool hist = s->type == SCRAPER_EXPFMT_HISTOGRAM || s->type == SCRAPER_EXPFMT_GAUGEHISTOGRAM;
	bool bucket = sfx >= 0 && strcmp(suffixes[sfx].sfx, "_bucket") == 0;
	const char *v, *which = NULL;
	double d;

	if (hist && bucket && (v = label_value(s, "le")) && scraper__parse_float(v, strlen(v), &d))
		which = "le";
	else if (s->type == SCRAPER_EXPFMT_SUMMARY && sfx < 0 && (v = label_value(s, "quantile")) &&
		 scraper__parse_float(v, strlen(v), &d))
		which = "quantile";
	if (which) {
		char q[210];
		scraper__quote50(q, sizeof(q), v, strlen(v));
		snprintf(p->reason, sizeof(p->reason), "expected float as value for '%s' label, got %s",
			 which, q);
		return ERR_PARSE;
	}
	if (s->type == SCRAPER_EXPFMT_HISTOGRAM && s->value < 0) {
		if (bucket) {
			snprintf(p->reason, sizeof(p->reason), "negative bucket population for histogram");
			return ERR_PARSE;
		}
		if (sfx >= 0 && strcmp(suffixes[sfx].sfx, "_count") == 0) {
			snprintf(p->reason, sizeof(p->reason), "negative count");
			return ERR_PARSE;
		}
	}
	if (exemplar && p->fmt == SCRAPER_EXPFMT_OPENMETRICS &&
	    !((s->type == SCRAPER_EXPFMT_COUNTER && sfx >= 0 && suffixes[sfx].sfx[1] == 't') ||
	      (hist && bucket))) {
		snprintf(p->reason, sizeof(p->reason), "metric name %s does not support exemplars",
			 s->name);
		return ERR_PARSE;
	}
	return 0;
}

static int sample(struct scraper_expfmt *p, const struct scraper__sample *ts,
		  const struct scraper__pline *pl, size_t line_len)
{
	struct scraper_expfmt_sample s = {0};
	size_t at, name_len;
	uint64_t h;
	int sfx, rc;

	p->scratch = grow_array(p->scratch, &p->scratch_cap, line_len + 2 * pl->nlabels + 2, 1);
	s.name = p->scratch;
	name_len = scraper__lval_unescape(&pl->name, p->scratch);
	at = name_len + 1;
	h = hash_of(s.name, name_len);
	for (uint32_t i = 0; i < pl->nlabels; i++) {
		struct scraper_expfmt_label *l = &p->labels[i];
		l->name = p->scratch + at;
		l->name_len = scraper__lval_unescape(&pl->labels[i].name, p->scratch + at);
		at += l->name_len + 1;
		l->value = p->scratch + at;
		l->value_len = scraper__lval_unescape(&pl->labels[i].value, p->scratch + at);
		at += l->value_len + 1;
		/* order-independent: the same set in another order is the same series */
		h += mix64(hash_of(l->name, l->name_len) * 31 + hash_of(l->value, l->value_len));
	}
	s.labels = p->labels;
	s.nlabels = pl->nlabels;
	struct fam *f = resolve(p, s.name, name_len, &sfx);
	f->has_samples = true;
	s.family = p->names + f->name_off;
	s.type = f->type;
	s.value = ts->value;
	s.has_ts = ts->has_ts;
	s.ts_ms = ts->ts_ms;
	s.created = sfx >= 0 && strcmp(suffixes[sfx].sfx, "_created") == 0;
	s.line = p->lineno;
	rc = family_rules(p, &s, sfx, pl->exemplar);
	if (!rc)
		rc = scraper__expfmt_limits(&p->lim, &s, name_len, p->reason, sizeof(p->reason));
	if (rc)
		return set_error(p, rc, p->lineno, p->reason);
	if (p->lim.sample_limit && p->st.samples >= p->lim.sample_limit)
		return set_error(p, ERR_TOOBIG, p->lineno, "sample limit exceeded");
	s.duplicate = series_seen(p, mix64(h) | 1);
	p->st.samples++;
	p->st.duplicates += s.duplicate;
	rc = p->fn(p->ud, &s);
	if (rc)
		return set_error(p, rc, p->lineno, "stopped by the sample callback");
	return 0;
}

static size_t line_cap(const struct scraper_expfmt *p)
{
	return p->lim.line_limit ? p->lim.line_limit : SCRAPER_MAX_LINE;
}

/* The body so far (through this line's end at `end`) against its cap. */
static int body_check(struct scraper_expfmt *p, size_t end, size_t line)
{
	if (p->lim.body_size_limit && end > p->lim.body_size_limit)
		return set_error(p, ERR_TOOBIG, line, "body size limit exceeded");
	return 0;
}

/* One line without its '\n' (last: the body ended without one). */
static int process_line(struct scraper_expfmt *p, const char *l, size_t n, bool last)
{
	struct scraper__sample ts;
	struct scraper__pline pl = {0};
	int rc;

	p->lineno++;
	p->st.lines++;
	if ((rc = body_check(p, p->consumed + n + !last, p->lineno)))
		return rc;
	p->consumed += n + !last;
	if (n > line_cap(p)) {
		snprintf(p->reason, sizeof(p->reason), "line longer than %zu bytes", line_cap(p));
		return set_error(p, ERR_TOOBIG, p->lineno, p->reason);
	}
	if (p->eof_seen)
		return set_error(p, ERR_PARSE, p->lineno, "unexpected data after # EOF");
	pl.flags = (p->fmt == SCRAPER_EXPFMT_OPENMETRICS ? SCRAPER__PT_OM : 0) |
		   (last ? SCRAPER__PT_LAST : 0);
	for (;;) {
		pl.labels = p->plabels;
		pl.cap = p->label_cap;
		rc = scraper__promtext_parse(l, n, &ts, &pl, p->reason, sizeof(p->reason));
		if (rc != ERR_TOOBIG || !pl.grow)
			break;
		p->label_cap = p->label_cap ? p->label_cap * 2 : 16;
		p->plabels = xrealloc(p->plabels, p->label_cap * sizeof(*p->plabels));
		p->labels = xrealloc(p->labels, p->label_cap * sizeof(*p->labels));
	}
	if (rc < 0)
		return set_error(p, rc, p->lineno, p->reason);
	return rc ? sample(p, &ts, &pl, n) : metadata(p, &pl);
}

/* ---- streaming -------------------------------------------------------------- */

/* Keeps an unfinished line, within the line and body caps. */
static int keep_partial(struct scraper_expfmt *p, const char *b, size_t n)
{
	size_t len = p->part_len + n;

	if (len > line_cap(p)) {
		snprintf(p->reason, sizeof(p->reason), "line longer than %zu bytes", line_cap(p));
		return set_error(p, ERR_TOOBIG, p->lineno + 1, p->reason);
	}
	int rc = body_check(p, p->consumed + len, p->lineno + 1);
	if (rc)
		return rc;
	p->part = grow_array(p->part, &p->part_cap, len, 1);
	memcpy(p->part + p->part_len, b, n);
	p->part_len = len;
	return 0;
}

int scraper_expfmt_feed(struct scraper_expfmt *p, const char *buf, size_t len)
{
	const char *b = buf, *end = buf + len;
	int rc;

	if (p->err)
		return p->err;
	if (p->finished)
		return set_error(p, ERR_INVAL, p->lineno, "data after the end of the body");
	while (b < end) {
		const char *nl = memchr(b, '\n', (size_t)(end - b));
		if (!nl)
			return keep_partial(p, b, (size_t)(end - b));
		if (p->part_len) {
			rc = keep_partial(p, b, (size_t)(nl - b));
			if (!rc)
				rc = process_line(p, p->part, p->part_len, false);
			p->part_len = 0;
		} else {
			rc = process_line(p, b, (size_t)(nl - b), false);
		}
		if (rc)
			return rc;
		b = nl + 1;
	}
	return 0;
}

int scraper_expfmt_finish(struct scraper_expfmt *p)
{
	int rc;

	if (p->err)
		return p->err;
	if (p->finished)
		return set_error(p, ERR_INVAL, p->lineno, "the body was already finished");
	p->finished = true;
	if (p->part_len) {
		rc = process_line(p, p->part, p->part_len, true);
		p->part_len = 0;
		if (rc)
			return rc;
	}
	if (p->fmt == SCRAPER_EXPFMT_OPENMETRICS && !p->eof_seen)
		return set_error(p, ERR_PARSE, p->lineno, "data does not end with # EOF");
	return 0;
}

/* ---- life and accessors ------------------------------------------------------ */

struct scraper_expfmt *scraper_expfmt_new(enum scraper_expfmt_format f,
					  const struct scraper_expfmt_limits *lim,
					  scraper_expfmt_sample_fn fn, void *ud)
{
	struct scraper_expfmt *p = xcalloc(1, sizeof(*p));

	if (lim)
		p->lim = *lim;
	p->fn = fn;
	p->ud = ud;
	scraper_expfmt_reset(p, f);
	return p;
}

void scraper_expfmt_reset(struct scraper_expfmt *p, enum scraper_expfmt_format f)
{
	p->fmt = f;
	p->part_len = p->consumed = 0;
	if (p->fam_n)
		memset(p->fams, 0, p->fam_cap * sizeof(*p->fams));
	p->fam_n = p->names_len = 0;
	if (p->series_n)
		memset(p->series, 0, p->series_cap * sizeof(*p->series));
	p->series_n = 0;
	p->lineno = p->err_line = 0;
	p->finished = p->eof_seen = false;
	p->err = 0;
	p->reason[0] = p->errbuf[0] = '\0';
	p->st = (struct scraper_expfmt_stats){0};
}

const char *scraper_expfmt_error(const struct scraper_expfmt *p)
{
	return p->errbuf;
}

size_t scraper_expfmt_error_line(const struct scraper_expfmt *p)
{
	return p->err ? p->err_line : 0;
}

const char *scraper_expfmt_error_reason(const struct scraper_expfmt *p)
{
	return p->err ? p->reason : "";
}

void scraper_expfmt_stats(const struct scraper_expfmt *p, struct scraper_expfmt_stats *out)
{
	*out = p->st;
}

size_t scraper_expfmt_footprint(const struct scraper_expfmt *p)
{
	return sizeof(*p) + p->part_cap + p->scratch_cap + p->names_cap +
	       p->label_cap * (sizeof(*p->plabels) + sizeof(*p->labels)) +
	       p->fam_cap * sizeof(*p->fams) + p->series_cap * sizeof(*p->series);
}

void scraper_expfmt_free(struct scraper_expfmt *p)
{
	if (!p)
		return;
	free(p->part);
	free(p->plabels);
	free(p->labels);
	free(p->scratch);
	free(p->fams);
	free(p->names);
	free(p->series);
	free(p);
}
