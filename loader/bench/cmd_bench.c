// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sgctl bench: what a packet and a load cost.
 *
 *   bench micro [--rules LIST] [--members LIST] [--runs N] [--repeat N]
 *	The real sg_xdp, maps filled by the real parser and compiler from
 *	generated configs (bench_gen.c) in a temporary pin directory, run
 *	with BPF_PROG_TEST_RUN and `repeat`; an empty XDP program (r0 =
 *	XDP_PASS; exit) is the floor, measured in the same run. Cases:
 *	  established  a tracked TCP flow's packet, the live program (one
 *	               conntrack lookup, its refresh, a counter)
 *	  new-accept   a SYN a rule allows, the program in dry-run mode
 *	  new-reject   a SYN no rule allows (the source is in a class, the
 *	               port is not), dry-run mode
 *	Dry run (.rodata sg_dry_run = 1) decides without writing any map, so
 *	every repetition is really a new flow: the policy path alone (parse,
 *	conntrack miss, the two LPM lookups), not the conntrack insert.
 *	Figures are medians of `runs` runs of `repeat` packets.
 *
 *   bench live --gen-netns NS --gen-dev DEV --rx-netns NS --rx-dev DEV ...
 *	Live frames (BPF_F_TEST_XDP_LIVE_FRAMES) from tg_gen returning
 *	XDP_TX on the generator's veth end, received by sgctl (counted in
 *	sg_stats) or by tg_sink (no filter, or nftables behind it).
 *
 *   bench gen micro|cp ...	print a generated config
 *   bench control ...		parse / compile / apply times, map memory
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"
#include "trafficgen.skel.h"

#include "enforce/attach.h"
#include "bench/bench_gen.h"
#include "cmd/cmd.h"
#include "compile/compile.h"
#include "util/diag.h"
#include "out/json.h"
#include "state/state.h"
#include "config/model.h"

#define XDP_DROP_RC 1
#define XDP_PASS_RC 2
#define MAX_LIST    16
#define FRAME_MAX   128

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "1,60,300" -> ints; returns the count or -1. */
static int parse_list(const char *s, int *out, int max)
{
	char *dup = strdup(s), *save = NULL, *tok, *end;
	int n = 0;

	if (!dup)
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long v;

		errno = 0;
		v = strtol(tok, &end, 10);
		if (errno || *end || end == tok || v < 0 || v > 10000000 ||
		    n >= max) {
			free(dup);
			return -1;
		}
		out[n++] = (int)v;
	}
	free(dup);
	return n ? n : -1;
}

static int parse_uint(const char *cmd, const char *opt, const char *s, long min,
		      long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s ? s : "", &end, 10);
	if (!s || errno || *end || end == s || *out < min || *out > max)
		return sg_usage_err(cmd, "%s takes a number in %ld-%ld", opt,
				    min, max);
	return 0;
}

/* --------------------------------------------------------------- frames */

struct frame_spec {
	const __u8 *dmac, *smac; /* NULL: locally administered defaults */
	__u32 saddr, daddr;	 /* host order */
	__u8 proto;		 /* 6 or 17 */
	__u16 sport, dport;
	__u8 tcp_flags;
	size_t size; /* frame length, >= 60 */
};

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __u32 csum_add(__u32 sum, const __u8 *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	return sum;
}

/* Ethernet + IPv4 (correct header checksum) + TCP or UDP (checksums
 * correct too: the receiving stack checks them). Returns the length. */
static size_t frame_build(const struct frame_spec *s, __u8 *buf)
{
	static const __u8 dd[6] = {0x02, 0, 0, 0, 0, 0x02},
			  ds[6] = {0x02, 0, 0, 0, 0, 0x01};
	size_t l4len = s->proto == 6 ? 20 : 8, len = s->size;
	__u8 *ip = buf + 14, *l4 = ip + 20, pseudo[12];
	__u32 sum;

	if (len < 14 + 20 + l4len)
		len = 14 + 20 + l4len;
	if (len < 60)
		len = 60;
	if (len > FRAME_MAX)
		len = FRAME_MAX;
	memset(buf, 0, FRAME_MAX);
	memcpy(buf, s->dmac ? s->dmac : dd, 6);
	memcpy(buf + 6, s->smac ? s->smac : ds, 6);
	put16(buf + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (__u16)(len - 14));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = s->proto;
	put32(ip + 12, s->saddr);
	put32(ip + 16, s->daddr);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == 6) {
		put32(l4 + 4, 1000);
		put32(l4 + 8, s->tcp_flags & 0x10 ? 2000 : 0);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (__u16)(len - 34));
	}
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = s->proto;
	put16(pseudo + 10, (__u16)(len - 34));
	sum = csum_add(csum_add(0, pseudo, 12), l4, len - 34);
	put16(l4 + (s->proto == 6 ? 16 : 6), csum_fold(sum));
	return len;
}

/* ------------------------------------------------------ temporary state */

static char bench_pin[128];

