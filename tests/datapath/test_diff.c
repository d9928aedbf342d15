// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Differential test of the policy compiler: random valid configs (nested
 * IPv4/IPv6 CIDRs, prefix lists, group references and self-references,
 * presets, all-traffic rules, several groups per instance, default egress)
 * go through the real parser, compiler and sg_state_apply() into a
 * temporary pin directory; random new-flow packets (inside and just
 * outside every prefix, every protocol, port edges, ICMP types and codes,
 * both directions) then run through the real sg_xdp / sg_tc in dry-run
 * mode, and each verdict is compared with the reference model
 * (loader/refmodel.c). Needs root.
 *
 * Environment:
 *   SG_DIFF_SEED     first seed (default 1; "time" = from the clock)
 *   SG_DIFF_CONFIGS  configs to try (default 40)
 *   SG_DIFF_PACKETS  packets per instance (default 200)
 *   SG_DIFF_SECONDS  run until this much time has passed instead
 *   SG_DIFF_OUT      where mismatch reproducers go (default BUILD/fuzz,
 *                    next to this binary's build directory)
 * A mismatch writes OUT/diff-SEED-N.yaml (the config) and .txt (instance,
 * packet, both verdicts, the frame) and fails the test.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sgctl.h"
#include "sgctl.skel.h"
#include "compile/compile.h"
#include "util/diag.h"
#include "state/state.h"
#include "config/model.h"
#include "compile/refmodel.h"

#define MAX_INST 4
#define YAML_MAX 65536

/* ---- a small seeded PRNG (splitmix64) ---- */

static __u64 rng_state;

static __u64 rnd(void)
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rn(unsigned int n)
{
	return n ? (unsigned int)(rnd() % n) : 0;
}

static bool chance(unsigned int pct)
{
	return rn(100) < pct;
}

#define PICK(arr) ((arr)[rn(sizeof(arr) / sizeof((arr)[0]))])

/* ---- pools the generator draws from: nested on purpose ---- */

static const char *const cidr4[] = {
	"0.0.0.0/0",	  "10.0.0.0/8",	   "10.1.0.0/16",   "10.1.2.0/24",
	"10.1.2.128/25",  "10.1.2.3/32",   "10.1.3.0/23", /* host bits */
	"172.16.0.0/12",  "192.0.2.0/24",  "192.0.2.64/26", "198.51.100.0/24",
	"203.0.113.7/32", "10.1.2.200/29", "128.0.0.0/1",
};
static const char *const cidr6[] = {
	"::/0",
	"2001:db8::/32",
	"2001:db8:1::/48",
	"2001:db8:1:2::/64",
	"2001:db8:1:2::3/128",
	"2001:db8:ff00::/40",
	"fd00::/8",
	"8000::/1",
	"2001:db8:1:2::ff/120",
};
static const char *const inst_ips[] = {
	"10.1.2.3",	   "10.1.2.4",	    "10.1.2.200", "10.9.9.9",
	"192.0.2.70",	   "198.51.100.5",  "172.16.5.5", "2001:db8:1:2::3",
	"2001:db8:1:2::4", "2001:db8:2::1", "fd00::5",	  "2001:db8:ff00::9",
};
static const char *const presets[] = {
	"ssh",	       "http",	     "https",	"dns-udp",  "dns-tcp",
	"all-traffic", "all-tcp",    "all-udp", "all-icmp", "all-icmpv6",
	"mysql",       "postgresql", "rdp",	"smtp",	    "nfs",
};
static const int port_edges[] = {0,    1,     2,     21,    22,
				 53,   80,    443,   1023,  1024,
				 8080, 32767, 32768, 65534, 65535};
static const int icmp_types[] = {0, 3, 8, 11, 12, 128, 129, 1, 2, 255};
static const int other_protos[] = {47, 50, 51, 132, 0, 255, 2, 4, 41, 89};

/* ---- config generator ---- */

struct gen {
	char *buf;
	size_t len;
	int ngroups, nlists, ninst;
};

__attribute__((format(printf, 2, 3))) static void out(struct gen *g,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(g->buf + g->len, YAML_MAX - g->len, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && g->len + (size_t)n < YAML_MAX, "config too big");
	g->len += (size_t)n;
}

static const char *any_cidr(void)
{
	return chance(55) ? PICK(cidr4) : PICK(cidr6);
}

/* One peer: a CIDR, a prefix list, or a group (possibly its own). */
static void peer(struct gen *g, char *buf, size_t len)
{
	unsigned int k = rn(100);

	if (k < 55 || (k < 70 && !g->nlists))
		snprintf(buf, len, "\"%s\"", any_cidr());
	else if (k < 70)
		snprintf(buf, len, "pl-%u", rn((unsigned int)g->nlists));
	else if (k < 96)
		snprintf(buf, len, "sg-%u", rn((unsigned int)g->ngroups));
	else
		snprintf(buf, len, "sg-default");
}

static void rule(struct gen *g, bool inbound)
{
	char peers[4][64];
	unsigned int np = 1 + rn(3), i, k;

	out(g, "      - { ");
	k = rn(100);
	if (k < 25) {
		out(g, "type: %s", PICK(presets));
	} else if (k < 60) {
		int lo = chance(50) ? PICK(port_edges) : (int)rn(65536);
		int hi = chance(40)   ? lo
			 : chance(50) ? PICK(port_edges)
				      : (int)rn(65536);

		out(g, "protocol: %s, ", chance(50) ? "tcp" : "udp");
		if (hi < lo) {
			int t = lo;

			lo = hi;
			hi = t;
		}
		if (chance(10))
			out(g, "ports: all");
		else if (lo == hi)
			out(g, "ports: %d", lo);
		else
			out(g, "ports: %d-%d", lo, hi);
	} else if (k < 80) {
		bool v6 = chance(40);

		out(g, "protocol: %s", v6 ? "icmpv6" : "icmp");
		if (chance(70)) {
			out(g, ", icmp_type: %d", PICK(icmp_types));
			if (chance(50))
				out(g, ", icmp_code: %d", (int)rn(5));
			else if (chance(20))
				out(g, ", icmp_code: all");
		} else if (chance(30)) {
			out(g, ", icmp_type: all");
		}
	} else if (k < 90) {
		out(g, "protocol: %d", PICK(other_protos));
	} else {
		out(g, "protocol: %s", chance(50) ? "all" : "\"-1\"");
	}
	/* Distinct peers: a repeated one is a duplicate rule. */
	for (i = 0; i < np; i++) {
		unsigned int t;

		peer(g, peers[i], sizeof(peers[i]));
		for (t = 0; t < i; t++)
			if (!strcmp(peers[t], peers[i]))
				break;
		if (t < i)
			np = i--;
	}
	out(g, ", %s: ", inbound ? "source" : "destination");
	if (np == 1 && chance(50)) {
		out(g, "%s", peers[0]);
	} else {
		out(g, "[");
		for (i = 0; i < np; i++)
			out(g, "%s%s", i ? ", " : "", peers[i]);
		out(g, "]");
	}
	out(g, " }\n");
}

static void gen_config(struct gen *g)
{
	const char *ips[sizeof(inst_ips) / sizeof(inst_ips[0])];
	size_t nip = sizeof(ips) / sizeof(ips[0]), used = 0, i;
	int k, r;

	g->len = 0;
	g->ngroups = 1 + (int)rn(5);
	g->nlists = (int)rn(3);
	g->ninst = 1 + (int)rn(MAX_INST);
	out(g, "vpc: vpc-diff\n");
	if (g->nlists) {
		out(g, "prefix_lists:\n");
		for (k = 0; k < g->nlists; k++) {
			int n = 1 + (int)rn(4);
			const char *e[4];

			out(g, "  pl-%d:\n    max_entries: %d\n    entries: [",
			    k, n + (int)rn(3));
			for (r = 0; r < n; r++) {
				int t;

				e[r] = any_cidr();
				for (t = 0; t < r; t++)
					if (e[t] == e[r])
						break;
				if (t < r) {
					r--;
					continue;
				}
				out(g, "%s\"%s\"", r ? ", " : "", e[r]);
			}
			out(g, "]\n");
		}
	}
	out(g, "security_groups:\n");
	for (k = 0; k < g->ngroups; k++) {
		int nin = (int)rn(5), nout = (int)rn(4);

		out(g, "  sg-%d:\n", k);
		if (nin || chance(50)) {
			out(g, "    inbound:%s\n", nin ? "" : " []");
			for (r = 0; r < nin; r++)
				rule(g, true);
		}
		if (chance(30))
			continue; /* default egress */
		if (!nout || chance(10)) {
			out(g, "    outbound: []\n");
			continue;
		}
		out(g, "    outbound:\n");
		for (r = 0; r < nout; r++)
			rule(g, false);
	}
	/* Shuffle the address pool: instances get distinct addresses. */
	memcpy(ips, inst_ips, sizeof(ips));
	for (i = nip; i > 1; i--) {
		size_t j = rn((unsigned int)i);
		const char *t;

		t = ips[i - 1];
		ips[i - 1] = ips[j];
		ips[j] = t;
	}
	out(g, "instances:\n");
	for (k = 0; k < g->ninst; k++) {
		int n = 1 + (int)rn(3), ng = (int)rn(4);
		bool seen[8] = {false}; /* groups 0-4, 7: sg-default */

		out(g, "  i-%d:\n    ips: [", k);
		for (r = 0; r < n && used < nip; r++)
			out(g, "%s\"%s\"", r ? ", " : "", ips[used++]);
		out(g, "]\n");
		if (!ng && chance(50))
			continue; /* carries the default group */
		out(g, "    security_groups: [");
		for (r = 0; r < ng || r == 0; r++) {
			int grp = (int)rn((unsigned int)g->ngroups);

			if (chance(8) && !seen[7]) {
				seen[7] = true; /* sg-default */
				out(g, "%ssg-default", r ? ", " : "");
				continue;
			}
			if (seen[grp])
				continue;
			seen[grp] = true;
			out(g, "%ssg-%d", r ? ", " : "", grp);
		}
		out(g, "]\n");
	}
}

/* ---- packets ---- */

struct dpkt {
	struct sg_ref_pkt r;
	__u8 local[16];
};

static void parse_cidr(const char *s, int *family, __u8 a[16], int *plen)
{
	char buf[64], *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	*plen = slash ? atoi(slash + 1) : -1;
	if (slash)
		*slash = '\0';
	memset(a, 0, 16);
	*family = strchr(buf, ':') ? 6 : 4;
	cr_assert_eq(inet_pton(*family == 6 ? AF_INET6 : AF_INET, buf, a), 1);
	if (*plen < 0)
		*plen = *family == 6 ? 128 : 32;
}

/* a + delta (signed, small) over the family's width. */
static void addr_add(__u8 a[16], int family, long delta)
{
	int n = family == 6 ? 16 : 4, i;
	long carry = delta;

	for (i = n - 1; i >= 0 && carry; i--) {
		long v = a[i] + carry;

		a[i] = (__u8)(v & 0xff);
		carry = v >> 8;
	}
}

/* A remote: in, at the edge of, or just outside one of the prefixes. */
static void pick_remote(int *family, __u8 a[16])
{
	const char *c;
	int plen, bits, i, k = (int)rn(100);

	if (k < 15) {
		parse_cidr(PICK(inst_ips), family, a, &plen);
		if (chance(20))
			addr_add(a, *family, chance(50) ? 1 : -1);
		return;
	}
	if (k < 25) {
		*family = chance(55) ? 4 : 6;
		memset(a, 0, 16);
		for (i = 0; i < (*family == 6 ? 16 : 4); i++)
			a[i] = (__u8)rn(256);
		return;
	}
	c = chance(55) ? PICK(cidr4) : PICK(cidr6);
	parse_cidr(c, family, a, &plen);
	bits = (*family == 6 ? 128 : 32) - plen;
	/* mask the host bits (the pool has one CIDR with them set) */
	for (i = plen; i < (*family == 6 ? 128 : 32); i++)
		a[i / 8] &= (__u8) ~(0x80 >> (i % 8));
	switch (rn(5)) {
	case 0: /* the network address */
		break;
	case 1: /* the last address */
		for (i = plen; i < plen + bits; i++)
			a[i / 8] |= (__u8)(0x80 >> (i % 8));
		break;
	case 2: /* just below */
		addr_add(a, *family, -1);
		break;
	case 3: /* just above */
		for (i = plen; i < plen + bits; i++)
			a[i / 8] |= (__u8)(0x80 >> (i % 8));
		addr_add(a, *family, 1);
		break;
	default: /* somewhere inside */
		for (i = plen; i < plen + bits; i++)
			if (chance(50))
				a[i / 8] |= (__u8)(0x80 >> (i % 8));
	}
}

static bool v6_ext_proto(int p)
{
	return p == 0 || p == 43 || p == 44 || p == 51 || p == 60 || p == 135;
}

static int pick_port(void)
{
	return chance(60) ? PICK(port_edges) : (int)rn(65536);
}

static void gen_packet(const struct sg_config *cfg, size_t inst, struct dpkt *d)
{
	const struct sg_instance *in = &cfg->instances[inst];
	struct sg_ref_pkt *p = &d->r;
	static const int sports[] = {0, 1, 67, 68, 546, 547, 40000, 65535};
	size_t i;
	int k;

	memset(d, 0, sizeof(*d));
	p->dir = chance(50) ? SG_DIR_IN : SG_DIR_OUT;
	pick_remote(&p->family, p->remote);
	k = (int)rn(100);
	if (k < 30)
		p->proto = 6;
	else if (k < 55)
		p->proto = 17;
	else if (k < 75)
		p->proto = p->family == 6 ? 58 : 1;
	else if (k < 80)
		p->proto = p->family == 6 ? 1 : 58; /* the other family's */
	else if (k < 90)
		p->proto = PICK(other_protos);
	else
		p->proto = (int)rn(256);
	if (p->family == 6 && v6_ext_proto(p->proto))
		p->proto = 59; /* would be walked as a header, not judged */
	p->sport = chance(30) ? PICK(sports) : (int)rn(65536);
	p->dport = chance(20) ? PICK(sports) : pick_port();
	p->icmp_type = chance(60) ? PICK(icmp_types) : (int)rn(256);
	if (chance(25))
		p->icmp_type = 133 + (int)rn(5); /* neighbour discovery */
	p->icmp_code = chance(60) ? (int)rn(3) : (int)rn(256);
	/* The instance's own address of that family, else any. */
	for (i = 0; i < in->nips; i++)
		if (in->ips[i].family == p->family) {
			memcpy(d->local, in->ips[i].addr, 16);
			return;
		}
	d->local[0] = p->family == 6 ? 0xfd : 10;
	d->local[1] = 0x99;
	d->local[15] = 1;
}

/* ---- the kernel side: dry-run programs per slot on the pinned maps ---- */

static char pin_dir[64];
static struct sg_state st;
static bool st_open;
static struct sgctl_bpf *dry[MAX_INST];
static __u64 n_configs, n_rejected, n_packets, n_mismatch;

static struct sgctl_bpf *dry_prog(__u32 slot)
{
	struct bpf_program *prog;
	struct sgctl_bpf *s;
	int err;

	cr_assert_lt(slot, MAX_INST);
	if (dry[slot])
		return dry[slot];
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = pin_dir);
	s = sgctl_bpf__open_opts(&o);
	cr_assert_not_null(s);
	bpf_object__for_each_program(prog, s->obj) bpf_program__set_autoload(
		prog, prog == s->progs.sg_xdp || prog == s->progs.sg_tc);
	s->rodata->sg_slot = slot;
	s->rodata->sg_host_side = 0;
	s->rodata->sg_dry_run = 1;
	err = sgctl_bpf__load(s);
	cr_assert_eq(err, 0, "dry-run load: %d", err);
	dry[slot] = s;
	return s;
}

