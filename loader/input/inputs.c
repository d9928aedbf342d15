// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Several inputs, one config (see inputs.h).
 *
 * The composed document has the shape of one YAML config: a root mapping
 * with vpc, region and account (all inputs must agree) and one merged
 * mapping per section (prefix_lists, security_groups, instances) holding
 * the entries of every input. YAML inputs are copied node by node with
 * their marks; aws.c adds JSON inputs. A table records, per node, which
 * input it came from and, for JSON, its path. config.c then validates the
 * whole as one file, so a group defined twice, an address used by two
 * instances or a reference to a group of another file are judged exactly
 * as within one YAML file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "input/aws.h"
#include "config/config_internal.h"
#include "input/inputs.h"

#define ARCHIVE_MAGIC "sgctl-inputs 1\n"

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

/* ---- Reading ---- */

static int read_all(FILE *f, char **text, size_t *len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL, *nb;
	struct stat st;

	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode))
		return -EISDIR;
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SG_INPUT_MAX_SIZE + 1)
				cap = SG_INPUT_MAX_SIZE + 1;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > SG_INPUT_MAX_SIZE) {
			free(buf);
			return -EFBIG;
		}
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				return -EIO;
			}
			break;
		}
	}
	if (!buf)
		buf = malloc(1);
	if (!buf)
		return -ENOMEM;
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int sg_inputs_read(const char *const *paths, size_t n, struct sg_inputs *in,
		   struct sg_diag *diag)
{
	bool had_stdin = false;
	int rc = 0;

	memset(in, 0, sizeof(*in));
	in->files = calloc(n ? n : 1, sizeof(*in->files));
	if (!in->files)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool use_stdin = !strcmp(paths[i], "-");
		struct sg_input *f = &in->files[in->n];
		const char *name = use_stdin ? "<stdin>" : paths[i];
		struct sg_pos pos = {sg_diag_intern(diag, name), 0, 0};
		FILE *fp;
		int err;

		if (use_stdin && had_stdin) {
			sg_error(diag, pos, NULL,
				 "stdin can be read only once");
			rc = -EINVAL;
			continue;
		}
		had_stdin |= use_stdin;
		fp = use_stdin ? stdin : fopen(paths[i], "rb");
		if (!fp) {
			err = -errno;
		} else {
			err = read_all(fp, &f->text, &f->len);
			if (!use_stdin)
				fclose(fp);
		}
		if (err == -EFBIG) {
			sg_error(diag, pos, NULL, "larger than %u MiB",
				 SG_INPUT_MAX_SIZE >> 20);
		} else if (err) {
			sg_error(diag, pos, NULL, "%s", strerror(-err));
		} else {
			f->name = strdup(name);
			if (!f->name) {
				free(f->text);
				err = -ENOMEM;
			} else {
				in->n++;
			}
		}
		if (err && !rc)
			rc = err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	if (rc)
		sg_inputs_free(in);
	return rc;
}

void sg_inputs_free(struct sg_inputs *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++) {
		free(in->files[i].name);
		free(in->files[i].text);
	}
	free(in->files);
	memset(in, 0, sizeof(*in));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

bool sg_input_is_json(const char *name, const char *text, size_t len)
{
	size_t i = 0;

	if (name && ends_with(name, ".json"))
		return true;
	if (name && (ends_with(name, ".yaml") || ends_with(name, ".yml")))
		return false;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\n' || text[i] == '\r'))
		i++;
	return i < len && (text[i] == '{' || text[i] == '[');
}

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

static struct sg_pos origin_pos(void *arg, const yaml_node_t *n)
{
	struct sg_mdoc *m = arg;

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
	yaml_node_t *n = yaml_document_get_node(&m->doc, id);

	return n && n->type == YAML_SCALAR_NODE
		       ? (const char *)n->data.scalar.value
		       : NULL;
}

