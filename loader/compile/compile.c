// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The compiler: config model -> map entries. See compile.h for the shape and
 * docs/design.md for why two lookups suffice.
 *
 * For each (policy, direction, family) every peer prefix of every rule of
 * the policy's groups is collected, sorted by (address, length) and walked
 * with a stack: sorted that way a prefix follows all its ancestors, so the
 * stack always holds the chain of prefixes containing the current one, and
 * the rule set covering a prefix is its own rules plus the top's set. Equal
 * sets share a class (hash table); stage-2 entries are emitted once per
 * class, when it is first seen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"

#define MAX_POLICIES SG_SCOPE_POLICY_MASK /* the policy bits of a scope */

/* One peer prefix of one rule, before the trie walk. */
struct pitem {
	__u8 addr[16];
	__u32 ref;
	__u8 len;
};

/* A class: its sorted rule-ref set lives in cc.pool[off, off + len). */
struct cls {
	size_t off;
	__u32 len;
	__u32 hash;
	__u8 ctx;  /* 0, or the family whose untracked flags it carries */
	__u8 xfam; /* 0, or the family of its cross-family ICMP rules */
	__u32 id;  /* its class id (stable against prev: assign_class_id) */
};

/* A class of the previous compile: its stage-2 entries' content. */
struct prev_cls {
	__u64 hash;
	__u32 id;
	size_t start, len; /* in prev->rules */
};

/* Stack frame of the trie walk: a prefix and its covering set in scratch. */
struct frame {
	__u8 addr[16];
	__u8 len;
	size_t off;
	size_t n;
};

/* A stage-2 key before deduplication. */
struct s2 {
	struct sg_rule_key key;
	__u32 ref;
};

struct cc {
	const struct sg_config *cfg;
	struct sg_compiled *out;
	struct sg_diag *diag;
	size_t pol_cap, cls_ent_cap, rule_ent_cap;

	__u32 *ref_base; /* per group: ref of its rule 0 */
	__u8 *ref_elig; /* per ref: bit f (0 = v4, 1 = v6) untracked-eligible */
	__u8 *group_open; /* per group: bit dir * 2 + f, all traffic with /0 */
	size_t *pol_inst; /* per policy: its first instance (for messages) */
	size_t pol_inst_cap;

	/* Member addresses of each group, per family: CSR over groups. */
	size_t *mstart[2];
	const __u8 **maddr[2];

	struct pitem *items;
	size_t nitems, items_cap;
	__u32 *scratch;
	size_t scratch_cap;

	struct cls *cls;
	size_t ncls, cls_cap;
	__u32 *ctab; /* class index + 1, 0 = empty; open addressing */
	size_t ctab_size;
	__u32 *pool;
	size_t npool, pool_cap;

	struct s2 *tmp;
	size_t ntmp, tmp_cap;
	__u32 *elig;
	size_t elig_cap;

	/* Stable ids (sg_compile_prev): prev's classes by content, which of
	 * prev's class ids exist and which are given out again already, and
	 * the next id to try for a new class. */
	const struct sg_compiled *prev;
	struct prev_cls *pcls;
	size_t npcls;
	__u8 *prev_id; /* [nprev_id]: bit 0 prev uses it, bit 1 taken */
	size_t nprev_id;
	__u32 next_class;
};

