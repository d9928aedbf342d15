// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Differential test of incremental apply: a random desired state is
 * changed by random edits (a member address added or removed, an
 * instance moved between groups, a rule added or deleted, an instance
 * added or removed), and each step is applied twice: in place into the
 * live generation of state A (sg_enforce_apply with a cache, as an agent
 * does), and as a whole new generation into state B (as `load` does).
 * After every step:
 *   - A's live maps hold exactly the image its cache says (nothing left
 *     over, nothing missing);
 *   - random new-flow packets (members, prefix edges, rule ports and
 *     their neighbours, both directions, both families) decide the same
 *     in A's and B's kernel dry run, and as the reference model says.
 * Needs root; both pin dirs are under a temporary directory (sgctl mounts
 * a bpffs of its own there), removed at the end.
 *
 * Environment: SG_INCR_SEED (default 1; "time"), SG_INCR_STEPS (default
 * 40), SG_INCR_PACKETS per instance and step (default 24), SG_INCR_RUNS
 * sequences (default 2).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sgctl.h"
#include "sgctl.skel.h"
#include "compile/compile.h"
#include "compile/refmodel.h"
#include "config/model.h"
#include "enforce/apply.h"
#include "state/internal.h"
#include "state/state.h"
#include "util/diag.h"

#define NG	 4  /* groups */
#define NR	 6  /* rule places per group */
#define NI	 5  /* instance places */
#define NPOOL	 20 /* instance addresses */
#define MAX_SLOT 16
#define YAML_MAX 32768

/* ---- seeded PRNG (splitmix64) ---- */

static __u64 rng;

