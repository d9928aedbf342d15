// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowlog: VPC Flow Logs version 2 records,
 *
 *   version account-id interface-id srcaddr dstaddr srcport dstport
 *   protocol packets bytes start end action log-status
 *
 * Where the records come from (no per-packet event ever leaves the
 * kernel, and nothing runs in the datapath for them when nobody reads):
 *   ACCEPT  the conntrack entries (sg_ct): their per-direction packet and
 *           byte counters, one record per direction that carried traffic,
 *           source and destination as those packets travelled;
 *   REJECT  sg_reject, an LRU hash the datapath updates on its drop path
 *           only (no rule allowed the packet), one entry per flow.
 *
 * Without --follow: one record per flow and direction with everything
 * counted since the flow was first seen (start/end = its first and last
 * packet); --window S keeps the flows with a packet in the last S seconds.
 * With --follow: that, then every S seconds (default 60) one record per
 * flow and direction that had traffic in the window just closed, counting
 * only that window's packets. The maps are polled every second so that an
 * entry the expiry timer deletes has been read since its last packet.
 *
 * Following the state across changes (each poll reads only sg_active,
 * sg_meta and the id of the map pinned as sg_meta; nothing more unless
 * one of them changed):
 *   reload   (the live generation or sg_meta changed): the slot table and
 *            the stored config (account id) are read again. When an owner
 *            or the account changed, the records of the window so far are
 *            printed at once, under the names they were counted under,
 *            and the rest of the window is counted under the new names:
 *            a record names the instance that owned the slot when its
 *            packets were counted. A flow first seen at that poll in a
 *            slot that changed owner counts for the new owner (the old
 *            one had to be detached before a load could remove it); what
 *            the old owner's flows counted until then is printed under
 *            its name, and the load deletes those flows.
 *   rebuilt  (sg_meta is pinned again as another map, once that load has
 *            finished): the window so far is printed, the maps reopened,
 *            and the new maps' flows count from their start.
 *   gone     (no sg_meta pinned at two polls in a row): the window so far
 *            is printed, then "state removed; exiting", exit status 1.
 * With --instance ID the id is looked up again at each reload; while the
 * loaded config has no such instance nothing is printed for it.
 *
 * Times: the datapath stamps bpf_ktime_get_ns() (CLOCK_MONOTONIC); records
 * carry unix seconds, converted with the CLOCK_REALTIME - CLOCK_MONOTONIC
 * offset read at each poll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "cmd/cmd.h"
#include "enforce/stored.h"
#include "util/diag.h"
#include "out/json.h"
#include "state/state.h"
#include "input/inputs.h"
#include "config/model.h"

#define NS 1000000000ULL

/* What makes a record one flow in one direction (compared with memcmp). */
struct flow_id {
	__u32 slot;
	__u8 action; /* 0 ACCEPT, 1 REJECT, 2 SKIPDATA */
	__u8 family;
	__u8 proto;
	__u8 dir;	    /* enum sg_dir: one record per direction */
	__u16 sport, dport; /* host order */
	__u8 reason;	    /* enum sg_counter of a sg_reject record */
	__u8 pad[3];
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 epoch; /* conntrack created_ns / reject first_ns: a new flow
		      * reusing the key starts counting afresh */
};

struct flow {
	struct flow_id id;
	__u64 packets, bytes;
	__u64 first_ns, last_ns; /* monotonic */
	__u64 rule_key;		 /* the admitting rule; 0: none */
	__u8 tcp_flags;		 /* OR of the flags seen */
};

/* A rule key and the id it stands for (sg_rule_key_of). */
struct rule_name {
	__u64 key;
	char id[SG_RULE_ID_SIZE];
};

struct flows {
	struct flow *v;
	size_t n, cap;
};

/* Who the records are about: read at start and again after a reload. */
struct fl_names {
	char *ids; /* SG_ID_LEN each */
	__u32 *slots;
	size_t nslots;
	const char **by_slot; /* SG_MAX_INSTANCES: slot -> id or NULL */
	bool have_want;
	__u32 want_slot; /* SG_MAX_INSTANCES: the instance is not loaded */
	char account[64];
	char vpc[64];
	char region[64];
	struct rule_name *rules; /* sorted by key */
	size_t nrules;
};

/* What the last poll saw of the state, to notice a change cheaply. */
struct fl_seen {
	__u32 meta_map_id; /* of the sg_meta map we read */
	__u32 gen;	   /* sg_active */
	struct sg_meta meta;
	bool missing; /* no sg_meta pinned at the last poll */
};

