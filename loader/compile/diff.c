// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The exact difference of two configs (diff.h). Per instance, direction
 * and family: every rule of either side becomes boxes (address range x
 * protocol x port range); the address axis is cut at every box edge into
 * elementary ranges, each covered by a fixed set of boxes; per range, the
 * two sides' port sets are subtracted; equal results of neighbouring
 * ranges are merged and written back as prefixes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "sgctl.h"
#include "compile/diff.h"

typedef unsigned __int128 u128;

#define NPROTO	 256
#define PORT_MAX 65535

/* One rule's box: [alo, ahi] x proto x [plo, phi]. */
struct box {
	u128 alo, ahi;
	int side; /* 0 old, 1 new */
	int group, rule;
	int proto; /* 0-255 or SG_PROTO_ALL */
	int plo, phi;
};

struct boxes {
	struct box *v;
	size_t n, cap;
};

/* A port range of a protocol: the items of a port set, sorted. */
struct item {
	int proto, lo, hi;
};

struct items {
	struct item *v;
	size_t n, cap;
};

/* A change in one elementary range, before merging. */
struct raw {
	bool accept;
	int proto, lo, hi;
	size_t range;		 /* index of the elementary range */
	size_t rules_at, nrules; /* in the rule-ref pool */
};

struct ctx {
	const struct sg_config *cfg[2];
	struct boxes bx;
	struct raw *raw;
	size_t nraw, capraw;
	struct sg_diff_rule *pool; /* rules of the raw changes */
	size_t npool, cappool;
	struct sg_diff *out;
	size_t capchanges;
};

static int grow(void **v, size_t *cap, size_t need, size_t sz)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*v, c * sz);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* ------------------------------------------------------------ boxes */

static u128 addr_of(const uint8_t *a, int family)
{
	u128 v = 0;

	for (int i = 0; i < (family == 6 ? 16 : 4); i++)
		v = v << 8 | a[i];
	return v;
}

static u128 amax(int family)
{
	return family == 6 ? ~(u128)0 : (u128)0xffffffffu;
}

static void prefix_range(const struct sg_prefix *p, u128 *lo, u128 *hi)
{
	int bits = p->family == 6 ? 128 : 32;
	u128 host = p->len >= bits ? 0 : (amax(p->family) >> p->len);

	*lo = addr_of(p->addr, p->family) & ~host;
	*hi = *lo | host;
}

static int add_box(struct ctx *x, const struct box *b)
{
	if (grow((void **)&x->bx.v, &x->bx.cap, x->bx.n + 1, sizeof(*b)))
		return -ENOMEM;
	x->bx.v[x->bx.n++] = *b;
	return 0;
}

static int add_prefix_box(struct ctx *x, struct box *b,
			  const struct sg_prefix *p, int family)
{
	if (p->family != family)
		return 0;
	prefix_range(p, &b->alo, &b->ahi);
	return add_box(x, b);
}

static bool carries(const struct sg_instance *in, int group)
{
	for (size_t k = 0; k < in->ngroups; k++)
		if (in->groups[k] == group)
			return true;
	return false;
}

/* The port axis of a rule for a family (refmodel.c's matching). */
static void rule_ports(const struct sg_rule *r, int family, int *lo, int *hi)
{
	bool icmp = (family == 4 && r->proto == SG_PROTO_ICMP) ||
		    (family == 6 && r->proto == SG_PROTO_ICMPV6);

	*lo = 0;
	*hi = PORT_MAX;
	if (r->proto == SG_PROTO_TCP || r->proto == SG_PROTO_UDP) {
		*lo = r->port_lo < 0 ? 0 : r->port_lo;
		*hi = r->port_hi < 0 ? PORT_MAX : r->port_hi;
	} else if (icmp && r->icmp_type != SG_ANY) {
		*lo = r->icmp_type << 8;
		*hi = r->icmp_type << 8 | 255;
		if (r->icmp_code != SG_ANY)
			*lo = *hi = r->icmp_type << 8 | r->icmp_code;
	}
}

