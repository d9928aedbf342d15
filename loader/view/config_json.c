// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The config's JSON objects (show -j, rules -j, the console) and what they
 * need from the datapath, read once per request: the slots and the rule
 * counters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "sgctl.h"
#include "config/ruletype.h"
#include "util/diag.h"
#include "view/config_json.h"

#define NS 1000000000ULL

const char *sg_view_dir_name(int dir)
{
	return dir == SG_DIR_IN ? "inbound" : "outbound";
}

const char *sg_view_peer_kind(enum sg_peer_kind k)
{
	switch (k) {
	case SG_PEER_CIDR:
		return "cidr";
	case SG_PEER_PREFIX_LIST:
		return "prefix-list";
	case SG_PEER_GROUP:
		return "security-group";
	}
	return "?";
}

const char *sg_view_name_tag(const struct sg_tag *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].key, "Name"))
			return t[i].value;
	return NULL;
}

void sg_view_tags(struct sg_json *j, const struct sg_tag *t, size_t n)
{
	sg_json_key(j, "tags");
	sg_json_begin_object(j);
	for (size_t i = 0; i < n; i++)
		sg_json_kv_string(j, t[i].key, t[i].value);
	sg_json_end_object(j);
}

/* ------------------------------------------------------- show -j objects */

static void icmp_value(struct sg_json *j, const char *key, int v)
{
	sg_json_key(j, key);
	if (v == SG_ANY)
		sg_json_string(j, "all");
	else
		sg_json_int(j, v);
}

void sg_view_rule_fields(struct sg_json *j, const struct sg_config *cfg,
			 const struct sg_rule *r)
{
	sg_json_kv_string(j, "id", r->id);
	sg_json_kv_string(j, "direction", sg_view_dir_name(r->dir));
	sg_json_kv_string(j, "rule", r->text);
	if (r->proto == SG_PROTO_ALL)
		sg_json_kv_string(j, "protocol", "all");
	else
		sg_json_kv_int(j, "protocol", r->proto);
	if (r->port_lo >= 0) {
		sg_json_kv_int(j, "port_from", r->port_lo);
		sg_json_kv_int(j, "port_to", r->port_hi);
	}
	if (r->proto == SG_PROTO_ICMP || r->proto == SG_PROTO_ICMPV6) {
		icmp_value(j, "icmp_type", r->icmp_type);
		icmp_value(j, "icmp_code", r->icmp_code);
	}
	sg_json_kv_string(j, "peer", r->peer_text);
	sg_json_kv_string(j, "peer_kind", sg_view_peer_kind(r->peer_kind));
	if (r->peer_kind == SG_PEER_GROUP && r->peer_index >= 0 &&
	    (size_t)r->peer_index < cfg->ngroups)
		sg_json_kv_string(j, "peer_group",
				  cfg->groups[r->peer_index].id);
	sg_json_kv_string(j, "description", r->description);
	sg_view_tags(j, r->tags, r->ntags);
}

void sg_view_group_fields(struct sg_json *j, const struct sg_group *g)
{
	sg_json_kv_string(j, "id", g->id);
	sg_json_kv_string(j, "name", g->name);
	sg_json_kv_string(j, "description", g->description);
	sg_json_kv_bool(j, "implicit", g->implicit);
	sg_json_kv_string(j, "name_tag", sg_view_name_tag(g->tags, g->ntags));
	sg_view_tags(j, g->tags, g->ntags);
	/* Members outside these inputs: rules naming it match none. */
	sg_json_kv_string(j, "outside", g->outside);
}

