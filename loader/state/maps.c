// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The pinned state (see maps.h): opening the object with its maps pinned by
 * name, writing a compiled config as a new generation and flipping to it,
 * instance slots, the stored config text, and removing it all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/state.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's "operation not supported" for batches */
#endif

#define BITS_PER_UL (8 * sizeof(unsigned long))

const char *sg_bpf_strerror(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

/* ---------------------------------------------------------------- bpffs */

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool under_sys_fs_bpf(const char *dir)
{
	static const char root[] = "/sys/fs/bpf";
	size_t n = sizeof(root) - 1;

	return strncmp(dir, root, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

/* Makes sure pin_dir exists, mode 0700, on a bpffs. */
static int prepare_pin_dir(const char *dir)
{
	int err;

	if (dir[0] != '/') {
		sg_err("pin directory %s: must be an absolute path", dir);
		return -EINVAL;
	}
	if (under_sys_fs_bpf(dir) && !is_bpffs("/sys/fs/bpf")) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			err = -errno;
			sg_err("cannot mount bpffs at /sys/fs/bpf: %s",
			       strerror(-err));
			return err;
		}
	}
	err = mkdir_p(dir, 0700);
	if (err) {
		sg_err("cannot create pin directory %s: %s", dir,
		       strerror(-err));
		return err;
	}
	if (!is_bpffs(dir)) {
		/* A pin dir outside any bpffs gets a bpffs of its own. */
		if (mount("bpf", dir, "bpf", 0, "mode=0700")) {
			err = -errno;
			sg_err("cannot mount bpffs at %s: %s", dir,
			       strerror(-err));
			return err;
		}
	}
	if (chmod(dir, 0700)) {
		err = -errno;
		sg_err("chmod %s: %s", dir, strerror(-err));
		return err;
	}
	return 0;
}

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool sg_state_exists(const char *pin_dir)
{
	char path[PATH_MAX];

	if (pin_path(path, sizeof(path), pin_dir, "sg_meta"))
		return false;
	return access(path, F_OK) == 0;
}

/* ----------------------------------------------------------- open/close */

int sg_state_open(struct sg_state *st, const char *pin_dir, int slot,
		  bool host_side)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	bool existed;
	int err;

	memset(st, 0, sizeof(*st));
	if (strlen(pin_dir) >= sizeof(st->pin_dir)) {
		sg_err("pin directory %s: name too long", pin_dir);
		return -ENAMETOOLONG;
	}
	strcpy(st->pin_dir, pin_dir);
	if (slot >= SG_MAX_INSTANCES) {
		sg_err("slot %d out of range (max %d)", slot,
		       SG_MAX_INSTANCES - 1);
		return -ERANGE;
	}

	existed = sg_state_exists(st->pin_dir);
	err = prepare_pin_dir(st->pin_dir);
	if (err)
		return err;

	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = st->pin_dir);
	st->skel = sgctl_bpf__open_opts(&opts);
	if (!st->skel) {
		err = -errno;
		sg_err("cannot open the BPF object: %s", sg_bpf_strerror(err));
		return err;
	}
	if (slot >= 0) {
		st->skel->rodata->sg_slot = (__u32)slot;
		st->skel->rodata->sg_host_side = host_side ? 1 : 0;
		st->progs = true;
	} else {
		bpf_object__for_each_program(prog, st->skel->obj)
			bpf_program__set_autoload(prog, false);
	}
	err = sgctl_bpf__load(st->skel);
	if (err) {
		sg_err("cannot load the BPF object (pins in %s): %s",
		       st->pin_dir, sg_bpf_strerror(err));
		if (err == -EINVAL && existed)
			sg_err("the pinned maps may come from another sgctl "
			       "version; sgctl unload removes them");
		sgctl_bpf__destroy(st->skel);
		st->skel = NULL;
		return err;
	}

	/* Pins are root-only. */
	for (map = bpf_object__next_map(st->skel->obj, NULL); map;
	     map = bpf_object__next_map(st->skel->obj, map)) {
		char path[PATH_MAX];

		if (bpf_map__is_internal(map))
			continue;
		if (pin_path(path, sizeof(path), st->pin_dir,
			     bpf_map__name(map)))
			continue;
		if (chmod(path, 0600) && errno != ENOENT) {
			err = -errno;
			sg_err("chmod %s: %s", path, strerror(-err));
			sg_state_close(st);
			return err;
		}
	}
	return 0;
}

void sg_state_close(struct sg_state *st)
{
	if (st->skel)
		sgctl_bpf__destroy(st->skel);
	st->skel = NULL;
	st->progs = false;
	st->slots_cached = false;
}

/* ------------------------------------------------------- map utilities */

static bool batch_unsupported(int err)
{
	return err == -ENOTSUPP || err == -EOPNOTSUPP || err == -EINVAL;
}

/* Grows the key and value arrays of map_dump() to hold need entries. */
static int dump_grow(char **keys, char **vals, size_t *cap, size_t need,
		     size_t ksz, size_t vsz)
{
	while (need > *cap) {
		size_t ncap = *cap * 2;
		char *k = realloc(*keys, ncap * ksz);

		if (!k)
			return -ENOMEM;
		*keys = k;
		k = realloc(*vals, ncap * vsz);
		if (!k)
			return -ENOMEM;
		*vals = k;
		*cap = ncap;
	}
	return 0;
}

/*
 * Reads every (key, value) of a map. Hash maps in batches, others key by
 * key. vals may be NULL when only keys are wanted.
 */
static int map_dump(int fd, size_t ksz, size_t vsz, void **keys_out,
		    void **vals_out, size_t *n_out)
{
	size_t cap = 4096, n = 0;
	char *keys = malloc(cap * ksz), *vals = malloc(cap * vsz);
	__u64 batch_in[8], batch_out[8]; /* opaque token, <= 64 bytes */
	bool first = true;
	__u32 want = 1024;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	if (ksz > sizeof(batch_in)) {
		err = -ENOTSUPP;
		goto fallback;
	}
	for (;;) {
		__u32 count = want;

		err = dump_grow(&keys, &vals, &cap, n + count, ksz, vsz);
		if (err)
			goto out;
		err = bpf_map_lookup_batch(fd, first ? NULL : batch_in,
					   batch_out, keys + n * ksz,
					   vals + n * vsz, &count, NULL);
		if (err && err != -ENOENT && first && batch_unsupported(err))
			goto fallback;
		if (err == -ENOSPC && count == 0 && want < (1u << 20)) {
			/* a bucket larger than count: grow and retry */
			want *= 2;
			continue;
		}
		n += count;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err)
			goto out;
		memcpy(batch_in, batch_out, sizeof(batch_in));
		first = false;
	}
	goto out;

