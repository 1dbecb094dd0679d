/*
 * promtext.c - one line of the Prometheus text exposition format (0.0.4),
 * as Prometheus' PromParser reads it, but stricter where the text is
 * broken: label values allow only the \\ \" \n escapes, must be valid
 * UTF-8 without control bytes, and a metric name must be followed by a
 * blank or '{'.  Timestamps are unsigned integers (milliseconds), so a
 * negative one is an error, as upstream.
 *
 * Hot path: one pass over the line with a byte-class table, no
 * allocation, no callbacks.
 *
 * The same tokenizer serves scraper/expfmt.c (any pod's /metrics) when
 * called through scraper__promtext_parse() with a struct scraper__pline:
 * every label is recorded, quoted UTF-8 names are read, control bytes are
 * allowed in label values, timestamps may be negative, comments are
 * reported (HELP, TYPE, UNIT, EOF), exemplars are skipped, and errors use
 * the words of prometheus/common's expfmt where they differ.  With
 * SCRAPER__PT_OM the OpenMetrics 1.0 rules apply (single spaces, no
 * trailing comma, float-second timestamps, metadata lines only).  That
 * mode lives in promtext_gen.c; the pieces both use, in promtext_lex.h.
 */
#include "scraper/promtext_lex.h"

uint8_t scraper__pt_cls[256];

static void __attribute__((constructor)) promtext_init_classes(void)
{
	for (int c = 0; c < 256; c++) {
		uint8_t v = 0;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool digit = c >= '0' && c <= '9';

		if (alpha || c == '_' || c == ':')
			v |= C_NAME0 | C_NAME;
		if (digit)
			v |= C_NAME | C_LNAME | C_DIGIT;
		if (alpha || c == '_')
			v |= C_LNAME0 | C_LNAME;
		if (c == ' ' || c == '\t')
			v |= C_BLANK | C_VSTOP;
		if (c == '{')
			v |= C_VSTOP;
		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f || c >= 0x80)
			v |= C_LVSTOP;
		scraper__pt_cls[c] = v;
	}
}

/* tok as Go's %q would print its printable ASCII (others as \xNN), cut
 * to fit q; returns how many bytes of tok were written. */
size_t scraper__pt_quote(char *q, size_t qlen, const char *tok, size_t toklen)
{
	size_t i, j = 0;

	for (i = 0; i < toklen && j + 5 < qlen; i++) {
		unsigned char ch = (unsigned char)tok[i];

		if (ch == '"' || ch == '\\') {
			q[j++] = '\\';
			q[j++] = (char)ch;
		} else if (ch >= 0x20 && ch < 0x7f) {
			q[j++] = (char)ch;
		} else {
			j += (size_t)snprintf(q + j, qlen - j, "\\x%02x", ch);
		}
	}
	q[j] = '\0';
	return i;
}

/* Writes "what, got "<token>"" into the error buffer; returns ERR_PARSE. */
int scraper__pt_fail_got(struct cur *c, const char *what, const char *tok, size_t toklen)
{
	char q[48];
	size_t i = scraper__pt_quote(q, sizeof(q), tok, toklen);

	if (toklen == 0)
		snprintf(c->err, c->errlen, "%s, got end of line", what);
	else
		snprintf(c->err, c->errlen, "%s, got \"%s%s\"", what, q, i < toklen ? "..." : "");
	return ERR_PARSE;
}

/* Writes "what "<token>"" (Go's "%s %q"); returns ERR_PARSE. */
int scraper__pt_fail_quoted(struct cur *c, const char *what, const char *tok, size_t toklen)
{
	char q[64];
	size_t i = scraper__pt_quote(q, sizeof(q), tok, toklen);

	snprintf(c->err, c->errlen, "%s \"%s%s\"", what, q, i < toklen ? "..." : "");
	return ERR_PARSE;
}

int scraper__pt_fail(struct cur *c, const char *what)
{
	snprintf(c->err, c->errlen, "%s", what);
	return ERR_PARSE;
}

/* Length of a valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char b = p[0];
	size_t n;
	uint32_t cp;

	if (b >= 0xc2 && b <= 0xdf)
		n = 2, cp = b & 0x1f;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3, cp = b & 0x0f;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4, cp = b & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* The line ended inside a quoted string that began at start. */
