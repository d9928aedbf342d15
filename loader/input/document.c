// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The composed document (see document.h): the shape of one YAML config, a
 * root mapping with vpc, region and account (all inputs must agree) and
 * one merged mapping per section (prefix_lists, security_groups,
 * instances) holding the entries of every input. YAML inputs are copied
 * node by node with their marks; aws.c adds JSON inputs. A table records,
 * per node, which input it came from and, for JSON, its path. The
 * validator then judges the whole as one file, so a group defined twice,
 * an address used by two instances or a reference to a group of another
 * file are judged exactly as within one YAML file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/codes.h"
#include "input/document.h"
#include "input/yaml.h"

static const char *const section_keys[SG_NSECTIONS] = {
	"prefix_lists",
	"security_groups",
	"instances",
};

static const char *const setting_keys[] = {"vpc", "region", "account"};
#define NSETTINGS (sizeof(setting_keys) / sizeof(setting_keys[0]))

struct origin {
	int input;  /* -1: made up by the merge (root, sections, keys) */
	char *path; /* JSON path; NULL for YAML */
	const char *pos_file; /* "FILE: PATH", interned on first use */
};

struct setting {
	int node; /* 0: not set yet */
	size_t input;
};

struct sg_mdoc {
	yaml_document_t doc;
	struct sg_diag *diag;
	const char **names; /* per input, interned */
	bool *json;	    /* per input */
	size_t ninputs;
	struct origin *orig; /* per node, index = id - 1 */
	size_t norig, origcap;
	int root;
	int sec[SG_NSECTIONS];
	struct setting set[NSETTINGS];
	bool oom;
};

/* ---- The composed document ---- */

static bool track(struct sg_mdoc *m, int id, int input, const char *path)
{
	struct origin *o;

	if (!id) {
		m->oom = true;
		return false;
	}
	if ((size_t)id > m->origcap) {
		size_t cap = m->origcap ? m->origcap * 2 : 256;

		while (cap < (size_t)id)
			cap *= 2;
		o = realloc(m->orig, cap * sizeof(*o));
		if (!o) {
			m->oom = true;
			return false;
		}
		m->orig = o;
		m->origcap = cap;
	}
	while (m->norig < (size_t)id)
		memset(&m->orig[m->norig++], 0, sizeof(*o));
	o = &m->orig[id - 1];
	o->input = input;
	o->pos_file = NULL;
	o->path = path ? strdup(path) : NULL;
	if (path && !o->path) {
		m->oom = true;
		return false;
	}
	return true;
}

static int input_of(struct sg_mdoc *m, const char *file)
{
	for (size_t i = 0; i < m->ninputs; i++)
		if (file && !strcmp(file, m->names[i]))
			return (int)i;
	return -1;
}

struct sg_pos sg_mdoc_json_pos(struct sg_mdoc *m, const char *file,
			       const char *path)
{
	struct sg_pos p = {file, 0, 0};
	char *s;

	if (path && *path && asprintf(&s, "%s: %s", file, path) >= 0) {
		p.file = sg_diag_intern(m->diag, s);
		free(s);
		if (!p.file)
			p.file = file;
	}
	return p;
}

struct sg_diag *sg_mdoc_diag(struct sg_mdoc *m)
{
	return m->diag;
}

static struct sg_pos node_pos(struct sg_mdoc *m, int id)
{
	struct sg_pos p = {m->ninputs ? m->names[0] : "<inputs>", 0, 0};
	const yaml_node_t *n;
	struct origin *o;

	if (id <= 0 || (size_t)id > m->norig)
		return p;
	o = &m->orig[id - 1];
	if (o->input < 0)
		return p;
	p.file = m->names[o->input];
	if (o->path) {
		if (!o->pos_file)
			o->pos_file = sg_mdoc_json_pos(m, p.file, o->path).file;
		p.file = o->pos_file;
		return p;
	}
	n = yaml_document_get_node(&m->doc, id);
	p.line = (int)n->start_mark.line + 1;
	p.col = (int)n->start_mark.column + 1;
	return p;
}

struct sg_pos sg_mdoc_node_pos(struct sg_mdoc *m, const yaml_node_t *n)
{
	return node_pos(m, (int)(n - m->doc.nodes.start) + 1);
}