static int side_boxes(struct ctx *x, int side, int inst, int dir, int family)
{
	const struct sg_config *cfg = x->cfg[side];
	const struct sg_instance *in;

	if (inst < 0)
		return 0;
	in = &cfg->instances[inst];
	for (size_t g = 0; g < in->ngroups; g++) {
		const struct sg_group *grp = &cfg->groups[in->groups[g]];

		for (size_t k = 0; k < grp->nrules; k++) {
			const struct sg_rule *r = &grp->rules[k];
			struct box b = {
				.side = side,
				.group = in->groups[g],
				.rule = (int)k,
				.proto = r->proto,
			};
			int err = 0;

			if (r->dir != dir)
				continue;
			rule_ports(r, family, &b.plo, &b.phi);
			if (r->peer_kind == SG_PEER_CIDR) {
				err = add_prefix_box(x, &b, &r->cidr, family);
			} else if (r->peer_kind == SG_PEER_PREFIX_LIST) {
				const struct sg_prefix_list *pl;

				if (r->peer_index < 0 ||
				    (size_t)r->peer_index >= cfg->nprefix_lists)
					continue;
				pl = &cfg->prefix_lists[r->peer_index];
				for (size_t e = 0; !err && e < pl->nentries;
				     e++)
					err = add_prefix_box(
						x, &b, &pl->entries[e], family);
			} else {
				for (size_t i = 0; !err && i < cfg->ninstances;
				     i++) {
					const struct sg_instance *m =
						&cfg->instances[i];

					if (!carries(m, r->peer_index))
						continue;
					for (size_t a = 0; !err && a < m->nips;
					     a++)
						err = add_prefix_box(x, &b,
								     &m->ips[a],
								     family);
				}
			}
			if (err)
				return err;
		}
	}
	return 0;
}

/* ------------------------------------------------------- port sets */

static int cmp_item(const void *a, const void *b)
{
	const struct item *p = a, *q = b;

	if (p->proto != q->proto)
		return p->proto < q->proto ? -1 : 1;
	return p->lo < q->lo ? -1 : p->lo > q->lo;
}