fallback:
	n = 0;
	err = 0;
	for (;;) {
		int e;

		err = dump_grow(&keys, &vals, &cap, n + 1, ksz, vsz);
		if (err)
			goto out;
		e = bpf_map_get_next_key(fd, n ? keys + (n - 1) * ksz : NULL,
					 keys + n * ksz);
		if (e == -ENOENT)
			break;
		if (e) {
			err = e;
			goto out;
		}
		e = bpf_map_lookup_elem(fd, keys + n * ksz, vals + n * vsz);
		if (e == -ENOENT)
			continue; /* deleted meanwhile; next key from the prior
				   */
		if (e) {
			err = e;
			goto out;
		}
		n++;
	}
out:
	if (err) {
		free(keys);
		free(vals);
		return err;
	}
	*keys_out = keys;
	*n_out = n;
	if (vals_out)
		*vals_out = vals;
	else
		free(vals);
	return 0;
}

/* Deletes keys; a key already gone is not an error. */
static int map_delete_keys(int fd, const void *keys, size_t ksz, size_t n)
{
	const char *k = keys;
	size_t done = 0;
	bool batch = true;

	while (done < n) {
		if (batch) {
			__u32 count = (__u32)(n - done);
			int err = bpf_map_delete_batch(fd, k + done * ksz,
						       &count, NULL);

			done += count;
			if (!err)
				continue;
			if (err == -ENOENT) {
				done++; /* that one was gone already */
				continue;
			}
			if (!batch_unsupported(err))
				return err;
			batch = false;
			continue;
		}
		int err = bpf_map_delete_elem(fd, k + done * ksz);

		if (err && err != -ENOENT)
			return err;
		done++;
	}
	return 0;
}

static int map_update_all(int fd, const void *keys, const void *vals,
			  size_t ksz, size_t vsz, size_t n)
{
	const char *k = keys, *v = vals;
	size_t done = 0;
	bool batch = true;

	while (done < n) {
		if (batch) {
			__u32 count = (__u32)(n - done);
			int err = bpf_map_update_batch(fd, k + done * ksz,
						       v + done * vsz, &count,
						       NULL);

			done += count;
			if (!err)
				continue;
			if (!batch_unsupported(err) || count)
				return err;
			batch = false;
			continue;
		}
		int err = bpf_map_update_elem(fd, k + done * ksz,
					      v + done * vsz, BPF_ANY);

		if (err)
			return err;
		done++;
	}
	return 0;
}

/* map_update_all(), saying which map failed and how many entries it got. */
static int write_map(int fd, const char *name, const void *keys,
		     const void *vals, size_t ksz, size_t vsz, size_t n)
{
	int err = map_update_all(fd, keys, vals, ksz, vsz, n);

	if (err)
		sg_err("cannot write %s (%zu entries): %s", name, n, sg_bpf_strerror(err));
	return err;
}

/*
 * Deletes the entries whose generation bit (at gen_off in the key) is gen;
 * *kept (if kept) is how many of the other generation remain.
 */
static int purge_generation(int fd, size_t ksz, size_t vsz, size_t gen_off,
			    __u32 gen, size_t *kept)
{
	void *keys, *vals;
	size_t n, m = 0;
	int err;

	err = map_dump(fd, ksz, vsz, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		__u32 w;

		memcpy(&w, (char *)keys + i * ksz + gen_off, sizeof(w));
		if ((w >> SG_GEN_SHIFT) != gen)
			continue;
		if (m != i)
			memcpy((char *)keys + m * ksz, (char *)keys + i * ksz,
			       ksz);
		m++;
	}
	if (kept)
		*kept = n - m;
	err = map_delete_keys(fd, keys, ksz, m);
	free(keys);
	free(vals);
	return err;
}

/* ----------------------------------------------------------- meta, gen */

int sg_meta_read(struct sg_state *st, struct sg_meta *m)
{
	__u32 k = 0;
	int err =
		bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_meta), &k, m);

	if (err)
		sg_err("cannot read sg_meta: %s", sg_bpf_strerror(err));
	return err;
}

int sg_meta_write(struct sg_state *st, const struct sg_meta *m)
{
	__u32 k = 0;
	int err = bpf_map_update_elem(bpf_map__fd(st->skel->maps.sg_meta), &k,
				      m, BPF_ANY);

	if (err)
		sg_err("cannot write sg_meta: %s", sg_bpf_strerror(err));
	return err;
}

int sg_active_gen(struct sg_state *st, __u32 *gen)
{
	struct sg_active a;
	__u32 k = 0;
	int err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_active), &k,
				      &a);

	if (err) {
		sg_err("cannot read sg_active: %s", sg_bpf_strerror(err));
		return err;
	}
	*gen = a.gen & 1;
	return 0;
}

/* ---------------------------------------------------------------- apply */

/*
 * Generation gen's half of the exact maps' miss filter, rewritten whole
 * (bits of the generation two loads old must go). Not needed, and left as
 * it is, when no exact entry is written: no flag then sends a lookup to it.
 */
static int write_bloom(int fd, __u32 gen, const struct sg_class_exact_key *ck,
		       size_t nc, const struct sg_rule_exact_key *rk, size_t nr)
{
	__u64 *words;
	__u32 *keys;
	int err;

	if (!nc && !nr)
		return 0;
	words = calloc(SG_BLOOM_WORDS, sizeof(*words));
	keys = calloc(SG_BLOOM_WORDS, sizeof(*keys));
	if (!words || !keys) {
		free(words);
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nc; i++) {
		__u64 h = sg_class_exact_hash(&ck[i]);

		words[sg_bloom_word(0, h)] |= sg_bloom_bits(h);
	}
	for (size_t i = 0; i < nr; i++) {
		__u64 h = sg_rule_exact_hash(&rk[i]);

		words[sg_bloom_word(0, h)] |= sg_bloom_bits(h);
	}
	for (__u32 i = 0; i < SG_BLOOM_WORDS; i++)
		keys[i] = sg_bloom_word(gen, 0) + i;
	err = map_update_all(fd, keys, words, sizeof(*keys), sizeof(*words),
			     SG_BLOOM_WORDS);
	free(words);
	free(keys);
	return err;
}

