// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A generation's image: every policy-map entry one generation holds for a
 * compiled config (instance settings, addresses, both LPM stages, their
 * exact-match copies and filter), built in memory. A full write puts an
 * image into the inactive generation (generation.c); an incremental
 * update (sg_delta_*) diffs the live generation's image with the next one
 * and writes only the difference into the live generation, in an order
 * that leaves every new flow decided by the old policy or the new one:
 *
 *   A. adds and changes, what is pointed at before what points at it:
 *      filter bits gained, stage-2 entries (trie, then exact copy),
 *      stage-1 entries (trie, then exact copy), addresses, instances;
 *   B. deletes, what points before what is pointed at: stage-1 entries
 *      (exact copy, then trie), stage-2 entries, addresses, filter bits
 *      lost.
 *
 * Ids make that safe: compile/ gives a new class or policy an id the old
 * image does not use, so an entry of A is unreachable until the entry
 * pointing at it is written, and an entry of B is unreachable once the
 * entries pointing at it are gone or changed (docs/design.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "compile/exact.h"
#include "util/diag.h"
#include "state/internal.h"
#include "state/state.h"

void sg_image_free(struct sg_image *im)
{
	if (!im)
		return;
	free(im->ck);
	free(im->cv);
	free(im->rk);
	free(im->rv);
	free(im->inst);
	free(im->ip);
	free(im->bloom);
	free(im->runs);
	memset(im, 0, sizeof(*im));
}

int sg_commit_record(struct sg_state *st, struct sg_meta *m)
{
	return sg_meta_get(st, SG_META_COMMIT, m);
}

bool sg_image_is_live(struct sg_state *st, const struct sg_image *im)
{
	int fd = bpf_map__fd(st->skel->maps.sg_inst);
	struct sg_inst v;
	__u32 gen;

	if (!im->inst || sg_active_gen(st, &gen) || gen != im->gen)
		return false;
	/* One batch read of the live half (the next key after in_batch). */
	{
		__u32 *keys = calloc(SG_MAX_INSTANCES, sizeof(*keys));
		struct sg_inst *vals = calloc(SG_MAX_INSTANCES, sizeof(*vals));
		__u32 in = gen * SG_MAX_INSTANCES - 1, out_b,
		      n = SG_MAX_INSTANCES;
		int err = -ENOMEM;
		bool same = false;

		if (keys && vals)
			err = bpf_map_lookup_batch(fd, gen ? &in : NULL, &out_b,
						   keys, vals, &n, NULL);
		if ((!err || err == -ENOENT) && n == SG_MAX_INSTANCES &&
		    keys[0] == gen * SG_MAX_INSTANCES) {
			same = !memcmp(vals, im->inst,
				       SG_MAX_INSTANCES * sizeof(*vals));
			err = 0;
		}
		free(keys);
		free(vals);
		if (!err)
			return same;
	}
	for (__u32 s = 0; s < SG_MAX_INSTANCES; s++) {
		__u32 key = gen * SG_MAX_INSTANCES + s;

		if (bpf_map_lookup_elem(fd, &key, &v) ||
		    memcmp(&v, &im->inst[s], sizeof(v)))
			return false;
	}
	return true;
}

/* The exact-match copy of an image's stage-1 entries (x arrays of nxc). */
static void class_exact_key(const struct sg_class_key *k,
			    struct sg_class_exact_key *x)
{
	x->scope = k->scope;
	memcpy(x->addr, k->addr, sizeof(x->addr));
}

static void rule_exact_key(const struct sg_rule_key *k,
			   struct sg_rule_exact_key *x)
{
	memset(x, 0, sizeof(*x));
	x->class_id = k->class_id;
	x->proto = k->proto;
	x->port = k->port;
}

int sg_image_exact(const struct sg_image *im, struct sg_class_exact_key **xck,
		   struct sg_class_val **xcv, struct sg_rule_exact_key **xrk,
		   struct sg_rule_val **xrv)
{
	size_t k = 0;

	*xck = calloc(im->nxc ? im->nxc : 1, sizeof(**xck));
	*xcv = calloc(im->nxc ? im->nxc : 1, sizeof(**xcv));
	*xrk = calloc(im->nxr ? im->nxr : 1, sizeof(**xrk));
	*xrv = calloc(im->nxr ? im->nxr : 1, sizeof(**xrv));
	if (!*xck || !*xcv || !*xrk || !*xrv) {
		free(*xck);
		free(*xcv);
		free(*xrk);
		free(*xrv);
		return -ENOMEM;
	}
	for (size_t i = 0; im->use_class && i < im->nc; i++) {
		if (!sg_class_entry_exact(&im->ck[i]))
			continue;
		class_exact_key(&im->ck[i], &(*xck)[k]);
		(*xcv)[k++] = im->cv[i];
	}
	k = 0;
	for (size_t i = 0; im->use_rule && i < im->nr; i++) {
		if (!sg_rule_entry_exact(&im->rk[i]))
			continue;
		rule_exact_key(&im->rk[i], &(*xrk)[k]);
		(*xrv)[k++] = im->rv[i];
	}
	return 0;
}

int sg_image_build(const struct sg_compiled *c, const int *slots, size_t nslots,
		   const struct sg_exact_sizes *sizes, __u32 ng, bool bloom,
		   struct sg_image *im)
{
	struct sg_exact_plan x = {};
	size_t nips = 0, j = 0;
	int err;

	memset(im, 0, sizeof(*im));
	im->gen = ng & 1;
	if (nslots != c->ninsts) {
		sg_err("internal: %zu slots for %zu instances", nslots,
		       c->ninsts);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->ninsts; i++)
		nips += c->insts[i].nips;
	if (nips > SG_IP_MAX_PER_GEN) {
		/* the compiler refuses this already (compile.c) */
		sg_err("more than %d instance addresses (limit: sg_ip holds "
		       "two "
		       "generations of %d)",
		       SG_IP_MAX_PER_GEN, SG_IP_MAX_PER_GEN);
		return -E2BIG;
	}
	err = sg_exact_plan_make(c, sizes, &x);
	if (err)
		goto nomem;
	im->use_class = x.use_class;
	im->use_rule = x.use_rule;
	im->nxc = x.nclass_exact;
	im->nxr = x.nrule_exact;
	im->inst = calloc(SG_MAX_INSTANCES, sizeof(*im->inst));
	im->ip = calloc(nips ? nips : 1, sizeof(*im->ip));
	im->ck = calloc(c->nclasses_entries ? c->nclasses_entries : 1,
			sizeof(*im->ck));
	im->cv = calloc(c->nclasses_entries ? c->nclasses_entries : 1,
			sizeof(*im->cv));
	im->rk = calloc(c->nrules_entries ? c->nrules_entries : 1,
			sizeof(*im->rk));
	im->rv = calloc(c->nrules_entries ? c->nrules_entries : 1,
			sizeof(*im->rv));
	if (!im->inst || !im->ip || !im->ck || !im->cv || !im->rk || !im->rv)
		goto nomem;

	/* Instances: every slot, absent ones zeroed. */
	for (size_t i = 0; i < c->ninsts; i++) {
		const struct sg_inst_entry *e = &c->insts[i];

		/* No slot: a remote instance, not enforced here. */
		if (slots[i] < 0 && !(e->inst.flags & SG_INST_PRESENT))
			continue;
		if (slots[i] < 0 || slots[i] >= SG_MAX_INSTANCES) {
			sg_err("internal: slot %d out of range", slots[i]);
			err = -ERANGE;
			goto fail;
		}
		im->inst[slots[i]] = e->inst;
		im->inst[slots[i]].flags |= SG_INST_PRESENT;
		im->inst[slots[i]].flags |=
			sg_exact_inst_flags(&x, e->inst.policy);
		im->inst[slots[i]].flags |= sg_exact_inst_ports(
			&x, e->inst.policy, im->inst[slots[i]].ports);
		for (size_t k = 0; k < e->nips; k++, j++) {
			im->ip[j] = e->ips[k];
			im->ip[j].gen_slot = SG_GEN_SLOT(ng, slots[i]);
		}
	}
	im->nip = j;

	/* Both stages, with the generation bit and the exact flags. */
	for (size_t i = 0; i < c->nclasses_entries; i++) {
		im->ck[i] = c->classes[i].key;
		im->ck[i].scope |= SG_GEN_BIT(ng);
		im->cv[i] = c->classes[i].val;
		im->cv[i].flags = sg_exact_class_flags(&x, im->cv[i].class_id);
		im->cv[i].class_id |= SG_GEN_BIT(ng);
	}
	im->nc = c->nclasses_entries;
	for (size_t i = 0; i < c->nrules_entries; i++) {
		im->rk[i] = c->rules[i].key;
		im->rk[i].class_id |= SG_GEN_BIT(ng);
		im->rv[i] = c->rules[i].val;
	}
	im->nr = c->nrules_entries;

	/* The filter, when an exact entry needs it; else the words are
	 * whatever they were (no flag sends a lookup to them). */
	if (bloom && (im->nxc || im->nxr)) {
		struct sg_class_exact_key *xck;
		struct sg_class_val *xcv;
		struct sg_rule_exact_key *xrk;
		struct sg_rule_val *xrv;

		im->bloom = calloc(SG_BLOOM_WORDS, sizeof(*im->bloom));
		if (!im->bloom || sg_image_exact(im, &xck, &xcv, &xrk, &xrv))
			goto nomem;
		sg_exact_bloom_words(im->bloom, xck, im->nxc, xrk, im->nxr);
		free(xck);
		free(xcv);
		free(xrk);
		free(xrv);
	}
	sg_exact_plan_free(&x);
	return 0;
nomem:
	err = -ENOMEM;
	sg_err("out of memory");
fail:
	sg_exact_plan_free(&x);
	sg_image_free(im);
	return err;
}

/* ---------------------------------------------------------------- delta */

/* A list of (key, value) to write, or of keys to delete. */
struct kv {
	char *k, *v;
	size_t n, cap, ksz, vsz;
};

static int kv_push(struct kv *l, const void *k, const void *v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char *nk = realloc(l->k, cap * l->ksz);

		if (!nk)
			return -ENOMEM;
		l->k = nk;
		if (l->vsz) {
			char *nv = realloc(l->v, cap * l->vsz);

			if (!nv)
				return -ENOMEM;
			l->v = nv;
		}
		l->cap = cap;
	}
	memcpy(l->k + l->n * l->ksz, k, l->ksz);
	if (l->vsz)
		memcpy(l->v + l->n * l->vsz, v, l->vsz);
	l->n++;
	return 0;
}