int sg_mdoc_scalar(struct sg_mdoc *m, const char *value, bool quoted,
		   const char *file, const char *path)
{
	int id = yaml_document_add_scalar(
		&m->doc, NULL, (yaml_char_t *)value, (int)strlen(value),
		quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
		       : YAML_PLAIN_SCALAR_STYLE);

	return track(m, id, file ? input_of(m, file) : -1, path) ? id : 0;
}

int sg_mdoc_mapping(struct sg_mdoc *m, const char *file, const char *path)
{
	int id = yaml_document_add_mapping(&m->doc, NULL,
					   YAML_BLOCK_MAPPING_STYLE);

	return track(m, id, file ? input_of(m, file) : -1, path) ? id : 0;
}

int sg_mdoc_sequence(struct sg_mdoc *m, const char *file, const char *path)
{
	int id = yaml_document_add_sequence(&m->doc, NULL,
					    YAML_BLOCK_SEQUENCE_STYLE);

	return track(m, id, file ? input_of(m, file) : -1, path) ? id : 0;
}

bool sg_mdoc_pair(struct sg_mdoc *m, int map, int key, int value)
{
	if (!map || !key || !value ||
	    !yaml_document_append_mapping_pair(&m->doc, map, key, value)) {
		m->oom = true;
		return false;
	}
	return true;
}

bool sg_mdoc_append(struct sg_mdoc *m, int seq, int item)
{
	if (!seq || !item ||
	    !yaml_document_append_sequence_item(&m->doc, seq, item)) {
		m->oom = true;
		return false;
	}
	return true;
}

bool sg_mdoc_put(struct sg_mdoc *m, int map, const char *key, int value)
{
	int input, k;
	char *path;
	bool ok;

	if (!value)
		return false;
	/* The key sits where its value does. */
	input = m->orig[value - 1].input;
	path = m->orig[value - 1].path;
	k = yaml_document_add_scalar(&m->doc, NULL, (yaml_char_t *)key,
				     (int)strlen(key), YAML_PLAIN_SCALAR_STYLE);
	/* track() may move m->orig, not the path string it copies. */
	ok = track(m, k, input, path);
	if (!ok)
		return false;
	if (!path && input >= 0) {
		yaml_node_t *kn = yaml_document_get_node(&m->doc, k);
		yaml_node_t *vn = yaml_document_get_node(&m->doc, value);

		kn->start_mark = kn->end_mark = vn->start_mark;
	}
	return sg_mdoc_pair(m, map, k, value);
}

int sg_mdoc_section(struct sg_mdoc *m, enum sg_section s)
{
	if (!m->sec[s]) {
		int map = sg_mdoc_mapping(m, NULL, NULL);

		if (map && sg_mdoc_put(m, m->root, section_keys[s], map))
			m->sec[s] = map;
	}
	return m->sec[s];
}

static const char *node_scalar(struct sg_mdoc *m, int id)
{
	return sg_yaml_scalar(yaml_document_get_node(&m->doc, id));
}

bool sg_mdoc_setting(struct sg_mdoc *m, const char *key, int value,
		     size_t input, const char *what)
{
	struct setting *s = NULL;
	const char *a, *b;
	char buf[600];

	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(key, setting_keys[i]))
			s = &m->set[i];
	if (!s || !value)
		return false;
	if (!s->node) {
		s->node = value;
		s->input = input;
		return sg_mdoc_put(m, m->root, key, value);
	}
	/* Twice in one YAML file: the validator reports the duplicate key. */
	if (s->input == input && !m->json[input])
		return sg_mdoc_put(m, m->root, key, value);
	a = node_scalar(m, s->node);
	b = node_scalar(m, value);
	if (a && b && !strcmp(a, b))
		return true;
	if (!a || !b) /* not a string: the validator says so */
		return s->input == input ? true
					 : sg_mdoc_put(m, m->root, key, value);
	sg_pos_where(node_pos(m, value), node_pos(m, s->node), buf,
		     sizeof(buf));
	sg_error(m->diag, node_pos(m, value), SG_E_PARAM,
		 "all inputs must be in one %s%s: this one says %s, %s says %s",
		 what,
		 !strcmp(key, "account")
			 ? " (a rule may name another account's group; "
			   "it then matches none of its members)"
			 : "",
		 b, buf, a);
	return true;
}