/*
 * The exact-match fronts (sg_class_exact, sg_rule_exact) and the flags that
 * tell the datapath when to read them, derived from the compiled entries
 * alone: the compiler does not know about them, and sg_compiled_lookup()
 * stays the reference for both.
 */
struct exact_plan {
	__u8 *scope; /* [policy * 4 + dir * 2 + v6]: EXACT_HAS / EXACT_OTHER */
	size_t npolicies;
	__u8 *class; /* [class_id]: EXACT_HAS / EXACT_OTHER */
	size_t nclass_ids;
	bool use_class, use_rule; /* the trie is deep enough to bother */
	size_t nclass_exact, nrule_exact;
};

/*
 * A kernel hash lookup is three or four function calls (lookup, hash,
 * bucket walk, key compare), ~25 ns behind SRSO return thunks; an LPM
 * lookup is one call plus a few ns per trie node on the way down. Below
 * this many entries in the trie (both generations) the walk is the
 * cheaper of the two, so the exact maps are left out of that stage.
 */
#define SG_EXACT_MIN_TRIE 64

#define EXACT_HAS (1u << 0) /* some entries are full-length */
#define EXACT_OTHER (1u << 1) /* some are not */

static bool class_entry_exact(const struct sg_class_key *k)
{
	return k->prefixlen == 32u + ((k->scope >> 29) & 1 ? 128u : 32u);
}

static bool rule_entry_exact(const struct sg_rule_key *k)
{
	return k->prefixlen == SG_RULE_PLEN_PROTO + 16;
}

static void exact_plan_free(struct exact_plan *x)
{
	free(x->scope);
	free(x->class);
}

/*
 * class_trie, rule_trie: entries the tries will hold (both generations);
 * class_room, rule_room: what the exact maps have left once purged. A
 * generation that does not fit goes without them (the tries alone).
 */
static int exact_plan_make(const struct sg_compiled *c, size_t class_trie,
			   size_t rule_trie, size_t class_room,
			   size_t rule_room, struct exact_plan *x)
{
	__u32 max_id = 0;

	memset(x, 0, sizeof(*x));
	x->use_class = class_trie >= SG_EXACT_MIN_TRIE;
	x->use_rule = rule_trie >= SG_EXACT_MIN_TRIE;
	for (size_t i = 0; i < c->nclasses_entries; i++)
		if (c->classes[i].val.class_id > max_id)
			max_id = c->classes[i].val.class_id;
	for (size_t i = 0; i < c->nrules_entries; i++)
		if (c->rules[i].key.class_id > max_id)
			max_id = c->rules[i].key.class_id;
	x->npolicies = c->npolicies;
	x->nclass_ids = (size_t)max_id + 1;
	x->scope = calloc(x->npolicies ? x->npolicies * 4 : 1, 1);
	x->class = calloc(x->nclass_ids, 1);
	if (!x->scope || !x->class) {
		exact_plan_free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nclasses_entries; i++) {
		const struct sg_class_key *k = &c->classes[i].key;
		__u32 pol = k->scope & 0x1fffffff;

		x->nclass_exact += x->use_class && class_entry_exact(k);
		if (pol >= x->npolicies)
			continue; /* no instance reads it */
		/* (scope >> 29) & 3 is dir << 1 | v6 */
		x->scope[pol * 4 + ((k->scope >> 29) & 3)] |=
			class_entry_exact(k) ? EXACT_HAS : EXACT_OTHER;
	}
	for (size_t i = 0; i < c->nrules_entries; i++) {
		const struct sg_rule_key *k = &c->rules[i].key;

		x->class[k->class_id] |=
			rule_entry_exact(k) ? EXACT_HAS : EXACT_OTHER;
		x->nrule_exact += x->use_rule && rule_entry_exact(k);
	}
	if (x->nclass_exact > class_room) {
		x->use_class = false;
		x->nclass_exact = 0;
	}
	if (x->nrule_exact > rule_room) {
		x->use_rule = false;
		x->nrule_exact = 0;
	}
	return 0;
}

/*
 * A scope or class with no entry but full-length ones is answered by the
 * hash alone (a miss there is a miss in the trie too); one with none at
 * all as well, the hash then holding all zero of them.
 */
static __u32 exact_inst_flags(const struct exact_plan *x, __u32 policy)
{
	__u32 f = 0;

	if (!x->use_class || policy >= x->npolicies)
		return 0;
	for (int dir = 0; dir < SG_NDIR; dir++) {
		for (int v6 = 0; v6 < 2; v6++) {
			__u8 s = x->scope[policy * 4 + ((dir << 1) | v6)];

			if (!(s & EXACT_OTHER))
				f |= SG_INST_EXACT(dir, v6) |
				     SG_INST_EXACT_ONLY(dir, v6);
			else if (s & EXACT_HAS)
				f |= SG_INST_EXACT(dir, v6);
		}
	}
	return f;
}

static __u16 exact_class_flags(const struct exact_plan *x, __u32 class_id)
{
	__u8 r = class_id < x->nclass_ids ? x->class[class_id] : EXACT_OTHER;

	if (!x->use_rule)
		return 0;
	if (!(r & EXACT_OTHER))
		return SG_CLASS_EXACT_PORTS | SG_CLASS_EXACT_ONLY;
	return r & EXACT_HAS ? SG_CLASS_EXACT_PORTS : 0;
}