static void kv_free(struct kv *l)
{
	free(l->k);
	free(l->v);
}

enum {
	L_BLOOM_EARLY,
	L_RULE_ADD,
	L_XRULE_ADD,
	L_CLASS_ADD,
	L_XCLASS_ADD,
	L_IP_ADD,
	L_INST_PREP,
	L_INST,
	/* B: deletes */
	L_XCLASS_DEL,
	L_CLASS_DEL,
	L_XRULE_DEL,
	L_RULE_DEL,
	L_IP_DEL,
	L_N,
};

struct sg_delta {
	struct kv l[L_N];
	size_t new_class_keys, new_rule_keys, new_xclass_keys, new_xrule_keys;
	size_t new_ip_keys;
};

static const char *const list_map[L_N] = {
	[L_BLOOM_EARLY] = "sg_exact_bloom",
	[L_RULE_ADD] = "sg_rule",
	[L_XRULE_ADD] = "sg_rule_exact",
	[L_CLASS_ADD] = "sg_class",
	[L_XCLASS_ADD] = "sg_class_exact",
	[L_IP_ADD] = "sg_ip",
	[L_INST_PREP] = "sg_inst",
	[L_INST] = "sg_inst",
	[L_XCLASS_DEL] = "sg_class_exact",
	[L_CLASS_DEL] = "sg_class",
	[L_XRULE_DEL] = "sg_rule_exact",
	[L_RULE_DEL] = "sg_rule",
	[L_IP_DEL] = "sg_ip",
};