struct fl_ctx {
	struct sg_state st;
	struct fl_names names;
	struct fl_seen seen;
	const char *want; /* --instance */
	int reject_fd;	  /* -1: this datapath keeps no rejected flows */
	int skip_fd;	  /* sg_reject_budget, or -1 */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int flows_push(struct flows *f, const struct flow *x)
{
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 256;
		struct flow *v = realloc(f->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = ncap;
	}
	f->v[f->n++] = *x;
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct flow *)a)->id,
		      &((const struct flow *)b)->id, sizeof(struct flow_id));
}

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * NS + (__u64)ts.tv_nsec;
}

static const char *owner(const struct fl_names *n, __u32 slot)
{
	return slot < SG_MAX_INSTANCES ? n->by_slot[slot] : NULL;
}

static const char *slot_id(const struct fl_ctx *x, __u32 slot)
{
	return owner(&x->names, slot);
}

static bool has_ports(__u8 proto)
{
	return proto == SG_PROTO_TCP || proto == SG_PROTO_UDP;
}

/* ------------------------------------------------------------- snapshot */

static int snap_accepts(struct fl_ctx *x, struct flows *out)
{
	struct sg_ct_key *keys = NULL;
	struct sg_ct_val *vals = NULL;
	size_t n;
	int err;

	err = sg_map_dump(bpf_map__fd(x->st.skel->maps.sg_ct), sizeof(*keys),
			  sizeof(*vals), (void **)&keys, (void **)&vals, &n);
	if (err) {
		sg_err("cannot read sg_ct: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct sg_ct_key *k = &keys[i];
		const struct sg_ct_val *v = &vals[i];

		if (x->names.have_want && k->slot != x->names.want_slot)
			continue;
		if (!slot_id(x, k->slot))
			continue; /* a released slot's leftovers */
		for (int d = 0; d < SG_NDIR && !err; d++) {
			struct flow f = {};
			bool in = d == SG_DIR_IN, ports = has_ports(k->proto);

			if (!v->packets[d])
				continue;
			f.id.slot = k->slot;
			f.id.action = 0;
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
			err = flows_push(out, &f);
		}
	}
	free(keys);
	free(vals);
	return err;
}

static int snap_rejects(struct fl_ctx *x, struct flows *out)
{
	struct sg_reject_key *keys = NULL;
	struct sg_reject_val *vals = NULL;
	size_t n;
	int err;

	if (x->reject_fd < 0)
		return 0;
	err = sg_map_dump(x->reject_fd, sizeof(*keys), sizeof(*vals),
			  (void **)&keys, (void **)&vals, &n);
	if (err) {
		sg_err("cannot read sg_reject: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct sg_reject_key *k = &keys[i];
		const struct sg_reject_val *v = &vals[i];
		struct flow f = {};

		if (x->names.have_want && k->slot != x->names.want_slot)
			continue;
		if (!slot_id(x, k->slot) || !v->packets)
			continue;
		f.id.slot = k->slot;
		/* Untracked accepts are kept there too, by reason. */
		f.id.action = k->reason == SG_CNT_ACCEPT_UNTRACKED ? 0 : 1;
		f.id.reason = k->reason;
		f.rule_key = v->rule_key;
		f.tcp_flags = (__u8)v->tcp_flags;
		f.id.family = k->family;
		f.id.proto = k->proto;
		f.id.dir = k->dir;
		f.id.reason = k->reason;
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
		err = flows_push(out, &f);
	}
	free(keys);
	free(vals);
	return err;
}

/*
 * Rejects the datapath counted but kept no record of (its budget spent):
 * one SKIPDATA flow per slot and direction, summed over the CPUs.
 */
static int snap_skips(struct fl_ctx *x, struct flows *out)
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
			struct flow f = {};

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
			f.id.action = 2;
			f.id.dir = (__u8)d;
			err = flows_push(out, &f);
		}
	}
	free(b);
	return err;
}

/* Every flow now, sorted by id. */
static int snapshot(struct fl_ctx *x, struct flows *out)
{
	int err;

	out->n = 0;
	err = snap_accepts(x, out);
	if (!err)
		err = snap_rejects(x, out);
	if (!err)
		err = snap_skips(x, out);
	if (!err)
		qsort(out->v, out->n, sizeof(*out->v), id_cmp);
	return err;
}

/* --------------------------------------------------------------- output */

/*
 * Record fields: VPC Flow Logs custom-format names, plus sgctl's own
 * sg-rule-id (the rule that admitted the flow), reason (why it was
 * dropped) and audit (AUDIT: no rule allowed it, it passed because the
 * instance is audited). num: a number in JSON.
 */