static void cleanup(void)
{
	for (int i = 0; i < MAX_INST; i++) {
		sgctl_bpf__destroy(dry[i]);
		dry[i] = NULL;
	}
	if (st_open)
		sg_state_close(&st);
	st_open = false;
	if (pin_dir[0])
		sg_state_remove(pin_dir);
	pin_dir[0] = '\0';
}

static int kernel_verdict(__u32 slot, const struct dpkt *d,
			  struct sg_dry_result *res, __u8 *frame, size_t *len)
{
	struct sgctl_bpf *s = dry_prog(slot);
	struct bpf_program *prog =
		d->r.dir == SG_DIR_IN ? s->progs.sg_xdp : s->progs.sg_tc;

	*len = sg_ref_frame(&d->r, d->local, frame, 128);
	memset(&s->bss->sg_dry_result, 0, sizeof(s->bss->sg_dry_result));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = (__u32)*len, .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	*res = s->bss->sg_dry_result;
	cr_assert(res->done, "the program left no decision");
	return 0;
}

/* Whether kernel and model agree (sg_check_agree, as `check` decides);
 * why gets the difference. */
static bool agree(const struct sg_compiled *c, const struct sg_ref_result *m,
		  const struct sg_dry_result *k, char *why, size_t len)
{
	struct sg_kverdict v = {
		.counter = (int)k->counter,
		.matched = k->matched != 0,
		.rule_ref = k->rule_ref,
		.rule_flags = k->rule_flags,
	};

	return sg_check_agree(c, m, &v, why, len);
}