static int unterminated(struct cur *c, const char *start)
{
	char q[48];

	if (!c->pl)
		return scraper__pt_fail(c, "unterminated label value");
	if (c->pl->flags & SCRAPER__PT_LAST)
		return scraper__pt_fail(c, "unexpected end of input stream");
	scraper__pt_quote(q, sizeof(q), start, (size_t)(c->end - start));
	snprintf(c->err, c->errlen, "label value \"%s\" contains unescaped new-line", q);
	return ERR_PARSE;
}

/* A quoted label value; c->p is just past the opening quote. */
/* Inlined into the kubelet path below (a call per label value cost the
 * decoder ~3% of its instructions); promtext_gen.c calls the wrapper. */
static inline __attribute__((always_inline)) int label_value(struct cur *c, struct scraper__lval *out)
{
	const char *start = c->p;
	bool escaped = false;

	for (;;) {
		c->p = span(c->p, c->end, SPAN_LVALUE);
		while (c->p < c->end && !(CLS(c->p) & C_LVSTOP))
			c->p++;
		if (c->p >= c->end)
			return unterminated(c, start);
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"')
			break;
		if (ch == '\\') {
			char e = c->p + 1 < c->end ? c->p[1] : '\0';
			if (e != '\\' && e != '"' && e != 'n')
				return scraper__pt_fail_got(c, "invalid escape sequence in label value", c->p, 2);
			escaped = true;
			c->p += 2;
		} else if (ch >= 0x80) {
			size_t n = utf8_seq((const unsigned char *)c->p, (const unsigned char *)c->end);
			if (n == 0)
				return scraper__pt_fail(c, MSG(c, "invalid UTF-8 in label value", "invalid UTF-8 label value"));
			c->p += n;
		} else if (ch == '\t' || c->pl) {
			c->p++;
		} else {
			return scraper__pt_fail_got(c, "control character in label value", c->p, 1);
		}
	}
	out->p = start;
	out->len = (uint32_t)(c->p - start);
	out->escaped = escaped;
	c->p++; /* closing quote */
	return 0;
}

int scraper__pt_label_value(struct cur *c, struct scraper__lval *out)
{
	return label_value(c, out);
}

/* Which of the three labels we read a label name is, or NULL. */
static struct scraper__lval *known_label(struct scraper__sample *s, const char *n, size_t len)
{
	if (len == 3 && memcmp(n, "pod", 3) == 0)
		return &s->pod;
	if (len == 9 && memcmp(n, "container", 9) == 0)
		return &s->container;
	if (len == 9 && memcmp(n, "namespace", 9) == 0)
		return &s->ns;
	return NULL;
}

/* Fast path: `pod="`, `container="` or `namespace="` at p (the common
 * spelling, no blanks): the label and its name's length, else NULL. */
static inline struct scraper__lval *quoted_known_label(struct scraper__sample *s, const char *p,
						       const char *end, size_t *nlen)
{
	if (end - p >= 11 && p[9] == '=' && p[10] == '"') {
		*nlen = 9;
		if (memcmp(p, "container", 9) == 0)
			return &s->container;
		if (memcmp(p, "namespace", 9) == 0)
			return &s->ns;
	}
	if (end - p >= 5 && memcmp(p, "pod=\"", 5) == 0) {
		*nlen = 3;
		return &s->pod;
	}
	return NULL;
}

/* A label name, '=' and the value's opening quote; *nlen the name's length. */
int scraper__pt_label_name(struct cur *c, size_t *nlen)
{
	const char *name = c->p;

	if (c->p >= c->end || !(CLS(c->p) & C_LNAME0))
		return scraper__pt_fail_got(c, "expected label name", c->p, token_len(c));
	while (c->p < c->end && (CLS(c->p) & C_LNAME))
		c->p++;
	*nlen = (size_t)(c->p - name);
	skip_blank(c);
	if (c->p >= c->end || *c->p != '=')
		return scraper__pt_fail_got(c, "expected '=' after label name", c->p, token_len(c));
	c->p++;
	skip_blank(c);
	if (c->p >= c->end || *c->p != '"')
		return scraper__pt_fail_got(c, "expected '\"' at start of label value", c->p, token_len(c));
	c->p++;
	return 0;
}

