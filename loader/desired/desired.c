// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The desired state as data (desired.h): the composed document of the
 * inputs turned into JSON, its text, and its keys in a key-value store.
 *
 * The conversion keeps every scalar's text and whether it is a YAML null,
 * the only two things the validator reads from a scalar (input/yaml.h).
 * So a scalar becomes a JSON number or boolean only when JSON writes it
 * back with the very same text ("22", "true"); "0x16", "True" or "007"
 * stay strings, which YAML reads as the same text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desired/desired.h"
#include "input/document.h"
#include "input/inputs.h"
#include "input/yaml.h"
#include "config/model.h"
#include "util/codes.h"

#define DEFAULT_VPC "vpc-default"
/* Nodes one conversion may produce (aliases can repeat a subtree). */
#define MAX_NODES (8u << 20)
#define MAX_DEPTH 128

static const char *const sections[] = {"prefix_lists", "security_groups",
				       "instances"};
static const char *const section_dirs[] = {"prefix-lists/", "groups/",
					   "instances/"};
#define NSECTIONS 3

/* Line shown before the JSON text when it is stored as a loaded config:
 * a plain-text blob starting with '{' would be taken for AWS JSON. */
#define BLOB_HEAD "# sgctl desired state (JSON, read as YAML)\n"

void sg_kvset_free(struct sg_kvset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].value);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

char *sg_desired_prefix(const char *vpc)
{
	char *s;

	if (asprintf(&s, "/sgctl/v1/%s/", vpc) < 0)
		return NULL;
	return s;
}

void sg_desired_free(struct sg_desired *d)
{
	if (!d)
		return;
	json_decref(d->doc);
	d->doc = NULL;
}

const char *sg_desired_vpc(const struct sg_desired *d)
{
	json_t *v = d && d->doc ? json_object_get(d->doc, "vpc") : NULL;

	return json_is_string(v) ? json_string_value(v) : DEFAULT_VPC;
}

/* ---- YAML document -> JSON ---- */

struct conv {
	yaml_document_t *doc;
	size_t nodes;
	bool too_big;
};

/* "-12", "0", "42": what json_integer prints back the same. */
static bool canonical_int(const char *s, size_t len, json_int_t *v)
{
	size_t i = s[0] == '-';

	if (len == i || len - i > 18)
		return false;
	if (s[i] == '0' && (len - i > 1 || i))
		return false; /* 007, -0 */
	for (size_t k = i; k < len; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	*v = (json_int_t)strtoll(s, NULL, 10);
	return true;
}

static json_t *scalar_json(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	json_int_t v;

	if (sg_yaml_is_null(n))
		return json_null();
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (!strcmp(s, "true"))
			return json_true();
		if (!strcmp(s, "false"))
			return json_false();
		if (canonical_int(s, len, &v))
			return json_integer(v);
	}
	return json_stringn(s, len);
}

static json_t *node_json(struct conv *c, int id, int depth)
{
	yaml_node_t *n = yaml_document_get_node(c->doc, id);
	json_t *j;

	if (!n)
		return NULL;
	if (++c->nodes > MAX_NODES || depth > MAX_DEPTH) {
		c->too_big = true;
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return scalar_json(n);
	case YAML_SEQUENCE_NODE:
		j = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     j && it < n->data.sequence.items.top; it++) {
			/* Appending may not move n: libyaml's nodes stay. */
			if (json_array_append_new(
				    j, node_json(c, *it, depth + 1))) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	case YAML_MAPPING_NODE:
		j = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     j && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
			const char *key = sg_yaml_scalar(k);

			/* Keys are text; twice the same is an error the
			 * validator reported before we get here. */
			if (!key || json_object_get(j, key) ||
			    json_object_set_new(
				    j, key,
				    node_json(c, p->value, depth + 1))) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	default:
		return NULL;
	}
}

int sg_desired_from_inputs(const struct sg_inputs *in, struct sg_desired *d,
			   struct sg_diag *diag)
{
	struct sg_config cfg;
	struct sg_diag scratch;
	struct sg_mdoc *m = NULL;
	struct conv c = {0};
	size_t errors = diag->nerrors;
	json_t *root;
	int rc;

	d->doc = NULL;
	/* Judged as load judges them, with its messages and places. */
	rc = sg_inputs_parse(in, &cfg, diag);
	if (!rc && diag->nerrors > errors)
		rc = -EINVAL;
	sg_config_free(&cfg);
	if (rc)
		return rc;