void sg_delta_free(struct sg_delta *d)
{
	if (!d)
		return;
	for (int i = 0; i < L_N; i++)
		kv_free(&d->l[i]);
	free(d);
}

static struct sg_delta *delta_new(void)
{
	struct sg_delta *d = calloc(1, sizeof(*d));
	static const size_t ks[L_N][2] = {
		[L_BLOOM_EARLY] = {4, 8},
		[L_RULE_ADD] = {sizeof(struct sg_rule_key),
				sizeof(struct sg_rule_val)},
		[L_XRULE_ADD] = {sizeof(struct sg_rule_exact_key),
				 sizeof(struct sg_rule_val)},
		[L_CLASS_ADD] = {sizeof(struct sg_class_key),
				 sizeof(struct sg_class_val)},
		[L_XCLASS_ADD] = {sizeof(struct sg_class_exact_key),
				  sizeof(struct sg_class_val)},
		[L_IP_ADD] = {sizeof(struct sg_ip_key), 1},
		[L_INST_PREP] = {4, sizeof(struct sg_inst)},
		[L_INST] = {4, sizeof(struct sg_inst)},
		[L_XCLASS_DEL] = {sizeof(struct sg_class_exact_key), 0},
		[L_CLASS_DEL] = {sizeof(struct sg_class_key), 0},
		[L_XRULE_DEL] = {sizeof(struct sg_rule_exact_key), 0},
		[L_RULE_DEL] = {sizeof(struct sg_rule_key), 0},
		[L_IP_DEL] = {sizeof(struct sg_ip_key), 0},
	};

