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
 * Times: the datapath stamps bpf_ktime_get_ns() (CLOCK_MONOTONIC); records
 * carry unix seconds, converted with the CLOCK_REALTIME - CLOCK_MONOTONIC
 * offset read at each poll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	__u8 action; /* 0 ACCEPT, 1 REJECT */
	__u8 family;
	__u8 proto;
	__u8 dir;	    /* enum sg_dir: one record per direction */
	__u16 sport, dport; /* host order */
	__u32 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 epoch; /* conntrack created_ns / reject first_ns: a new flow
		      * reusing the key starts counting afresh */
};

struct flow {
	struct flow_id id;
	__u64 packets, bytes;
	__u64 first_ns, last_ns; /* monotonic */
};

struct flows {
	struct flow *v;
	size_t n, cap;
};

struct fl_ctx {
	struct sg_state st;
	char *ids; /* SG_ID_LEN each */
	__u32 *slots;
	size_t nslots;
	bool have_want;
	__u32 want_slot;
	char account[64];
	int reject_fd; /* -1: this datapath keeps no rejected flows */
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

static const char *slot_id(const struct fl_ctx *x, __u32 slot)
{
	for (size_t i = 0; i < x->nslots; i++)
		if (x->slots[i] == slot)
			return x->ids + i * SG_ID_LEN;
	return NULL;
}

static bool has_ports(__u8 proto)
{
	return proto == 6 || proto == 17;
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

		if (x->have_want && k->slot != x->want_slot)
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

		if (x->have_want && k->slot != x->want_slot)
			continue;
		if (!slot_id(x, k->slot) || !v->packets)
			continue;
		f.id.slot = k->slot;
		f.id.action = 1;
		f.id.family = k->family;
		f.id.proto = k->proto;
		f.id.dir = k->dir;
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

/* Every flow now, sorted by id. */
static int snapshot(struct fl_ctx *x, struct flows *out)
{
	int err;

	out->n = 0;
	err = snap_accepts(x, out);
	if (!err)
		err = snap_rejects(x, out);
	if (!err)
		qsort(out->v, out->n, sizeof(*out->v), id_cmp);
	return err;
}

/* --------------------------------------------------------------- output */

struct sink {
	struct sg_json *j; /* -j without --follow: one document */
	bool follow;
	__s64 offset_ns; /* realtime - monotonic */
};

static __u64 unix_s(const struct sink *s, __u64 mono)
{
	__s64 t = (__s64)mono + s->offset_ns;

	return t > 0 ? (__u64)t / NS : 0;
}

static void emit(struct fl_ctx *x, struct sink *s, const struct flow *f,
		 __u64 start_ns, __u64 end_ns)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	int af = f->id.family == 6 ? AF_INET6 : AF_INET;
	const char *iface = slot_id(x, f->id.slot);
	const char *action = f->id.action ? "REJECT" : "ACCEPT";
	__u64 start = unix_s(s, start_ns), end = unix_s(s, end_ns);

	if (!inet_ntop(af, f->id.saddr, sa, sizeof(sa)))
		snprintf(sa, sizeof(sa), "-");
	if (!inet_ntop(af, f->id.daddr, da, sizeof(da)))
		snprintf(da, sizeof(da), "-");
	if (end < start)
		end = start;
	if (!sg_opts.json) {
		printf("2 %s %s %s %s %u %u %u %llu %llu %llu %llu %s OK\n",
		       x->account, iface ? iface : "-", sa, da, f->id.sport,
		       f->id.dport, f->id.proto, (unsigned long long)f->packets,
		       (unsigned long long)f->bytes, (unsigned long long)start,
		       (unsigned long long)end, action);
		return;
	}
	struct sg_json *j = s->j ? s->j : sg_json_new(stdout, false);

	sg_json_begin_object(j);
	sg_json_kv_int(j, "version", 2);
	sg_json_kv_string(j, "account-id", x->account);
	sg_json_kv_string(j, "interface-id", iface);
	sg_json_kv_string(j, "srcaddr", sa);
	sg_json_kv_string(j, "dstaddr", da);
	sg_json_kv_uint(j, "srcport", f->id.sport);
	sg_json_kv_uint(j, "dstport", f->id.dport);
	sg_json_kv_uint(j, "protocol", f->id.proto);
	sg_json_kv_uint(j, "packets", f->packets);
	sg_json_kv_uint(j, "bytes", f->bytes);
	sg_json_kv_uint(j, "start", start);
	sg_json_kv_uint(j, "end", end);
	sg_json_kv_string(j, "action", action);
	sg_json_kv_string(j, "log-status", "OK");
	sg_json_kv_string(j, "direction",
			  f->id.dir == SG_DIR_IN ? "inbound" : "outbound");
	sg_json_end_object(j);
	if (!s->j)
		sg_json_destroy(j); /* one object per line when following */
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
	fflush(stdout);
}

static int follow(struct fl_ctx *x, struct sink *s, struct flows *prev,
		  unsigned int window)
{
	struct flows cur = {}, acc = {}, tmp;
	__u64 win_start = clock_ns(CLOCK_MONOTONIC);
	__u64 win_end = win_start + (__u64)window * NS;
	int err = 0;

	while (!stop) {
		__u64 now = clock_ns(CLOCK_MONOTONIC);
		__u64 next = now + NS < win_end ? now + NS : win_end;
		struct timespec ts;

		if (next > now) {
			ts.tv_sec = (time_t)((next - now) / NS);
			ts.tv_nsec = (long)((next - now) % NS);
			nanosleep(&ts, NULL); /* EINTR on a signal: fine */
		}
		err = snapshot(x, &cur);
		if (err)
			break;
		s->offset_ns = (__s64)(clock_ns(CLOCK_REALTIME) -
				       clock_ns(CLOCK_MONOTONIC));
		err = accumulate(prev, &cur, &acc, win_start);
		if (err)
			break;
		tmp = *prev;
		*prev = cur;
		cur = tmp;
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
	free(cur.v);
	free(acc.v);
	return err;
}

/* ----------------------------------------------------------------- main */

/* The account id of the flow records: the stored config's, if it has
 * one that parses; the default otherwise. */
static int read_account(struct fl_ctx *x)
{
	struct sg_config cfg = {};
	struct sg_diag diag;
	int err;

	snprintf(x->account, sizeof(x->account), "000000000000");
	sg_diag_init(&diag);
	err = sg_stored_config(&x->st, &cfg, &diag);
	if (!err && cfg.account)
		snprintf(x->account, sizeof(x->account), "%s", cfg.account);
	/* A stored config that does not parse only costs the account id. */
	if (err == -EINVAL || diag.nerrors)
		err = 0;
	sg_diag_free(&diag);
	sg_config_free(&cfg);
	return err == -ENOENT ? 0 : err;
}

enum { OPT_INSTANCE = 0x100, OPT_FOLLOW, OPT_WINDOW };

int cmd_flowlog(int argc, char **argv)
{
	struct fl_ctx x = {.reject_fd = -1};
	struct sink s = {};
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
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (sg_need_root(argv[0]))
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		if (want) {
			sg_err("flowlog: no config loaded (no instance %s)",
			       want);
			return SG_EXIT_ERR;
		}
		if (sg_opts.json && !do_follow)
			printf("{\"records\": []}\n");
		return SG_EXIT_OK;
	}
	if (sg_state_open(&x.st, sg_opts.pin_dir, -1, false))
		return SG_EXIT_ERR;
	if (sg_slot_list(&x.st, &x.ids, &x.slots, &x.nslots))
		goto out;
	if (want) {
		for (size_t i = 0; i < x.nslots; i++)
			if (!strcmp(x.ids + i * SG_ID_LEN, want)) {
				x.have_want = true;
				x.want_slot = x.slots[i];
			}
		if (!x.have_want) {
			sg_err("flowlog: no instance %s in the loaded config",
			       want);
			goto out;
		}
	}
	if (read_account(&x))
		goto out;
	rm = bpf_object__find_map_by_name(x.st.skel->obj, "sg_reject");
	x.reject_fd = rm ? bpf_map__fd(rm) : -1;
	if (x.reject_fd < 0)
		sg_warnx("this datapath keeps no record of rejected flows: "
			 "only ACCEPT records");

	if (snapshot(&x, &prev))
		goto out;
	s.follow = do_follow;
	s.offset_ns =
		(__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	if (sg_opts.json && !do_follow) {
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
	fflush(stdout);
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
	free(x.ids);
	free(x.slots);
	return rc;
}
