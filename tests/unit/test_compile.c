// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the compiler (loader/compile.c): port-range splitting, the
 * two-stage lookup (through sg_compiled_lookup, which mirrors the datapath),
 * classes, untracked flags and entry counts. Models are built by hand here,
 * so these tests do not depend on the YAML parser; a randomised test checks
 * the compiled lookup against a direct reading of the model.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"

#define IN  SG_DIR_IN
#define OUT SG_DIR_OUT

/* ---- Building models by hand ---- */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	cr_assert_not_null(p);
	return p;
}

static void mask(struct sg_prefix *p)
{
	unsigned int len = p->len, i;

	for (i = 0; i < 16; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		p->addr[i] &= (uint8_t)(0xff << (8 - len));
		len = 0;
	}
}

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (/32, /128). */
static struct sg_prefix pfx(const char *s)
{
	struct sg_prefix p = {0};
	char buf[64], *slash;
	int len = -1;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		len = atoi(slash + 1);
	}
	if (strchr(buf, ':')) {
		p.family = 6;
		cr_assert_eq(inet_pton(AF_INET6, buf, p.addr), 1, "bad %s", s);
		p.len = (uint8_t)(len < 0 ? 128 : len);
	} else {
		p.family = 4;
		cr_assert_eq(inet_pton(AF_INET, buf, p.addr), 1, "bad %s", s);
		p.len = (uint8_t)(len < 0 ? 32 : len);
	}
	mask(&p);
	return p;
}

static int find_group(const struct sg_config *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i].id, id))
			return (int)i;
	return -1;
}

static int find_pl(const struct sg_config *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nprefix_lists; i++)
		if (!strcmp(c->prefix_lists[i].id, id))
			return (int)i;
	return -1;
}

static int find_inst(const struct sg_config *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->ninstances; i++)
		if (!strcmp(c->instances[i].id, id))
			return (int)i;
	return -1;
}

static struct sg_config *cfg_new(void)
{
	struct sg_config *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	return c;
}

static void cfg_free(struct sg_config *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++) {
		free(c->groups[i].id);
		free(c->groups[i].rules);
	}
	for (i = 0; i < c->nprefix_lists; i++) {
		free(c->prefix_lists[i].id);
		free(c->prefix_lists[i].entries);
	}
	for (i = 0; i < c->ninstances; i++) {
		free(c->instances[i].id);
		free(c->instances[i].ips);
		free(c->instances[i].groups);
	}
	free(c->groups);
	free(c->prefix_lists);
	free(c->instances);
	free(c);
}

static int grp(struct sg_config *c, const char *id)
{
	c->groups = xrealloc(c->groups, (c->ngroups + 1) * sizeof(*c->groups));
	memset(&c->groups[c->ngroups], 0, sizeof(*c->groups));
	c->groups[c->ngroups].id = strdup(id);
	return (int)c->ngroups++;
}

/* A prefix list; entries NULL-terminated. */
static int plist(struct sg_config *c, const char *id, ...)
{
	struct sg_prefix_list *pl;
	const char *e;
	va_list ap;

	c->prefix_lists =
		xrealloc(c->prefix_lists,
			 (c->nprefix_lists + 1) * sizeof(*c->prefix_lists));
	pl = &c->prefix_lists[c->nprefix_lists];
	memset(pl, 0, sizeof(*pl));
	pl->id = strdup(id);
	va_start(ap, id);
	while ((e = va_arg(ap, const char *))) {
		pl->entries = xrealloc(
			pl->entries, (pl->nentries + 1) * sizeof(*pl->entries));
		pl->entries[pl->nentries++] = pfx(e);
	}
	va_end(ap);
	pl->max_entries = (int)pl->nentries;
	return (int)c->nprefix_lists++;
}

/* A rule of group g; peer is a CIDR, "sg-..." or "pl-...". */
static int rule(struct sg_config *c, int g, int dir, int proto, int lo, int hi,
		int type, int code, const char *peer)
{
	struct sg_group *G = &c->groups[g];
	struct sg_rule *r;

	G->rules = xrealloc(G->rules, (G->nrules + 1) * sizeof(*G->rules));
	r = &G->rules[G->nrules];
	memset(r, 0, sizeof(*r));
	r->dir = dir;
	r->proto = proto;
	r->port_lo = lo;
	r->port_hi = hi;
	r->icmp_type = type;
	r->icmp_code = code;
	if (!strncmp(peer, "sg-", 3)) {
		r->peer_kind = SG_PEER_GROUP;
		r->peer_index = find_group(c, peer);
		cr_assert_geq(r->peer_index, 0, "no group %s", peer);
	} else if (!strncmp(peer, "pl-", 3)) {
		r->peer_kind = SG_PEER_PREFIX_LIST;
		r->peer_index = find_pl(c, peer);
		cr_assert_geq(r->peer_index, 0, "no list %s", peer);
	} else {
		r->peer_kind = SG_PEER_CIDR;
		r->cidr = pfx(peer);
	}
	return (int)G->nrules++;
}

static int tcp(struct sg_config *c, int g, int dir, int lo, int hi,
	       const char *peer)
{
	return rule(c, g, dir, 6, lo, hi, -1, -1, peer);
}

static int udp(struct sg_config *c, int g, int dir, int lo, int hi,
	       const char *peer)
{
	return rule(c, g, dir, 17, lo, hi, -1, -1, peer);
}

static int all(struct sg_config *c, int g, int dir, const char *peer)
{
	return rule(c, g, dir, SG_PROTO_ALL, -1, -1, -1, -1, peer);
}

static int proto(struct sg_config *c, int g, int dir, int p, const char *peer)
{
	return rule(c, g, dir, p, -1, -1, -1, -1, peer);
}

static int icmp(struct sg_config *c, int g, int dir, int p, int type, int code,
		const char *peer)
{
	return rule(c, g, dir, p, -1, -1, type, code, peer);
}

static void inst_add_ip(struct sg_instance *in, const char *ip)
{
	in->ips = xrealloc(in->ips, (in->nips + 1) * sizeof(*in->ips));
	in->ips[in->nips++] = pfx(ip);
}