	if (!d)
		return NULL;
	for (int i = 0; i < L_N; i++) {
		d->l[i].ksz = ks[i][0];
		d->l[i].vsz = ks[i][1];
	}
	return d;
}

/* Stage-1 order as compiled: policy, direction and family, address,
 * length (compile.c walks policies by id, scopes in order, prefixes
 * sorted). */
static int cmp_class(const struct sg_class_key *a, const struct sg_class_key *b)
{
	__u32 pa = SG_SCOPE_POLICY(a->scope), pb = SG_SCOPE_POLICY(b->scope);
	__u32 sa = SG_SCOPE_SUB(a->scope), sb = SG_SCOPE_SUB(b->scope);
	int c;

	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c)
		return c;
	return (a->prefixlen > b->prefixlen) - (a->prefixlen < b->prefixlen);
}

/* Stage-2 order within a class as compiled (compile.c cmp_s2). */
static int cmp_rule(const struct sg_rule_key *a, const struct sg_rule_key *b)
{
	__u16 pa = ntohs(a->port), pb = ntohs(b->port);

	if (a->prefixlen != b->prefixlen)
		return a->prefixlen < b->prefixlen ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return (pa > pb) - (pa < pb);
}

static bool classes_sorted(const struct sg_image *im)
{
	for (size_t i = 1; i < im->nc; i++)
		if (cmp_class(&im->ck[i - 1], &im->ck[i]) >= 0)
			return false;
	return true;
}

/* A class's stage-2 entries: contiguous in an image. */
struct run {
	__u32 id;
	size_t start, len;
};