static __u64 rnd(void)
{
	__u64 z = (rng += 0x9e3779b97f4a7c15ULL);

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

/* ---- the desired state and its edits ---- */

static const char *const cidrs[] = {
	"0.0.0.0/0",   "10.0.0.0/8",   "10.9.0.0/24", "10.9.0.0/28",
	"10.9.0.8/30", "192.0.2.0/24", "::/0",	      "fd09::/64",
	"fd09::/124",  "fd09::10/126",
};
#define NCIDR (sizeof(cidrs) / sizeof(cidrs[0]))

enum { K_TCP, K_UDP, K_ICMP, K_ALL, NKIND };

struct rs {
	bool used, in;
	int kind, lo, hi;
	int cidr;  /* peer: cidrs[cidr] when group < 0 */
	int group; /* peer: sg-group */
};

struct ds {
	struct rs r[NG][NR];
	struct {
		bool used;
		int ip[3], nip;
		bool g[NG];
	} in[NI];
};

static void pool_addr(int i, char *buf, size_t len)
{
	if (i < NPOOL / 2)
		snprintf(buf, len, "10.9.0.%d", i + 1);
	else
		snprintf(buf, len, "fd09::%x", i - NPOOL / 2 + 1);
}

static bool ip_taken(const struct ds *d, int ip)
{
	for (int i = 0; i < NI; i++)
		for (int k = 0; d->in[i].used && k < d->in[i].nip; k++)
			if (d->in[i].ip[k] == ip)
				return true;
	return false;
}

static int free_ip(const struct ds *d)
{
	for (int t = 0; t < 50; t++) {
		int ip = (int)rn(NPOOL);

		if (!ip_taken(d, ip))
			return ip;
	}
	return -1;
}

static void rand_rule(struct rs *r)
{
	static const int ports[] = {22, 80, 443, 1000, 5432, 8080};

	r->used = true;
	r->in = chance(70);
	r->kind = (int)rn(NKIND);
	r->lo = ports[rn(6)] + (int)rn(3);
	r->hi = chance(50) ? r->lo : r->lo + (int)rn(40);
	r->group = chance(45) ? (int)rn(NG) : -1;
	r->cidr = (int)rn(NCIDR);
}

static void rand_groups(bool g[NG])
{
	bool any = false;

	for (int k = 0; k < NG; k++)
		any |= g[k] = chance(35);
	if (!any)
		g[rn(NG)] = true;
}

static void add_instance(struct ds *d, int i)
{
	int ip = free_ip(d);

	if (ip < 0)
		return;
	memset(&d->in[i], 0, sizeof(d->in[i]));
	d->in[i].used = true;
	d->in[i].ip[0] = ip;
	d->in[i].nip = 1;
	rand_groups(d->in[i].g);
}

static void initial(struct ds *d)
{
	memset(d, 0, sizeof(*d));
	for (int g = 0; g < NG; g++)
		for (int k = 0; k < 1 + (int)rn(NR - 1); k++)
			rand_rule(&d->r[g][k]);
	for (int i = 0; i < 3; i++)
		add_instance(d, i);
}

static int live_instances(const struct ds *d)
{
	int n = 0;

	for (int i = 0; i < NI; i++)
		n += d->in[i].used;
	return n;
}

/* One random edit; the name of what it did. */
static const char *edit(struct ds *d)
{
	int i = (int)rn(NI), g = (int)rn(NG), k = (int)rn(NR), ip;

	switch (rn(7)) {
	case 0: /* a member address more */
		if (!d->in[i].used || d->in[i].nip == 3 ||
		    (ip = free_ip(d)) < 0)
			return NULL;
		d->in[i].ip[d->in[i].nip++] = ip;
		return "add address";
	case 1: /* one fewer */
		if (!d->in[i].used || d->in[i].nip < 2)
			return NULL;
		k = (int)rn((unsigned int)d->in[i].nip);
		d->in[i].nip--;
		d->in[i].ip[k] = d->in[i].ip[d->in[i].nip];
		return "remove address";
	case 2: /* moved between groups */
		if (!d->in[i].used)
			return NULL;
		memset(d->in[i].g, 0, sizeof(d->in[i].g));
		rand_groups(d->in[i].g);
		return "set groups";
	case 3:
		if (d->r[g][k].used)
			return NULL;
		rand_rule(&d->r[g][k]);
		return "add rule";
	case 4:
		if (!d->r[g][k].used)
			return NULL;
		d->r[g][k].used = false;
		return "delete rule";
	case 5:
		if (d->in[i].used)
			return NULL;
		add_instance(d, i);
		return d->in[i].used ? "add instance" : NULL;
	default:
		if (!d->in[i].used || live_instances(d) < 2)
			return NULL;
		d->in[i].used = false;
		return "remove instance";
	}
}

static size_t render(const struct ds *d, char *buf, size_t cap)
{
	size_t n = 0;
	char a[64];

#define OUT(...) (n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__))
	OUT("vpc: vpc-incr\nsecurity_groups:\n");
	for (int g = 0; g < NG; g++) {
		OUT("  sg-%d:\n", g);
		for (int dir = 1; dir >= 0; dir--) {
			bool any = false;

			OUT("    %s:", dir ? "inbound" : "outbound");
			for (int k = 0; k < NR; k++) {
				const struct rs *r = &d->r[g][k];

				if (!r->used || r->in != (bool)dir)
					continue;
				any = true;
				OUT("\n      - { ");
				if (r->kind == K_TCP || r->kind == K_UDP) {
					OUT("protocol: %s, ",
					    r->kind == K_TCP ? "tcp" : "udp");
					if (r->lo == r->hi)
						OUT("ports: %d", r->lo);
					else
						OUT("ports: %d-%d", r->lo,
						    r->hi);
				} else if (r->kind == K_ICMP) {
					OUT("protocol: icmp, icmp_type: 8");
				} else {
					OUT("protocol: all");
				}
				if (r->group >= 0)
					OUT(", %s: sg-%d }",
					    dir ? "source" : "destination",
					    r->group);
				else
					OUT(", %s: \"%s\" }",
					    dir ? "source" : "destination",
					    cidrs[r->cidr]);
			}
			OUT("%s\n", any ? "" : " []");
		}
	}
	OUT("instances:\n");
	for (int i = 0; i < NI; i++) {
		bool first = true;

		if (!d->in[i].used)
			continue;
		OUT("  i-%d:\n    ips: [", i);
		for (int k = 0; k < d->in[i].nip; k++) {
			pool_addr(d->in[i].ip[k], a, sizeof(a));
			OUT("%s\"%s\"", k ? ", " : "", a);
		}
		OUT("]\n    security_groups: [");
		for (int g = 0; g < NG; g++)
			if (d->in[i].g[g]) {
				OUT("%ssg-%d", first ? "" : ", ", g);
				first = false;
			}
		OUT("]\n");
	}
#undef OUT
	return n;
}

/* ---- the two states and their dry-run programs ---- */

struct side {
	char pin_dir[128];
	struct sg_state st;
	bool open;
	struct sgctl_bpf *dry[MAX_SLOT];
};

static char tmp_dir[64];
static struct side A, B;

static void side_close(struct side *s)
{
	for (int i = 0; i < MAX_SLOT; i++) {
		sgctl_bpf__destroy(s->dry[i]);
		s->dry[i] = NULL;
	}
	if (s->open)
		sg_state_close(&s->st);
	s->open = false;
	if (s->pin_dir[0])
		sg_state_remove(s->pin_dir);
	s->pin_dir[0] = '\0';
}

static void cleanup(void)
{
	side_close(&A);
	side_close(&B);
	if (tmp_dir[0])
		rmdir(tmp_dir);
	tmp_dir[0] = '\0';
}

static void side_open(struct side *s, const char *name)
{
	snprintf(s->pin_dir, sizeof(s->pin_dir), "%s/%s", tmp_dir, name);
	cr_assert_eq(sg_state_open(&s->st, s->pin_dir, -1, false), 0,
		     "state open %s", s->pin_dir);
	s->open = true;
}

static struct sgctl_bpf *dry_prog(struct side *sd, __u32 slot)
{
	struct bpf_program *prog;
	struct sgctl_bpf *s;
	int err;

	cr_assert_lt(slot, MAX_SLOT);
	if (sd->dry[slot])
		return sd->dry[slot];
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = sd->pin_dir);
	s = sgctl_bpf__open_opts(&o);
	cr_assert_not_null(s);
	bpf_object__for_each_program(prog, s->obj) bpf_program__set_autoload(
		prog, prog == s->progs.sg_xdp || prog == s->progs.sg_tc);
	s->rodata->sg_slot = slot;
	s->rodata->sg_host_side = 0;
	s->rodata->sg_dry_run = 1;
	err = sgctl_bpf__load(s);
	cr_assert_eq(err, 0, "dry-run load: %d", err);
	sd->dry[slot] = s;
	return s;
}