/* The label set; c->p is just past '{'. */
static int lex_labels(struct cur *c, struct scraper__sample *s)
{
	for (;;) {
		skip_blank(c);
		if (c->p < c->end && *c->p == '}')
			break;
		const char *name = c->p;
		size_t nlen;
		struct scraper__lval *k = quoted_known_label(s, c->p, c->end, &nlen);
		if (k) {
			c->p += nlen + 2; /* the name, '=' and '"' */
		} else {
			int rc = scraper__pt_label_name(c, &nlen);
			if (rc)
				return rc;
			k = known_label(s, name, nlen);
		}
		struct scraper__lval v;
		int rc = label_value(c, &v);
		if (rc)
			return rc;
		if (k) {
			if (k->p)
				return scraper__pt_fail_got(c, "duplicate label", name, nlen);
			*k = v;
		}
		skip_blank(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '}')
			break;
		return scraper__pt_fail_got(c, "expected ',' or '}' after label value", c->p, token_len(c));
	}
	c->p++; /* '}' */
	return 0;
}

static enum scraper__metric classify(const char *n, size_t len)
{
	switch (len) {
	case 28:
		if (memcmp(n, "node_cpu_usage_seconds_total", 28) == 0)
			return SCRAPER__M_NODE_CPU;
		if (memcmp(n, "container_start_time_seconds", 28) == 0)
			return SCRAPER__M_CONT_START;
		break;
	case 29:
		if (memcmp(n, "node_memory_working_set_bytes", 29) == 0)
			return SCRAPER__M_NODE_MEM;
		break;
	case 33:
		if (memcmp(n, "container_cpu_usage_seconds_total", 33) == 0)
			return SCRAPER__M_CONT_CPU;
		break;
	case 34:
		if (memcmp(n, "container_memory_working_set_bytes", 34) == 0)
			return SCRAPER__M_CONT_MEM;
		break;
	default:
		break;
	}
	return SCRAPER__M_OTHER;
}

/* "[ \t]*<digits>[ \t]*" up to the end; c->p is after the value. */
static int lex_timestamp(struct cur *c, struct scraper__sample *s)
{
	skip_blank(c);
	if (c->p >= c->end)
		return 0;
	if (!(CLS(c->p) & C_DIGIT))
		return scraper__pt_fail_got(c, "expected timestamp or new record", c->p, token_len(c));
	const char *start = c->p;
	uint64_t ms = 0; /* wraps past 19 digits, but those are refused */
	uint32_t v8;
	while (c->end - c->p >= 8 && scraper__digits8(c->p, &v8)) {
		ms = ms * 100000000u + v8;
		c->p += 8;
	}
	for (; c->p < c->end && (CLS(c->p) & C_DIGIT); c->p++)
		ms = ms * 10 + (uint64_t)(*c->p - '0');
	/* up to 19 digits fit in uint64; time.Unix(0, ms*1e6) must fit int64 */
	if (c->p - start > 19)
		return scraper__pt_fail_got(c, "timestamp out of range", start, token_len_at(start, c->end));
	if (ms > (uint64_t)(INT64_MAX / NS_PER_MS))
		return scraper__pt_fail_got(c, "timestamp out of range", start, token_len_at(start, c->end));
	skip_blank(c);
	if (c->p < c->end)
		return scraper__pt_fail_got(c, "expected next entry after timestamp", c->p, token_len(c));
	s->has_ts = true;
	s->ts_ms = (int64_t)ms;
	return 0;
}

/* Comment lines: HELP and TYPE are checked, other comments only for
 * encoding (valid UTF-8, no control bytes but tab). */
int scraper__pt_check_text(struct cur *c)
{
	const char *q = c->p;

	while (q < c->end) {
		q = span(q, c->end, SPAN_TEXT);
		if (q >= c->end)
			break;
		unsigned char ch = (unsigned char)*q;
		if (ch >= 0x80) {
			size_t n = utf8_seq((const unsigned char *)q, (const unsigned char *)c->end);
			if (n == 0)
				return scraper__pt_fail(c, "invalid UTF-8 in comment");
			q += n;
		} else if (ch < 0x20 && ch != '\t') {
			return scraper__pt_fail_got(c, "control character in comment", q, 1);
		} else {
			q++;
		}
	}
	return 0;
}

