// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * validate, load, unload.
 *
 * load is all-or-nothing: everything that can fail without touching the
 * kernel (parse, validate, compile, size checks, attached instances still
 * present) is done first; the policy is then written as the inactive
 * generation and made live by one flip (maps.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "enforce/attach.h"
#include "cmd/cmd.h"
#include "compile/compile.h"
#include "util/diag.h"
#include "input/inputs.h"
#include "out/json.h"
#include "state/state.h"
#include "config/model.h"

static size_t count_rules(const struct sg_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->ngroups; i++)
		n += cfg->groups[i].nrules;
	return n;
}

/* FILE...: the positional arguments (after an optional "--"). */
static int files_arg(int argc, char **argv, const char ***files, size_t *n)
{
	int first = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] == '-' && argv[i][1])
			return sg_usage_err(argv[0], "unknown option '%s'",
					    argv[i]);
	}
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	if (argc - first < 1)
		return sg_usage_err(argv[0], "missing FILE");
	*files = (const char **)(argv + first);
	*n = (size_t)(argc - first);
	return SG_EXIT_OK;
}

/* "a.yaml" or "a.yaml + sgs.json + ..." for messages. */
static char *files_label(const char **files, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(files[i]) + 3;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, " + ");
		strcat(s, files[i]);
	}
	return s;
}

static void json_files(struct sg_json *j, const char *label, const char **files,
		       size_t n)
{
	sg_json_kv_string(j, "file", label);
	sg_json_key(j, "files");
	sg_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		sg_json_string(j, files[i]);
	sg_json_end_array(j);
}

/*
 * Reads, parses (YAML and AWS JSON, merged) and validates the FILEs;
 * prints every diagnostic to stderr. Returns 0 with *cfg (and *text, the
 * form sg_blob stores, when wanted) filled, or an exit status. Compiling
 * waits until it is known which instances this host enforces.
 */
static int prepare(const char **files, size_t nfiles, struct sg_config *cfg,
		   char **text, size_t *len)
{
	struct sg_inputs in = {};
	struct sg_diag diag;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	sg_diag_init(&diag);
	err = sg_inputs_read(files, nfiles, &in, &diag);
	if (!err)
		err = sg_inputs_parse(&in, cfg, &diag);
	if (!err && !diag.nerrors && text)
		err = sg_inputs_pack(&in, text, len);
	sg_inputs_free(&in);
	sg_diag_print(&diag, stderr);
	if (err || diag.nerrors) {
		if (!diag.nerrors)
			sg_err("%s", strerror(-err));
		sg_diag_free(&diag);
		sg_config_free(cfg);
		return SG_EXIT_ERR;
	}
	sg_diag_free(&diag);
	return SG_EXIT_OK;
}

/* Compiles what this host enforces; prints diagnostics. 0 or -errno. */
static int compile_local(const struct sg_config *cfg, struct sg_compiled *c)
{
	struct sg_diag diag;
	int err;

	sg_diag_init(&diag);
	err = sg_compile(cfg, c, &diag);
	sg_diag_print(&diag, stderr);
	if (!err && diag.nerrors)
		err = -EINVAL;
	else if (err && !diag.nerrors)
		sg_err("compile: %s", strerror(-err));
	sg_diag_free(&diag);
	return err;
}

/*
 * Which instances this host enforces, and their slots. When the config's
 * instances fit in the slots, all of them (so check, stats and attach work
 * for any instance right after load). A larger config (a whole VPC) gets
 * slots only for the instances that have one already (attached now or
 * before), that name their `interface`, or `extra` (an attach of an
 * instance that has none yet); the others are remote: they only lend their
 * addresses to group references, so a VPC of any size costs a host only
 * its own instances' policies. slots[i] is -1 for a remote instance;
 * fresh[i] marks a slot allocated here (released if the load fails).
 */
