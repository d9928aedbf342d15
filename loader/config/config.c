// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The YAML config parser and validator (SPEC sections 1 and 2).
 *
 * libyaml composes the whole document into nodes that carry their place in
 * the text; we walk those nodes against a fixed schema, report every problem
 * (not just the first) with its line, column and AWS-style code, and build
 * the model of model.h. Any error leaves the caller with an empty config.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <linux/types.h>
#include <yaml.h>

#include "sgctl.h"
#include "config/config_internal.h"
#include "input/inputs.h"
#include "config/model.h"
#include "config/prefix.h"

#define SG_CONFIG_MAX_SIZE (16u << 20) /* bytes */
#define SG_TEXT_MAX	   255 /* names and descriptions, in characters */
#define SG_PL_MAX_ENTRIES  1000
/* Far above any quota: past it a group is already in error, and keeping
 * more rules would only cost memory. */
#define SG_GROUP_RULES_HARD_MAX 4096
/* Diagnostics kept per parse: enough for any file a person wrote. */
#define SG_DIAG_MAX 1000

#define E_PARAM	     "InvalidParameterValue"
#define E_MALFORMED  "InvalidPermission.Malformed"
#define E_DUPRULE    "InvalidPermission.Duplicate"
#define E_NOTFOUND   "InvalidGroup.NotFound"
#define E_GDUP	     "InvalidGroup.Duplicate"
#define E_RESERVED   "InvalidGroup.Reserved"
#define E_RULELIMIT  "RulesPerSecurityGroupLimitExceeded"
#define E_SGLIMIT    "SecurityGroupsPerInterfaceLimitExceeded"
#define E_MISSING    "MissingParameter"
#define E_PLNOTFOUND "InvalidPrefixListID.NotFound"

#define PROTO_ICMP   1
#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_ICMPV6 58

#define DEFAULT_GROUP_ID "sg-default"

struct preset {
	const char *name;
	int proto;
	int lo, hi; /* -1 for protocols without ports */
};

/* SPEC section 2, in its order. */
static const struct preset presets[] = {
	{"ssh", PROTO_TCP, 22, 22},
	{"ftp", PROTO_TCP, 21, 21},
	{"sftp", PROTO_TCP, 22, 22},
	{"http", PROTO_TCP, 80, 80},
	{"https", PROTO_TCP, 443, 443},
	{"rdp", PROTO_TCP, 3389, 3389},
	{"smtp", PROTO_TCP, 25, 25},
	{"smtps", PROTO_TCP, 465, 465},
	{"pop3", PROTO_TCP, 110, 110},
	{"pop3s", PROTO_TCP, 995, 995},
	{"imap", PROTO_TCP, 143, 143},
	{"imaps", PROTO_TCP, 993, 993},
	{"ldap", PROTO_TCP, 389, 389},
	{"smb", PROTO_TCP, 445, 445},
	{"dns-tcp", PROTO_TCP, 53, 53},
	{"dns-udp", PROTO_UDP, 53, 53},
	{"mysql", PROTO_TCP, 3306, 3306},
	{"postgresql", PROTO_TCP, 5432, 5432},
	{"mssql", PROTO_TCP, 1433, 1433},
	{"oracle", PROTO_TCP, 1521, 1521},
	{"redshift", PROTO_TCP, 5439, 5439},
	{"nfs", PROTO_TCP, 2049, 2049},
	{"winrm-http", PROTO_TCP, 5985, 5985},
	{"winrm-https", PROTO_TCP, 5986, 5986},
	{"all-traffic", SG_PROTO_ALL, -1, -1},
	{"all-tcp", PROTO_TCP, 0, 65535},
	{"all-udp", PROTO_UDP, 0, 65535},
	{"all-icmp", PROTO_ICMP, -1, -1},
	{"all-icmpv6", PROTO_ICMPV6, -1, -1},
};

struct kv {
	yaml_node_t *k, *v;
	const char *key;
};

/* What pass 1 saw of a group, for pass 2 (rules) and the instance quota. */
struct gsrc {
	yaml_node_t *key;
	yaml_node_t *rules[SG_NDIR];
	bool has_out;
	bool out_first;
	size_t per_sg; /* rules per SG, as the instance quota counts them */
};

/* A sorted name -> index table, for lookups and duplicate detection. */
struct ix {
	const char *s;
	size_t i;
};

struct ipref {
	struct sg_prefix p;
	size_t inst;
	size_t order;
	struct sg_pos pos;
};

struct ctx {
	struct sg_diag *diag;
	const char *file;
	/* A composed document (inputs.c): where each node was written. */
	const struct sg_doc_origin *origin;
	const unsigned char *text;
	size_t len;
	struct sg_config *cfg;
	yaml_document_t *doc; /* while it is being walked */
	size_t visits, budget;
	bool stop; /* alias expansion ran past the budget */
	bool oom;
	size_t plcap, gcap, gscap, icap;
	struct gsrc *gsrc;
	int default_group;
	struct ix *gids, *gnames, *plids;
	size_t ngids, ngnames, nplids;
	struct ipref *ips;
	size_t nips, ipcap;
	/* Groups referenced by rules but not defined: appended after pass 2. */
	char **undef;
	struct sg_pos *undef_pos;
	size_t nundef, undefcap, undefposcap, undef_base;
};

#define SG_MAX_UNDEFINED_REFS 1000

/* ---- Small helpers ---- */

static bool reserve(struct ctx *c, void **arr, size_t *cap, size_t need,
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

#define RESERVE(c, arr, cap, need)                                             \
	({                                                                     \
		void *_p = (arr);                                              \
		bool _ok = reserve((c), &_p, &(cap), (need), sizeof(*(arr)));  \
		(arr) = _p;                                                    \
		_ok;                                                           \
	})

static char *xstrdup(struct ctx *c, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		c->oom = true;
	return d;
}

__attribute__((format(printf, 2, 3))) static char *
xasprintf(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->oom = true;
		return NULL;
	}
	return s;
}

static struct sg_pos npos(struct ctx *c, const yaml_node_t *n)
{
	struct sg_pos p = {c->file, 0, 0};

	if (n && c->origin)
		return c->origin->pos(c->origin->arg, n);
	if (n) {
		p.line = (int)n->start_mark.line + 1;
		p.col = (int)n->start_mark.column + 1;
	}
	return p;
}

/*
 * How a message at "at" names the earlier place "ref": "line 4" in the same
 * file, "other.yaml:4" in another, "sgs.json: SecurityGroups[0].GroupId"
 * for JSON (no lines).
 */
static const char *where(struct sg_pos at, struct sg_pos ref, char *buf,
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

#define WHERE_LEN 600

#define ERR(c, n, code, ...) sg_error((c)->diag, npos(c, n), code, __VA_ARGS__)

/*
 * Every node visit goes through here. Aliases let a small file name the same
 * subtree many times ("billion laughs"); the budget bounds the walk.
 */
static yaml_node_t *node_at(struct ctx *c, int id)
{
	yaml_node_t *n = yaml_document_get_node(c->doc, id);

	if (++c->visits > c->budget && !c->stop) {
		c->stop = true;
		ERR(c, n, E_PARAM,
		    "the document is too complex: its aliases expand to more "
		    "than %zu nodes",
		    c->budget);
	}
	return n;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		       ? (const char *)n->data.scalar.value
		       : NULL;
}

static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return is_null(n) ? "empty" : "a scalar";
	}
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
static const char *get_str(struct ctx *c, const yaml_node_t *n,
			   const char *what, size_t max)
{
	const char *s = scalar(n);

	if (!s || is_null(n)) {
		ERR(c, n, E_PARAM, "%s must be a string, not %s", what,
		    node_kind(n));
		return NULL;
	}
	if (strlen(s) != n->data.scalar.length)
		return NULL; /* reported by check_nul_scalars() */
	if (has_control(s)) {
		ERR(c, n, E_PARAM, "%s contains a control character", what);
		return NULL;
	}
	if (max && utf8_chars(s) > max) {
		ERR(c, n, E_PARAM, "%s is longer than %zu characters", what,
		    max);
		return NULL;
	}
	return s;
}

/* Decimal digits only; saturates instead of overflowing. */
static bool parse_uint(const char *s, unsigned long long *v)
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

static bool get_uint_range(struct ctx *c, const yaml_node_t *n,
			   const char *what, unsigned long long lo,
			   unsigned long long hi, unsigned long long *v)
{
	if (!parse_uint(scalar(n), v) || *v < lo || *v > hi) {
		ERR(c, n, E_PARAM, "%s must be a number from %llu to %llu",
		    what, lo, hi);
		return false;
	}
	return true;
}

/* Identifiers go into maps (SG_ID_LEN) and space-separated flow logs. */
static bool valid_id(const char *s, const char *prefix)
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