/* "line 4" in the same file, "a.yaml:4" or "sgs.json: X.VpcId" elsewhere. */
static void where(struct sg_mdoc *m, int at, int ref, char *buf, size_t len)
{
	struct sg_pos a = node_pos(m, at), r = node_pos(m, ref);

	if (r.line > 0 && a.file == r.file)
		snprintf(buf, len, "line %d", r.line);
	else if (r.line > 0)
		snprintf(buf, len, "%s:%d", r.file, r.line);
	else
		snprintf(buf, len, "%s", r.file);
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
	/* Twice in one YAML file: config.c reports the duplicate key. */
	if (s->input == input && !m->json[input])
		return sg_mdoc_put(m, m->root, key, value);
	a = node_scalar(m, s->node);
	b = node_scalar(m, value);
	if (a && b && !strcmp(a, b))
		return true;
	if (!a || !b) /* not a string: config.c says so */
		return s->input == input ? true
					 : sg_mdoc_put(m, m->root, key, value);
	where(m, value, s->node, buf, sizeof(buf));
	sg_error(m->diag, node_pos(m, value), "InvalidParameterValue",
		 "all inputs must be in one %s%s: this one says %s, %s says %s",
		 what,
		 !strcmp(key, "account")
			 ? " (cross-account/peering references are not "
			   "supported)"
			 : "",
		 b, buf, a);
	return true;
}

bool sg_mdoc_has_prefix_list(struct sg_mdoc *m, const char *id)
{
	yaml_node_t *sec;
	yaml_node_pair_t *p;

	if (!m->sec[SG_SEC_PREFIX_LISTS])
		return false;
	sec = yaml_document_get_node(&m->doc, m->sec[SG_SEC_PREFIX_LISTS]);
	for (p = sec->data.mapping.pairs.start; p < sec->data.mapping.pairs.top;
	     p++) {
		const char *k = node_scalar(m, p->key);

		if (k && !strcmp(k, id))
			return true;
	}
	return false;
}

static const char *node_kind(const yaml_node_t *n)
{
	const char *s;

	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		s = (const char *)n->data.scalar.value;
		return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				       (!*s || !strcmp(s, "~") ||
					!strcasecmp(s, "null"))
			       ? "empty"
			       : "a scalar";
	}
}