/* An instance; ips comma-separated (or NULL), then group ids, NULL-ended. */
static int inst(struct sg_config *c, const char *id, const char *ips, ...)
{
	struct sg_instance *in;
	const char *g;
	char buf[512], *tok, *save;
	va_list ap;

	c->instances = xrealloc(c->instances,
				(c->ninstances + 1) * sizeof(*c->instances));
	in = &c->instances[c->ninstances];
	memset(in, 0, sizeof(*in));
	in->id = strdup(id);
	in->source_dest_check = true;
	in->ct.tcp_established = 432000;
	in->ct.udp_stream = 180;
	in->ct.udp = 30;
	in->ct.max_entries = 65536;
	if (ips) {
		snprintf(buf, sizeof(buf), "%s", ips);
		for (tok = strtok_r(buf, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			inst_add_ip(in, tok);
	}
	va_start(ap, ips);
	while ((g = va_arg(ap, const char *))) {
		int gi = find_group(c, g);

		cr_assert_geq(gi, 0, "no group %s", g);
		in->groups = xrealloc(in->groups,
				      (in->ngroups + 1) * sizeof(*in->groups));
		in->groups[in->ngroups++] = gi;
	}
	va_end(ap);
	return (int)c->ninstances++;
}

static void compile_ok(const struct sg_config *cfg, struct sg_compiled *c)
{
	struct sg_diag d;
	int err;

	sg_diag_init(&d);
	err = sg_compile(cfg, c, &d);
	cr_assert_eq(err, 0, "sg_compile: %d (%s)", err,
		     d.nentries ? d.entries[0].message : "");
	cr_assert_eq(d.nerrors, 0);
	sg_diag_free(&d);
}

/*
 * Verdict for a new flow to/from instance id: 1 allowed, 0 dropped. flags
 * (may be NULL) gets the stage-2 flags.
 */
static int look(const struct sg_config *cfg, const struct sg_compiled *c,
		const char *id, int dir, int proto, const char *addr, int port,
		__u32 *flags)
{
	struct sg_prefix a = pfx(addr);
	struct sg_rule_val v = {0};
	int i = find_inst(cfg, id), r;

	cr_assert_geq(i, 0, "no instance %s", id);
	r = sg_compiled_lookup(c, c->insts[i].inst.policy, dir, a.family,
			       a.addr, (__u8)proto, (__u16)port, &v);
	if (flags)
		*flags = r ? v.flags : 0;
	return r;
}

static int untracked(const struct sg_config *cfg, const struct sg_compiled *c,
		     const char *id, int dir, int proto, const char *addr,
		     int port)
{
	__u32 flags;

	cr_assert_eq(look(cfg, c, id, dir, proto, addr, port, &flags), 1,
		     "%s %s proto %d port %d not allowed", id, addr, proto,
		     port);
	return !!(flags & SG_RULE_UNTRACKED);
}

/* Stage-1 entries of one (policy, direction, family). */
static size_t scope_entries(const struct sg_compiled *c, __u32 policy, int dir,
			    int v6)
{
	__u32 scope = SG_SCOPE(0, dir, v6, policy);
	size_t i, n = 0;

	for (i = 0; i < c->nclasses_entries; i++)
		n += c->classes[i].key.scope == scope;
	return n;
}

static size_t class_rules(const struct sg_compiled *c, __u32 class_id)
{
	size_t i, n = 0;

	for (i = 0; i < c->nrules_entries; i++)
		n += c->rules[i].key.class_id == class_id;
	return n;
}

/* ---- Port ranges ---- */

static int nprefixes(int lo, int hi)
{
	__u16 v[32];
	__u8 b[32];

	return sg_port_range_prefixes((__u16)lo, (__u16)hi, v, b, 32);
}

Test(ports, counts)
{
	cr_expect_eq(nprefixes(0, 65535), 1);
	cr_expect_eq(nprefixes(1, 65535), 16);
	cr_expect_eq(nprefixes(1024, 65535), 6);
	cr_expect_eq(nprefixes(22, 22), 1);
	cr_expect_eq(nprefixes(8080, 8089), 2);
	cr_expect_eq(nprefixes(0, 0), 1);
	cr_expect_eq(nprefixes(65535, 65535), 1);
	cr_expect_eq(nprefixes(1, 65534), 30); /* the worst case */
}

Test(ports, errors)
{
	__u16 v[32];
	__u8 b[32];

	cr_expect_lt(sg_port_range_prefixes(10, 9, v, b, 32), 0);
	cr_expect_lt(sg_port_range_prefixes(1, 65534, v, b, 29), 0);
	cr_expect_eq(sg_port_range_prefixes(1, 65534, v, b, 30), 30);
}

/* The prefixes are aligned, disjoint and cover exactly [lo, hi]. */
Test(ports, exact_cover)
{
	static const int ranges[][2] = {
		{0, 65535},   {1, 65535},     {1024, 65535}, {22, 22},
		{8080, 8089}, {1, 65534},     {3, 1000},     {32767, 32768},
		{0, 1},	      {60000, 65535},
	};
	static unsigned char hits[65536];
	size_t r;

	for (r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		int lo = ranges[r][0], hi = ranges[r][1], n, i, p;
		__u16 v[32];
		__u8 b[32];

		memset(hits, 0, sizeof(hits));
		n = sg_port_range_prefixes((__u16)lo, (__u16)hi, v, b, 32);
		cr_assert_gt(n, 0);
		for (i = 0; i < n; i++) {
			unsigned int size = 1u << (16 - b[i]);

			cr_assert_eq(v[i] & (size - 1), 0, "unaligned");
			for (p = v[i]; p < (int)(v[i] + size); p++)
				hits[p]++;
		}
		for (p = 0; p < 65536; p++)
			cr_assert_eq(hits[p], p >= lo && p <= hi,
				     "range %d-%d port %d", lo, hi, p);
	}
}

/* ---- Lookups ---- */

Test(lookup, single_rule)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;

	tcp(cfg, grp(cfg, "sg-ssh"), IN, 22, 22, "203.0.113.10/32");
	inst(cfg, "i-1", "198.18.1.10", "sg-ssh", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "203.0.113.10", 22, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "203.0.113.10", 23, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "203.0.113.11", 22, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 17, "203.0.113.10", 22, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-1", OUT, 6, "203.0.113.10", 22, NULL), 0);
	cr_expect_eq(c.nclasses_entries, 1);
	cr_expect_eq(c.nclasses, 1);
	cr_expect_eq(c.nrules_entries, 1);
	cr_expect_eq(c.classes[0].key.prefixlen, 64);
	cr_expect_eq(c.classes[0].val.prefixlen, 64);
	cr_expect_eq(c.classes[0].val.class_id, 1);
	cr_expect_eq(c.rules[0].key.prefixlen, SG_RULE_PLEN_PROTO + 16);
	cr_expect_eq(c.rules[0].key.port, htons(22));
	cr_expect_eq(c.rules[0].key.pad, 0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, union_of_groups)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;

	tcp(cfg, grp(cfg, "sg-a"), IN, 22, 22, "10.0.0.0/8");
	tcp(cfg, grp(cfg, "sg-b"), IN, 80, 80, "10.0.0.0/8");
	inst(cfg, "i-ab", "198.18.1.1", "sg-a", "sg-b", NULL);
	inst(cfg, "i-a", "198.18.1.2", "sg-a", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-ab", IN, 6, "10.1.1.1", 22, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-ab", IN, 6, "10.1.1.1", 80, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-ab", IN, 6, "10.1.1.1", 443, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 6, "10.1.1.1", 22, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 6, "10.1.1.1", 80, NULL), 0);
	cr_expect_eq(c.npolicies, 2);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, nested_cidrs)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int g = grp(cfg, "sg-n");

	tcp(cfg, g, IN, 22, 22, "10.0.0.0/8");
	tcp(cfg, g, IN, 80, 80, "10.1.0.0/16");
	inst(cfg, "i-1", "198.18.1.1", "sg-n", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "10.1.2.3", 22, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "10.1.2.3", 80, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "10.2.0.1", 22, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "10.2.0.1", 80, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "11.1.2.3", 22, NULL), 0);
	cr_expect_eq(c.nclasses_entries, 2);
	cr_expect_eq(c.nclasses, 2);
	cr_expect_eq(c.nrules_entries, 3); /* {22}, {22, 80} */
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, group_reference_and_membership_change)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;

	grp(cfg, "sg-web");
	tcp(cfg, grp(cfg, "sg-db"), IN, 5432, 5432, "sg-web");
	inst(cfg, "i-web1", "198.18.1.10,2001:db8:1::10", "sg-web", NULL);
	inst(cfg, "i-web2", "198.18.1.11", "sg-web", NULL);
	inst(cfg, "i-db", "198.18.2.10", "sg-db", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "198.18.1.10", 5432, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "2001:db8:1::10", 5432, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "198.18.1.11", 5432, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "198.18.1.12", 5432, NULL),
		     0);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "198.18.2.10", 5432, NULL),
		     0);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "2001:db8:1::11", 5432, NULL),
		     0);
	sg_compiled_free(&c);

	/* i-web2 leaves sg-web: its address no longer matches. */
	cfg->instances[1].groups[0] = find_group(cfg, "sg-db");
	compile_ok(cfg, &c);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "198.18.1.10", 5432, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "198.18.1.11", 5432, NULL),
		     0);
	cr_expect_eq(c.npolicies, 2);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, self_reference)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int g = grp(cfg, "sg-default");

	grp(cfg, "sg-other");
	all(cfg, g, IN, "sg-default");
	all(cfg, g, OUT, "0.0.0.0/0");
	all(cfg, g, OUT, "::/0");
	inst(cfg, "i-a", "10.0.0.1", "sg-default", NULL);
	inst(cfg, "i-b", "10.0.0.2,2001:db8::2", "sg-default", NULL);
	inst(cfg, "i-c", "10.0.0.3", "sg-other", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-a", IN, 6, "10.0.0.2", 443, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 17, "2001:db8::2", 53, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 1, "10.0.0.1", 8 << 8, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-b", IN, 6, "10.0.0.1", 22, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 6, "10.0.0.3", 22, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-c", IN, 6, "10.0.0.1", 22, NULL), 0);
	/* Egress is open, but the inbound peer is not /0: tracked. */
	cr_expect_eq(untracked(cfg, &c, "i-a", OUT, 6, "192.0.2.1", 443), 0);
	cr_expect_eq(untracked(cfg, &c, "i-a", IN, 6, "10.0.0.2", 443), 0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, prefix_list)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	struct sg_rule_val v;
	int g;

	plist(cfg, "pl-office", "203.0.113.0/28", "2001:db8:100::/48", NULL);
	g = grp(cfg, "sg-web");
	icmp(cfg, g, IN, 1, 8, -1, "pl-office");
	tcp(cfg, g, IN, 443, 443, "pl-office");
	inst(cfg, "i-1", "198.18.1.10", "sg-web", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-1", IN, 1, "203.0.113.5", 8 << 8, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 1, "203.0.113.16", 8 << 8, NULL),
		     0);
	cr_expect_eq(
		look(cfg, &c, "i-1", IN, 6, "2001:db8:100:ff::1", 443, NULL),
		1);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "2001:db8:101::1", 443, NULL),
		     0);
	cr_assert_eq(sg_compiled_lookup(&c, 0, IN, 4,
					(const __u8 *)"\xcb\x00\x71\x01", 6,
					443, &v),
		     1);
	cr_expect_eq(c.rule_refs[v.rule_ref].group, g);
	cr_expect_eq(c.rule_refs[v.rule_ref].rule, 1);
	/* One entry per family. The ICMP type-8 rule is a bare protocol
	 * number for IPv6 packets, so each family has its own class. */
	cr_expect_eq(c.nclasses_entries, 2);
	cr_expect_eq(c.nclasses, 2);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 1, "2001:db8:100::1", 0, NULL),
		     1);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, icmp_encoding)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int ga = grp(cfg, "sg-echo"), gb = grp(cfg, "sg-frag"),
	    gc = grp(cfg, "sg-icmp6");
	size_t i;
	int seen = 0;

	icmp(cfg, ga, IN, 1, 8, -1, "10.0.0.0/8"); /* echo, all codes */
	icmp(cfg, gb, IN, 1, 3, 4, "10.0.0.0/8");  /* frag needed only */
	icmp(cfg, gc, IN, 58, -1, -1, "::/0");	   /* all ICMPv6 */
	inst(cfg, "i-a", "198.18.0.1", "sg-echo", NULL);
	inst(cfg, "i-b", "198.18.0.2", "sg-frag", NULL);
	inst(cfg, "i-c", "198.18.0.3", "sg-icmp6", NULL);
	compile_ok(cfg, &c);

	for (i = 0; i < c.nrules_entries; i++) {
		const struct sg_rule_key *k = &c.rules[i].key;

		if (k->proto == 1 && k->prefixlen == 56) {
			cr_expect_eq(k->port, htons(8 << 8));
			seen |= 1;
		} else if (k->proto == 1 && k->prefixlen == 64) {
			cr_expect_eq(k->port, htons(3 << 8 | 4));
			seen |= 2;
		} else if (k->proto == 58 && k->prefixlen == 48) {
			cr_expect_eq(k->port, 0);
			seen |= 4;
		}
	}
	cr_expect_eq(seen, 7);
	cr_expect_eq(c.nrules_entries, 3);

	cr_expect_eq(look(cfg, &c, "i-a", IN, 1, "10.0.0.1", 8 << 8, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 1, "10.0.0.1", 8 << 8 | 7, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 1, "10.0.0.1", 0, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-a", IN, 58, "10.0.0.1", 8 << 8, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-b", IN, 1, "10.0.0.1", 3 << 8 | 4, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-b", IN, 1, "10.0.0.1", 3 << 8 | 3, NULL),
		     0);
	cr_expect_eq(look(cfg, &c, "i-b", IN, 1, "10.0.0.1", 8 << 8, NULL), 0);
	cr_expect_eq(
		look(cfg, &c, "i-c", IN, 58, "2001:db8::1", 128 << 8, NULL), 1);
	cr_expect_eq(
		look(cfg, &c, "i-c", IN, 58, "2001:db8::1", 1 << 8 | 4, NULL),
		1);
	cr_expect_eq(look(cfg, &c, "i-c", IN, 1, "2001:db8::1", 8 << 8, NULL),
		     0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, all_traffic_and_other_protocols)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int ga = grp(cfg, "sg-all"), gb = grp(cfg, "sg-gre");

	all(cfg, ga, IN, "192.0.2.0/24");
	proto(cfg, gb, IN, 47, "192.0.2.0/24");
	inst(cfg, "i-all", "198.18.0.1", "sg-all", NULL);
	inst(cfg, "i-gre", "198.18.0.2", "sg-gre", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-all", IN, 6, "192.0.2.9", 1, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-all", IN, 17, "192.0.2.9", 65535, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-all", IN, 1, "192.0.2.9", 8 << 8, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-all", IN, 47, "192.0.2.9", 0, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-all", IN, 0, "192.0.2.9", 0, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-all", IN, 6, "192.0.3.9", 1, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-all", OUT, 6, "192.0.2.9", 1, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-gre", IN, 47, "192.0.2.9", 0, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-gre", IN, 47, "192.0.2.9", 1234, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-gre", IN, 6, "192.0.2.9", 0, NULL), 0);
	cr_expect_eq(c.nrules_entries, 2);
	cr_expect_eq(c.rules[0].key.prefixlen, SG_RULE_PLEN_ALL);
	cr_expect_eq(c.rules[0].key.proto, 0);
	cr_expect_eq(c.rules[0].key.port, 0);
	cr_expect_eq(c.rules[1].key.prefixlen, SG_RULE_PLEN_PROTO);
	cr_expect_eq(c.rules[1].key.proto, 47);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, families_are_separate)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int ga = grp(cfg, "sg-v6"), gb = grp(cfg, "sg-v4");

	tcp(cfg, ga, IN, 80, 80, "::/0");
	tcp(cfg, gb, IN, 80, 80, "0.0.0.0/0");
	inst(cfg, "i-6", "198.18.0.1", "sg-v6", NULL);
	inst(cfg, "i-4", "198.18.0.2", "sg-v4", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(look(cfg, &c, "i-6", IN, 6, "2001:db8::1", 80, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-6", IN, 6, "0.0.0.0", 80, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-6", IN, 6, "203.0.113.1", 80, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-4", IN, 6, "203.0.113.1", 80, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-4", IN, 6, "::", 80, NULL), 0);
	cr_expect_eq(
		look(cfg, &c, "i-4", IN, 6, "::ffff:203.0.113.1", 80, NULL), 0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(lookup, duplicate_keys_keep_first_rule)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	struct sg_rule_val v;
	int g = grp(cfg, "sg-d");

	tcp(cfg, g, IN, 22, 22, "10.0.0.0/8");
	tcp(cfg, g, IN, 22, 22, "10.1.0.0/16");
	tcp(cfg, g, IN, 20, 23, "10.1.0.0/16");
	inst(cfg, "i-1", "198.18.0.1", "sg-d", NULL);
	compile_ok(cfg, &c);

	/* 10.1/16: {r0, r1, r2}: 22 twice (one entry), 20-23 as /14. */
	cr_expect_eq(c.nclasses, 2);
	cr_expect_eq(class_rules(&c, 1), 1);
	cr_expect_eq(class_rules(&c, 2), 2);
	cr_assert_eq(sg_compiled_lookup(&c, 0, IN, 4,
					(const __u8 *)"\x0a\x01\x00\x01", 6, 22,
					&v),
		     1);
	cr_expect_eq(c.rule_refs[v.rule_ref].rule, 0);
	cr_assert_eq(sg_compiled_lookup(&c, 0, IN, 4,
					(const __u8 *)"\x0a\x01\x00\x01", 6, 21,
					&v),
		     1);
	cr_expect_eq(c.rule_refs[v.rule_ref].rule, 2);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

/* ---- Policies and instance entries ---- */

Test(policy, same_groups_share_a_policy)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;

	tcp(cfg, grp(cfg, "sg-a"), IN, 22, 22, "0.0.0.0/0");
	tcp(cfg, grp(cfg, "sg-b"), IN, 80, 80, "0.0.0.0/0");
	inst(cfg, "i-1", "10.0.0.1", "sg-a", "sg-b", NULL);
	inst(cfg, "i-2", "10.0.0.2", "sg-b", "sg-a", NULL);
	inst(cfg, "i-3", "10.0.0.3", "sg-a", NULL);
	inst(cfg, "i-4", "10.0.0.4", "sg-b", "sg-a", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(c.npolicies, 2);
	cr_expect_eq(c.insts[0].inst.policy, c.insts[1].inst.policy);
	cr_expect_eq(c.insts[0].inst.policy, c.insts[3].inst.policy);
	cr_expect_neq(c.insts[0].inst.policy, c.insts[2].inst.policy);
	cr_expect_eq(c.policies[c.insts[1].inst.policy].ngroups, 2);
	cr_expect_eq(c.policies[c.insts[1].inst.policy].groups[0], 0);
	cr_expect_eq(c.policies[c.insts[1].inst.policy].groups[1], 1);
	/* Two policies, two classes ({22, 80} and {22}), no more. */
	cr_expect_eq(c.nclasses_entries, 2);
	cr_expect_eq(c.nclasses, 2);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(policy, instance_entries)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	static const __u8 v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};

	grp(cfg, "sg-a");
	inst(cfg, "i-1", "198.18.1.10,2001:db8::10", "sg-a", NULL);
	inst(cfg, "i-2", NULL, "sg-a", NULL);
	cfg->instances[1].source_dest_check = false;
	cfg->instances[1].ct.tcp_established = 3600;
	cfg->instances[1].ct.udp_stream = 120;
	cfg->instances[1].ct.udp = 45;
	cfg->instances[1].ct.max_entries = 100;
	compile_ok(cfg, &c);

	cr_assert_eq(c.ninsts, 2);
	cr_expect_eq(c.insts[0].inst.flags,
		     SG_INST_PRESENT | SG_INST_SOURCE_CHECK);
	cr_expect_eq(c.insts[0].inst.tcp_established, 432000);
	cr_expect_eq(c.insts[0].inst.ct_max, 65536);
	cr_assert_eq(c.insts[0].nips, 2);
	cr_expect_eq(c.insts[0].ips[0].gen_slot, 0);
	cr_expect_eq(c.insts[0].ips[0].family, 4);
	cr_expect_arr_eq(c.insts[0].ips[0].addr, "\xc6\x12\x01\x0a", 4);
	cr_expect_eq(c.insts[0].ips[0].addr[4], 0);
	cr_expect_eq(c.insts[0].ips[1].family, 6);
	cr_expect_arr_eq(c.insts[0].ips[1].addr, v6, 16);
	cr_expect_eq(c.insts[1].inst.flags, SG_INST_PRESENT);
	cr_expect_eq(c.insts[1].inst.tcp_established, 3600);
	cr_expect_eq(c.insts[1].inst.udp_stream, 120);
	cr_expect_eq(c.insts[1].inst.udp, 45);
	cr_expect_eq(c.insts[1].inst.ct_max, 100);
	cr_expect_eq(c.insts[1].nips, 0);
	cr_expect_eq(c.insts[0].inst.policy, c.insts[1].inst.policy);
	/* A group without rules: nothing is allowed, nothing emitted. */
	cr_expect_eq(c.nclasses_entries, 0);
	cr_expect_eq(c.nrules_entries, 0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

/* ---- Untracked flows ---- */

Test(untracked, world_rule_with_open_egress)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int g = grp(cfg, "sg-web");

	tcp(cfg, g, IN, 80, 80, "0.0.0.0/0");
	tcp(cfg, g, IN, 80, 80, "::/0");
	tcp(cfg, g, IN, 22, 22, "10.0.0.0/8");
	udp(cfg, g, IN, 53, 53, "0.0.0.0/0");
	icmp(cfg, g, IN, 1, -1, -1, "0.0.0.0/0");
	all(cfg, g, OUT, "0.0.0.0/0"); /* v4 egress only */
	inst(cfg, "i-1", "198.18.0.1", "sg-web", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "192.0.2.1", 80), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 17, "192.0.2.1", 53), 1);
	/* Covered by a /0 rule even though 10/8's class also has 22. */
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "10.0.0.1", 80), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "10.0.0.1", 22), 0);
	/* ICMP is always tracked. */
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 1, "192.0.2.1", 8 << 8), 0);
	/* No ::/0 egress: v6 is tracked. */
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "2001:db8::1", 80), 0);
	/* The egress rule's opposite (inbound) is not all traffic: tracked. */
	cr_expect_eq(untracked(cfg, &c, "i-1", OUT, 6, "192.0.2.1", 80), 0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(untracked, needs_world_peers)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int ga = grp(cfg, "sg-narrow-egress"), gb = grp(cfg, "sg-open");

	tcp(cfg, ga, IN, 80, 80, "0.0.0.0/0");
	all(cfg, ga, OUT, "10.0.0.0/8");
	tcp(cfg, gb, IN, 80, 80, "0.0.0.0/1"); /* not exactly /0 */
	tcp(cfg, gb, IN, 80, 80, "128.0.0.0/1");
	all(cfg, gb, OUT, "0.0.0.0/0");
	tcp(cfg, gb, OUT, 0, 65535, "0.0.0.0/0");
	inst(cfg, "i-a", "198.18.0.1", "sg-narrow-egress", NULL);
	inst(cfg, "i-b", "198.18.0.2", "sg-open", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(untracked(cfg, &c, "i-a", IN, 6, "192.0.2.1", 80), 0);
	cr_expect_eq(untracked(cfg, &c, "i-b", IN, 6, "192.0.2.1", 80), 0);
	cr_expect_eq(untracked(cfg, &c, "i-b", OUT, 6, "192.0.2.1", 80), 0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

/* All traffic both ways: TCP and UDP untracked, ICMP and others tracked. */
Test(untracked, all_traffic_both_ways)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int g = grp(cfg, "sg-open"), n6 = 0, n17 = 0;
	size_t i;

	all(cfg, g, IN, "0.0.0.0/0");
	all(cfg, g, OUT, "0.0.0.0/0");
	inst(cfg, "i-1", "198.18.0.1", "sg-open", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "192.0.2.1", 443), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 17, "192.0.2.1", 0), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", OUT, 6, "192.0.2.1", 22), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 1, "192.0.2.1", 8 << 8), 0);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 58, "192.0.2.1", 0), 0);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 47, "192.0.2.1", 0), 0);
	for (i = 0; i < c.nrules_entries; i++) {
		const struct sg_rule_entry *e = &c.rules[i];

		if (e->key.prefixlen == SG_RULE_PLEN_ALL)
			cr_expect_eq(e->val.flags, 0);
		n6 += e->key.proto == 6;
		n17 += e->key.proto == 17;
	}
	/* Inbound and outbound rules differ, so two classes of 3 entries. */
	cr_expect_eq(c.nclasses, 2);
	cr_expect_eq(c.nrules_entries, 6);
	cr_expect_eq(n6, 2);
	cr_expect_eq(n17, 2);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(untracked, prefix_list_with_world_entry)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int g;

	plist(cfg, "pl-world", "0.0.0.0/0", "2001:db8::/32", NULL);
	g = grp(cfg, "sg-pl");
	tcp(cfg, g, IN, 443, 443, "pl-world");
	all(cfg, g, OUT, "pl-world");
	inst(cfg, "i-1", "198.18.0.1", "sg-pl", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "192.0.2.1", 443), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "2001:db8::1", 443), 0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

/*
 * Same rule set, different policies: one with open egress, one without.
 * The classes must differ (untracked flags depend on the policy).
 */
Test(untracked, class_identity_includes_context)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int ga = grp(cfg, "sg-a"), gb = grp(cfg, "sg-b");

	tcp(cfg, ga, IN, 80, 80, "0.0.0.0/0");
	tcp(cfg, ga, IN, 80, 80, "::/0");
	all(cfg, gb, OUT, "0.0.0.0/0");
	all(cfg, gb, OUT, "::/0");
	inst(cfg, "i-a", "198.18.0.1", "sg-a", NULL);
	inst(cfg, "i-ab", "198.18.0.2", "sg-a", "sg-b", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(untracked(cfg, &c, "i-a", IN, 6, "192.0.2.1", 80), 0);
	cr_expect_eq(untracked(cfg, &c, "i-ab", IN, 6, "192.0.2.1", 80), 1);
	cr_expect_eq(untracked(cfg, &c, "i-a", IN, 6, "2001:db8::1", 80), 0);
	cr_expect_eq(untracked(cfg, &c, "i-ab", IN, 6, "2001:db8::1", 80), 1);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

/* A flag follows port coverage, not just the key that came from the rule. */
Test(untracked, partial_port_coverage)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int g = grp(cfg, "sg-p");

	tcp(cfg, g, IN, 1000, 2000, "0.0.0.0/0");
	tcp(cfg, g, IN, 0, 65535, "10.0.0.0/8");
	all(cfg, g, OUT, "0.0.0.0/0");
	inst(cfg, "i-1", "198.18.0.1", "sg-p", NULL);
	compile_ok(cfg, &c);

	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "10.0.0.1", 1500), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "10.0.0.1", 1000), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "10.0.0.1", 2000), 1);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "10.0.0.1", 2001), 0);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "10.0.0.1", 80), 0);
	cr_expect_eq(look(cfg, &c, "i-1", IN, 6, "192.0.2.1", 80, NULL), 0);
	cr_expect_eq(untracked(cfg, &c, "i-1", IN, 6, "192.0.2.1", 1999), 1);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