static int assign_slots(struct sg_state *st, struct sg_config *cfg,
			const char *extra, int *slots, bool *fresh)
{
	bool all = cfg->ninstances <= SG_MAX_INSTANCES;

	for (size_t i = 0; i < cfg->ninstances; i++) {
		struct sg_instance *in = &cfg->instances[i];
		bool wanted = all || in->interface ||
			      (extra && !strcmp(extra, in->id));

		fresh[i] = false;
		in->remote = false;
		slots[i] = sg_slot_get(st, in->id, false);
		if (slots[i] == -ENOENT && !wanted) {
			slots[i] = -1;
			in->remote = true;
			continue;
		}
		if (slots[i] == -ENOENT) {
			slots[i] = sg_slot_get(st, in->id, true);
			fresh[i] = slots[i] >= 0;
		}
		if (slots[i] < 0)
			return slots[i];
	}
	return 0;
}

static void release_fresh(struct sg_state *st, const struct sg_config *cfg,
			  const bool *fresh)
{
	for (size_t i = 0; i < cfg->ninstances; i++)
		if (fresh[i])
			sg_slot_release(st, cfg->instances[i].id);
}

/* ------------------------------------------------------------- validate */

int cmd_validate(int argc, char **argv)
{
	struct sg_config cfg;
	struct sg_compiled c;
	const char **files;
	char *file;
	size_t nfiles;
	int rc;

	rc = files_arg(argc, argv, &files, &nfiles);
	if (rc)
		return rc;
	file = files_label(files, nfiles);
	if (!file) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	memset(&c, 0, sizeof(c));
	rc = prepare(files, nfiles, &cfg, NULL, NULL);
	/* Compile as load would on a host with no slots given out yet. */
	if (rc == SG_EXIT_OK) {
		bool all = cfg.ninstances <= SG_MAX_INSTANCES;

		for (size_t i = 0; i < cfg.ninstances; i++)
			cfg.instances[i].remote =
				!all && !cfg.instances[i].interface;
		if (compile_local(&cfg, &c)) {
			sg_compiled_free(&c);
			sg_config_free(&cfg);
			rc = SG_EXIT_ERR;
		}
	}
	/* Under -j a failure has printed its {"error": ...} object already. */
	if (sg_opts.json && rc == SG_EXIT_OK) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		json_files(j, file, files, nfiles);
		sg_json_kv_bool(j, "valid", rc == SG_EXIT_OK);
		if (rc == SG_EXIT_OK) {
			sg_json_kv_uint(j, "groups", cfg.ngroups);
			sg_json_kv_uint(j, "rules", count_rules(&cfg));
			sg_json_kv_uint(j, "instances", cfg.ninstances);
			sg_json_kv_uint(j, "prefix_lists", cfg.nprefix_lists);
		}
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else if (rc == SG_EXIT_OK) {
		printf("%s: valid: %zu security groups, %zu rules, %zu "
		       "instances\n",
		       file, cfg.ngroups, count_rules(&cfg), cfg.ninstances);
	}
	if (rc == SG_EXIT_OK) {
		sg_compiled_free(&c);
		sg_config_free(&cfg);
	}
	free(file);
	return rc;
}

/* ----------------------------------------------------------------- load */

static void print_load(const char *file, const char **files, size_t nfiles,
		       const char *status, const struct sg_config *cfg,
		       const struct sg_compiled *c, const struct sg_meta *m)
{
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		json_files(j, file, files, nfiles);
		sg_json_kv_string(j, "status", status);
		sg_json_kv_uint(j, "generation", m->gen);
		sg_json_kv_uint(j, "groups", cfg->ngroups);
		sg_json_kv_uint(j, "rules", count_rules(cfg));
		sg_json_kv_uint(j, "instances", cfg->ninstances);
		sg_json_kv_uint(j, "policies", c->npolicies);
		sg_json_kv_uint(j, "classes", c->nclasses);
		sg_json_kv_uint(j, "class_entries", c->nclasses_entries);
		sg_json_kv_uint(j, "rule_entries", c->nrules_entries);
		sg_json_end_object(j);
		sg_json_destroy(j);
		return;
	}
	if (!strcmp(status, "unchanged")) {
		printf("%s: unchanged (already loaded)\n", file);
		return;
	}
	printf("loaded %s: %zu security groups, %zu rules, %zu instances "
	       "(generation %u: %zu policies, %zu classes, %zu + %zu map "
	       "entries)\n",
	       file, cfg->ngroups, count_rules(cfg), cfg->ninstances, m->gen,
	       c->npolicies, c->nclasses, c->nclasses_entries,
	       c->nrules_entries);
}