static struct sg_dry_result verdict(struct side *sd, __u32 slot,
				    const struct sg_ref_pkt *p,
				    const __u8 *local)
{
	struct sgctl_bpf *s = dry_prog(sd, slot);
	struct bpf_program *prog =
		p->dir == SG_DIR_IN ? s->progs.sg_xdp : s->progs.sg_tc;
	__u8 frame[128];
	size_t len = sg_ref_frame(p, local, frame, sizeof(frame));

	memset(&s->bss->sg_dry_result, 0, sizeof(s->bss->sg_dry_result));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	cr_assert(s->bss->sg_dry_result.done, "no decision");
	return s->bss->sg_dry_result;
}

/* ---- A's live maps against its cache's image ---- */

static int cmp_bytes_sz;
static int cmp_bytes(const void *a, const void *b)
{
	return memcmp(a, b, (size_t)cmp_bytes_sz);
}

/* The live generation's entries of a map (the __u32 at gen_off carries
 * the generation bit) equal n (key, value) pairs, as sets. */
static void same_set(int fd, const char *name, size_t ksz, size_t vsz,
		     size_t gen_off, __u32 gen, const void *keys,
		     const void *vals, size_t n)
{
	void *mk, *mv;
	size_t mn, m = 0, esz = ksz + vsz;
	char *a, *b;

	cr_assert_eq(sg_map_dump(fd, ksz, vsz, &mk, &mv, &mn), 0);
	a = calloc(mn + 1, esz);
	b = calloc(n + 1, esz);
	cr_assert(a && b);
	for (size_t i = 0; i < mn; i++) {
		__u32 w;

		memcpy(&w, (char *)mk + i * ksz + gen_off, 4);
		if (SG_GEN_OF(w) != gen)
			continue;
		memcpy(a + m * esz, (char *)mk + i * ksz, ksz);
		memcpy(a + m * esz + ksz, (char *)mv + i * vsz, vsz);
		m++;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(b + i * esz, (const char *)keys + i * ksz, ksz);
		memcpy(b + i * esz + ksz, (const char *)vals + i * vsz, vsz);
	}
	cmp_bytes_sz = (int)esz;
	qsort(a, m, esz, cmp_bytes);
	qsort(b, n, esz, cmp_bytes);
	cr_assert_eq(m, n, "%s: %zu live entries, the image has %zu", name, m,
		     n);
	cr_assert_eq(memcmp(a, b, n * esz), 0, "%s: live entries differ", name);
	free(a);
	free(b);
	free(mk);
	free(mv);
}