int sg_state_apply(struct sg_state *st, const struct sg_compiled *c,
		   const int *slots, size_t nslots)
{
	struct sgctl_bpf *s = st->skel;
	int class_fd = bpf_map__fd(s->maps.sg_class);
	int rule_fd = bpf_map__fd(s->maps.sg_rule);
	int ip_fd = bpf_map__fd(s->maps.sg_ip);
	int inst_fd = bpf_map__fd(s->maps.sg_inst);
	int xclass_fd = bpf_map__fd(s->maps.sg_class_exact);
	int xrule_fd = bpf_map__fd(s->maps.sg_rule_exact);
	struct sg_class_key *ckeys = NULL;
	struct sg_class_val *cvals = NULL;
	struct sg_rule_key *rkeys = NULL;
	struct sg_rule_val *rvals = NULL;
	struct sg_class_exact_key *xckeys = NULL;
	struct sg_class_val *xcvals = NULL;
	struct sg_rule_exact_key *xrkeys = NULL;
	struct sg_rule_val *xrvals = NULL;
	struct exact_plan x = {};
	size_t kept_class = 0, kept_rule = 0, kept_xclass = 0, kept_xrule = 0;
	struct sg_ip_key *ipkeys = NULL;
	__u8 *ipvals = NULL;
	__u32 *ikeys = NULL;
	struct sg_inst *ivals = NULL;
	struct sg_active act = {};
	size_t nips = 0, j = 0;
	__u32 gen, ng, zero = 0;
	int err;

	if (nslots != c->ninsts) {
		sg_err("internal: %zu slots for %zu instances", nslots,
		       c->ninsts);
		return -EINVAL;
	}
	err = sg_active_gen(st, &gen);
	if (err)
		return err;
	ng = gen ^ 1;

	/* 1. What is left of generation ng is two loads old: drop it. */
	err = purge_generation(class_fd, sizeof(struct sg_class_key),
			       sizeof(struct sg_class_val),
			       offsetof(struct sg_class_key, scope), ng,
			       &kept_class);
	if (!err)
		err = purge_generation(rule_fd, sizeof(struct sg_rule_key),
				       sizeof(struct sg_rule_val),
				       offsetof(struct sg_rule_key, class_id),
				       ng, &kept_rule);
	if (!err)
		err = purge_generation(
			xclass_fd, sizeof(struct sg_class_exact_key),
			sizeof(struct sg_class_val),
			offsetof(struct sg_class_exact_key, scope), ng,
			&kept_xclass);
	if (!err)
		err = purge_generation(xrule_fd, sizeof(struct sg_rule_exact_key),
				       sizeof(struct sg_rule_val),
				       offsetof(struct sg_rule_exact_key,
						class_id),
				       ng, &kept_xrule);
	if (!err)
		err = purge_generation(
			ip_fd, sizeof(struct sg_ip_key), sizeof(__u8),
			offsetof(struct sg_ip_key, gen_slot), ng, NULL);
	if (err) {
		sg_err("cannot clear stale policy generation %u: %s", ng,
		       sg_bpf_strerror(err));
		return err;
	}

	/* 2. Instances of generation ng: every slot, absent ones zeroed. */
	ikeys = calloc(SG_MAX_INSTANCES, sizeof(*ikeys));
	ivals = calloc(SG_MAX_INSTANCES, sizeof(*ivals));
	for (size_t i = 0; i < c->ninsts; i++)
		nips += c->insts[i].nips;
	ipkeys = calloc(nips ? nips : 1, sizeof(*ipkeys));
	ipvals = calloc(nips ? nips : 1, sizeof(*ipvals));
	ckeys = calloc(c->nclasses_entries ? c->nclasses_entries : 1,
		       sizeof(*ckeys));
	cvals = calloc(c->nclasses_entries ? c->nclasses_entries : 1,
		       sizeof(*cvals));
	rkeys = calloc(c->nrules_entries ? c->nrules_entries : 1,
		       sizeof(*rkeys));
	rvals = calloc(c->nrules_entries ? c->nrules_entries : 1,
		       sizeof(*rvals));
	if (st->exact_always)
		kept_class = kept_rule = SG_EXACT_MIN_TRIE;
	err = exact_plan_make(
		c, kept_class + c->nclasses_entries,
		kept_rule + c->nrules_entries,
		bpf_map__max_entries(s->maps.sg_class_exact) - kept_xclass,
		bpf_map__max_entries(s->maps.sg_rule_exact) - kept_xrule, &x);
	if (!err) {
		xckeys = calloc(x.nclass_exact ? x.nclass_exact : 1,
				sizeof(*xckeys));
		xcvals = calloc(x.nclass_exact ? x.nclass_exact : 1,
				sizeof(*xcvals));
		xrkeys = calloc(x.nrule_exact ? x.nrule_exact : 1,
				sizeof(*xrkeys));
		xrvals = calloc(x.nrule_exact ? x.nrule_exact : 1,
				sizeof(*xrvals));
	}
	if (err || !ikeys || !ivals || !ipkeys || !ipvals || !ckeys ||
	    !cvals || !rkeys || !rvals || !xckeys || !xcvals || !xrkeys ||
	    !xrvals) {
		err = -ENOMEM;
		sg_err("out of memory");
		goto out;
	}
	for (__u32 i = 0; i < SG_MAX_INSTANCES; i++)
		ikeys[i] = ng * SG_MAX_INSTANCES + i;
	for (size_t i = 0; i < c->ninsts; i++) {
		const struct sg_inst_entry *e = &c->insts[i];

		/* No slot: a remote instance, not enforced here. */
		if (slots[i] < 0 && !(e->inst.flags & SG_INST_PRESENT))
			continue;
		if (slots[i] < 0 || slots[i] >= SG_MAX_INSTANCES) {
			sg_err("internal: slot %d out of range", slots[i]);
			err = -ERANGE;
			goto out;
		}
		ivals[slots[i]] = e->inst;
		ivals[slots[i]].flags |= SG_INST_PRESENT;
		ivals[slots[i]].flags |= exact_inst_flags(&x, e->inst.policy);
		for (size_t k = 0; k < e->nips; k++, j++) {
			ipkeys[j] = e->ips[k];
			ipkeys[j].gen_slot =
				ng << SG_GEN_SHIFT | (__u32)slots[i];
			ipvals[j] = 1;
		}
	}
	err = write_map(inst_fd, "sg_inst", ikeys, ivals, sizeof(*ikeys),
			sizeof(*ivals), SG_MAX_INSTANCES);
	if (err)
		goto out;
	err = write_map(ip_fd, "sg_ip", ipkeys, ipvals, sizeof(*ipkeys),
			sizeof(*ipvals), nips);
	if (err)
		goto out;

	/*
	 * 3. Stage 1 and stage 2 of generation ng, each full-length entry
	 * also into its exact-match map. Nothing reads generation ng before
	 * the flip, so the order of the writes does not matter.
	 */
	for (size_t i = 0, k = 0; i < c->nclasses_entries; i++) {
		ckeys[i] = c->classes[i].key;
		ckeys[i].scope |= ng << SG_GEN_SHIFT;
		cvals[i] = c->classes[i].val;
		cvals[i].flags = exact_class_flags(&x, cvals[i].class_id);
		cvals[i].class_id |= ng << SG_GEN_SHIFT;
		if (!x.use_class || !class_entry_exact(&ckeys[i]))
			continue;
		xckeys[k].scope = ckeys[i].scope;
		memcpy(xckeys[k].addr, ckeys[i].addr, sizeof(xckeys[k].addr));
		xcvals[k++] = cvals[i];
	}
	err = write_map(class_fd, "sg_class", ckeys, cvals, sizeof(*ckeys),
			sizeof(*cvals), c->nclasses_entries);
	if (err)
		goto out;
	err = write_map(xclass_fd, "sg_class_exact", xckeys, xcvals,
			sizeof(*xckeys), sizeof(*xcvals), x.nclass_exact);
	if (err)
		goto out;
	for (size_t i = 0, k = 0; i < c->nrules_entries; i++) {
		rkeys[i] = c->rules[i].key;
		rkeys[i].class_id |= ng << SG_GEN_SHIFT;
		rvals[i] = c->rules[i].val;
		if (!x.use_rule || !rule_entry_exact(&rkeys[i]))
			continue;
		xrkeys[k].class_id = rkeys[i].class_id;
		xrkeys[k].proto = rkeys[i].proto;
		xrkeys[k].port = rkeys[i].port;
		xrvals[k++] = rvals[i];
	}
	err = write_map(rule_fd, "sg_rule", rkeys, rvals, sizeof(*rkeys),
			sizeof(*rvals), c->nrules_entries);
	if (err)
		goto out;
	err = write_map(xrule_fd, "sg_rule_exact", xrkeys, xrvals,
			sizeof(*xrkeys), sizeof(*xrvals), x.nrule_exact);
	if (err)
		goto out;
	err = write_bloom(bpf_map__fd(s->maps.sg_exact_bloom), ng, xckeys,
			  x.nclass_exact, xrkeys, x.nrule_exact);
	if (err) {
		sg_err("cannot write sg_exact_bloom: %s", sg_bpf_strerror(err));
		goto out;
	}

	/* 4. Flip: one store, new flows see generation ng from here on. */
	act.gen = ng;
	err = bpf_map_update_elem(bpf_map__fd(s->maps.sg_active), &zero, &act,
				  BPF_ANY);
	if (err)
		sg_err("cannot switch to policy generation %u: %s", ng,
		       sg_bpf_strerror(err));
out:
	free(ikeys);
	free(ivals);
	free(ipkeys);
	free(ipvals);
	free(ckeys);
	free(cvals);
	free(rkeys);
	free(rvals);
	free(xckeys);
	free(xcvals);
	free(xrkeys);
	free(xrvals);
	exact_plan_free(&x);
	return err;
}