static void bench_cleanup(void)
{
	if (bench_pin[0] && sg_state_exists(bench_pin))
		sg_state_remove(bench_pin);
	else if (bench_pin[0])
		rmdir(bench_pin);
	bench_pin[0] = '\0';
}

static void on_signal(int sig)
{
	bench_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int bench_state_open(struct sg_state *st)
{
	snprintf(bench_pin, sizeof(bench_pin), "/sys/fs/bpf/sgctl-bench-%d",
		 (int)getpid());
	atexit(bench_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	return sg_state_open(st, bench_pin, 0, false);
}

/* The programs again over the same pins, in dry-run mode. */
static struct sgctl_bpf *open_dry(const char *pin_dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct bpf_program *prog;
	struct sgctl_bpf *s;
	int err;

	s = sgctl_bpf__open_opts(&opts);
	if (!s) {
		sg_err("cannot open the BPF object: %s", sg_bpf_strerror(-errno));
		return NULL;
	}
	bpf_object__for_each_program(prog, s->obj)
		bpf_program__set_autoload(prog, prog == s->progs.sg_xdp);
	s->rodata->sg_slot = 0;
	s->rodata->sg_dry_run = 1;
	err = sgctl_bpf__load(s);
	if (err) {
		sg_err("cannot load the dry-run program: %s", sg_bpf_strerror(err));
		sgctl_bpf__destroy(s);
		return NULL;
	}
	return s;
}

/*
 * Parses and compiles a generated config; instance 0 gets slot 0, the
 * others slots 1... Member instances' own addresses are left out of sg_ip
 * (the source check of host-side attachments, never read by the NIC-mode
 * XDP measured here): 100k members would not fit its 65536 entries.
 */
static int compile_text(const char *text, size_t len, struct sg_config *cfg,
			struct sg_compiled *c, double *t_parse,
			double *t_compile)
{
	struct sg_diag diag;
	double t0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	memset(c, 0, sizeof(*c));
	sg_diag_init(&diag);
	t0 = now_s();
	err = sg_config_parse_string("bench.yaml", text, len, cfg, &diag);
	if (t_parse)
		*t_parse = now_s() - t0;
	t0 = now_s();
	if (!err && !diag.nerrors)
		err = sg_compile(cfg, c, &diag);
	if (t_compile)
		*t_compile = now_s() - t0;
	if (err || diag.nerrors) {
		sg_diag_print(&diag, stderr);
		sg_diag_free(&diag);
		sg_compiled_free(c);
		sg_config_free(cfg);
		return err ? err : -EINVAL;
	}
	sg_diag_free(&diag);
	return 0;
}

static int apply_compiled(struct sg_state *st, struct sg_compiled *c,
			  bool strip_members)
{
	int *slots = calloc(c->ninsts ? c->ninsts : 1, sizeof(*slots));
	int err;

	if (!slots)
		return -ENOMEM;
	if (c->ninsts > SG_MAX_INSTANCES) {
		free(slots);
		sg_err("%zu instances: at most %d slots", c->ninsts,
		       SG_MAX_INSTANCES);
		return -E2BIG;
	}
	for (size_t i = 0; i < c->ninsts; i++) {
		slots[i] = (int)i;
		if (strip_members && i)
			c->insts[i].nips = 0;
	}
	err = sg_state_apply(st, c, slots, c->ninsts);
	free(slots);
	return err;
}

/* ----------------------------------------------------------------- micro */

enum { CASE_EST, CASE_ACC, CASE_REJ, NCASES };
static const char *const case_name[NCASES] = {"established", "new-accept",
					      "new-reject"};

struct micro_row {
	int rules, members;
	double ns[NCASES];
};

static int test_run(int fd, const void *buf, size_t len, __u32 repeat,
		    __u32 *retval, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (__u32)len, .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &o);

	if (err) {
		sg_err("BPF_PROG_TEST_RUN: %s", sg_bpf_strerror(err));
		return err;
	}
	if (retval)
		*retval = o.retval;
	if (ns)
		*ns = o.duration;
	return 0;
}

static __u64 est_count(struct sg_state *st)
{
	struct sg_counter_val v[SG_NDIR][SG_NCOUNTERS];

	if (sg_stats_read(st, 0, v))
		return 0;
	return v[SG_DIR_IN][SG_CNT_ACCEPT_ESTABLISHED].packets;
}

/* Checks each case decides as intended, once, before timing it. */
static int micro_check(struct sg_state *st, struct sgctl_bpf *dry,
		       const __u8 (*frames)[FRAME_MAX], const size_t *lens,
		       const __u8 *syn, size_t syn_len)
{
	int live = bpf_program__fd(st->skel->progs.sg_xdp);
	int dfd = bpf_program__fd(dry->progs.sg_xdp);
	__u32 rv;
	__u64 before;
	size_t flushed;
	int err;

	err = sg_ct_flush(st, NULL, 0, &flushed);
	if (err)
		return err;
	/* The established flow: its SYN through the live program. */
	err = test_run(live, syn, syn_len, 1, &rv, NULL);
	if (err)
		return err;
	if (rv != XDP_PASS_RC) {
		sg_err("bench: the flow's SYN was dropped (verdict %u)", rv);
		return -EPROTO;
	}
	before = est_count(st);
	err = test_run(live, frames[CASE_EST], lens[CASE_EST], 1, &rv, NULL);
	if (!err && (rv != XDP_PASS_RC || est_count(st) != before + 1)) {
		sg_err("bench: the established case is not established");
		return -EPROTO;
	}
	dry->bss->sg_dry_result.done = 0;
	err = test_run(dfd, frames[CASE_ACC], lens[CASE_ACC], 1, &rv, NULL);
	if (!err && (rv != XDP_PASS_RC || !dry->bss->sg_dry_result.done ||
		     dry->bss->sg_dry_result.counter != SG_CNT_ACCEPT_NEW)) {
		sg_err("bench: the new-accept case is not a new accepted "
		       "flow (counter %u)",
		       dry->bss->sg_dry_result.counter);
		return -EPROTO;
	}
	dry->bss->sg_dry_result.done = 0;
	err = test_run(dfd, frames[CASE_REJ], lens[CASE_REJ], 1, &rv, NULL);
	if (!err && (rv != XDP_DROP_RC || !dry->bss->sg_dry_result.done ||
		     dry->bss->sg_dry_result.counter != SG_CNT_DROP_NO_RULE)) {
		sg_err("bench: the new-reject case is not rejected by policy "
		       "(counter %u)",
		       dry->bss->sg_dry_result.counter);
		return -EPROTO;
	}
	return err;
}

static int micro_one(struct sg_state *st, struct sgctl_bpf *dry, int floor_fd,
		     int rules, int members, int runs, __u32 repeat,
		     struct micro_row *row, double *floors, size_t *nfloors)
{
	struct bench_micro_cfg g = {.rules = rules, .members = members};
	struct bench_target t;
	struct sg_config cfg;
	struct sg_compiled c;
	__u8 frames[NCASES][FRAME_MAX], syn[FRAME_MAX];
	size_t lens[NCASES], syn_len;
	double *v = calloc((size_t)runs * NCASES, sizeof(*v));
	char *text = NULL;
	size_t len;
	int err, fds[NCASES];
	struct frame_spec fs = {
		.daddr = 0xc613ff01u, /* BENCH_INSTANCE_IP */
		.proto = 6,
		.size = 64,
	};

	if (!v)
		return -ENOMEM;
	err = bench_gen_micro(&g, &text, &len, &t);
	if (!err)
		err = compile_text(text, len, &cfg, &c, NULL, NULL);
	free(text);
	if (err) {
		free(v);
		return err;
	}
	err = apply_compiled(st, &c, true);
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	if (err) {
		free(v);
		return err;
	}

	fs.saddr = t.accept_src;
	fs.sport = 40000;
	fs.dport = t.accept_port;
	fs.tcp_flags = 0x02; /* SYN */
	syn_len = frame_build(&fs, syn);
	fs.tcp_flags = 0x10; /* ACK */
	lens[CASE_EST] = frame_build(&fs, frames[CASE_EST]);
	fs.sport = 40001;
	fs.tcp_flags = 0x02;
	lens[CASE_ACC] = frame_build(&fs, frames[CASE_ACC]);
	fs.sport = 40002;
	fs.dport = BENCH_REJECT_PORT;
	lens[CASE_REJ] = frame_build(&fs, frames[CASE_REJ]);

	err = micro_check(st, dry, (const __u8(*)[FRAME_MAX])frames, lens, syn,
			  syn_len);
	if (err) {
		free(v);
		return err;
	}
	fds[CASE_EST] = bpf_program__fd(st->skel->progs.sg_xdp);
	fds[CASE_ACC] = fds[CASE_REJ] = bpf_program__fd(dry->progs.sg_xdp);

	/* Interleaved: a noisy neighbour hits every case alike. */
	for (int r = 0; r < runs && !err; r++) {
		double f;

		err = test_run(floor_fd, frames[CASE_EST], lens[CASE_EST],
			       repeat, NULL, &f);
		if (!err)
			floors[(*nfloors)++] = f;
		for (int k = 0; k < NCASES && !err; k++)
			err = test_run(fds[k], frames[k], lens[k], repeat, NULL,
				       &v[k * runs + r]);
	}
	row->rules = rules;
	row->members = members;
	for (int k = 0; k < NCASES; k++)
		row->ns[k] = median(v + k * runs, (size_t)runs);
	free(v);
	return err;
}

static int floor_prog(void)
{
	struct bpf_insn pass[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K,
		 .dst_reg = BPF_REG_0,
		 .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_bench_floor", "GPL", pass,
			       2, NULL);

	if (fd < 0)
		sg_err("cannot load the floor program: %s", sg_bpf_strerror(fd));
	return fd;
}

static int bench_micro(int argc, char **argv)
{
	int rules[MAX_LIST] = {1, 60, 300, 1000}, nrules = 4;
	int members[MAX_LIST] = {0, 1000, 10000, 100000}, nmembers = 4;
	long runs = 5, repeat = 1000000;
	struct micro_row *rows = NULL;
	struct sgctl_bpf *dry = NULL;
	struct sg_state st = {};
	double *floors = NULL, floor_ns;
	size_t nfloors = 0, nrows = 0;
	int floor_fd = -1, err = 0, rc = SG_EXIT_ERR;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;
		long x;

		if (!strcmp(a, "--rules")) {
			nrules = val ? parse_list(val, rules, MAX_LIST) : -1;
			if (nrules < 0)
				return sg_usage_err("bench", "--rules takes a "
							     "list: 1,60,300");
			i++;
		} else if (!strcmp(a, "--members")) {
			nmembers =
				val ? parse_list(val, members, MAX_LIST) : -1;
			if (nmembers < 0)
				return sg_usage_err("bench",
						    "--members takes a list: "
						    "0,1000");
			i++;
		} else if (!strcmp(a, "--runs")) {
			if (parse_uint("bench", a, val, 1, 101, &runs))
				return SG_EXIT_USAGE;
			i++;
		} else if (!strcmp(a, "--repeat")) {
			if (parse_uint("bench", a, val, 1, 100000000, &x))
				return SG_EXIT_USAGE;
			repeat = x;
			i++;
		} else {
			return sg_usage_err("bench",
					    "micro: unknown option "
					    "'%s'",
					    a);
		}
	}
	for (int i = 0; i < nrules; i++)
		if (rules[i] < 1 || rules[i] > SG_MAX_RULES_PER_INSTANCE)
			return sg_usage_err("bench",
					    "--rules: 1-%d per "
					    "instance",
					    SG_MAX_RULES_PER_INSTANCE);
	if (sg_need_root("bench"))
		return SG_EXIT_ERR;

	rows = calloc((size_t)nrules * (size_t)nmembers, sizeof(*rows));
	floors = calloc((size_t)nrules * (size_t)nmembers * (size_t)runs,
			sizeof(*floors));
	if (!rows || !floors) {
		sg_err("out of memory");
		goto out;
	}
	floor_fd = floor_prog();
	if (floor_fd < 0)
		goto out;
	err = bench_state_open(&st);
	if (err)
		goto out;
	dry = open_dry(st.pin_dir);
	if (!dry)
		goto out;
	for (int m = 0; m < nmembers; m++) {
		for (int r = 0; r < nrules; r++) {
			err = micro_one(&st, dry, floor_fd, rules[r],
					members[m], (int)runs, (__u32)repeat,
					&rows[nrows], floors, &nfloors);
			if (err) {
				sg_err("bench micro: rules %d, members %d "
				       "failed",
				       rules[r], members[m]);
				goto out;
			}
			nrows++;
		}
	}
	floor_ns = median(floors, nfloors);
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, false);

		sg_json_begin_object(j);
		sg_json_key(j, "floor_ns");
		sg_json_double(j, floor_ns);
		sg_json_key(j, "results");
		sg_json_begin_array(j);
		for (size_t i = 0; i < nrows; i++) {
			for (int k = 0; k < NCASES; k++) {
				sg_json_begin_object(j);
				sg_json_kv_string(j, "case", case_name[k]);
				sg_json_kv_int(j, "rules", rows[i].rules);
				sg_json_kv_int(j, "members", rows[i].members);
				sg_json_key(j, "ns_per_pkt");
				sg_json_double(j, rows[i].ns[k]);
				sg_json_end_object(j);
			}
		}
		sg_json_end_array(j);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("sg_xdp through BPF_PROG_TEST_RUN, median of %ld runs x "
		       "%ld packets\nnew-* in dry-run mode (policy path, no "
		       "conntrack insert); established = live program\n"
		       "floor (empty XDP program): %.1f ns/pkt\n\n",
		       runs, repeat, floor_ns);
		printf("%7s %8s %13s %12s %12s\n", "rules", "members",
		       "established", "new-accept", "new-reject");
		for (size_t i = 0; i < nrows; i++)
			printf("%7d %8d %13.1f %12.1f %12.1f\n", rows[i].rules,
			       rows[i].members, rows[i].ns[CASE_EST],
			       rows[i].ns[CASE_ACC], rows[i].ns[CASE_REJ]);
	}
	rc = SG_EXIT_OK;
