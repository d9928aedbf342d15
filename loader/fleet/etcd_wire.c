// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * etcd's v3 JSON gateway on the wire (etcd_wire.h): pure, no network.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/etcd_wire.h"

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sg_etcd_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64_chars[(v >> 18) & 63];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64_chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p;

	if (!c)
		return -1;
	p = strchr(b64_chars, c);
	return p ? (int)(p - b64_chars) : -1;
}

char *sg_etcd_b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *out;

	/* Go's encoding/json writes padded standard base64. */
	if (n % 4)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 4) {
		int a = b64_value(s[i]), b = b64_value(s[i + 1]);
		int c = s[i + 2] == '=' ? -2 : b64_value(s[i + 2]);
		int d = s[i + 3] == '=' ? -2 : b64_value(s[i + 3]);
		bool last = i + 4 == n;

		if (a < 0 || b < 0 || c == -1 || d == -1 ||
		    ((c == -2 || d == -2) && !last) || (c == -2 && d != -2))
			goto bad;
		out[o++] = (char)(a << 2 | b >> 4);
		if (c >= 0)
			out[o++] = (char)((b & 15) << 4 | c >> 2);
		if (d >= 0)
			out[o++] = (char)((c & 3) << 6 | d);
	}
	out[o] = '\0';
	if (len)
		*len = o;
	return out;
bad:
	free(out);
	return NULL;
}

char *sg_etcd_range_end(const char *prefix, size_t *len)
{
	size_t n = strlen(prefix);
	char *end = malloc(n + 1);

	if (!end)
		return NULL;
	memcpy(end, prefix, n + 1);
	while (n > 0) {
		if ((unsigned char)end[n - 1] != 0xff) {
			end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
			end[n] = '\0';
			*len = n;
			return end;
		}
		n--;
	}
	/* No byte to increment: the range reaches the end of the key space. */
	end[0] = '\0';
	*len = 1;
	return end;
}

bool sg_etcd_json_int64(const json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		long long x;

		if (!*s)
			return false;
		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno || *end)
			return false;
		*out = x;
		return true;
	}
	return false;
}

/* Sets key (base64 of len bytes of data) in o; false when out of memory. */
static bool set_b64(json_t *o, const char *key, const void *data, size_t len)
{
	char *b = sg_etcd_b64_encode(data, len);

	if (!b)
		return false;
	if (json_object_set_new(o, key, json_string(b))) {
		free(b);
		return false;
	}
	free(b);
	return true;
}

static bool set_int64(json_t *o, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return !json_object_set_new(o, key, json_string(buf));
}