static bool is_null(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && !strcmp(node_kind(n), "empty");
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

static void add_yaml(struct sg_mdoc *m, size_t input, const char *text,
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
		return;
	}
	rid = copy_doc(m, &doc, (int)input);
	yaml_document_delete(&doc);
	if (rid <= 0) /* empty file, or out of memory */
		return;
	root = yaml_document_get_node(&m->doc, rid);
	if (is_null(root))
		return;
	if (root->type != YAML_MAPPING_NODE) {
		sg_error(m->diag, node_pos(m, rid), "InvalidParameterValue",
			 "the config (vpc, security_groups, instances, ...) "
			 "must be a mapping, not %s",
			 node_kind(root));
		return;
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
			if (is_null(v))
				break;
			if (v->type != YAML_MAPPING_NODE) {
				sg_error(m->diag, node_pos(m, p.value),
					 "InvalidParameterValue",
					 "%s must be a mapping, not %s", k,
					 node_kind(v));
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
		/* Anything else: config.c names the unknown key. */
		if (!done)
			sg_mdoc_pair(m, m->root, p.key, p.value);
	}
}

static void mdoc_free(struct sg_mdoc *m)
{
	for (size_t i = 0; i < m->norig; i++)
		free(m->orig[i].path);
	free(m->orig);
	free(m->names);
	free(m->json);
	yaml_document_delete(&m->doc);
}

/* Stable: the inputs in order, each in line order. */
static int rank_of(struct sg_mdoc *m, const char *file)
{
	for (size_t i = 0; file && i < m->ninputs; i++) {
		size_t l = strlen(m->names[i]);

		if (file == m->names[i] ||
		    (!strncmp(file, m->names[i], l) &&
		     (!file[l] || (file[l] == ':' && file[l + 1] == ' '))))
			return (int)i;
	}
	return (int)m->ninputs;
}

struct dkey {
	int rank, line, col;
	size_t i;
};

static int dkey_cmp(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void sort_diag(struct sg_mdoc *m, size_t start)
{
	struct sg_diag *d = m->diag;
	size_t n = d->nentries - start;
	struct sg_diag_entry *tmp;
	struct dkey *k;

	if (n < 2)
		return;
	k = calloc(n, sizeof(*k));
	tmp = calloc(n, sizeof(*tmp));
	if (k && tmp) {
		for (size_t i = 0; i < n; i++) {
			const struct sg_pos *p = &d->entries[start + i].pos;

			k[i].rank = rank_of(m, p->file);
			k[i].line = p->line;
			k[i].col = p->col;
			k[i].i = i;
		}
		qsort(k, n, sizeof(*k), dkey_cmp);
		for (size_t i = 0; i < n; i++)
			tmp[i] = d->entries[start + k[i].i];
		memcpy(d->entries + start, tmp, n * sizeof(*tmp));
	}
	free(k);
	free(tmp);
}

int sg_inputs_parse(const struct sg_inputs *in, struct sg_config *cfg,
		    struct sg_diag *diag)
{
	struct sg_doc_origin origin;
	size_t start = diag->nentries, errors = diag->nerrors;
	struct sg_mdoc m;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	/* One YAML file: the validator's own path, byte for byte. */
	if (in->n == 1 &&
	    !sg_input_is_json(in->files[0].name, in->files[0].text,
			      in->files[0].len))
		return sg_config_parse_string(
			sg_diag_intern(diag, in->files[0].name),
			in->files[0].text, in->files[0].len, cfg, diag);

	memset(&m, 0, sizeof(m));
	m.diag = diag;
	m.ninputs = in->n;
	m.names = calloc(in->n + 1, sizeof(*m.names));
	m.json = calloc(in->n + 1, sizeof(*m.json));
	if (!m.names || !m.json ||
	    !yaml_document_initialize(&m.doc, NULL, NULL, NULL, 1, 1)) {
		free(m.names);
		free(m.json);
		return -ENOMEM;
	}
	for (size_t i = 0; i < in->n; i++) {
		m.names[i] = sg_diag_intern(diag, in->files[i].name);
		m.json[i] = sg_input_is_json(
			in->files[i].name, in->files[i].text, in->files[i].len);
		if (!m.names[i])
			m.oom = true;
	}
	m.root = sg_mdoc_mapping(&m, NULL, NULL);
	/* YAML first: JSON rules may name the prefix lists it defines. */
	for (size_t i = 0; i < in->n && !m.oom; i++)
		if (!m.json[i])
			add_yaml(&m, i, in->files[i].text, in->files[i].len);
	for (size_t i = 0; i < in->n && !m.oom; i++)
		if (m.json[i] &&
		    sg_aws_add(&m, i, m.names[i], in->files[i].text,
			       in->files[i].len))
			m.oom = true;
	if (m.oom) {
		mdoc_free(&m);
		return -ENOMEM;
	}
	origin.pos = origin_pos;
	origin.arg = &m;
	rc = sg_config_parse_doc(&m.doc, m.names[0], &origin, cfg, diag);
	sort_diag(&m, start);
	mdoc_free(&m);
	if (rc == -ENOMEM)
		return rc;
	if (diag->nerrors > errors) {
		sg_config_free(cfg);
		return -EINVAL;
	}
	return rc;
}

int sg_config_parse_files(const char *const *paths, size_t n,
			  struct sg_config *cfg, struct sg_diag *diag)
{
	struct sg_inputs in;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = sg_inputs_read(paths, n, &in, diag);
	if (rc)
		return rc;
	rc = sg_inputs_parse(&in, cfg, diag);
	sg_inputs_free(&in);
	return rc;
}

/* ---- The stored form ---- */

int sg_inputs_pack(const struct sg_inputs *in, char **blob, size_t *len)
{
	size_t size = sizeof(ARCHIVE_MAGIC) - 1, off;
	char *b;

	if (in->n == 1 &&
	    !sg_input_is_json(in->files[0].name, in->files[0].text,
			      in->files[0].len)) {
		b = malloc(in->files[0].len + 1);
		if (!b)
			return -ENOMEM;
		memcpy(b, in->files[0].text, in->files[0].len);
		b[in->files[0].len] = '\0';
		*blob = b;
		*len = in->files[0].len;
		return 0;
	}
	for (size_t i = 0; i < in->n; i++)
		size += 48 + strlen(in->files[i].name) + in->files[i].len;
	b = malloc(size + 1);
	if (!b)
		return -ENOMEM;
	off = (size_t)sprintf(b, "%s", ARCHIVE_MAGIC);
	for (size_t i = 0; i < in->n; i++) {
		const struct sg_input *f = &in->files[i];
		size_t nl = strlen(f->name);

		off += (size_t)sprintf(b + off, "%zu %zu\n", nl, f->len);
		memcpy(b + off, f->name, nl);
		off += nl;
		memcpy(b + off, f->text, f->len);
		off += f->len;
		b[off++] = '\n';
	}
	b[off] = '\0';
	*blob = b;
	*len = off;
	return 0;
}

static bool take_size(const char **p, const char *end, char stop, size_t *v)
{
	size_t x = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (SIZE_MAX - 9) / 10)
			return false;
		x = x * 10 + (size_t)(*s - '0');
	}
	if (s >= end || *s != stop)
		return false;
	*p = s + 1;
	*v = x;
	return true;
}