out:
	if (dry)
		sgctl_bpf__destroy(dry);
	if (st.skel)
		sg_state_close(&st);
	bench_cleanup();
	if (floor_fd >= 0)
		close(floor_fd);
	free(rows);
	free(floors);
	return rc;
}

/* ------------------------------------------------------------------ live */

enum mix { MIX_DROP, MIX_ESTABLISHED, MIX_ALLOWED, MIX_MANY };

struct live_opts {
	const char *gen_netns, *gen_dev, *rx_netns, *rx_dev;
	const char *sink; /* "sgctl", "pass", "drop" */
	enum mix mix;
	__u32 src, dst; /* host order */
	__u16 sport, dport;
	long seconds, count, size, slot;
};

static int ifinfo(const char *netns, const char *dev, int *ifindex, __u8 mac[6])
{
	struct sg_netns ns;
	struct ifreq ifr = {};
	int err, fd;

	err = sg_netns_enter(netns, &ns);
	if (err)
		return err;
	*ifindex = (int)if_nametoindex(dev);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	err = 0;
	if (!*ifindex || fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		err = -errno;
		sg_err("interface %s%s%s: %s", dev, netns ? " in netns " : "",
		       netns ? netns : "", strerror(errno));
	} else if (mac) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	if (fd >= 0)
		close(fd);
	sg_netns_leave(&ns);
	return err;
}