enum fl_field {
	F_VERSION,
	F_ACCOUNT,
	F_INTERFACE,
	F_SRCADDR,
	F_DSTADDR,
	F_SRCPORT,
	F_DSTPORT,
	F_PROTOCOL,
	F_PACKETS,
	F_BYTES,
	F_START,
	F_END,
	F_ACTION,
	F_LOG_STATUS,
	F_VPC,
	F_INSTANCE,
	F_FLOW_DIR,
	F_TCP_FLAGS,
	F_PKT_SRCADDR,
	F_PKT_DSTADDR,
	F_TYPE,
	F_REGION,
	F_RULE_ID,
	F_REASON,
	F_AUDIT,
	F_NFIELDS,
};

static const struct {
	const char *name;
	bool num;
} fields[F_NFIELDS] = {
	[F_VERSION] = {"version", true},
	[F_ACCOUNT] = {"account-id", false},
	[F_INTERFACE] = {"interface-id", false},
	[F_SRCADDR] = {"srcaddr", false},
	[F_DSTADDR] = {"dstaddr", false},
	[F_SRCPORT] = {"srcport", true},
	[F_DSTPORT] = {"dstport", true},
	[F_PROTOCOL] = {"protocol", true},
	[F_PACKETS] = {"packets", true},
	[F_BYTES] = {"bytes", true},
	[F_START] = {"start", true},
	[F_END] = {"end", true},
	[F_ACTION] = {"action", false},
	[F_LOG_STATUS] = {"log-status", false},
	[F_VPC] = {"vpc-id", false},
	[F_INSTANCE] = {"instance-id", false},
	[F_FLOW_DIR] = {"flow-direction", false},
	[F_TCP_FLAGS] = {"tcp-flags", true},
	[F_PKT_SRCADDR] = {"pkt-srcaddr", false},
	[F_PKT_DSTADDR] = {"pkt-dstaddr", false},
	[F_TYPE] = {"type", false},
	[F_REGION] = {"region", false},
	[F_RULE_ID] = {"sg-rule-id", false},
	[F_REASON] = {"reason", false},
	[F_AUDIT] = {"audit", false},
};

#define FL_DEFAULT_FORMAT                                                      \
	"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} "      \
	"${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} "      \
	"${end} ${action} ${log-status}"
#define FL_MAX_SEGS 128

/* A parsed --format: literal text, each followed by a field or none. */
struct fl_format {
	struct {
		char *lit;
		int field; /* enum fl_field, -1: none */
	} seg[FL_MAX_SEGS];
	size_t n;
	bool custom; /* --format given (-j then prints only its fields) */
};

static void format_free(struct fl_format *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->seg[i].lit);
	f->n = 0;
}

static void known_fields(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < F_NFIELDS && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? ", " : "", fields[i].name);
}

/* Parses "${a} text ${b}..."; on error says why in err (usage). */
static int format_parse(const char *text, struct fl_format *f, char *err,
			size_t errlen)
{
	const char *p = text;

	f->n = 0;
	while (*p) {
		const char *open = strstr(p, "${"), *close = NULL;
		size_t litlen = open ? (size_t)(open - p) : strlen(p);
		int field = -1;

		if (f->n == FL_MAX_SEGS) {
			snprintf(err, errlen, "too many fields");
			return -EINVAL;
		}
		if (open) {
			char name[64];
			size_t nl;

			close = strchr(open, '}');
			if (!close) {
				snprintf(err, errlen, "'${' without '}'");
				return -EINVAL;
			}
			nl = (size_t)(close - open - 2);
			if (nl >= sizeof(name))
				nl = sizeof(name) - 1;
			memcpy(name, open + 2, nl);
			name[nl] = '\0';
			for (int i = 0; i < F_NFIELDS; i++)
				if (!strcmp(fields[i].name, name))
					field = i;
			if (field < 0) {
				char known[600];

				known_fields(known, sizeof(known));
				snprintf(err, errlen,
					 "unknown field '%s'; known fields: %s",
					 name, known);
				return -EINVAL;
			}
		}
		f->seg[f->n].lit = strndup(p, litlen);
		f->seg[f->n].field = field;
		f->n++;
		p = open ? close + 1 : p + litlen;
	}
	if (!f->n) {
		snprintf(err, errlen, "empty format");
		return -EINVAL;
	}
	return 0;
}

