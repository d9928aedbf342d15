// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * show: the loaded config (rebuilt from the stored text), the instance
 * slots and the attachments. One printer per object, each with a plain
 * and a JSON form.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "enforce/attach.h"
#include "enforce/stored.h"
#include "fleet/agent.h"
#include "util/diag.h"
#include "input/inputs.h"
#include "out/json.h"
#include "state/state.h"
#include "config/model.h"
#include "view/config_json.h"

struct show_ctx {
	struct sg_config cfg;
	struct sg_meta meta;
	int64_t revision; /* the etcd revision an agent applied, or -1 */
	char *slot_ids; /* SG_ID_LEN each */
	__u32 *slots;
	size_t nslots;
	struct sg_attach_key *akeys;
	struct sg_attach_val *avals;
	struct sg_att_truth *truth; /* per record: checked in the kernel */
	size_t natt;
};

static int slot_of(const struct show_ctx *x, const char *id)
{
	for (size_t i = 0; i < x->nslots; i++)
		if (!strcmp(x->slot_ids + i * SG_ID_LEN, id))
			return (int)x->slots[i];
	return -1;
}

/* Attachments sorted by (netns, ifname): stable output. */
static int att_cmp(const void *a, const void *b, void *arg)
{
	const struct sg_attach_val *v = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int r = strcmp(v[i].netns, v[j].netns);

	return r ? r : strcmp(v[i].ifname, v[j].ifname);
}

static size_t *att_order(const struct show_ctx *x)
{
	size_t *o = calloc(x->natt ? x->natt : 1, sizeof(*o));

	if (!o)
		return NULL;
	for (size_t i = 0; i < x->natt; i++)
		o[i] = i;
	qsort_r(o, x->natt, sizeof(*o), att_cmp, x->avals);
	return o;
}

/* ----------------------------------------------------------------- JSON */

static void print_json(const struct show_ctx *x)
{
	const struct sg_config *cfg = &x->cfg;
	struct sg_json *j = sg_json_new(stdout, true);
	size_t *order = att_order(x);
	char buf[64];

	sg_json_begin_object(j);
	sg_json_kv_bool(j, "loaded", true);
	sg_json_kv_string(j, "vpc", cfg->vpc);
	sg_json_kv_string(j, "region", cfg->region);
	sg_json_kv_string(j, "account", cfg->account);
	sg_json_kv_uint(j, "generation", x->meta.gen);
	snprintf(buf, sizeof(buf), "%016llx",
		 (unsigned long long)x->meta.config_hash);
	sg_json_kv_string(j, "config_hash", buf);
	sg_json_kv_uint(j, "loaded_at", x->meta.loaded_at);
	sg_json_key(j, "revision");
	if (x->revision >= 0)
		sg_json_int(j, x->revision);
	else
		sg_json_null(j);

	sg_json_key(j, "prefix_lists");
	sg_json_begin_array(j);
	for (size_t i = 0; i < cfg->nprefix_lists; i++) {
		const struct sg_prefix_list *pl = &cfg->prefix_lists[i];

		sg_json_begin_object(j);
		sg_json_kv_string(j, "id", pl->id);
		sg_json_kv_int(j, "max_entries", pl->max_entries);
		sg_json_key(j, "entries");
		sg_json_begin_array(j);
		for (size_t k = 0; k < pl->nentries; k++)
			sg_json_string(j, sg_prefix_str(&pl->entries[k], buf,
							sizeof(buf)));
		sg_json_end_array(j);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);

	sg_json_key(j, "groups");
	sg_json_begin_array(j);
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct sg_group *g = &cfg->groups[i];

		sg_json_begin_object(j);
		sg_view_group_fields(j, g);
		sg_json_key(j, "rules");
		sg_json_begin_array(j);
		for (size_t k = 0; k < g->nrules; k++) {
			sg_json_begin_object(j);
			sg_view_rule_fields(j, cfg, &g->rules[k]);
			sg_json_end_object(j);
		}
		sg_json_end_array(j);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);

	sg_json_key(j, "instances");
	sg_json_begin_array(j);
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];
		int slot = slot_of(x, in->id);

		sg_json_begin_object(j);
		sg_view_instance_fields(j, cfg, in, slot);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);

	sg_json_key(j, "attachments");
	sg_json_begin_array(j);
	for (size_t n = 0; order && n < x->natt; n++) {
		sg_json_begin_object(j);
		sg_view_attachment_fields(j, &x->akeys[order[n]],
					  &x->avals[order[n]],
					  x->truth[order[n]].status);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
	sg_json_destroy(j);
	free(order);
}

