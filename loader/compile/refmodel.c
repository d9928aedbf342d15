// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The reference model (refmodel.h): docs/semantics.md read literally. For a new
 * flow of one instance, every rule of every group the instance carries is
 * tried in turn; the flow is allowed when one of them allows it. No
 * prefixes are merged, no classes built, nothing is shared with compile.c:
 * this is the slow, obviously right answer the datapath is checked against.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "sgctl.h"
#include "compile/compile.h"
#include "compile/refmodel.h"

/* ------------------------------------------------------------ matching */

/* The first len bits of a and b are equal. */
static bool same_bits(const uint8_t *a, const uint8_t *b, int len)
{
	int i;

	for (i = 0; i < len; i++) {
		int byte = i / 8, bit = 7 - i % 8;

		if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
			return false;
	}
	return true;
}

static bool cidr_has(const struct sg_prefix *c, int family, const uint8_t *addr)
{
	return c->family == family && same_bits(c->addr, addr, c->len);
}

static bool instance_carries(const struct sg_instance *in, int group)
{
	size_t k;

	for (k = 0; k < in->ngroups; k++)
		if (in->groups[k] == group)
			return true;
	return false;
}

bool sg_ref_peer_has(const struct sg_config *cfg, const struct sg_rule *r,
		     int family, const uint8_t *addr)
{
	const struct sg_prefix_list *pl;
	size_t i, k;
	int alen = family == 6 ? 16 : 4;

	switch (r->peer_kind) {
	case SG_PEER_CIDR:
		return cidr_has(&r->cidr, family, addr);
	case SG_PEER_PREFIX_LIST:
		if (r->peer_index < 0 ||
		    (size_t)r->peer_index >= cfg->nprefix_lists)
			return false;
		pl = &cfg->prefix_lists[r->peer_index];
		for (i = 0; i < pl->nentries; i++)
			if (cidr_has(&pl->entries[i], family, addr))
				return true;
		return false;
	case SG_PEER_GROUP:
		/* Every configured IP of every instance carrying the group. */
		for (i = 0; i < cfg->ninstances; i++) {
			const struct sg_instance *in = &cfg->instances[i];

			if (!instance_carries(in, r->peer_index))
				continue;
			for (k = 0; k < in->nips; k++)
				if (in->ips[k].family == family &&
				    !memcmp(in->ips[k].addr, addr, alen))
					return true;
		}
		return false;
	}
	return false;
}

bool sg_ref_is_icmp(int family, int proto)
{
	return (family == 4 && proto == SG_PROTO_ICMP) ||
	       (family == 6 && proto == SG_PROTO_ICMPV6);
}

bool sg_ref_is_infra(const struct sg_ref_pkt *p)
{
	if (p->proto == SG_PROTO_UDP && p->family == 4)
		return (p->sport == 67 || p->sport == 68) &&
		       (p->dport == 67 || p->dport == 68);
	if (p->proto == SG_PROTO_UDP && p->family == 6)
		return (p->sport == 546 || p->sport == 547) &&
		       (p->dport == 546 || p->dport == 547);
	if (p->family == 6 && p->proto == SG_PROTO_ICMPV6)
		return p->icmp_type >= 133 && p->icmp_type <= 137;
	return false;
}

unsigned int sg_ref_rule_miss(const struct sg_config *cfg,
			      const struct sg_rule *r,
			      const struct sg_ref_pkt *p)
{
	unsigned int miss = 0;

	if (r->dir != p->dir)
		return SG_REF_MISS_PEER | SG_REF_MISS_PROTO;
	if (!sg_ref_peer_has(cfg, r, p->family, p->remote))
		miss |= SG_REF_MISS_PEER;
	if (r->proto == SG_PROTO_ALL)
		return miss;
	if (r->proto != p->proto)
		return miss | SG_REF_MISS_PROTO;
	if (p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP) {
		int lo = r->port_lo < 0 ? 0 : r->port_lo;
		int hi = r->port_hi < 0 ? 65535 : r->port_hi;

		/* Only the destination port is matched, never the source. */
		if (p->dport < lo || p->dport > hi)
			miss |= SG_REF_MISS_PORT;
	} else if (sg_ref_is_icmp(p->family, p->proto)) {
		if (r->icmp_type != SG_ANY && r->icmp_type != p->icmp_type)
			miss |= SG_REF_MISS_ICMP;
		else if (r->icmp_code != SG_ANY && r->icmp_code != p->icmp_code)
			miss |= SG_REF_MISS_ICMP;
	}
	return miss;
}