int scraper__pt_comment(struct cur *c)
{
	int rc = scraper__pt_check_text(c);

	if (rc)
		return rc;
	c->p++; /* '#' */
	const char *kw = c->p;
	skip_blank(c);
	if (c->p == kw || c->end - c->p < 5)
		return 0;
	bool is_type = memcmp(c->p, "TYPE", 4) == 0;
	if (!is_type && memcmp(c->p, "HELP", 4) != 0)
		return 0;
	if (!(CLS(c->p + 4) & C_BLANK))
		return 0; /* "# HELPx": a plain comment */
	c->p += 4;
	skip_blank(c);
	const char *name = c->p;
	if (c->p >= c->end || !(CLS(c->p) & C_NAME0))
		return scraper__pt_fail_got(c, "invalid metric name in comment", c->p, token_len(c));
	while (c->p < c->end && (CLS(c->p) & C_NAME))
		c->p++;
	if (c->p < c->end && !(CLS(c->p) & C_BLANK))
		return scraper__pt_fail_got(c, "invalid metric name in comment", c->p, token_len(c));
	if (c->pl) {
		c->pl->name = (struct scraper__lval){name, (uint32_t)(c->p - name), false};
		c->pl->kind = is_type ? SCRAPER__PK_TYPE : SCRAPER__PK_HELP;
	}
	skip_blank(c);
	if (!is_type) {
		if (c->pl)
			c->pl->text = (struct scraper__lval){c->p, (uint32_t)(c->end - c->p), false};
		return 0;
	}
	static const char *const types[] = {"untyped", "counter", "gauge", "histogram", "summary"};
	static const enum scraper_expfmt_type tval[] = {SCRAPER_EXPFMT_UNTYPED, SCRAPER_EXPFMT_COUNTER,
							SCRAPER_EXPFMT_GAUGE, SCRAPER_EXPFMT_HISTOGRAM,
							SCRAPER_EXPFMT_SUMMARY};
	const char *word = c->p;
	size_t tl = token_len(c);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(types); i++) {
		if (tl == strlen(types[i]) && memcmp(c->p, types[i], tl) == 0) {
			c->p += tl;
			skip_blank(c);
			if (c->p == c->end) {
				if (c->pl)
					c->pl->type = tval[i];
				return 0;
			}
			break;
		}
	}
	if (c->pl)
		return scraper__pt_fail_quoted(c, "unknown metric type", word, (size_t)(c->end - word));
	return scraper__pt_fail_got(c, "invalid metric type", c->p, token_len(c));
}

int scraper__promtext_line(const char *line, size_t len, struct scraper__sample *s, char *err,
			   size_t errlen)
{
	struct cur c = {line, line + len, err, errlen, NULL, false, false};
	int rc;

	skip_blank(&c);
	if (c.p >= c.end)
		return 0;
	if (*c.p == '#')
		return scraper__pt_comment(&c);
	if (!(CLS(c.p) & C_NAME0))
		return scraper__pt_fail_got(&c, "expected metric name", c.p, token_len(&c));
	const char *name = c.p;
	c.p = span(c.p, c.end, SPAN_NAME);
	while (c.p < c.end && (CLS(c.p) & C_NAME))
		c.p++;
	s->metric = classify(name, (size_t)(c.p - name));
	s->container.p = s->pod.p = s->ns.p = NULL;
	s->has_ts = false;
	if (c.p < c.end && !(CLS(c.p) & C_VSTOP))
		return scraper__pt_fail_got(&c, "invalid metric name", name, token_len_at(name, c.end));
	skip_blank(&c);
	if (c.p < c.end && *c.p == '{') {
		c.p++;
		rc = lex_labels(&c, s);
		if (rc)
			return rc;
		skip_blank(&c);
	}
	rc = lex_value(&c, &s->value);
	if (rc)
		return rc;
	rc = lex_timestamp(&c, s);
	return rc ? rc : 1;
}

size_t scraper__lval_unescape(const struct scraper__lval *lv, char *out)
{
	size_t j = 0;

	for (uint32_t i = 0; i < lv->len; i++) {
		char ch = lv->p[i];
		if (ch == '\\' && i + 1 < lv->len) {
			ch = lv->p[++i];
			if (ch == 'n')
				ch = '\n';
		}
		out[j++] = ch;
	}
	out[j] = '\0';
	return j;
}