/* Attached instances must stay in the config. */
static int check_attached(struct sg_state *st, const struct sg_config *cfg)
{
	struct sg_attach_key *keys;
	struct sg_attach_val *vals;
	size_t n;
	int err, bad = 0;

	err = sg_attach_list(st, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (sg_config_find_instance(cfg, vals[i].instance) >= 0)
			continue;
		sg_err("instance %s is attached to %s%s%s; detach it first",
		       vals[i].instance, vals[i].ifname,
		       vals[i].netns[0] ? " in netns " : "", vals[i].netns);
		bad++;
	}
	free(keys);
	free(vals);
	return bad ? -EBUSY : 0;
}

/* Slots of instances no longer in the config: released before the new
 * ones are allocated (so they can be reused), restored if the load fails. */
struct stale {
	char *ids; /* SG_ID_LEN each */
	__u32 *slots;
	size_t n;
};

static int release_stale(struct sg_state *st, const struct sg_config *cfg,
			 struct stale *out)
{
	__u32 *slots;
	size_t n;
	char *ids;
	int err;

	memset(out, 0, sizeof(*out));
	err = sg_slot_list(st, &ids, &slots, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const char *id = ids + i * SG_ID_LEN;

		if (sg_config_find_instance(cfg, id) >= 0)
			continue;
		err = sg_slot_release(st, id);
		if (err < 0 && err != -ENOENT)
			break;
		err = 0;
		memmove(ids + out->n * SG_ID_LEN, id, SG_ID_LEN);
		slots[out->n++] = slots[i];
	}
	out->ids = ids;
	out->slots = slots;
	return err;
}

static int forget_slots(struct sg_state *st, const struct stale *s,
			const int *slots, const bool *fresh, size_t n)
{
	__u32 *all = calloc(s->n + n + 1, sizeof(*all));
	size_t m = 0;
	int err;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		all[m++] = s->slots[i];
	for (size_t i = 0; i < n; i++)
		if (fresh[i])
			all[m++] = (__u32)slots[i];
	err = sg_state_forget_slots(st, all, m);
	free(all);
	return err;
}

/* The highest slot no instance uses (for the timer's dummy frame: new
 * instances take the lowest free slots, and a fresh slot starts clean). */
static __u32 free_slot(const int *slots, size_t n)
{
	static unsigned char used[SG_MAX_INSTANCES];

	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < n; i++)
		if (slots[i] >= 0 && slots[i] < SG_MAX_INSTANCES)
			used[slots[i]] = 1;
	for (__u32 s = SG_MAX_INSTANCES; s-- > 0;)
		if (!used[s])
			return s;
	return SG_MAX_INSTANCES - 1;
}

static void restore_stale(struct sg_state *st, const struct stale *s)
{
	for (size_t i = 0; i < s->n; i++)
		sg_slot_set(st, s->ids + i * SG_ID_LEN, s->slots[i]);
}

