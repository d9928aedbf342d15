// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reading the document's nodes against the schema (see config_priv.h):
 * each helper checks one kind of value and reports what is wrong with it,
 * at the node, so the walk in config.c, rules.c and instances.c states
 * only what the config means.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_priv.h"

bool cfg_reserve(struct ctx *c, void **arr, size_t *cap, size_t need,
		 size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * size);
	if (!p) {
		c->oom = true;
		return false;
	}
	*arr = p;
	*cap = ncap;
	return true;
}

char *cfg_strdup(struct ctx *c, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		c->oom = true;
	return d;
}

struct sg_pos cfg_pos(struct ctx *c, const yaml_node_t *n)
{
	struct sg_pos p = {c->file, 0, 0};

	if (n && c->origin)
		return sg_mdoc_node_pos(c->origin, n);
	if (n) {
		p.line = (int)n->start_mark.line + 1;
		p.col = (int)n->start_mark.column + 1;
	}
	return p;
}

/*
 * Every node visit goes through here. Aliases let a small file name the same
 * subtree many times ("billion laughs"); the budget bounds the walk.
 */
yaml_node_t *cfg_node(struct ctx *c, int id)
{
	yaml_node_t *n = yaml_document_get_node(c->doc, id);

	if (++c->visits > c->budget && !c->stop) {
		c->stop = true;
		ERR(c, n, SG_E_PARAM,
		    "the document is too complex: its aliases expand to more "
		    "than %zu nodes",
		    c->budget);
	}
	return n;
}

/* Characters, not bytes: the input is known to be valid UTF-8. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * A string value: a scalar, not null, without NUL or control characters,
 * at most max characters (0 = no limit).
 */
const char *cfg_str(struct ctx *c, const yaml_node_t *n, const char *what,
		    size_t max)
{
	const char *s = sg_yaml_scalar(n);

	if (!s || sg_yaml_is_null(n)) {
		ERR(c, n, SG_E_PARAM, "%s must be a string, not %s", what,
		    sg_yaml_node_kind(n));
		return NULL;
	}
	if (strlen(s) != n->data.scalar.length)
		return NULL; /* reported by check_nul_scalars() */
	if (has_control(s)) {
		ERR(c, n, SG_E_PARAM, "%s contains a control character", what);
		return NULL;
	}
	if (max && utf8_chars(s) > max) {
		ERR(c, n, SG_E_PARAM, "%s is longer than %zu characters", what,
		    max);
		return NULL;
	}
	return s;
}

/* Decimal digits only; saturates instead of overflowing. */
bool cfg_parse_uint(const char *s, unsigned long long *v)
{
	unsigned long long x = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		x = x > 100000000000ULL ? x : x * 10 + (unsigned)(*s - '0');
	}
	*v = x;
	return true;
}

bool cfg_uint_range(struct ctx *c, const yaml_node_t *n, const char *what,
		    unsigned long long lo, unsigned long long hi,
		    unsigned long long *v)
{
	if (!cfg_parse_uint(sg_yaml_scalar(n), v) || *v < lo || *v > hi) {
		ERR(c, n, SG_E_PARAM, "%s must be a number from %llu to %llu",
		    what, lo, hi);
		return false;
	}
	return true;
}

/* Identifiers go into maps (SG_ID_LEN) and space-separated flow logs. */
bool cfg_valid_id(const char *s, const char *prefix)
{
	size_t n = strlen(s), pl = strlen(prefix);

	if (strncmp(s, prefix, pl) || n <= pl || n >= SG_ID_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

int cfg_ix_cmp(const void *a, const void *b)
{
	const struct ix *x = a, *y = b;
	int r = strcmp(x->s, y->s);

	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

int cfg_ix_find(const struct ix *tab, size_t n, const char *s)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(tab[mid].s, s);

		if (!r) {
			/* Leftmost of equal names: the first defined. */
			while (mid > 0 && !strcmp(tab[mid - 1].s, s))
				mid--;
			return (int)tab[mid].i;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/*
 * The pairs of a mapping, in order, minus non-scalar and duplicate keys
 * (libyaml accepts both; we report them). what names a key in messages.
 */
size_t cfg_map_items(struct ctx *c, yaml_node_t *m, const char *what,
		     const char *dupcode, struct kv **out)
{
	struct kv *kv = NULL;
	struct ix *s = NULL;
	size_t n = 0, cap = 0, i, j, first;
	yaml_node_pair_t *p;
	bool *drop = NULL;
	char wb[WHERE_LEN];

	*out = NULL;
	for (p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top && !c->stop; p++) {
		yaml_node_t *k = cfg_node(c, p->key);
		yaml_node_t *v = cfg_node(c, p->value);

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			ERR(c, k, SG_E_PARAM, "a %s must be a string, not %s",
			    what, sg_yaml_node_kind(k));
			continue;
		}
		if (!RESERVE(c, kv, cap, n + 1))
			break;
		kv[n].k = k;
		kv[n].v = v;
		kv[n].key = (const char *)k->data.scalar.value;
		n++;
	}
	if (n < 2 || c->oom) {
		*out = kv;
		return n;
	}

	s = malloc(n * sizeof(*s));
	drop = calloc(n, sizeof(*drop));
	if (!s || !drop) {
		c->oom = true;
		goto done;
	}
	for (i = 0; i < n; i++) {
		s[i].s = kv[i].key;
		s[i].i = i;
	}
	qsort(s, n, sizeof(*s), cfg_ix_cmp);
	for (first = 0, i = 1; i < n; i++) {
		if (strcmp(s[i].s, s[first].s)) {
			first = i;
			continue;
		}
		drop[s[i].i] = true;
		ERR(c, kv[s[i].i].k, dupcode, "duplicate %s '%s' (first at %s)",
		    what, s[i].s,
		    sg_pos_where(cfg_pos(c, kv[s[i].i].k),
				 cfg_pos(c, kv[s[first].i].k), wb, sizeof(wb)));
	}
	for (i = j = 0; i < n; i++)
		if (!drop[i])
			kv[j++] = kv[i];
	n = j;
done:
	free(s);
	free(drop);
	*out = kv;
	return n;
}

bool cfg_want_map(struct ctx *c, yaml_node_t *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	ERR(c, n, SG_E_PARAM, "%s must be a mapping, not %s", what,
	    sg_yaml_node_kind(n));
	return false;
}

bool cfg_list_items(struct ctx *c, yaml_node_t *n, const char *what,
		    bool allow_scalar, struct items *it)
{
	it->start = it->top = NULL;
	if (n->type == YAML_SEQUENCE_NODE) {
		it->start = n->data.sequence.items.start;
		it->top = n->data.sequence.items.top;
		return true;
	}
	if (sg_yaml_is_null(n))
		return true;
	if (allow_scalar && n->type == YAML_SCALAR_NODE) {
		/* The node's id: nodes are stored 1-based in document order. */
		it->one = (int)(n - c->doc->nodes.start) + 1;
		it->start = &it->one;
		it->top = it->start + 1;
		return true;
	}
	ERR(c, n, SG_E_PARAM, "%s must be a list, not %s", what,
	    sg_yaml_node_kind(n));
	return false;
}