/* ---------------------------------------------------------------- slots */

static int make_slot_key(struct sg_slot_key *k, const char *id)
{
	memset(k, 0, sizeof(*k));
	if (strlen(id) >= sizeof(k->id))
		return -ENAMETOOLONG;
	strcpy(k->id, id);
	return 0;
}

static int slot_cache_load(struct sg_state *st)
{
	char *ids;
	__u32 *slots;
	size_t n;
	int err;

	if (st->slots_cached)
		return 0;
	err = sg_slot_list(st, &ids, &slots, &n);
	if (err)
		return err;
	memset(st->slot_used, 0, sizeof(st->slot_used));
	for (size_t i = 0; i < n; i++)
		if (slots[i] < SG_MAX_INSTANCES)
			st->slot_used[slots[i] / BITS_PER_UL] |=
				1UL << (slots[i] % BITS_PER_UL);
	free(ids);
	free(slots);
	st->slots_cached = true;
	return 0;
}

int sg_slot_get(struct sg_state *st, const char *id, bool allocate)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	__u32 slot;
	int err;

	if (make_slot_key(&k, id)) {
		sg_err("instance id %s is too long (max %d characters)", id,
		       SG_ID_LEN - 1);
		return -ENAMETOOLONG;
	}
	err = bpf_map_lookup_elem(fd, &k, &slot);
	if (!err)
		return (int)slot;
	if (err != -ENOENT) {
		sg_err("cannot read sg_slots: %s", sg_bpf_strerror(err));
		return err;
	}
	if (!allocate)
		return -ENOENT;

	err = slot_cache_load(st);
	if (err)
		return err;
	for (slot = 0; slot < SG_MAX_INSTANCES; slot++)
		if (!(st->slot_used[slot / BITS_PER_UL] &
		      (1UL << (slot % BITS_PER_UL))))
			break;
	if (slot == SG_MAX_INSTANCES) {
		sg_err("no free instance slot (at most %d instances)",
		       SG_MAX_INSTANCES);
		return -ENOSPC;
	}
	err = bpf_map_update_elem(fd, &k, &slot, BPF_NOEXIST);
	if (err) {
		sg_err("cannot allocate a slot for %s: %s", id, sg_bpf_strerror(err));
		return err;
	}
	st->slot_used[slot / BITS_PER_UL] |= 1UL << (slot % BITS_PER_UL);
	return (int)slot;
}

int sg_slot_release(struct sg_state *st, const char *id)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	__u32 slot;
	int err;

	if (make_slot_key(&k, id))
		return -ENOENT;
	err = bpf_map_lookup_elem(fd, &k, &slot);
	if (err == -ENOENT)
		return err;
	if (!err)
		err = bpf_map_delete_elem(fd, &k);
	if (err) {
		sg_err("cannot release the slot of %s: %s", id, sg_bpf_strerror(err));
		return err;
	}
	if (slot < SG_MAX_INSTANCES)
		st->slot_used[slot / BITS_PER_UL] &=
			~(1UL << (slot % BITS_PER_UL));
	return (int)slot;
}