bool sg_inputs_is_archive(const char *blob, size_t len)
{
	const size_t ml = sizeof(ARCHIVE_MAGIC) - 1;

	return len >= ml && !memcmp(blob, ARCHIVE_MAGIC, ml);
}

int sg_inputs_unpack(const char *blob, size_t len, struct sg_inputs *in)
{
	const size_t ml = sizeof(ARCHIVE_MAGIC) - 1;
	const char *p = blob, *end = blob + len;
	size_t cap = 0;

	memset(in, 0, sizeof(*in));
	if (!sg_inputs_is_archive(blob, len)) {
		in->files = calloc(1, sizeof(*in->files));
		if (!in->files)
			return -ENOMEM;
		in->files[0].name = strdup("(loaded config)");
		in->files[0].text = malloc(len + 1);
		if (!in->files[0].name || !in->files[0].text) {
			free(in->files[0].name);
			free(in->files[0].text);
			free(in->files);
			in->files = NULL;
			return -ENOMEM;
		}
		memcpy(in->files[0].text, blob, len);
		in->files[0].text[len] = '\0';
		in->files[0].len = len;
		in->n = 1;
		return 0;
	}
	p += ml;
	while (p < end) {
		size_t nl, dl;
		struct sg_input *f;

		if (!take_size(&p, end, ' ', &nl) ||
		    !take_size(&p, end, '\n', &dl) || (size_t)(end - p) < nl ||
		    (size_t)(end - p) - nl < dl + 1 || p[nl + dl] != '\n')
			goto corrupt;
		if (in->n == cap) {
			struct sg_input *nf;

			cap = cap ? cap * 2 : 4;
			nf = realloc(in->files, cap * sizeof(*nf));
			if (!nf)
				goto oom;
			in->files = nf;
		}
		f = &in->files[in->n];
		f->name = strndup(p, nl);
		f->text = malloc(dl + 1);
		if (!f->name || !f->text) {
			free(f->name);
			free(f->text);
			goto oom;
		}
		memcpy(f->text, p + nl, dl);
		f->text[dl] = '\0';
		f->len = dl;
		in->n++;
		p += nl + dl + 1;
	}
	if (!in->n)
		goto corrupt;
	return 0;
corrupt:
	sg_inputs_free(in);
	return -EUCLEAN;
oom:
	sg_inputs_free(in);
	return -ENOMEM;
}

int sg_config_parse_blob(const char *blob, size_t len, struct sg_config *cfg,
			 struct sg_diag *diag)
{
	struct sg_inputs in;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = sg_inputs_unpack(blob, len, &in);
	if (rc == -EUCLEAN)
		sg_error(diag, (struct sg_pos){"(loaded config)", 0, 0}, NULL,
			 "the stored config is corrupt");
	if (rc)
		return rc == -EUCLEAN ? -EINVAL : rc;
	rc = sg_inputs_parse(&in, cfg, diag);
	sg_inputs_free(&in);
	return rc;
}