/* Packets the receiver counted so far: sg_stats of the slot (inbound) or
 * tg_counter. pass/drop split for sgctl. */
static int rx_count(const struct live_opts *o, struct trafficgen_bpf *tg,
		    int stats_fd, __u64 *total, __u64 *passed)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sg_counter_val *v = calloc((size_t)ncpu, sizeof(*v));
	int err = 0;

	*total = *passed = 0;
	if (!v)
		return -ENOMEM;
	if (strcmp(o->sink, "sgctl")) {
		__u32 k = 0;

		err = bpf_map_lookup_elem(bpf_map__fd(tg->maps.tg_counter), &k,
					  v);
		for (int i = 0; !err && i < ncpu; i++)
			*total += v[i].packets;
		if (!strcmp(o->sink, "pass"))
			*passed = *total;
	} else {
		for (__u32 c = 0; c < SG_NCOUNTERS && !err; c++) {
			__u32 idx =
				SG_STATS_INDEX((__u32)o->slot, SG_DIR_IN, c);
			__u64 n = 0;

			err = bpf_map_lookup_elem(stats_fd, &idx, v);
			for (int i = 0; !err && i < ncpu; i++)
				n += v[i].packets;
			*total += n;
			if (c <= SG_CNT_PASS_INFRA)
				*passed += n;
		}
	}
	free(v);
	if (err)
		sg_err("cannot read the receive counters: %s", sg_bpf_strerror(err));
	return err;
}

