// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The config validator (docs/semantics.md §2, docs/usage.md): the
 * document walk.
 *
 * libyaml composes the whole document into nodes that carry their place in
 * the text (input/); we walk those nodes against a fixed schema, report
 * every problem (not just the first) with its line, column and AWS-style
 * code, and build the model of model.h. Any error leaves the caller with
 * an empty config. This file holds the top keys, the prefix lists and
 * pass 1 over the groups; rules.c and instances.c the rest (see
 * config_priv.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_priv.h"
#include "config/prefix.h"
#include "input/inputs.h"

#define SG_PL_MAX_ENTRIES 1000
/* Diagnostics kept per parse: enough for any file a person wrote. */
#define SG_DIAG_MAX 1000

#define DEFAULT_GROUP_ID "sg-default"

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

	if (!cfg_valid_id(e->key, "pl-"))
		ERR(c, e->k, SG_E_PARAM,
		    "prefix list id '%s' must be pl- followed by letters, "
		    "digits, '-', '_' or '.' (at most %d characters)",
		    e->key, SG_ID_LEN - 1);
	if (!RESERVE(c, cfg->prefix_lists, c->plcap, cfg->nprefix_lists + 1))
		return;
	pl = &cfg->prefix_lists[cfg->nprefix_lists++];
	memset(pl, 0, sizeof(*pl));
	pl->id = cfg_strdup(c, e->key);
	pl->pos = cfg_pos(c, e->k);

	if (!sg_yaml_is_null(e->v) && cfg_want_map(c, e->v, "a prefix list")) {
		n = cfg_map_items(c, e->v, "key", SG_E_PARAM, &kv);
		for (i = 0; i < n; i++) {
			if (!strcmp(kv[i].key, "max_entries"))
				have_max = cfg_uint_range(
					c, kv[i].v, "max_entries", 1,
					SG_PL_MAX_ENTRIES, &max);
			else if (!strcmp(kv[i].key, "entries"))
				entries = kv[i].v;
			else
				ERR(c, kv[i].k, SG_E_PARAM,
				    "unknown key '%s' in prefix list %s "
				    "(expected max_entries, entries)",
				    kv[i].key, e->key);
		}
		free(kv);
	}

	if (entries && cfg_list_items(c, entries, "entries", false, &it)) {
		for (p = it.start; p < it.top && !c->stop; p++) {
			yaml_node_t *en = cfg_node(c, *p);
			struct sg_prefix pfx;
			const char *s = sg_yaml_scalar(en);
			bool masked;
			char buf[64];
			size_t j;

			if (!s || sg_yaml_is_null(en) ||
			    sg_prefix_parse(s, &pfx, &masked) < 0 ||
			    !strchr(s, '/')) {
				ERR(c, en, SG_E_PARAM,
				    "prefix list entry '%s' is not a CIDR "
				    "(a.b.c.d/n or an IPv6 prefix)",
				    s ? s : sg_yaml_node_kind(en));
				continue;
			}
			if (masked)
				sg_warn(c->diag, cfg_pos(c, en),
					"%s has host bits set; using %s", s,
					sg_prefix_str(&pfx, buf, sizeof(buf)));
			/* Bounded by the 1000-entry cap: a linear scan will do.
			 */
			for (j = 0; j < pl->nentries; j++)
				if (sg_prefix_equal(&pl->entries[j], &pfx))
					break;
			if (j < pl->nentries) {
				ERR(c, en, SG_E_PARAM,
				    "duplicate entry %s in prefix list %s",
				    sg_prefix_str(&pfx, buf, sizeof(buf)),
				    pl->id ? pl->id : "");
				continue;
			}
			if (pl->nentries >= SG_PL_MAX_ENTRIES) {
				ERR(c, en, SG_E_PARAM,
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
			ERR(c, entries, SG_E_PARAM,
			    "prefix list %s has %zu entries, more than its "
			    "max_entries %llu",
			    e->key, pl->nentries, max);
	} else {
		/* Absent: as large as the list, and at least 1 as AWS. */
		pl->max_entries = pl->nentries ? (int)pl->nentries : 1;
	}
}

/* ---- Tags ---- */

void cfg_tags_free(struct sg_tag *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].key);
		free(t[i].value);
	}
	free(t);
}