static void maps_match_image(struct side *sd, const struct sg_image *im)
{
	struct sgctl_bpf *s = sd->st.skel;
	struct sg_class_exact_key *xck;
	struct sg_class_val *xcv;
	struct sg_rule_exact_key *xrk;
	struct sg_rule_val *xrv;
	__u8 *ones = calloc(im->nip + 1, 1);
	__u32 gen = im->gen;

	cr_assert_not_null(ones);
	memset(ones, 1, im->nip);
	same_set(bpf_map__fd(s->maps.sg_class), "sg_class",
		 sizeof(struct sg_class_key), sizeof(struct sg_class_val), 4,
		 gen, im->ck, im->cv, im->nc);
	same_set(bpf_map__fd(s->maps.sg_rule), "sg_rule",
		 sizeof(struct sg_rule_key), sizeof(struct sg_rule_val), 4, gen,
		 im->rk, im->rv, im->nr);
	same_set(bpf_map__fd(s->maps.sg_ip), "sg_ip", sizeof(struct sg_ip_key),
		 1, 0, gen, im->ip, ones, im->nip);
	/* The exact copies, as a full write derives them. */
	cr_assert_eq(sg_image_exact(im, &xck, &xcv, &xrk, &xrv), 0);
	same_set(bpf_map__fd(s->maps.sg_class_exact), "sg_class_exact",
		 sizeof(*xck), sizeof(*xcv), 0, gen, xck, xcv, im->nxc);
	same_set(bpf_map__fd(s->maps.sg_rule_exact), "sg_rule_exact",
		 sizeof(*xrk), sizeof(*xrv), 0, gen, xrk, xrv, im->nxr);
	free(xck);
	free(xcv);
	free(xrk);
	free(xrv);
	free(ones);
	for (__u32 i = 0; i < SG_MAX_INSTANCES; i++) {
		__u32 key = gen * SG_MAX_INSTANCES + i;
		struct sg_inst v;

		cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(s->maps.sg_inst),
						 &key, &v),
			     0);
		cr_assert_eq(memcmp(&v, &im->inst[i], sizeof(v)), 0,
			     "sg_inst slot %u differs from the image", i);
	}
}

/* ---- packets ---- */

static void addr_of(const char *s, int *family, __u8 a[16], int *plen)
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

