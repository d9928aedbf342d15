// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The console's security groups (docs/console.md): the Type menu, the
 * group list and one group with its rules and their use, creating and
 * deleting a group, and the rule editor's save (rule_edit.h: deletes,
 * then adds, in one edit judged as a whole: all or nothing). A failed
 * save names the add row at fault ("row": its index in add, as
 * docs/console.md says); a failed delete has no row, its message names
 * the rule.
 *
 * Every object is view/'s (the CLI's -j objects); what a request needs
 * from the datapath (slots, hit counters) is read once per request, and
 * the per-group counts come from one pass over the instances.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <linux/types.h>

#include "sgctl.h"
#include "config/model.h"
#include "config/ruletype.h"
#include "console/console.h"
#include "console/rule_edit.h"
#include "desired/edit.h"
#include "util/codes.h"
#include "util/diag.h"
#include "view/config_json.h"

/* ------------------------------------------------------------- helpers */

static bool has_text(const char *s, const char *q)
{
	return s && strcasestr(s, q);
}

/* A group the console shows: defined (or the VPC's implicit default),
 * not one only referenced by rules. */
static int find_group(const struct sg_config *cfg, const char *id)
{
	int gi = sg_config_find_group(cfg, id);

	return gi >= 0 && !cfg->groups[gi].undefined ? gi : -1;
}

/* Instances per group, from one pass over the instances. */
static size_t *group_members(const struct sg_config *cfg)
{
	size_t *n = calloc(cfg->ngroups ? cfg->ngroups : 1, sizeof(*n));

	for (size_t i = 0; n && i < cfg->ninstances; i++)
		for (size_t k = 0; k < cfg->instances[i].ngroups; k++)
			n[cfg->instances[i].groups[k]]++;
	return n;
}

static int oom(struct sg_resp *w)
{
	return sg_resp_error(w, 503, "ServiceUnavailable", "out of memory");
}

/* The answer to a failed edit: its errors with their AWS codes (400,
 * row: the row at fault or -1), or why the edit could not be made. */
static int edit_failed(struct sg_resp *w, int rc, const struct sg_diag *d,
		       int row)
{
	const char *msg = NULL;

	for (size_t i = 0; i < d->nentries; i++)
		if (d->entries[i].severity == SG_ERROR) {
			if (d->entries[i].code)
				return sg_resp_diag(w, d, row);
			if (!msg)
				msg = d->entries[i].message;
		}
	if (rc == -EINVAL && d->nerrors)
		return sg_resp_diag(w, d, row);
	if (rc == -EAGAIN && !msg)
		msg = "other writers came first; try again";
	return sg_resp_error(w, 503, "ServiceUnavailable", "%s",
			     msg ? msg : strerror(-rc));
}

/* The body as a JSON object; NULL with the 400 written to w. */
static json_t *body_object(const struct sg_req *r, struct sg_resp *w)
{
	json_error_t err;
	json_t *o;

	o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!o) {
		sg_resp_error(w, 400, "InvalidRequest", "bad JSON: %s",
			      err.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		sg_resp_error(w, 400, "InvalidRequest",
			      "the body must be a JSON object");
		return NULL;
	}
	return o;
}

/* A member that must be a string when present: 0, 1 (absent) or -1 with
 * the 400 written. */
static int opt_string(json_t *o, const char *key, const char **s,
		      struct sg_resp *w)
{
	json_t *v = json_object_get(o, key);

	*s = NULL;
	if (!v || json_is_null(v))
		return 1;
	if (!json_is_string(v)) {
		sg_resp_error(w, 400, "InvalidRequest", "%s must be a string",
			      key);
		return -1;
	}
	*s = json_string_value(v);
	return 0;
}

/* ------------------------------------------------------------- objects */

/* GROUP: show -j's group plus vpc and the counts. */
static void group_head(struct sg_json *j, const struct sg_config *cfg,
		       const struct sg_group *g)
{
	size_t in = 0, out = 0;

	for (size_t k = 0; k < g->nrules; k++)
		g->rules[k].dir == SG_DIR_IN ? in++ : out++;
	sg_view_group_fields(j, g);
	sg_json_kv_string(j, "vpc", cfg->vpc);
	sg_json_kv_uint(j, "inbound_rules", in);
	sg_json_kv_uint(j, "outbound_rules", out);
}

/* ------------------------------------------------------------- handlers */

static int get_types(struct sg_console *c, const struct sg_req *r,
		     struct sg_resp *w)
{
	struct sg_json *j = sg_resp_json(w);