struct sg_tag *cfg_tags_dup(struct ctx *c, const struct sg_tag *t, size_t n)
{
	struct sg_tag *d;

	if (!n)
		return NULL;
	d = calloc(n, sizeof(*d));
	if (!d) {
		c->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		d[i].key = cfg_strdup(c, t[i].key);
		d[i].value = cfg_strdup(c, t[i].value);
	}
	return d;
}

/* AWS: keys of 1-128 characters, values of at most 256, 50 per resource. */
bool cfg_tags(struct ctx *c, yaml_node_t *n, struct sg_tag **tags,
	      size_t *ntags)
{
	struct kv *kv = NULL;
	size_t i, nkv, cap = 0;
	bool ok = true;

	*tags = NULL;
	*ntags = 0;
	if (sg_yaml_is_null(n))
		return true;
	if (!cfg_want_map(c, n, "tags (Key: Value)"))
		return false;
	nkv = cfg_map_items(c, n, "tag", SG_E_PARAM, &kv);
	if (nkv > 50) {
		ERR(c, n, SG_E_PARAM, "%zu tags; AWS allows at most 50", nkv);
		free(kv);
		return false;
	}
	for (i = 0; i < nkv; i++) {
		const char *v = sg_yaml_is_null(kv[i].v)
					? ""
					: cfg_str(c, kv[i].v, "a tag value", 256);

		if (!*kv[i].key || strlen(kv[i].key) > 128) {
			ERR(c, kv[i].k, SG_E_PARAM,
			    "a tag key must be 1-128 characters");
			ok = false;
			continue;
		}
		if (!v) {
			ok = false;
			continue;
		}
		if (!RESERVE(c, *tags, cap, *ntags + 1))
			break;
		(*tags)[*ntags].key = cfg_strdup(c, kv[i].key);
		(*tags)[(*ntags)++].value = cfg_strdup(c, v);
	}
	free(kv);
	return ok;
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

	if (!cfg_valid_id(e->key, "sg-"))
		ERR(c, e->k, SG_E_PARAM,
		    "security group id '%s' must be sg- followed by letters, "
		    "digits, '-', '_' or '.' (at most %d characters)",
		    e->key, SG_ID_LEN - 1);
	g = new_group(c);
	if (!g)
		return;
	gs = &c->gsrc[c->cfg->ngroups - 1];
	g->id = cfg_strdup(c, e->key);
	g->pos = cfg_pos(c, e->k);
	gs->key = e->k;

	if (sg_yaml_is_null(e->v) || !cfg_want_map(c, e->v, "a security group"))
		return;
	n = cfg_map_items(c, e->v, "key", SG_E_PARAM, &kv);
	for (i = 0; i < n; i++) {
		const char *k = kv[i].key, *s;

		if (!strcmp(k, "name")) {
			s = cfg_str(c, kv[i].v, "name", SG_TEXT_MAX);
			if (!s)
				continue;
			if (!*s)
				ERR(c, kv[i].v, SG_E_PARAM,
				    "name must not be empty");
			else if (!strncasecmp(s, "sg-", 3))
				ERR(c, kv[i].v, SG_E_PARAM,
				    "group name '%s' must not start with sg- "
				    "(names and ids would be ambiguous)",
				    s);
			else
				g->name = cfg_strdup(c, s);
		} else if (!strcmp(k, "description")) {
			s = cfg_str(c, kv[i].v, "description", SG_TEXT_MAX);
			if (s)
				g->description = cfg_strdup(c, s);
		} else if (!strcmp(k, "enforcement")) {
			s = sg_yaml_scalar(kv[i].v);
			if (s && !strcmp(s, "audit"))
				g->audit = true;
			else if (!s || strcmp(s, "enforce"))
				ERR(c, kv[i].v, SG_E_PARAM,
				    "enforcement must be enforce or audit");
		} else if (!strcmp(k, "tags")) {
			cfg_tags(c, kv[i].v, &g->tags, &g->ntags);
		} else if (!strcmp(k, "outside")) {
			s = cfg_str(c, kv[i].v, "outside", SG_TEXT_MAX);
			if (s)
				g->outside = cfg_strdup(c, s);
		} else if (!strcmp(k, "inbound")) {
			gs->rules[SG_DIR_IN] = kv[i].v;
		} else if (!strcmp(k, "outbound")) {
			gs->rules[SG_DIR_OUT] = kv[i].v;
			gs->has_out = true;
			gs->out_first = !gs->rules[SG_DIR_IN];
		} else {
			ERR(c, kv[i].k, SG_E_PARAM,
			    "unknown key '%s' in security group %s (expected "
			    "name, description, tags, enforcement, inbound, "
			    "outbound)",
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
			g->name = cfg_strdup(c, "default");
		else if (strcmp(g->name, "default"))
			sg_error(c->diag, g->pos, SG_E_RESERVED,
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
	qsort(s, n, sizeof(*s), cfg_ix_cmp);
	for (first = 0, i = 1; i < n; i++) {
		const struct sg_group *a, *b;

		if (strcmp(s[i].s, s[first].s)) {
			first = i;
			continue;
		}
		a = &cfg->groups[s[first].i];
		b = &cfg->groups[s[i].i];
		sg_pos_where(b->pos, a->pos, wb, sizeof(wb));
		if (!strcmp(b->name, "default"))
			sg_error(c->diag, b->pos, SG_E_GDUP,
				 "the VPC already has a default group (%s, "
				 "%s); only one group may be named default",
				 a->id, wb);
		else
			sg_error(c->diag, b->pos, SG_E_GDUP,
				 "group name '%s' is already used by %s (%s)",
				 b->name, a->id, wb);
	}
	c->gnames = s;
	c->ngnames = n;
	c->default_group = cfg_ix_find(s, n, "default");
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
	qsort(t, n, sizeof(*t), cfg_ix_cmp);
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

/* ---- The document ---- */

static void set_str(struct ctx *c, char **dst, yaml_node_t *n, const char *what,
		    const char *prefix)
{
	const char *s = cfg_str(c, n, what, 0);

	if (!s)
		return;
	if (prefix && !cfg_valid_id(s, prefix)) {
		ERR(c, n, SG_E_PARAM,
		    "%s '%s' must be %s followed by letters, digits, '-', '_' "
		    "or '.' (at most %d characters)",
		    what, s, prefix, SG_ID_LEN - 1);
		return;
	}
	if (!prefix && (!*s || strlen(s) >= SG_ID_LEN || strchr(s, ' '))) {
		ERR(c, n, SG_E_PARAM,
		    "%s '%s' must be 1-%d characters without spaces", what, s,
		    SG_ID_LEN - 1);
		return;
	}
	free(*dst);
	*dst = cfg_strdup(c, s);
}

/*
 * quotas: {rules_per_group, groups_per_instance}: what the account has,
 * within AWS's hard limits. --quota (c->opts) wins over the file.
 */
static void parse_quotas(struct ctx *c)
{
	unsigned long long v;
	struct kv *kv = NULL;
	size_t i, n;

	if (c->quotas_node && !sg_yaml_is_null(c->quotas_node) &&
	    cfg_want_map(c, c->quotas_node,
			 "quotas (rules_per_group, groups_per_instance)")) {
		n = cfg_map_items(c, c->quotas_node, "key", SG_E_PARAM, &kv);
		for (i = 0; i < n; i++) {
			if (!strcmp(kv[i].key, "rules_per_group")) {
				if (cfg_uint_range(c, kv[i].v,
						   "rules_per_group", 1,
						   SG_MAX_RULES_PER_INSTANCE,
						   &v))
					c->q_rules = (unsigned int)v;
			} else if (!strcmp(kv[i].key, "groups_per_instance")) {
				if (cfg_uint_range(c, kv[i].v,
						   "groups_per_instance", 1,
						   SG_MAX_GROUPS_PER_INSTANCE,
						   &v))
					c->q_groups = (unsigned int)v;
			} else {
				ERR(c, kv[i].k, SG_E_PARAM,
				    "unknown quota '%s' (expected "
				    "rules_per_group, groups_per_instance)",
				    kv[i].key);
			}
		}
		free(kv);
	}
	if (c->opts && c->opts->rules_per_group)
		c->q_rules = c->opts->rules_per_group;
	if (c->opts && c->opts->groups_per_instance)
		c->q_groups = c->opts->groups_per_instance;
	if (c->q_rules && c->q_groups &&
	    (unsigned long)c->q_rules * c->q_groups >
		    SG_MAX_RULES_PER_INSTANCE)
		ERR(c, c->quotas_node, SG_E_RULELIMIT,
		    "quotas: %u rules per group x %u groups per instance = "
		    "%lu, above AWS's hard limit of %d rules per interface "
		    "(lower one of them)",
		    c->q_rules, c->q_groups,
		    (unsigned long)c->q_rules * c->q_groups,
		    SG_MAX_RULES_PER_INSTANCE);
}

static void walk(struct ctx *c, yaml_node_t *root)
{
	struct sg_config *cfg = c->cfg;
	yaml_node_t *pln = NULL, *sgn = NULL, *inn = NULL;
	struct kv *kv = NULL, *items = NULL;
	size_t i, n = 0, ni;

	if (root && !sg_yaml_is_null(root) &&
	    cfg_want_map(c, root,
			 "the config (vpc, security_groups, instances, ...)"))
		n = cfg_map_items(c, root, "key", SG_E_PARAM, &kv);
	for (i = 0; i < n; i++) {
		const char *k = kv[i].key;

		if (!strcmp(k, "vpc")) {
			set_str(c, &cfg->vpc, kv[i].v, "vpc", "vpc-");
		} else if (!strcmp(k, "region")) {
			set_str(c, &cfg->region, kv[i].v, "region", NULL);
		} else if (!strcmp(k, "account")) {
			const char *s = cfg_str(c, kv[i].v, "account", 0);
			size_t j;

			for (j = 0; s && s[j] >= '0' && s[j] <= '9'; j++)
				;
			if (s && (j != 12 || s[j]))
				ERR(c, kv[i].v, SG_E_PARAM,
				    "account must be 12 digits, not '%s'", s);
			else if (s) {
				free(cfg->account);
				cfg->account = cfg_strdup(c, s);
			}
		} else if (!strcmp(k, "quotas")) {
			c->quotas_node = kv[i].v;
		} else if (!strcmp(k, "prefix_lists")) {
			pln = kv[i].v;
		} else if (!strcmp(k, "security_groups")) {
			sgn = kv[i].v;
		} else if (!strcmp(k, "instances")) {
			inn = kv[i].v;
		} else {
			ERR(c, kv[i].k, SG_E_PARAM,
			    "unknown key '%s' (expected vpc, region, account, "
			    "quotas, prefix_lists, security_groups, instances)",
			    k);
		}
	}
	free(kv);
	parse_quotas(c);

	/* Prefix lists and group ids first: rules may name them before
	 * they are defined. */
	if (pln && !sg_yaml_is_null(pln) &&
	    cfg_want_map(c, pln, "prefix_lists")) {
		ni = cfg_map_items(c, pln, "prefix list", SG_E_PARAM, &items);
		for (i = 0; i < ni && !c->oom; i++)
			parse_prefix_list(c, &items[i]);
		free(items);
	}
	if (sgn && !sg_yaml_is_null(sgn) &&
	    cfg_want_map(c, sgn, "security_groups")) {
		ni = cfg_map_items(c, sgn, "security group", SG_E_GDUP, &items);
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
		g->id = cfg_strdup(c, DEFAULT_GROUP_ID);
		g->name = cfg_strdup(c, "default");
		g->description = cfg_strdup(c, "default VPC security group");
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
		cfg_group_rules(c, i);
	if (!c->oom && !c->stop) {
		cfg_check_rule_ids(c);
		cfg_check_quotas(c);
	}
	for (i = 0; i < c->nundef && !c->oom; i++) {
		struct sg_group *g = new_group(c);

		if (!g)
			return;
		g->id = c->undef[i];
		c->undef[i] = NULL;
		g->undefined = true;
		if (c->undef_outside && i < c->undefoutcap) {
			g->outside = c->undef_outside[i];
			c->undef_outside[i] = NULL;
		}
		g->pos = c->undef_pos[i];
	}

	if (c->oom || c->stop || !inn || sg_yaml_is_null(inn) ||
	    !cfg_want_map(c, inn, "instances"))
		return;
	ni = cfg_map_items(c, inn, "instance", SG_E_PARAM, &items);
	if (ni > SG_MAX_CONFIG_INSTANCES)
		ERR(c, inn, SG_E_PARAM,
		    "%zu instances; at most %d are supported", ni,
		    SG_MAX_CONFIG_INSTANCES);
	else
		for (i = 0; i < ni && !c->oom && !c->stop; i++)
			cfg_instance(c, &items[i]);
	free(items);
	if (!c->oom) {
		cfg_check_addresses(c);
		cfg_check_interfaces(c);
	}
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
			ERR(c, n, SG_E_PARAM, "NUL character in a value");
}

/* The context of one parse; cfg gets its defaults. */
static void ctx_init(struct ctx *c, const char *name, struct sg_config *cfg,
		     struct sg_diag *diag)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(c, 0, sizeof(*c));
	c->diag = diag;
	c->cfg = cfg;
	c->file = sg_diag_intern(diag, name ? name : "<config>");
	c->default_group = -1;

	cfg->vpc = cfg_strdup(c, "vpc-default");
	cfg->region = cfg_strdup(c, "local");
	cfg->account = cfg_strdup(c, "000000000000");
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
	sg_diag_sort(d, start, NULL, 0);
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

static int ctx_finish(struct ctx *c, size_t start, size_t errors)
{
	struct sg_diag *diag = c->diag;

	for (size_t i = 0; c->gsrc && i < c->cfg->ngroups; i++)
		free(c->gsrc[i].ppos);
	free(c->gsrc);
	free(c->gids);
	free(c->gnames);
	free(c->plids);
	free(c->ips);
	for (size_t i = 0; i < c->nundef; i++)
		free(c->undef[i]);
	free(c->undef);
	free(c->undef_pos);
	for (size_t i = 0; c->undef_outside && i < c->undefoutcap; i++)
		free(c->undef_outside[i]);
	free(c->undef_outside);

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

int sg_config_parse_doc(yaml_document_t *doc, const char *name,
			struct sg_mdoc *origin, struct sg_config *cfg,
			struct sg_diag *diag, size_t start, size_t errors,
			const struct sg_input_opts *opts)
{
	struct ctx c;

	ctx_init(&c, name, cfg, diag);
	c.origin = origin;
	c.opts = opts;
	walk_doc(&c, doc);
	return ctx_finish(&c, start, errors);
}

static void free_rule(struct sg_rule *r)
{
	free(r->peer_text);
	free(r->text);
	free(r->description);
	cfg_tags_free(r->tags, r->ntags);
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
		free(g->outside);
		cfg_tags_free(g->tags, g->ntags);
		for (j = 0; j < g->nrules; j++)
			free_rule(&g->rules[j]);
		free(g->rules);
	}
	free(cfg->groups);
	for (i = 0; i < cfg->ninstances; i++) {
		struct sg_instance *in = &cfg->instances[i];

		free(in->id);
		free(in->interface);
		free(in->host);
		free(in->netns);
		free(in->ips);
		free(in->groups);
		cfg_tags_free(in->tags, in->ntags);
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