static void pick_remote(int *family, __u8 a[16])
{
	char buf[64];
	int plen, n;

	if (chance(45)) { /* a member, or an address of the pool */
		pool_addr((int)rn(NPOOL), buf, sizeof(buf));
		addr_of(buf, family, a, &plen);
		return;
	}
	addr_of(cidrs[rn(NCIDR)], family, a, &plen);
	n = *family == 6 ? 16 : 4;
	switch (rn(4)) {
	case 0: /* the network address */
		break;
	case 1: /* the last one of it */
		for (int i = plen; i < n * 8; i++)
			a[i / 8] |= (__u8)(0x80 >> (i % 8));
		break;
	case 2: /* just past it */
		for (int i = plen; i < n * 8; i++)
			a[i / 8] |= (__u8)(0x80 >> (i % 8));
		for (int i = n - 1; i >= 0 && ++a[i] == 0; i--)
			;
		break;
	default:
		for (int i = plen; i < n * 8; i++)
			if (chance(50))
				a[i / 8] |= (__u8)(0x80 >> (i % 8));
	}
}

static void pick_packet(const struct ds *d, const struct sg_instance *in,
			struct sg_ref_pkt *p, __u8 local[16])
{
	static const int ports[] = {22, 80, 443, 1000, 5432, 8080};
	int g = (int)rn(NG), k = (int)rn(NR);

	memset(p, 0, sizeof(*p));
	p->dir = chance(60) ? SG_DIR_IN : SG_DIR_OUT;
	pick_remote(&p->family, p->remote);
	switch (rn(4)) {
	case 0:
	case 1:
		p->proto = chance(60) ? SG_PROTO_TCP : SG_PROTO_UDP;
		break;
	case 2:
		p->proto = p->family == 6 ? SG_PROTO_ICMPV6 : SG_PROTO_ICMP;
		break;
	default:
		p->proto = chance(50) ? 47 : 132;
	}
	p->sport = 40000 + (int)rn(1000);
	if (d->r[g][k].used && chance(70)) {
		const struct rs *r = &d->r[g][k];

		p->dport = chance(50) ? r->lo : r->hi;
		p->dport += (int)rn(3) - 1;
	} else {
		p->dport = ports[rn(6)] + (int)rn(3) - 1;
	}
	p->icmp_type = chance(70) ? 8 : (int)rn(20);
	p->icmp_code = 0;
	memset(local, 0, 16);
	for (size_t i = 0; i < in->nips; i++)
		if (in->ips[i].family == p->family) {
			memcpy(local, in->ips[i].addr, 16);
			return;
		}
	local[0] = p->family == 6 ? 0xfd : 10;
	local[1] = 0x99;
	local[15] = 1;
}

/* ---- one step: apply to both, compare ---- */

static __u64 n_steps, n_incremental, n_packets, n_written;

static int parse(const char *text, size_t len, struct sg_config *cfg)
{
	struct sg_diag diag;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	sg_diag_init(&diag);
	err = sg_config_parse_string("incr.yaml", text, len, cfg, &diag);
	if (!err && diag.nerrors)
		err = -EINVAL;
	sg_diag_free(&diag);
	if (err)
		sg_config_free(cfg);
	return err;
}

static struct sg_apply_opts opts;