	/* The same document again, its diagnostics already told. */
	sg_diag_init(&scratch);
	rc = sg_inputs_compose(in, &scratch, &m);
	sg_diag_free(&scratch);
	if (rc)
		return rc;
	c.doc = sg_mdoc_document(m);
	root = yaml_document_get_root_node(c.doc) ? node_json(&c, 1, 0) : NULL;
	sg_mdoc_free(m);
	if (!json_is_object(root)) {
		json_decref(root);
		if (c.too_big) {
			sg_error(diag, (struct sg_pos){NULL, 0, 0}, SG_E_PARAM,
				 "the config is too large to keep as a desired "
				 "state (more than %u values or %d levels)",
				 MAX_NODES, MAX_DEPTH);
			return -EINVAL;
		}
		return -ENOMEM;
	}
	d->doc = root;
	return 0;
}

int sg_desired_from_blob(const char *blob, size_t len, struct sg_desired *d,
			 struct sg_diag *diag)
{
	struct sg_inputs in;
	int rc;

	d->doc = NULL;
	rc = sg_inputs_unpack(blob, len, &in);
	if (rc == -EUCLEAN) {
		sg_error(diag, (struct sg_pos){"(loaded config)", 0, 0}, NULL,
			 "the stored config is corrupt");
		return -EINVAL;
	}
	if (rc)
		return rc;
	rc = sg_desired_from_inputs(&in, d, diag);
	sg_inputs_free(&in);
	return rc;
}