static bool set_key_range(json_t *o, const char *key, bool prefix)
{
	char *end;
	size_t elen;
	bool ok;

	if (!set_b64(o, "key", key, strlen(key)))
		return false;
	if (!prefix)
		return true;
	end = sg_etcd_range_end(key, &elen);
	if (!end)
		return false;
	ok = set_b64(o, "range_end", end, elen);
	free(end);
	return ok;
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

char *sg_etcd_range_request(const char *key, bool prefix)
{
	json_t *o = json_object();

	if (!o || !set_key_range(o, key, prefix)) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

static json_t *cmp_json(const struct sg_etcd_cmp *c)
{
	json_t *o = json_object();
	bool ok;

	if (!o)
		return NULL;
	ok = set_b64(o, "key", c->key, strlen(c->key)) &&
	     !json_object_set_new(o, "result", json_string("EQUAL"));
	/* Not existing is a create revision of 0: the gateway has no
	 * "absent" compare, and a missing key's mod revision is 0 too but
	 * CREATE says what is meant. */
	if (ok && c->mod_revision == 0)
		ok = !json_object_set_new(o, "target", json_string("CREATE")) &&
		     set_int64(o, "create_revision", 0);
	else if (ok)
		ok = !json_object_set_new(o, "target", json_string("MOD")) &&
		     set_int64(o, "mod_revision", c->mod_revision);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *op_json(const struct sg_etcd_op *op)
{
	json_t *o = json_object(), *req = json_object();
	bool ok = o && req;

	if (ok && op->del) {
		ok = set_key_range(req, op->key, op->prefix) &&
		     !json_object_set(o, "request_delete_range", req);
	} else if (ok) {
		const char *v = op->value ? op->value : "";

		ok = set_b64(req, "key", op->key, strlen(op->key)) &&
		     set_b64(req, "value", v, op->value ? op->len : 0) &&
		     !json_object_set(o, "request_put", req);
	}
	json_decref(req);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *sg_etcd_txn_request(const struct sg_etcd_cmp *cmp, size_t ncmp,
			  const struct sg_etcd_op *ops, size_t nops)
{
	json_t *o = json_object(), *ca = json_array(), *oa = json_array();
	bool ok = o && ca && oa;

	for (size_t i = 0; ok && i < ncmp; i++)
		ok = !json_array_append_new(ca, cmp_json(&cmp[i]));
	for (size_t i = 0; ok && i < nops; i++)
		ok = !json_array_append_new(oa, op_json(&ops[i]));
	if (ok)
		ok = !json_object_set(o, "compare", ca) &&
		     !json_object_set(o, "success", oa);
	json_decref(ca);
	json_decref(oa);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

char *sg_etcd_watch_request(const char *prefix, int64_t start_revision)
{
	json_t *o = json_object(), *c = json_object();
	bool ok = o && c && set_key_range(c, prefix, true);

	if (ok && start_revision > 0)
		ok = set_int64(c, "start_revision", start_revision);
	/* Progress notifications now and then prove a quiet stream alive. */
	if (ok)
		ok = !json_object_set_new(c, "progress_notify", json_true()) &&
		     !json_object_set(o, "create_request", c);
	json_decref(c);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return dump(o);
}

/* ------------------------------------------------------------ responses */

__attribute__((format(printf, 2, 3))) static int fail(char **err,
						      const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		if (vasprintf(err, fmt, ap) < 0)
			*err = NULL;
		va_end(ap);
	}
	return -EPROTO;
}

/* The message of a gateway error object, or NULL. */
static const char *error_of(const json_t *root)
{
	const json_t *e = json_object_get(root, "error");
	const json_t *m = json_object_get(root, "message");

	/* Streams put the error in an object: {"error": {"message"...}}. */
	if (json_is_object(e))
		m = json_object_get(e, "message");
	if (json_is_string(m) && *json_string_value(m))
		return json_string_value(m);
	if (json_is_string(e))
		return json_string_value(e);
	return NULL;
}

char *sg_etcd_error_message(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *m = root ? error_of(root) : NULL;
	char *s = m ? strdup(m) : NULL;

	json_decref(root);
	return s;
}

/* Parses body; a gateway error gives -EIO with its message. */
static int load(const char *body, size_t len, json_t **root, char **err)
{
	json_error_t je;
	const char *m;

	*root = json_loadb(body, len, 0, &je);
	if (!*root || !json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return fail(err, "not a gateway response (%s)",
			    *root ? "not an object" : je.text);
	}
	m = error_of(*root);
	if (m) {
		int rc = -EIO;

		if (err && asprintf(err, "%s", m) < 0)
			*err = NULL;
		json_decref(*root);
		*root = NULL;
		return rc;
	}
	return 0;
}

static int header_revision(const json_t *root, int64_t *revision, char **err)
{
	const json_t *h = json_object_get(root, "header");
	const json_t *r = json_object_get(h, "revision");

	*revision = 0;
	if (!json_is_object(h))
		return fail(err, "response without a header");
	if (r && !sg_etcd_json_int64(r, revision))
		return fail(err, "header revision is not an int64");
	return 0;
}

/* An int64 field of o that may be absent (0, proto3's default). */
static bool opt_int64(const json_t *o, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(o, key);

	*out = 0;
	return !v || sg_etcd_json_int64(v, out);
}

/* A base64 field of o that may be absent (empty). */
static char *opt_b64(const json_t *o, const char *key, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	if (!v) {
		*len = 0;
		return strdup("");
	}
	if (!json_is_string(v))
		return NULL;
	return sg_etcd_b64_decode(json_string_value(v), len);
}

void sg_etcd_kvset_clear(struct sg_kvset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].value);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int sg_etcd_parse_range(const char *body, size_t len, struct sg_kvset *out,
			int64_t *revision, char **err)
{
	const json_t *kvs, *kv;
	json_t *root;
	size_t i;
	int rc;

	out->v = NULL;
	out->n = 0;
	rc = load(body, len, &root, err);
	if (rc)
		return rc;
	rc = header_revision(root, revision, err);
	if (rc)
		goto out;
	kvs = json_object_get(root, "kvs");
	if (!kvs)
		goto out;
	if (!json_is_array(kvs)) {
		rc = fail(err, "\"kvs\" is not an array");
		goto out;
	}
	out->v = calloc(json_array_size(kvs) + 1, sizeof(*out->v));
	if (!out->v) {
		rc = -ENOMEM;
		goto out;
	}
	json_array_foreach(kvs, i, kv)
	{
		struct sg_kv *k = &out->v[out->n];
		size_t klen;

		k->key = opt_b64(kv, "key", &klen);
		k->value = opt_b64(kv, "value", &k->len);
		out->n++; /* freed by the clear below if malformed */
		if (!k->key || !k->value ||
		    !opt_int64(kv, "mod_revision", &k->mod_revision)) {
			rc = fail(err, "key %zu of the response is malformed",
				  i);
			goto out;
		}
	}
out:
	if (rc)
		sg_etcd_kvset_clear(out);
	json_decref(root);
	return rc;
}

int sg_etcd_parse_txn(const char *body, size_t len, bool *succeeded,
		      int64_t *revision, char **err)
{
	const json_t *s;
	json_t *root;
	int rc;

	*succeeded = false;
	rc = load(body, len, &root, err);
	if (rc)
		return rc;
	rc = header_revision(root, revision, err);
	s = json_object_get(root, "succeeded");
	if (!rc && s && !json_is_boolean(s))
		rc = fail(err, "\"succeeded\" is not a boolean");
	if (!rc)
		*succeeded = json_is_true(s);
	json_decref(root);
	return rc;
}

void sg_etcd_watch_resp_free(struct sg_etcd_watch_resp *r)
{
	for (size_t i = 0; i < r->nev; i++) {
		free((char *)r->ev[i].key);
		free((char *)r->ev[i].value);
	}
	free(r->ev);
	free(r->cancel_reason);
	memset(r, 0, sizeof(*r));
}

static int parse_event(const json_t *e, struct sg_etcd_event *ev, char **err)
{
	const json_t *type = json_object_get(e, "type");
	const json_t *kv = json_object_get(e, "kv");
	size_t klen;
	char *key, *value = NULL;

	if (type && !json_is_string(type))
		return fail(err, "event type is not a string");
	/* PUT is the default (0) and so left out. */
	ev->del = type && !strcmp(json_string_value(type), "DELETE");
	if (!json_is_object(kv))
		return fail(err, "event without a kv");
	key = opt_b64(kv, "key", &klen);
	if (!key)
		return fail(err, "event key is not base64");
	ev->key = key;
	if (!ev->del) {
		value = opt_b64(kv, "value", &ev->len);
		if (!value)
			return fail(err, "event value of %s is not base64",
				    key);
	}
	ev->value = value;
	if (!opt_int64(kv, "mod_revision", &ev->mod_revision))
		return fail(err, "event mod_revision of %s is not an int64",
			    key);
	return 0;
}

int sg_etcd_parse_watch(const char *line, size_t len,
			struct sg_etcd_watch_resp *r, char **err)
{
	const json_t *res, *evs, *e, *reason;
	json_t *root;
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = load(line, len, &root, err);
	if (rc)
		return rc;
	res = json_object_get(root, "result");
	if (!json_is_object(res)) {
		rc = fail(err, "watch response without a result");
		goto out;
	}
	rc = header_revision(res, &r->revision, err);
	if (rc)
		goto out;
	r->created = json_is_true(json_object_get(res, "created"));
	r->canceled = json_is_true(json_object_get(res, "canceled"));
	if (!opt_int64(res, "compact_revision", &r->compact_revision)) {
		rc = fail(err, "compact_revision is not an int64");
		goto out;
	}
	reason = json_object_get(res, "cancel_reason");
	if (json_is_string(reason) && *json_string_value(reason))
		r->cancel_reason = strdup(json_string_value(reason));
	evs = json_object_get(res, "events");
	if (!evs)
		goto out;
	if (!json_is_array(evs)) {
		rc = fail(err, "\"events\" is not an array");
		goto out;
	}
	r->ev = calloc(json_array_size(evs) + 1, sizeof(*r->ev));
	if (!r->ev) {
		rc = -ENOMEM;
		goto out;
	}
	json_array_foreach(evs, i, e)
	{
		rc = parse_event(e, &r->ev[i], err);
		r->nev = i + 1;
		if (rc)
			goto out;
	}
out:
	if (rc)
		sg_etcd_watch_resp_free(r);
	json_decref(root);
	return rc;
}

/* ---------------------------------------------------------------- lines */

int sg_etcd_lines_feed(struct sg_etcd_lines *l, const char *data, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		char *b;

		while (cap < l->len + n + 1)
			cap *= 2;
		b = realloc(l->buf, cap);
		if (!b)
			return -ENOMEM;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, data, n);
	l->len += n;
	return 0;
}

char *sg_etcd_lines_next(struct sg_etcd_lines *l, size_t *len)
{
	char *nl, *line;
	size_t n;

	for (;;) {
		nl = l->len ? memchr(l->buf, '\n', l->len) : NULL;
		if (!nl)
			return NULL;
		n = (size_t)(nl - l->buf);
		/* "\r\n" ends a line too; blank lines carry nothing. */
		if (n && l->buf[n - 1] == '\r')
			n--;
		line = n ? strndup(l->buf, n) : NULL;
		l->len -= (size_t)(nl - l->buf) + 1;
		memmove(l->buf, nl + 1, l->len);
		if (line || n) {
			*len = n;
			return line;
		}
	}
}

void sg_etcd_lines_free(struct sg_etcd_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* ---------------------------------------------------------------- plans */

static int kv_cmp(const void *a, const void *b)
{
	const struct sg_kv *x = *(const struct sg_kv *const *)a;
	const struct sg_kv *y = *(const struct sg_kv *const *)b;

	return strcmp(x->key, y->key);
}

/* The entries of s as pointers sorted by key (strcmp: etcd's byte order). */
static const struct sg_kv **sorted(const struct sg_kvset *s)
{
	const struct sg_kv **v = calloc(s->n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		v[i] = &s->v[i];
	qsort(v, s->n, sizeof(*v), kv_cmp);
	return v;
}

static bool same_value(const struct sg_kv *a, const struct sg_kv *b)
{
	return a->len == b->len && !memcmp(a->value, b->value, a->len);
}

static void plan_add(struct sg_etcd_plan *p, const struct sg_kv *old,
		     const struct sg_kv *new)
{
	struct sg_etcd_cmp *c = &p->cmp[p->n];
	struct sg_etcd_op *o = &p->ops[p->n++];

	c->key = new ? new->key : old->key;
	c->mod_revision = old ? old->mod_revision : 0;
	o->key = c->key;
	if (new) {
		o->value = new->value;
		o->len = new->len;
		p->nput++;
	} else {
		o->del = true;
		p->ndel++;
	}
}

int sg_etcd_plan_state(const char *prefix, const struct sg_kvset *have,
		       const struct sg_kvset *want, struct sg_etcd_plan *p)
{
	const struct sg_kv **h = sorted(have), **w = sorted(want);
	size_t i = 0, j = 0, plen = strlen(prefix);
	char *status = NULL;
	int rc = -ENOMEM;

	memset(p, 0, sizeof(*p));
	if (asprintf(&status, "%sstatus/", prefix) < 0)
		status = NULL;
	p->cmp = calloc(have->n + want->n + 1, sizeof(*p->cmp));
	p->ops = calloc(have->n + want->n + 1, sizeof(*p->ops));
	if (!h || !w || !status || !p->cmp || !p->ops)
		goto out;
	while (i < have->n || j < want->n) {
		int d = i == have->n   ? 1
			: j == want->n ? -1
				       : strcmp(h[i]->key, w[j]->key);

		if (d < 0) {
			/* Only what push owns: the desired state's keys. */
			if (!strncmp(h[i]->key, prefix, plen) &&
			    strncmp(h[i]->key, status, strlen(status)))
				plan_add(p, h[i], NULL);
			i++;
		} else if (d > 0) {
			plan_add(p, NULL, w[j]);
			j++;
		} else {
			if (!same_value(h[i], w[j]))
				plan_add(p, h[i], w[j]);
			i++;
			j++;
		}
	}
	rc = 0;
out:
	if (rc)
		sg_etcd_plan_free(p);
	free(h);
	free(w);
	free(status);
	return rc;
}

void sg_etcd_plan_free(struct sg_etcd_plan *p)
{
	free(p->cmp);
	free(p->ops);
	memset(p, 0, sizeof(*p));
}
