/*
 * protobuf.c - request bodies in Kubernetes' protobuf encoding (kubectl
 * 1.32's typed clients send them for `kubectl create namespace`,
 * `create configmap`, `create deployment`, `run`, `create service`):
 * the "k8s\0" envelope (runtime.Unknown) and a schema table for the
 * fields those commands set, turned into the JSON the store keeps.
 * Unknown fields are skipped; nesting and sizes are bounded.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PB_MAX_DEPTH 32

enum pb_type { PB_STRING, PB_INT, PB_BOOL, PB_MSG, PB_MAP, PB_QUANTITY, PB_INTORSTR };

struct pb_msg;

struct pb_field {
	unsigned num;
	const char *name;
	enum pb_type type;
	bool repeated;
	const struct pb_msg *msg;    /* PB_MSG; PB_MAP value message (NULL = string) */
	enum pb_type map_value;      /* PB_MAP: PB_STRING or PB_QUANTITY */
};

struct pb_msg {
	const struct pb_field *fields;
};

#define F(n, nm, t) { n, nm, t, false, NULL, PB_STRING }
#define R(n, nm, t) { n, nm, t, true, NULL, PB_STRING }
#define M(n, nm, m) { n, nm, PB_MSG, false, &m, PB_STRING }
#define RM(n, nm, m) { n, nm, PB_MSG, true, &m, PB_STRING }
#define MAP(n, nm, v) { n, nm, PB_MAP, false, NULL, v }
#define END { 0, NULL, PB_STRING, false, NULL, PB_STRING }

static const struct pb_msg object_meta = { (const struct pb_field[]){
	F(1, "name", PB_STRING), F(2, "generateName", PB_STRING), F(3, "namespace", PB_STRING),
	MAP(11, "labels", PB_STRING), MAP(12, "annotations", PB_STRING),
	R(14, "finalizers", PB_STRING), END } };
static const struct pb_msg selector_req = { (const struct pb_field[]){
	F(1, "key", PB_STRING), F(2, "operator", PB_STRING), R(3, "values", PB_STRING), END } };
static const struct pb_msg label_selector = { (const struct pb_field[]){
	MAP(1, "matchLabels", PB_STRING), RM(2, "matchExpressions", selector_req), END } };
static const struct pb_msg resources = { (const struct pb_field[]){
	MAP(1, "limits", PB_QUANTITY), MAP(2, "requests", PB_QUANTITY), END } };
static const struct pb_msg env_var = { (const struct pb_field[]){
	F(1, "name", PB_STRING), F(2, "value", PB_STRING), END } };
static const struct pb_msg container_port = { (const struct pb_field[]){
	F(1, "name", PB_STRING), F(2, "hostPort", PB_INT), F(3, "containerPort", PB_INT),
	F(4, "protocol", PB_STRING), END } };
static const struct pb_msg container = { (const struct pb_field[]){
	F(1, "name", PB_STRING), F(2, "image", PB_STRING), R(3, "command", PB_STRING),
	R(4, "args", PB_STRING), F(5, "workingDir", PB_STRING), RM(6, "ports", container_port),
	RM(7, "env", env_var), M(8, "resources", resources),
	F(13, "terminationMessagePath", PB_STRING), F(14, "imagePullPolicy", PB_STRING),
	F(20, "terminationMessagePolicy", PB_STRING), END } };
static const struct pb_msg pod_spec = { (const struct pb_field[]){
	RM(2, "containers", container), F(3, "restartPolicy", PB_STRING),
	F(4, "terminationGracePeriodSeconds", PB_INT), F(6, "dnsPolicy", PB_STRING),
	MAP(7, "nodeSelector", PB_STRING), F(8, "serviceAccountName", PB_STRING),
	F(10, "nodeName", PB_STRING), F(19, "schedulerName", PB_STRING),
	RM(20, "initContainers", container), END } };
static const struct pb_msg pod_template = { (const struct pb_field[]){
	M(1, "metadata", object_meta), M(2, "spec", pod_spec), END } };
static const struct pb_msg rolling_update = { (const struct pb_field[]){
	F(1, "maxUnavailable", PB_INTORSTR), F(2, "maxSurge", PB_INTORSTR), END } };
static const struct pb_msg strategy = { (const struct pb_field[]){
	F(1, "type", PB_STRING), M(2, "rollingUpdate", rolling_update), END } };
static const struct pb_msg deployment_spec = { (const struct pb_field[]){
	F(1, "replicas", PB_INT), M(2, "selector", label_selector), M(3, "template", pod_template),
	M(4, "strategy", strategy), F(5, "minReadySeconds", PB_INT),
	F(6, "revisionHistoryLimit", PB_INT), F(7, "paused", PB_BOOL),
	F(9, "progressDeadlineSeconds", PB_INT), END } };