static void step(const struct ds *d, const char *text, size_t len,
		 struct sg_apply_cache *cache, unsigned int packets,
		 const char *what)
{
	struct sg_config ca, cb;
	struct sg_apply_result ra, rb;
	struct sg_apply_req qa = {.label = "incr.yaml",
				  .text = text,
				  .len = len,
				  .cache = cache,
				  .mode = SG_APPLY_INCREMENTAL,
				  .opts = &opts};
	struct sg_apply_req qb = {.label = "incr.yaml",
				  .text = text,
				  .len = len,
				  .mode = SG_APPLY_FULL,
				  .opts = &opts};
	bool had = cache->valid;

	cr_assert_eq(parse(text, len, &ca), 0, "config A:\n%s", text);
	cr_assert_eq(parse(text, len, &cb), 0);
	cr_assert_eq(sg_enforce_apply(&A.st, &ca, &qa, &ra), 0, "apply A (%s)",
		     what);
	cr_assert_eq(sg_enforce_apply(&B.st, &cb, &qb, &rb), 0, "apply B (%s)",
		     what);
	n_steps++;
	if (!ra.unchanged) {
		/* After the first load, every change goes in place; without
		 * exact_always a policy crossing the size where the exact
		 * fronts pay goes to a new generation. */
		if (opts.exact_always || !had)
			cr_assert_eq(ra.incremental, had, "%s: incremental %d",
				     what, ra.incremental);
		n_incremental += ra.incremental;
		n_written += ra.entries_written + ra.entries_deleted;
		cr_assert(cache->valid);
		maps_match_image(&A, &cache->img);
	}
	for (size_t i = 0; i < ca.ninstances; i++) {
		int sa = sg_slot_get(&A.st, ca.instances[i].id, false);
		int sb = sg_slot_get(&B.st, cb.instances[i].id, false);

		cr_assert(sa >= 0 && sb >= 0, "%s has no slot",
			  ca.instances[i].id);
		for (unsigned int n = 0; n < packets; n++) {
			struct sg_dry_result ka, kb;
			struct sg_ref_result m;
			struct sg_ref_pkt p;
			struct sg_kverdict v;
			__u8 local[16];
			char why[256];

			pick_packet(d, &ca.instances[i], &p, local);
			ka = verdict(&A, (__u32)sa, &p, local);
			kb = verdict(&B, (__u32)sb, &p, local);
			n_packets++;
			cr_assert(ka.counter == kb.counter &&
					  ka.matched == kb.matched &&
					  (!ka.matched ||
					   (ka.rule_ref == kb.rule_ref &&
					    ka.rule_flags == kb.rule_flags)),
				  "after %s: %s dir %d proto %d dport %d: "
				  "in place %s (ref %u), new generation %s "
				  "(ref %u)\n%s",
				  what, ca.instances[i].id, p.dir, p.proto,
				  p.dport, sg_counter_name((int)ka.counter),
				  ka.rule_ref, sg_counter_name((int)kb.counter),
				  kb.rule_ref, text);
			cr_assert_eq(
				sg_ref_decide(&ca, i, &p,
					      ca.instances[i].ct.max_entries ==
						      0,
					      &m),
				0);
			v = (struct sg_kverdict){
				.counter = (int)ka.counter,
				.matched = ka.matched != 0,
				.rule_ref = ka.rule_ref,
				.rule_flags = ka.rule_flags,
			};
			cr_assert(sg_check_agree(&cache->c, &m, &v, why,
						 sizeof(why)),
				  "after %s: %s: model and kernel: %s\n%s",
				  what, ca.instances[i].id, why, text);
			sg_ref_result_free(&m);
		}
	}
	sg_config_free(&ca);
	sg_config_free(&cb);
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *e = getenv(name);

	return e && *e ? strtoul(e, NULL, 10) : def;
}

TestSuite(incremental, .fini = cleanup);