static int cmp_run(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int runs_of(const struct sg_image *im, struct run **out, size_t *n)
{
	struct run *r;
	size_t m = 0, count = 1;

	for (size_t i = 1; i < im->nr; i++)
		count += im->rk[i].class_id != im->rk[i - 1].class_id;
	r = malloc(count * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0, j; i < im->nr; i = j) {
		for (j = i + 1;
		     j < im->nr && im->rk[j].class_id == im->rk[i].class_id;
		     j++)
			if (cmp_rule(&im->rk[j - 1], &im->rk[j]) >= 0) {
				free(r);
				return -EAGAIN; /* not as compiled */
			}
		r[m].id = im->rk[i].class_id;
		r[m].start = i;
		r[m++].len = j - i;
	}
	qsort(r, m, sizeof(*r), cmp_run);
	for (size_t i = 1; i < m; i++)
		if (r[i].id == r[i - 1].id) {
			free(r);
			return -EAGAIN; /* a class in two places */
		}
	*out = r;
	*n = m;
	return 0;
}

static int class_op(struct sg_delta *d, const struct sg_image *im, size_t i,
		    bool add, bool new_key)
{
	const struct sg_class_key *k = &im->ck[i];
	struct sg_class_exact_key x;
	bool exact = im->use_class && sg_class_entry_exact(k);
	int err;

	if (exact)
		class_exact_key(k, &x);
	if (!add) {
		err = kv_push(&d->l[L_CLASS_DEL], k, NULL);
		return err     ? err
		       : exact ? kv_push(&d->l[L_XCLASS_DEL], &x, NULL)
			       : 0;
	}
	d->new_class_keys += new_key;
	d->new_xclass_keys += new_key && exact;
	err = kv_push(&d->l[L_CLASS_ADD], k, &im->cv[i]);
	return err     ? err
	       : exact ? kv_push(&d->l[L_XCLASS_ADD], &x, &im->cv[i])
		       : 0;
}

static int rule_op(struct sg_delta *d, const struct sg_image *im, size_t i,
		   bool add, bool new_key)
{
	const struct sg_rule_key *k = &im->rk[i];
	struct sg_rule_exact_key x;
	bool exact = im->use_rule && sg_rule_entry_exact(k);
	int err;

	if (exact)
		rule_exact_key(k, &x);
	if (!add) {
		err = kv_push(&d->l[L_RULE_DEL], k, NULL);
		return err     ? err
		       : exact ? kv_push(&d->l[L_XRULE_DEL], &x, NULL)
			       : 0;
	}
	d->new_rule_keys += new_key;
	d->new_xrule_keys += new_key && exact;
	err = kv_push(&d->l[L_RULE_ADD], k, &im->rv[i]);
	return err     ? err
	       : exact ? kv_push(&d->l[L_XRULE_ADD], &x, &im->rv[i])
		       : 0;
}

/* prefixlen of a stage-1 key in a list; longer first for adds. */
static const struct kv *sort_list;

static int cmp_plen_desc(const void *a, const void *b)
{
	const struct sg_class_key *x =
		(const void *)(sort_list->k +
			       *(const size_t *)a * sort_list->ksz);
	const struct sg_class_key *y =
		(const void *)(sort_list->k +
			       *(const size_t *)b * sort_list->ksz);

	if (x->prefixlen != y->prefixlen)
		return x->prefixlen > y->prefixlen ? -1 : 1;
	return (*(const size_t *)a > *(const size_t *)b) -
	       (*(const size_t *)a < *(const size_t *)b);
}

/* Reorders a stage-1 list by prefix length, longest first (desc) or
 * shortest first. */
static int sort_by_plen(struct kv *l, bool desc)
{
	size_t *idx = malloc((l->n + 1) * sizeof(*idx));
	char *k = malloc((l->n + 1) * l->ksz);
	char *v = l->vsz ? malloc((l->n + 1) * l->vsz) : NULL;

	if (!idx || !k || (l->vsz && !v)) {
		free(idx);
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++)
		idx[i] = i;
	sort_list = l;
	qsort(idx, l->n, sizeof(*idx), cmp_plen_desc);
	for (size_t i = 0; i < l->n; i++) {
		size_t from = desc ? idx[i] : idx[l->n - 1 - i];

		memcpy(k + i * l->ksz, l->k + from * l->ksz, l->ksz);
		if (v)
			memcpy(v + i * l->vsz, l->v + from * l->vsz, l->vsz);
	}
	free(idx);
	free(l->k);
	free(l->v);
	l->k = k;
	l->v = v;
	l->cap = l->n + 1;
	return 0;
}

/*
 * Stage 1. For an address, the datapath takes the longest entry present;
 * so that this is always the old answer or the new one, adds and changes
 * go longest prefix first (a longer new entry is never missing while a
 * shorter one already answers for it), deletes shortest first (the
 * longest old entry, the old answer, stays while any old one longer than
 * the new answer does). Exact copies are full length: an address that
 * has one is answered by it alone.
 */
static int diff_classes(struct sg_delta *d, const struct sg_image *o,
			const struct sg_image *n)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < o->nc || j < n->nc)) {
		int c = i == o->nc   ? 1
			: j == n->nc ? -1
				     : cmp_class(&o->ck[i], &n->ck[j]);

		if (c < 0) {
			err = class_op(d, o, i++, false, false);
		} else if (c > 0) {
			err = class_op(d, n, j++, true, true);
		} else {
			if (memcmp(&o->cv[i], &n->cv[j], sizeof(o->cv[i])))
				err = class_op(d, n, j, true, false);
			i++;
			j++;
		}
	}
	if (!err)
		err = sort_by_plen(&d->l[L_CLASS_ADD], true);
	if (!err)
		err = sort_by_plen(&d->l[L_CLASS_DEL], false);
	return err;
}