struct sink {
	struct sg_json *j; /* -j without --follow: one document */
	bool follow;
	__s64 offset_ns; /* realtime - monotonic */
	struct fl_format fmt;
	FILE *out;		     /* stdout or --output */
	const char *path;	     /* --output */
	unsigned long long max_size; /* rotate past this many bytes; 0 never */
	unsigned int keep;	     /* rotated files kept: path.1 .. path.N */
};

static __u64 unix_s(const struct sink *s, __u64 mono)
{
	__s64 t = (__s64)mono + s->offset_ns;

	return t > 0 ? (__u64)t / NS : 0;
}

/* "no-rule", "conntrack-full", "source-check", ...; "-" for accepts. */
static const char *reason_name(const struct flow *f, char *buf, size_t len)
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

static int rule_name_cmp(const void *a, const void *b)
{
	const struct rule_name *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

static const char *rule_id(const struct fl_ctx *x, __u64 key)
{
	struct rule_name k = {.key = key}, *r;

	if (!key || !x->names.nrules)
		return "-";
	r = bsearch(&k, x->names.rules, x->names.nrules, sizeof(k),
		    rule_name_cmp);
	return r ? r->id : "-";
}

/* Keeps path.1 .. path.keep: path.N-1 -> path.N, ..., path -> path.1. */
static void rotate(struct sink *s)
{
	char from[PATH_MAX], to[PATH_MAX];

	fclose(s->out);
	for (unsigned int i = s->keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", s->path);
		else
			snprintf(from, sizeof(from), "%s.%u", s->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", s->path, i);
		rename(from, to); /* a missing one is fine */
	}
	if (!s->keep)
		unlink(s->path);
	s->out = fopen(s->path, "a");
	if (!s->out) {
		sg_err("flowlog: cannot open %s: %s", s->path, strerror(errno));
		s->out = stdout; /* records are not lost */
		s->path = NULL;
	}
}

static void emit(struct fl_ctx *x, struct sink *s, const struct flow *f,
		 __u64 start_ns, __u64 end_ns)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN], rb[48];
	char vals[F_NFIELDS][80];
	int af = f->id.family == 6 ? AF_INET6 : AF_INET;
	const char *iface = slot_id(x, f->id.slot);
	const char *action = f->id.action ? "REJECT" : "ACCEPT";
	__u64 start = unix_s(s, start_ns), end = unix_s(s, end_ns);
	bool audit = f->id.reason == SG_CNT_AUDIT_WOULD_DROP;

	if (!inet_ntop(af, f->id.saddr, sa, sizeof(sa)))
		snprintf(sa, sizeof(sa), "-");
	if (!inet_ntop(af, f->id.daddr, da, sizeof(da)))
		snprintf(da, sizeof(da), "-");
	if (end < start)
		end = start;
#define V(i, ...) snprintf(vals[i], sizeof(vals[i]), __VA_ARGS__)
	V(F_VERSION, "2");
	V(F_ACCOUNT, "%s", x->names.account);
	V(F_INTERFACE, "%s", iface ? iface : "-");
	V(F_SRCADDR, "%s", sa);
	V(F_DSTADDR, "%s", da);
	V(F_SRCPORT, "%u", f->id.sport);
	V(F_DSTPORT, "%u", f->id.dport);
	V(F_PROTOCOL, "%u", f->id.proto);
	V(F_PACKETS, "%llu", (unsigned long long)f->packets);
	V(F_BYTES, "%llu", (unsigned long long)f->bytes);
	V(F_START, "%llu", (unsigned long long)start);
	V(F_END, "%llu", (unsigned long long)end);
	V(F_ACTION, "%s", action);
	V(F_LOG_STATUS, "OK");
	V(F_VPC, "%s", x->names.vpc);
	V(F_INSTANCE, "%s", iface ? iface : "-");
	V(F_FLOW_DIR, "%s", f->id.dir == SG_DIR_IN ? "ingress" : "egress");
	V(F_TCP_FLAGS, "%u",
	  f->id.proto == SG_PROTO_TCP ? (unsigned int)f->tcp_flags : 0u);
	V(F_PKT_SRCADDR, "%s", sa);
	V(F_PKT_DSTADDR, "%s", da);
	V(F_TYPE, "%s", f->id.family == 6 ? "IPv6" : "IPv4");
	V(F_REGION, "%s", x->names.region);
	V(F_RULE_ID, "%s", rule_id(x, f->rule_key));
	V(F_REASON, "%s", reason_name(f, rb, sizeof(rb)));
	V(F_AUDIT, "%s", audit ? "AUDIT" : "-");
	if (f->id.action == 2) {
		/* VPC Flow Logs SKIPDATA: how much was skipped, no flow. */
		static const int none[] = {
			F_SRCADDR,  F_DSTADDR,	 F_SRCPORT,	F_DSTPORT,
			F_PROTOCOL, F_ACTION,	 F_PKT_SRCADDR, F_PKT_DSTADDR,
			F_TYPE,	    F_TCP_FLAGS, F_RULE_ID,	F_REASON,
		};

		for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
			V(none[i], "-");
		V(F_LOG_STATUS, "SKIPDATA");
	}
#undef V
	if (!sg_opts.json) {
		for (size_t i = 0; i < s->fmt.n; i++) {
			fputs(s->fmt.seg[i].lit, s->out);
			if (s->fmt.seg[i].field >= 0)
				fputs(vals[s->fmt.seg[i].field], s->out);
		}
		fputc('\n', s->out);
	} else {
		struct sg_json *j = s->j ? s->j : sg_json_new(s->out, false);

		sg_json_begin_object(j);
		for (int i = 0; i < F_NFIELDS; i++) {
			bool want = !s->fmt.custom;

			for (size_t k = 0; k < s->fmt.n && !want; k++)
				want = s->fmt.seg[k].field == i;
			if (!want)
				continue;
			if (fields[i].num && vals[i][0] == '-') {
				sg_json_key(j, fields[i].name);
				sg_json_null(j);
			} else if (fields[i].num)
				sg_json_kv_uint(j, fields[i].name,
						strtoull(vals[i], NULL, 10));
			else
				sg_json_kv_string(j, fields[i].name, vals[i]);
		}
		if (!s->fmt.custom)
			sg_json_kv_string(j, "direction",
					  f->id.dir == SG_DIR_IN ? "inbound"
								 : "outbound");
		sg_json_end_object(j);
		if (!s->j) {
			sg_json_destroy(j); /* one object per line */
		}
	}
	if (s->path && s->max_size) {
		long pos = ftell(s->out);

		if (pos >= 0 && (unsigned long long)pos >= s->max_size)
			rotate(s);
	}
}