/* ---------------------------------------------------------------- plain */

static void print_plain(const struct show_ctx *x)
{
	const struct sg_config *cfg = &x->cfg;
	size_t *order = att_order(x);
	char when[64] = "?", buf[64];
	time_t t = (time_t)x->meta.loaded_at;
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s in %s (account %s), generation %u, loaded %s\n", cfg->vpc,
	       cfg->region, cfg->account, x->meta.gen, when);
	if (x->revision >= 0)
		printf("applied by sgctl agent: etcd revision %lld\n",
		       (long long)x->revision);

	if (cfg->nprefix_lists) {
		printf("\nprefix lists:\n");
		for (size_t i = 0; i < cfg->nprefix_lists; i++) {
			const struct sg_prefix_list *pl = &cfg->prefix_lists[i];

			printf("  %s (max %d):", pl->id, pl->max_entries);
			for (size_t k = 0; k < pl->nentries; k++)
				printf("%s %s", k ? "," : "",
				       sg_prefix_str(&pl->entries[k], buf,
						     sizeof(buf)));
			printf("\n");
		}
	}

	printf("\nsecurity groups:\n");
	for (size_t i = 0; i < cfg->ngroups; i++) {
		const struct sg_group *g = &cfg->groups[i];

		printf("  %s", g->id);
		if (g->name && strcmp(g->name, g->id))
			printf(" (%s)", g->name);
		if (g->description && *g->description)
			printf(": %s", g->description);
		if (g->implicit)
			printf(" [implicit]");
		if (sg_view_name_tag(g->tags, g->ntags))
			printf(" [Name: %s]", sg_view_name_tag(g->tags, g->ntags));
		printf("\n");
		if (g->outside)
			printf("    members outside these inputs (%s): rules "
			       "naming %s match none of them\n",
			       g->outside, g->id);
		if (!g->nrules)
			printf("    (no rules)\n");
		for (int d = SG_DIR_IN; d <= SG_DIR_OUT; d++) {
			for (size_t k = 0; k < g->nrules; k++) {
				const struct sg_rule *r = &g->rules[k];

				if (r->dir != d)
					continue;
				printf("    %s  %-8s  %s", r->id, sg_view_dir_name(d),
				       r->text);
				if (r->description && *r->description)
					printf("  # %s", r->description);
				printf("\n");
			}
		}
	}

	printf("\ninstances:\n");
	if (!cfg->ninstances)
		printf("  (none)\n");
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];
		int slot = slot_of(x, in->id);

		if (slot >= 0)
			printf("  %s  slot %d", in->id, slot);
		else
			printf("  %s  remote (not enforced here)", in->id);
		if (in->interface)
			printf("  interface %s", in->interface);
		if (!in->source_dest_check)
			printf("  source/dest check off");
		if (sg_view_name_tag(in->tags, in->ntags))
			printf("  [Name: %s]", sg_view_name_tag(in->tags, in->ntags));
		printf("\n    ips:   ");
		for (size_t k = 0; k < in->nips; k++) {
			sg_prefix_str(&in->ips[k], buf, sizeof(buf));
			buf[strcspn(buf, "/")] = '\0';
			printf("%s%s", k ? ", " : "", buf);
		}
		printf("\n    groups: ");
		if (in->unfiltered)
			printf("none: AWS applies no security group to it "
			       "(Groups: []), nothing to enforce");
		for (size_t k = 0; k < in->ngroups; k++)
			printf("%s%s", k ? ", " : "",
			       cfg->groups[in->groups[k]].id);
		printf("\n");
	}

	printf("\nattachments:\n");
	if (!x->natt)
		printf("  (none)\n");
	for (size_t n = 0; order && n < x->natt; n++) {
		const struct sg_attach_val *v = &x->avals[order[n]];
		const struct sg_att_truth *t = &x->truth[order[n]];

		printf("  %-15s netns %-12s %-9s xdp %-7s instance %-12s %s",
		       v->ifname, v->netns[0] ? v->netns : "-",
		       v->flags & SG_ATTACH_HOST_SIDE ? "host-side" : "nic",
		       v->flags & SG_ATTACH_XDP_GENERIC ? "generic" : "native",
		       v->instance, sg_att_status_name(t->status));
		if (t->ifname_now[0] && strcmp(t->ifname_now, v->ifname))
			printf(" (interface now named %s)", t->ifname_now);
		printf("\n");
	}
	free(order);
}