void sg_view_instance_fields(struct sg_json *j, const struct sg_config *cfg,
			     const struct sg_instance *in, int slot)
{
	char buf[64];

	sg_json_kv_string(j, "id", in->id);
	sg_json_key(j, "ips");
	sg_json_begin_array(j);
	for (size_t k = 0; k < in->nips; k++) {
		/* an address, not a /32 */
		sg_prefix_str(&in->ips[k], buf, sizeof(buf));
		buf[strcspn(buf, "/")] = '\0';
		sg_json_string(j, buf);
	}
	sg_json_end_array(j);
	sg_json_key(j, "groups");
	sg_json_begin_array(j);
	for (size_t k = 0; k < in->ngroups; k++)
		sg_json_string(j, cfg->groups[in->groups[k]].id);
	sg_json_end_array(j);
	sg_json_key(j, "slot");
	if (slot >= 0)
		sg_json_int(j, slot);
	else
		sg_json_null(j);
	sg_json_kv_string(j, "interface", in->interface);
	sg_json_kv_string(j, "host", in->host);
	sg_json_kv_string(j, "netns", in->netns);
	sg_json_kv_bool(j, "host_side", in->host_side);
	sg_json_kv_bool(j, "source_dest_check", in->source_dest_check);
	sg_json_kv_bool(j, "filtered", !in->unfiltered);
	sg_json_kv_string(j, "name_tag", sg_view_name_tag(in->tags, in->ntags));
	sg_view_tags(j, in->tags, in->ntags);
	sg_json_key(j, "conntrack");
	sg_json_begin_object(j);
	sg_json_kv_uint(j, "tcp_established", in->ct.tcp_established);
	sg_json_kv_uint(j, "udp_stream", in->ct.udp_stream);
	sg_json_kv_uint(j, "udp", in->ct.udp);
	sg_json_kv_uint(j, "max_entries", in->ct.max_entries);
	sg_json_end_object(j);
}

void sg_view_attachment_fields(struct sg_json *j, const struct sg_attach_key *k,
			       const struct sg_attach_val *v,
			       enum sg_att_status status)
{
	sg_json_kv_string(j, "interface", v->ifname);
	sg_json_kv_uint(j, "ifindex", k->ifindex);
	sg_json_kv_string(j, "netns", v->netns);
	sg_json_kv_string(j, "mode",
			  v->flags & SG_ATTACH_HOST_SIDE ? "host-side" : "nic");
	sg_json_kv_string(j, "xdp_mode",
			  v->flags & SG_ATTACH_XDP_GENERIC ? "generic"
							   : "native");
	sg_json_kv_string(j, "instance", v->instance);
	sg_json_kv_uint(j, "slot", v->slot);
	sg_json_kv_uint(j, "xdp_prog_id", v->xdp_prog_id);
	sg_json_kv_uint(j, "tc_prog_id", v->tc_prog_id);
	sg_json_kv_string(j, "status", sg_att_status_name(status));
}

void sg_view_rule_console_fields(struct sg_json *j, const struct sg_rule *r)
{
	char buf[24];

	sg_json_kv_string(
		j, "type",
		sg_ruletype_of(r->proto, r->port_lo, r->port_hi, r->icmp_type));
	sg_json_kv_string(j, "port_range",
			  sg_port_range_str(r->proto, r->port_lo, r->port_hi,
					    r->icmp_type, buf, sizeof(buf)));
}

/* ------------------------------------------------------ ids and slots */

static int index_cmp(const void *a, const void *b, void *arg)
{
	const struct sg_config *cfg = arg;

	return strcmp(cfg->instances[*(const size_t *)a].id,
		      cfg->instances[*(const size_t *)b].id);
}

int sg_view_index_build(struct sg_view_index *x, const struct sg_config *cfg)
{
	memset(x, 0, sizeof(*x));
	x->cfg = cfg;
	x->n = cfg->ninstances;
	x->order = calloc(x->n ? x->n : 1, sizeof(*x->order));
	if (!x->order) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < x->n; i++)
		x->order[i] = i;
	qsort_r(x->order, x->n, sizeof(*x->order), index_cmp, (void *)cfg);
	return 0;
}