static int by_time(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;

	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return id_cmp(a, b);
}

/* The whole history: one record per flow and direction. */
static void emit_all(struct fl_ctx *x, struct sink *s, struct flows *f,
		     __u64 since_ns)
{
	struct flow *v = malloc((f->n ? f->n : 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].last_ns >= since_ns)
			v[n++] = f->v[i];
	qsort(v, n, sizeof(*v), by_time);
	for (size_t i = 0; i < n; i++)
		emit(x, s, &v[i], v[i].first_ns, v[i].last_ns);
	free(v);
}

/* ---------------------------------------------------------------- names */

static void names_free(struct fl_names *n)
{
	free(n->ids);
	free(n->slots);
	free(n->by_slot);
	free(n->rules);
	memset(n, 0, sizeof(*n));
}

/* The account, VPC, region and rule ids of the flow records: the stored
 * config's, if it parses; the defaults otherwise. */
static int read_account(struct sg_state *st, struct fl_names *n)
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
				struct rule_name *rn = &n->rules[n->nrules++];

				memcpy(rn->id, cfg.groups[g].rules[r].id,
				       sizeof(rn->id));
				rn->key = sg_rule_key_of(rn->id);
			}
		if (n->rules)
			qsort(n->rules, n->nrules, sizeof(*n->rules),
			      rule_name_cmp);
	}
	/* A stored config that does not parse only costs the account id. */
	if (err == -EINVAL || diag.nerrors)
		err = 0;
	sg_diag_free(&diag);
	sg_config_free(&cfg);
	return err == -ENOENT ? 0 : err;
}

/* The slot table and the account of st, and the slot of want (if any). */
static int read_names(struct sg_state *st, const char *want, struct fl_names *n)
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
		names_free(n);
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

static bool owner_changed(const struct fl_names *a, const struct fl_names *b,
			  __u32 slot)
{
	const char *x = owner(a, slot), *y = owner(b, slot);

	return x && y ? strcmp(x, y) != 0 : x != y;
}