int cmd_load(int argc, char **argv)
{
	struct sg_config cfg;
	struct sg_compiled c;
	struct sg_state st = {};
	struct sg_meta meta;
	struct stale stale = {};
	const char **files;
	char *file = NULL;
	size_t nfiles;
	bool existed, first;
	int *slots = NULL;
	bool *fresh = NULL;
	char *text = NULL;
	size_t len;
	__u64 hash;
	int rc, err, lock;

	rc = files_arg(argc, argv, &files, &nfiles);
	if (rc)
		return rc;
	if (sg_need_root("load"))
		return SG_EXIT_ERR;
	file = files_label(files, nfiles);
	if (!file) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0) {
		free(file);
		return SG_EXIT_ERR;
	}

	/* Everything that needs no kernel first. */
	memset(&c, 0, sizeof(c));
	rc = prepare(files, nfiles, &cfg, &text, &len);
	if (rc) {
		free(file);
		close(lock);
		return rc;
	}
	rc = SG_EXIT_ERR;
	if (len > (size_t)SG_BLOB_MAX_CHUNKS * (SG_BLOB_CHUNK - 4)) {
		sg_err("%s: too large to store (%zu bytes, at most %zu)", file,
		       len, (size_t)SG_BLOB_MAX_CHUNKS * (SG_BLOB_CHUNK - 4));
		goto out;
	}
	hash = sg_hash64(text, len);

	existed = sg_state_exists(sg_opts.pin_dir);
	err = sg_state_open(&st, sg_opts.pin_dir, -1, false);
	if (err) {
		if (!existed)
			sg_state_remove(sg_opts.pin_dir);
		goto out;
	}
	err = sg_meta_read(&st, &meta);
	if (err)
		goto out_state;
	first = !meta.loaded_at;
	if (meta.loaded_at && meta.config_hash == hash &&
	    meta.blob_len == len) {
		print_load(file, files, nfiles, "unchanged", &cfg, &c, &meta);
		rc = SG_EXIT_OK;
		goto out_state;
	}
	err = check_attached(&st, &cfg);
	if (err)
		goto out_state;
	err = release_stale(&st, &cfg, &stale);
	if (err) {
		restore_stale(&st, &stale);
		goto out_state;
	}

	/* Slots: stable across loads; new instances get the lowest free. */
	slots = calloc(cfg.ninstances ? cfg.ninstances : 1, sizeof(*slots));
	fresh = calloc(cfg.ninstances ? cfg.ninstances : 1, sizeof(*fresh));
	if (!slots || !fresh) {
		sg_err("out of memory");
		goto out_state;
	}
	if (assign_slots(&st, &cfg, NULL, slots, fresh) ||
	    compile_local(&cfg, &c))
		goto undo_slots;

	err = sg_state_apply(&st, &c, slots, cfg.ninstances);
	if (err)
		goto undo_slots;

	/* Live. Now the bookkeeping. */
	err = sg_blob_store(&st, text, len);
	if (!err)
		err = sg_meta_read(&st, &meta);
	if (!err) {
		__u32 gen = 0;

		sg_active_gen(&st, &gen);
		meta.config_hash = hash;
		meta.gen = gen;
		meta.loaded_at = (__u64)time(NULL);
		err = sg_meta_write(&st, &meta);
	}
	/* Nothing runs with a stale or fresh slot (attached instances stay,
	 * new ones are not attached yet): forget what the datapath kept for
	 * it, so a reused slot starts clean. */
	if (!err)
		err = forget_slots(&st, &stale, slots, fresh, cfg.ninstances);
	if (err) {
		sg_err("the new policy is live but its bookkeeping failed; "
		       "load the file again");
		goto out_state;
	}
	/* The expiry timer lives in the pinned maps: once per state. An
	 * attached program also arms it with its first packet. */
	if (first && sg_state_arm_timer(&st, free_slot(slots, cfg.ninstances)))
		sg_warnx("conntrack entries will expire once traffic arrives");
	print_load(file, files, nfiles, "loaded", &cfg, &c, &meta);
	rc = SG_EXIT_OK;
	goto out_state;

undo_slots:
	release_fresh(&st, &cfg, fresh);
	restore_stale(&st, &stale);
out_state:
	sg_state_close(&st);
	/* A failed first load leaves no trace. */
	if (rc && !existed)
		sg_state_remove(sg_opts.pin_dir);
out:
	free(stale.ids);
	free(stale.slots);
	free(slots);
	free(fresh);
	free(text);
	free(file);
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	close(lock);
	return rc;
}

/*
 * attach of an instance the loaded config has but this host does not
 * enforce yet: give it a slot and compile its policy in, as a new
 * generation of the stored config flipped like any load (tracked flows and
 * other instances are untouched). Returns the slot, or a negative errno
 * after saying why. The caller holds the lock.
 */
