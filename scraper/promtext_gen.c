/*
 * promtext_gen.c - expfmt's mode of the line tokenizer (promtext.c): any
 * exporter's line, text 0.0.4 or OpenMetrics 1.0.  Every label is
 * recorded in the caller's array, quoted UTF-8 names are read, and error
 * texts are prometheus/common expfmt's (or Prometheus' parsers' where
 * expfmt has none).  Family rules (TYPE, le, quantile) are expfmt.c's.
 */
#include "scraper/promtext_lex.h"

#include <math.h>

/* Records one label of the sample (not of an exemplar). */
static int add_label(struct cur *c, const struct scraper__lval *name, const struct scraper__lval *v)
{
	struct scraper__pline *pl = c->pl;

	if (c->discard)
		return 0;
	if (name->len == 8 && memcmp(name->p, "__name__", 8) == 0)
		return scraper__pt_fail(c, "label name \"__name__\" is reserved");
	for (uint32_t i = 0; i < pl->nlabels; i++) {
		const struct scraper__lval *o = &pl->labels[i].name;
		if (o->len == name->len && memcmp(o->p, name->p, name->len) == 0)
			return scraper__pt_fail_quoted(c, "duplicate label names for metric",
						       pl->name.p ? pl->name.p : "",
						       pl->name.p ? pl->name.len : 0);
	}
	if (pl->nlabels == pl->cap) {
		pl->grow = true;
		snprintf(c->err, c->errlen, "more than %u labels", (unsigned)pl->cap);
		return ERR_TOOBIG;
	}
	pl->labels[pl->nlabels].name = *name;
	pl->labels[pl->nlabels].value = *v;
	pl->nlabels++;
	return 0;
}

/* A quoted string at c->p: a label name (followed by '=') or, with ','
 * or '}' after it, the metric name. */
static int quoted_name(struct cur *c, struct scraper__lval *name, bool *is_metric)
{
	c->p++;
	int rc = scraper__pt_label_value(c, name);
	if (rc)
		return rc;
	skip_blank(c);
	*is_metric = c->p < c->end && (*c->p == ',' || *c->p == '}');
	if (*is_metric) {
		if (c->discard)
			return 0;
		if (c->pl->name.p)
			return scraper__pt_fail(c, "multiple metric names");
		c->pl->name = *name;
		return 0;
	}
	if (c->p >= c->end || *c->p != '=')
		return scraper__pt_fail_got(c, "expected '=' after label name", c->p, token_len(c));
	c->p++;
	skip_blank(c);
	if (c->p >= c->end || *c->p != '"')
		return scraper__pt_fail_got(c, "expected '\"' at start of label value", c->p,
					    token_len(c));
	c->p++;
	return 0;
}

/* The label set; c->p is just past '{'. */
static int labels(struct cur *c)
{
	for (bool first = true;; first = false) {
		skip_blank(c);
		if (c->p < c->end && *c->p == '}') {
			if (c->om && !first) /* OpenMetrics: no trailing comma */
				return scraper__pt_fail_got(c, "expected label name", "BCLOSE", 6);
			break;
		}
		struct scraper__lval name = {0}, v;
		bool is_metric = false;
		int rc;
		if (c->p < c->end && *c->p == '"') {
			rc = quoted_name(c, &name, &is_metric);
		} else {
			size_t nlen;
			name.p = c->p;
			rc = scraper__pt_label_name(c, &nlen);
			name.len = (uint32_t)nlen;
		}
		if (!rc && !is_metric) {
			rc = scraper__pt_label_value(c, &v);
			if (!rc)
				rc = add_label(c, &name, &v);
		}
		if (rc)
			return rc;
		skip_blank(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '}')
			break;
		return scraper__pt_fail(c, "unexpected end of label value");
	}
	c->p++; /* '}' */
	return 0;
}

/* Between tokens: blanks (text) or exactly one space (OpenMetrics).  1
 * when a token follows, 0 at the end of the line, or ERR_PARSE. */
static int sep(struct cur *c)
{
	if (!c->om) {
		skip_blank(c);
		return c->p < c->end;
	}
	if (c->p >= c->end)
		return 0;
	if (*c->p != ' ' || c->end - c->p < 2 || c->p[1] == ' ')
		return scraper__pt_fail(c, "expected exactly one space between tokens");
	c->p++;
	return 1;
}