/* Would a record read under a be labelled otherwise under b? */
static bool names_differ(const struct fl_names *a, const struct fl_names *b)
{
	if (strcmp(a->account, b->account) || a->want_slot != b->want_slot ||
	    strcmp(a->vpc, b->vpc) || strcmp(a->region, b->region))
		return true;
	for (__u32 slot = 0; slot < SG_MAX_INSTANCES; slot++)
		if (owner_changed(a, b, slot))
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

/* What the state looks like now, from the maps x has open. */
static int seen_now(struct fl_ctx *x, struct fl_seen *w)
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

enum fl_change {
	FL_SAME,
	FL_RELOADED, /* same maps, another generation or sg_meta */
	FL_REBUILT,  /* other maps pinned, their load finished */
	FL_LOADING,  /* other maps pinned, their first load not finished */
	FL_MISSING,  /* no sg_meta pinned */
};

/* The cheap check of every poll: the pinned sg_meta's map id and value,
 * and sg_active. */
static int watch(struct fl_ctx *x, enum fl_change *what)
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
			*what = FL_MISSING;
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
		*what = m.loaded_at ? FL_REBUILT : FL_LOADING;
		return 0;
	}
	err = sg_active_gen(&x->st, &gen);
	if (err)
		return err;
	*what = gen != x->seen.gen || memcmp(&m, &x->seen.meta, sizeof(m))
			? FL_RELOADED
			: FL_SAME;
	return 0;
}

static void want_note(const struct fl_ctx *x, const struct fl_names *was)
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

/* Swaps in names n (taking them over) and the state seen w. */
static void take_names(struct fl_ctx *x, struct fl_names *n,
		       const struct fl_seen *w)
{
	struct fl_names was = x->names;

	x->names = *n;
	x->seen = *w;
	want_note(x, &was);
	names_free(&was);
	memset(n, 0, sizeof(*n));
}

/*
 * After a reload that changes names: the poll's snapshot cur was taken
 * under the old names. Flows first seen now in a slot whose owner changed
 * are the new owner's: they are left out of cur, so that the next poll
 * counts them whole under the new names.
 */
static void drop_moved(const struct fl_ctx *x, const struct fl_names *next,
		       const struct flows *prev, struct flows *cur)
{
	size_t k = 0;

	for (size_t i = 0; i < cur->n; i++) {
		const struct flow *c = &cur->v[i];

		if (owner_changed(&x->names, next, c->id.slot) &&
		    !bsearch(c, prev->v, prev->n, sizeof(*c), id_cmp))
			continue;
		cur->v[k++] = *c;
	}
	cur->n = k;
}

/* Opens the rebuilt state's maps in place of the old ones. */
static int reopen(struct fl_ctx *x)
{
	struct sg_state st;
	struct fl_names n;
	struct fl_seen w;
	struct bpf_map *rm;
	int err;

	err = sg_state_open_ro(&st, x->st.pin_dir);
	if (err == -ENOENT) /* unloaded again since the last poll */
		sg_err("state removed; exiting");
	if (err)
		return err;
	sg_state_close(&x->st);
	x->st = st;
	err = seen_now(x, &w);
	if (!err)
		err = read_names(&x->st, x->want, &n);
	if (err)
		return err;
	take_names(x, &n, &w);
	rm = bpf_object__find_map_by_name(x->st.skel->obj, "sg_reject");
	x->reject_fd = rm ? bpf_map__fd(rm) : -1;
	rm = bpf_object__find_map_by_name(x->st.skel->obj, "sg_reject_budget");
	x->skip_fd = rm ? bpf_map__fd(rm) : -1;
	return 0;
}

/* ------------------------------------------------------------ following */

/*
 * Adds cur - prev (per flow; a flow not in prev counts whole) to the
 * window's accumulator acc, which is kept sorted by id.
 */
static int accumulate(const struct flows *prev, const struct flows *cur,
		      struct flows *acc, __u64 win_start)
{
	size_t sorted = acc->n; /* ids of cur are unique: new ones go last */

	for (size_t i = 0; i < cur->n; i++) {
		const struct flow *c = &cur->v[i];
		const struct flow *p =
			bsearch(c, prev->v, prev->n, sizeof(*c), id_cmp);
		struct flow d = *c, *a;

		if (p && p->packets <= c->packets) {
			d.packets = c->packets - p->packets;
			d.bytes =
				c->bytes >= p->bytes ? c->bytes - p->bytes : 0;
			d.first_ns = p->last_ns;
		}
		if (!d.packets)
			continue;
		if (d.first_ns < win_start)
			d.first_ns = win_start;
		a = bsearch(&d, acc->v, sorted, sizeof(d), id_cmp);
		if (a) {
			a->packets += d.packets;
			a->bytes += d.bytes;
			if (d.last_ns > a->last_ns)
				a->last_ns = d.last_ns;
			continue;
		}
		if (flows_push(acc, &d))
			return -ENOMEM;
	}
	qsort(acc->v, acc->n, sizeof(*acc->v), id_cmp);
	return 0;
}