static int push_item(struct items *s, int proto, int lo, int hi)
{
	if (grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return -ENOMEM;
	s->v[s->n++] = (struct item){proto, lo, hi};
	return 0;
}

/* Sorted, overlapping and touching items merged. */
static void normalise(struct items *s)
{
	size_t w = 0;

	if (s->n > 1) /* qsort's array may not be NULL, even empty */
		qsort(s->v, s->n, sizeof(*s->v), cmp_item);
	for (size_t i = 0; i < s->n; i++) {
		if (w && s->v[w - 1].proto == s->v[i].proto &&
		    s->v[i].lo <= s->v[w - 1].hi + 1) {
			if (s->v[i].hi > s->v[w - 1].hi)
				s->v[w - 1].hi = s->v[i].hi;
			continue;
		}
		s->v[w++] = s->v[i];
	}
	s->n = w;
}

static int box_items(struct items *s, const struct box *b)
{
	int err = 0;

	if (b->proto != SG_PROTO_ALL)
		return push_item(s, b->proto, b->plo, b->phi);
	for (int p = 0; !err && p < NPROTO; p++)
		err = push_item(s, p, 0, PORT_MAX);
	return err;
}

/* out = a \ b (both normalised); out sorted. */
static int subtract(const struct items *a, const struct items *b,
		    struct items *out)
{
	size_t j = 0;

	out->n = 0;
	for (size_t i = 0; i < a->n; i++) {
		int proto = a->v[i].proto, lo = a->v[i].lo, hi = a->v[i].hi;

		while (j < b->n &&
		       (b->v[j].proto < proto ||
			(b->v[j].proto == proto && b->v[j].hi < lo)))
			j++;
		for (size_t k = j; k < b->n && b->v[k].proto == proto &&
				   b->v[k].lo <= hi && lo <= hi;
		     k++) {
			if (b->v[k].lo > lo &&
			    push_item(out, proto, lo, b->v[k].lo - 1))
				return -ENOMEM;
			if (b->v[k].hi + 1 > lo)
				lo = b->v[k].hi + 1;
		}
		if (lo <= hi && push_item(out, proto, lo, hi))
			return -ENOMEM;
	}
	return 0;
}

/* Every protocol whole: one SG_PROTO_ALL item. */
static void fold_all(struct items *s)
{
	size_t whole = 0;

	for (size_t i = 0; i < s->n; i++)
		whole += s->v[i].lo == 0 && s->v[i].hi == PORT_MAX;
	if (whole != NPROTO)
		return;
	s->n = 0;
	s->v[s->n++] = (struct item){SG_PROTO_ALL, 0, PORT_MAX};
}

/* -------------------------------------------------- per direction */

static int cmp_u128(const void *a, const void *b)
{
	u128 p = *(const u128 *)a, q = *(const u128 *)b;

	return p < q ? -1 : p > q;
}

/* The first elementary range starting at or after a. */
static size_t find_range(const u128 *starts, size_t n, u128 a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (starts[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool box_overlaps(const struct box *b, const struct raw *r)
{
	if (b->proto != SG_PROTO_ALL && r->proto != SG_PROTO_ALL &&
	    b->proto != r->proto)
		return false;
	if (r->proto == SG_PROTO_ALL || b->proto == SG_PROTO_ALL)
		return true;
	return b->plo <= r->hi && r->lo <= b->phi;
}

static int add_raw(struct ctx *x, bool accept, const struct item *it,
		   size_t range, const size_t *cover, size_t ncover)
{
	struct raw *r;

	if (grow((void **)&x->raw, &x->capraw, x->nraw + 1, sizeof(*x->raw)))
		return -ENOMEM;
	r = &x->raw[x->nraw++];
	*r = (struct raw){.accept = accept,
			  .proto = it->proto,
			  .lo = it->lo,
			  .hi = it->hi,
			  .range = range,
			  .rules_at = x->npool};
	for (size_t i = 0; i < ncover; i++) {
		const struct box *b = &x->bx.v[cover[i]];

		if (b->side != (accept ? 1 : 0) || !box_overlaps(b, r))
			continue;
		if (grow((void **)&x->pool, &x->cappool, x->npool + 1,
			 sizeof(*x->pool)))
			return -ENOMEM;
		x->pool[x->npool++] = (struct sg_diff_rule){b->group, b->rule};
		r->nrules++;
	}
	return 0;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct raw *p = a, *q = b;

	if (p->accept != q->accept)
		return p->accept ? -1 : 1;
	if (p->proto != q->proto)
		return p->proto < q->proto ? -1 : 1;
	if (p->lo != q->lo)
		return p->lo < q->lo ? -1 : 1;
	if (p->hi != q->hi)
		return p->hi < q->hi ? -1 : 1;
	return p->range < q->range ? -1 : p->range > q->range;
}

/* [lo, hi] as the fewest prefixes, appended to *v. */
static int range_prefixes(struct sg_prefix **v, size_t *nv, u128 lo, u128 hi,
			  int family, size_t *cap)
{
	int bits = family == 6 ? 128 : 32;

	for (;;) {
		int len = bits;
		struct sg_prefix *p;

		/* The largest aligned block at lo that stays within hi. */
		while (len > 0) {
			u128 host = amax(family) >> (len - 1);

			if ((lo & host) || (lo | host) > hi)
				break;
			len--;
		}
		if (grow((void **)v, cap, *nv + 1, sizeof(*p)))
			return -ENOMEM;
		p = &(*v)[(*nv)++];
		memset(p, 0, sizeof(*p));
		p->family = (uint8_t)family;
		p->len = (uint8_t)len;
		for (int i = bits / 8 - 1, k = 0; i >= 0; i--, k++)
			p->addr[i] = (uint8_t)(lo >> (8 * k));
		u128 last = lo | (len == bits ? 0 : amax(family) >> len);

		if (last >= hi)
			return 0;
		lo = last + 1;
	}
}

static bool same_rule(const struct sg_diff_rule *a,
		      const struct sg_diff_rule *b)
{
	return a->group == b->group && a->rule == b->rule;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct sg_diff_rule *p = a, *q = b;

	if (p->group != q->group)
		return p->group < q->group ? -1 : 1;
	return p->rule < q->rule ? -1 : p->rule > q->rule;
}

static bool portless_whole(const struct sg_diff_change *c, int family)
{
	return c->proto != SG_PROTO_ALL && c->proto != SG_PROTO_TCP &&
	       c->proto != SG_PROTO_UDP &&
	       c->proto != (family == 6 ? SG_PROTO_ICMPV6 : SG_PROTO_ICMP) &&
	       c->lo == 0 && c->hi == PORT_MAX;
}

static bool same_where(const struct sg_diff_change *a,
		       const struct sg_diff_change *b)
{
	return a->accept == b->accept && a->nprefixes == b->nprefixes &&
	       a->nrules == b->nrules &&
	       (!a->nprefixes ||
		!memcmp(a->prefixes, b->prefixes,
			a->nprefixes * sizeof(*a->prefixes))) &&
	       (!a->nrules ||
		!memcmp(a->rules, b->rules, a->nrules * sizeof(*a->rules)));
}

/* "protocols 2-5" rather than four changes (an all-traffic rule narrowed
 * to a few ports leaves every other protocol). */
static void fold_protocols(struct sg_diff *d, size_t from, int family)
{
	size_t w = from;

	for (size_t i = from; i < d->nchanges; i++) {
		struct sg_diff_change *c = &d->changes[i];
		bool merged = false;

		for (size_t k = from; portless_whole(c, family) && k < w; k++) {
			struct sg_diff_change *p = &d->changes[k];

			if (portless_whole(p, family) &&
			    p->proto_hi + 1 == c->proto && same_where(p, c)) {
				p->proto_hi = c->proto;
				merged = true;
				break;
			}
		}
		if (merged) {
			free(c->prefixes);
			free(c->rules);
			continue;
		}
		d->changes[w++] = *c;
	}
	d->nchanges = w;
}

/* Runs of raw changes with the same traffic over neighbouring ranges
 * become one change. */
static int emit(struct ctx *x, size_t inst, int dir, int family,
		const u128 *starts, size_t nstarts)
{
	struct sg_diff *d = x->out;
	size_t first_change = d->nchanges;

	if (x->nraw > 1)
		qsort(x->raw, x->nraw, sizeof(*x->raw), cmp_raw);
	for (size_t i = 0; i < x->nraw;) {
		const struct raw *r = &x->raw[i];
		struct sg_diff_change *c;
		size_t capp = 0, capr = 0, j = i;

		if (grow((void **)&d->changes, &x->capchanges, d->nchanges + 1,
			 sizeof(*d->changes)))
			return -ENOMEM;
		c = &d->changes[d->nchanges++];
		memset(c, 0, sizeof(*c));
		c->inst = inst;
		c->dir = dir;
		c->family = family;
		c->accept = r->accept;
		c->proto = c->proto_hi = r->proto;
		c->lo = r->lo;
		c->hi = r->hi;
		while (j < x->nraw && x->raw[j].accept == r->accept &&
		       x->raw[j].proto == r->proto && x->raw[j].lo == r->lo &&
		       x->raw[j].hi == r->hi) {
			size_t first = x->raw[j].range, last = first;
			u128 lo, hi;

			/* The run of consecutive ranges from j. */
			do {
				for (size_t k = 0; k < x->raw[j].nrules; k++) {
					if (grow((void **)&c->rules, &capr,
						 c->nrules + 1,
						 sizeof(*c->rules)))
						return -ENOMEM;
					c->rules[c->nrules++] =
						x->pool[x->raw[j].rules_at + k];
				}
				last = x->raw[j].range;
				j++;
			} while (j < x->nraw && x->raw[j].accept == r->accept &&
				 x->raw[j].proto == r->proto &&
				 x->raw[j].lo == r->lo &&
				 x->raw[j].hi == r->hi &&
				 x->raw[j].range == last + 1);
			lo = starts[first];
			hi = last + 1 < nstarts ? starts[last + 1] - 1
						: amax(family);
			if (range_prefixes(&c->prefixes, &c->nprefixes, lo, hi,
					   family, &capp))
				return -ENOMEM;
		}
		/* Each rule once, in config order. */
		if (c->nrules > 1)
			qsort(c->rules, c->nrules, sizeof(*c->rules), cmp_rule);
		size_t w = 0;

		for (size_t k = 0; k < c->nrules; k++)
			if (!w || !same_rule(&c->rules[w - 1], &c->rules[k]))
				c->rules[w++] = c->rules[k];
		c->nrules = w;
		i = j;
	}
	fold_protocols(d, first_change, family);
	return 0;
}

static int diff_one(struct ctx *x, size_t inst, int dir, int family)
{
	const struct sg_diff_inst *di = &x->out->insts[inst];
	struct items set[2] = {}, delta = {};
	u128 *starts = NULL;
	size_t *ncov = NULL, *covat = NULL, *cover = NULL, nstarts = 0;
	int err;

	x->bx.n = 0;
	x->nraw = 0;
	x->npool = 0;
	err = side_boxes(x, 0, di->old_index, dir, family);
	if (!err)
		err = side_boxes(x, 1, di->new_index, dir, family);
	if (err || !x->bx.n)
		return err;

	err = -ENOMEM;
	starts = calloc(2 * x->bx.n + 1, sizeof(*starts));
	if (!starts)
		goto out;
	starts[nstarts++] = 0;
	for (size_t i = 0; i < x->bx.n; i++) {
		starts[nstarts++] = x->bx.v[i].alo;
		if (x->bx.v[i].ahi < amax(family))
			starts[nstarts++] = x->bx.v[i].ahi + 1;
	}
	if (nstarts > 1)
		qsort(starts, nstarts, sizeof(*starts), cmp_u128);
	size_t w = 0;

	for (size_t i = 0; i < nstarts; i++)
		if (!w || starts[w - 1] != starts[i])
			starts[w++] = starts[i];
	nstarts = w;

	/* Which boxes cover each elementary range (a box covers a run). */
	ncov = calloc(nstarts + 1, sizeof(*ncov));
	covat = calloc(nstarts + 1, sizeof(*covat));
	if (!ncov || !covat)
		goto out;
	size_t total = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < x->bx.n; i++) {
			const struct box *b = &x->bx.v[i];

			for (size_t r = find_range(starts, nstarts, b->alo);
			     r < nstarts && starts[r] <= b->ahi; r++) {
				if (pass)
					cover[covat[r] + ncov[r]++] = i;
				else
					ncov[r]++;
			}
		}
		if (pass)
			break;
		for (size_t r = 0; r < nstarts; r++) {
			covat[r] = total;
			total += ncov[r];
			ncov[r] = 0;
		}
		cover = calloc(total ? total : 1, sizeof(*cover));
		if (!cover)
			goto out;
	}

	for (size_t r = 0; r < nstarts; r++) {
		const size_t *cv = cover + covat[r];

		for (int s = 0; s < 2; s++) {
			set[s].n = 0;
			for (size_t i = 0; i < ncov[r]; i++)
				if (x->bx.v[cv[i]].side == s &&
				    box_items(&set[s], &x->bx.v[cv[i]]))
					goto out;
			/* Never filtered either way: not a change. */
			if (family == 6 && push_item(&set[s], SG_PROTO_ICMPV6,
						     133 << 8, 137 << 8 | 255))
				goto out;
			normalise(&set[s]);
		}
		for (int s = 0; s < 2; s++) {
			/* s = 1: accepted now (new \ old); 0: no longer. */
			if (subtract(&set[s], &set[!s], &delta))
				goto out;
			fold_all(&delta);
			for (size_t i = 0; i < delta.n; i++)
				if (add_raw(x, s == 1, &delta.v[i], r, cv,
					    ncov[r]))
					goto out;
		}
	}
	err = emit(x, inst, dir, family, starts, nstarts);
out:
	free(starts);
	free(ncov);
	free(covat);
	free(cover);
	free(set[0].v);
	free(set[1].v);
	free(delta.v);
	return err;
}

/* ------------------------------------------------------------ the API */

int sg_diff_compact(const struct sg_diff_change *c, struct sg_prefix *outer,
		    struct sg_prefix **holes, size_t *nholes)
{
	int family = c->family, bits = family == 6 ? 128 : 32, len = 0;
	u128 lo, hi, first, last, at, plo, phi;
	bool done = false;
	size_t cap = 0;

	*holes = NULL;
	*nholes = 0;
	if (c->nprefixes < 3)
		return 0;
	prefix_range(&c->prefixes[0], &first, &phi);
	prefix_range(&c->prefixes[c->nprefixes - 1], &plo, &last);
	/* The smallest prefix holding both ends. */
	while (len < bits) {
		u128 next = len + 1 >= bits ? 0 : amax(family) >> (len + 1);

		if ((first & ~next) != (last & ~next))
			break;
		len++;
	}
	memset(outer, 0, sizeof(*outer));
	outer->family = (uint8_t)family;
	outer->len = (uint8_t)len;
	u128 host = len >= bits ? 0 : amax(family) >> len;

	lo = first & ~host;
	hi = lo | host;
	for (int i = bits / 8 - 1, k = 0; i >= 0; i--, k++)
		outer->addr[i] = (uint8_t)(lo >> (8 * k));
	/* The gaps: before, between and after the (sorted) prefixes. */
	at = lo;
	for (size_t i = 0; i < c->nprefixes; i++) {
		prefix_range(&c->prefixes[i], &plo, &phi);
		if (plo > at &&
		    range_prefixes(holes, nholes, at, plo - 1, family, &cap))
			goto nomem;
		if (phi == hi) {
			done = true; /* up to the outer prefix's end */
			break;
		}
		at = phi + 1;
	}
	if (!done && range_prefixes(holes, nholes, at, hi, family, &cap))
		goto nomem;
	if (*nholes + 1 >= c->nprefixes) {
		free(*holes);
		*holes = NULL;
		*nholes = 0;
		return 0;
	}
	return 1;
nomem:
	free(*holes);
	*holes = NULL;
	*nholes = 0;
	return -ENOMEM;
}

static int list_instances(const struct sg_config *old,
			  const struct sg_config *new, struct sg_diff *d)
{
	size_t n = old->ninstances + new->ninstances;

	d->insts = calloc(n ? n : 1, sizeof(*d->insts));
	if (!d->insts)
		return -ENOMEM;
	for (size_t i = 0; i < old->ninstances; i++) {
		int j = sg_config_find_instance(new, old->instances[i].id);

		d->insts[d->ninsts++] = (struct sg_diff_inst){
			.id = old->instances[i].id,
			.presence = j < 0 ? SG_DIFF_ONLY_OLD : SG_DIFF_BOTH,
			.old_index = (int)i,
			.new_index = j,
		};
	}
	for (size_t i = 0; i < new->ninstances; i++) {
		if (sg_config_find_instance(old, new->instances[i].id) >= 0)
			continue;
		d->insts[d->ninsts++] = (struct sg_diff_inst){
			.id = new->instances[i].id,
			.presence = SG_DIFF_ONLY_NEW,
			.old_index = -1,
			.new_index = (int)i,
		};
	}
	return 0;
}

int sg_diff_configs(const struct sg_config *old, const struct sg_config *new,
		    struct sg_diff *out)
{
	return sg_diff_configs_for(old, new, NULL, NULL, out);
}

int sg_diff_configs_for(const struct sg_config *old,
			const struct sg_config *new,
			bool (*want)(const struct sg_diff_inst *inst, void *arg),
			void *arg, struct sg_diff *out)
{
	struct ctx x = {.cfg = {old, new}, .out = out};
	int err;

	memset(out, 0, sizeof(*out));
	err = list_instances(old, new, out);
	for (size_t i = 0; !err && i < out->ninsts; i++)
		for (int dir = 0; !err && dir < SG_NDIR &&
				  (!want || want(&out->insts[i], arg));
		     dir++)
			for (int f = 4; !err && f <= 6; f += 2)
				err = diff_one(&x, i, dir, f);
	free(x.bx.v);
	free(x.raw);
	free(x.pool);
	if (err)
		sg_diff_free(out);
	return err;
}

void sg_diff_free(struct sg_diff *d)
{
	for (size_t i = 0; i < d->nchanges; i++) {
		free(d->changes[i].prefixes);
		free(d->changes[i].rules);
	}
	free(d->changes);
	free(d->insts);
	memset(d, 0, sizeof(*d));
}

void sg_diff_what(const struct sg_diff_change *c, char *buf, size_t len)
{
	const char *icmp = c->family == 6 ? "icmpv6" : "icmp";
	bool is_icmp = (c->family == 4 && c->proto == SG_PROTO_ICMP) ||
		       (c->family == 6 && c->proto == SG_PROTO_ICMPV6);

	if (c->proto == SG_PROTO_ALL) {
		snprintf(buf, len, "all traffic");
	} else if (c->proto == SG_PROTO_TCP || c->proto == SG_PROTO_UDP) {
		const char *p = c->proto == SG_PROTO_TCP ? "tcp" : "udp";

		if (c->lo == c->hi)
			snprintf(buf, len, "%s/%d", p, c->lo);
		else
			snprintf(buf, len, "%s/%d-%d", p, c->lo, c->hi);
	} else if (is_icmp) {
		if (c->lo == 0 && c->hi == PORT_MAX)
			snprintf(buf, len, "%s (all types)", icmp);
		else if (c->lo == c->hi)
			snprintf(buf, len, "%s type %d code %d", icmp,
				 c->lo >> 8, c->lo & 255);
		else if ((c->lo & 255) == 0 && (c->hi & 255) == 255 &&
			 c->lo >> 8 == c->hi >> 8)
			snprintf(buf, len, "%s type %d", icmp, c->lo >> 8);
		else if ((c->lo & 255) == 0 && (c->hi & 255) == 255)
			snprintf(buf, len, "%s types %d-%d", icmp, c->lo >> 8,
				 c->hi >> 8);
		else
			snprintf(buf, len,
				 "%s type %d code %d to type %d code %d", icmp,
				 c->lo >> 8, c->lo & 255, c->hi >> 8,
				 c->hi & 255);
	} else if (c->proto_hi != c->proto) {
		snprintf(buf, len, "protocols %d-%d", c->proto, c->proto_hi);
	} else {
		snprintf(buf, len, "protocol %d", c->proto);
	}
}