static int live_run(const struct live_opts *o)
{
	static const char *const mix_name[] = {"drop", "established", "allowed",
					       "many-sources"};
	struct trafficgen_bpf *tg = NULL;
	struct bpf_link *sink_link = NULL;
	struct sg_netns ns = {.orig_fd = -1};
	__u8 rx_mac[6], gen_mac[6], frame[FRAME_MAX];
	__u64 rx0 = 0, pass0 = 0, rx1 = 0, pass1 = 0, sent = 0;
	int gen_if, rx_if, stats_fd = -1, err, rc = SG_EXIT_ERR;
	double t0, t1;
	size_t flen;
	struct frame_spec fs = {
		.saddr = o->src,
		.daddr = o->dst,
		.proto = 17,
		.sport = o->sport,
		.dport = o->dport,
		.size = (size_t)o->size,
	};

	err = ifinfo(o->rx_netns, o->rx_dev, &rx_if, rx_mac);
	if (!err)
		err = ifinfo(o->gen_netns, o->gen_dev, &gen_if, gen_mac);
	if (err)
		return SG_EXIT_ERR;
	fs.dmac = rx_mac;
	fs.smac = gen_mac;
	flen = frame_build(&fs, frame);

	tg = trafficgen_bpf__open();
	if (!tg) {
		sg_err("cannot open the traffic generator: %s", sg_bpf_strerror(-errno));
		return SG_EXIT_ERR;
	}
	switch (o->mix) {
	case MIX_ALLOWED: /* one allowed source, a new flow per port */
		tg->rodata->tg_vary = 1;
		tg->rodata->tg_base = o->sport;
		tg->rodata->tg_span = 65535 - o->sport;
		break;
	case MIX_MANY: /* 65536 sources of 198.18.0.0/16 */
		tg->rodata->tg_vary = 2;
		tg->rodata->tg_base = o->src & 0xffff0000u;
		tg->rodata->tg_span = 65536;
		break;
	default:
		break;
	}
	tg->rodata->tg_sink_verdict =
		!strcmp(o->sink, "drop") ? XDP_DROP : XDP_PASS;
	err = trafficgen_bpf__load(tg);
	if (err) {
		sg_err("cannot load the traffic generator: %s", sg_bpf_strerror(err));
		goto out;
	}

	if (!strcmp(o->sink, "sgctl")) {
		char path[512];

		snprintf(path, sizeof(path), "%s/sg_stats", sg_opts.pin_dir);
		stats_fd = bpf_obj_get(path);
		if (stats_fd < 0) {
			sg_err("cannot open %s: %s", path, strerror(errno));
			goto out;
		}
	} else {
		/* A link: detached when this process ends, whatever happens. */
		err = sg_netns_enter(o->rx_netns, &ns);
		if (err)
			goto out;
		sink_link = bpf_program__attach_xdp(tg->progs.tg_sink, rx_if);
		err = sink_link ? 0 : -errno;
		sg_netns_leave(&ns);
		if (err) {
			sg_err("cannot attach the sink to %s: %s", o->rx_dev,
			       sg_bpf_strerror(err));
			goto out;
		}
	}

	if (rx_count(o, tg, stats_fd, &rx0, &pass0))
		goto out;
	err = sg_netns_enter(o->gen_netns, &ns);
	if (err)
		goto out;
	t0 = now_s();
	t1 = t0;
	while (sent < (__u64)o->count && t1 - t0 < (double)o->seconds) {
		/* The kernel wants data_end = the frame's length. */
		struct xdp_md ctx = {.data_end = (__u32)flen,
				     .ingress_ifindex = (__u32)gen_if};
		__u64 chunk = (__u64)o->count - sent;

		if (chunk > 262144)
			chunk = 262144;
		LIBBPF_OPTS(bpf_test_run_opts, r, .data_in = frame,
			    .data_size_in = (__u32)flen, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = (__u32)chunk,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = 64);
		err = bpf_prog_test_run_opts(bpf_program__fd(tg->progs.tg_gen),
					     &r);
		if (err) {
			sg_err("live frames: %s", sg_bpf_strerror(err));
			break;
		}
		sent += chunk;
		t1 = now_s();
	}
	sg_netns_leave(&ns);
	if (err)
		goto out;
	/* Let the receiver's NAPI finish what is queued. */
	usleep(20000);
	if (rx_count(o, tg, stats_fd, &rx1, &pass1))
		goto out;

	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, false);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "receiver", o->sink);
		sg_json_kv_string(j, "mix", mix_name[o->mix]);
		sg_json_kv_uint(j, "frame_bytes", flen);
		sg_json_kv_uint(j, "sent", sent);
		sg_json_kv_uint(j, "received", rx1 - rx0);
		sg_json_kv_uint(j, "passed", pass1 - pass0);
		sg_json_key(j, "seconds");
		sg_json_double(j, t1 - t0);
		sg_json_key(j, "mpps");
		sg_json_double(j, (double)(rx1 - rx0) / (t1 - t0) / 1e6);
		sg_json_key(j, "tx_mpps");
		sg_json_double(j, (double)sent / (t1 - t0) / 1e6);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("%s, %s: sent %llu, received %llu (passed %llu) in "
		       "%.2f s: %.3f Mpps received\n",
		       o->sink, mix_name[o->mix], (unsigned long long)sent,
		       (unsigned long long)(rx1 - rx0),
		       (unsigned long long)(pass1 - pass0), t1 - t0,
		       (double)(rx1 - rx0) / (t1 - t0) / 1e6);
	}
	rc = SG_EXIT_OK;