static int ix_cmp(const void *a, const void *b)
{
	const struct ix *x = a, *y = b;
	int r = strcmp(x->s, y->s);

	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int ix_find(const struct ix *tab, size_t n, const char *s)
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
static size_t map_items(struct ctx *c, yaml_node_t *m, const char *what,
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
		yaml_node_t *k = node_at(c, p->key);
		yaml_node_t *v = node_at(c, p->value);

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			ERR(c, k, E_PARAM, "a %s must be a string, not %s",
			    what, node_kind(k));
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
	qsort(s, n, sizeof(*s), ix_cmp);
	for (first = 0, i = 1; i < n; i++) {
		if (strcmp(s[i].s, s[first].s)) {
			first = i;
			continue;
		}
		drop[s[i].i] = true;
		ERR(c, kv[s[i].i].k, dupcode, "duplicate %s '%s' (first at %s)",
		    what, s[i].s,
		    where(npos(c, kv[s[i].i].k), npos(c, kv[s[first].i].k), wb,
			  sizeof(wb)));
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

static bool want_map(struct ctx *c, yaml_node_t *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	ERR(c, n, E_PARAM, "%s must be a mapping, not %s", what, node_kind(n));
	return false;
}

/*
 * The items of a list value. A single scalar is taken as a one-item list
 * (source: sg-web), null as empty. Returns false on a wrong node type.
 */
struct items {
	yaml_node_item_t *start, *top;
	yaml_node_item_t one;
};

static bool list_items(struct ctx *c, yaml_node_t *n, const char *what,
		       bool allow_scalar, struct items *it)
{
	it->start = it->top = NULL;
	if (n->type == YAML_SEQUENCE_NODE) {
		it->start = n->data.sequence.items.start;
		it->top = n->data.sequence.items.top;
		return true;
	}
	if (is_null(n))
		return true;
	if (allow_scalar && n->type == YAML_SCALAR_NODE) {
		/* The node's id: nodes are stored 1-based in document order. */
		it->one = (int)(n - c->doc->nodes.start) + 1;
		it->start = &it->one;
		it->top = it->start + 1;
		return true;
	}
	ERR(c, n, E_PARAM, "%s must be a list, not %s", what, node_kind(n));
	return false;
}

/* ---- Prefix lists ---- */

static void parse_prefix_list(struct ctx *c, struct kv *e)
{
	struct sg_config *cfg = c->cfg;
	struct sg_prefix_list *pl;
	yaml_node_t *entries = NULL;
	unsigned long long max = 0;
	bool have_max = false;
	size_t cap = 0, i, n;
	struct kv *kv = NULL;
	struct items it;
	yaml_node_item_t *p;

	if (!valid_id(e->key, "pl-"))
		ERR(c, e->k, E_PARAM,
		    "prefix list id '%s' must be pl- followed by letters, "
		    "digits, '-', '_' or '.' (at most %d characters)",
		    e->key, SG_ID_LEN - 1);
	if (!RESERVE(c, cfg->prefix_lists, c->plcap, cfg->nprefix_lists + 1))
		return;
	pl = &cfg->prefix_lists[cfg->nprefix_lists++];
	memset(pl, 0, sizeof(*pl));
	pl->id = xstrdup(c, e->key);
	pl->pos = npos(c, e->k);

	if (!is_null(e->v) && want_map(c, e->v, "a prefix list")) {
		n = map_items(c, e->v, "key", E_PARAM, &kv);
		for (i = 0; i < n; i++) {
			if (!strcmp(kv[i].key, "max_entries"))
				have_max = get_uint_range(
					c, kv[i].v, "max_entries", 1,
					SG_PL_MAX_ENTRIES, &max);
			else if (!strcmp(kv[i].key, "entries"))
				entries = kv[i].v;
			else
				ERR(c, kv[i].k, E_PARAM,
				    "unknown key '%s' in prefix list %s "
				    "(expected max_entries, entries)",
				    kv[i].key, e->key);
		}
		free(kv);
	}

	if (entries && list_items(c, entries, "entries", false, &it)) {
		for (p = it.start; p < it.top && !c->stop; p++) {
			yaml_node_t *en = node_at(c, *p);
			struct sg_prefix pfx;
			const char *s = scalar(en);
			bool masked;
			char buf[64];
			size_t j;

			if (!s || is_null(en) ||
			    sg_prefix_parse(s, &pfx, &masked) < 0 ||
			    !strchr(s, '/')) {
				ERR(c, en, E_PARAM,
				    "prefix list entry '%s' is not a CIDR "
				    "(a.b.c.d/n or an IPv6 prefix)",
				    s ? s : node_kind(en));
				continue;
			}
			if (masked)
				sg_warn(c->diag, npos(c, en),
					"%s has host bits set; using %s", s,
					sg_prefix_str(&pfx, buf, sizeof(buf)));
			/* Bounded by the 1000-entry cap: a linear scan will do.
			 */
			for (j = 0; j < pl->nentries; j++)
				if (sg_prefix_equal(&pl->entries[j], &pfx))
					break;
			if (j < pl->nentries) {
				ERR(c, en, E_PARAM,
				    "duplicate entry %s in prefix list %s",
				    sg_prefix_str(&pfx, buf, sizeof(buf)),
				    pl->id ? pl->id : "");
				continue;
			}
			if (pl->nentries >= SG_PL_MAX_ENTRIES) {
				ERR(c, en, E_PARAM,
				    "prefix list %s has more than %d entries",
				    e->key, SG_PL_MAX_ENTRIES);
				break;
			}
			if (!RESERVE(c, pl->entries, cap, pl->nentries + 1))
				return;
			pl->entries[pl->nentries++] = pfx;
		}
	}

	if (have_max) {
		pl->max_entries = (int)max;
		if (pl->nentries > max)
			ERR(c, entries, E_PARAM,
			    "prefix list %s has %zu entries, more than its "
			    "max_entries %llu",
			    e->key, pl->nentries, max);
	} else {
		/* Absent: as large as the list, and at least 1 as AWS. */
		pl->max_entries = pl->nentries ? (int)pl->nentries : 1;
	}
}

/* ---- Security groups, pass 1: ids, names, descriptions ---- */

static struct sg_group *new_group(struct ctx *c)
{
	struct sg_config *cfg = c->cfg;

	if (!RESERVE(c, cfg->groups, c->gcap, cfg->ngroups + 1) ||
	    !RESERVE(c, c->gsrc, c->gscap, cfg->ngroups + 1))
		return NULL;
	memset(&c->gsrc[cfg->ngroups], 0, sizeof(c->gsrc[0]));
	memset(&cfg->groups[cfg->ngroups], 0, sizeof(cfg->groups[0]));
	return &cfg->groups[cfg->ngroups++];
}

static void parse_group(struct ctx *c, struct kv *e)
{
	struct sg_group *g;
	struct gsrc *gs;
	struct kv *kv = NULL;
	size_t i, n;

	if (!valid_id(e->key, "sg-"))
		ERR(c, e->k, E_PARAM,
		    "security group id '%s' must be sg- followed by letters, "
		    "digits, '-', '_' or '.' (at most %d characters)",
		    e->key, SG_ID_LEN - 1);
	g = new_group(c);
	if (!g)
		return;
	gs = &c->gsrc[c->cfg->ngroups - 1];
	g->id = xstrdup(c, e->key);
	g->pos = npos(c, e->k);
	gs->key = e->k;

	if (is_null(e->v) || !want_map(c, e->v, "a security group"))
		return;
	n = map_items(c, e->v, "key", E_PARAM, &kv);
	for (i = 0; i < n; i++) {
		const char *k = kv[i].key, *s;

		if (!strcmp(k, "name")) {
			s = get_str(c, kv[i].v, "name", SG_TEXT_MAX);
			if (!s)
				continue;
			if (!*s)
				ERR(c, kv[i].v, E_PARAM,
				    "name must not be empty");
			else if (!strncasecmp(s, "sg-", 3))
				ERR(c, kv[i].v, E_PARAM,
				    "group name '%s' must not start with sg- "
				    "(names and ids would be ambiguous)",
				    s);
			else
				g->name = xstrdup(c, s);
		} else if (!strcmp(k, "description")) {
			s = get_str(c, kv[i].v, "description", SG_TEXT_MAX);
			if (s)
				g->description = xstrdup(c, s);
		} else if (!strcmp(k, "inbound")) {
			gs->rules[SG_DIR_IN] = kv[i].v;
		} else if (!strcmp(k, "outbound")) {
			gs->rules[SG_DIR_OUT] = kv[i].v;
			gs->has_out = true;
			gs->out_first = !gs->rules[SG_DIR_IN];
		} else {
			ERR(c, kv[i].k, E_PARAM,
			    "unknown key '%s' in security group %s (expected "
			    "name, description, inbound, outbound)",
			    k, e->key);
		}
	}
	free(kv);
}

/*
 * The VPC's default group: the one named default, or sg-default written
 * without a name. Names are unique; the implicit group is added when the
 * file defines none.
 */
static void settle_names(struct ctx *c)
{
	struct sg_config *cfg = c->cfg;
	size_t i, n = 0, first;
	char wb[WHERE_LEN];
	struct ix *s;

	for (i = 0; i < cfg->ngroups; i++) {
		struct sg_group *g = &cfg->groups[i];

		if (!g->id || strcmp(g->id, DEFAULT_GROUP_ID))
			continue;
		if (!g->name)
			g->name = xstrdup(c, "default");
		else if (strcmp(g->name, "default"))
			sg_error(c->diag, g->pos, E_RESERVED,
				 "%s is the id of the VPC's default group; its "
				 "name must be default, not '%s'",
				 DEFAULT_GROUP_ID, g->name);
	}

	s = calloc(cfg->ngroups + 1, sizeof(*s));
	if (!s) {
		c->oom = true;
		return;
	}
	for (i = 0; i < cfg->ngroups; i++)
		if (cfg->groups[i].name) {
			s[n].s = cfg->groups[i].name;
			s[n++].i = i;
		}
	qsort(s, n, sizeof(*s), ix_cmp);
	for (first = 0, i = 1; i < n; i++) {
		const struct sg_group *a, *b;

		if (strcmp(s[i].s, s[first].s)) {
			first = i;
			continue;
		}
		a = &cfg->groups[s[first].i];
		b = &cfg->groups[s[i].i];
		where(b->pos, a->pos, wb, sizeof(wb));
		if (!strcmp(b->name, "default"))
			sg_error(c->diag, b->pos, E_GDUP,
				 "the VPC already has a default group (%s, "
				 "%s); only one group may be named default",
				 a->id, wb);
		else
			sg_error(c->diag, b->pos, E_GDUP,
				 "group name '%s' is already used by %s (%s)",
				 b->name, a->id, wb);
	}
	c->gnames = s;
	c->ngnames = n;
	c->default_group = ix_find(s, n, "default");
}

/* ---- Rules ---- */

struct rspec {
	const struct preset *preset;
	int proto;
	int lo, hi;
	int itype, icode;
};

static const char *proto_name(int proto)
{
	switch (proto) {
	case PROTO_TCP:
		return "tcp";
	case PROTO_UDP:
		return "udp";
	case PROTO_ICMP:
		return "icmp";
	case PROTO_ICMPV6:
		return "icmpv6";
	default:
		return NULL;
	}
}

static bool is_icmp(int proto)
{
	return proto == PROTO_ICMP || proto == PROTO_ICMPV6;
}

static bool has_ports(int proto)
{
	return proto == PROTO_TCP || proto == PROTO_UDP;
}

/* "tcp/22", "tcp/80-90", "icmp type 3 code 4", "icmp all", "all", "protocol 47"
 */
static void spec_desc(const struct rspec *r, char *buf, size_t len)
{
	const char *pn = proto_name(r->proto);

	if (r->proto == SG_PROTO_ALL)
		snprintf(buf, len, "all");
	else if (has_ports(r->proto) && r->lo == r->hi)
		snprintf(buf, len, "%s/%d", pn, r->lo);
	else if (has_ports(r->proto))
		snprintf(buf, len, "%s/%d-%d", pn, r->lo, r->hi);
	else if (is_icmp(r->proto) && r->itype == SG_ANY)
		snprintf(buf, len, "%s all", pn);
	else if (is_icmp(r->proto) && r->icode == SG_ANY)
		snprintf(buf, len, "%s type %d", pn, r->itype);
	else if (is_icmp(r->proto))
		snprintf(buf, len, "%s type %d code %d", pn, r->itype,
			 r->icode);
	else
		snprintf(buf, len, "protocol %d", r->proto);
}

static char *rule_text(struct ctx *c, const struct rspec *r, int dir,
		       const char *peer, const char *suffix)
{
	const char *way = dir == SG_DIR_IN ? "from" : "to";
	char d[64];

	spec_desc(r, d, sizeof(d));
	if (r->preset)
		return xasprintf(c, "%s (%s) %s %s%s", r->preset->name, d, way,
				 peer, suffix);
	if (r->proto == SG_PROTO_ALL)
		return xasprintf(c, "all traffic %s %s%s", way, peer, suffix);
	return xasprintf(c, "%s %s %s%s", d, way, peer, suffix);
}

static bool parse_protocol(struct ctx *c, yaml_node_t *n, int *proto)
{
	static const struct {
		const char *name;
		int proto;
	} names[] = {
		{"tcp", PROTO_TCP},    {"udp", PROTO_UDP},
		{"icmp", PROTO_ICMP},  {"icmpv6", PROTO_ICMPV6},
		{"all", SG_PROTO_ALL}, {"-1", SG_PROTO_ALL},
	};
	const char *s = scalar(n);
	unsigned long long v;
	size_t i;

	if (s && !is_null(n)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(s, names[i].name)) {
				*proto = names[i].proto;
				return true;
			}
		if (parse_uint(s, &v) && v <= 255) {
			*proto = (int)v;
			return true;
		}
	}
	ERR(c, n, E_PARAM,
	    "unknown protocol '%s' (expected tcp, udp, icmp, icmpv6, all, -1 "
	    "or a number 0-255)",
	    s && !is_null(n) ? s : node_kind(n));
	return false;
}

static void upper(char *d, const char *s, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		d[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	d[i] = '\0';
}

static bool parse_ports(struct ctx *c, yaml_node_t *n, int proto, int *lo,
			int *hi)
{
	unsigned long long a, b;
	const char *s = scalar(n);
	char pn[8], *dash, tmp[32];

	upper(pn, proto_name(proto), sizeof(pn));
	if (!s || is_null(n)) {
		ERR(c, n, E_MALFORMED,
		    "ports must be a port, a range N-M or all, not %s",
		    node_kind(n));
		return false;
	}
	if (!strcasecmp(s, "all")) {
		*lo = 0;
		*hi = 65535;
		return true;
	}
	if (strlen(s) >= sizeof(tmp))
		goto bad;
	strcpy(tmp, s);
	dash = strchr(tmp, '-');
	if (dash)
		*dash = '\0';
	if (!parse_uint(tmp, &a) || (dash && !parse_uint(dash + 1, &b)))
		goto bad;
	if (!dash)
		b = a;
	if (a > 65535 || b > 65535) {
		ERR(c, n, E_MALFORMED, "%s port %llu out of range 0-65535", pn,
		    a > 65535 ? a : b);
		return false;
	}
	if (a > b) {
		ERR(c, n, E_MALFORMED,
		    "%s port range %llu-%llu is reversed: the first port must "
		    "not be above the last",
		    pn, a, b);
		return false;
	}
	*lo = (int)a;
	*hi = (int)b;
	return true;
bad:
	ERR(c, n, E_MALFORMED,
	    "%s ports '%s' must be a port, a range N-M or all", pn, s);
	return false;
}

static bool parse_icmp_field(struct ctx *c, yaml_node_t *n, const char *what,
			     int *v)
{
	unsigned long long x;
	const char *s = scalar(n);

	if (s && (!strcasecmp(s, "all") || !strcmp(s, "-1"))) {
		*v = SG_ANY;
		return true;
	}
	if (s && !is_null(n) && parse_uint(s, &x)) {
		if (x <= 255) {
			*v = (int)x;
			return true;
		}
		ERR(c, n, E_MALFORMED, "ICMP %s %llu out of range 0-255", what,
		    x);
		return false;
	}
	ERR(c, n, E_MALFORMED,
	    "ICMP %s must be a number 0-255 or all, not '%s'", what,
	    s && !is_null(n) ? s : node_kind(n));
	return false;
}

/* Rule under construction in one group: the model rules plus where each
 * peer was written (for duplicate and quota messages). */
struct gbuild {
	size_t cap;
	struct sg_pos *ppos;
	size_t ppcap;
};

static void add_rule(struct ctx *c, struct sg_group *g, struct gbuild *gb,
		     struct sg_rule *r, struct sg_pos ppos)
{
	if (!r->text || !r->peer_text || g->nrules >= SG_GROUP_RULES_HARD_MAX ||
	    !RESERVE(c, g->rules, gb->cap, g->nrules + 1) ||
	    !RESERVE(c, gb->ppos, gb->ppcap, g->nrules + 1)) {
		free(r->peer_text);
		free(r->text);
		free(r->description);
		return;
	}
	gb->ppos[g->nrules] = ppos;
	g->rules[g->nrules++] = *r;
}

/*
 * A reference to a group the file does not define. The SPEC's own example
 * does this (sg-lb), and configs may be merged from several files, so it
 * is a warning: the reference stands for a group without members, which
 * matches nothing. Returns its future index, or -1 after an error.
 */
static int undefined_group(struct ctx *c, yaml_node_t *n, const char *s)
{
	size_t k;

	for (k = 0; k < c->nundef; k++)
		if (!strcmp(c->undef[k], s))
			break;
	if (!valid_id(s, "sg-") ||
	    (k == c->nundef && c->nundef >= SG_MAX_UNDEFINED_REFS)) {
		ERR(c, n, E_NOTFOUND, "security group %s does not exist in %s",
		    s, c->cfg->vpc);
		return -1;
	}
	sg_warn(c->diag, npos(c, n),
		"security group %s is not defined in %s: this rule matches "
		"nothing until it is",
		s, c->cfg->vpc);
	if (k == c->nundef) {
		if (!RESERVE(c, c->undef, c->undefcap, k + 1) ||
		    !RESERVE(c, c->undef_pos, c->undefposcap, k + 1))
			return -1;
		c->undef[k] = xstrdup(c, s);
		if (!c->undef[k])
			return -1;
		c->undef_pos[k] = npos(c, n);
		c->nundef++;
	}
	return (int)(c->undef_base + k);
}

/* Fills r's peer from a written source/destination; false on error. */
static bool resolve_peer(struct ctx *c, yaml_node_t *n, struct sg_rule *r)
{
	const char *s = scalar(n);
	struct sg_prefix p;
	bool masked;
	char buf[64];
	int i;

	if (!s || is_null(n)) {
		ERR(c, n, E_PARAM,
		    "a peer must be a CIDR, sg-... or pl-..., not %s",
		    node_kind(n));
		return false;
	}
	if (!strncmp(s, "sg-", 3)) {
		i = ix_find(c->gids, c->ngids, s);
		if (i < 0)
			i = undefined_group(c, n, s);
		if (i < 0)
			return false;
		r->peer_kind = SG_PEER_GROUP;
		r->peer_index = i;
		return true;
	}
	if (!strncmp(s, "pl-", 3)) {
		i = ix_find(c->plids, c->nplids, s);
		if (i < 0) {
			ERR(c, n, E_PLNOTFOUND, "prefix list %s does not exist",
			    s);
			return false;
		}
		r->peer_kind = SG_PEER_PREFIX_LIST;
		r->peer_index = i;
		return true;
	}
	if (sg_prefix_parse(s, &p, &masked) < 0) {
		ERR(c, n, E_PARAM,
		    "'%s' is not a CIDR, a security group (sg-...) or a prefix "
		    "list (pl-...)",
		    s);
		return false;
	}
	if (!strchr(s, '/')) {
		/* AWS wants the length written; say what to write. */
		ERR(c, n, E_PARAM, "'%s' is not a CIDR: write %s", s,
		    sg_prefix_str(&p, buf, sizeof(buf)));
		return false;
	}
	if (masked)
		sg_warn(c->diag, npos(c, n), "%s has host bits set; using %s",
			s, sg_prefix_str(&p, buf, sizeof(buf)));
	r->peer_kind = SG_PEER_CIDR;
	r->cidr = p;
	r->peer_index = -1;
	return true;
}

static void parse_rule(struct ctx *c, struct sg_group *g, struct gbuild *gb,
		       int dir, yaml_node_t *n)
{
	yaml_node_t *type = NULL, *proto = NULL, *ports = NULL, *itype = NULL;
	yaml_node_t *icode = NULL, *peer = NULL, *descn = NULL;
	const char *peer_key = dir == SG_DIR_IN ? "source" : "destination";
	const char *other_key = dir == SG_DIR_IN ? "destination" : "source";
	const char *desc = NULL;
	struct rspec rs = {NULL, 0, -1, -1, -1, -1};
	struct kv *kv = NULL;
	bool ok = true, wrong_way = false;
	struct items it;
	yaml_node_item_t *p;
	size_t i, nkv;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, E_MALFORMED,
		    "a rule must be a mapping (type or protocol, ports, %s), "
		    "not %s",
		    peer_key, node_kind(n));
		return;
	}
	nkv = map_items(c, n, "key", E_PARAM, &kv);
	for (i = 0; i < nkv; i++) {
		const char *k = kv[i].key;

		if (!strcmp(k, "type"))
			type = kv[i].v;
		else if (!strcmp(k, "protocol"))
			proto = kv[i].v;
		else if (!strcmp(k, "ports"))
			ports = kv[i].v;
		else if (!strcmp(k, "icmp_type"))
			itype = kv[i].v;
		else if (!strcmp(k, "icmp_code"))
			icode = kv[i].v;
		else if (!strcmp(k, peer_key))
			peer = kv[i].v;
		else if (!strcmp(k, "description"))
			descn = kv[i].v;
		else if (!strcmp(k, other_key)) {
			wrong_way = true;
			ERR(c, kv[i].k, E_MALFORMED,
			    "%s rules take '%s', not '%s'",
			    dir == SG_DIR_IN ? "inbound" : "outbound", peer_key,
			    other_key);
			ok = false;
		} else {
			ERR(c, kv[i].k, E_PARAM,
			    "unknown rule key '%s' (expected type, protocol, "
			    "ports, icmp_type, icmp_code, %s, description)",
			    k, peer_key);
			ok = false;
		}
	}
	free(kv);

	/* What the rule allows. */
	if (type && proto) {
		ERR(c, proto, E_MALFORMED,
		    "a rule takes type or protocol, not both");
		ok = false;
	} else if (type) {
		const char *s = scalar(type);

		for (i = 0; s && i < sizeof(presets) / sizeof(presets[0]); i++)
			if (!strcasecmp(s, presets[i].name))
				rs.preset = &presets[i];
		if (!rs.preset) {
			ERR(c, type, E_PARAM,
			    "unknown rule type '%s' (expected a preset such as "
			    "ssh, http, all-traffic; or use protocol)",
			    s && !is_null(type) ? s : node_kind(type));
			ok = false;
		} else {
			yaml_node_t *extra = ports   ? ports
					     : itype ? itype
						     : icode;

			rs.proto = rs.preset->proto;
			rs.lo = rs.preset->lo;
			rs.hi = rs.preset->hi;
			if (is_icmp(rs.proto))
				rs.itype = rs.icode = SG_ANY;
			if (extra) {
				ERR(c, extra, E_MALFORMED,
				    "type %s sets the protocol and ports "
				    "itself; write protocol instead to choose "
				    "them",
				    rs.preset->name);
				ok = false;
			}
		}
	} else if (proto) {
		if (!parse_protocol(c, proto, &rs.proto)) {
			ok = false;
		} else if (has_ports(rs.proto)) {
			if (!ports) {
				ERR(c, n, E_MISSING,
				    "%s rules need ports (N, N-M or all)",
				    proto_name(rs.proto));
				ok = false;
			} else if (!parse_ports(c, ports, rs.proto, &rs.lo,
						&rs.hi)) {
				ok = false;
			}
		} else if (ports) {
			ERR(c, ports, E_MALFORMED,
			    "ports apply only to tcp and udp, not to %s",
			    proto_name(rs.proto)       ? proto_name(rs.proto)
			    : rs.proto == SG_PROTO_ALL ? "all traffic"
						       : "this protocol");
			ok = false;
		}
		if (is_icmp(rs.proto)) {
			rs.itype = rs.icode = SG_ANY;
			if (itype &&
			    !parse_icmp_field(c, itype, "type", &rs.itype))
				ok = false;
			if (icode &&
			    !parse_icmp_field(c, icode, "code", &rs.icode))
				ok = false;
			if (ok && rs.icode != SG_ANY && rs.itype == SG_ANY) {
				ERR(c, icode, E_MALFORMED,
				    "icmp_code needs an icmp_type");
				ok = false;
			}
		} else if (ok && (itype || icode)) {
			ERR(c, itype ? itype : icode, E_MALFORMED,
			    "%s applies only to icmp and icmpv6",
			    itype ? "icmp_type" : "icmp_code");
			ok = false;
		}
	} else {
		ERR(c, n, E_MISSING, "a rule needs a type or a protocol");
		ok = false;
	}

	if (descn) {
		desc = get_str(c, descn, "description", SG_TEXT_MAX);
		if (!desc)
			ok = false;
	}

	/* Who it allows: one model rule per peer. */
	if (!peer) {
		/* Unless the peer was written under the other direction's key.
		 */
		if (!wrong_way)
			ERR(c, n, E_MISSING, "%s rules need a %s",
			    dir == SG_DIR_IN ? "inbound" : "outbound",
			    peer_key);
		return;
	}
	if (!list_items(c, peer, peer_key, true, &it))
		return;
	if (it.start == it.top) {
		ERR(c, peer, E_MISSING, "%s must name at least one peer",
		    peer_key);
		return;
	}
	for (p = it.start; p < it.top && !c->stop && !c->oom; p++) {
		yaml_node_t *pn = node_at(c, *p);
		struct sg_rule r;

		memset(&r, 0, sizeof(r));
		if (!resolve_peer(c, pn, &r) || !ok)
			continue;
		r.dir = dir;
		r.proto = rs.proto;
		r.port_lo = rs.lo;
		r.port_hi = rs.hi;
		r.icmp_type = rs.itype;
		r.icmp_code = rs.icode;
		r.pos = npos(c, n);
		r.peer_text = xstrdup(c, scalar(pn));
		r.text = rule_text(c, &rs, dir, scalar(pn), "");
		r.description = xstrdup(c, desc);
		add_rule(c, g, gb, &r, npos(c, pn));
	}
}

static void parse_rule_list(struct ctx *c, struct sg_group *g,
			    struct gbuild *gb, int dir, yaml_node_t *list)
{
	struct items it;
	yaml_node_item_t *p;

	if (!list_items(c, list, dir == SG_DIR_IN ? "inbound" : "outbound",
			false, &it))
		return;
	for (p = it.start; p < it.top && !c->stop && !c->oom; p++)
		parse_rule(c, g, gb, dir, node_at(c, *p));
}

static void add_all_rule(struct ctx *c, struct sg_group *g, struct gbuild *gb,
			 int dir, const char *peer, struct sg_pos pos,
			 const char *suffix)
{
	struct rspec rs = {NULL, SG_PROTO_ALL, -1, -1, -1, -1};
	struct sg_rule r;

	memset(&r, 0, sizeof(r));
	r.dir = dir;
	r.proto = SG_PROTO_ALL;
	r.port_lo = r.port_hi = -1;
	r.icmp_type = r.icmp_code = -1;
	r.pos = pos;
	if (!strncmp(peer, "sg-", 3)) {
		r.peer_kind = SG_PEER_GROUP;
		r.peer_index = (int)(g - c->cfg->groups);
	} else {
		r.peer_kind = SG_PEER_CIDR;
		r.peer_index = -1;
		sg_prefix_parse(peer, &r.cidr, NULL);
	}
	r.peer_text = xstrdup(c, peer);
	r.text = rule_text(c, &rs, dir, peer, suffix);
	add_rule(c, g, gb, &r, pos);
}

static int rule_cmp(const struct sg_rule *a, const struct sg_rule *b)
{
#define CMP(x, y)                                                              \
	do {                                                                   \
		if ((x) != (y))                                                \
			return (x) < (y) ? -1 : 1;                             \
	} while (0)
	CMP(a->dir, b->dir);
	CMP(a->proto, b->proto);
	CMP(a->port_lo, b->port_lo);
	CMP(a->port_hi, b->port_hi);
	CMP(a->icmp_type, b->icmp_type);
	CMP(a->icmp_code, b->icmp_code);
	CMP((int)a->peer_kind, (int)b->peer_kind);
	if (a->peer_kind == SG_PEER_CIDR)
		return sg_prefix_cmp(&a->cidr, &b->cidr);
	CMP(a->peer_index, b->peer_index);
	return 0;
#undef CMP
}

static int rule_ix_cmp(const void *a, const void *b, void *arg)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct sg_rule *rules = arg;
	int r = rule_cmp(&rules[x], &rules[y]);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

static void check_duplicates(struct ctx *c, struct sg_group *g,
			     struct gbuild *gb)
{
	size_t *ix, i, first;
	char wb[WHERE_LEN];

	if (g->nrules < 2)
		return;
	ix = malloc(g->nrules * sizeof(*ix));
	if (!ix) {
		c->oom = true;
		return;
	}
	for (i = 0; i < g->nrules; i++)
		ix[i] = i;
	qsort_r(ix, g->nrules, sizeof(*ix), rule_ix_cmp, g->rules);
	for (first = 0, i = 1; i < g->nrules; i++) {
		if (rule_cmp(&g->rules[ix[first]], &g->rules[ix[i]])) {
			first = i;
			continue;
		}
		sg_error(c->diag, gb->ppos[ix[i]], E_DUPRULE,
			 "%s already has this rule: %s (%s)", g->id,
			 g->rules[ix[first]].text,
			 where(gb->ppos[ix[i]], gb->ppos[ix[first]], wb,
			       sizeof(wb)));
	}
	free(ix);
}

/*
 * Quotas (SPEC section 1): 60 rules per group and direction, counted per
 * address family. A CIDR counts 1 in its family; a group reference counts 1
 * in both (its members may have either); a prefix list counts max_entries
 * in each family it holds entries of (both when it is empty, as it may
 * grow either way).
 *
 * For the instance quota (groups x rules per group <= 1000) a group's "rules
 * per group" is its larger direction with both families together, a
 * reference counted once: with the per-family cap alone 16 x 60 could never
 * exceed 1000, which is not what AWS means to bound.
 */
static void check_quota(struct ctx *c, struct sg_group *g, struct gbuild *gb,
			struct gsrc *gs)
{
	size_t cnt[SG_NDIR][2] = {{0}}, tot[SG_NDIR] = {0};
	bool told[SG_NDIR][2] = {{false}};
	size_t i;
	int f;

	for (i = 0; i < g->nrules; i++) {
		const struct sg_rule *r = &g->rules[i];
		size_t add[2] = {0, 0};

		switch (r->peer_kind) {
		case SG_PEER_CIDR:
			add[r->cidr.family == 6] = 1;
			tot[r->dir] += 1;
			break;
		case SG_PEER_GROUP:
			add[0] = add[1] = 1;
			tot[r->dir] += 1;
			break;
		case SG_PEER_PREFIX_LIST: {
			const struct sg_prefix_list *pl =
				&c->cfg->prefix_lists[r->peer_index];
			bool v4 = false, v6 = false;
			size_t j;

			for (j = 0; j < pl->nentries; j++) {
				v4 |= pl->entries[j].family == 4;
				v6 |= pl->entries[j].family == 6;
			}
			if (!v4 && !v6)
				v4 = v6 = true;
			add[0] = v4 ? (size_t)pl->max_entries : 0;
			add[1] = v6 ? (size_t)pl->max_entries : 0;
			tot[r->dir] += (size_t)pl->max_entries;
			break;
		}
		}
		for (f = 0; f < 2; f++) {
			cnt[r->dir][f] += add[f];
			if (cnt[r->dir][f] > SG_MAX_RULES_PER_DIR &&
			    !told[r->dir][f]) {
				told[r->dir][f] = true;
				sg_error(c->diag, gb->ppos[i], E_RULELIMIT,
					 "%s has more than %d %s %s rules "
					 "(this rule brings it to %zu)",
					 g->id, SG_MAX_RULES_PER_DIR,
					 r->dir == SG_DIR_IN ? "inbound"
							     : "outbound",
					 f ? "IPv6" : "IPv4", cnt[r->dir][f]);
			}
		}
	}
	gs->per_sg = tot[SG_DIR_IN] > tot[SG_DIR_OUT] ? tot[SG_DIR_IN]
						      : tot[SG_DIR_OUT];
}

static void build_group_rules(struct ctx *c, size_t gi)
{
	struct sg_group *g = &c->cfg->groups[gi];
	struct gsrc *gs = &c->gsrc[gi];
	struct gbuild gb = {0, NULL, 0};
	int order[2] = {SG_DIR_IN, SG_DIR_OUT};
	int k;

	if (g->implicit) {
		add_all_rule(c, g, &gb, SG_DIR_IN, g->id, g->pos, "");
		add_all_rule(c, g, &gb, SG_DIR_OUT, "0.0.0.0/0", g->pos, "");
		add_all_rule(c, g, &gb, SG_DIR_OUT, "::/0", g->pos, "");
	} else {
		if (gs->out_first) {
			order[0] = SG_DIR_OUT;
			order[1] = SG_DIR_IN;
		}
		for (k = 0; k < 2; k++)
			if (gs->rules[order[k]])
				parse_rule_list(c, g, &gb, order[k],
						gs->rules[order[k]]);
		if (!gs->has_out) {
			add_all_rule(c, g, &gb, SG_DIR_OUT, "0.0.0.0/0", g->pos,
				     " (default egress)");
			add_all_rule(c, g, &gb, SG_DIR_OUT, "::/0", g->pos,
				     " (default egress)");
		}
	}
	if (!c->oom && !c->stop) {
		check_duplicates(c, g, &gb);
		check_quota(c, g, &gb, gs);
	}
	free(gb.ppos);
}

static struct ix *build_ix(struct ctx *c, size_t n,
			   const char *(*get)(struct ctx *, size_t))
{
	struct ix *t = calloc(n + 1, sizeof(*t));
	size_t i;

	if (!t) {
		c->oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		t[i].s = get(c, i);
		if (!t[i].s)
			t[i].s = "";
		t[i].i = i;
	}
	qsort(t, n, sizeof(*t), ix_cmp);
	return t;
}

static const char *group_id_at(struct ctx *c, size_t i)
{
	return c->cfg->groups[i].id;
}

static const char *pl_id_at(struct ctx *c, size_t i)
{
	return c->cfg->prefix_lists[i].id;
}

/* ---- Instances ---- */

static void parse_conntrack(struct ctx *c, struct sg_instance *in,
			    yaml_node_t *n)
{
	static const struct {
		const char *key;
		unsigned long long lo, hi;
		size_t off;
	} f[] = {
		{"tcp_established", 60, 432000,
		 offsetof(struct sg_ct_limits, tcp_established)},
		{"udp_stream", 60, 180,
		 offsetof(struct sg_ct_limits, udp_stream)},
		{"udp", 30, 60, offsetof(struct sg_ct_limits, udp)},
		{"max_entries", 1, 16777216,
		 offsetof(struct sg_ct_limits, max_entries)},
	};
	struct kv *kv = NULL;
	size_t i, j, nkv;

	if (is_null(n) || !want_map(c, n, "conntrack"))
		return;
	nkv = map_items(c, n, "key", E_PARAM, &kv);
	for (i = 0; i < nkv; i++) {
		unsigned long long v;
		char what[64];

		for (j = 0; j < sizeof(f) / sizeof(f[0]); j++)
			if (!strcmp(kv[i].key, f[j].key))
				break;
		if (j == sizeof(f) / sizeof(f[0])) {
			ERR(c, kv[i].k, E_PARAM,
			    "unknown key '%s' in conntrack (expected "
			    "tcp_established, udp_stream, udp, max_entries)",
			    kv[i].key);
			continue;
		}
		snprintf(what, sizeof(what), "conntrack %s", f[j].key);
		if (get_uint_range(c, kv[i].v, what, f[j].lo, f[j].hi, &v))
			*(uint32_t *)((char *)&in->ct + f[j].off) = (uint32_t)v;
	}
	free(kv);
}

static bool parse_bool(const char *s, bool *v)
{
	static const char *const t[] = {"true", "yes", "on"};
	static const char *const f[] = {"false", "no", "off"};
	size_t i;

	for (i = 0; s && i < 3; i++) {
		if (!strcasecmp(s, t[i])) {
			*v = true;
			return true;
		}
		if (!strcasecmp(s, f[i])) {
			*v = false;
			return true;
		}
	}
	return false;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SG_IFNAME_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' ||
		    *s == 0x7f)
			return false;
	return true;
}