static int diff_run(struct sg_delta *d, const struct sg_image *o,
		    const struct run *ro, const struct sg_image *n,
		    const struct run *rn)
{
	size_t i = 0, j = 0, oi, nj;
	int err = 0;

	if (ro && rn && ro->len == rn->len &&
	    !memcmp(o->rk + ro->start, n->rk + rn->start,
		    ro->len * sizeof(*o->rk)) &&
	    !memcmp(o->rv + ro->start, n->rv + rn->start,
		    ro->len * sizeof(*o->rv)))
		return 0;
	while (!err && ((ro && i < ro->len) || (rn && j < rn->len))) {
		int c;

		oi = ro ? ro->start + i : 0;
		nj = rn ? rn->start + j : 0;
		c = !ro || i == ro->len	  ? 1
		    : !rn || j == rn->len ? -1
					  : cmp_rule(&o->rk[oi], &n->rk[nj]);
		if (c < 0) {
			err = rule_op(d, o, oi, false, false);
			i++;
		} else if (c > 0) {
			err = rule_op(d, n, nj, true, true);
			j++;
		} else {
			if (memcmp(&o->rv[oi], &n->rv[nj], sizeof(o->rv[oi])))
				err = rule_op(d, n, nj, true, false);
			i++;
			j++;
		}
	}
	return err;
}

/* Stage 2 class by class; the runs of each image are kept with it (the
 * next change diffs against this one's). */
static int diff_rules(struct sg_delta *d, struct sg_image *o,
		      struct sg_image *n)
{
	struct run *ro = o->runs, *rn = NULL;
	size_t no = o->nruns, nn = 0, i = 0, j = 0;
	int err = 0;

	if (!ro)
		err = runs_of(o, &ro, &no);
	if (!err)
		err = runs_of(n, &rn, &nn);
	o->runs = ro;
	o->nruns = no;
	n->runs = rn;
	n->nruns = nn;
	while (!err && (i < no || j < nn)) {
		if (j == nn || (i < no && ro[i].id < rn[j].id))
			err = diff_run(d, o, &ro[i++], n, NULL);
		else if (i == no || rn[j].id < ro[i].id)
			err = diff_run(d, o, NULL, n, &rn[j++]);
		else
			err = diff_run(d, o, &ro[i++], n, &rn[j++]);
	}
	return err;
}

static int cmp_ip(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sg_ip_key));
}

static int diff_ips(struct sg_delta *d, const struct sg_image *o,
		    const struct sg_image *n)
{
	struct sg_ip_key *a = malloc((o->nip + 1) * sizeof(*a));
	struct sg_ip_key *b = malloc((n->nip + 1) * sizeof(*b));
	size_t i = 0, j = 0;
	__u8 one = 1;
	int err = 0;

	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	memcpy(a, o->ip, o->nip * sizeof(*a));
	memcpy(b, n->ip, n->nip * sizeof(*b));
	qsort(a, o->nip, sizeof(*a), cmp_ip);
	qsort(b, n->nip, sizeof(*b), cmp_ip);
	while (!err && (i < o->nip || j < n->nip)) {
		int c = i == o->nip   ? 1
			: j == n->nip ? -1
				      : cmp_ip(&a[i], &b[j]);

		if (c < 0) {
			err = kv_push(&d->l[L_IP_DEL], &a[i++], NULL);
		} else if (c > 0) {
			d->new_ip_keys++;
			err = kv_push(&d->l[L_IP_ADD], &b[j++], &one);
		} else {
			i++;
			j++;
		}
	}
	free(a);
	free(b);
	return err;
}

/* Sets the filter bits of an exact key, marking the word if it gained
 * one. */
static void bloom_add(__u64 *words, __u8 *marked, __u64 h)
{
	__u32 w = sg_bloom_word(0, h);
	__u64 bits = sg_bloom_bits(h);

	if ((words[w] & bits) == bits)
		return;
	words[w] |= bits;
	marked[w / 8] |= (__u8)(1u << (w % 8));
}

/*
 * The filter words. Known words (old's, taken over: old is dropped after
 * this change anyway) gain the bits of the added exact keys; bits of
 * deleted keys stay (a false "maybe" costs one hash lookup, never a
 * wrong answer) until the next new generation rewrites the filter
 * whole. Unknown words (no exact entry written yet) are computed and
 * written whole.
 */
static int diff_bloom(struct sg_delta *d, struct sg_image *o,
		      struct sg_image *n)
{
	const struct kv *xc = &d->l[L_XCLASS_ADD], *xr = &d->l[L_XRULE_ADD];
	__u8 *marked;
	int err = 0;