out:
	bpf_link__destroy(sink_link);
	if (stats_fd >= 0)
		close(stats_fd);
	trafficgen_bpf__destroy(tg);
	return rc;
}

static int parse_ip4(const char *s, __u32 *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int bench_live(int argc, char **argv)
{
	struct live_opts o = {
		.sink = "sgctl",
		.mix = MIX_DROP,
		.sport = 40000,
		.dport = 9,
		.seconds = 5,
		.count = 20000000,
		.size = 64,
	};
	const char *mix = "drop";
	long x;

	parse_ip4(BENCH_PEER_IP, &o.src);
	parse_ip4(BENCH_INSTANCE_IP, &o.dst);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return sg_usage_err("bench", "%s needs a value", a);
		i++;
		if (!strcmp(a, "--gen-netns"))
			o.gen_netns = v;
		else if (!strcmp(a, "--gen-dev"))
			o.gen_dev = v;
		else if (!strcmp(a, "--rx-netns"))
			o.rx_netns = v;
		else if (!strcmp(a, "--rx-dev"))
			o.rx_dev = v;
		else if (!strcmp(a, "--receiver"))
			o.sink = v;
		else if (!strcmp(a, "--mix"))
			mix = v;
		else if (!strcmp(a, "--src")) {
			if (parse_ip4(v, &o.src))
				return sg_usage_err("bench", "--src: IPv4");
		} else if (!strcmp(a, "--dst")) {
			if (parse_ip4(v, &o.dst))
				return sg_usage_err("bench", "--dst: IPv4");
		} else if (!strcmp(a, "--sport") || !strcmp(a, "--dport")) {
			if (parse_uint("bench", a, v, 1, 65535, &x))
				return SG_EXIT_USAGE;
			*(a[2] == 's' ? &o.sport : &o.dport) = (__u16)x;
		} else if (!strcmp(a, "--seconds")) {
			if (parse_uint("bench", a, v, 1, 60, &o.seconds))
				return SG_EXIT_USAGE;
		} else if (!strcmp(a, "--count")) {
			if (parse_uint("bench", a, v, 1, 1000000000, &o.count))
				return SG_EXIT_USAGE;
		} else if (!strcmp(a, "--size")) {
			if (parse_uint("bench", a, v, 60, FRAME_MAX, &o.size))
				return SG_EXIT_USAGE;
		} else if (!strcmp(a, "--slot")) {
			if (parse_uint("bench", a, v, 0, SG_MAX_INSTANCES - 1,
				       &o.slot))
				return SG_EXIT_USAGE;
		} else
			return sg_usage_err("bench",
					    "live: unknown option "
					    "'%s'",
					    a);
	}
	if (!o.gen_dev || !o.rx_dev)
		return sg_usage_err("bench",
				    "live needs --gen-dev and --rx-dev");
	if (!strcmp(mix, "drop"))
		o.mix = MIX_DROP;
	else if (!strcmp(mix, "established"))
		o.mix = MIX_ESTABLISHED;
	else if (!strcmp(mix, "allowed"))
		o.mix = MIX_ALLOWED;
	else if (!strcmp(mix, "many-sources"))
		o.mix = MIX_MANY;
	else
		return sg_usage_err("bench", "--mix: drop, established, "
					     "allowed or many-sources");
	if (strcmp(o.sink, "sgctl") && strcmp(o.sink, "pass") &&
	    strcmp(o.sink, "drop"))
		return sg_usage_err("bench", "--receiver: sgctl, pass or drop");
	if (sg_need_root("bench"))
		return SG_EXIT_ERR;
	return live_run(&o);
}