/* Returns how many groups the list names (valid or not). */
static size_t parse_instance_groups(struct ctx *c, struct sg_instance *in,
				    yaml_node_t *n)
{
	struct sg_config *cfg = c->cfg;
	size_t cap = 0, i, max_rules = 0, count = 0;
	const char *widest = NULL;
	struct items it;
	yaml_node_item_t *p;

	if (!list_items(c, n, "security_groups", true, &it))
		return 1;
	for (p = it.start; p < it.top && !c->stop; p++) {
		yaml_node_t *gn = node_at(c, *p);
		const char *s = scalar(gn);
		int gi = -1;

		count++;
		if (!s || is_null(gn)) {
			ERR(c, gn, E_PARAM,
			    "security_groups items must be group ids, not %s",
			    node_kind(gn));
			continue;
		}
		gi = ix_find(c->gids, c->ngids, s);
		if (gi < 0 && !strcmp(s, "default"))
			gi = c->default_group; /* maybe implicit: not in gnames
						*/
		else if (gi < 0 && strncmp(s, "sg-", 3))
			gi = ix_find(c->gnames, c->ngnames, s);
		if (gi < 0) {
			ERR(c, gn, E_NOTFOUND,
			    "security group %s does not exist in %s", s,
			    cfg->vpc);
			continue;
		}
		for (i = 0; i < in->ngroups; i++)
			if (in->groups[i] == gi)
				break;
		if (i < in->ngroups) {
			ERR(c, gn, E_PARAM, "%s lists %s twice", in->id, s);
			continue;
		}
		if (in->ngroups >= SG_MAX_GROUPS_PER_INSTANCE)
			continue; /* reported below, with the full count */
		if (!RESERVE(c, in->groups, cap, in->ngroups + 1))
			return count;
		in->groups[in->ngroups++] = gi;
		if (c->gsrc[gi].per_sg > max_rules) {
			max_rules = c->gsrc[gi].per_sg;
			widest = cfg->groups[gi].id;
		}
	}
	if (count > SG_MAX_GROUPS_PER_INSTANCE)
		ERR(c, n, E_SGLIMIT,
		    "%s has %zu security groups; the limit is %d", in->id,
		    count, SG_MAX_GROUPS_PER_INSTANCE);
	else if (in->ngroups * max_rules > SG_MAX_RULES_PER_INSTANCE)
		ERR(c, n, E_RULELIMIT,
		    "%s: %zu groups x %zu rules (%s) = %zu, above the limit of "
		    "%d rules per interface",
		    in->id, in->ngroups, max_rules, widest,
		    in->ngroups * max_rules, SG_MAX_RULES_PER_INSTANCE);
	return count;
}