/* The rule's peer is the whole address space of this family (a /0). */
static bool peer_is_world(const struct sg_config *cfg, const struct sg_rule *r,
			  int family)
{
	const struct sg_prefix_list *pl;
	size_t i;

	if (r->peer_kind == SG_PEER_CIDR)
		return r->cidr.family == family && r->cidr.len == 0;
	if (r->peer_kind != SG_PEER_PREFIX_LIST || r->peer_index < 0 ||
	    (size_t)r->peer_index >= cfg->nprefix_lists)
		return false;
	pl = &cfg->prefix_lists[r->peer_index];
	for (i = 0; i < pl->nentries; i++)
		if (pl->entries[i].family == family && pl->entries[i].len == 0)
			return true;
	return false;
}

/* Some group of the instance allows all traffic to/from the world in dir. */
static bool dir_open_to_world(const struct sg_config *cfg,
			      const struct sg_instance *in, int dir, int family)
{
	size_t g, k;

	for (g = 0; g < in->ngroups; g++) {
		const struct sg_group *grp = &cfg->groups[in->groups[g]];

		for (k = 0; k < grp->nrules; k++) {
			const struct sg_rule *r = &grp->rules[k];

			if (r->dir == dir && r->proto == SG_PROTO_ALL &&
			    peer_is_world(cfg, r, family))
				return true;
		}
	}
	return false;
}

/*
 * Whether an allowed new flow gets a conntrack entry. Tracked: TCP, UDP,
 * ICMP echo requests and protocols without ports. Not tracked: ICMP other
 * than an echo request (judged by the rules packet by packet), and the
 * untracked flows (docs/semantics.md §3.9): TCP/UDP allowed by a rule whose peer is the whole
 * world, on an instance whose opposite direction allows all traffic
 * to/from the whole world.
 */
static bool would_track(const struct sg_config *cfg,
			const struct sg_instance *in,
			const struct sg_ref_pkt *p, const struct sg_ref_hit *m,
			size_t nm)
{
	size_t i;

	if (sg_ref_is_icmp(p->family, p->proto))
		return p->icmp_type == (p->family == 4 ? 8 : 128);
	if (p->proto != SG_PROTO_TCP && p->proto != SG_PROTO_UDP)
		return true;
	if (!dir_open_to_world(cfg, in, !p->dir, p->family))
		return true;
	for (i = 0; i < nm; i++) {
		const struct sg_rule *r =
			&cfg->groups[m[i].group].rules[m[i].rule];

		if (peer_is_world(cfg, r, p->family))
			return false;
	}
	return true;
}

/*
 * Whether the peer holds any address of this family: a rule whose peer is
 * all IPv6 is no near miss for an IPv4 remote, whatever its ports.
 */
static bool peer_has_family(const struct sg_config *cfg,
			    const struct sg_rule *r, int family)
{
	const struct sg_prefix_list *pl;
	size_t i, k;

	switch (r->peer_kind) {
	case SG_PEER_CIDR:
		return r->cidr.family == family;
	case SG_PEER_PREFIX_LIST:
		if (r->peer_index < 0 ||
		    (size_t)r->peer_index >= cfg->nprefix_lists)
			return false;
		pl = &cfg->prefix_lists[r->peer_index];
		for (i = 0; i < pl->nentries; i++)
			if (pl->entries[i].family == family)
				return true;
		return false;
	case SG_PEER_GROUP:
		for (i = 0; i < cfg->ninstances; i++) {
			const struct sg_instance *in = &cfg->instances[i];

			if (!instance_carries(in, r->peer_index))
				continue;
			for (k = 0; k < in->nips; k++)
				if (in->ips[k].family == family)
					return true;
		}
		return false;
	}
	return false;
}

static int popcount(unsigned int x)
{
	int n = 0;

	for (; x; x &= x - 1)
		n++;
	return n;
}

/*
 * Near misses, best first: fewer misses; then a wrong port (or ICMP type)
 * before a wrong peer before a wrong protocol, the most telling first;
 * then file order.
 */
static int miss_weight(unsigned int miss)
{
	return ((miss & SG_REF_MISS_PEER) ? 1 : 0) +
	       ((miss & SG_REF_MISS_PROTO) ? 2 : 0);
}