char *sg_desired_text(const struct sg_desired *d, size_t *len)
{
	char *s = json_dumps(d->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *t;

	if (!s)
		return NULL;
	/* A final newline, as a text file has. */
	t = realloc(s, strlen(s) + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	strcat(t, "\n");
	if (len)
		*len = strlen(t);
	return t;
}

char *sg_desired_blob(const struct sg_desired *d, size_t *len)
{
	size_t tl, hl = strlen(BLOB_HEAD);
	char *text = sg_desired_text(d, &tl), *b;

	if (!text)
		return NULL;
	b = malloc(hl + tl + 1);
	if (b) {
		memcpy(b, BLOB_HEAD, hl);
		memcpy(b + hl, text, tl + 1);
		if (len)
			*len = hl + tl;
	}
	free(text);
	return b;
}

/* ---- Keys ---- */

static int kv_add(struct sg_kvset *out, size_t *cap, const char *prefix,
		  const char *dir, const char *id, json_t *value)
{
	struct sg_kv *kv;
	char *v;

	if (out->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;

		kv = realloc(out->v, nc * sizeof(*kv));
		if (!kv)
			return -ENOMEM;
		out->v = kv;
		*cap = nc;
	}
	v = json_dumps(value,
		       JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (!v)
		return -ENOMEM;
	kv = &out->v[out->n];
	memset(kv, 0, sizeof(*kv));
	if (asprintf(&kv->key, "%s%s%s", prefix, dir, id) < 0) {
		free(v);
		return -ENOMEM;
	}
	kv->value = v;
	kv->len = strlen(v);
	out->n++;
	return 0;
}

static int section_of(const char *key)
{
	for (int s = 0; s < NSECTIONS; s++)
		if (!strcmp(key, sections[s]))
			return s;
	return -1;
}

int sg_desired_to_kv(const struct sg_desired *d, const char *prefix,
		     struct sg_kvset *out)
{
	json_t *settings, *v, *sec;
	const char *k;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	settings = json_object();
	if (!settings)
		return -ENOMEM;
	/* The VPC is named in the prefix; its settings say it too. */
	rc = json_object_set_new(settings, "vpc",
				 json_string(sg_desired_vpc(d)))
		     ? -ENOMEM
		     : 0;
	json_object_foreach(d->doc, k, v)
	{
		if (!rc && section_of(k) < 0 && json_object_set(settings, k, v))
			rc = -ENOMEM;
	}
	if (!rc)
		rc = kv_add(out, &cap, prefix, "vpc", "", settings);
	json_decref(settings);
	for (int s = 0; s < NSECTIONS && !rc; s++) {
		sec = json_object_get(d->doc, sections[s]);
		if (!json_is_object(sec))
			continue;
		json_object_foreach(sec, k, v)
		{
			rc = kv_add(out, &cap, prefix, section_dirs[s], k, v);
			if (rc)
				break;
		}
	}
	if (rc)
		sg_kvset_free(out);
	return rc;
}

__attribute__((format(printf, 4, 5))) static void
key_error(struct sg_diag *diag, const char *key, const char *code,
	  const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg = NULL;
	sg_error(diag, (struct sg_pos){sg_diag_intern(diag, key), 0, 0}, code,
		 "%s", msg ? msg : "out of memory");
	free(msg);
}

int sg_desired_from_kv(const struct sg_kvset *kv, const char *prefix,
		       struct sg_desired *d, struct sg_diag *diag)
{
	size_t plen = strlen(prefix), errors = diag->nerrors;
	json_t *doc, *secs[NSECTIONS] = {NULL}, *settings = NULL;
	char vpcbuf[256];
	const char *vpc;
	int rc = 0;

	d->doc = NULL;
	/* The VPC the prefix names: "/sgctl/v1/VPC/". */
	vpc = plen > 11 ? prefix + 10 : "";
	snprintf(vpcbuf, sizeof(vpcbuf), "%.*s",
		 (int)(plen > 11 ? plen - 11 : 0), vpc);
	for (int s = 0; s < NSECTIONS; s++) {
		secs[s] = json_object();
		if (!secs[s])
			rc = -ENOMEM;
	}
	for (size_t i = 0; i < kv->n && !rc; i++) {
		const char *key = kv->v[i].key, *rest, *id = NULL;
		json_error_t jerr;
		json_t *v;
		int s = -1;

		if (strncmp(key, prefix, plen)) {
			key_error(diag, key, SG_E_PARAM, "not under %s",
				  prefix);
			continue;
		}
		rest = key + plen;
		if (!strncmp(rest, "status/", 7))
			continue; /* an agent's, not desired state */
		for (int k = 0; k < NSECTIONS && s < 0; k++)
			if (!strncmp(rest, section_dirs[k],
				     strlen(section_dirs[k]))) {
				s = k;
				id = rest + strlen(section_dirs[k]);
			}
		if (s < 0 && strcmp(rest, "vpc")) {
			key_error(diag, key, SG_E_PARAM,
				  "not a key of the desired state (expected "
				  "%svpc, %sgroups/ID, %sinstances/ID or "
				  "%sprefix-lists/ID)",
				  prefix, prefix, prefix, prefix);
			continue;
		}
		if (s >= 0 && (!*id || strchr(id, '/'))) {
			key_error(diag, key, SG_E_PARAM, "'%s' is not an id",
				  id);
			continue;
		}
		v = json_loadb(kv->v[i].value ? kv->v[i].value : "",
			       kv->v[i].value ? kv->v[i].len : 0,
			       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
		if (!v) {
			key_error(diag, key, SG_E_PARAM,
				  "the value is not JSON: %s (line %d, "
				  "column %d)",
				  jerr.text, jerr.line, jerr.column);
			continue;
		}
		if (s >= 0) {
			if (json_object_set_new(secs[s], id, v))
				rc = -ENOMEM;
			continue;
		}
		if (!json_is_object(v)) {
			key_error(diag, key, SG_E_PARAM,
				  "the VPC's settings must be a JSON object");
			json_decref(v);
			continue;
		}
		json_decref(settings);
		settings = v;
	}

	doc = rc ? NULL : json_object();
	if (!doc)
		rc = -ENOMEM;
	if (!rc && settings) {
		const char *k;
		json_t *v, *vv = json_object_get(settings, "vpc");

		char key[512];

		snprintf(key, sizeof(key), "%svpc", prefix);
		if (vv && (!json_is_string(vv) ||
			   strcmp(json_string_value(vv), vpcbuf)))
			key_error(diag, key, SG_E_PARAM,
				  "the settings name another VPC than the "
				  "key's (%s)",
				  vpcbuf);
		json_object_foreach(settings, k, v)
		{
			if (section_of(k) >= 0) {
				key_error(diag, key, SG_E_PARAM,
					  "%s belong under their own keys, not "
					  "in the VPC's settings",
					  k);
			} else if (json_object_set(doc, k, v)) {
				rc = -ENOMEM;
			}
		}
	}
	if (!rc && !json_object_get(doc, "vpc") && vpcbuf[0] &&
	    strcmp(vpcbuf, DEFAULT_VPC))
		rc = json_object_set_new(doc, "vpc", json_string(vpcbuf))
			     ? -ENOMEM
			     : 0;
	for (int s = 0; s < NSECTIONS && !rc; s++)
		if (json_object_size(secs[s]) &&
		    json_object_set(doc, sections[s], secs[s]))
			rc = -ENOMEM;
	for (int s = 0; s < NSECTIONS; s++)
		json_decref(secs[s]);
	json_decref(settings);
	if (!rc && diag->nerrors > errors)
		rc = -EINVAL;
	if (rc) {
		json_decref(doc);
		return rc;
	}
	d->doc = doc;
	return 0;
}