static const char *out_dir(char *buf, size_t len)
{
	const char *e = getenv("SG_DIFF_OUT");
	char exe[PATH_MAX];
	ssize_t n;
	int i;

	if (e && *e)
		return e;
	/* BUILD/tests/datapath/test_diff -> BUILD/fuzz */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "build/fuzz";
	exe[n] = '\0';
	for (i = 0; i < 3; i++) {
		char *s = strrchr(exe, '/');

		if (!s)
			return "build/fuzz";
		*s = '\0';
	}
	if (strlen(exe) + sizeof("/fuzz") > len)
		return "build/fuzz";
	strcpy(buf, exe);
	strcat(buf, "/fuzz");
	return buf;
}

static void reproducer(__u64 seed, const struct gen *g,
		       const struct sg_config *cfg, size_t inst,
		       const struct dpkt *d, const __u8 *frame, size_t flen,
		       const char *why)
{
	char dirbuf[PATH_MAX], path[PATH_MAX + 64], a[64], l[64];
	const struct sg_ref_pkt *p = &d->r;
	FILE *f;

	const char *dir = out_dir(dirbuf, sizeof(dirbuf));

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/diff-%llu-%llu.yaml", dir,
		 (unsigned long long)seed, (unsigned long long)n_mismatch);
	f = fopen(path, "w");
	if (f) {
		fwrite(g->buf, 1, g->len, f);
		fclose(f);
	}
	inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->remote, a, sizeof(a));
	inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, d->local, l, sizeof(l));
	snprintf(path, sizeof(path), "%s/diff-%llu-%llu.txt", dir,
		 (unsigned long long)seed, (unsigned long long)n_mismatch);
	f = fopen(path, "w");
	if (f) {
		fprintf(f,
			"seed %llu\ninstance %s\ndirection %s\nremote %s\n"
			"local %s\nprotocol %d\nsport %d\ndport %d\n"
			"icmp_type %d\nicmp_code %d\nmismatch: %s\nframe ",
			(unsigned long long)seed, cfg->instances[inst].id,
			p->dir == SG_DIR_IN ? "inbound" : "outbound", a, l,
			p->proto, p->sport, p->dport, p->icmp_type,
			p->icmp_code, why);
		for (size_t i = 0; i < flen; i++)
			fprintf(f, "%02x", frame[i]);
		fprintf(f,
			"\nreplay: sgctl load %s/diff-%llu-%llu.yaml; "
			"sgctl check --instance %s --%s --protocol %d "
			"--remote %s --port %d --icmp-type %d "
			"--icmp-code %d\n",
			dir, (unsigned long long)seed,
			(unsigned long long)n_mismatch, cfg->instances[inst].id,
			p->dir == SG_DIR_IN ? "inbound" : "outbound", p->proto,
			a, p->dport, p->icmp_type, p->icmp_code);
		fclose(f);
	}
	cr_log_error("mismatch %llu (seed %llu): %s %s remote %s proto %d "
		     "dport %d icmp %d/%d: %s; reproducer %s",
		     (unsigned long long)n_mismatch, (unsigned long long)seed,
		     cfg->instances[inst].id,
		     p->dir == SG_DIR_IN ? "in" : "out", a, p->proto, p->dport,
		     p->icmp_type, p->icmp_code, why, path);
}