static int near_cmp(const void *a, const void *b)
{
	const struct sg_ref_hit *x = a, *y = b;
	int nx = popcount(x->miss), ny = popcount(y->miss);

	if (nx != ny)
		return nx - ny;
	if (miss_weight(x->miss) != miss_weight(y->miss))
		return miss_weight(x->miss) - miss_weight(y->miss);
	if (x->group != y->group)
		return x->group - y->group;
	return x->rule - y->rule;
}

int sg_ref_decide(const struct sg_config *cfg, size_t inst,
		  const struct sg_ref_pkt *p, bool ct_full,
		  struct sg_ref_result *out)
{
	const struct sg_instance *in;
	struct sg_ref_hit *m = NULL, *nr = NULL;
	size_t nm = 0, nn = 0, total = 0, g, k;

	memset(out, 0, sizeof(*out));
	if (inst >= cfg->ninstances || (p->family != 4 && p->family != 6) ||
	    (p->dir != SG_DIR_IN && p->dir != SG_DIR_OUT))
		return -EINVAL;
	in = &cfg->instances[inst];

	if (sg_ref_is_infra(p)) {
		out->accept = true;
		out->reason = SG_REF_INFRA;
		return 0;
	}

	for (g = 0; g < in->ngroups; g++)
		total += cfg->groups[in->groups[g]].nrules;
	m = calloc(total ? total : 1, sizeof(*m));
	nr = calloc(total ? total : 1, sizeof(*nr));
	if (!m || !nr) {
		free(m);
		free(nr);
		return -ENOMEM;
	}

	/* The union of the rules of all the instance's groups. */
	for (g = 0; g < in->ngroups; g++) {
		const struct sg_group *grp = &cfg->groups[in->groups[g]];

		for (k = 0; k < grp->nrules; k++) {
			const struct sg_rule *r = &grp->rules[k];
			struct sg_ref_hit h = {in->groups[g], (int)k, 0};

			if (r->dir != p->dir)
				continue;
			h.miss = sg_ref_rule_miss(cfg, r, p);
			if (!h.miss)
				m[nm++] = h;
			else if (popcount(h.miss) <= 2 &&
				 peer_has_family(cfg, r, p->family))
				nr[nn++] = h;
		}
	}

	if (nm) {
		out->accept = true;
		out->reason = SG_REF_BY_RULE;
		out->tracked = would_track(cfg, in, p, m, nm);
		if (out->tracked && ct_full) {
			out->accept = false;
			out->reason = SG_REF_CT_FULL;
		}
		out->matches = m;
		out->nmatches = nm;
		free(nr);
		return 0;
	}
	free(m);
	out->reason = SG_REF_NO_RULE;
	qsort(nr, nn, sizeof(*nr), near_cmp);
	/* Only the best tier: 1-miss rules if any, else 2-miss ones. */
	for (k = 1; k < nn; k++)
		if (popcount(nr[k].miss) != popcount(nr[0].miss))
			break;
	nn = k < nn ? k : nn;
	if (nn > SG_REF_MAX_NEAR)
		nn = SG_REF_MAX_NEAR;
	out->near = nr;
	out->nnear = nn;
	return 0;
}