static bool section_has(struct sg_mdoc *m, enum sg_section s, const char *id)
{
	yaml_node_t *sec;
	yaml_node_pair_t *p;

	if (!m->sec[s])
		return false;
	sec = yaml_document_get_node(&m->doc, m->sec[s]);
	for (p = sec->data.mapping.pairs.start; p < sec->data.mapping.pairs.top;
	     p++) {
		const char *k = node_scalar(m, p->key);

		if (k && !strcmp(k, id))
			return true;
	}
	return false;
}

bool sg_mdoc_has_prefix_list(struct sg_mdoc *m, const char *id)
{
	return section_has(m, SG_SEC_PREFIX_LISTS, id);
}

bool sg_mdoc_has_group(struct sg_mdoc *m, const char *id)
{
	return section_has(m, SG_SEC_GROUPS, id);
}

/* Copies every node of src (ids shift by base); returns src's root id. */
static int copy_doc(struct sg_mdoc *m, yaml_document_t *src, int input)
{
	int base = (int)(m->doc.nodes.top - m->doc.nodes.start);
	yaml_node_t *n;
	int id;

	for (n = src->nodes.start; n < src->nodes.top; n++) {
		switch (n->type) {
		case YAML_SCALAR_NODE:
			id = yaml_document_add_scalar(
				&m->doc, n->tag, n->data.scalar.value,
				(int)n->data.scalar.length,
				n->data.scalar.style);
			break;
		case YAML_SEQUENCE_NODE:
			id = yaml_document_add_sequence(&m->doc, n->tag,
							n->data.sequence.style);
			break;
		case YAML_MAPPING_NODE:
			id = yaml_document_add_mapping(&m->doc, n->tag,
						       n->data.mapping.style);
			break;
		default:
			id = 0;
		}
		if (!track(m, id, input, NULL))
			return 0;
		m->doc.nodes.start[id - 1].start_mark = n->start_mark;
		m->doc.nodes.start[id - 1].end_mark = n->end_mark;
	}
	for (n = src->nodes.start; n < src->nodes.top; n++) {
		int self = base + (int)(n - src->nodes.start) + 1;

		if (n->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it =
				     n->data.sequence.items.start;
			     it < n->data.sequence.items.top; it++)
				if (!yaml_document_append_sequence_item(
					    &m->doc, self, base + *it))
					goto oom;
		} else if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++)
				if (!yaml_document_append_mapping_pair(
					    &m->doc, self, base + p->key,
					    base + p->value))
					goto oom;
		}
	}
	return src->nodes.top > src->nodes.start ? base + 1 : -1;
oom:
	m->oom = true;
	return 0;
}