/* One config: generate, parse, compile, apply, compare packets. */
static void one_config(__u64 seed, unsigned int packets, struct gen *g)
{
	struct sg_config cfg;
	struct sg_compiled comp;
	struct sg_diag diag;
	int slots[MAX_INST];
	struct sg_apply_opts opts = {};
	size_t i;

	rng_state = seed;
	gen_config(g);
	memset(&cfg, 0, sizeof(cfg));
	memset(&comp, 0, sizeof(comp));
	sg_diag_init(&diag);
	if (sg_config_parse_string("diff.yaml", g->buf, g->len, &cfg, &diag)) {
		/* The generator aims at valid configs; a refusal is logged
		 * (a duplicate rule by chance), not a failure. */
		n_rejected++;
		if (getenv("SG_DIFF_VERBOSE"))
			sg_diag_print(&diag, stderr);
		sg_diag_free(&diag);
		return;
	}
	cr_assert_eq(sg_compile(&cfg, &comp, &diag), 0, "compile, seed %llu",
		     (unsigned long long)seed);
	sg_diag_free(&diag);
	cr_assert_leq(cfg.ninstances, MAX_INST);
	for (i = 0; i < cfg.ninstances; i++) {
		slots[i] = sg_slot_get(&st, cfg.instances[i].id, true);
		cr_assert_geq(slots[i], 0);
		cr_assert_lt(slots[i], MAX_INST);
	}
	/* Every other config through the exact-match maps, whatever its
	 * size (small policies would otherwise use the tries alone). */
	opts.exact_always = seed & 1;
	cr_assert_eq(sg_state_apply_opts(&st, &comp, slots, cfg.ninstances,
					 &opts),
		     0);
	n_configs++;

	for (i = 0; i < cfg.ninstances; i++) {
		for (unsigned int n = 0; n < packets; n++) {
			struct sg_dry_result k;
			struct sg_ref_result m;
			struct dpkt d;
			__u8 frame[128];
			size_t flen;
			char why[256];

			gen_packet(&cfg, i, &d);
			kernel_verdict((__u32)slots[i], &d, &k, frame, &flen);
			cr_assert_eq(
				sg_ref_decide(&cfg, i, &d.r,
					      cfg.instances[i].ct.max_entries ==
						      0,
					      &m),
				0);
			n_packets++;
			if (!agree(&comp, &m, &k, why, sizeof(why))) {
				reproducer(seed, g, &cfg, i, &d, frame, flen,
					   why);
				n_mismatch++;
			}
			sg_ref_result_free(&m);
		}
	}
	sg_compiled_free(&comp);
	sg_config_free(&cfg);
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *e = getenv(name);

	return e && *e ? strtoul(e, NULL, 10) : def;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

TestSuite(diff, .fini = cleanup);

Test(diff, kernel_matches_model, .timeout = 7200)
{
	const char *s = getenv("SG_DIFF_SEED");
	unsigned long configs = env_ul("SG_DIFF_CONFIGS", 40);
	unsigned long packets = env_ul("SG_DIFF_PACKETS", 200);
	unsigned long seconds = env_ul("SG_DIFF_SECONDS", 0);
	__u64 seed = s && !strcmp(s, "time") ? (__u64)time(NULL)
		     : s && *s		     ? strtoull(s, NULL, 10)
					     : 1;
	__u64 first = seed;
	struct gen g = {.buf = malloc(YAML_MAX)};
	double t0 = now_s();

	cr_assert_not_null(g.buf);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/sgctl-diff-%d",
		 (int)getpid());
	cr_assert_eq(sg_state_open(&st, pin_dir, -1, false), 0, "state open");
	st_open = true;
	for (__u64 n = 0;; n++, seed++) {
		if (seconds ? now_s() - t0 >= (double)seconds : n >= configs)
			break;
		one_config(seed, (unsigned int)packets, &g);
	}
	free(g.buf);
	cr_log_info("diff: seeds %llu-%llu, %llu configs compared (%llu "
		    "refused), %llu packets, %llu mismatches, %.1f s",
		    (unsigned long long)first, (unsigned long long)seed - 1,
		    (unsigned long long)n_configs,
		    (unsigned long long)n_rejected,
		    (unsigned long long)n_packets,
		    (unsigned long long)n_mismatch, now_s() - t0);
	/* Also on stdout, for `make fuzz` to report. */
	printf("diff: %llu configs, %llu packets compared (configs x "
	       "packets), %llu configs refused, %llu mismatches\n",
	       (unsigned long long)n_configs, (unsigned long long)n_packets,
	       (unsigned long long)n_rejected, (unsigned long long)n_mismatch);
	fflush(stdout);
	cr_assert_gt(n_configs, n_rejected, "most generated configs refused");
	cr_assert_eq(n_mismatch, 0, "%llu kernel/model mismatches",
		     (unsigned long long)n_mismatch);
}