int sg_slot_set(struct sg_state *st, const char *id, __u32 slot)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	int err;

	if (make_slot_key(&k, id) || slot >= SG_MAX_INSTANCES)
		return -EINVAL;
	err = bpf_map_update_elem(fd, &k, &slot, BPF_NOEXIST);
	if (err) {
		sg_err("cannot restore the slot of %s: %s", id, sg_bpf_strerror(err));
		return err;
	}
	st->slot_used[slot / BITS_PER_UL] |= 1UL << (slot % BITS_PER_UL);
	return 0;
}

int sg_slot_list(struct sg_state *st, char **ids, __u32 **slots, size_t *n)
{
	struct sg_slot_key *keys;
	__u32 *vals;
	int err;

	err = map_dump(bpf_map__fd(st->skel->maps.sg_slots), sizeof(*keys),
		       sizeof(*vals), (void **)&keys, (void **)&vals, n);
	if (err) {
		sg_err("cannot read sg_slots: %s", sg_bpf_strerror(err));
		return err;
	}
	for (size_t i = 0; i < *n; i++)
		keys[i].id[SG_ID_LEN - 1] = '\0';
	*ids = (char *)keys; /* struct sg_slot_key is exactly SG_ID_LEN */
	*slots = vals;
	return 0;
}

/* --------------------------------------------------------- forget slots */

static bool in_slots(__u32 s, const __u32 *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i] == s)
			return true;
	return false;
}

/* Deletes the entries of a hash map whose __u32 at slot_off is in slots. */
static int delete_by_slot(int fd, size_t ksz, size_t vsz, size_t slot_off,
			  const __u32 *slots, size_t nslots)
{
	void *keys, *vals;
	size_t n, m = 0;
	int err;

	err = map_dump(fd, ksz, vsz, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		__u32 s;

		memcpy(&s, (char *)keys + i * ksz + slot_off, sizeof(s));
		if (!in_slots(s, slots, nslots))
			continue;
		if (m != i)
			memcpy((char *)keys + m * ksz, (char *)keys + i * ksz,
			       ksz);
		m++;
	}
	err = map_delete_keys(fd, keys, ksz, m);
	free(keys);
	free(vals);
	return err;
}

int sg_state_forget_slots(struct sg_state *st, const __u32 *slots, size_t n)
{
	struct sgctl_bpf *s = st->skel;
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = (sizeof(struct sg_counter_val) + 7) / 8 * 8;
	__u32 keys[SG_NDIR * SG_NCOUNTERS];
	void *zeros;
	int err;

	if (!n)
		return 0;
	if (ncpu < 1)
		return ncpu;
	err = delete_by_slot(bpf_map__fd(s->maps.sg_ct),
			     sizeof(struct sg_ct_key), sizeof(struct sg_ct_val),
			     offsetof(struct sg_ct_key, slot), slots, n);
	if (err) {
		sg_err("cannot clear conntrack entries: %s", sg_bpf_strerror(err));
		return err;
	}
	err = delete_by_slot(bpf_map__fd(s->maps.sg_frag),
			     sizeof(struct sg_frag_key),
			     sizeof(struct sg_frag_val),
			     offsetof(struct sg_frag_key, slot), slots, n);
	if (err) {
		sg_err("cannot clear fragment entries: %s", sg_bpf_strerror(err));
		return err;
	}
	/* Flow-log records: a slot given to another instance starts clean. */
	err = delete_by_slot(bpf_map__fd(s->maps.sg_reject),
			     sizeof(struct sg_reject_key),
			     sizeof(struct sg_reject_val),
			     offsetof(struct sg_reject_key, slot), slots, n);
	if (err) {
		sg_err("cannot clear rejected-flow records: %s", sg_bpf_strerror(err));
		return err;
	}
	zeros = calloc((size_t)ncpu * SG_NDIR * SG_NCOUNTERS, vsz);
	if (!zeros)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		__s64 z = 0;

		if (slots[i] >= SG_MAX_INSTANCES)
			continue;
		err = bpf_map_update_elem(bpf_map__fd(s->maps.sg_ct_count),
					  &slots[i], &z, BPF_ANY);
		if (err)
			break;
		for (__u32 k = 0; k < SG_NDIR * SG_NCOUNTERS; k++)
			keys[k] = slots[i] * SG_NDIR * SG_NCOUNTERS + k;
		err = map_update_all(bpf_map__fd(s->maps.sg_stats), keys, zeros,
				     sizeof(keys[0]), (size_t)ncpu * vsz,
				     SG_NDIR * SG_NCOUNTERS);
	}
	free(zeros);
	if (err)
		sg_err("cannot reset counters: %s", sg_bpf_strerror(err));
	return err;
}

/* ----------------------------------------------------------------- blob */