static void parse_instance(struct ctx *c, struct kv *e)
{
	struct sg_config *cfg = c->cfg;
	yaml_node_t *ipsn = NULL, *groupsn = NULL;
	struct sg_instance *in;
	struct kv *kv = NULL;
	size_t i, nkv, cap = 0;
	struct items it;
	yaml_node_item_t *p;

	if (!valid_id(e->key, "i-") && !valid_id(e->key, "eni-"))
		ERR(c, e->k, E_PARAM,
		    "instance id '%s' must be i- or eni- followed by letters, "
		    "digits, '-', '_' or '.' (at most %d characters)",
		    e->key, SG_ID_LEN - 1);
	if (!RESERVE(c, cfg->instances, c->icap, cfg->ninstances + 1))
		return;
	in = &cfg->instances[cfg->ninstances++];
	memset(in, 0, sizeof(*in));
	in->id = xstrdup(c, e->key);
	in->pos = npos(c, e->k);
	in->source_dest_check = true;
	in->ct.tcp_established = 432000;
	in->ct.udp_stream = 180;
	in->ct.udp = 30;
	in->ct.max_entries = 65536;

	if (!is_null(e->v) && want_map(c, e->v, "an instance")) {
		nkv = map_items(c, e->v, "key", E_PARAM, &kv);
		for (i = 0; i < nkv; i++) {
			const char *k = kv[i].key, *s;

			if (!strcmp(k, "interface")) {
				s = get_str(c, kv[i].v, "interface", 0);
				if (s && !valid_ifname(s))
					ERR(c, kv[i].v, E_PARAM,
					    "interface '%s' is not a valid "
					    "interface name (1-%d characters, "
					    "no '/', ':' or spaces)",
					    s, SG_IFNAME_LEN - 1);
				else if (s)
					in->interface = xstrdup(c, s);
			} else if (!strcmp(k, "ips")) {
				ipsn = kv[i].v;
			} else if (!strcmp(k, "security_groups")) {
				groupsn = kv[i].v;
			} else if (!strcmp(k, "source_dest_check")) {
				s = scalar(kv[i].v);
				if (!parse_bool(s, &in->source_dest_check))
					ERR(c, kv[i].v, E_PARAM,
					    "source_dest_check must be true or "
					    "false");
			} else if (!strcmp(k, "conntrack")) {
				parse_conntrack(c, in, kv[i].v);
			} else {
				ERR(c, kv[i].k, E_PARAM,
				    "unknown key '%s' in instance %s (expected "
				    "interface, ips, security_groups, "
				    "source_dest_check, conntrack)",
				    k, e->key);
			}
		}
		free(kv);
	}

	if (!ipsn) {
		ERR(c, e->k, E_MISSING, "instance %s needs ips", e->key);
	} else if (list_items(c, ipsn, "ips", true, &it)) {
		if (it.start == it.top)
			ERR(c, ipsn, E_MISSING,
			    "instance %s needs at least one address in ips",
			    e->key);
		for (p = it.start; p < it.top && !c->stop; p++) {
			yaml_node_t *an = node_at(c, *p);
			const char *s = scalar(an);
			struct sg_prefix a;
			bool masked;

			if (!s || is_null(an) ||
			    sg_prefix_parse(s, &a, &masked) < 0) {
				ERR(c, an, E_PARAM,
				    "'%s' is not an IPv4 or IPv6 address",
				    s && !is_null(an) ? s : node_kind(an));
				continue;
			}
			if (a.len != (a.family == 4 ? 32 : 128)) {
				ERR(c, an, E_PARAM,
				    "ips takes addresses, not networks: '%s'",
				    s);
				continue;
			}
			if (!RESERVE(c, in->ips, cap, in->nips + 1) ||
			    !RESERVE(c, c->ips, c->ipcap, c->nips + 1))
				return;
			in->ips[in->nips++] = a;
			c->ips[c->nips].p = a;
			c->ips[c->nips].inst = cfg->ninstances - 1;
			c->ips[c->nips].order = c->nips;
			c->ips[c->nips].pos = npos(c, an);
			c->nips++;
		}
	}

	/* None listed: the VPC's default group, as AWS does. */
	if (!(groupsn ? parse_instance_groups(c, in, groupsn) : 0) && !c->oom &&
	    c->default_group >= 0) {
		in->groups = malloc(sizeof(*in->groups));
		if (!in->groups) {
			c->oom = true;
			return;
		}
		in->groups[0] = c->default_group;
		in->ngroups = 1;
	}
}