static void flush_window(struct fl_ctx *x, struct sink *s, struct flows *acc)
{
	qsort(acc->v, acc->n, sizeof(*acc->v), by_time);
	for (size_t i = 0; i < acc->n; i++)
		emit(x, s, &acc->v[i], acc->v[i].first_ns, acc->v[i].last_ns);
	acc->n = 0;
	fflush(s->out);
}

static int follow(struct fl_ctx *x, struct sink *s, struct flows *prev,
		  unsigned int window)
{
	struct flows cur = {}, acc = {}, tmp;
	struct fl_names next = {};
	__u64 win_start = clock_ns(CLOCK_MONOTONIC);
	__u64 win_end = win_start + (__u64)window * NS;
	int err = 0;

	while (!stop) {
		__u64 now = clock_ns(CLOCK_MONOTONIC);
		__u64 wake = now + NS < win_end ? now + NS : win_end;
		enum fl_change what = FL_SAME;
		struct fl_seen w;
		bool renamed = false;
		struct timespec ts;

		if (wake > now) {
			ts.tv_sec = (time_t)((wake - now) / NS);
			ts.tv_nsec = (long)((wake - now) % NS);
			nanosleep(&ts, NULL); /* EINTR on a signal: fine */
		}
		err = watch(x, &what);
		if (!err && what == FL_RELOADED) {
			err = seen_now(x, &w);
			if (!err)
				err = read_names(&x->st, x->want, &next);
			if (!err && !names_differ(&x->names, &next))
				take_names(x, &next, &w); /* nothing to show */
			else
				renamed = !err;
		}
		if (err)
			break;
		/* The maps x has open, under the names they had until now:
		 * also the last packets of a state just removed. */
		err = snapshot(x, &cur);
		if (err)
			break;
		s->offset_ns = (__s64)(clock_ns(CLOCK_REALTIME) -
				       clock_ns(CLOCK_MONOTONIC));
		if (renamed)
			drop_moved(x, &next, prev, &cur);
		err = accumulate(prev, &cur, &acc, win_start);
		if (err)
			break;
		tmp = *prev;
		*prev = cur;
		cur = tmp;
		if (renamed) {
			flush_window(x, s, &acc);
			take_names(x, &next, &w);
		} else if (what == FL_REBUILT) {
			flush_window(x, s, &acc);
			err = reopen(x);
			if (err)
				break;
			prev->n = 0; /* new maps: their flows count whole */
		} else if (what == FL_MISSING && x->seen.missing) {
			flush_window(x, s, &acc);
			sg_err("state removed; exiting");
			err = -ENOENT;
			break;
		}
		x->seen.missing = what == FL_MISSING;
		if (clock_ns(CLOCK_MONOTONIC) >= win_end || stop) {
			flush_window(x, s, &acc);
			win_start = win_end;
			win_end += (__u64)window * NS;
			/* A stalled process skips windows rather than bursting.
			 */
			now = clock_ns(CLOCK_MONOTONIC);
			while (win_end <= now) {
				win_start = win_end;
				win_end += (__u64)window * NS;
			}
		}
	}
	flush_window(x, s, &acc);
	names_free(&next);
	free(cur.v);
	free(acc.v);
	return err;
}

/* ----------------------------------------------------------------- main */

enum {
	OPT_INSTANCE = 0x100,
	OPT_FOLLOW,
	OPT_WINDOW,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_MAX_SIZE,
	OPT_KEEP,
};

/* "10485760", "512K", "10M", "1G" -> bytes; 0 when it is not one. */
static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return 0;
	if (!*end)
		return v;
	if (end[1])
		return 0;
	switch (*end) {
	case 'k':
	case 'K':
		return v << 10;
	case 'm':
	case 'M':
		return v << 20;
	case 'g':
	case 'G':
		return v << 30;
	}
	return 0;
}

