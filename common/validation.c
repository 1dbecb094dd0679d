/*
 * validation.c - apimachinery's label key and value validation
 * (k8s.io/apimachinery/pkg/util/validation) and field.Error wording, for
 * the selector parser; IsDNS1123Subdomain for the serving certificates'
 * SNI names.
 */
#include "common/common.h"
#include "common/common_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_NAME_MAX 63
#define DNS_SUBDOMAIN_MAX 253

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG "must consist of alphanumeric characters, '-', '_' or '.', " \
	"and must start and end with an alphanumeric character"
#define QNAME_EXAMPLES "(e.g. 'MyName',  or 'my.name',  or '123-abc', "
#define DNS_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS_SUB_FMT DNS_LABEL_FMT "(\\." DNS_LABEL_FMT ")*"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool qname_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool dns_subdomain_ok(const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			bool lower = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');

			if (!lower && s[i] != '-')
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

#define DNS_SUB_MSG "a lowercase RFC 1123 subdomain must consist of lower case " \
	"alphanumeric characters, '-' or '.', and must start and end with an alphanumeric " \
	"character (e.g. 'example.com', regex used for validation is '" DNS_SUB_FMT "')"

const char *validation_dns_subdomain(const char *s)
{
	size_t n = strnlen(s, DNS_SUBDOMAIN_MAX + 1);

	if (n > DNS_SUBDOMAIN_MAX)
		return "must be no more than 253 characters";
	return dns_subdomain_ok(s, n) ? NULL : DNS_SUB_MSG;
}

/* Appends to a message buffer; a message past its cap is cut short. */
void common__appendf(struct dynbuf *b, const char *fmt, ...) COMMON_PRINTF(2, 3);
void common__appendf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = dynbuf_vprintf(b, fmt, ap);
	va_end(ap);
	COMMON_UNUSED(rc);
}

/* Appends "; " between messages, as strings.Join(errs, "; "). */
static void add_msg(struct dynbuf *b, const char *msg)
{
	common__appendf(b, "%s%s", b->len ? "; " : "", msg);
}

/* validation.IsQualifiedName; messages into b (empty = valid). */
void common__check_qualified_name(const char *k, struct dynbuf *b)
{
	const char *slash = strchr(k, '/');
	const char *name = slash ? slash + 1 : k;
	size_t nlen = strlen(name);

	if (slash && strchr(slash + 1, '/')) {
		add_msg(b, "a qualified name " QNAME_MSG " " QNAME_EXAMPLES
			   "regex used for validation is '" QNAME_FMT "') with an optional DNS "
			   "subdomain prefix and '/' (e.g. 'example.com/MyName')");
		return;
	}
	if (slash && slash == k) {
		add_msg(b, "prefix part must be non-empty");
	} else if (slash) {
		size_t plen = (size_t)(slash - k);

		if (plen > DNS_SUBDOMAIN_MAX)
			add_msg(b, "prefix part must be no more than 253 characters");
		if (!dns_subdomain_ok(k, plen))
			add_msg(b, "prefix part " DNS_SUB_MSG);
	}
	if (nlen == 0)
		add_msg(b, "name part must be non-empty");
	else if (nlen > KEY_NAME_MAX)
		add_msg(b, "name part must be no more than 63 characters");
	if (!qname_ok(name, nlen))
		add_msg(b, "name part " QNAME_MSG " " QNAME_EXAMPLES
			   "regex used for validation is '" QNAME_FMT "')");
}

/* validation.IsValidLabelValue. */
void common__check_label_value(const char *v, struct dynbuf *b)
{
	size_t n = strlen(v);

	if (n > KEY_NAME_MAX)
		add_msg(b, "must be no more than 63 characters");
	if (n && !qname_ok(v, n))
		add_msg(b, "a valid label must be an empty string or consist of alphanumeric "
			   "characters, '-', '_' or '.', and must start and end with an "
			   "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
			   "regex used for validation is '(" QNAME_FMT ")?')");
}

/* Go's %q for the printable ASCII subset; other bytes as \xNN. */
static void quote_go(struct dynbuf *b, const char *s)
{
	common__appendf(b, "%c", '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			common__appendf(b, "\\%c", c);
		else if (c == '\n')
			common__appendf(b, "%s", "\\n");
		else if (c == '\t')
			common__appendf(b, "%s", "\\t");
		else if (c < 0x20 || c == 0x7f)
			common__appendf(b, "\\x%02x", c);
		else
			common__appendf(b, "%c", (char)c);
	}
	common__appendf(b, "%c", '"');
}

/* field.Invalid(path, value, detail).Error() appended to out. */
void common__field_invalid(struct dynbuf *out, const char *path, const char *value,
			  const char *detail)
{
	common__appendf(out, "%s: Invalid value: ", path);
	quote_go(out, value);
	common__appendf(out, ": %s", detail);
}

/* strconv.ParseInt(s, 10, 64). */
bool common__parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!((*s >= '0' && *s <= '9') || *s == '+' || *s == '-'))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || !(end[-1] >= '0' && end[-1] <= '9'))
		return false;
	*out = v;
	return true;
}