static const struct pb_msg namespace_spec = { (const struct pb_field[]){
	R(1, "finalizers", PB_STRING), END } };
static const struct pb_msg service_port = { (const struct pb_field[]){
	F(1, "name", PB_STRING), F(2, "protocol", PB_STRING), F(3, "port", PB_INT),
	F(4, "targetPort", PB_INTORSTR), F(5, "nodePort", PB_INT), END } };
static const struct pb_msg service_spec = { (const struct pb_field[]){
	RM(1, "ports", service_port), MAP(2, "selector", PB_STRING), F(3, "clusterIP", PB_STRING),
	F(4, "type", PB_STRING), END } };

static const struct pb_msg pod_msg = { (const struct pb_field[]){
	M(1, "metadata", object_meta), M(2, "spec", pod_spec), END } };
static const struct pb_msg deployment_msg = { (const struct pb_field[]){
	M(1, "metadata", object_meta), M(2, "spec", deployment_spec), END } };
static const struct pb_msg namespace_msg = { (const struct pb_field[]){
	M(1, "metadata", object_meta), M(2, "spec", namespace_spec), END } };
static const struct pb_msg configmap_msg = { (const struct pb_field[]){
	M(1, "metadata", object_meta), MAP(2, "data", PB_STRING), F(4, "immutable", PB_BOOL),
	END } };
static const struct pb_msg service_msg = { (const struct pb_field[]){
	M(1, "metadata", object_meta), M(2, "spec", service_spec), END } };

/* ---- wire format ---------------------------------------------------------------- */

struct pb_in {
	const unsigned char *p, *end;
};