static int ipref_cmp(const void *a, const void *b)
{
	const struct ipref *x = a, *y = b;
	int r = sg_prefix_cmp(&x->p, &y->p);

	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* An address belongs to one instance, and once. */
static void check_addresses(struct ctx *c)
{
	struct sg_config *cfg = c->cfg;
	size_t i, first;
	char buf[64], wb[WHERE_LEN];

	if (c->nips < 2)
		return;
	qsort(c->ips, c->nips, sizeof(*c->ips), ipref_cmp);
	for (first = 0, i = 1; i < c->nips; i++) {
		const struct ipref *a = &c->ips[first], *b = &c->ips[i];
		char *slash;

		if (sg_prefix_cmp(&a->p, &b->p)) {
			first = i;
			continue;
		}
		sg_prefix_str(&b->p, buf, sizeof(buf));
		slash = strchr(buf, '/');
		if (slash)
			*slash = '\0';
		if (a->inst == b->inst)
			sg_error(c->diag, b->pos, E_PARAM, "%s lists %s twice",
				 cfg->instances[b->inst].id, buf);
		else
			sg_error(c->diag, b->pos, E_PARAM,
				 "address %s is already used by %s (%s)", buf,
				 cfg->instances[a->inst].id,
				 where(b->pos, a->pos, wb, sizeof(wb)));
	}
}

/* attach finds an instance by its interface: it must be unambiguous. */
static void check_interfaces(struct ctx *c)
{
	struct sg_config *cfg = c->cfg;
	size_t i, n = 0, first;
	char wb[WHERE_LEN];
	struct ix *s = calloc(cfg->ninstances + 1, sizeof(*s));

	if (!s) {
		c->oom = true;
		return;
	}
	for (i = 0; i < cfg->ninstances; i++)
		if (cfg->instances[i].interface) {
			s[n].s = cfg->instances[i].interface;
			s[n++].i = i;
		}
	qsort(s, n, sizeof(*s), ix_cmp);
	for (first = 0, i = 1; i < n; i++) {
		const struct sg_instance *a, *b;

		if (strcmp(s[i].s, s[first].s)) {
			first = i;
			continue;
		}
		a = &cfg->instances[s[first].i];
		b = &cfg->instances[s[i].i];
		sg_error(c->diag, b->pos, E_PARAM,
			 "interface %s is already used by %s (%s)",
			 b->interface, a->id,
			 where(b->pos, a->pos, wb, sizeof(wb)));
	}
	free(s);
}

/* ---- The document ---- */

static void set_str(struct ctx *c, char **dst, yaml_node_t *n, const char *what,
		    const char *prefix)
{
	const char *s = get_str(c, n, what, 0);

	if (!s)
		return;
	if (prefix && !valid_id(s, prefix)) {
		ERR(c, n, E_PARAM,
		    "%s '%s' must be %s followed by letters, digits, '-', '_' "
		    "or '.' (at most %d characters)",
		    what, s, prefix, SG_ID_LEN - 1);
		return;
	}
	if (!prefix && (!*s || strlen(s) >= SG_ID_LEN || strchr(s, ' '))) {
		ERR(c, n, E_PARAM,
		    "%s '%s' must be 1-%d characters without spaces", what, s,
		    SG_ID_LEN - 1);
		return;
	}
	free(*dst);
	*dst = xstrdup(c, s);
}

static void walk(struct ctx *c, yaml_node_t *root)
{
	struct sg_config *cfg = c->cfg;
	yaml_node_t *pln = NULL, *sgn = NULL, *inn = NULL;
	struct kv *kv = NULL, *items = NULL;
	size_t i, n = 0, ni;

	if (root && !is_null(root) &&
	    want_map(c, root,
		     "the config (vpc, security_groups, instances, ...)"))
		n = map_items(c, root, "key", E_PARAM, &kv);
	for (i = 0; i < n; i++) {
		const char *k = kv[i].key;

		if (!strcmp(k, "vpc")) {
			set_str(c, &cfg->vpc, kv[i].v, "vpc", "vpc-");
		} else if (!strcmp(k, "region")) {
			set_str(c, &cfg->region, kv[i].v, "region", NULL);
		} else if (!strcmp(k, "account")) {
			const char *s = get_str(c, kv[i].v, "account", 0);
			size_t j;

			for (j = 0; s && s[j] >= '0' && s[j] <= '9'; j++)
				;
			if (s && (j != 12 || s[j]))
				ERR(c, kv[i].v, E_PARAM,
				    "account must be 12 digits, not '%s'", s);
			else if (s) {
				free(cfg->account);
				cfg->account = xstrdup(c, s);
			}
		} else if (!strcmp(k, "prefix_lists")) {
			pln = kv[i].v;
		} else if (!strcmp(k, "security_groups")) {
			sgn = kv[i].v;
		} else if (!strcmp(k, "instances")) {
			inn = kv[i].v;
		} else {
			ERR(c, kv[i].k, E_PARAM,
			    "unknown key '%s' (expected vpc, region, account, "
			    "prefix_lists, security_groups, instances)",
			    k);
		}
	}
	free(kv);

	/* Prefix lists and group ids first: rules may name them before
	 * they are defined. */
	if (pln && !is_null(pln) && want_map(c, pln, "prefix_lists")) {
		ni = map_items(c, pln, "prefix list", E_PARAM, &items);
		for (i = 0; i < ni && !c->oom; i++)
			parse_prefix_list(c, &items[i]);
		free(items);
	}
	if (sgn && !is_null(sgn) && want_map(c, sgn, "security_groups")) {
		ni = map_items(c, sgn, "security group", E_GDUP, &items);
		for (i = 0; i < ni && !c->oom; i++)
			parse_group(c, &items[i]);
		free(items);
	}
	if (c->oom)
		return;
	settle_names(c);
	if (c->default_group < 0) {
		struct sg_group *g = new_group(c);

		if (!g)
			return;
		g->id = xstrdup(c, DEFAULT_GROUP_ID);
		g->name = xstrdup(c, "default");
		g->description = xstrdup(c, "default VPC security group");
		g->implicit = true;
		g->pos.file = c->file;
		c->default_group = (int)cfg->ngroups - 1;
	}
	c->gids = build_ix(c, cfg->ngroups, group_id_at);
	c->ngids = cfg->ngroups;
	c->plids = build_ix(c, cfg->nprefix_lists, pl_id_at);
	c->nplids = cfg->nprefix_lists;
	c->undef_base = cfg->ngroups;
	for (i = 0; i < cfg->ngroups && !c->oom && !c->stop; i++)
		build_group_rules(c, i);
	for (i = 0; i < c->nundef && !c->oom; i++) {
		struct sg_group *g = new_group(c);

		if (!g)
			return;
		g->id = c->undef[i];
		c->undef[i] = NULL;
		g->undefined = true;
		g->pos = c->undef_pos[i];
	}

	if (c->oom || c->stop || !inn || is_null(inn) ||
	    !want_map(c, inn, "instances"))
		return;
	ni = map_items(c, inn, "instance", E_PARAM, &items);
	if (ni > SG_MAX_CONFIG_INSTANCES)
		ERR(c, inn, E_PARAM, "%zu instances; at most %d are supported",
		    ni, SG_MAX_CONFIG_INSTANCES);
	else
		for (i = 0; i < ni && !c->oom && !c->stop; i++)
			parse_instance(c, &items[i]);
	free(items);
	if (!c->oom) {
		check_addresses(c);
		check_interfaces(c);
	}
}

/* Line and column (in characters) of a byte offset. */
static struct sg_pos offset_pos(struct ctx *c, size_t off)
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

static bool check_flow_depth(struct ctx *c)
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
static bool check_utf8(struct ctx *c)
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

/*
 * "\0" in a double-quoted scalar: C strings would stop there and read
 * "10.0.0.0/8\0junk" as a valid CIDR. Refuse such scalars anywhere.
 */
static void check_nul_scalars(struct ctx *c, yaml_document_t *doc)
{
	yaml_node_t *n;

	for (n = doc->nodes.start; n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE &&
		    strlen((const char *)n->data.scalar.value) !=
			    n->data.scalar.length)
			ERR(c, n, E_PARAM, "NUL character in a value");
}

static int yaml_fail(struct ctx *c, yaml_parser_t *p)
{
	struct sg_pos pos;

	if (p->error == YAML_MEMORY_ERROR) {
		c->oom = true;
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

static void sort_entries(struct sg_diag *d, size_t start, size_t n);

static int diag_cmp(const void *a, const void *b, void *arg)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct sg_diag_entry *e = arg;
	const struct sg_pos *p = &e[x].pos, *q = &e[y].pos;

	if (p->line != q->line)
		return p->line < q->line ? -1 : 1;
	if (p->col != q->col)
		return p->col < q->col ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Passes run in several orders; print in file order, stably. Past
 * SG_DIAG_MAX entries the rest are dropped and a last line says so.
 */
static void sort_diag(struct sg_diag *d, size_t start)
{
	size_t n = d->nentries - start, i;
	struct sg_pos pos;

	if (n < 2)
		return;
	sort_entries(d, start, n);
	if (n <= SG_DIAG_MAX)
		return;
	for (i = start + SG_DIAG_MAX; i < d->nentries; i++) {
		free(d->entries[i].code);
		free(d->entries[i].message);
	}
	d->nentries = start + SG_DIAG_MAX;
	pos.file = d->entries[start].pos.file;
	pos.line = pos.col = 0;
	/* nerrors/nwarnings keep counting what was found. */
	sg_diag_add(d, SG_ERROR, pos, NULL,
		    "too many problems: %zu, the first %d shown", n,
		    SG_DIAG_MAX);
	d->nerrors--;
}

static void sort_entries(struct sg_diag *d, size_t start, size_t n)
{
	size_t i, *ix;
	struct sg_diag_entry *tmp;

	ix = malloc(n * sizeof(*ix));
	tmp = malloc(n * sizeof(*tmp));
	if (ix && tmp) {
		for (i = 0; i < n; i++)
			ix[i] = start + i;
		qsort_r(ix, n, sizeof(*ix), diag_cmp, d->entries);
		for (i = 0; i < n; i++)
			tmp[i] = d->entries[ix[i]];
		memcpy(d->entries + start, tmp, n * sizeof(*tmp));
	}
	free(ix);
	free(tmp);
}

/* The context of one parse; cfg gets its defaults. */
static void ctx_init(struct ctx *c, const char *name, const char *text,
		     size_t len, struct sg_config *cfg, struct sg_diag *diag)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(c, 0, sizeof(*c));
	c->diag = diag;
	c->cfg = cfg;
	c->file = sg_diag_intern(diag, name ? name : "<config>");
	c->text = (const unsigned char *)(text ? text : "");
	c->len = text ? len : 0;
	c->default_group = -1;

	cfg->vpc = xstrdup(c, "vpc-default");
	cfg->region = xstrdup(c, "local");
	cfg->account = xstrdup(c, "000000000000");
}

/*
 * c->text into doc. Returns 0 when doc holds the document (errors, such as
 * a second document, may still be in the diag), else -EINVAL or -ENOMEM
 * with doc untouched.
 */
static int yaml_load(struct ctx *c, yaml_document_t *doc)
{
	yaml_document_t extra;
	yaml_parser_t parser;
	yaml_node_t *root2;
	int rc = 0;

	if (c->len > SG_CONFIG_MAX_SIZE) {
		sg_error(c->diag, (struct sg_pos){c->file, 0, 0}, NULL,
			 "the config is larger than %u MiB",
			 SG_CONFIG_MAX_SIZE >> 20);
		return -EINVAL;
	}
	if (!check_utf8(c) || !check_flow_depth(c))
		return -EINVAL;
	if (!yaml_parser_initialize(&parser)) {
		c->oom = true;
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

static void walk_doc(struct ctx *c, yaml_document_t *doc)
{
	c->doc = doc;
	check_nul_scalars(c, doc);
	c->budget =
		4 * (size_t)(doc->nodes.top - doc->nodes.start) + (1u << 20);
	walk(c, yaml_document_get_root_node(doc));
	c->doc = NULL;
}

static int ctx_finish(struct ctx *c, size_t start, size_t errors)
{
	struct sg_diag *diag = c->diag;

	free(c->gsrc);
	free(c->gids);
	free(c->gnames);
	free(c->plids);
	free(c->ips);
	for (size_t i = 0; i < c->nundef; i++)
		free(c->undef[i]);
	free(c->undef);
	free(c->undef_pos);
	sort_diag(diag, start);
	if (c->oom) {
		sg_config_free(c->cfg);
		return -ENOMEM;
	}
	if (diag->nerrors > errors) {
		sg_config_free(c->cfg);
		return -EINVAL;
	}
	return 0;
}

int sg_config_parse_string(const char *name, const char *text, size_t len,
			   struct sg_config *cfg, struct sg_diag *diag)
{
	size_t start = diag->nentries, errors = diag->nerrors;
	yaml_document_t doc;
	struct ctx c;

	/* What load stored for several inputs or AWS JSON (inputs.c). */
	if (text && sg_inputs_is_archive(text, len))
		return sg_config_parse_blob(text, len, cfg, diag);
	ctx_init(&c, name, text, len, cfg, diag);
	if (!yaml_load(&c, &doc)) {
		walk_doc(&c, &doc);
		yaml_document_delete(&doc);
	}
	return ctx_finish(&c, start, errors);
}

int sg_yaml_load(const char *name, const char *text, size_t len,
		 yaml_document_t *doc, struct sg_diag *diag)
{
	size_t start = diag->nentries;
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.diag = diag;
	c.file = sg_diag_intern(diag, name ? name : "<config>");
	c.text = (const unsigned char *)(text ? text : "");
	c.len = text ? len : 0;
	rc = yaml_load(&c, doc);
	sort_diag(diag, start);
	return c.oom && !rc ? -ENOMEM : rc;
}

int sg_config_parse_doc(yaml_document_t *doc, const char *name,
			const struct sg_doc_origin *origin,
			struct sg_config *cfg, struct sg_diag *diag)
{
	size_t start = diag->nentries, errors = diag->nerrors;
	struct ctx c;

	ctx_init(&c, name, NULL, 0, cfg, diag);
	c.origin = origin;
	walk_doc(&c, doc);
	return ctx_finish(&c, start, errors);
}

int sg_config_parse_file(const char *path, struct sg_config *cfg,
			 struct sg_diag *diag)
{
	size_t len = 0, cap = 0;
	const char *name;
	bool use_stdin = !strcmp(path, "-");
	struct stat st;
	char *buf = NULL, *nb;
	FILE *f;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	name = sg_diag_intern(diag, use_stdin ? "<stdin>" : path);
	f = use_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return -errno;
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) &&
	    st.st_size > (off_t)SG_CONFIG_MAX_SIZE)
		goto too_big;
	/* Read at most one byte past the limit: pipes have no size. */
	for (;;) {
		size_t got;

		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SG_CONFIG_MAX_SIZE + 1)
				cap = SG_CONFIG_MAX_SIZE + 1;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > SG_CONFIG_MAX_SIZE)
			goto too_big;
		if (got == 0) {
			if (ferror(f)) {
				rc = errno ? -errno : -EIO;
				goto out;
			}
			break;
		}
	}
	rc = sg_config_parse_string(name, buf, len, cfg, diag);
	goto out;
too_big:
	sg_error(diag, (struct sg_pos){name, 0, 0}, NULL,
		 "the config is larger than %u MiB", SG_CONFIG_MAX_SIZE >> 20);
	rc = -EINVAL;
out:
	free(buf);
	if (!use_stdin)
		fclose(f);
	return rc;
}