int sg_view_index_find(const struct sg_view_index *x, const char *id)
{
	size_t lo = 0, hi = x->n;

	while (id && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(x->cfg->instances[x->order[mid]].id, id);

		if (!c)
			return (int)x->order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void sg_view_index_free(struct sg_view_index *x)
{
	free(x->order);
	x->order = NULL;
}

int sg_view_slots_read(struct sg_view_slots *s, struct sg_state *st,
		       const struct sg_config *cfg)
{
	struct sg_view_index x;
	char *ids = NULL;
	__u32 *slots = NULL;
	size_t n = 0;
	int err;

	memset(s, 0, sizeof(*s));
	s->ninst = cfg->ninstances;
	s->of = malloc((s->ninst ? s->ninst : 1) * sizeof(*s->of));
	s->inst = malloc(SG_MAX_INSTANCES * sizeof(*s->inst));
	if (!s->of || !s->inst) {
		sg_view_slots_free(s);
		sg_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->ninst; i++)
		s->of[i] = SG_SLOT_NONE;
	for (size_t i = 0; i < SG_MAX_INSTANCES; i++)
		s->inst[i] = -1;
	if (!st)
		return 0;
	err = sg_slot_list(st, &ids, &slots, &n);
	if (!err)
		err = sg_view_index_build(&x, cfg);
	if (err) {
		free(ids);
		free(slots);
		sg_view_slots_free(s);
		return err;
	}
	for (size_t k = 0; k < n; k++) {
		int i = sg_view_index_find(&x, ids + k * SG_ID_LEN);

		if (i < 0 || slots[k] >= SG_MAX_INSTANCES)
			continue;
		/* The first (id, slot) of an id wins, as a scan would. */
		if (s->of[i] != SG_SLOT_NONE)
			continue;
		s->of[i] = slots[k];
		s->inst[slots[k]] = i;
	}
	sg_view_index_free(&x);
	free(ids);
	free(slots);
	return 0;
}

void sg_view_slots_free(struct sg_view_slots *s)
{
	free(s->of);
	free(s->inst);
	s->of = NULL;
	s->inst = NULL;
}

/* ------------------------------------------ attachments and conntrack */

struct att_sort {
	const struct sg_attach_val *v;
	const int *inst;
};

static int att_cmp(const void *pa, const void *pb, void *arg)
{
	const struct att_sort *x = arg;
	size_t i = *(const size_t *)pa, k = *(const size_t *)pb;
	int r;

	if (x->inst[i] != x->inst[k])
		return x->inst[i] < x->inst[k] ? -1 : 1;
	r = strcmp(x->v[i].netns, x->v[k].netns);
	return r ? r : strcmp(x->v[i].ifname, x->v[k].ifname);
}

int sg_view_attach_read(struct sg_view_attach *a, struct sg_state *st,
			const struct sg_view_index *x)
{
	struct att_sort srt;
	int *inst = NULL, err;
	size_t ninst = x->cfg->ninstances, m = 0;

	memset(a, 0, sizeof(*a));
	a->st = st;
	a->start = calloc(ninst + 1, sizeof(*a->start));
	if (!a->start)
		goto oom;
	if (!st)
		return 0;
	err = sg_attach_list(st, &a->keys, &a->vals, &a->n);
	if (err) {
		sg_view_attach_free(a);
		return err;
	}
	a->have_owner = !sg_owner_of_state(&a->owner, st);
	a->order = calloc(a->n ? a->n : 1, sizeof(*a->order));
	inst = calloc(a->n ? a->n : 1, sizeof(*inst));
	if (!a->order || !inst)
		goto oom;
	for (size_t k = 0; k < a->n; k++) {
		a->vals[k].instance[sizeof(a->vals[k].instance) - 1] = '\0';
		inst[k] = sg_view_index_find(x, a->vals[k].instance);
		if (inst[k] >= 0)
			a->order[m++] = k;
	}
	srt.v = a->vals;
	srt.inst = inst;
	qsort_r(a->order, m, sizeof(*a->order), att_cmp, &srt);
	/* start[i]: the first record of instance i (records of instances
	 * not in the config are left out). */
	for (size_t n = 0, i = 0; i <= ninst; i++) {
		while (n < m && (size_t)inst[a->order[n]] < i)
			n++;
		a->start[i] = n;
	}
	free(inst);
	return 0;
oom:
	free(inst);
	sg_view_attach_free(a);
	sg_err("out of memory");
	return -ENOMEM;
}

void sg_view_attach_free(struct sg_view_attach *a)
{
	free(a->keys);
	free(a->vals);
	free(a->order);
	free(a->start);
	memset(a, 0, sizeof(*a));
}

void sg_view_instance_console_fields(struct sg_json *j,
				     const struct sg_view_attach *a,
				     const struct sg_view_slots *s, size_t i)
{
	__u32 slot = i < s->ninst ? s->of[i] : SG_SLOT_NONE;
	bool attached = false, have_ct = false;
	struct sg_inst inst;
	__s64 used = 0;

	sg_json_key(j, "attachments");
	sg_json_begin_array(j);
	for (size_t n = a->start ? a->start[i] : 0;
	     a->start && n < a->start[i + 1]; n++) {
		size_t k = a->order[n];
		struct sg_att_truth t = {.status = SG_ATT_STALE};

		if (a->have_owner)
			sg_attach_verify(&a->owner, &a->keys[k], &a->vals[k],
					 &t);
		attached |= t.status == SG_ATT_OK;
		sg_json_begin_object(j);
		sg_view_attachment_fields(j, &a->keys[k], &a->vals[k],
					  t.status);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_kv_bool(j, "attached", attached);
	if (a->st && slot != SG_SLOT_NONE &&
	    !sg_ct_count_read(a->st, slot, &used) &&
	    !sg_inst_read(a->st, slot, &inst))
		have_ct = true;
	if (used < 0)
		used = 0; /* a transient of concurrent updates */
	sg_json_key(j, "conntrack_used");
	if (have_ct)
		sg_json_uint(j, (__u64)used);
	else
		sg_json_null(j);
	sg_json_key(j, "conntrack_room");
	if (have_ct)
		sg_json_uint(j, (__s64)inst.ct_max > used
					? (__u64)((__s64)inst.ct_max - used)
					: 0);
	else
		sg_json_null(j);
}

/* ---------------------------------------------------------- rule usage */

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * NS + (__u64)ts.tv_nsec;
}

int sg_view_usage_read(struct sg_view_usage *v, struct sg_state *st,
		       const struct sg_config *cfg,
		       const struct sg_view_slots *slots)
{
	int err = 0;

	memset(v, 0, sizeof(*v));
	v->cfg = cfg;
	v->slots = slots;
	v->offset_ns =
		(__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	v->now_s = clock_ns(CLOCK_REALTIME) / NS;
	if (st)
		err = sg_rule_usage_read(st, &v->u, &v->nu);
	return err;
}

void sg_view_usage_free(struct sg_view_usage *v)
{
	free(v->u);
	v->u = NULL;
	v->nu = 0;
}

__u64 sg_view_unix_s(const struct sg_view_usage *v, __u64 mono)
{
	__s64 t = (__s64)mono + v->offset_ns;

	return mono && t > 0 ? (__u64)t / NS : 0;
}

bool sg_view_has_group(const struct sg_instance *in, size_t g)
{
	for (size_t i = 0; i < in->ngroups; i++)
		if ((size_t)in->groups[i] == g)
			return true;
	return false;
}

bool sg_view_counts(const struct sg_view_usage *v, size_t g, size_t i)
{
	const struct sg_instance *in = &v->cfg->instances[i];

	return !in->remote && v->slots->of[i] != SG_SLOT_NONE &&
	       sg_view_has_group(in, g);
}

static void use_add(struct sg_use *sum, const struct sg_rule_usage *u)
{
	sum->hits += u->hits;
	sum->packets += u->packets;
	sum->bytes += u->bytes;
	if (u->last_ns > sum->last_ns)
		sum->last_ns = u->last_ns;
}

void sg_view_rule_use_of(const struct sg_view_usage *v, const struct sg_rule *r,
			 size_t i, struct sg_use *u)
{
	const struct sg_rule_usage *e;

	memset(u, 0, sizeof(*u));
	if (v->slots->of[i] == SG_SLOT_NONE)
		return;
	e = sg_rule_usage_find(v->u, v->nu, sg_rule_key_of(r->id),
			       v->slots->of[i]);
	if (e)
		use_add(u, e);
}

/* The first entry of key in the sorted table (nu when none). */
static size_t first_of(const struct sg_view_usage *v, __u64 key)
{
	size_t lo = 0, hi = v->nu;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->u[mid].rule_key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The rule's entries (one per slot that has counts), each counted when
 * its slot's instance counts for the group: as many steps as the rule has
 * counted slots, whatever the number of instances. */
void sg_view_rule_use(const struct sg_view_usage *v, size_t g,
		      const struct sg_rule *r, struct sg_use *sum)
{
	__u64 key = sg_rule_key_of(r->id);

	memset(sum, 0, sizeof(*sum));
	for (size_t k = first_of(v, key); k < v->nu && v->u[k].rule_key == key;
	     k++) {
		__u32 slot = v->u[k].slot;
		int i = slot < SG_MAX_INSTANCES ? v->slots->inst[slot] : -1;

		if (i >= 0 && sg_view_counts(v, g, (size_t)i))
			use_add(sum, &v->u[k]);
	}
}

void sg_view_use_fields(struct sg_json *j, const struct sg_view_usage *v,
			const struct sg_use *u)
{
	__u64 last = sg_view_unix_s(v, u->last_ns);

	sg_json_kv_uint(j, "hits", u->hits);
	sg_json_kv_uint(j, "packets", u->packets);
	sg_json_kv_uint(j, "bytes", u->bytes);
	sg_json_key(j, "last_used");
	if (last)
		sg_json_uint(j, last);
	else
		sg_json_null(j);
	sg_json_key(j, "last_used_age_s");
	if (last)
		sg_json_uint(j, v->now_s > last ? v->now_s - last : 0);
	else
		sg_json_null(j);
}