	if (!o->bloom) {
		struct sg_class_exact_key *xck;
		struct sg_class_val *xcv;
		struct sg_rule_exact_key *xrk;
		struct sg_rule_val *xrv;

		if (!n->nxc && !n->nxr)
			return 0; /* still nothing reads the words */
		n->bloom = calloc(SG_BLOOM_WORDS, sizeof(*n->bloom));
		if (!n->bloom || sg_image_exact(n, &xck, &xcv, &xrk, &xrv))
			return -ENOMEM;
		sg_exact_bloom_words(n->bloom, xck, n->nxc, xrk, n->nxr);
		free(xck);
		free(xcv);
		free(xrk);
		free(xrv);
		for (__u32 w = 0; !err && w < SG_BLOOM_WORDS; w++) {
			__u32 key = sg_bloom_word(n->gen, 0) + w;

			err = kv_push(&d->l[L_BLOOM_EARLY], &key, &n->bloom[w]);
		}
		return err;
	}
	n->bloom = o->bloom;
	o->bloom = NULL;
	marked = calloc(SG_BLOOM_WORDS / 8, 1);
	if (!marked)
		return -ENOMEM;
	for (size_t i = 0; i < xc->n; i++)
		bloom_add(n->bloom, marked,
			  sg_class_exact_hash(
				  (const void *)(xc->k + i * xc->ksz)));
	for (size_t i = 0; i < xr->n; i++)
		bloom_add(n->bloom, marked,
			  sg_rule_exact_hash(
				  (const void *)(xr->k + i * xr->ksz)));
	/* Words that gained a bit, written before the entries. */
	for (__u32 w = 0; !err && w < SG_BLOOM_WORDS; w++) {
		__u32 key = sg_bloom_word(n->gen, 0) + w;

		if (marked[w / 8] & (1u << (w % 8)))
			err = kv_push(&d->l[L_BLOOM_EARLY], &key, &n->bloom[w]);
	}
	free(marked);
	return err;
}

/* Every SG_INST_EXACT* bit: without them the tries alone decide, right
 * for any policy. */
#define INST_EXACT_MASK                                                        \
	(SG_INST_EXACT(0, 0) | SG_INST_EXACT(0, 1) | SG_INST_EXACT(1, 0) |     \
	 SG_INST_EXACT(1, 1) | SG_INST_EXACT_ONLY(0, 0) |                      \
	 SG_INST_EXACT_ONLY(0, 1) | SG_INST_EXACT_ONLY(1, 0) |                 \
	 SG_INST_EXACT_ONLY(1, 1))

/*
 * An instance's settings. The datapath reads flags and policy as two
 * loads of a value written in place, so a packet may pair the old flags
 * with the new policy: when the policy changes, the exact flags go first
 * (old policy, tries only), then the policy (tries only), then the new
 * flags; any two neighbours of that sequence pair safely.
 */
static int inst_op(struct sg_delta *d, __u32 gen, __u32 slot,
		   const struct sg_inst *o, const struct sg_inst *n)
{
	__u32 key = gen * SG_MAX_INSTANCES + slot;
	struct sg_inst mid;
	int err = 0;

	if (!memcmp(o, n, sizeof(*o)))
		return 0;
	if (o->policy != n->policy && (o->flags & SG_INST_PRESENT) &&
	    (n->flags & SG_INST_PRESENT) &&
	    ((o->flags | n->flags) & INST_EXACT_MASK)) {
		mid = *o;
		mid.flags &= ~INST_EXACT_MASK;
		err = kv_push(&d->l[L_INST_PREP], &key, &mid);
		mid = *n;
		mid.flags &= ~INST_EXACT_MASK;
		if (!err)
			err = kv_push(&d->l[L_INST_PREP], &key, &mid);
	}
	return err ? err : kv_push(&d->l[L_INST], &key, n);
}

int sg_delta_make(struct sg_state *st, struct sg_image *old,
		  const struct sg_compiled *c, const int *slots, size_t nslots,
		  const struct sg_apply_opts *opts, size_t max_ops,
		  struct sg_image *next, struct sg_delta **out)
{
	struct sgctl_bpf *s = st->skel;
	struct sg_exact_sizes sizes = {};
	struct sg_delta *d = NULL;
	size_t ops;
	int err;