Test(incremental, same_decisions_as_a_new_generation, .timeout = 7200)
{
	const char *s = getenv("SG_INCR_SEED");
	unsigned long steps = env_ul("SG_INCR_STEPS", 40);
	unsigned long packets = env_ul("SG_INCR_PACKETS", 24);
	unsigned long runs = env_ul("SG_INCR_RUNS", 2);
	__u64 seed = s && !strcmp(s, "time") ? (__u64)time(NULL)
		     : s && *s		     ? strtoull(s, NULL, 10)
					     : 1;
	char *text = malloc(YAML_MAX);

	cr_assert_not_null(text);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sgctl-incr-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp_dir));
	side_open(&A, "a");
	side_open(&B, "b");
	for (unsigned long run = 0; run < runs; run++, seed++) {
		struct sg_apply_cache cache = {};
		struct ds d, keep;
		size_t len;

		rng = seed;
		/* Every other run through the exact-match fronts. */
		opts.exact_always = !(run & 1);
		initial(&d);
		len = render(&d, text, YAML_MAX);
		step(&d, text, len, &cache, (unsigned int)packets, "load");
		for (unsigned long n = 0; n < steps; n++) {
			struct sg_config cfg;
			const char *what;

			keep = d;
			what = edit(&d);
			if (!what)
				continue;
			len = render(&d, text, YAML_MAX);
			if (parse(text, len, &cfg)) {
				/* A duplicate rule by chance: undone. */
				d = keep;
				continue;
			}
			sg_config_free(&cfg);
			step(&d, text, len, &cache, (unsigned int)packets,
			     what);
		}
		sg_apply_cache_free(&cache);
	}
	free(text);
	cr_log_info("incremental: seed %llu, %llu steps (%llu in place), "
		    "%llu packets compared, %llu entries written or deleted",
		    (unsigned long long)seed, (unsigned long long)n_steps,
		    (unsigned long long)n_incremental,
		    (unsigned long long)n_packets,
		    (unsigned long long)n_written);
	printf("incremental: %llu steps (%llu in place), %llu packets "
	       "compared, 0 mismatches\n",
	       (unsigned long long)n_steps, (unsigned long long)n_incremental,
	       (unsigned long long)n_packets);
	fflush(stdout);
	cr_assert_gt(n_incremental, 0);
}

/* ---- a kill half-way: every packet decided by the old or the new ---- */

static int apply_text(struct side *sd, const char *text, size_t len,
		      struct sg_apply_cache *cache, struct sg_apply_result *r)
{
	struct sg_apply_req q = {.label = "incr.yaml",
				 .text = text,
				 .len = len,
				 .cache = cache,
				 .mode = SG_APPLY_INCREMENTAL,
				 .opts = &opts};
	struct sg_config cfg;
	int err;

	cr_assert_eq(parse(text, len, &cfg), 0);
	err = sg_enforce_apply(&sd->st, &cfg, &q, r);
	sg_config_free(&cfg);
	return err;
}

static void compile_text(const char *text, size_t len, struct sg_config *cfg,
			 struct sg_compiled *c)
{
	struct sg_diag diag;

	cr_assert_eq(parse(text, len, cfg), 0);
	sg_diag_init(&diag);
	cr_assert_eq(sg_compile(cfg, c, &diag), 0);
	sg_diag_free(&diag);
}

/* A's kernel, stopped k writes into the change old -> new: every
 * instance of both decides each packet as old or as new says. */