/* ---- Sizes ---- */

static struct sg_config *members_cfg(int n)
{
	struct sg_config *cfg = cfg_new();
	int ga = grp(cfg, "sg-app"), gd = grp(cfg, "sg-db"), i;
	char id[32], ip[32];

	all(cfg, ga, OUT, "0.0.0.0/0");
	tcp(cfg, gd, IN, 5432, 5432, "sg-app");
	tcp(cfg, gd, IN, 22, 22, "10.0.0.0/8");
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "i-app%d", i);
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
			 i & 255);
		inst(cfg, id, ip, "sg-app", NULL);
	}
	inst(cfg, "i-db", "192.168.0.1", "sg-db", NULL);
	return cfg;
}

Test(size, ten_thousand_members_one_class)
{
	struct sg_config *cfg = members_cfg(10000), *small = members_cfg(100);
	struct sg_compiled c, s;
	__u32 pdb;

	compile_ok(cfg, &c);
	compile_ok(small, &s);
	pdb = c.insts[10000].inst.policy;

	cr_expect_eq(c.npolicies, 2);
	cr_expect_eq(scope_entries(&c, pdb, IN, 0), 10001); /* + 10/8 */
	cr_expect_eq(c.nclasses_entries, 10002);
	/* {22} for 10/8, {22, 5432} shared by all members, app egress. */
	cr_expect_eq(c.nclasses, 3);
	cr_expect_eq(c.nrules_entries, 4);
	/* Members change entries in stage 1 only. */
	cr_expect_eq(s.nclasses, c.nclasses);
	cr_expect_eq(s.nrules_entries, c.nrules_entries);
	cr_expect_eq(s.nclasses_entries, 102);
	cr_log_info("10k members: %zu stage-1 entries, %zu classes, %zu "
		    "stage-2 entries",
		    c.nclasses_entries, c.nclasses, c.nrules_entries);

	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "10.0.39.15", 5432, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "10.0.39.16", 5432, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "10.0.39.16", 22, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-db", IN, 6, "10.0.0.0", 5432, NULL), 1);
	sg_compiled_free(&c);
	sg_compiled_free(&s);
	cfg_free(cfg);
	cfg_free(small);
}