int sg_blob_store(struct sg_state *st, const char *text, size_t len)
{
	int fd = bpf_map__fd(st->skel->maps.sg_blob);
	const size_t csz = sizeof(((struct sg_blob_chunk *)0)->data);
	size_t nchunks = (len + csz - 1) / csz;
	struct sg_blob_chunk *chunk;
	struct sg_meta meta;
	int err = 0;

	if (nchunks > SG_BLOB_MAX_CHUNKS) {
		sg_err("config too large to store (%zu bytes, max %zu)", len,
		       csz * SG_BLOB_MAX_CHUNKS);
		return -E2BIG;
	}
	chunk = calloc(1, sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	for (__u32 i = 0; i < nchunks; i++) {
		size_t off = (size_t)i * csz;
		size_t n = len - off < csz ? len - off : csz;

		memset(chunk, 0, sizeof(*chunk));
		chunk->len = (__u32)n;
		memcpy(chunk->data, text + off, n);
		err = bpf_map_update_elem(fd, &i, chunk, BPF_ANY);
		if (err)
			break;
	}
	free(chunk);
	for (__u32 i = (__u32)nchunks; !err && i < SG_BLOB_MAX_CHUNKS; i++) {
		int e = bpf_map_delete_elem(fd, &i);

		if (e && e != -ENOENT)
			err = e;
	}
	if (err) {
		sg_err("cannot store the config text: %s", sg_bpf_strerror(err));
		return err;
	}
	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	meta.blob_chunks = (__u32)nchunks;
	meta.blob_len = len;
	return sg_meta_write(st, &meta);
}

int sg_blob_load(struct sg_state *st, char **text, size_t *len)
{
	int fd = bpf_map__fd(st->skel->maps.sg_blob);
	struct sg_blob_chunk *chunk;
	struct sg_meta meta;
	size_t off = 0;
	char *buf;
	int err;

	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	if (!meta.loaded_at && !meta.blob_chunks)
		return -ENOENT;
	if (meta.blob_chunks > SG_BLOB_MAX_CHUNKS ||
	    meta.blob_len > (__u64)meta.blob_chunks * SG_BLOB_CHUNK) {
		sg_err("stored config is corrupt (%u chunks, %llu bytes)",
		       meta.blob_chunks, (unsigned long long)meta.blob_len);
		return -EUCLEAN;
	}
	buf = malloc(meta.blob_len + 1);
	chunk = malloc(sizeof(*chunk));
	if (!buf || !chunk) {
		free(buf);
		free(chunk);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < meta.blob_chunks; i++) {
		err = bpf_map_lookup_elem(fd, &i, chunk);
		if (err) {
			sg_err("cannot read stored config chunk %u: %s", i,
			       sg_bpf_strerror(err));
			break;
		}
		if (chunk->len > sizeof(chunk->data) ||
		    off + chunk->len > meta.blob_len) {
			sg_err("stored config is corrupt (chunk %u)", i);
			err = -EUCLEAN;
			break;
		}
		memcpy(buf + off, chunk->data, chunk->len);
		off += chunk->len;
	}
	free(chunk);
	if (!err && off != meta.blob_len) {
		sg_err("stored config is truncated (%zu of %llu bytes)", off,
		       (unsigned long long)meta.blob_len);
		err = -EUCLEAN;
	}
	if (err) {
		free(buf);
		return err;
	}
	buf[off] = '\0';
	*text = buf;
	*len = off;
	return 0;
}

/* ---------------------------------------------------------- attachments */

int sg_attach_list_fd(int fd, struct sg_attach_key **keys,
		      struct sg_attach_val **vals, size_t *n)
{
	int err = map_dump(fd, sizeof(**keys), sizeof(**vals), (void **)keys,
			   (void **)vals, n);

	if (err) {
		sg_err("cannot read sg_attach: %s", sg_bpf_strerror(err));
		return err;
	}
	for (size_t i = 0; i < *n; i++) {
		(*vals)[i].ifname[SG_IFNAME_LEN - 1] = '\0';
		(*vals)[i].netns[SG_NETNS_LEN - 1] = '\0';
		(*vals)[i].instance[SG_ID_LEN - 1] = '\0';
	}
	return 0;
}

int sg_attach_list(struct sg_state *st, struct sg_attach_key **keys,
		   struct sg_attach_val **vals, size_t *n)
{
	return sg_attach_list_fd(bpf_map__fd(st->skel->maps.sg_attach), keys,
				 vals, n);
}

/* ------------------------------------------------------------ the timer */

int sg_state_arm_timer(struct sg_state *st, __u32 slot)
{
	/* Broadcast frame, EtherType 0x88b5 (local experimental): non-IP,
	 * so the datapath passes it without touching policy or conntrack. */
	unsigned char frame[64] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0xb5,
	};
	struct sgctl_bpf *skel = st->skel;
	struct bpf_program *prog;
	int err;

	if (!st->progs) {
		LIBBPF_OPTS(bpf_object_open_opts, opts,
			    .pin_root_path = st->pin_dir);
		skel = sgctl_bpf__open_opts(&opts);
		if (!skel) {
			err = -errno;
			sg_err("cannot open the BPF object: %s", sg_bpf_strerror(err));
			return err;
		}
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog,
						  prog == skel->progs.sg_xdp);
		skel->rodata->sg_slot = slot < SG_MAX_INSTANCES ? slot : 0;
		skel->rodata->sg_host_side = 0;
		err = sgctl_bpf__load(skel);
		if (err) {
			sg_err("cannot load the BPF object: %s", sg_bpf_strerror(err));
			sgctl_bpf__destroy(skel);
			return err;
		}
	}
	LIBBPF_OPTS(bpf_test_run_opts, ropts, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1);
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.sg_xdp),
				     &ropts);
	if (err)
		sg_err("cannot start the conntrack expiry timer: %s",
		       sg_bpf_strerror(err));
	if (skel != st->skel)
		sgctl_bpf__destroy(skel);
	return err;
}

/* --------------------------------------------------------------- remove */

static bool is_mountpoint(const char *dir)
{
	char parent[PATH_MAX];
	struct stat a, b;

	if (snprintf(parent, sizeof(parent), "%s/..", dir) >=
	    (int)sizeof(parent))
		return false;
	if (stat(dir, &a) || stat(parent, &b))
		return false;
	return a.st_dev != b.st_dev;
}

int sg_state_remove(const char *pin_dir)
{
	struct dirent *de;
	DIR *d;
	int err = 0;

	/* Every pin sgctl makes is named sg_*; anything else is not ours. */
	d = opendir(pin_dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		sg_err("cannot open %s: %s", pin_dir, strerror(-err));
		return err;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (strncmp(de->d_name, "sg_", 3) || de->d_type == DT_DIR)
			continue;
		if (pin_path(path, sizeof(path), pin_dir, de->d_name))
			continue;
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			sg_err("cannot remove %s: %s", path, strerror(-err));
		}
	}
	closedir(d);
	if (err)
		return err;

	if (!under_sys_fs_bpf(pin_dir) && is_mountpoint(pin_dir) &&
	    is_bpffs(pin_dir))
		umount2(pin_dir, MNT_DETACH);
	if (rmdir(pin_dir) && errno != ENOENT) {
		if (errno == ENOTEMPTY || errno == EEXIST) {
			sg_warnx("left %s in place: it holds files sgctl did "
				 "not create",
				 pin_dir);
			return 0;
		}
		err = -errno;
		sg_err("cannot remove %s: %s", pin_dir, strerror(-err));
	}
	return err;
}

/* ----------------------------------------------------------------- lock */