/* ------------------------------------------------------------------- gen */

static int bench_gen(int argc, char **argv)
{
	struct bench_micro_cfg m = {.rules = 1};
	struct bench_cp_cfg cp = {
		.groups = 100, .rules = 60, .instances = 1000, .per_inst = 3};
	struct bench_target t;
	bool micro;
	char *text = NULL;
	size_t len;
	long x;
	int err;

	if (argc < 2 || (strcmp(argv[1], "micro") && strcmp(argv[1], "cp")))
		return sg_usage_err("bench", "gen micro|cp [options]");
	micro = !strcmp(argv[1], "micro");
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--join")) {
			cp.join = 1;
			continue;
		}
		if (parse_uint("bench", a, v, 0, 1000000, &x))
			return SG_EXIT_USAGE;
		i++;
		if (!strcmp(a, "--rules") && micro)
			m.rules = (int)x;
		else if (!strcmp(a, "--members") && micro)
			m.members = (int)x;
		else if (!strcmp(a, "--rules"))
			cp.rules = (int)x;
		else if (!strcmp(a, "--groups"))
			cp.groups = (int)x;
		else if (!strcmp(a, "--instances"))
			cp.instances = (int)x;
		else if (!strcmp(a, "--per-instance"))
			cp.per_inst = (int)x;
		else
			return sg_usage_err("bench", "gen: unknown option '%s'",
					    a);
	}
	err = micro ? bench_gen_micro(&m, &text, &len, &t)
		    : bench_gen_cp(&cp, &text, &len);
	if (err) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	if (micro) {
		struct in_addr ia = {.s_addr = htonl(t.accept_src)};
		char ab[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &ia, ab, sizeof(ab));
		/* For scripts: a source and port the target rule allows. */
		printf("# bench-target: %s %u\n", ab, t.accept_port);
	}
	fwrite(text, 1, len, stdout);
	free(text);
	return SG_EXIT_OK;
}

/* --------------------------------------------------------------- control */

/* memlock of a map, as bpftool map show prints it (from fdinfo). */
static __u64 memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

struct mem_row {
	const char *name;
	__u64 before, after;
};