int cmd_flowlog(int argc, char **argv)
{
	struct fl_ctx x = {.reject_fd = -1, .skip_fd = -1};
	struct sink s = {.out = stdout, .keep = 5};
	const char *format = NULL;
	char ferr[800];
	struct flows prev = {};
	const char *want = NULL;
	bool do_follow = false, have_window = false;
	unsigned long window = 60;
	struct bpf_map *rm;
	int opt, rc = SG_EXIT_ERR;
	static const struct option opts[] = {
		{"instance", required_argument, NULL, OPT_INSTANCE},
		{"follow", no_argument, NULL, OPT_FOLLOW},
		{"window", required_argument, NULL, OPT_WINDOW},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"max-size", required_argument, NULL, OPT_MAX_SIZE},
		{"keep", required_argument, NULL, OPT_KEEP},
		{NULL, 0, NULL, 0},
	};

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case OPT_INSTANCE:
			want = optarg;
			break;
		case OPT_FOLLOW:
			do_follow = true;
			break;
		case OPT_WINDOW:
			errno = 0;
			window = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || window < 1 ||
			    window > 86400)
				return sg_usage_err(argv[0],
						    "--window: '%s' is not a "
						    "number of seconds 1-86400",
						    optarg);
			have_window = true;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_OUTPUT:
			s.path = optarg;
			break;
		case OPT_MAX_SIZE:
			s.max_size = parse_size(optarg);
			if (!s.max_size)
				return sg_usage_err(argv[0],
						    "--max-size: '%s' is not a "
						    "size (e.g. 10M, 512K)",
						    optarg);
			break;
		case OPT_KEEP:
			errno = 0;
			s.keep = (unsigned int)strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || s.keep > 1000)
				return sg_usage_err(argv[0],
						    "--keep: '%s' is not a "
						    "number 0-1000",
						    optarg);
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (s.max_size && !s.path)
		return sg_usage_err(argv[0], "--max-size goes with --output");
	s.fmt.custom = format != NULL;
	if (format_parse(format ? format : FL_DEFAULT_FORMAT, &s.fmt, ferr,
			 sizeof(ferr))) {
		format_free(&s.fmt);
		return sg_usage_err(argv[0], "--format: %s", ferr);
	}
	if (sg_need_root(argv[0])) {
		format_free(&s.fmt);
		return SG_EXIT_ERR;
	}
	if (s.path) {
		s.out = fopen(s.path, "a");
		if (!s.out) {
			sg_err("flowlog: cannot open %s: %s", s.path,
			       strerror(errno));
			format_free(&s.fmt);
			return SG_EXIT_ERR;
		}
	}
	if (!sg_state_exists(sg_opts.pin_dir)) {
		if (want) {
			sg_err("flowlog: no config loaded (no instance %s)",
			       want);
			goto out;
		}
		if (sg_opts.json && !do_follow && !s.path)
			printf("{\"records\": []}\n");
		rc = SG_EXIT_OK;
		goto out;
	}
	if (sg_state_open_ro(&x.st, sg_opts.pin_dir))
		return SG_EXIT_ERR;
	x.want = want;
	/* What the state looks like first, then the names: a reload in
	 * between is noticed at the first poll. */
	if (seen_now(&x, &x.seen) || read_names(&x.st, want, &x.names))
		goto out;
	if (want && x.names.want_slot >= SG_MAX_INSTANCES) {
		sg_err("flowlog: no instance %s in the loaded config", want);
		goto out;
	}
	rm = bpf_object__find_map_by_name(x.st.skel->obj, "sg_reject");
	x.reject_fd = rm ? bpf_map__fd(rm) : -1;
	rm = bpf_object__find_map_by_name(x.st.skel->obj, "sg_reject_budget");
	x.skip_fd = rm ? bpf_map__fd(rm) : -1;
	if (x.reject_fd < 0)
		sg_warnx("this datapath keeps no record of rejected flows: "
			 "only ACCEPT records");

	if (snapshot(&x, &prev))
		goto out;
	s.follow = do_follow;
	s.offset_ns =
		(__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	/* -j: one document, or one object per line when following or
	 * appending to a file. */
	if (sg_opts.json && !do_follow && !s.path) {
		s.j = sg_json_new(stdout, true);
		sg_json_begin_object(s.j);
		sg_json_key(s.j, "records");
		sg_json_begin_array(s.j);
	}
	emit_all(&x, &s, &prev,
		 have_window && !do_follow
			 ? clock_ns(CLOCK_MONOTONIC) - (__u64)window * NS
			 : 0);
	if (s.j) {
		sg_json_end_array(s.j);
		sg_json_end_object(s.j);
		sg_json_destroy(s.j);
		s.j = NULL;
	}
	fflush(s.out);
	if (do_follow) {
		struct sigaction sa = {.sa_handler = on_signal};

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (follow(&x, &s, &prev, (unsigned int)window))
			goto out;
	}
	rc = SG_EXIT_OK;
out:
	sg_state_close(&x.st);
	free(prev.v);
	names_free(&x.names);
	format_free(&s.fmt);
	if (s.out != stdout)
		fclose(s.out);
	return rc;
}
