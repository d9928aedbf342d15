// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * YAML text into a libyaml document (see yaml.h). libyaml composes the
 * whole document into nodes that carry their place in the text; before it
 * runs, the text is checked for what libyaml reports badly (invalid UTF-8,
 * NUL) or handles too slowly (deeply nested flow collections).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "input/yaml.h"

/* One text being loaded: where its problems are reported. */
struct text {
	struct sg_diag *diag;
	const char *file; /* interned */
	const unsigned char *text;
	size_t len;
};

/* ---- Nodes ---- */

const char *sg_yaml_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		       ? (const char *)n->data.scalar.value
		       : NULL;
}

bool sg_yaml_is_null(const yaml_node_t *n)
{
	const char *s = sg_yaml_scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

const char *sg_yaml_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return sg_yaml_is_null(n) ? "empty" : "a scalar";
	}
}

/* ---- Loading ---- */

/* Line and column (in characters) of a byte offset. */
static struct sg_pos offset_pos(struct text *c, size_t off)
{
	struct sg_pos p = {c->file, 1, 1};
	size_t i;

	for (i = 0; i < off && i < c->len; i++) {
		if (c->text[i] == '\n') {
			p.line++;
			p.col = 1;
		} else if ((c->text[i] & 0xc0) != 0x80) {
			p.col++;
		}
	}
	return p;
}

/*
 * libyaml's scanner is quadratic in the nesting of flow collections: a
 * file of 400000 '[' keeps it busy for many minutes. No config nests more
 * than a few levels, so deeper nesting is refused before libyaml sees it.
 * A bracket counts only where a flow collection may start (line start,
 * after "- ", ": ", ',', '[' or '{'); quoted scalars and comments are
 * skipped, so brackets in text are not counted.
 */
#define SG_YAML_MAX_FLOW_DEPTH 64

static bool check_flow_depth(struct text *c)
{
	const unsigned char *t = c->text;
	int depth = 0, line = 1, col = 0;
	bool token_start = true; /* a value or flow node may start here */
	size_t i;

	for (i = 0; i < c->len; i++, col++) {
		unsigned char ch = t[i];

		if (ch == '\n') {
			line++;
			col = -1;
			token_start = true;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r')
			continue;
		if (ch == '#' && (i == 0 || t[i - 1] == ' ' ||
				  t[i - 1] == '\t' || t[i - 1] == '\n')) {
			while (i + 1 < c->len && t[i + 1] != '\n')
				i++;
			continue;
		}
		if (token_start && (ch == '"' || ch == '\'')) {
			for (i++; i < c->len; i++) {
				if (t[i] == '\n') {
					line++;
					col = -1;
				}
				col++;
				if (ch == '"' && t[i] == '\\') {
					i++, col++;
					continue;
				}
				if (t[i] != ch)
					continue;
				if (ch == '\'' && i + 1 < c->len &&
				    t[i + 1] == '\'') {
					i++, col++;
					continue;
				}
				break;
			}
			token_start = false;
			continue;
		}
		if (token_start && (ch == '[' || ch == '{')) {
			if (++depth > SG_YAML_MAX_FLOW_DEPTH) {
				sg_error(
					c->diag,
					(struct sg_pos){c->file, line, col + 1},
					NULL,
					"collections nested deeper than %d "
					"levels",
					SG_YAML_MAX_FLOW_DEPTH);
				return false;
			}
			continue;
		}
		if (ch == ']' || ch == '}') {
			if (depth)
				depth--;
			token_start = false;
			continue;
		}
		/* "- ", ": ", ',' and '?' may be followed by a node. */
		token_start =
			ch == ',' || ((ch == '-' || ch == ':' || ch == '?') &&
				      (i + 1 >= c->len || t[i + 1] == ' ' ||
				       t[i + 1] == '\n' || t[i + 1] == '\t' ||
				       t[i + 1] == '\r'));
	}
	return true;
}

/* libyaml checks too, but says less about where and why. */
static bool check_utf8(struct text *c)
{
	const unsigned char *s = c->text;
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < c->len) {
		unsigned char b = s[i];

		if (b == 0) {
			sg_error(c->diag, offset_pos(c, i), NULL,
				 "NUL character in the input: the config must "
				 "be UTF-8 text");
			return false;
		}
		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xe0) == 0xc0) {
			n = 2;
			cp = b & 0x1f;
			min = 0x80;
		} else if ((b & 0xf0) == 0xe0) {
			n = 3;
			cp = b & 0x0f;
			min = 0x800;
		} else if ((b & 0xf8) == 0xf0) {
			n = 4;
			cp = b & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (i + n > c->len)
			goto bad;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n;
	}
	return true;
bad:
	sg_error(c->diag, offset_pos(c, i), NULL,
		 "invalid UTF-8 (byte 0x%02x): the config must be UTF-8 text",
		 s[i]);
	return false;
}

static int yaml_fail(struct text *c, yaml_parser_t *p)
{
	struct sg_pos pos;

	if (p->error == YAML_MEMORY_ERROR) {
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		pos = offset_pos(c, p->problem_offset);
	} else {
		pos.file = c->file;
		pos.line = (int)p->problem_mark.line + 1;
		pos.col = (int)p->problem_mark.column + 1;
	}
	if (p->context)
		sg_error(c->diag, pos, NULL, "%s (%s at line %d column %d)",
			 p->problem ? p->problem : "YAML syntax error",
			 p->context, (int)p->context_mark.line + 1,
			 (int)p->context_mark.column + 1);
	else
		sg_error(c->diag, pos, NULL, "%s",
			 p->problem ? p->problem : "YAML syntax error");
	return -EINVAL;
}

/*
 * c->text into doc. Returns 0 when doc holds the document (errors, such as
 * a second document, may still be in the diag), else -EINVAL or -ENOMEM
 * with doc untouched.
 */
static int yaml_load(struct text *c, yaml_document_t *doc)
{
	yaml_document_t extra;
	yaml_parser_t parser;
	yaml_node_t *root2;
	int rc = 0;

	if (c->len > SG_INPUT_MAX_SIZE) {
		sg_error(c->diag, (struct sg_pos){c->file, 0, 0}, NULL,
			 "the config is larger than %u MiB",
			 SG_INPUT_MAX_SIZE >> 20);
		return -EINVAL;
	}
	if (!check_utf8(c) || !check_flow_depth(c))
		return -EINVAL;
	if (!yaml_parser_initialize(&parser)) {
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, c->text, c->len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, doc)) {
		rc = yaml_fail(c, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	/* One document per file: a second one would be silently ignored. */
	if (yaml_document_get_root_node(doc)) {
		if (!yaml_parser_load(&parser, &extra)) {
			rc = yaml_fail(c, &parser);
		} else {
			root2 = yaml_document_get_root_node(&extra);
			if (root2)
				sg_error(c->diag,
					 (struct sg_pos){
						 c->file,
						 (int)extra.start_mark.line + 1,
						 (int)extra.start_mark.column +
							 1},
					 NULL,
					 "a config holds one YAML document; "
					 "this is a second one");
			yaml_document_delete(&extra);
		}
	}
	yaml_parser_delete(&parser);
	if (rc == -ENOMEM) {
		yaml_document_delete(doc);
		return rc;
	}
	return 0;
}

int sg_yaml_load(const char *name, const char *text, size_t len,
		 yaml_document_t *doc, struct sg_diag *diag)
{
	struct text c = {
		.diag = diag,
		.file = sg_diag_intern(diag, name ? name : "<config>"),
		.text = (const unsigned char *)(text ? text : ""),
		.len = text ? len : 0,
	};

	return yaml_load(&c, doc);
}