static void check_mixed(const struct ds *d, const char *otext, size_t olen,
			const char *ntext, size_t nlen, unsigned int packets,
			size_t k, const char *what)
{
	struct sg_config co, cn;
	struct sg_compiled po, pn;

	compile_text(otext, olen, &co, &po);
	compile_text(ntext, nlen, &cn, &pn);
	for (size_t i = 0; i < cn.ninstances; i++) {
		int io = sg_config_find_instance(&co, cn.instances[i].id);
		int s = sg_slot_get(&A.st, cn.instances[i].id, false);

		if (io < 0)
			continue; /* new: nothing decided for it before */
		cr_assert_geq(s, 0);
		for (unsigned int n = 0; n < packets; n++) {
			struct sg_ref_result mo, mn;
			struct sg_dry_result ka;
			struct sg_kverdict v;
			struct sg_ref_pkt p;
			__u8 local[16];
			char why_o[256], why_n[256];
			bool ok;

			pick_packet(d, &cn.instances[i], &p, local);
			ka = verdict(&A, (__u32)s, &p, local);
			v = (struct sg_kverdict){
				.counter = (int)ka.counter,
				.matched = ka.matched != 0,
				.rule_ref = ka.rule_ref,
				.rule_flags = ka.rule_flags,
			};
			cr_assert_eq(
				sg_ref_decide(&co, (size_t)io, &p, false, &mo),
				0);
			cr_assert_eq(sg_ref_decide(&cn, i, &p, false, &mn), 0);
			ok = sg_check_agree(&po, &mo, &v, why_o,
					    sizeof(why_o)) ||
			     sg_check_agree(&pn, &mn, &v, why_n, sizeof(why_n));
			n_packets++;
			cr_assert(ok,
				  "%s, stopped after %zu writes: %s dir %d "
				  "proto %d dport %d: kernel %s; old: %s; "
				  "new: %s\nold:\n%s\nnew:\n%s",
				  what, k, cn.instances[i].id, p.dir, p.proto,
				  p.dport, sg_counter_name((int)ka.counter),
				  why_o, why_n, otext, ntext);
			sg_ref_result_free(&mo);
			sg_ref_result_free(&mn);
		}
	}
	sg_compiled_free(&po);
	sg_compiled_free(&pn);
	sg_config_free(&co);
	sg_config_free(&cn);
}

Test(incremental, killed_half_way_decides_old_or_new, .timeout = 7200)
{
	const char *s = getenv("SG_INCR_SEED");
	unsigned long steps = env_ul("SG_INCR_CRASH_STEPS", 8);
	unsigned long packets = env_ul("SG_INCR_PACKETS", 24);
	__u64 seed = s && !strcmp(s, "time") ? (__u64)time(NULL)
		     : s && *s		     ? strtoull(s, NULL, 10)
					     : 1;
	char *otext = malloc(YAML_MAX), *ntext = malloc(YAML_MAX);
	struct sg_apply_cache cache = {};
	struct sg_apply_result r;
	size_t olen, nlen, stops = 0;
	struct ds d, keep;

	cr_assert(otext && ntext);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sgctl-incr-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp_dir));
	side_open(&A, "a");
	rng = seed;
	opts.exact_always = true;
	initial(&d);
	olen = render(&d, otext, YAML_MAX);
	cr_assert_eq(apply_text(&A, otext, olen, &cache, &r), 0);
	for (unsigned long n = 0; n < steps; n++) {
		struct sg_config cfg;
		const char *what;
		size_t k = 1, prev = 1;
		int err;

		keep = d;
		what = edit(&d);
		if (!what)
			continue;
		nlen = render(&d, ntext, YAML_MAX);
		if (parse(ntext, nlen, &cfg)) {
			d = keep;
			continue;
		}
		sg_config_free(&cfg);
		/* Stopped after 1, 2, 3, 5, 8... writes, until it completes. */
		for (;;) {
			sg_delta_write_limit = k;
			err = apply_text(&A, ntext, nlen, &cache, &r);
			sg_delta_write_limit = 0;
			if (!err)
				break;
			cr_assert_eq(err, -EINTR, "%s: %d", what, err);
			stops++;
			check_mixed(&d, otext, olen, ntext, nlen,
				    (unsigned int)packets, k, what);
			/* The next run writes a new generation (the cache is
			 * no longer trusted), back to the old config. */
			cr_assert_eq(apply_text(&A, otext, olen, &cache, &r),
				     0);
			cr_assert(!r.incremental);
			k += prev;
			prev = k - prev;
		}
		cr_assert(r.incremental || r.unchanged,
			  "%s was not applied in place", what);
		memcpy(otext, ntext, nlen);
		olen = nlen;
	}
	sg_apply_cache_free(&cache);
	free(otext);
	free(ntext);
	printf("incremental: %zu stops half-way, %llu packets compared, 0 "
	       "decided by neither policy\n",
	       stops, (unsigned long long)n_packets);
	fflush(stdout);
	cr_assert_gt(stops, 0);
}