static bool read_varint(struct pb_in *in, uint64_t *v)
{
	unsigned shift;

	*v = 0;
	for (shift = 0; shift < 64 && in->p < in->end; shift += 7) {
		unsigned char b = *in->p++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* Reads one field header and its payload (length-delimited -> sub). */
static bool read_field(struct pb_in *in, unsigned *num, unsigned *wt, uint64_t *v,
		       struct pb_in *sub)
{
	uint64_t key;

	if (!read_varint(in, &key))
		return false;
	*num = (unsigned)(key >> 3);
	*wt = (unsigned)(key & 7);
	switch (*wt) {
	case 0:
		return read_varint(in, v);
	case 1:
	case 5: {
		size_t n = *wt == 1 ? 8 : 4;

		if ((size_t)(in->end - in->p) < n)
			return false;
		in->p += n;
		return true;
	}
	case 2:
		if (!read_varint(in, v) || *v > (uint64_t)(in->end - in->p))
			return false;
		sub->p = in->p;
		sub->end = in->p + *v;
		in->p += *v;
		return true;
	default:
		return false;
	}
}

static json_t *decode_msg(struct pb_in in, const struct pb_msg *m, int depth);

/* Quantity and IntOrString messages to their JSON forms. */
static json_t *decode_special(struct pb_in in, enum pb_type t)
{
	unsigned num, wt;
	uint64_t v, type = 0, ival = 0;
	struct pb_in sub;
	json_t *str = NULL, *out;

	while (in.p < in.end && read_field(&in, &num, &wt, &v, &sub)) {
		if (t == PB_QUANTITY && num == 1 && wt == 2) {
			json_decref(str);
			str = json_stringn((const char *)sub.p, (size_t)(sub.end - sub.p));
		} else if (t == PB_INTORSTR && wt == 0 && num == 1) {
			type = v;
		} else if (t == PB_INTORSTR && wt == 0 && num == 2) {
			ival = v;
		} else if (t == PB_INTORSTR && wt == 2 && num == 3) {
			json_decref(str);
			str = json_stringn((const char *)sub.p, (size_t)(sub.end - sub.p));
		}
	}
	if (t == PB_INTORSTR && type == 0) {
		json_decref(str);
		return json_integer((json_int_t)(int32_t)ival);
	}
	out = str ? str : json_string("");
	return out;
}

/* A map entry {1: key, 2: value} into obj. */
static void decode_map_entry(struct pb_in in, const struct pb_field *f, json_t *obj)
{
	unsigned num, wt;
	uint64_t v;
	struct pb_in sub;
	char *key = NULL;
	json_t *val = NULL;

	while (in.p < in.end && read_field(&in, &num, &wt, &v, &sub)) {
		if (wt != 2)
			continue;
		if (num == 1) {
			free(key);
			key = xstrndup((const char *)sub.p, (size_t)(sub.end - sub.p));
		} else if (num == 2) {
			json_decref(val);
			val = f->map_value == PB_QUANTITY
				      ? decode_special(sub, PB_QUANTITY)
				      : json_stringn((const char *)sub.p, (size_t)(sub.end - sub.p));
		}
	}
	if (key)
		json_object_set_new(obj, key, val ? val : json_string(""));
	else
		json_decref(val);
	free(key);
}

static json_t *field_value(const struct pb_field *f, unsigned wt, uint64_t v, struct pb_in sub,
			   int depth)
{
	switch (f->type) {
	case PB_STRING: /* Go omits empty strings from JSON (omitempty) */
		return wt == 2 && sub.end > sub.p
			       ? json_stringn((const char *)sub.p, (size_t)(sub.end - sub.p))
			       : NULL;
	case PB_INT:
		return wt == 0 ? json_integer((json_int_t)v) : NULL;
	case PB_BOOL:
		return wt == 0 ? json_boolean(v != 0) : NULL;
	case PB_MSG:
		return wt == 2 ? decode_msg(sub, f->msg, depth + 1) : NULL;
	case PB_QUANTITY:
	case PB_INTORSTR:
		return wt == 2 ? decode_special(sub, f->type) : NULL;
	case PB_MAP:
		return NULL;
	}
	return NULL;
}

static void decode_field(const struct pb_field *f, unsigned wt, uint64_t v, struct pb_in sub,
			 json_t *obj, int depth)
{
	json_t *val;

	if (f->type == PB_MAP) {
		json_t *map = json_object_get(obj, f->name);

		if (wt != 2)
			return;
		if (!map) {
			map = json_object();
			json_object_set_new(obj, f->name, map);
		}
		decode_map_entry(sub, f, map);
		return;
	}
	val = field_value(f, wt, v, sub, depth);
	if (!val)
		return;
	if (f->repeated) {
		json_t *arr = json_object_get(obj, f->name);

		if (!arr) {
			arr = json_array();
			json_object_set_new(obj, f->name, arr);
		}
		json_array_append_new(arr, val);
	} else {
		json_object_set_new(obj, f->name, val);
	}
}

static json_t *decode_msg(struct pb_in in, const struct pb_msg *m, int depth)
{
	json_t *obj = json_object();
	unsigned num, wt;
	uint64_t v;
	struct pb_in sub = { 0 };

	if (depth > PB_MAX_DEPTH)
		return obj;
	while (in.p < in.end && read_field(&in, &num, &wt, &v, &sub)) {
		const struct pb_field *f;

		for (f = m->fields; f->name; f++)
			if (f->num == num)
				break;
		if (f->name)
			decode_field(f, wt, v, sub, obj, depth);
	}
	return obj;
}

/* ---- envelope --------------------------------------------------------------------- */

static const struct pb_msg *msg_for_kind(const char *kind)
{
	static const struct {
		const char *kind;
		const struct pb_msg *msg;
	} kinds[] = {
		{ "Pod", &pod_msg },           { "Deployment", &deployment_msg },
		{ "Namespace", &namespace_msg }, { "ConfigMap", &configmap_msg },
		{ "Service", &service_msg },
	};
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].msg;
	return NULL;
}

json_t *sim_protobuf_to_json(const void *body, size_t len, char *err, size_t errlen)
{
	struct pb_in in = { (const unsigned char *)body + 4, (const unsigned char *)body + len };
	struct pb_in sub, raw = { 0 }, tm;
	unsigned num, wt;
	uint64_t v;
	char kind[64] = "", api[128] = "";
	const struct pb_msg *m;
	json_t *obj;

	if (len < 4 || memcmp(body, "k8s\0", 4) != 0) {
		snprintf(err, errlen, "the protobuf body lacks the k8s envelope");
		return NULL;
	}
	while (in.p < in.end && read_field(&in, &num, &wt, &v, &sub)) {
		if (num == 2 && wt == 2)
			raw = sub;
		if (num != 1 || wt != 2)
			continue;
		tm = sub;
		while (tm.p < tm.end && read_field(&tm, &num, &wt, &v, &sub))
			if (wt == 2)
				snprintf(num == 1 ? api : kind, num == 1 ? sizeof(api) : sizeof(kind),
					 "%.*s", (int)(sub.end - sub.p), (const char *)sub.p);
	}
	m = msg_for_kind(kind);
	if (!m || !raw.p) {
		snprintf(err, errlen, "protobuf bodies of kind %s are not supported; send JSON",
			 *kind ? kind : "(none)");
		return NULL;
	}
	obj = decode_msg(raw, m, 0);
	json_object_set_new(obj, "kind", json_string(kind));
	json_object_set_new(obj, "apiVersion", json_string(api));
	return obj;
}