static int grow(void *arrp, size_t *cap, size_t need, size_t size)
{
	void **arr = arrp;
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static __u32 hash_words(__u64 seed, const __u32 *v, size_t n)
{
	__u64 h = 0x9e3779b97f4a7c15ULL ^ seed ^ ((__u64)n << 32);
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= v[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	h *= 0xc4ceb9fe1a85ec53ULL;
	return (__u32)(h ^ (h >> 29));
}

static __u64 mix64(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

/* FNV-1a of a string, then mixed: a group id's part of a policy key. */
static __u64 str_hash64(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return mix64(h, 0x9e3779b97f4a7c15ULL);
}

static bool bits_eq(const __u8 *a, const __u8 *b, unsigned int bits)
{
	unsigned int full = bits / 8, rem = bits % 8;
	__u8 m;

	if (memcmp(a, b, full))
		return false;
	if (!rem)
		return true;
	m = (__u8)(0xff << (8 - rem));
	return !((a[full] ^ b[full]) & m);
}

static void mask_addr(__u8 *addr, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		addr[i] &= (__u8)(0xff << (8 - len));
		len = 0;
	}
}

static struct sg_pos nopos(void)
{
	struct sg_pos p = {0};
	return p;
}

static int too_big(struct cc *cc, struct sg_pos pos, const char *what,
		   unsigned long max)
{
	if (cc->diag)
		sg_error(cc->diag, pos, NULL,
			 "policy too large: more than %lu %s (fewer group "
			 "references, members or rules needed)",
			 max, what);
	return -E2BIG;
}

/* ---- Policies and instances ---- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return (x > y) - (x < y);
}

/* A policy's identity across configs: its set of group ids (indices move
 * when a group is added or removed). Never 0 (0 marks an unused id). */
static __u64 policy_key(const struct sg_config *cfg, const int *g, size_t ng)
{
	__u64 hs[64], *v = ng <= 64 ? hs : malloc(ng * sizeof(*v));
	__u64 h = 0x6a09e667f3bcc909ULL ^ ng;

	if (!v)
		return 1; /* out of memory: a key that matches nothing */
	for (size_t i = 0; i < ng; i++)
		v[i] = str_hash64(cfg->groups[g[i]].id);
	qsort(v, ng, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < ng; i++)
		h = mix64(h, v[i]);
	if (v != hs)
		free(v);
	return h ? h : 1;
}

struct key_id {
	__u64 key; /* first: cmp_u64 compares it */
	__u32 id;
};

static int cmp_key_id(const void *a, const void *b)
{
	const struct key_id *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/*
 * Policy ids stable against cc->prev: a policy with the group ids of one
 * of prev's keeps its id; a new one gets the lowest id prev does not use.
 * The policies array is then indexed by id, with holes (key 0) where prev
 * had a policy this config no longer has.
 */
static int assign_policy_ids(struct cc *cc)
{
	const struct sg_compiled *prev = cc->prev;
	struct sg_compiled *out = cc->out;
	size_t n = out->npolicies, nprev = prev ? prev->npolicies : 0, np = 0;
	size_t max = 0, next = 0;
	struct key_id *pk = NULL;
	struct sg_policy *pol = NULL;
	__u32 *id = NULL;
	size_t *pin = NULL;
	__u8 *st = NULL;
	int err = -ENOMEM;

	if (!nprev)
		return 0; /* dense, in the order of first use */
	pk = calloc(nprev, sizeof(*pk));
	st = calloc(nprev + n + 1, 1); /* bit 0: prev uses it, bit 1: taken */
	id = calloc(n ? n : 1, sizeof(*id));
	if (!pk || !st || !id)
		goto out;
	for (size_t i = 0; i < nprev; i++) {
		if (!prev->policies[i].key)
			continue;
		pk[np].key = prev->policies[i].key;
		pk[np++].id = (__u32)i;
		st[i] |= 1;
	}
	qsort(pk, np, sizeof(*pk), cmp_key_id);
	for (size_t i = 0; i < n; i++) {
		struct key_id k = {.key = out->policies[i].key}, *hit;

		hit = bsearch(&k, pk, np, sizeof(*pk), cmp_u64);
		if (hit && !(st[hit->id] & 2)) {
			id[i] = hit->id;
			st[hit->id] |= 2;
		} else {
			while (next < nprev && (st[next] & 1))
				next++;
			id[i] = (__u32)next++;
		}
		if (id[i] >= MAX_POLICIES) {
			err = too_big(cc, cc->cfg->instances[cc->pol_inst[i]].pos,
				      "policies", MAX_POLICIES);
			goto out;
		}
		if (id[i] + 1 > max)
			max = id[i] + 1;
	}
	pol = calloc(max ? max : 1, sizeof(*pol));
	pin = calloc(max ? max : 1, sizeof(*pin));
	if (!pol || !pin)
		goto out;
	for (size_t i = 0; i < n; i++) {
		pol[id[i]] = out->policies[i];
		pin[id[i]] = cc->pol_inst[i];
	}
	for (size_t i = 0; i < out->ninsts; i++)
		if (!cc->cfg->instances[i].remote)
			out->insts[i].inst.policy =
				id[out->insts[i].inst.policy];
	free(out->policies);
	free(cc->pol_inst);
	out->policies = pol;
	out->npolicies = max;
	cc->pol_cap = cc->pol_inst_cap = max;
	cc->pol_inst = pin;
	pol = NULL;
	pin = NULL;
	err = 0;
out:
	free(pk);
	free(st);
	free(id);
	free(pol);
	free(pin);
	return err;
}

static int build_policies(struct cc *cc)
{
	const struct sg_config *cfg = cc->cfg;
	struct sg_compiled *out = cc->out;
	size_t n = cfg->ninstances, tsize = 16, i, j;
	__u32 *tab;
	int err = 0;

	while (tsize < 2 * n)
		tsize *= 2;
	tab = calloc(tsize, sizeof(*tab));
	out->insts = calloc(n ? n : 1, sizeof(*out->insts));
	if (!tab || !out->insts) {
		free(tab);
		return -ENOMEM;
	}
	out->ninsts = n;

	for (i = 0; i < n; i++) {
		const struct sg_instance *in = &cfg->instances[i];
		struct sg_inst_entry *e = &out->insts[i];
		size_t ng = 0, idx, p;
		__u32 h;
		int *g;

		/* A remote instance only lends its addresses (build_members). */
		if (in->remote)
			continue;
		g = malloc((in->ngroups ? in->ngroups : 1) * sizeof(*g));
		if (!g) {
			err = -ENOMEM;
			break;
		}
		if (in->ngroups)
			memcpy(g, in->groups, in->ngroups * sizeof(*g));
		qsort(g, in->ngroups, sizeof(*g), cmp_int);
		for (j = 0; j < in->ngroups; j++)
			if (!ng || g[ng - 1] != g[j])
				g[ng++] = g[j];

		h = hash_words(0, (const __u32 *)g, ng);
		for (idx = h & (tsize - 1); tab[idx];
		     idx = (idx + 1) & (tsize - 1)) {
			const struct sg_policy *pol =
				&out->policies[tab[idx] - 1];

			if (pol->ngroups == ng &&
			    !memcmp(pol->groups, g, ng * sizeof(*g)))
				break;
		}
		if (tab[idx]) {
			p = tab[idx] - 1;
			free(g);
		} else {
			p = out->npolicies;
			if (p >= MAX_POLICIES) {
				free(g);
				err = too_big(cc, in->pos, "policies",
					      MAX_POLICIES);
				break;
			}
			if (grow(&out->policies, &cc->pol_cap, p + 1,
				 sizeof(*out->policies)) ||
			    grow(&cc->pol_inst, &cc->pol_inst_cap, p + 1,
				 sizeof(*cc->pol_inst))) {
				free(g);
				err = -ENOMEM;
				break;
			}
			out->policies[p].groups = g;
			out->policies[p].ngroups = ng;
			out->policies[p].key = policy_key(cc->cfg, g, ng);
			cc->pol_inst[p] = i;
			out->npolicies++;
			tab[idx] = (__u32)p + 1;
		}

		e->inst.flags =
			SG_INST_PRESENT |
			(in->source_dest_check ? SG_INST_SOURCE_CHECK : 0);
		/* Audited if the instance or any of its groups is. */
		for (size_t ag = 0; ag <= in->ngroups; ag++)
			if (ag < in->ngroups ? cfg->groups[in->groups[ag]].audit
					     : in->audit)
				e->inst.flags |= SG_INST_AUDIT;
		e->inst.policy = (__u32)p;
		e->inst.tcp_established = in->ct.tcp_established;
		e->inst.udp_stream = in->ct.udp_stream;
		e->inst.udp = in->ct.udp;
		e->inst.ct_max = in->ct.max_entries;
		e->ips = calloc(in->nips ? in->nips : 1, sizeof(*e->ips));
		if (!e->ips) {
			err = -ENOMEM;
			break;
		}
		e->nips = in->nips;
		for (j = 0; j < in->nips; j++) {
			e->ips[j].family = in->ips[j].family;
			memcpy(e->ips[j].addr, in->ips[j].addr,
			       in->ips[j].family == 6 ? 16 : 4);
		}
	}
	free(tab);
	return err;
}

/* ---- Rule refs, untracked eligibility, group members ---- */

/* Bit f set when the rule's peer is exactly 0.0.0.0/0 (f = 0) or ::/0. */
static __u8 peer_any(const struct sg_config *cfg, const struct sg_rule *r)
{
	const struct sg_prefix_list *pl;
	__u8 bits = 0;
	size_t i;

	switch (r->peer_kind) {
	case SG_PEER_CIDR:
		if (r->cidr.len == 0)
			bits |= r->cidr.family == 6 ? 2 : 1;
		break;
	case SG_PEER_PREFIX_LIST:
		if (r->peer_index < 0 ||
		    (size_t)r->peer_index >= cfg->nprefix_lists)
			break;
		pl = &cfg->prefix_lists[r->peer_index];
		for (i = 0; i < pl->nentries; i++)
			if (pl->entries[i].len == 0)
				bits |= pl->entries[i].family == 6 ? 2 : 1;
		break;
	case SG_PEER_GROUP:
		break;
	}
	return bits;
}

static int build_refs(struct cc *cc)
{
	const struct sg_config *cfg = cc->cfg;
	struct sg_compiled *out = cc->out;
	size_t g, r, total = 0;

	cc->ref_base = malloc((cfg->ngroups ? cfg->ngroups : 1) *
			      sizeof(*cc->ref_base));
	cc->group_open = calloc(cfg->ngroups ? cfg->ngroups : 1, 1);
	if (!cc->ref_base || !cc->group_open)
		return -ENOMEM;

	/*
	 * Refs in model order over every group, so "the first rule_ref" is
	 * the first rule and a ref means the same rule whichever instances
	 * a host compiles (check reads refs back without compiling).
	 */
	for (g = 0; g < cfg->ngroups; g++) {
		cc->ref_base[g] = (__u32)total;
		total += cfg->groups[g].nrules;
	}
	out->rule_refs = malloc((total ? total : 1) * sizeof(*out->rule_refs));
	cc->ref_elig = calloc(total ? total : 1, 1);
	if (!out->rule_refs || !cc->ref_elig)
		return -ENOMEM;
	out->nrule_refs = total;

	for (g = 0; g < cfg->ngroups; g++) {
		const struct sg_group *grp = &cfg->groups[g];

		for (r = 0; r < grp->nrules; r++) {
			const struct sg_rule *rule = &grp->rules[r];
			__u32 ref = cc->ref_base[g] + (__u32)r;
			__u8 any = peer_any(cfg, rule);

			out->rule_refs[ref].group = (int)g;
			out->rule_refs[ref].rule = (int)r;
			if (rule->proto == SG_PROTO_ALL || rule->proto == SG_PROTO_TCP ||
			    rule->proto == SG_PROTO_UDP)
				cc->ref_elig[ref] = any;
			if (rule->proto == SG_PROTO_ALL)
				cc->group_open[g] |=
					(__u8)(any << (rule->dir * 2));
		}
	}
	return 0;
}

static int build_members(struct cc *cc)
{
	const struct sg_config *cfg = cc->cfg;
	size_t ng = cfg->ngroups, i, j, k;
	int f;

	for (f = 0; f < 2; f++) {
		size_t *start = calloc(ng + 2, sizeof(*start));
		const __u8 **addr;

		if (!start)
			return -ENOMEM;
		cc->mstart[f] = start;
		/* Count in start[g + 2], sum, fill through start[g + 1]. */
		for (i = 0; i < cfg->ninstances; i++) {
			const struct sg_instance *in = &cfg->instances[i];
			size_t nip = 0;

			for (j = 0; j < in->nips; j++)
				nip += (in->ips[j].family == 6) == f;
			for (k = 0; k < in->ngroups; k++)
				if (in->groups[k] >= 0 &&
				    (size_t)in->groups[k] < ng)
					start[in->groups[k] + 2] += nip;
		}
		for (k = 2; k < ng + 2; k++)
			start[k] += start[k - 1];
		addr = malloc((start[ng + 1] ? start[ng + 1] : 1) *
			      sizeof(*addr));
		if (!addr)
			return -ENOMEM;
		cc->maddr[f] = addr;
		for (i = 0; i < cfg->ninstances; i++) {
			const struct sg_instance *in = &cfg->instances[i];

			for (k = 0; k < in->ngroups; k++) {
				int g = in->groups[k];

				if (g < 0 || (size_t)g >= ng)
					continue;
				for (j = 0; j < in->nips; j++)
					if ((in->ips[j].family == 6) == f)
						addr[start[g + 1]++] =
							in->ips[j].addr;
			}
		}
		/* start[g] .. start[g + 1] is now group g's range. */
	}
	return 0;
}

/* ---- Stage 2 ---- */

static int push_key(struct cc *cc, __u32 ref, int plen, int proto, __u16 port)
{
	struct s2 *e;

	if (grow(&cc->tmp, &cc->tmp_cap, cc->ntmp + 1, sizeof(*cc->tmp)))
		return -ENOMEM;
	e = &cc->tmp[cc->ntmp++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = (__u32)plen;
	e->key.proto = (__u8)proto;
	e->key.port = htons(port);
	e->ref = ref;
	return 0;
}

static void rule_ports(const struct sg_rule *r, __u32 *lo, __u32 *hi)
{
	*lo = r->port_lo >= 0 ? (__u32)r->port_lo : 0;
	*hi = r->port_hi >= 0 ? (__u32)r->port_hi : 65535;
	if (*hi > 65535)
		*hi = 65535;
}

/*
 * The stage-2 keys of one rule. all_untracked: the rule is all traffic with
 * a /0 peer in an untracked context. All traffic is one prefixlen-32 entry,
 * which also covers ICMP and ICMP must stay tracked, so that entry keeps no
 * flag and explicit TCP and UDP entries (more specific) carry it instead.
 */
/*
 * An ICMP rule meeting the other family's packets: protocol 1 in IPv6 or
 * 58 in IPv4 is only a protocol number there (the datapath reads no type
 * or code: it looks up port 0), so its type and code do not apply, as in
 * the reference model. Such classes are built per family (cls.xfam).
 */
static bool icmp_cross(const struct sg_rule *r, __u8 fam)
{
	return (r->proto == SG_PROTO_ICMP && fam == 6) ||
	       (r->proto == SG_PROTO_ICMPV6 && fam == 4);
}

static int rule_keys(struct cc *cc, const struct sg_rule *r, __u32 ref,
		     bool all_untracked, __u8 xfam)
{
	__u16 values[32];
	__u8 bits[32];
	__u32 lo, hi;
	int n, i, err;

	switch (r->proto) {
	case SG_PROTO_ALL:
		err = push_key(cc, ref, SG_RULE_PLEN_ALL, 0, 0);
		if (!err && all_untracked)
			err = push_key(cc, ref, SG_RULE_PLEN_PROTO, 6, 0);
		if (!err && all_untracked)
			err = push_key(cc, ref, SG_RULE_PLEN_PROTO, 17, 0);
		return err;
	case SG_PROTO_TCP:
	case SG_PROTO_UDP:
		rule_ports(r, &lo, &hi);
		if (lo > hi)
			return 0; /* empty range: matches nothing */
		n = sg_port_range_prefixes((__u16)lo, (__u16)hi, values, bits,
					   32);
		for (i = 0; i < n; i++) {
			err = push_key(cc, ref, SG_RULE_PLEN_PROTO + bits[i],
				       r->proto, values[i]);
			if (err)
				return err;
		}
		return 0;
	case SG_PROTO_ICMP:
	case SG_PROTO_ICMPV6:
		if (r->icmp_type < 0 || r->icmp_type > 255 ||
		    icmp_cross(r, xfam))
			return push_key(cc, ref, SG_RULE_PLEN_PROTO, r->proto,
					0);
		if (r->icmp_code < 0 || r->icmp_code > 255)
			return push_key(cc, ref, SG_RULE_PLEN_PROTO + 8,
					r->proto, (__u16)(r->icmp_type << 8));
		return push_key(cc, ref, SG_RULE_PLEN_PROTO + 16, r->proto,
				(__u16)(r->icmp_type << 8 | r->icmp_code));
	default:
		/* Ports do not apply: the protocol alone. */
		return push_key(cc, ref, SG_RULE_PLEN_PROTO, r->proto, 0);
	}
}

static int cmp_s2(const void *a, const void *b)
{
	const struct s2 *x = a, *y = b;
	__u16 px = ntohs(x->key.port), py = ntohs(y->key.port);

	if (x->key.prefixlen != y->key.prefixlen)
		return x->key.prefixlen < y->key.prefixlen ? -1 : 1;
	if (x->key.proto != y->key.proto)
		return x->key.proto < y->key.proto ? -1 : 1;
	if (px != py)
		return px < py ? -1 : 1;
	return (x->ref > y->ref) - (x->ref < y->ref);
}

static const struct sg_rule *ref_rule(const struct cc *cc, __u32 ref)
{
	const struct sg_rule_ref *rr = &cc->out->rule_refs[ref];

	return &cc->cfg->groups[rr->group].rules[rr->rule];
}

/* Does untracked-eligible rule r cover the whole of stage-2 key k? */
static bool covers(const struct sg_rule *r, const struct sg_rule_key *k)
{
	__u32 lo, hi, klo, khi;

	if (r->proto == SG_PROTO_ALL)
		return true;
	if (r->proto != k->proto)
		return false;
	rule_ports(r, &lo, &hi);
	klo = ntohs(k->port);
	khi = klo + (1u << (16 - (k->prefixlen - SG_RULE_PLEN_PROTO))) - 1;
	return lo <= klo && khi <= hi;
}

/*
 * Stage-2 entries of a new class. ctx != 0: the policy's opposite direction
 * is open to the world in family ctx, so TCP/UDP entries covered by a rule
 * with a /0 peer are untracked. An entry is flagged when an eligible rule
 * covers it entirely: the LPM then picks it (or a more specific entry, also
 * covered) for every port that rule allows.
 */
static int emit_rules(struct cc *cc, __u32 id, __u8 ctx, __u8 xfam,
		      const __u32 *set, size_t n, struct sg_pos pos)
{
	struct sg_compiled *out = cc->out;
	__u8 fbit = ctx == 6 ? 2 : 1;
	size_t i, j, k, nelig = 0;
	int err;

	if (grow(&cc->elig, &cc->elig_cap, n, sizeof(*cc->elig)))
		return -ENOMEM;
	cc->ntmp = 0;
	for (i = 0; i < n; i++) {
		const struct sg_rule *r = ref_rule(cc, set[i]);
		bool elig = ctx && (cc->ref_elig[set[i]] & fbit);

		if (elig)
			cc->elig[nelig++] = set[i];
		err = rule_keys(cc, r, set[i], elig && r->proto == SG_PROTO_ALL,
				xfam);
		if (err)
			return err;
	}
	qsort(cc->tmp, cc->ntmp, sizeof(*cc->tmp), cmp_s2);

	for (i = 0; i < cc->ntmp; i = j) {
		struct sg_rule_entry *e;
		struct sg_rule_key *key = &cc->tmp[i].key;

		/* Equal keys are adjacent; the first has the lowest ref. */
		for (j = i + 1; j < cc->ntmp &&
				!memcmp(&cc->tmp[j].key, key, sizeof(*key));
		     j++)
			;
		if (out->nrules_entries >= SG_RULE_MAX_ENTRIES)
			return too_big(cc, pos, "protocol/port entries",
				       SG_RULE_MAX_ENTRIES);
		if (grow(&out->rules, &cc->rule_ent_cap,
			 out->nrules_entries + 1, sizeof(*out->rules)))
			return -ENOMEM;
		e = &out->rules[out->nrules_entries++];
		e->key = *key;
		e->key.class_id = id;
		e->val.rule_ref = cc->tmp[i].ref;
		e->val.flags = 0;
		/* Hits are counted by rule id: they outlive reloads. */
		e->val.rule_key = sg_rule_key_of(ref_rule(cc, e->val.rule_ref)->id);
		if (key->prefixlen >= SG_RULE_PLEN_PROTO &&
		    (key->proto == SG_PROTO_TCP || key->proto == SG_PROTO_UDP))
			for (k = 0; k < nelig; k++)
				if (covers(ref_rule(cc, cc->elig[k]), key)) {
					e->val.flags |= SG_RULE_UNTRACKED;
					break;
				}
	}
	return 0;
}

/* ---- Classes ---- */

static void ctab_insert(struct cc *cc, __u32 idx)
{
	size_t mask = cc->ctab_size - 1, s;

	for (s = cc->cls[idx].hash & mask; cc->ctab[s]; s = (s + 1) & mask)
		;
	cc->ctab[s] = idx + 1;
}

static int ctab_grow(struct cc *cc)
{
	size_t nsize = cc->ctab_size ? cc->ctab_size * 2 : 1024, i;

	free(cc->ctab);
	cc->ctab = calloc(nsize, sizeof(*cc->ctab));
	if (!cc->ctab)
		return -ENOMEM;
	cc->ctab_size = nsize;
	for (i = 0; i < cc->ncls; i++)
		ctab_insert(cc, (__u32)i);
	return 0;
}

/* Stage-2 entries equal but for their class id. */
static bool rule_entry_eq(const struct sg_rule_entry *a,
			  const struct sg_rule_entry *b)
{
	struct sg_rule_key k = b->key;

	k.class_id = a->key.class_id;
	return !memcmp(&a->key, &k, sizeof(k)) &&
	       !memcmp(&a->val, &b->val, sizeof(a->val));
}

/* The content of a class: its stage-2 entries, class ids left out. */
static __u64 rules_hash(const struct sg_rule_entry *e, size_t n)
{
	__u64 h = 0x510e527fade682d1ULL ^ n;

	for (size_t i = 0; i < n; i++) {
		struct sg_rule_entry x = e[i];
		__u32 w[sizeof(x) / 4];

		x.key.class_id = 0;
		memcpy(w, &x, sizeof(w));
		for (size_t k = 0; k < sizeof(w) / 4; k++)
			h = mix64(h, w[k]);
	}
	return h;
}

static int cmp_prev_cls(const void *a, const void *b)
{
	const struct prev_cls *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* prev's classes by content, and which class ids it uses. */
static int index_prev_classes(struct cc *cc)
{
	const struct sg_compiled *prev = cc->prev;
	__u32 max = 0;

	cc->next_class = 1;
	if (!prev)
		return 0;
	for (size_t i = 0; i < prev->nclasses_entries; i++)
		if (prev->classes[i].val.class_id > max)
			max = prev->classes[i].val.class_id;
	for (size_t i = 0; i < prev->nrules_entries; i++)
		if (prev->rules[i].key.class_id > max)
			max = prev->rules[i].key.class_id;
	cc->nprev_id = (size_t)max + 1;
	cc->prev_id = calloc(cc->nprev_id, 1);
	cc->pcls = calloc(prev->nrules_entries ? prev->nrules_entries : 1,
			  sizeof(*cc->pcls));
	if (!cc->prev_id || !cc->pcls)
		return -ENOMEM;
	for (size_t i = 0; i < prev->nclasses_entries; i++)
		cc->prev_id[prev->classes[i].val.class_id] |= 1;
	/* A class's stage-2 entries are contiguous (emit_rules). */
	for (size_t i = 0, j; i < prev->nrules_entries; i = j) {
		__u32 id = prev->rules[i].key.class_id;

		for (j = i + 1; j < prev->nrules_entries &&
				prev->rules[j].key.class_id == id;
		     j++)
			;
		cc->prev_id[id] |= 1;
		cc->pcls[cc->npcls].hash = rules_hash(prev->rules + i, j - i);
		cc->pcls[cc->npcls].id = id;
		cc->pcls[cc->npcls].start = i;
		cc->pcls[cc->npcls++].len = j - i;
	}
	qsort(cc->pcls, cc->npcls, sizeof(*cc->pcls), cmp_prev_cls);
	return 0;
}

/*
 * The id of the class whose stage-2 entries were just emitted from
 * out->rules[start] on (with class id 0): the id of a class of prev with
 * the same entries, not given out yet; else the lowest id prev does not
 * use. The entries get it.
 */
static __u32 assign_class_id(struct cc *cc, size_t start)
{
	struct sg_compiled *out = cc->out;
	struct sg_rule_entry *e = out->rules + start;
	size_t n = out->nrules_entries - start, lo = 0, hi = cc->npcls;
	__u64 h;
	__u32 id = 0;

	if (cc->npcls && n) {
		h = rules_hash(e, n);
		while (lo < hi) { /* the first of that hash */
			size_t mid = (lo + hi) / 2;

			if (cc->pcls[mid].hash < h)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; !id && lo < cc->npcls && cc->pcls[lo].hash == h; lo++) {
			const struct prev_cls *p = &cc->pcls[lo];
			size_t k;

			if (p->len != n || (cc->prev_id[p->id] & 2))
				continue;
			for (k = 0; k < n; k++)
				if (!rule_entry_eq(&e[k],
						   &cc->prev->rules[p->start + k]))
					break;
			if (k == n)
				id = p->id;
		}
	}
	if (id) {
		cc->prev_id[id] |= 2;
	} else {
		while (cc->next_class < cc->nprev_id &&
		       (cc->prev_id[cc->next_class] & 1))
			cc->next_class++;
		id = cc->next_class++;
	}
	for (size_t k = 0; k < n; k++)
		e[k].key.class_id = id;
	return id;
}

/* The class id of (ctx, set), made (with its stage-2 entries) if new. */
static int class_get(struct cc *cc, __u8 ctx, __u8 xfam, const __u32 *set,
		     size_t n, struct sg_pos pos, __u32 *id)
{
	__u32 h = hash_words(ctx | (__u64)xfam << 8, set, n);
	struct cls *c;
	size_t s, start;
	int err;

	if (cc->ctab_size) {
		size_t mask = cc->ctab_size - 1;

		for (s = h & mask; cc->ctab[s]; s = (s + 1) & mask) {
			c = &cc->cls[cc->ctab[s] - 1];
			if (c->hash == h && c->ctx == ctx && c->xfam == xfam &&
			    c->len == n &&
			    !memcmp(cc->pool + c->off, set, n * sizeof(*set))) {
				*id = c->id;
				return 0;
			}
		}
	}
	if ((cc->ncls + 1) * 2 > cc->ctab_size && (err = ctab_grow(cc)))
		return err;
	if (grow(&cc->cls, &cc->cls_cap, cc->ncls + 1, sizeof(*cc->cls)) ||
	    grow(&cc->pool, &cc->pool_cap, cc->npool + n, sizeof(*cc->pool)))
		return -ENOMEM;
	c = &cc->cls[cc->ncls];
	c->off = cc->npool;
	c->len = (__u32)n;
	c->hash = h;
	c->ctx = ctx;
	c->xfam = xfam;
	memcpy(cc->pool + cc->npool, set, n * sizeof(*set));
	cc->npool += n;
	ctab_insert(cc, (__u32)cc->ncls);
	cc->ncls++;
	start = cc->out->nrules_entries;
	err = emit_rules(cc, 0, ctx, xfam, set, n, pos);
	if (err)
		return err;
	*id = assign_class_id(cc, start);
	cc->cls[cc->ncls - 1].id = *id;
	return 0;
}

/* ---- Stage 1 ---- */

static int push_item(struct cc *cc, const __u8 *addr, int alen, int len,
		     __u32 ref)
{
	struct pitem *it;

	if (grow(&cc->items, &cc->items_cap, cc->nitems + 1,
		 sizeof(*cc->items)))
		return -ENOMEM;
	it = &cc->items[cc->nitems++];
	memset(it->addr, 0, sizeof(it->addr));
	memcpy(it->addr, addr, (size_t)alen);
	mask_addr(it->addr, (unsigned int)len);
	it->len = (__u8)len;
	it->ref = ref;
	return 0;
}

static int cmp_pitem(const void *a, const void *b)
{
	const struct pitem *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, sizeof(x->addr));

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return (x->ref > y->ref) - (x->ref < y->ref);
}

/* Peer prefixes of family fam of the policy's rules in direction d. */
static int collect(struct cc *cc, const struct sg_policy *pol, int d, int f)
{
	const struct sg_config *cfg = cc->cfg;
	int fam = f ? 6 : 4, alen = f ? 16 : 4, maxlen = f ? 128 : 32;
	size_t gi, r, i;
	int err = 0;

	cc->nitems = 0;
	for (gi = 0; gi < pol->ngroups; gi++) {
		int g = pol->groups[gi];
		const struct sg_group *grp = &cfg->groups[g];

		for (r = 0; r < grp->nrules && !err; r++) {
			const struct sg_rule *rule = &grp->rules[r];
			__u32 ref = cc->ref_base[g] + (__u32)r;
			const struct sg_prefix_list *pl;
			int pg = rule->peer_index;

			if (rule->dir != d)
				continue;
			switch (rule->peer_kind) {
			case SG_PEER_CIDR:
				if (rule->cidr.family == fam)
					err = push_item(cc, rule->cidr.addr,
							alen, rule->cidr.len,
							ref);
				break;
			case SG_PEER_PREFIX_LIST:
				if (pg < 0 || (size_t)pg >= cfg->nprefix_lists)
					break;
				pl = &cfg->prefix_lists[pg];
				for (i = 0; i < pl->nentries && !err; i++)
					if (pl->entries[i].family == fam)
						err = push_item(
							cc, pl->entries[i].addr,
							alen,
							pl->entries[i].len,
							ref);
				break;
			case SG_PEER_GROUP:
				if (pg < 0 || (size_t)pg >= cfg->ngroups)
					break;
				for (i = cc->mstart[f][pg];
				     i < cc->mstart[f][pg + 1] && !err; i++)
					err = push_item(cc, cc->maddr[f][i],
							alen, maxlen, ref);
				break;
			}
		}
		if (err)
			return err;
	}
	return 0;
}

static int compile_scope(struct cc *cc, size_t p, int d, int f)
{
	const struct sg_policy *pol = &cc->out->policies[p];
	struct sg_pos pos = cc->cfg->instances[cc->pol_inst[p]].pos;
	struct sg_compiled *out = cc->out;
	struct frame stack[129 + 1];
	size_t depth = 0, top = 0, i, j, k, gi;
	__u8 open = 0, fbit = f ? 2 : 1;
	int alen = f ? 16 : 4, err;

	err = collect(cc, pol, d, f);
	if (err || !cc->nitems)
		return err;
	qsort(cc->items, cc->nitems, sizeof(*cc->items), cmp_pitem);
	for (gi = 0; gi < pol->ngroups; gi++)
		open |= cc->group_open[pol->groups[gi]];
	/* Untracked needs the opposite direction open in this family. */
	open = (open >> ((1 - d) * 2)) & fbit;

	for (i = 0; i < cc->nitems; i = j) {
		const struct pitem *it = &cc->items[i];
		size_t pn = 0, nown = 0, a, b, n = 0;
		__u32 *pset, *own, *set, id;
		__u8 ctx = 0, xfam;

		for (j = i + 1; j < cc->nitems && cc->items[j].len == it->len &&
				!memcmp(cc->items[j].addr, it->addr, 16);
		     j++)
			;
		while (depth && !(stack[depth - 1].len <= it->len &&
				  bits_eq(stack[depth - 1].addr, it->addr,
					  stack[depth - 1].len))) {
			depth--;
			top = stack[depth].off;
		}
		if (depth)
			pn = stack[depth - 1].n;
		/* scratch: [.. parent set][own refs][union] */
		if (grow(&cc->scratch, &cc->scratch_cap, top + 2 * (j - i) + pn,
			 sizeof(*cc->scratch)))
			return -ENOMEM;
		pset = depth ? cc->scratch + stack[depth - 1].off : NULL;
		own = cc->scratch + top;
		for (k = i; k < j; k++)
			if (!nown || own[nown - 1] != cc->items[k].ref)
				own[nown++] = cc->items[k].ref;
		set = own + nown;
		for (a = 0, b = 0; a < pn || b < nown;) {
			if (b == nown || (a < pn && pset[a] < own[b]))
				set[n++] = pset[a++];
			else if (a == pn || own[b] < pset[a])
				set[n++] = own[b++];
			else
				set[n++] = pset[a++], b++;
		}
		/* Nothing new here: the parent's entry already answers. */
		if (n == pn)
			continue;
		memmove(own, set, n * sizeof(*set));
		set = own;

		if (open)
			for (k = 0; k < n && !ctx; k++)
				if (cc->ref_elig[set[k]] & fbit)
					ctx = f ? 6 : 4;
		xfam = 0;
		for (k = 0; k < n && !xfam; k++) {
			const struct sg_rule *r = ref_rule(cc, set[k]);

			if (r->icmp_type >= 0 && icmp_cross(r, f ? 6 : 4))
				xfam = f ? 6 : 4;
		}
		err = class_get(cc, ctx, xfam, set, n, pos, &id);
		if (err)
			return err;

		if (out->nclasses_entries >= SG_CLASS_MAX_ENTRIES)
			return too_big(cc, pos, "remote-prefix entries",
				       SG_CLASS_MAX_ENTRIES);
		if (grow(&out->classes, &cc->cls_ent_cap,
			 out->nclasses_entries + 1, sizeof(*out->classes)))
			return -ENOMEM;
		{
			struct sg_class_entry *e =
				&out->classes[out->nclasses_entries++];

			memset(e, 0, sizeof(*e));
			e->key.prefixlen = 32u + it->len;
			e->key.scope = SG_SCOPE(0, d, f, p);
			memcpy(e->key.addr, it->addr, (size_t)alen);
			e->val.class_id = id;
			e->val.prefixlen = 32u + it->len;
		}

		memcpy(stack[depth].addr, it->addr, 16);
		stack[depth].len = it->len;
		stack[depth].off = top;
		stack[depth].n = n;
		depth++;
		top += n;
	}
	return 0;
}

static void cc_free(struct cc *cc)
{
	free(cc->ref_base);
	free(cc->ref_elig);
	free(cc->group_open);
	free(cc->pol_inst);
	free(cc->mstart[0]);
	free(cc->mstart[1]);
	free(cc->maddr[0]);
	free(cc->maddr[1]);
	free(cc->items);
	free(cc->scratch);
	free(cc->cls);
	free(cc->ctab);
	free(cc->pool);
	free(cc->tmp);
	free(cc->elig);
	free(cc->pcls);
	free(cc->prev_id);
}

/*
 * What the maps of one generation hold for the enforced instances: a
 * load writes the new generation beside the live one, so each is sized
 * for two of these (include/sgctl.h), and more could load once but never
 * again.
 */
int sg_compile_limits(const struct sg_config *cfg, struct sg_diag *diag)
{
	size_t local = 0, nips = 0;

	for (size_t i = 0; i < cfg->ninstances; i++) {
		if (cfg->instances[i].remote)
			continue;
		local++;
		nips += cfg->instances[i].nips;
	}
	if (local > SG_MAX_INSTANCES) {
		if (diag)
			sg_error(diag, nopos(), NULL,
				 "more than %d instances to enforce on one "
				 "host (limit: %d instance slots); in a "
				 "config of more than %d instances only "
				 "those with an `interface` are enforced",
				 SG_MAX_INSTANCES, SG_MAX_INSTANCES,
				 SG_MAX_INSTANCES);
		return -E2BIG;
	}
	if (nips > SG_IP_MAX_PER_GEN) {
		if (diag)
			sg_error(diag, nopos(), NULL,
				 "more than %d instance addresses (limit: "
				 "sg_ip holds two generations of %d)",
				 SG_IP_MAX_PER_GEN, SG_IP_MAX_PER_GEN);
		return -E2BIG;
	}
	return 0;
}

int sg_compile(const struct sg_config *cfg, struct sg_compiled *out,
	       struct sg_diag *diag)
{
	return sg_compile_prev(cfg, NULL, out, diag);
}

int sg_compile_prev(const struct sg_config *cfg, const struct sg_compiled *prev,
		    struct sg_compiled *out, struct sg_diag *diag)
{
	struct cc cc = {.cfg = cfg, .out = out, .diag = diag, .prev = prev};
	size_t p;
	int d, f, err;

	memset(out, 0, sizeof(*out));
	err = build_policies(&cc);
	if (!err)
		err = assign_policy_ids(&cc);
	if (!err)
		err = index_prev_classes(&cc);
	if (!err)
		err = build_refs(&cc);
	if (!err)
		err = build_members(&cc);
	for (p = 0; !err && p < out->npolicies; p++)
		for (d = 0; !err && out->policies[p].key && d < SG_NDIR; d++)
			for (f = 0; !err && f < 2; f++)
				err = compile_scope(&cc, p, d, f);
	out->nclasses = cc.ncls;
	cc_free(&cc);
	if (err == -ENOMEM && diag)
		sg_error(diag, nopos(), NULL,
			 "out of memory compiling the policy");
	if (err)
		sg_compiled_free(out);
	return err;
}

void sg_compiled_free(struct sg_compiled *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; c->policies && i < c->npolicies; i++)
		free(c->policies[i].groups);
	for (i = 0; c->insts && i < c->ninsts; i++)
		free(c->insts[i].ips);
	free(c->policies);
	free(c->insts);
	free(c->classes);
	free(c->rules);
	free(c->rule_refs);
	memset(c, 0, sizeof(*c));
}

int sg_compiled_lookup(const struct sg_compiled *c, __u32 policy, int dir,
		       int family, const __u8 *addr, __u8 proto, __u16 port,
		       struct sg_rule_val *val)
{
	__u32 scope = SG_SCOPE(0, dir, family == 6, policy);
	const struct sg_class_entry *best = NULL;
	const struct sg_rule_entry *hit = NULL;
	__be16 nport = htons(port);
	size_t i;

	for (i = 0; i < c->nclasses_entries; i++) {
		const struct sg_class_entry *e = &c->classes[i];

		if (e->key.scope != scope ||
		    (best && e->key.prefixlen <= best->key.prefixlen))
			continue;
		if (bits_eq(e->key.addr, addr, e->key.prefixlen - 32))
			best = e;
	}
	if (!best)
		return 0;
	for (i = 0; i < c->nrules_entries; i++) {
		const struct sg_rule_entry *e = &c->rules[i];
		__u32 plen = e->key.prefixlen;

		if (e->key.class_id != best->val.class_id ||
		    (hit && plen <= hit->key.prefixlen))
			continue;
		if (plen == SG_RULE_PLEN_ALL ||
		    (plen >= SG_RULE_PLEN_PROTO && e->key.proto == proto &&
		     bits_eq((const __u8 *)&e->key.port, (const __u8 *)&nport,
			     plen - SG_RULE_PLEN_PROTO)))
			hit = e;
	}
	if (!hit)
		return 0;
	if (val)
		*val = hit->val;
	return 1;
}

int sg_port_range_prefixes(__u16 lo, __u16 hi, __u16 *values, __u8 *bits,
			   int max)
{
	__u32 cur = lo, end = hi;
	int n = 0;

	if (lo > hi)
		return -EINVAL;
	while (cur <= end) {
		unsigned int host = 0; /* free low bits of this block */

		while (host < 16 && !(cur & ((2u << host) - 1)) &&
		       cur + (2u << host) - 1 <= end)
			host++;
		if (n >= max)
			return -ENOSPC;
		values[n] = (__u16)cur;
		bits[n] = (__u8)(16 - host);
		n++;
		cur += 1u << host;
	}
	return n;
}