/* Each record against the kernel: ok, stale or lost. */
static int check_attachments(struct sg_state *st, struct show_ctx *x)
{
	struct sg_owner owner;
	int err;

	x->truth = calloc(x->natt ? x->natt : 1, sizeof(*x->truth));
	if (!x->truth) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	err = sg_owner_of_state(&owner, st);
	for (size_t i = 0; !err && i < x->natt; i++)
		err = sg_attach_verify(&owner, &x->akeys[i], &x->avals[i],
				       &x->truth[i]);
	if (err)
		sg_err("cannot check the attachments: %s",
		       sg_bpf_strerror(err));
	return err;
}

static void print_nothing(void)
{
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_bool(j, "loaded", false);
		sg_json_key(j, "groups");
		sg_json_begin_array(j);
		sg_json_end_array(j);
		sg_json_key(j, "instances");
		sg_json_begin_array(j);
		sg_json_end_array(j);
		sg_json_key(j, "attachments");
		sg_json_begin_array(j);
		sg_json_end_array(j);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("no config loaded\n");
	}
}

int cmd_show(int argc, char **argv)
{
	struct show_ctx x = {};
	struct sg_state st = {};
	int err, rc = SG_EXIT_ERR;

	rc = sg_args_none(argc, argv);
	if (rc != SG_EXIT_OK)
		return rc;
	rc = SG_EXIT_ERR;
	if (sg_need_root("show"))
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		print_nothing();
		return SG_EXIT_OK;
	}
	if (sg_state_open_ro(&st, sg_opts.pin_dir))
		return SG_EXIT_ERR;
	if (sg_meta_read(&st, &x.meta))
		goto out;
	err = sg_stored_config(&st, &x.cfg, NULL);
	if (err == -ENOENT) {
		print_nothing();
		rc = SG_EXIT_OK;
		goto out;
	}
	if (err)
		goto out;
	x.revision = -1;
	{
		char *text = NULL;
		size_t len = 0;

		if (!sg_blob_load(&st, &text, &len))
			x.revision = sg_agent_stored_revision(text, len);
		free(text);
	}
	if (sg_slot_list(&st, &x.slot_ids, &x.slots, &x.nslots))
		goto out;
	if (sg_attach_list(&st, &x.akeys, &x.avals, &x.natt))
		goto out;
	if (check_attachments(&st, &x))
		goto out;
	if (sg_opts.json)
		print_json(&x);
	else
		print_plain(&x);
	rc = SG_EXIT_OK;
out:
	sg_state_close(&st);
	sg_config_free(&x.cfg);
	free(x.slot_ids);
	free(x.slots);
	free(x.akeys);
	free(x.avals);
	free(x.truth);
	return rc;
}