/* 60 inbound rules: mixed ports, nested and disjoint CIDRs, references. */
Test(size, sixty_rule_group)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	int g = grp(cfg, "sg-big"), k, i;
	char cidr[32], id[32], ip[32];

	grp(cfg, "sg-peer");
	for (k = 0; k < 60; k++) {
		switch (k % 4) {
		case 0:
			snprintf(cidr, sizeof(cidr), "10.%d.0.0/16", k);
			tcp(cfg, g, IN, 1000 + k, 1000 + k, cidr);
			break;
		case 1:
			snprintf(cidr, sizeof(cidr), "10.%d.%d.0/24", k - 1, k);
			tcp(cfg, g, IN, 1024, 65535, cidr);
			break;
		case 2:
			udp(cfg, g, IN, 5000 + k * 10, 5009 + k * 10,
			    "172.16.0.0/12");
			break;
		default:
			tcp(cfg, g, IN, 8000 + k, 8000 + k, "sg-peer");
			break;
		}
	}
	all(cfg, g, OUT, "0.0.0.0/0");
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "i-peer%d", i);
		snprintf(ip, sizeof(ip), "192.168.1.%d", i + 1);
		inst(cfg, id, ip, "sg-peer", NULL);
	}
	inst(cfg, "i-big", "198.18.0.1", "sg-big", NULL);
	compile_ok(cfg, &c);

	cr_log_info("60-rule group: %zu stage-1 entries, %zu classes, %zu "
		    "stage-2 entries",
		    c.nclasses_entries, c.nclasses, c.nrules_entries);
	/* 15 /16 + 15 /24 + 1 /12 + 50 members, + 1 egress. */
	cr_expect_eq(c.nclasses_entries, 82);
	cr_expect_eq(look(cfg, &c, "i-big", IN, 6, "10.4.5.6", 1004, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-big", IN, 6, "10.4.5.6", 2000, NULL), 1);
	cr_expect_eq(look(cfg, &c, "i-big", IN, 6, "10.4.6.6", 2000, NULL), 0);
	cr_expect_eq(look(cfg, &c, "i-big", IN, 17, "172.20.0.1", 5069, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-big", IN, 17, "172.20.0.1", 5070, NULL),
		     0);
	cr_expect_eq(look(cfg, &c, "i-big", IN, 6, "192.168.1.50", 8059, NULL),
		     1);
	cr_expect_eq(look(cfg, &c, "i-big", IN, 6, "192.168.1.51", 8059, NULL),
		     0);
	sg_compiled_free(&c);
	cfg_free(cfg);
}

Test(size, too_many_prefixes_is_e2big)
{
	struct sg_config *cfg = cfg_new();
	struct sg_compiled c;
	struct sg_instance *in;
	struct sg_diag d;
	int i, n = SG_CLASS_MAX_ENTRIES + 1;

	grp(cfg, "sg-many");
	all(cfg, grp(cfg, "sg-ref"), IN, "sg-many");
	inst(cfg, "i-many", NULL, "sg-many", NULL);
	inst(cfg, "i-ref", "192.168.0.1", "sg-ref", NULL);
	in = &cfg->instances[0];
	in->ips = calloc((size_t)n, sizeof(*in->ips));
	cr_assert_not_null(in->ips);
	in->nips = (size_t)n;
	for (i = 0; i < n; i++) {
		in->ips[i].family = 4;
		in->ips[i].len = 32;
		in->ips[i].addr[0] = 10;
		in->ips[i].addr[1] = (uint8_t)(i >> 16);
		in->ips[i].addr[2] = (uint8_t)(i >> 8);
		in->ips[i].addr[3] = (uint8_t)i;
	}
	sg_diag_init(&d);
	cr_expect_eq(sg_compile(cfg, &c, &d), -E2BIG);
	cr_expect_eq(d.nerrors, 1);
	cr_expect_eq(c.nclasses_entries, 0);
	cr_expect_null(c.classes);
	sg_diag_free(&d);
	cfg_free(cfg);
}

/* ---- Randomised: compiled lookup == the model read directly ---- */

#ifndef RANDOM_ROUNDS
#define RANDOM_ROUNDS 25
#endif

static unsigned int rng = 12345;

static unsigned int rnd(unsigned int n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

static bool in_prefix(const struct sg_prefix *p, int fam, const __u8 *a)
{
	unsigned int full = p->len / 8, rem = p->len % 8;

	if (p->family != fam || memcmp(p->addr, a, full))
		return false;
	return !rem || !((p->addr[full] ^ a[full]) & (0xff << (8 - rem)));
}

static bool peer_has(const struct sg_config *cfg, const struct sg_rule *r,
		     int fam, const __u8 *a)
{
	size_t i, j, k;

	switch (r->peer_kind) {
	case SG_PEER_CIDR:
		return in_prefix(&r->cidr, fam, a);
	case SG_PEER_PREFIX_LIST:
		for (i = 0; i < cfg->prefix_lists[r->peer_index].nentries; i++)
			if (in_prefix(&cfg->prefix_lists[r->peer_index]
					       .entries[i],
				      fam, a))
				return true;
		return false;
	case SG_PEER_GROUP:
		for (i = 0; i < cfg->ninstances; i++) {
			const struct sg_instance *in = &cfg->instances[i];

			for (j = 0; j < in->ngroups; j++)
				if (in->groups[j] == r->peer_index)
					break;
			if (j == in->ngroups)
				continue;
			for (k = 0; k < in->nips; k++)
				if (in_prefix(&in->ips[k], fam, a))
					return true;
		}
		return false;
	}
	return false;
}

static bool peer_world(const struct sg_config *cfg, const struct sg_rule *r,
		       int fam)
{
	size_t i;

	if (r->peer_kind == SG_PEER_CIDR)
		return r->cidr.len == 0 && r->cidr.family == fam;
	if (r->peer_kind == SG_PEER_PREFIX_LIST)
		for (i = 0; i < cfg->prefix_lists[r->peer_index].nentries; i++)
			if (cfg->prefix_lists[r->peer_index].entries[i].len ==
				    0 &&
			    cfg->prefix_lists[r->peer_index]
					    .entries[i]
					    .family == fam)
				return true;
	return false;
}

static bool proto_port_match(const struct sg_rule *r, int fam, int proto,
			     int port)
{
	if (r->proto == SG_PROTO_ALL)
		return true;
	if (r->proto != proto)
		return false;
	if (proto == 6 || proto == 17)
		return port >= r->port_lo && port <= r->port_hi;
	/* ICMP of the other family is a bare protocol number: type and
	 * code do not apply (as in loader/refmodel.c). */
	if ((proto == 1 && fam == 4) || (proto == 58 && fam == 6))
		return (r->icmp_type < 0 || r->icmp_type == port >> 8) &&
		       (r->icmp_code < 0 || r->icmp_code == (port & 255));
	return true;
}

/* docs/semantics.md §2 read literally: 1 allowed (+2 untracked), 0 dropped. */
static int naive(const struct sg_config *cfg, int ii, int dir, int fam,
		 const __u8 *a, int proto, int port)
{
	const struct sg_instance *in = &cfg->instances[ii];
	bool allowed = false, world = false, open = false;
	size_t g, r;

	for (g = 0; g < in->ngroups; g++) {
		const struct sg_group *grp = &cfg->groups[in->groups[g]];

		for (r = 0; r < grp->nrules; r++) {
			const struct sg_rule *ru = &grp->rules[r];

			if (ru->dir == 1 - dir && ru->proto == SG_PROTO_ALL &&
			    peer_world(cfg, ru, fam))
				open = true;
			if (ru->dir != dir ||
			    !proto_port_match(ru, fam, proto, port) ||
			    !peer_has(cfg, ru, fam, a))
				continue;
			allowed = true;
			if (peer_world(cfg, ru, fam))
				world = true;
		}
	}
	if (!allowed)
		return 0;
	return 1 + 2 * (world && open && (proto == 6 || proto == 17));
}

static const char *const rand_v4[] = {
	"0.0.0.0/0",   "10.0.0.0/8",  "10.0.0.0/16",
	"10.0.1.0/24", "10.0.1.0/30", "10.0.1.5/32",
	"10.0.2.0/23", "10.0.3.0/24", "192.168.0.0/16",
};
static const char *const rand_v6[] = {
	"::/0",		  "2001:db8::/32",   "2001:db8::/64",
	"2001:db8::/124", "2001:db8::5/128", "2001:db8:1::/48",
};
static const int rand_ports[][2] = {
	{22, 22},     {80, 80},	     {20, 30},	   {0, 65535},
	{1000, 2000}, {1024, 65535}, {1500, 1500}, {1, 65534},
};

static const char *rand_peer(struct sg_config *cfg, char *buf, size_t len)
{
	unsigned int k = rnd(10);

	if (k < 4)
		return rand_v4[rnd(sizeof(rand_v4) / sizeof(rand_v4[0]))];
	if (k < 6)
		return rand_v6[rnd(sizeof(rand_v6) / sizeof(rand_v6[0]))];
	if (k < 7)
		return cfg->prefix_lists[rnd((unsigned int)cfg->nprefix_lists)]
			.id;
	snprintf(buf, len, "%s",
		 cfg->groups[rnd((unsigned int)cfg->ngroups)].id);
	return buf;
}

static struct sg_config *rand_cfg(void)
{
	struct sg_config *cfg = cfg_new();
	char buf[32], ips[128];
	int g, r, i, n;

	plist(cfg, "pl-a", "10.0.1.0/24", "2001:db8::/64", NULL);
	plist(cfg, "pl-b", "0.0.0.0/0", "10.0.0.0/16", NULL);
	plist(cfg, "pl-c", "::/0", NULL);
	for (g = 0; g < 6; g++) {
		snprintf(buf, sizeof(buf), "sg-%d", g);
		grp(cfg, buf);
	}
	for (g = 0; g < 6; g++) {
		n = (int)rnd(12);
		for (r = 0; r < n; r++) {
			int dir = (int)rnd(2), k = (int)rnd(10);
			const char *peer = rand_peer(cfg, buf, sizeof(buf));
			const int *pr = rand_ports[rnd(8)];

			if (k < 2)
				all(cfg, g, dir, peer);
			else if (k < 5)
				tcp(cfg, g, dir, pr[0], pr[1], peer);
			else if (k < 7)
				udp(cfg, g, dir, pr[0], pr[1], peer);
			else if (k < 8 && rnd(2))
				icmp(cfg, g, dir, rnd(2) ? 1 : 58, -1, -1,
				     peer);
			else if (k < 8)
				icmp(cfg, g, dir, rnd(2) ? 1 : 58, 8,
				     rnd(2) ? -1 : 0, peer);
			else if (k < 9)
				icmp(cfg, g, dir, 1, 3, rnd(2) ? -1 : 4, peer);
			else
				proto(cfg, g, dir, 47, peer);
		}
	}
	for (i = 0; i < 12; i++) {
		char id[16];

		snprintf(id, sizeof(id), "i-%d", i);
		snprintf(ips, sizeof(ips), "10.0.%u.%u,2001:db8::%x", rnd(4),
			 rnd(8), rnd(16));
		inst(cfg, id, rnd(3) ? ips : strchr(ips, ',') + 1, NULL);
		n = 1 + (int)rnd(3);
		for (g = 0; g < n; g++) {
			struct sg_instance *in = &cfg->instances[i];
			int gi = (int)rnd(6);
			size_t j;

			for (j = 0; j < in->ngroups; j++)
				if (in->groups[j] == gi)
					break;
			if (j < in->ngroups)
				continue;
			in->groups = xrealloc(in->groups,
					      (in->ngroups + 1) * sizeof(int));
			in->groups[in->ngroups++] = gi;
		}
	}
	return cfg;
}

static int checked, accepted, untr;

/* One query, both ways: compiled (1, or 3 when untracked) vs the model. */
static void check_one(const struct sg_config *cfg, const struct sg_compiled *c,
		      int round, size_t ii, int dir, const char *s, int proto,
		      int port)
{
	struct sg_prefix a = pfx(s);
	struct sg_rule_val v;
	int want, got;

	want = naive(cfg, (int)ii, dir, a.family, a.addr, proto, port);
	got = sg_compiled_lookup(c, c->insts[ii].inst.policy, dir, a.family,
				 a.addr, (__u8)proto, (__u16)port, &v);
	if (got && (v.flags & SG_RULE_UNTRACKED))
		got = 3;
	cr_assert_eq(
		got, want,
		"round %d inst %zu dir %d %s proto %d port %d: got %d want %d",
		round, ii, dir, s, proto, port, got, want);
	checked++;
	accepted += want > 0;
	untr += want == 3;
}

static void check_addr(const struct sg_config *cfg, const struct sg_compiled *c,
		       int round, size_t ii, int dir, const char *s)
{
	static const int ports[] = {0,	  1,	22,   25,   80,	  999,	 1000,
				    1500, 2000, 2001, 1023, 1024, 65534, 65535};
	static const int icmps[] = {0,		8 << 8,	    8 << 8 | 1,
				    3 << 8 | 4, 3 << 8 | 1, 128 << 8};
	size_t q;

	for (q = 0; q < sizeof(ports) / sizeof(ports[0]); q++) {
		check_one(cfg, c, round, ii, dir, s, 6, ports[q]);
		check_one(cfg, c, round, ii, dir, s, 17, ports[q]);
	}
	for (q = 0; q < sizeof(icmps) / sizeof(icmps[0]); q++) {
		check_one(cfg, c, round, ii, dir, s, 1, icmps[q]);
		check_one(cfg, c, round, ii, dir, s, 58, icmps[q]);
	}
	check_one(cfg, c, round, ii, dir, s, 47, 0);
	check_one(cfg, c, round, ii, dir, s, 0, 0);
}

Test(random, compiled_equals_model, .timeout = 120)
{
	int round;

	for (round = 0; round < RANDOM_ROUNDS; round++) {
		struct sg_config *cfg = rand_cfg();
		struct sg_compiled c;
		char s[64];
		size_t ii;
		int dir, a;

		compile_ok(cfg, &c);
		for (ii = 0; ii < cfg->ninstances; ii++)
			for (dir = 0; dir < 2; dir++)
				for (a = 0; a < 48; a++) {
					if (a < 32)
						snprintf(s, sizeof(s),
							 "10.0.%d.%d", a / 8,
							 a % 8);
					else if (a < 46)
						snprintf(s, sizeof(s),
							 "2001:db8::%x",
							 a - 32);
					else
						snprintf(s, sizeof(s), "%s",
							 a == 46 ? "192.0.2.1"
								 : "2001:db9::"
								   "1");
					check_addr(cfg, &c, round, ii, dir, s);
				}
		sg_compiled_free(&c);
		cfg_free(cfg);
	}
	cr_log_info("random: %d checks, %d accepted, %d untracked", checked,
		    accepted, untr);
	/* The generator must exercise both verdicts and the flag. */
	cr_expect_gt(accepted, checked / 20);
	cr_expect_lt(accepted, checked);
	cr_expect_gt(untr, 0);
}

/* ---- Through the YAML parser (loader/config/) ---- */

static const char lab_yaml[] =
	"vpc: vpc-lab\n"
	"prefix_lists:\n"
	"  pl-office:\n"
	"    max_entries: 4\n"
	"    entries: [203.0.113.0/28, \"2001:db8:100::/48\"]\n"
	"security_groups:\n"
	"  sg-ssh:\n"
	"    inbound:\n"
	"      - { type: ssh, source: 203.0.113.10/32, description: my "
	"computer }\n"
	"  sg-web:\n"
	"    inbound:\n"
	"      - { type: http, source: [0.0.0.0/0, \"::/0\"] }\n"
	"      - { protocol: tcp, ports: 8080-8089, source: sg-lb }\n"
	"      - { protocol: icmp, icmp_type: 8, source: pl-office }\n"
	"      - { protocol: 6, ports: 9000-9001, source: 10.0.0.0/8 }\n"
	"    outbound:\n"
	"      - { type: postgresql, destination: sg-db }\n"
	"  sg-lb:\n"
	"    inbound: []\n"
	"  sg-db:\n"
	"    inbound:\n"
	"      - { type: postgresql, source: sg-web }\n"
	"    outbound: []\n"
	"instances:\n"
	"  i-web1:\n"
	"    ips: [198.18.1.10, \"2001:db8:1::10\"]\n"
	"    security_groups: [sg-web, sg-ssh]\n"
	"  i-web2:\n"
	"    ips: [198.18.1.11]\n"
	"    security_groups: [sg-ssh, sg-web]\n"
	"  i-lb:\n"
	"    ips: [198.18.0.5]\n"
	"    security_groups: [sg-lb]\n"
	"  i-db1:\n"
	"    ips: [198.18.2.10]\n"
	"    security_groups: [sg-db]\n"
	"  i-plain: { ips: [198.18.9.9] }\n";

Test(yaml, lab)
{
	struct sg_config cfg;
	struct sg_compiled c;
	struct sg_diag d;
	struct sg_rule_val v;
	struct sg_prefix a;
	const struct sg_rule *r;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	sg_diag_init(&d);
	rc = sg_config_parse_string("t.yaml", lab_yaml, strlen(lab_yaml), &cfg,
				    &d);
	if (rc)
		sg_diag_print(&d, stderr);
	cr_assert_eq(rc, 0);
	sg_diag_free(&d);
	compile_ok(&cfg, &c);

	/* i-web1 and i-web2 carry the same groups (other order). */
	cr_expect_eq(c.insts[0].inst.policy, c.insts[1].inst.policy);
	/* sg-web + sg-ssh (default egress): http from anywhere untracked. */
	cr_expect_eq(untracked(&cfg, &c, "i-web1", IN, 6, "192.0.2.7", 80), 1);
	cr_expect_eq(untracked(&cfg, &c, "i-web1", IN, 6, "2001:db8:9::1", 80),
		     1);
	cr_expect_eq(untracked(&cfg, &c, "i-web1", IN, 6, "203.0.113.10", 22),
		     0);
	cr_expect_eq(look(&cfg, &c, "i-web1", IN, 6, "203.0.113.11", 22, NULL),
		     0);
	cr_expect_eq(look(&cfg, &c, "i-web1", IN, 6, "198.18.0.5", 8085, NULL),
		     1);
	cr_expect_eq(look(&cfg, &c, "i-web1", IN, 6, "198.18.0.5", 8090, NULL),
		     0);
	cr_expect_eq(look(&cfg, &c, "i-web1", IN, 6, "10.9.9.9", 9001, NULL),
		     1);
	cr_expect_eq(look(&cfg, &c, "i-web1", IN, 6, "10.9.9.9", 9002, NULL),
		     0);
	cr_expect_eq(
		untracked(&cfg, &c, "i-web1", IN, 1, "203.0.113.1", 8 << 8), 0);
	cr_expect_eq(look(&cfg, &c, "i-web1", IN, 1, "203.0.113.1", 0, NULL),
		     0);
	cr_expect_eq(
		look(&cfg, &c, "i-web1", OUT, 6, "198.18.2.10", 5432, NULL), 1);
	cr_expect_eq(look(&cfg, &c, "i-web1", OUT, 17, "8.8.8.8", 53, NULL), 1);
	/* sg-db: from sg-web members only; nothing outbound. */
	cr_expect_eq(look(&cfg, &c, "i-db1", IN, 6, "198.18.1.11", 5432, NULL),
		     1);
	cr_expect_eq(
		look(&cfg, &c, "i-db1", IN, 6, "2001:db8:1::10", 5432, NULL),
		1);
	cr_expect_eq(look(&cfg, &c, "i-db1", IN, 6, "198.18.0.5", 5432, NULL),
		     0);
	cr_expect_eq(look(&cfg, &c, "i-db1", OUT, 6, "198.18.1.10", 80, NULL),
		     0);
	/* The VPC's default group: inbound from itself, outbound anywhere. */
	cr_expect_eq(look(&cfg, &c, "i-plain", IN, 6, "198.18.9.9", 1, NULL),
		     1);
	cr_expect_eq(look(&cfg, &c, "i-plain", IN, 6, "198.18.1.10", 1, NULL),
		     0);
	cr_expect_eq(look(&cfg, &c, "i-plain", OUT, 6, "192.0.2.1", 1, NULL),
		     1);

	/* rule_ref leads back to the rule as written. */
	a = pfx("203.0.113.10");
	cr_assert_eq(sg_compiled_lookup(&c, c.insts[0].inst.policy, IN, 4,
					a.addr, 6, 22, &v),
		     1);
	cr_assert_lt(v.rule_ref, c.nrule_refs);
	r = &cfg.groups[c.rule_refs[v.rule_ref].group]
		     .rules[c.rule_refs[v.rule_ref].rule];
	cr_expect_str_eq(cfg.groups[c.rule_refs[v.rule_ref].group].id,
			 "sg-ssh");
	cr_expect_eq(r->proto, 6);
	cr_expect_eq(r->port_lo, 22);
	sg_compiled_free(&c);
	sg_config_free(&cfg);
}