void sg_ref_result_free(struct sg_ref_result *r)
{
	free(r->matches);
	free(r->near);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------- wording */

const char *sg_ref_proto_name(int proto, char *buf, size_t len)
{
	if (proto == SG_PROTO_ALL)
		return "all";
	if (sg_proto_name(proto))
		return sg_proto_name(proto);
	snprintf(buf, len, "%d", proto);
	return buf;
}

static void addr_str(int family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

static void rule_ports(const struct sg_rule *r, char *buf, size_t len)
{
	if (r->port_lo < 0 || (r->port_lo == 0 && r->port_hi == 65535))
		snprintf(buf, len, "all ports");
	else if (r->port_lo == r->port_hi)
		snprintf(buf, len, "port %d", r->port_lo);
	else
		snprintf(buf, len, "ports %d-%d", r->port_lo, r->port_hi);
}

static void peer_why(const struct sg_config *cfg, const struct sg_rule *r,
		     const struct sg_ref_pkt *p, char *buf, size_t len)
{
	char a[64], c[64];
	const char *fam = p->family == 6 ? "IPv6" : "IPv4";

	addr_str(p->family, p->remote, a, sizeof(a));
	switch (r->peer_kind) {
	case SG_PEER_CIDR:
		if (r->cidr.family != p->family)
			snprintf(buf, len, "%s is %s, the rule's %s is %s", a,
				 fam,
				 p->dir == SG_DIR_IN ? "source" : "destination",
				 sg_prefix_str(&r->cidr, c, sizeof(c)));
		else
			snprintf(buf, len, "%s is not in %s", a,
				 sg_prefix_str(&r->cidr, c, sizeof(c)));
		return;
	case SG_PEER_PREFIX_LIST:
		snprintf(buf, len, "%s is in no entry of prefix list %s", a,
			 r->peer_text);
		return;
	case SG_PEER_GROUP:
		snprintf(buf, len,
			 "%s is not an address of any instance carrying %s", a,
			 r->peer_index >= 0 &&
					 (size_t)r->peer_index < cfg->ngroups
				 ? cfg->groups[r->peer_index].id
				 : r->peer_text);
		return;
	}
	snprintf(buf, len, "%s is not in %s", a, r->peer_text);
}

void sg_ref_explain_miss(const struct sg_config *cfg, const struct sg_rule *r,
			 const struct sg_ref_pkt *p, unsigned int miss,
			 char *buf, size_t len)
{
	const char *peer_word = p->dir == SG_DIR_IN ? "source" : "destination";
	char b1[16], b2[16], ports[48], why[256];
	size_t n = 0;

	buf[0] = '\0';
#define ADD(...)                                                               \
	do {                                                                   \
		if (n < len)                                                   \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);  \
	} while (0)

	if (!(miss & SG_REF_MISS_PEER))
		ADD("right %s", peer_word);
	if (!(miss &
	      (SG_REF_MISS_PROTO | SG_REF_MISS_PORT | SG_REF_MISS_ICMP))) {
		if (p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP)
			ADD("%sright protocol and port", n ? ", " : "");
		else
			ADD("%sright protocol", n ? ", " : "");
	} else if (!(miss & SG_REF_MISS_PROTO)) {
		ADD("%sright protocol", n ? ", " : "");
	}
	if (miss & SG_REF_MISS_PEER) {
		peer_why(cfg, r, p, why, sizeof(why));
		ADD("%swrong %s (%s)", n ? ", " : "", peer_word, why);
	}
	if (miss & SG_REF_MISS_PROTO)
		ADD("%swrong protocol (the rule allows %s, not %s)",
		    n ? ", " : "", sg_ref_proto_name(r->proto, b1, sizeof(b1)),
		    sg_ref_proto_name(p->proto, b2, sizeof(b2)));
	if (miss & SG_REF_MISS_PORT) {
		rule_ports(r, ports, sizeof(ports));
		ADD("%swrong port (the rule allows %s, not %d)", n ? ", " : "",
		    ports, p->dport);
	}
	if (miss & SG_REF_MISS_ICMP) {
		if (r->icmp_code == SG_ANY)
			snprintf(ports, sizeof(ports), "type %d", r->icmp_type);
		else
			snprintf(ports, sizeof(ports), "type %d code %d",
				 r->icmp_type, r->icmp_code);
		ADD("%swrong ICMP type (the rule allows %s, not type %d code "
		    "%d)",
		    n ? ", " : "", ports, p->icmp_type, p->icmp_code);
	}
#undef ADD
}

const char *sg_counter_name(int counter)
{
	static const char *const names[SG_NCOUNTERS] = {
#define SG_CNT_NAME_(id, kind, name, reason, label) [SG_CNT_##id] = name,
		SG_COUNTERS(SG_CNT_NAME_)
#undef SG_CNT_NAME_
	};

	if (counter < 0 || counter >= SG_NCOUNTERS)
		return "unknown";
	return names[counter];
}

/*
 * Whether the kernel's verdict is the model's. why gets the difference.
 * The kernel reports one rule (the LPM's pick); it must be one of the
 * rules the model found.
 */
bool sg_check_agree(const struct sg_compiled *c, const struct sg_ref_result *m,
		    const struct sg_kverdict *k, char *why, size_t len)
{
	bool ok = false;

	why[0] = '\0';
	switch (k->counter) {
	case SG_CNT_ACCEPT_NEW:
		ok = m->accept && m->reason == SG_REF_BY_RULE && m->tracked;
		break;
	case SG_CNT_ACCEPT_UNTRACKED:
		ok = m->accept && m->reason == SG_REF_BY_RULE && !m->tracked;
		break;
	case SG_CNT_PASS_INFRA:
		ok = m->accept && m->reason == SG_REF_INFRA;
		break;
	case SG_CNT_DROP_NO_RULE:
	case SG_CNT_AUDIT_WOULD_DROP: /* no rule; audited, so it passes */
		ok = !m->accept && m->reason == SG_REF_NO_RULE;
		break;
	case SG_CNT_DROP_CT_FULL:
		ok = !m->accept && m->reason == SG_REF_CT_FULL;
		break;
	default:
		break;
	}
	if (!ok) {
		snprintf(why, len, "kernel: %s; model: %s%s",
			 sg_counter_name(k->counter),
			 m->accept ? "ACCEPT" : "REJECT",
			 m->reason == SG_REF_BY_RULE
				 ? (m->tracked ? " (by a rule, tracked)"
					       : " (by a rule, untracked)")
			 : m->reason == SG_REF_INFRA ? " (never filtered)"
			 : m->reason == SG_REF_CT_FULL
				 ? " (conntrack table full)"
				 : " (no rule)");
		return false;
	}
	if (m->reason == SG_REF_BY_RULE || m->reason == SG_REF_CT_FULL) {
		const struct sg_rule_ref *rr;

		if (!k->matched || k->rule_ref >= c->nrule_refs) {
			snprintf(why, len,
				 "kernel matched no valid rule (rule_ref %u "
				 "of %zu)",
				 k->rule_ref, c->nrule_refs);
			return false;
		}
		rr = &c->rule_refs[k->rule_ref];
		for (size_t i = 0; i < m->nmatches; i++)
			if (m->matches[i].group == rr->group &&
			    m->matches[i].rule == rr->rule)
				return true;
		snprintf(why, len,
			 "kernel allowed it by rule_ref %u (group %d rule %d), "
			 "which the model says does not match",
			 k->rule_ref, rr->group, rr->rule);
		return false;
	}
	return true;
}

void sg_ref_local_addr(const struct sg_instance *in, int family,
		       uint8_t out[16])
{
	memset(out, 0, 16);
	for (size_t i = 0; i < in->nips; i++)
		if (in->ips[i].family == family) {
			memcpy(out, in->ips[i].addr, 16);
			return;
		}
	/* None: any address will do, the policy never looks at it. */
	if (family == 4)
		inet_pton(AF_INET, "192.0.2.1", out);
	else
		inet_pton(AF_INET6, "2001:db8::1", out);
}

/* ---------------------------------------------------- the first frame */

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

size_t sg_ref_frame(const struct sg_ref_pkt *p, const uint8_t *local,
		    uint8_t *f, size_t cap)
{
	const uint8_t *src = p->dir == SG_DIR_IN ? p->remote : local;
	const uint8_t *dst = p->dir == SG_DIR_IN ? local : p->remote;
	size_t l3 = 14, ihl = p->family == 6 ? 40 : 20, l4len;
	uint8_t *ip = f + l3, *l4 = f + l3 + ihl;

	memset(f, 0, cap);
	/* locally administered MACs */
	f[0] = 0x02;
	f[5] = 0x01;
	f[6] = 0x02;
	f[11] = 0x02;
	put16(f + 12, p->family == 6 ? 0x86dd : 0x0800);

	if (p->proto == SG_PROTO_TCP) {
		put16(l4, (unsigned int)p->sport);
		put16(l4 + 2, (unsigned int)p->dport);
		l4[7] = 1; /* seq */
		l4[12] = 5 << 4;
		l4[13] = 0x02; /* SYN: the first packet of a new flow */
		put16(l4 + 14, 64240);
		l4len = 20;
	} else if (p->proto == SG_PROTO_UDP) {
		put16(l4, (unsigned int)p->sport);
		put16(l4 + 2, (unsigned int)p->dport);
		put16(l4 + 4, 8 + 16);
		l4len = 8 + 16;
	} else if (sg_ref_is_icmp(p->family, p->proto)) {
		l4[0] = (__u8)p->icmp_type;
		l4[1] = (__u8)p->icmp_code;
		put16(l4 + 4, (unsigned int)p->sport); /* echo id */
		put16(l4 + 6, 1);
		l4len = 8 + 16;
	} else {
		l4len = 16; /* some payload of an unknown protocol */
	}
	if (p->family == 6) {
		ip[0] = 0x60;
		put16(ip + 4, (unsigned int)l4len);
		ip[6] = (__u8)p->proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (unsigned int)(20 + l4len));
		put16(ip + 4, 1);
		put16(ip + 6, 0x4000); /* DF, not a fragment */
		ip[8] = 64;
		ip[9] = (__u8)p->proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
	}
	/* at least 60 bytes, as on the wire */
	return l3 + ihl + l4len < 60 ? 60 : l3 + ihl + l4len;
}