static void free_rule(struct sg_rule *r)
{
	free(r->peer_text);
	free(r->text);
	free(r->description);
}

void sg_config_free(struct sg_config *cfg)
{
	size_t i, j;

	if (!cfg)
		return;
	free(cfg->vpc);
	free(cfg->region);
	free(cfg->account);
	for (i = 0; i < cfg->nprefix_lists; i++) {
		free(cfg->prefix_lists[i].id);
		free(cfg->prefix_lists[i].entries);
	}
	free(cfg->prefix_lists);
	for (i = 0; i < cfg->ngroups; i++) {
		struct sg_group *g = &cfg->groups[i];

		free(g->id);
		free(g->name);
		free(g->description);
		for (j = 0; j < g->nrules; j++)
			free_rule(&g->rules[j]);
		free(g->rules);
	}
	free(cfg->groups);
	for (i = 0; i < cfg->ninstances; i++) {
		struct sg_instance *in = &cfg->instances[i];

		free(in->id);
		free(in->interface);
		free(in->ips);
		free(in->groups);
	}
	free(cfg->instances);
	memset(cfg, 0, sizeof(*cfg));
}

int sg_config_find_group(const struct sg_config *cfg, const char *id)
{
	size_t i;

	for (i = 0; id && i < cfg->ngroups; i++)
		if (cfg->groups[i].id && !strcmp(cfg->groups[i].id, id))
			return (int)i;
	return -1;
}

int sg_config_find_instance(const struct sg_config *cfg, const char *id)
{
	size_t i;

	for (i = 0; id && i < cfg->ninstances; i++)
		if (cfg->instances[i].id && !strcmp(cfg->instances[i].id, id))
			return (int)i;
	return -1;
}