int sg_load_enforce(struct sg_state *st, const char *id)
{
	struct sg_config cfg = {};
	struct sg_compiled c = {};
	struct sg_diag diag;
	int *slots = NULL, slot = -EINVAL, idx;
	bool *fresh = NULL;
	char *text = NULL;
	size_t len = 0;
	int err;

	sg_diag_init(&diag);
	err = sg_blob_load(st, &text, &len);
	if (!err)
		err = sg_config_parse_blob(text, len, &cfg, &diag);
	sg_diag_print(&diag, stderr);
	sg_diag_free(&diag);
	if (err) {
		sg_err("cannot read the loaded config; load it again");
		goto out;
	}
	idx = sg_config_find_instance(&cfg, id);
	slots = calloc(cfg.ninstances ? cfg.ninstances : 1, sizeof(*slots));
	fresh = calloc(cfg.ninstances ? cfg.ninstances : 1, sizeof(*fresh));
	if (idx < 0 || !slots || !fresh) {
		slot = idx < 0 ? -ENOENT : -ENOMEM;
		sg_err("%s", idx < 0 ? "no such instance" : "out of memory");
		goto out;
	}
	err = assign_slots(st, &cfg, id, slots, fresh);
	if (!err)
		err = compile_local(&cfg, &c);
	if (!err)
		err = sg_state_apply(st, &c, slots, cfg.ninstances);
	if (!err)
		err = forget_slots(st, &(struct stale){0}, slots, fresh,
				   cfg.ninstances);
	if (err) {
		release_fresh(st, &cfg, fresh);
		slot = err < 0 ? err : -EINVAL;
		goto out;
	}
	slot = slots[idx];
out:
	free(slots);
	free(fresh);
	free(text);
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	return slot;
}

/* --------------------------------------------------------------- unload */

static void print_unload(bool unloaded, size_t detached)
{
	struct sg_json *j = sg_json_new(stdout, true);

	sg_json_begin_object(j);
	sg_json_kv_bool(j, "unloaded", unloaded);
	sg_json_kv_uint(j, "detached", detached);
	sg_json_kv_string(j, "pin_dir", sg_opts.pin_dir);
	sg_json_end_object(j);
	sg_json_destroy(j);
}

int cmd_unload(int argc, char **argv)
{
	struct sg_attach_key *keys = NULL;
	struct sg_attach_val *vals = NULL;
	size_t n = 0, detached = 0;
	int err, lock, fd = -1, rc = SG_EXIT_OK;
	char path[512];

	if (argc > 1)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[1]);
	if (sg_need_root("unload"))
		return SG_EXIT_ERR;
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0)
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		rmdir(sg_opts.pin_dir); /* an empty leftover, if any */
		if (sg_opts.json)
			print_unload(false, 0);
		else
			printf("nothing loaded (no state in %s)\n",
			       sg_opts.pin_dir);
		close(lock);
		return SG_EXIT_OK;
	}
	/* Only sg_attach is needed: its pin, opened directly, works even
	 * when the object would no longer load over these pins. */
	snprintf(path, sizeof(path), "%s/sg_attach", sg_opts.pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0 && errno != ENOENT)
		sg_warnx("cannot read %s: %s; removing the pins anyway", path,
			 strerror(errno));
	err = fd >= 0 ? sg_attach_list_fd(fd, &keys, &vals, &n) : 0;
	for (size_t i = 0; !err && i < n; i++) {
		if (sg_detach_record(fd, &keys[i], &vals[i]))
			rc = SG_EXIT_ERR;
		else
			detached++;
	}
	if (err)
		rc = SG_EXIT_ERR;
	if (fd >= 0)
		close(fd);
	free(keys);
	free(vals);
	if (rc) {
		sg_err("some interfaces could not be detached; state kept in "
		       "%s",
		       sg_opts.pin_dir);
		close(lock);
		return rc;
	}
	if (sg_state_remove(sg_opts.pin_dir))
		rc = SG_EXIT_ERR;
	if (sg_opts.json)
		print_unload(!rc, detached);
	else if (!rc)
		printf("unloaded: detached %zu interface%s, removed %s\n",
		       detached, detached == 1 ? "" : "s", sg_opts.pin_dir);
	close(lock);
	return rc;
}