int sg_mdoc_add_yaml(struct sg_mdoc *m, size_t input, const char *text,
		     size_t len)
{
	yaml_document_t doc;
	yaml_node_t *root;
	int rid, rc;
	size_t npairs;

	rc = sg_yaml_load(m->names[input], text, len, &doc, m->diag);
	if (rc) {
		/* -EINVAL: reported, and nothing of this file to add. */
		if (rc == -ENOMEM)
			m->oom = true;
		return m->oom ? -ENOMEM : 0;
	}
	rid = copy_doc(m, &doc, (int)input);
	yaml_document_delete(&doc);
	if (rid <= 0) /* empty file, or out of memory */
		return m->oom ? -ENOMEM : 0;
	root = yaml_document_get_node(&m->doc, rid);
	if (sg_yaml_is_null(root))
		return m->oom ? -ENOMEM : 0;
	if (root->type != YAML_MAPPING_NODE) {
		sg_error(m->diag, node_pos(m, rid), SG_E_PARAM,
			 "the config (vpc, security_groups, instances, ...) "
			 "must be a mapping, not %s",
			 sg_yaml_node_kind(root));
		return m->oom ? -ENOMEM : 0;
	}
	/* Appending to m->doc may move nodes: index, not pointers. */
	npairs = (size_t)(root->data.mapping.pairs.top -
			  root->data.mapping.pairs.start);
	for (size_t i = 0; i < npairs && !m->oom; i++) {
		yaml_node_pair_t p = yaml_document_get_node(&m->doc, rid)
					     ->data.mapping.pairs.start[i];
		yaml_node_t *v = yaml_document_get_node(&m->doc, p.value);
		const char *k = node_scalar(m, p.key);
		size_t s, nsub;
		bool done = false;

		for (s = 0; k && s < SG_NSECTIONS && !done; s++) {
			if (strcmp(k, section_keys[s]))
				continue;
			done = true;
			if (sg_yaml_is_null(v))
				break;
			if (v->type != YAML_MAPPING_NODE) {
				sg_error(m->diag, node_pos(m, p.value),
					 SG_E_PARAM,
					 "%s must be a mapping, not %s", k,
					 sg_yaml_node_kind(v));
				break;
			}
			nsub = (size_t)(v->data.mapping.pairs.top -
					v->data.mapping.pairs.start);
			for (size_t j = 0; j < nsub && !m->oom; j++) {
				yaml_node_pair_t q =
					yaml_document_get_node(&m->doc, p.value)
						->data.mapping.pairs.start[j];

				sg_mdoc_pair(m, sg_mdoc_section(m, s), q.key,
					     q.value);
			}
		}
		for (s = 0; k && s < NSETTINGS && !done; s++) {
			if (strcmp(k, setting_keys[s]))
				continue;
			done = true;
			sg_mdoc_setting(m, k, p.value, input,
					s == 0	 ? "VPC"
					: s == 1 ? "region"
						 : "account");
		}
		/* Anything else: the validator names the unknown key. */
		if (!done)
			sg_mdoc_pair(m, m->root, p.key, p.value);
	}
	return m->oom ? -ENOMEM : 0;
}

struct sg_mdoc *sg_mdoc_new(struct sg_diag *diag, size_t ninputs)
{
	struct sg_mdoc *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->diag = diag;
	m->ninputs = ninputs;
	m->names = calloc(ninputs + 1, sizeof(*m->names));
	m->json = calloc(ninputs + 1, sizeof(*m->json));
	if (!m->names || !m->json ||
	    !yaml_document_initialize(&m->doc, NULL, NULL, NULL, 1, 1)) {
		free(m->names);
		free(m->json);
		free(m);
		return NULL;
	}
	m->root = sg_mdoc_mapping(m, NULL, NULL);
	if (!m->root) {
		sg_mdoc_free(m);
		return NULL;
	}
	return m;
}

bool sg_mdoc_set_input(struct sg_mdoc *m, size_t input, const char *name,
		       bool json)
{
	m->names[input] = sg_diag_intern(m->diag, name);
	m->json[input] = json;
	if (!m->names[input])
		m->oom = true;
	return !m->oom;
}

int sg_mdoc_status(const struct sg_mdoc *m)
{
	return m->oom ? -ENOMEM : 0;
}

yaml_document_t *sg_mdoc_document(struct sg_mdoc *m)
{
	return &m->doc;
}

const char *sg_mdoc_input_name(const struct sg_mdoc *m, size_t input)
{
	return input < m->ninputs ? m->names[input] : NULL;
}

void sg_mdoc_sort_diag(struct sg_mdoc *m, size_t start)
{
	sg_diag_sort(m->diag, start, m->names, m->ninputs);
}

void sg_mdoc_free(struct sg_mdoc *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->norig; i++)
		free(m->orig[i].path);
	free(m->orig);
	free(m->names);
	free(m->json);
	yaml_document_delete(&m->doc);
	free(m);
}

/*
 * How a message at "at" names the earlier place "ref": "line 4" in the same
 * file, "other.yaml:4" in another, "sgs.json: SecurityGroups[0].GroupId"
 * for JSON (no lines).
 */
const char *sg_pos_where(struct sg_pos at, struct sg_pos ref, char *buf,
			 size_t len)
{
	if (ref.line > 0 &&
	    (!at.file || !ref.file || !strcmp(at.file, ref.file)))
		snprintf(buf, len, "line %d", ref.line);
	else if (ref.line > 0)
		snprintf(buf, len, "%s:%d", ref.file, ref.line);
	else
		snprintf(buf, len, "%s", ref.file ? ref.file : "?");
	return buf;
}
