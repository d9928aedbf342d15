// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Flow records: the datapath's flows, their names, one record's fields
 * and JSON object (view/flowlog.h). Shared by `sgctl flowlog` and the
 * console's flow-log buffer, so the two never disagree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "view/flowlog.h"
#include "config/model.h"
#include "enforce/stored.h"
#include "out/json.h"
#include "state/state.h"
#include "util/diag.h"

#define NS 1000000000ULL

int sg_flows_push(struct sg_flows *f, const struct sg_flow *x)
{
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 256;
		struct sg_flow *v = realloc(f->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = ncap;
	}
	f->v[f->n++] = *x;
	return 0;
}

void sg_flows_free(struct sg_flows *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void sg_flow_no_less(struct sg_flow *cur, const struct sg_flow *prev)
{
	if (!prev || prev->packets <= cur->packets)
		return;
	cur->packets = prev->packets;
	if (prev->bytes > cur->bytes)
		cur->bytes = prev->bytes;
	if (prev->last_ns > cur->last_ns)
		cur->last_ns = prev->last_ns;
}

bool sg_flow_delta(struct sg_flow *cur, const struct sg_flow *prev,
		   struct sg_flow *d)
{
	sg_flow_no_less(cur, prev);
	*d = *cur;
	if (prev && prev->packets <= cur->packets) {
		d->packets = cur->packets - prev->packets;
		d->bytes = cur->bytes >= prev->bytes ? cur->bytes - prev->bytes
						     : 0;
		d->first_ns = prev->last_ns;
	}
	return d->packets != 0;
}

int sg_flow_id_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct sg_flow *)a)->id,
		      &((const struct sg_flow *)b)->id,
		      sizeof(struct sg_flow_id));
}

int sg_flow_time_cmp(const void *a, const void *b)
{
	const struct sg_flow *x = a, *y = b;

	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return sg_flow_id_cmp(a, b);
}

const char *sg_fl_owner(const struct sg_fl_names *n, __u32 slot)
{
	return slot < SG_MAX_INSTANCES && n->by_slot ? n->by_slot[slot] : NULL;
}

static bool has_ports(__u8 proto)
{
	return proto == SG_PROTO_TCP || proto == SG_PROTO_UDP;
}

/* ------------------------------------------------------------- snapshot */

static int snap_accepts(struct sg_fl_src *x, struct sg_flows *out)
{
	struct sg_ct_key *keys = NULL;
	struct sg_ct_val *vals = NULL;
	size_t n;
	int err;

	err = sg_ct_dump(&x->st, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		const struct sg_ct_key *k = &keys[i];
		const struct sg_ct_val *v = &vals[i];

		if (x->names.have_want && k->slot != x->names.want_slot)
			continue;
		if (!sg_fl_owner(&x->names, k->slot))
			continue; /* a released slot's leftovers */
		for (int d = 0; d < SG_NDIR && !err; d++) {
			struct sg_flow f = {};
			bool in = d == SG_DIR_IN, ports = has_ports(k->proto);

			if (!v->packets[d])
				continue;
			f.id.slot = k->slot;
			f.id.action = SG_FL_ACCEPT;
			f.id.family = k->family;
			f.id.proto = k->proto;
			/* In: remote -> instance. Out: instance -> remote. */
			memcpy(f.id.saddr, in ? k->raddr : k->laddr, 16);
			memcpy(f.id.daddr, in ? k->laddr : k->raddr, 16);
			if (ports) {
				f.id.sport = ntohs(in ? k->rport : k->lport);
				f.id.dport = ntohs(in ? k->lport : k->rport);
			}
			f.id.dir = (__u8)d;
			f.id.epoch = v->created_ns;
			f.packets = v->packets[d];
			f.bytes = v->bytes[d];
			f.first_ns = v->created_ns;
			f.last_ns = v->last_seen_ns;
			f.rule_key = v->rule_key;
			f.tcp_flags = v->tcp_flags;
			f.origin = v->origin;
			err = sg_flows_push(out, &f);
		}
	}
	free(keys);
	free(vals);
	return err;
}