	(void)c;
	(void)r;
	sg_json_begin_object(j);
	sg_json_key(j, "types");
	sg_json_begin_array(j);
	for (size_t i = 0; i < sg_nruletypes; i++) {
		const struct sg_ruletype *t = &sg_ruletypes[i];
		char buf[24];

		sg_json_begin_object(j);
		sg_json_kv_string(j, "name", t->name);
		sg_json_kv_string(j, "protocol", sg_ruletype_protocol(t));
		/* Custom TCP/UDP: the user's ports ("" to fill in). */
		if (!t->fixed && t->proto != SG_PROTO_ICMP &&
		    t->proto != SG_PROTO_ICMPV6 &&
		    t->proto != SG_RULETYPE_ANY_PROTO)
			sg_json_kv_string(j, "port_range", "");
		else
			sg_json_kv_string(
				j, "port_range",
				sg_port_range_str(t->proto, t->port_lo,
						  t->port_hi,
						  t->fixed ? SG_ANY : 0, buf,
						  sizeof(buf)));
		sg_json_kv_bool(j, "fixed", t->fixed);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
	return 0;
}

static int list_groups(struct sg_console *c, const struct sg_req *r,
		       struct sg_resp *w)
{
	const struct sg_config *cfg;
	const char *q = sg_req_query(r, "q");
	size_t offset, limit, total = 0, *members, *match;
	struct sg_json *j;
	int64_t rev;

	if (sg_req_paging(r, w, &offset, &limit))
		return 0;
	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	members = group_members(cfg);
	match = malloc((cfg->ngroups ? cfg->ngroups : 1) * sizeof(*match));
	if (!members || !match) {
		free(members);
		free(match);
		return oom(w);
	}
	if (q && !*q)
		q = NULL;
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct sg_group *g = &cfg->groups[i];

		if (g->undefined)
			continue;
		/* The page shows the Name tag when a group has no name. */
		if (q && !has_text(g->id, q) && !has_text(g->name, q) &&
		    !has_text(g->description, q) &&
		    !has_text(sg_view_name_tag(g->tags, g->ntags), q))
			continue;
		match[total++] = i;
	}
	j = sg_resp_json(w);
	sg_json_begin_object(j);
	sg_json_kv_string(j, "vpc", cfg->vpc);
	sg_json_kv_int(j, "revision", rev);
	sg_json_kv_uint(j, "total", total);
	sg_json_kv_uint(j, "offset", offset);
	sg_json_key(j, "groups");
	sg_json_begin_array(j);
	for (size_t n = offset; n < total && n - offset < limit; n++) {
		sg_json_begin_object(j);
		group_head(j, cfg, &cfg->groups[match[n]]);
		sg_json_kv_uint(j, "instances", members[match[n]]);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
	free(members);
	free(match);
	return 0;
}

static int get_group(struct sg_console *c, const struct sg_req *r,
		     struct sg_resp *w)
{
	struct sg_view_slots slots;
	struct sg_view_usage use;
	const struct sg_config *cfg;
	const struct sg_group *g;
	struct sg_state *st;
	struct sg_json *j;
	int64_t rev;
	int gi;

	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	gi = find_group(cfg, r->arg[0]);
	if (gi < 0)
		return sg_resp_error(w, 404, SG_E_NOTFOUND,
				     "security group %s does not exist in %s",
				     r->arg[0], cfg->vpc);
	g = &cfg->groups[gi];
	st = sg_console_state(c);
	if (sg_view_slots_read(&slots, st, cfg))
		return sg_resp_error(w, 503, "ServiceUnavailable",
				     "cannot read the instance slots");
	if (sg_view_usage_read(&use, st, cfg, &slots)) {
		sg_view_slots_free(&slots);
		return sg_resp_error(w, 503, "ServiceUnavailable",
				     "cannot read the rule counters");
	}
	j = sg_resp_json(w);
	sg_json_begin_object(j);
	group_head(j, cfg, g);
	sg_json_kv_int(j, "revision", rev);
	sg_json_key(j, "rules");
	sg_json_begin_array(j);
	for (size_t k = 0; k < g->nrules; k++) {
		struct sg_use u;

		sg_view_rule_use(&use, (size_t)gi, &g->rules[k], &u);
		sg_json_begin_object(j);
		sg_view_rule_fields(j, cfg, &g->rules[k]);
		sg_view_rule_console_fields(j, &g->rules[k]);
		sg_view_use_fields(j, &use, &u);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_key(j, "instances");
	sg_json_begin_array(j);
	for (size_t i = 0; i < cfg->ninstances; i++)
		if (sg_view_has_group(&cfg->instances[i], (size_t)gi))
			sg_json_string(j, cfg->instances[i].id);
	sg_json_end_array(j);
	sg_json_end_object(j);
	sg_view_usage_free(&use);
	sg_view_slots_free(&slots);
	return 0;
}

/* ---- create, delete ---- */

struct group_args {
	const char *id, *name, *description;
};

static int create_fn(struct sg_desired *d, void *arg, struct sg_diag *diag)
{
	struct group_args *a = arg;

	return sg_edit_group_create(d, a->id, a->name, a->description, diag);
}

static int delete_fn(struct sg_desired *d, void *arg, struct sg_diag *diag)
{
	struct group_args *a = arg;

	return sg_edit_group_delete(d, a->id, diag);
}

/* "sg-" + 17 lowercase hex digits, as AWS makes them. */
static void new_group_id(char id[24])
{
	unsigned char b[9] = {0};
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	snprintf(id, 24, "sg-");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 3 + 2 * i, 24 - 3 - 2 * i, "%02x", b[i]);
	id[3 + 17] = '\0';
}

static int create_group(struct sg_console *c, const struct sg_req *r,
			struct sg_resp *w)
{
	struct group_args a = {0};
	struct sg_diag diag;
	struct sg_json *j;
	char id[24];
	int64_t rev = 0;
	json_t *o;
	int rc;