static int bench_control(int argc, char **argv)
{
	struct bench_cp_cfg cp = {
		.groups = 100, .rules = 60, .instances = 1000, .per_inst = 3};
	struct sg_state st = {};
	struct sg_config cfg;
	struct sg_compiled c;
	struct mem_row mem[32];
	struct bpf_map *map;
	struct rusage ru;
	double tp, tc, ta, tp2, tc2, ta2, t0;
	size_t nmem = 0, len, nclass = 0, nrule = 0, npol = 0;
	char *text = NULL;
	long x;
	int err, rc = SG_EXIT_ERR;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (parse_uint("bench", a, v, 1, 1000000, &x))
			return SG_EXIT_USAGE;
		i++;
		if (!strcmp(a, "--rules"))
			cp.rules = (int)x;
		else if (!strcmp(a, "--groups"))
			cp.groups = (int)x;
		else if (!strcmp(a, "--instances"))
			cp.instances = (int)x;
		else if (!strcmp(a, "--per-instance"))
			cp.per_inst = (int)x;
		else
			return sg_usage_err("bench",
					    "control: unknown option "
					    "'%s'",
					    a);
	}
	if (sg_need_root("bench"))
		return SG_EXIT_ERR;
	err = bench_state_open(&st);
	if (err)
		goto out;
	bpf_object__for_each_map(map, st.skel->obj)
	{
		if (bpf_map__is_internal(map) ||
		    nmem >= sizeof(mem) / sizeof(mem[0]))
			continue;
		mem[nmem].name = bpf_map__name(map);
		mem[nmem++].before = memlock(bpf_map__fd(map));
	}

	/* The config as loaded first. */
	if (bench_gen_cp(&cp, &text, &len))
		goto oom;
	err = compile_text(text, len, &cfg, &c, &tp, &tc);
	free(text);
	if (err)
		goto out;
	npol = c.npolicies;
	nclass = c.nclasses_entries;
	nrule = c.nrules_entries;
	t0 = now_s();
	err = apply_compiled(&st, &c, false);
	ta = now_s() - t0;
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	if (err)
		goto out;
	for (size_t i = 0; i < nmem; i++) {
		struct bpf_map *m =
			bpf_object__find_map_by_name(st.skel->obj, mem[i].name);

		mem[i].after = m ? memlock(bpf_map__fd(m)) : 0;
	}

	/* One instance joins sg-hub, which every group references. */
	cp.join = 1;
	if (bench_gen_cp(&cp, &text, &len))
		goto oom;
	err = compile_text(text, len, &cfg, &c, &tp2, &tc2);
	free(text);
	if (err)
		goto out;
	t0 = now_s();
	err = apply_compiled(&st, &c, false);
	ta2 = now_s() - t0;
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	if (err)
		goto out;
	getrusage(RUSAGE_SELF, &ru);

	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, false);
		__u64 tb = 0, ta_ = 0;

		sg_json_begin_object(j);
		sg_json_kv_int(j, "groups", cp.groups);
		sg_json_kv_int(j, "rules_per_group", cp.rules);
		sg_json_kv_int(j, "instances", cp.instances);
		sg_json_kv_int(j, "groups_per_instance", cp.per_inst);
		sg_json_kv_uint(j, "policies", npol);
		sg_json_kv_uint(j, "class_entries", nclass);
		sg_json_kv_uint(j, "rule_entries", nrule);
		sg_json_key(j, "load_ms");
		sg_json_begin_object(j);
		sg_json_key(j, "parse");
		sg_json_double(j, tp * 1e3);
		sg_json_key(j, "compile");
		sg_json_double(j, tc * 1e3);
		sg_json_key(j, "apply");
		sg_json_double(j, ta * 1e3);
		sg_json_end_object(j);
		sg_json_key(j, "join_ms");
		sg_json_begin_object(j);
		sg_json_key(j, "parse");
		sg_json_double(j, tp2 * 1e3);
		sg_json_key(j, "compile");
		sg_json_double(j, tc2 * 1e3);
		sg_json_key(j, "apply");
		sg_json_double(j, ta2 * 1e3);
		sg_json_end_object(j);
		sg_json_kv_uint(j, "max_rss_kib", (uint64_t)ru.ru_maxrss);
		sg_json_key(j, "memlock");
		sg_json_begin_object(j);
		for (size_t i = 0; i < nmem; i++) {
			sg_json_key(j, mem[i].name);
			sg_json_begin_array(j);
			sg_json_uint(j, mem[i].before);
			sg_json_uint(j, mem[i].after);
			sg_json_end_array(j);
			tb += mem[i].before;
			ta_ += mem[i].after;
		}
		sg_json_end_object(j);
		sg_json_kv_uint(j, "memlock_empty", tb);
		sg_json_kv_uint(j, "memlock_loaded", ta_);
		sg_json_key(j, "memlock_per_instance");
		sg_json_double(j, (double)(ta_ - tb) / cp.instances);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("%d groups x %d rules, %d instances x %d groups: %zu "
		       "policies, %zu + %zu entries\n"
		       "load: parse %.1f ms, compile %.1f ms, apply %.1f ms\n"
		       "one instance joins sg-hub: parse %.1f ms, compile "
		       "%.1f ms, apply %.1f ms\nmax RSS %ld KiB\n",
		       cp.groups, cp.rules, cp.instances, cp.per_inst, npol,
		       nclass, nrule, tp * 1e3, tc * 1e3, ta * 1e3, tp2 * 1e3,
		       tc2 * 1e3, ta2 * 1e3, ru.ru_maxrss);
		for (size_t i = 0; i < nmem; i++)
			printf("  %-12s memlock %10llu -> %10llu\n",
			       mem[i].name, (unsigned long long)mem[i].before,
			       (unsigned long long)mem[i].after);
	}
	rc = SG_EXIT_OK;
	goto out;
oom:
	sg_err("out of memory");
out:
	if (st.skel)
		sg_state_close(&st);
	bench_cleanup();
	return rc;
}

/* -------------------------------------------------------------- dispatch */

int cmd_bench(int argc, char **argv)
{
	static const struct cmd sub[] = {
		{"micro", bench_micro, ""}, {"live", bench_live, ""},
		{"gen", bench_gen, ""},	    {"control", bench_control, ""},
		{NULL, NULL, NULL},
	};
	const struct cmd *c;
	bool ambiguous;

	if (argc < 2)
		return sg_usage_err(argv[0], "micro, live, gen or control?");
	c = sg_cmd_find(sub, argv[1], &ambiguous);
	if (!c)
		return sg_usage_err(argv[0], "%s subcommand '%s'",
				    ambiguous ? "ambiguous" : "unknown",
				    argv[1]);
	return c->fn(argc - 1, argv + 1);
}