static int snap_rejects(struct sg_fl_src *x, struct sg_flows *out)
{
	struct sg_reject_key *keys = NULL;
	struct sg_reject_val *vals = NULL;
	size_t n;
	int err;

	if (x->reject_fd < 0)
		return 0;
	/* With each CPU's pending counts of a run of rejects. */
	err = sg_reject_dump(x->reject_fd, x->skip_fd, x->names.slots,
			     x->names.nslots, &keys, &vals, &n);
	if (err) {
		sg_err("cannot read sg_reject: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct sg_reject_key *k = &keys[i];
		const struct sg_reject_val *v = &vals[i];
		struct sg_flow f = {};

		if (x->names.have_want && k->slot != x->names.want_slot)
			continue;
		if (!sg_fl_owner(&x->names, k->slot) || !v->packets)
			continue;
		f.id.slot = k->slot;
		/* Untracked accepts are kept there too, by reason. */
		f.id.action = k->reason == SG_CNT_ACCEPT_UNTRACKED
				      ? SG_FL_ACCEPT
				      : SG_FL_REJECT;
		f.id.reason = k->reason;
		f.rule_key = v->rule_key;
		f.tcp_flags = (__u8)v->tcp_flags;
		f.id.family = k->family;
		f.id.proto = k->proto;
		f.id.dir = k->dir;
		f.origin = k->dir;
		memcpy(f.id.saddr, k->saddr, 16);
		memcpy(f.id.daddr, k->daddr, 16);
		if (has_ports(k->proto)) {
			f.id.sport = ntohs(k->sport);
			f.id.dport = ntohs(k->dport);
		}
		f.id.epoch = v->first_ns;
		f.packets = v->packets;
		f.bytes = v->bytes;
		f.first_ns = v->first_ns;
		f.last_ns = v->last_ns;
		err = sg_flows_push(out, &f);
	}
	free(keys);
	free(vals);
	return err;
}

/*
 * Rejects the datapath counted but kept no record of (its budget spent):
 * one SKIPDATA flow per slot and direction, summed over the CPUs.
 */
static int snap_skips(struct sg_fl_src *x, struct sg_flows *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sg_reject_budget *b;
	int err = 0;

	if (x->skip_fd < 0 || ncpu < 1)
		return 0;
	b = calloc((size_t)ncpu, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < x->names.nslots && !err; i++) {
		__u32 slot = x->names.slots[i];

		if (slot >= SG_MAX_INSTANCES ||
		    (x->names.have_want && slot != x->names.want_slot))
			continue;
		if (bpf_map_lookup_elem(x->skip_fd, &slot, b))
			continue;
		for (int d = 0; d < SG_NDIR && !err; d++) {
			struct sg_flow f = {};

			for (int c = 0; c < ncpu; c++) {
				const struct sg_reject_skip *s = &b[c].skip[d];

				if (!s->packets)
					continue;
				f.packets += s->packets;
				f.bytes += s->bytes;
				if (!f.first_ns || s->first_ns < f.first_ns)
					f.first_ns = s->first_ns;
				if (s->last_ns > f.last_ns)
					f.last_ns = s->last_ns;
			}
			if (!f.packets)
				continue;
			f.id.slot = slot;
			f.id.action = SG_FL_SKIPDATA;
			f.id.dir = (__u8)d;
			f.origin = (__u8)d;
			err = sg_flows_push(out, &f);
		}
	}
	free(b);
	return err;
}

int sg_fl_snapshot(struct sg_fl_src *x, struct sg_flows *out)
{
	int err;

	out->n = 0;
	err = snap_accepts(x, out);
	if (!err)
		err = snap_rejects(x, out);
	if (!err)
		err = snap_skips(x, out);
	if (!err && out->n)
		qsort(out->v, out->n, sizeof(*out->v), sg_flow_id_cmp);
	return err;
}

/* ---------------------------------------------------------------- names */

int sg_fl_rule_cmp(const void *a, const void *b)
{
	const struct sg_fl_rule *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

const char *sg_fl_rule_id(const struct sg_fl_names *n, __u64 key)
{
	struct sg_fl_rule k = {.key = key}, *r;

	if (!key || !n->nrules)
		return "-";
	r = bsearch(&k, n->rules, n->nrules, sizeof(k), sg_fl_rule_cmp);
	return r ? r->id : "-";
}

void sg_fl_names_free(struct sg_fl_names *n)
{
	free(n->ids);
	free(n->slots);
	free(n->by_slot);
	free(n->rules);
	memset(n, 0, sizeof(*n));
}

/* The account, VPC, region and rule ids of the flow records: the stored
 * config's, if it parses; the defaults otherwise. */
static int read_account(struct sg_state *st, struct sg_fl_names *n)
{
	struct sg_config cfg = {};
	struct sg_diag diag;
	size_t nr = 0;
	int err;

	snprintf(n->account, sizeof(n->account), "000000000000");
	snprintf(n->vpc, sizeof(n->vpc), "vpc-default");
	snprintf(n->region, sizeof(n->region), "local");
	sg_diag_init(&diag);
	err = sg_stored_config(st, &cfg, &diag);
	if (!err && cfg.account)
		snprintf(n->account, sizeof(n->account), "%s", cfg.account);
	if (!err && cfg.vpc)
		snprintf(n->vpc, sizeof(n->vpc), "%s", cfg.vpc);
	if (!err && cfg.region)
		snprintf(n->region, sizeof(n->region), "%s", cfg.region);
	for (size_t g = 0; !err && g < cfg.ngroups; g++)
		nr += cfg.groups[g].nrules;
	if (!err && nr) {
		n->rules = calloc(nr, sizeof(*n->rules));
		for (size_t g = 0; n->rules && g < cfg.ngroups; g++)
			for (size_t r = 0; r < cfg.groups[g].nrules; r++) {
				struct sg_fl_rule *rn = &n->rules[n->nrules++];

				memcpy(rn->id, cfg.groups[g].rules[r].id,
				       sizeof(rn->id));
				rn->key = sg_rule_key_of(rn->id);
			}
		if (n->rules)
			qsort(n->rules, n->nrules, sizeof(*n->rules),
			      sg_fl_rule_cmp);
	}
	/* A stored config that does not parse only costs the account id. */
	if (err == -EINVAL || diag.nerrors)
		err = 0;
	sg_diag_free(&diag);
	sg_config_free(&cfg);
	return err == -ENOENT ? 0 : err;
}

int sg_fl_names_read(struct sg_state *st, const char *want,
		     struct sg_fl_names *n)
{
	int err;

	memset(n, 0, sizeof(*n));
	n->by_slot = calloc(SG_MAX_INSTANCES, sizeof(*n->by_slot));
	if (!n->by_slot) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	err = sg_slot_list(st, &n->ids, &n->slots, &n->nslots);
	if (!err)
		err = read_account(st, n);
	if (err) {
		sg_fl_names_free(n);
		return err;
	}
	n->have_want = want != NULL;
	n->want_slot = SG_MAX_INSTANCES;
	for (size_t i = 0; i < n->nslots; i++) {
		const char *id = n->ids + i * SG_ID_LEN;

		if (n->slots[i] < SG_MAX_INSTANCES)
			n->by_slot[n->slots[i]] = id;
		if (want && !strcmp(id, want))
			n->want_slot = n->slots[i];
	}
	return 0;
}

bool sg_fl_owner_changed(const struct sg_fl_names *a,
			 const struct sg_fl_names *b, __u32 slot)
{
	const char *x = sg_fl_owner(a, slot), *y = sg_fl_owner(b, slot);

	return x && y ? strcmp(x, y) != 0 : x != y;
}

bool sg_fl_names_differ(const struct sg_fl_names *a,
			const struct sg_fl_names *b)
{
	if (strcmp(a->account, b->account) || a->want_slot != b->want_slot ||
	    strcmp(a->vpc, b->vpc) || strcmp(a->region, b->region))
		return true;
	for (__u32 slot = 0; slot < SG_MAX_INSTANCES; slot++)
		if (sg_fl_owner_changed(a, b, slot))
			return true;
	return false;
}

/* ------------------------------------------------------------- watching */

static int map_id(int fd, __u32 *id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

int sg_fl_seen_now(struct sg_fl_src *x, struct sg_fl_seen *w)
{
	int err;

	memset(w, 0, sizeof(*w));
	err = map_id(bpf_map__fd(x->st.skel->maps.sg_meta), &w->meta_map_id);
	if (err) {
		sg_err("cannot read sg_meta: %s", strerror(-err));
		return err;
	}
	err = sg_meta_read(&x->st, &w->meta);
	if (!err)
		err = sg_active_gen(&x->st, &w->gen);
	return err;
}

int sg_fl_watch(struct sg_fl_src *x, enum sg_fl_change *what)
{
	char path[PATH_MAX];
	struct sg_meta m;
	__u32 id = 0, zero = 0, gen;
	int fd, err;

	snprintf(path, sizeof(path), "%s/sg_meta", x->st.pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT) {
			*what = SG_FL_MISSING;
			return 0;
		}
		sg_err("cannot open %s: %s", path, strerror(-err));
		return err;
	}
	err = map_id(fd, &id);
	if (!err && bpf_map_lookup_elem(fd, &zero, &m))
		err = -errno;
	close(fd);
	if (err) {
		sg_err("cannot read %s: %s", path, strerror(-err));
		return err;
	}
	if (id != x->seen.meta_map_id) {
		*what = m.loaded_at ? SG_FL_REBUILT : SG_FL_LOADING;
		return 0;
	}
	err = sg_active_gen(&x->st, &gen);
	if (err)
		return err;
	*what = gen != x->seen.gen || memcmp(&m, &x->seen.meta, sizeof(m))
			? SG_FL_RELOADED
			: SG_FL_SAME;
	return 0;
}

static void want_note(const struct sg_fl_src *x, const struct sg_fl_names *was)
{
	if (!x->want || was->want_slot == x->names.want_slot)
		return;
	if (x->names.want_slot >= SG_MAX_INSTANCES)
		sg_warnx("flowlog: instance %s is no longer in the loaded "
			 "config",
			 x->want);
	else if (was->want_slot >= SG_MAX_INSTANCES)
		sg_warnx("flowlog: instance %s is in the loaded config again",
			 x->want);
}

void sg_fl_take_names(struct sg_fl_src *x, struct sg_fl_names *n,
		      const struct sg_fl_seen *w)
{
	struct sg_fl_names was = x->names;

	x->names = *n;
	x->seen = *w;
	want_note(x, &was);
	sg_fl_names_free(&was);
	memset(n, 0, sizeof(*n));
}

static void find_fds(struct sg_fl_src *x)
{
	struct bpf_map *rm;

	rm = bpf_object__find_map_by_name(x->st.skel->obj, "sg_reject");
	x->reject_fd = rm ? bpf_map__fd(rm) : -1;
	rm = bpf_object__find_map_by_name(x->st.skel->obj, "sg_reject_budget");
	x->skip_fd = rm ? bpf_map__fd(rm) : -1;
}

int sg_fl_reopen(struct sg_fl_src *x)
{
	struct sg_state st;
	struct sg_fl_names n;
	struct sg_fl_seen w;
	int err;

	err = sg_state_open_ro(&st, x->st.pin_dir);
	if (err)
		return err; /* -ENOENT: unloaded again since the last poll */
	sg_state_close(&x->st);
	x->st = st;
	err = sg_fl_seen_now(x, &w);
	if (!err)
		err = sg_fl_names_read(&x->st, x->want, &n);
	if (err)
		return err;
	sg_fl_take_names(x, &n, &w);
	find_fds(x);
	return 0;
}

int sg_fl_open(struct sg_fl_src *x, const char *pin_dir, const char *want)
{
	int err;

	memset(x, 0, sizeof(*x));
	x->reject_fd = x->skip_fd = -1;
	x->want = want;
	err = sg_state_open_ro(&x->st, pin_dir);
	if (err)
		return err;
	/* What the state looks like first, then the names: a reload in
	 * between is noticed at the first poll. */
	err = sg_fl_seen_now(x, &x->seen);
	if (!err)
		err = sg_fl_names_read(&x->st, want, &x->names);
	if (err) {
		sg_fl_close(x);
		return err;
	}
	find_fds(x);
	return 0;
}

void sg_fl_close(struct sg_fl_src *x)
{
	sg_state_close(&x->st);
	sg_fl_names_free(&x->names);
	x->reject_fd = x->skip_fd = -1;
}

/* --------------------------------------------------------------- record */

const struct sg_fl_field_def sg_fl_fields[SG_FL_NFIELDS] = {
	[SG_FL_F_VERSION] = {"version", true},
	[SG_FL_F_ACCOUNT] = {"account-id", false},
	[SG_FL_F_INTERFACE] = {"interface-id", false},
	[SG_FL_F_SRCADDR] = {"srcaddr", false},
	[SG_FL_F_DSTADDR] = {"dstaddr", false},
	[SG_FL_F_SRCPORT] = {"srcport", true},
	[SG_FL_F_DSTPORT] = {"dstport", true},
	[SG_FL_F_PROTOCOL] = {"protocol", true},
	[SG_FL_F_PACKETS] = {"packets", true},
	[SG_FL_F_BYTES] = {"bytes", true},
	[SG_FL_F_START] = {"start", true},
	[SG_FL_F_END] = {"end", true},
	[SG_FL_F_ACTION] = {"action", false},
	[SG_FL_F_LOG_STATUS] = {"log-status", false},
	[SG_FL_F_VPC] = {"vpc-id", false},
	[SG_FL_F_INSTANCE] = {"instance-id", false},
	[SG_FL_F_FLOW_DIR] = {"flow-direction", false},
	[SG_FL_F_TCP_FLAGS] = {"tcp-flags", true},
	[SG_FL_F_PKT_SRCADDR] = {"pkt-srcaddr", false},
	[SG_FL_F_PKT_DSTADDR] = {"pkt-dstaddr", false},
	[SG_FL_F_TYPE] = {"type", false},
	[SG_FL_F_REGION] = {"region", false},
	[SG_FL_F_RULE_ID] = {"sg-rule-id", false},
	[SG_FL_F_REASON] = {"reason", false},
	[SG_FL_F_AUDIT] = {"audit", false},
};

void sg_fl_labels_of(const struct sg_fl_names *n, const struct sg_flow *f,
		     struct sg_fl_labels *l)
{
	l->account = n->account;
	l->vpc = n->vpc;
	l->region = n->region;
	l->instance = sg_fl_owner(n, f->id.slot);
	l->rule_id = sg_fl_rule_id(n, f->rule_key);
}

const char *sg_fl_reason(const struct sg_flow *f, char *buf, size_t len)
{
	static const char *const names[SG_NCOUNTERS] = {
#define SG_FL_REASON_(id, kind, name, reason, label) [SG_CNT_##id] = reason,
		SG_COUNTERS(SG_FL_REASON_)
#undef SG_FL_REASON_
	};
	const char *r;

	if (!f->id.action)
		return "-";
	if (f->id.reason == SG_CNT_AUDIT_WOULD_DROP ||
	    f->id.reason == SG_CNT_DROP_NO_RULE)
		return "no-rule";
	if (f->id.reason == SG_CNT_DROP_SPOOFED)
		return "source-check";
	r = f->id.reason < SG_NCOUNTERS ? names[f->id.reason] : NULL;
	if (!r)
		return "-";
	snprintf(buf, len, "%s", r);
	for (char *c = buf; *c; c++)
		if (*c == '_')
			*c = '-';
	return buf;
}

static __u64 unix_s(__s64 offset_ns, __u64 mono)
{
	__s64 t = (__s64)mono + offset_ns;

	return t > 0 ? (__u64)t / NS : 0;
}

void sg_fl_values(const struct sg_flow *f, const struct sg_fl_labels *l,
		  __s64 offset_ns, char vals[SG_FL_NFIELDS][SG_FL_VAL_LEN])
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN], rb[48];
	int af = f->id.family == 6 ? AF_INET6 : AF_INET;
	const char *iface = l->instance;
	const char *action = f->id.action ? "REJECT" : "ACCEPT";
	__u64 start = unix_s(offset_ns, f->first_ns);
	__u64 end = unix_s(offset_ns, f->last_ns);
	bool audit = f->id.reason == SG_CNT_AUDIT_WOULD_DROP;

	if (!inet_ntop(af, f->id.saddr, sa, sizeof(sa)))
		snprintf(sa, sizeof(sa), "-");
	if (!inet_ntop(af, f->id.daddr, da, sizeof(da)))
		snprintf(da, sizeof(da), "-");
	if (end < start)
		end = start;
#define V(i, ...) snprintf(vals[i], SG_FL_VAL_LEN, __VA_ARGS__)
	V(SG_FL_F_VERSION, "2");
	V(SG_FL_F_ACCOUNT, "%s", l->account);
	V(SG_FL_F_INTERFACE, "%s", iface ? iface : "-");
	V(SG_FL_F_SRCADDR, "%s", sa);
	V(SG_FL_F_DSTADDR, "%s", da);
	V(SG_FL_F_SRCPORT, "%u", f->id.sport);
	V(SG_FL_F_DSTPORT, "%u", f->id.dport);
	V(SG_FL_F_PROTOCOL, "%u", f->id.proto);
	V(SG_FL_F_PACKETS, "%llu", (unsigned long long)f->packets);
	V(SG_FL_F_BYTES, "%llu", (unsigned long long)f->bytes);
	V(SG_FL_F_START, "%llu", (unsigned long long)start);
	V(SG_FL_F_END, "%llu", (unsigned long long)end);
	V(SG_FL_F_ACTION, "%s", action);
	V(SG_FL_F_LOG_STATUS, "OK");
	V(SG_FL_F_VPC, "%s", l->vpc);
	V(SG_FL_F_INSTANCE, "%s", iface ? iface : "-");
	V(SG_FL_F_FLOW_DIR, "%s",
	  f->id.dir == SG_DIR_IN ? "ingress" : "egress");
	V(SG_FL_F_TCP_FLAGS, "%u",
	  f->id.proto == SG_PROTO_TCP ? (unsigned int)f->tcp_flags : 0u);
	V(SG_FL_F_PKT_SRCADDR, "%s", sa);
	V(SG_FL_F_PKT_DSTADDR, "%s", da);
	V(SG_FL_F_TYPE, "%s", f->id.family == 6 ? "IPv6" : "IPv4");
	V(SG_FL_F_REGION, "%s", l->region);
	V(SG_FL_F_RULE_ID, "%s", l->rule_id ? l->rule_id : "-");
	V(SG_FL_F_REASON, "%s", sg_fl_reason(f, rb, sizeof(rb)));
	V(SG_FL_F_AUDIT, "%s", audit ? "AUDIT" : "-");
	if (f->id.action == SG_FL_SKIPDATA) {
		/* VPC Flow Logs SKIPDATA: how much was skipped, no flow. */
		static const int none[] = {
			SG_FL_F_SRCADDR,     SG_FL_F_DSTADDR,
			SG_FL_F_SRCPORT,     SG_FL_F_DSTPORT,
			SG_FL_F_PROTOCOL,    SG_FL_F_ACTION,
			SG_FL_F_PKT_SRCADDR, SG_FL_F_PKT_DSTADDR,
			SG_FL_F_TYPE,	     SG_FL_F_TCP_FLAGS,
			SG_FL_F_RULE_ID,     SG_FL_F_REASON,
		};

		for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
			V(none[i], "-");
		V(SG_FL_F_LOG_STATUS, "SKIPDATA");
	}
#undef V
}

void sg_fl_json_members(struct sg_json *j, const struct sg_flow *f,
			char vals[SG_FL_NFIELDS][SG_FL_VAL_LEN],
			const bool *want)
{
	for (int i = 0; i < SG_FL_NFIELDS; i++) {
		if (want && !want[i])
			continue;
		if (sg_fl_fields[i].num && vals[i][0] == '-') {
			sg_json_key(j, sg_fl_fields[i].name);
			sg_json_null(j);
		} else if (sg_fl_fields[i].num) {
			sg_json_kv_uint(j, sg_fl_fields[i].name,
					strtoull(vals[i], NULL, 10));
		} else {
			sg_json_kv_string(j, sg_fl_fields[i].name, vals[i]);
		}
	}
	if (!want)
		sg_json_kv_string(j, "direction",
				  f->id.dir == SG_DIR_IN ? "inbound"
							 : "outbound");
}