__u64 sg_hash64(const void *data, size_t len)
{
	const unsigned char *p = data;
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int sg_state_lock(const char *pin_dir, int timeout_ms)
{
	char path[PATH_MAX];
	struct timespec ts = {0, 50 * 1000 * 1000};
	int fd, waited = 0;

	if (strcmp(pin_dir, SG_DEFAULT_PIN_DIR) == 0)
		snprintf(path, sizeof(path), "/run/sgctl.lock");
	else
		snprintf(path, sizeof(path), "/run/sgctl-%016llx.lock",
			 (unsigned long long)sg_hash64(pin_dir,
						       strlen(pin_dir)));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = -errno;

		sg_err("cannot open lock file %s: %s", path, strerror(-err));
		return err;
	}
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int err = -errno;

			sg_err("cannot lock %s: %s", path, strerror(-err));
			close(fd);
			return err;
		}
		if (waited >= timeout_ms) {
			sg_err("another sgctl is running (lock %s held); try "
			       "again later",
			       path);
			close(fd);
			return -EBUSY;
		}
		/* Say why we hang rather than hang silently. */
		if (!waited)
			fprintf(stderr,
				"sgctl: another sgctl is running; waiting up "
				"to %d s for it to finish\n",
				timeout_ms / 1000);
		nanosleep(&ts, NULL);
		waited += 50;
	}
}

/* ------------------------------ check, stats, conntrack, flowlog helpers */

int sg_map_dump(int fd, size_t ksz, size_t vsz, void **keys, void **vals,
		size_t *n)
{
	return map_dump(fd, ksz, vsz, keys, vals, n);
}

int sg_map_delete_keys(int fd, const void *keys, size_t ksz, size_t n)
{
	return map_delete_keys(fd, keys, ksz, n);
}

int sg_stats_read(struct sg_state *st, __u32 slot,
		  struct sg_counter_val out[SG_NDIR][SG_NCOUNTERS])
{
	int fd = bpf_map__fd(st->skel->maps.sg_stats);
	int ncpu = libbpf_num_possible_cpus();
	struct sg_counter_val *v;
	int err = 0;

	memset(out, 0, sizeof(struct sg_counter_val) * SG_NDIR * SG_NCOUNTERS);
	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	if (slot >= SG_MAX_INSTANCES)
		return -ERANGE;
	/* struct sg_counter_val is 16 bytes: per-CPU values are not padded */
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 d = 0; d < SG_NDIR && !err; d++) {
		for (__u32 c = 0; c < SG_NCOUNTERS; c++) {
			__u32 idx = SG_STATS_INDEX(slot, d, c);

			err = bpf_map_lookup_elem(fd, &idx, v);
			if (err) {
				sg_err("cannot read sg_stats: %s", sg_bpf_strerror(err));
				break;
			}
			for (int i = 0; i < ncpu; i++) {
				out[d][c].packets += v[i].packets;
				out[d][c].bytes += v[i].bytes;
			}
		}
	}
	free(v);
	return err;
}

int sg_inst_read(struct sg_state *st, __u32 slot, struct sg_inst *inst)
{
	__u32 gen, idx;
	int err;

	if (slot >= SG_MAX_INSTANCES)
		return -ERANGE;
	err = sg_active_gen(st, &gen);
	if (err)
		return err;
	idx = gen * SG_MAX_INSTANCES + slot;
	err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_inst), &idx,
				  inst);
	if (err)
		sg_err("cannot read sg_inst: %s", sg_bpf_strerror(err));
	return err;
}

int sg_ct_count_read(struct sg_state *st, __u32 slot, __s64 *n)
{
	int err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_ct_count),
				      &slot, n);

	if (err)
		sg_err("cannot read sg_ct_count: %s", sg_bpf_strerror(err));
	return err;
}

int sg_ct_count_write(struct sg_state *st, __u32 slot, __s64 n)
{
	int err = bpf_map_update_elem(bpf_map__fd(st->skel->maps.sg_ct_count),
				      &slot, &n, BPF_ANY);

	if (err)
		sg_err("cannot write sg_ct_count: %s", sg_bpf_strerror(err));
	return err;
}

int sg_ct_flush(struct sg_state *st, const __u32 *slots, size_t nslots,
		size_t *flushed)
{
	int fd = bpf_map__fd(st->skel->maps.sg_ct);
	const size_t ksz = sizeof(struct sg_ct_key);
	struct sg_ct_key *keys = NULL;
	struct sg_ct_val *vals = NULL;
	__s64 *left = NULL;
	size_t n, m = 0;
	int err;

	*flushed = 0;
	err = map_dump(fd, ksz, sizeof(*vals), (void **)&keys, (void **)&vals,
		       &n);
	if (err) {
		sg_err("cannot read sg_ct: %s", sg_bpf_strerror(err));
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		if (nslots && !in_slots(keys[i].slot, slots, nslots))
			continue;
		keys[m++] = keys[i];
	}
	err = map_delete_keys(fd, keys, ksz, m);
	free(keys);
	free(vals);
	keys = NULL;
	vals = NULL;
	if (err) {
		sg_err("cannot delete conntrack entries: %s", sg_bpf_strerror(err));
		return err;
	}
	*flushed = m;

	/*
	 * The datapath counts what it inserts and the expiry timer what it
	 * deletes; entries deleted here are nobody's, so the count is set
	 * from what is left (a flow tracked meanwhile stays counted).
	 */
	left = calloc(SG_MAX_INSTANCES, sizeof(*left));
	if (!left)
		return -ENOMEM;
	err = map_dump(fd, ksz, sizeof(*vals), (void **)&keys, (void **)&vals,
		       &n);
	if (err) {
		sg_err("cannot read sg_ct: %s", sg_bpf_strerror(err));
		free(left);
		return err;
	}
	for (size_t i = 0; i < n; i++)
		if (keys[i].slot < SG_MAX_INSTANCES)
			left[keys[i].slot]++;
	for (__u32 s = 0; s < SG_MAX_INSTANCES && !err; s++) {
		if (nslots && !in_slots(s, slots, nslots))
			continue;
		err = sg_ct_count_write(st, s, left[s]);
	}
	free(keys);
	free(vals);
	free(left);
	return err;
}
