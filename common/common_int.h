/*
 * common_int.h - declarations shared inside common/ only (the selector
 * parser and its validation helpers).  Other folders use common.h.
 */
#ifndef COMMON_INT_H
#define COMMON_INT_H

#include "common/common.h"

/* Appends to a message buffer; a message past its cap is cut short. */
void common__appendf(struct dynbuf *b, const char *fmt, ...) COMMON_PRINTF(2, 3);
/* validation.IsQualifiedName / IsValidLabelValue: messages appended to
 * msgs, joined by "; " (nothing appended = valid). */
void common__check_qualified_name(const char *k, struct dynbuf *msgs);
void common__check_label_value(const char *v, struct dynbuf *msgs);
/* field.Invalid(path, value, detail).Error() appended to out. */
void common__field_invalid(struct dynbuf *out, const char *path, const char *value,
			   const char *detail);
/* strconv.ParseInt(s, 10, 64): false when s is not a whole int64. */
bool common__parse_int64(const char *s, int64_t *out);

/* yamlmarks.c: the side table yaml.c fills.  An entry is a member (key
 * set, copied), an element (key NULL, index) or the root (parent NULL). */
struct yamldoc_marks *common__marks_new(void);
void common__marks_add(struct yamldoc_marks *m, const struct json_t *parent, const char *key,
		       size_t index, const struct json_t *node, struct yamldoc_mark key_mark,
		       struct yamldoc_mark value_mark);
/* Sorts the table for lookups; call once when it is complete. */
void common__marks_seal(struct yamldoc_marks *m);

#endif