/* The token at c->p up to a blank (text) or a space (OpenMetrics). */
static size_t take_token(struct cur *c)
{
	const char *t = c->p;

	while (c->p < c->end && *c->p != ' ' && (c->om || *c->p != '\t'))
		c->p++;
	return (size_t)(c->p - t);
}

/* A timestamp: integer milliseconds, maybe negative (text), or float
 * seconds, truncated to milliseconds (OpenMetrics). */
static int timestamp(struct cur *c, struct scraper__sample *s)
{
	const char *t = c->p;
	size_t n = take_token(c);

	if (c->om) {
		double sec, ms;
		if (scraper__parse_float(t, n, &sec) || isnan(sec) || isinf(sec))
			return scraper__pt_fail(c, "invalid timestamp");
		ms = sec * 1000.0;
		if (!(ms > -9.2e18 && ms < 9.2e18))
			return scraper__pt_fail(c, "invalid timestamp");
		s->ts_ms = (int64_t)ms;
		s->has_ts = true;
		return 0;
	}
	bool neg = n > 0 && *t == '-';
	size_t i = neg ? 1 : 0;
	uint64_t ms = 0;
	if (n == i || n - i > 19)
		return scraper__pt_fail(c, "expected integer as timestamp");
	for (; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return scraper__pt_fail(c, "expected integer as timestamp");
		ms = ms * 10 + (uint64_t)(t[i] - '0');
	}
	if (ms > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return scraper__pt_fail(c, "expected integer as timestamp");
	s->ts_ms = neg ? (int64_t)(0 - ms) : (int64_t)ms;
	s->has_ts = true;
	return 0;
}

/* " # {labels} value [timestamp]" after a sample: checked, not kept. */
static int exemplar(struct cur *c)
{
	struct scraper__sample ex;
	double v;
	int rc;

	c->p++; /* '#' */
	rc = sep(c);
	if (rc <= 0 || *c->p != '{')
		return rc ? rc : scraper__pt_fail(c, "expected exemplar labels after '#'");
	c->p++;
	c->discard = true;
	rc = labels(c);
	c->discard = false;
	if (rc)
		return rc;
	rc = sep(c);
	if (rc <= 0)
		return rc ? rc : scraper__pt_fail(c, "expected value after exemplar labels");
	rc = lex_value(c, &v);
	if (!rc)
		rc = sep(c);
	if (rc <= 0)
		return rc;
	bool om = c->om;
	c->om = true; /* exemplar timestamps are float seconds in both */
	rc = timestamp(c, &ex);
	c->om = om;
	if (!rc && c->p < c->end)
		rc = scraper__pt_fail(c, "spurious string after exemplar timestamp");
	return rc;
}

/* What may follow the value: a timestamp, an exemplar, nothing. */
static int tail(struct cur *c, struct scraper__sample *s)
{
	int rc = sep(c);

	if (rc <= 0)
		return rc;
	if (*c->p != '#') {
		rc = timestamp(c, s);
		if (!rc)
			rc = sep(c);
		if (rc <= 0)
			return rc;
		if (*c->p != '#')
			return scraper__pt_fail(c, "spurious string after timestamp");
	}
	rc = exemplar(c);
	if (!rc)
		c->pl->exemplar = true;
	return rc;
}

static int sample(struct cur *c, struct scraper__sample *s)
{
	struct scraper__pline *pl = c->pl;
	int rc;

	pl->kind = SCRAPER__PK_SAMPLE;
	s->metric = SCRAPER__M_OTHER;
	s->container.p = s->pod.p = s->ns.p = NULL;
	s->has_ts = false;
	if (*c->p != '{') {
		const char *name = c->p;
		if (!(CLS(c->p) & C_NAME0))
			return scraper__pt_fail(c, "invalid metric name");
		c->p = span(c->p, c->end, SPAN_NAME);
		while (c->p < c->end && (CLS(c->p) & C_NAME))
			c->p++;
		if (c->p < c->end && !(CLS(c->p) & C_VSTOP))
			return scraper__pt_fail(c, "invalid metric name");
		pl->name = (struct scraper__lval){name, (uint32_t)(c->p - name), false};
		skip_blank(c);
	}
	if (c->p < c->end && *c->p == '{') {
		c->p++;
		rc = labels(c);
		if (rc)
			return rc;
	}
	if (!pl->name.p)
		return scraper__pt_fail(c, "invalid metric name");
	rc = sep(c);
	if (rc < 0)
		return rc;
	rc = lex_value(c, &s->value);
	if (!rc)
		rc = tail(c, s);
	return rc ? rc : 1;
}

/* OpenMetrics metadata: "# HELP|TYPE|UNIT name[ text]" or "# EOF", with
 * single spaces; no other comment. */
static int comment_om(struct cur *c)
{
	static const char *const types[] = {"unknown",	 "counter",	   "gauge", "histogram",
					    "summary",	 "gaugehistogram", "stateset", "info"};
	static const enum scraper_expfmt_type tval[] = {
		SCRAPER_EXPFMT_UNTYPED, SCRAPER_EXPFMT_COUNTER,	       SCRAPER_EXPFMT_GAUGE,
		SCRAPER_EXPFMT_HISTOGRAM, SCRAPER_EXPFMT_SUMMARY, SCRAPER_EXPFMT_GAUGEHISTOGRAM,
		SCRAPER_EXPFMT_STATESET, SCRAPER_EXPFMT_INFO};
	struct scraper__pline *pl = c->pl;
	int rc = scraper__pt_check_text(c);

	if (rc)
		return rc;
	if (c->end - c->p == 5 && memcmp(c->p, "# EOF", 5) == 0) {
		pl->kind = SCRAPER__PK_EOF;
		return 0;
	}
	if (c->end - c->p < 8 || c->p[1] != ' ' || c->p[6] != ' ')
		return scraper__pt_fail_quoted(c, "invalid metadata line", c->p, (size_t)(c->end - c->p));
	if (memcmp(c->p + 2, "HELP", 4) == 0)
		pl->kind = SCRAPER__PK_HELP;
	else if (memcmp(c->p + 2, "TYPE", 4) == 0)
		pl->kind = SCRAPER__PK_TYPE;
	else if (memcmp(c->p + 2, "UNIT", 4) == 0)
		pl->kind = SCRAPER__PK_UNIT;
	else
		return scraper__pt_fail_quoted(c, "invalid metadata line", c->p, (size_t)(c->end - c->p));
	c->p += 7;
	const char *name = c->p;
	if (!(CLS(c->p) & C_NAME0))
		return scraper__pt_fail_got(c, "invalid metric name in comment", c->p, token_len(c));
	while (c->p < c->end && (CLS(c->p) & C_NAME))
		c->p++;
	pl->name = (struct scraper__lval){name, (uint32_t)(c->p - name), false};
	if (c->p < c->end && *c->p++ != ' ')
		return scraper__pt_fail_got(c, "invalid metric name in comment", name, token_len_at(name, c->end));
	pl->text = (struct scraper__lval){c->p, (uint32_t)(c->end - c->p), false};
	if (pl->kind != SCRAPER__PK_TYPE)
		return 0;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(types); i++) {
		if (pl->text.len == strlen(types[i]) && memcmp(c->p, types[i], pl->text.len) == 0) {
			pl->type = tval[i];
			return 0;
		}
	}
	return scraper__pt_fail_quoted(c, "invalid metric type", c->p, pl->text.len);
}

int scraper__promtext_parse(const char *line, size_t len, struct scraper__sample *s,
			    struct scraper__pline *pl, char *err, size_t errlen)
{
	struct cur c = {line, line + len, err, errlen, pl, (pl->flags & SCRAPER__PT_OM) != 0, false};

	pl->kind = SCRAPER__PK_BLANK;
	pl->name = (struct scraper__lval){0};
	pl->nlabels = 0;
	pl->grow = pl->exemplar = false;
	if (c.om) {
		if (len == 0)
			return scraper__pt_fail(&c, "\"\\n\" is not a valid start token");
		if (memchr(line, '\r', len))
			return scraper__pt_fail(&c, "invalid character \"\\r\"");
		if (CLS(line) & C_BLANK)
			return scraper__pt_fail(&c, "\" \" is not a valid start token");
		return *line == '#' ? comment_om(&c) : sample(&c, s);
	}
	if (len && line[len - 1] == '\r') /* one CR of a CRLF line end */
		c.end--;
	skip_blank(&c);
	if (c.p >= c.end)
		return 0;
	if (*c.p == '#') {
		pl->kind = SCRAPER__PK_COMMENT;
		return scraper__pt_comment(&c);
	}
	return sample(&c, s);
}