	*out = NULL;
	sizes.class_trie = old->other_class + c->nclasses_entries;
	sizes.rule_trie = old->other_rule + c->nrules_entries;
	sizes.class_room = bpf_map__max_entries(s->maps.sg_class_exact) -
			   old->other_xclass;
	sizes.rule_room =
		bpf_map__max_entries(s->maps.sg_rule_exact) - old->other_xrule;
	sizes.always = opts && opts->exact_always;
	err = sg_image_build(c, slots, nslots, &sizes, old->gen, false, next);
	if (err)
		return err;
	next->other_class = old->other_class;
	next->other_rule = old->other_rule;
	next->other_xclass = old->other_xclass;
	next->other_xrule = old->other_xrule;
	next->other_ip = old->other_ip;
	/* The exact fronts switched on or off: every flag changes, a new
	 * generation is the simpler write. */
	if (next->use_class != old->use_class ||
	    next->use_rule != old->use_rule || !classes_sorted(old) ||
	    !classes_sorted(next)) {
		err = -EAGAIN;
		goto fail;
	}
	d = delta_new();
	if (!d) {
		err = -ENOMEM;
		goto fail;
	}
	err = diff_rules(d, old, next);
	if (!err)
		err = diff_classes(d, old, next);
	if (err)
		goto fail;
	ops = d->l[L_CLASS_ADD].n + d->l[L_CLASS_DEL].n + d->l[L_RULE_ADD].n +
	      d->l[L_RULE_DEL].n;
	if (ops > max_ops) {
		err = -EAGAIN;
		goto fail;
	}
	/* Old and new side by side must fit beside the other generation. */
	if (old->other_class + old->nc + d->new_class_keys >
		    bpf_map__max_entries(s->maps.sg_class) ||
	    old->other_rule + old->nr + d->new_rule_keys >
		    bpf_map__max_entries(s->maps.sg_rule) ||
	    old->other_xclass + old->nxc + d->new_xclass_keys >
		    bpf_map__max_entries(s->maps.sg_class_exact) ||
	    old->other_xrule + old->nxr + d->new_xrule_keys >
		    bpf_map__max_entries(s->maps.sg_rule_exact)) {
		err = -EAGAIN;
		goto fail;
	}
	err = diff_ips(d, old, next);
	if (!err && old->other_ip + old->nip + d->new_ip_keys >
			    bpf_map__max_entries(s->maps.sg_ip))
		err = -EAGAIN;
	for (__u32 i = 0; !err && i < SG_MAX_INSTANCES; i++)
		err = inst_op(d, old->gen, i, &old->inst[i], &next->inst[i]);
	if (!err)
		err = diff_bloom(d, old, next);
	if (err)
		goto fail;
	*out = d;
	return 0;
fail:
	if (err == -ENOMEM)
		sg_err("out of memory");
	sg_delta_free(d);
	sg_image_free(next);
	return err;
}

static int map_fd_of(struct sg_state *st, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(st->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

size_t sg_delta_write_limit;

int sg_delta_write(struct sg_state *st, const struct sg_delta *d,
		   size_t *written, size_t *deleted)
{
	size_t done = 0;
	int err = 0;

	*written = *deleted = 0;
	for (int i = 0; i < L_N && !err; i++) {
		struct kv part = d->l[i];
		const struct kv *l = &part;
		bool stop = false;
		int fd;

		if (!l->n)
			continue;
		/* Tests: a crash after this many writes. */
		if (sg_delta_write_limit &&
		    done + l->n >= sg_delta_write_limit) {
			part.n = sg_delta_write_limit - done;
			stop = true;
		}
		done += part.n;
		fd = map_fd_of(st, list_map[i]);
		if (fd < 0)
			return fd;
		if (l->vsz) {
			err = sg_map_write(fd, list_map[i], l->k, l->v, l->ksz,
					   l->vsz, l->n);
			if (i != L_BLOOM_EARLY && i != L_INST_PREP)
				*written += l->n;
		} else {
			err = sg_map_delete_keys(fd, l->k, l->ksz, l->n);
			if (err)
				sg_err("cannot delete from %s: %s", list_map[i],
				       sg_bpf_strerror(err));
			*deleted += l->n;
		}
		if (!err && stop)
			return -EINTR;
	}
	return err;
}
