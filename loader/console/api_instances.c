// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The console's instances (docs/console.md): the list, each with where it
 * is attached here and its conntrack room, and Change security groups.
 * The slots and attachment records are read once per request; only the
 * page's instances are checked against the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "sgctl.h"
#include "config/model.h"
#include "console/console.h"
#include "desired/edit.h"
#include "util/codes.h"
#include "util/diag.h"
#include "view/config_json.h"

static bool has_text(const char *s, const char *q)
{
	return s && strcasestr(s, q);
}

/* q against what the Instances page shows: id, Name tag, addresses,
 * groups, host, interface. */
static bool instance_matches(const struct sg_config *cfg,
			     const struct sg_instance *in, const char *q)
{
	char buf[64];

	if (has_text(in->id, q) || has_text(in->host, q) ||
	    has_text(in->interface, q) ||
	    has_text(sg_view_name_tag(in->tags, in->ntags), q))
		return true;
	for (size_t k = 0; k < in->ngroups; k++)
		if (has_text(cfg->groups[in->groups[k]].id, q))
			return true;
	for (size_t k = 0; k < in->nips; k++) {
		sg_prefix_str(&in->ips[k], buf, sizeof(buf));
		buf[strcspn(buf, "/")] = '\0';
		if (has_text(buf, q))
			return true;
	}
	return false;
}

static int list_instances(struct sg_console *c, const struct sg_req *r,
			  struct sg_resp *w)
{
	const struct sg_config *cfg;
	const char *q = sg_req_query(r, "q");
	struct sg_view_index x = {0};
	struct sg_view_slots slots = {0};
	struct sg_view_attach att = {0};
	struct sg_state *st;
	size_t offset, limit, total = 0, *match = NULL;
	struct sg_json *j;
	int64_t rev;

	if (sg_req_paging(r, w, &offset, &limit))
		return 0;
	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	st = sg_console_state(c);
	if (sg_view_index_build(&x, cfg) ||
	    !(match = malloc((cfg->ninstances ? cfg->ninstances : 1) *
			     sizeof(*match)))) {
		sg_view_index_free(&x);
		return sg_resp_error(w, 503, "ServiceUnavailable",
				     "out of memory");
	}
	if (sg_view_slots_read(&slots, st, cfg) ||
	    sg_view_attach_read(&att, st, &x)) {
		sg_resp_error(w, 503, "ServiceUnavailable",
			      "cannot read this host's slots and attachments");
		goto out;
	}
	if (q && !*q)
		q = NULL;
	for (size_t i = 0; i < cfg->ninstances; i++)
		if (!q || instance_matches(cfg, &cfg->instances[i], q))
			match[total++] = i;
	j = sg_resp_json(w);
	sg_json_begin_object(j);
	sg_json_kv_string(j, "vpc", cfg->vpc);
	sg_json_kv_int(j, "revision", rev);
	sg_json_kv_uint(j, "total", total);
	sg_json_kv_uint(j, "offset", offset);
	sg_json_key(j, "instances");
	sg_json_begin_array(j);
	for (size_t n = offset; n < total && n - offset < limit; n++) {
		size_t i = match[n];
		__u32 slot = slots.of[i];

		sg_json_begin_object(j);
		sg_view_instance_fields(j, cfg, &cfg->instances[i],
					slot == SG_SLOT_NONE ? -1 : (int)slot);
		sg_view_instance_console_fields(j, &att, &slots, i);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
out:
	sg_view_attach_free(&att);
	sg_view_slots_free(&slots);
	sg_view_index_free(&x);
	free(match);
	return 0;
}

struct set_groups {
	const char *id;
	const char **groups;
	size_t n;
};

static int set_groups_fn(struct sg_desired *d, void *arg, struct sg_diag *diag)
{
	struct set_groups *a = arg;

	return sg_edit_instance_set_groups(d, a->id, a->groups, a->n, diag);
}

static int put_groups(struct sg_console *c, const struct sg_req *r,
		      struct sg_resp *w)
{
	struct set_groups a = {.id = r->arg[0]};
	const struct sg_config *cfg;
	struct sg_diag diag;
	struct sg_json *j;
	json_error_t jerr;
	json_t *o, *l;
	int64_t rev = 0;
	int rc;

	o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return sg_resp_error(w, 400, "InvalidRequest", "bad JSON: %s",
				     jerr.text);
	l = json_object_get(o, "groups");
	if (!json_is_object(o) || !json_is_array(l)) {
		json_decref(o);
		return sg_resp_error(w, 400, "InvalidRequest",
				     "the body must be {\"groups\": "
				     "[\"sg-...\"...]}");
	}
	a.n = json_array_size(l);
	a.groups = calloc(a.n + 1, sizeof(*a.groups));
	if (!a.groups) {
		json_decref(o);
		return sg_resp_error(w, 503, "ServiceUnavailable",
				     "out of memory");
	}
	for (size_t i = 0; i < a.n; i++) {
		a.groups[i] = json_string_value(json_array_get(l, i));
		if (!a.groups[i]) {
			sg_resp_error(w, 400, "InvalidRequest",
				      "groups: security group ids are "
				      "strings");
			goto out;
		}
	}
	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		goto out;
	if (sg_config_find_instance(cfg, a.id) < 0) {
		sg_resp_error(w, 404, SG_E_INSTNOTFOUND,
			      "instance %s does not exist in %s", a.id,
			      cfg->vpc);
		goto out;
	}
	sg_diag_init(&diag);
	rc = sg_console_edit(c, set_groups_fn, &a, &diag, &rev);
	if (rc && (rc == -EINVAL || diag.nerrors)) {
		bool coded = false;

		for (size_t i = 0; i < diag.nentries; i++)
			coded |= diag.entries[i].code != NULL;
		if (coded || rc == -EINVAL)
			sg_resp_diag(w, &diag, -1);
		else
			sg_resp_error(w, 503, "ServiceUnavailable", "%s",
				      diag.entries[0].message);
	} else if (rc) {
		sg_resp_error(w, 503, "ServiceUnavailable", "%s",
			      strerror(-rc));
	} else {
		j = sg_resp_json(w);
		sg_json_begin_object(j);
		sg_json_kv_int(j, "revision", rev);
		sg_json_end_object(j);
	}
	sg_diag_free(&diag);
out:
	free(a.groups);
	json_decref(o);
	return 0;
}

const struct sg_route sg_api_instance_routes[] = {
	{"GET", "/api/instances", list_instances, false},
	{"PUT", "/api/instances/{}/groups", put_groups, true},
	{NULL, NULL, NULL, false},
};