	o = body_object(r, w);
	if (!o)
		return 0;
	if (opt_string(o, "id", &a.id, w) < 0 ||
	    opt_string(o, "name", &a.name, w) < 0 ||
	    opt_string(o, "description", &a.description, w) < 0)
		goto out;
	if (!a.name || !*a.name) {
		sg_resp_error(w, 400, SG_E_MISSING,
			      "a security group needs a name");
		goto out;
	}
	if (a.description && !*a.description)
		a.description = NULL;
	if (!a.id || !*a.id) {
		new_group_id(id);
		a.id = id;
	}
	sg_diag_init(&diag);
	rc = sg_console_edit(c, create_fn, &a, &diag, &rev);
	if (rc) {
		edit_failed(w, rc, &diag, -1);
	} else {
		j = sg_resp_json(w);
		sg_json_begin_object(j);
		sg_json_kv_int(j, "revision", rev);
		sg_json_kv_string(j, "id", a.id);
		sg_json_end_object(j);
	}
	sg_diag_free(&diag);
out:
	json_decref(o);
	return 0;
}

static int delete_group(struct sg_console *c, const struct sg_req *r,
			struct sg_resp *w)
{
	struct group_args a = {.id = r->arg[0]};
	const struct sg_config *cfg;
	struct sg_diag diag;
	struct sg_json *j;
	int64_t rev = 0;
	int rc;

	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	if (find_group(cfg, a.id) < 0)
		return sg_resp_error(w, 404, SG_E_NOTFOUND,
				     "security group %s does not exist in %s",
				     a.id, cfg->vpc);
	sg_diag_init(&diag);
	rc = sg_console_edit(c, delete_fn, &a, &diag, &rev);
	if (rc) {
		edit_failed(w, rc, &diag, -1);
	} else {
		j = sg_resp_json(w);
		sg_json_begin_object(j);
		sg_json_kv_int(j, "revision", rev);
		sg_json_end_object(j);
	}
	sg_diag_free(&diag);
	return 0;
}

/* ---- the rule editor's save ---- */

static int save_rules(struct sg_console *c, const struct sg_req *r,
		      struct sg_resp *w)
{
	const struct sg_config *cfg;
	struct sg_rule_edit e;
	struct sg_diag diag;
	struct sg_json *j;
	int64_t rev = 0;
	int rc;

	sg_diag_init(&diag);
	if (sg_rule_edit_parse(&e, r->arg[0], r, w))
		goto out;
	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		goto out;
	if (find_group(cfg, e.group) < 0) {
		sg_resp_error(w, 404, SG_E_NOTFOUND,
			      "security group %s does not exist in %s", e.group,
			      cfg->vpc);
		goto out;
	}
	/* Nothing changed in the editor: nothing to save. */
	if (e.ndel || e.nadd) {
		rc = sg_console_edit(c, sg_rule_edit_fn, &e, &diag, &rev);
		if (rc) {
			edit_failed(w, rc, &diag, e.row);
			goto out;
		}
	}
	j = sg_resp_json(w);
	sg_json_begin_object(j);
	sg_json_kv_int(j, "revision", rev);
	sg_json_key(j, "added");
	sg_json_begin_array(j);
	for (size_t i = 0; i < e.nadd; i++)
		sg_json_string(j, e.added[i]);
	sg_json_end_array(j);
	sg_json_key(j, "deleted");
	sg_json_begin_array(j);
	for (size_t i = 0; i < e.ndel; i++)
		sg_json_string(j, e.deleted[i]);
	sg_json_end_array(j);
	sg_json_end_object(j);
out:
	sg_rule_edit_free(&e);
	sg_diag_free(&diag);
	return 0;
}

const struct sg_route sg_api_group_routes[] = {
	{"GET", "/api/types", get_types, false},
	{"GET", "/api/groups", list_groups, false},
	{"POST", "/api/groups", create_group, true},
	{"GET", "/api/groups/{}", get_group, false},
	{"DELETE", "/api/groups/{}", delete_group, true},
	{"POST", "/api/groups/{}/rules", save_rules, true},
	{NULL, NULL, NULL, false},
};
