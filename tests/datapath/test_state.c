// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The state layer's bookkeeping against a real pin dir (root): slot plans
 * that write nothing until the commit, the commit's halves (a crash before
 * the flip leaves the live slots and config), "unchanged" only when the
 * live generation, its stored config and the hash agree, canonical pin
 * dir names, and damaged states (a missing pin) refused, not repaired.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sgctl.h"
#include "state/skel.h"

#include "compile/compile.h"
#include "config/model.h"
#include "state/internal.h"
#include "state/state.h"

static char pin[128];
static struct sg_state st;

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/sgctl-test-state-%d",
		 (int)getpid());
	memset(&st, 0, sizeof(st));
}

static void teardown(void)
{
	sg_state_close(&st);
	sg_state_remove(pin);
}

TestSuite(state, .init = setup, .fini = teardown, .timeout = 60);

/* A config of the given instance ids, one group, one address each. */
static char *config_of(const char *const *ids, size_t n)
{
	static char buf[4096];
	size_t off;

	off = (size_t)snprintf(buf, sizeof(buf),
			       "security_groups:\n  sg-a:\n    inbound:\n"
			       "      - { protocol: tcp, ports: 22, source: "
			       "10.0.0.0/8 }\ninstances:\n");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"  %s: { ips: [192.0.2.%zu], "
					"security_groups: [sg-a] }\n",
					ids[i], i + 1);
	return buf;
}

/* Plans every id, compiles and commits the config of ids. */
static void commit(const char *const *ids, size_t n, struct sg_slot_plan *sp)
{
	const char *text = config_of(ids, n);
	struct sg_config cfg = {};
	struct sg_compiled c = {};
	struct sg_diag diag;

	sg_diag_init(&diag);
	cr_assert_eq(sg_config_parse_string("t.yaml", text, strlen(text), &cfg,
					    &diag),
		     0);
	cr_assert_eq(sg_compile(&cfg, &c, &diag), 0);
	sg_diag_free(&diag);
	cr_assert_eq(sg_slot_plan_init(&st, ids, n, sp), 0);
	for (size_t i = 0; i < n; i++)
		if (sg_slot_plan_keep(sp, i) < 0)
			cr_assert_geq(sg_slot_plan_alloc(sp, i), 0);
	cr_assert_eq(sg_state_commit(&st,
				     &(struct sg_commit){
					     .c = &c,
					     .slots = sp,
					     .text = text,
					     .len = strlen(text),
				     }),
		     0);
	sg_compiled_free(&c);
	sg_config_free(&cfg);
}

static int live_slot(const char *id)
{
	return sg_slot_get(&st, id, false);
}

Test(state, slot_plan_writes_nothing_until_the_commit)
{
	const char *v1[] = {"i-a", "i-b", "i-c"};
	const char *v2[] = {"i-b", "i-d"};
	struct sg_slot_plan sp;
	__u32 gen;

	cr_assert_eq(sg_state_open(&st, pin, -1, false), 0);
	commit(v1, 3, &sp);
	sg_slot_plan_free(&sp);
	cr_expect_eq(live_slot("i-a"), 0);
	cr_expect_eq(live_slot("i-b"), 1);
	cr_expect_eq(live_slot("i-c"), 2);

	/* i-b keeps 1; i-a and i-c give theirs up; i-d takes the lowest. */
	cr_assert_eq(sg_slot_plan_init(&st, v2, 2, &sp), 0);
	cr_expect_eq(sg_slot_plan_keep(&sp, 0), 1);
	cr_expect_eq(sg_slot_plan_keep(&sp, 1), -ENOENT);
	cr_expect_eq(sg_slot_plan_alloc(&sp, 1), 0);
	cr_expect(sp.fresh[1]);
	cr_expect_eq(sp.nreleased, 2);
	cr_expect_eq(live_slot("i-a"), 0, "the plan wrote nothing");
	cr_expect_eq(live_slot("i-d"), -ENOENT, "the plan wrote nothing");

	/* A crash after the slots are written, before the flip: the live
	 * half is as it was. */
	cr_assert_eq(sg_active_gen(&st, &gen), 0);
	cr_assert_eq(sg_slot_plan_write(&st, &sp, gen ^ 1), 0);
	cr_expect_eq(live_slot("i-a"), 0);
	cr_expect_eq(live_slot("i-c"), 2);
	cr_expect_eq(live_slot("i-d"), -ENOENT);
	sg_slot_plan_free(&sp);

	/* The commit makes it live, and drops the ids given up. */
	commit(v2, 2, &sp);
	sg_slot_plan_free(&sp);
	cr_expect_eq(live_slot("i-b"), 1);
	cr_expect_eq(live_slot("i-d"), 0);
	cr_expect_eq(live_slot("i-a"), -ENOENT);
	cr_expect_eq(live_slot("i-c"), -ENOENT);
	{
		struct sg_slot_key *k;
		struct sg_slot_val *v;
		size_t n;

		cr_assert_eq(sg_slot_dump(&st, &k, &v, &n), 0);
		cr_expect_eq(n, 2, "entries left: %zu", n);
		free(k);
		free(v);
	}
}

Test(state, unchanged_only_when_everything_agrees)
{
	const char *ids[] = {"i-a", "i-b"};
	struct sg_slot_plan sp;
	const char *text;
	struct sg_meta m;
	__u64 hash;
	__u32 gen, key;
	struct sg_blob_chunk *chunk = calloc(1, sizeof(*chunk));

	cr_assert_not_null(chunk);
	cr_assert_eq(sg_state_open(&st, pin, -1, false), 0);
	commit(ids, 2, &sp);
	sg_slot_plan_free(&sp);
	text = config_of(ids, 2);
	hash = sg_hash64(text, strlen(text));
	cr_expect(sg_state_is_current(&st, hash, strlen(text)));
	cr_expect_not(sg_state_is_current(&st, hash ^ 1, strlen(text)));

	/* The stored config reads back as the live generation's. */
	{
		char *back;
		size_t len;

		cr_assert_eq(sg_blob_load(&st, &back, &len), 0);
		cr_expect_eq(len, strlen(text));
		cr_expect_str_eq(back, text);
		free(back);
	}

	/* An interrupted load cleared the hash: not unchanged. */
	cr_assert_eq(sg_meta_get(&st, SG_META_COMMIT, &m), 0);
	m.config_hash = 0;
	cr_assert_eq(sg_meta_put(&st, SG_META_COMMIT, &m), 0);
	cr_expect_not(sg_state_is_current(&st, hash, strlen(text)));
	commit(ids, 2, &sp);
	sg_slot_plan_free(&sp);
	cr_expect(sg_state_is_current(&st, hash, strlen(text)));

	/* An edited stored config: not unchanged either. */
	cr_assert_eq(sg_active_gen(&st, &gen), 0);
	key = SG_BLOB_KEY(gen, 0);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(st.skel->maps.sg_blob),
					 &key, chunk),
		     0);
	chunk->data[0] ^= 1;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(st.skel->maps.sg_blob),
					 &key, chunk, BPF_ANY),
		     0);
	cr_expect_not(sg_state_is_current(&st, hash, strlen(text)));
	free(chunk);
}

Test(state, one_name_per_pin_dir)
{
	char a[256], b[256], link[64];

	cr_assert_eq(sg_pin_dir_canonical("/sys/fs/bpf//x/./y/", a, sizeof(a)),
		     0);
	cr_expect_str_eq(a, "/sys/fs/bpf/x/y");
	cr_assert_eq(sg_pin_dir_canonical("/sys/fs/bpf/x/y", b, sizeof(b)), 0);
	cr_expect_str_eq(a, b);
	cr_expect_neq(sg_pin_dir_canonical("sys/fs/bpf/x", a, sizeof(a)), 0);
	cr_expect_neq(sg_pin_dir_canonical("/sys/fs/bpf/../x", a, sizeof(a)),
		      0);
	snprintf(link, sizeof(link), "/tmp/sgctl-test-state-link-%d",
		 (int)getpid());
	cr_assert_eq(symlink("/sys/fs/bpf", link), 0);
	cr_expect_eq(sg_pin_dir_canonical(link, a, sizeof(a)), -ELOOP);
	/* a symlink above the pin dir is resolved: the same state */
	snprintf(b, sizeof(b), "%s/x", link);
	cr_expect_eq(sg_pin_dir_canonical(b, a, sizeof(a)), 0);
	cr_expect_str_eq(a, "/sys/fs/bpf/x");
	unlink(link);
}

Test(state, damaged_state_is_refused_not_repaired)
{
	char path[256];
	struct stat sb;

	/* Read-only: nothing there, nothing created. */
	cr_expect_eq(sg_state_open_ro(&st, pin), -ENOENT);
	cr_expect_neq(stat(pin, &sb), 0, "read-only open made the pin dir");

	cr_assert_eq(sg_state_open(&st, pin, -1, false), 0);
	sg_state_close(&st);
	cr_assert_eq(sg_state_open_ro(&st, pin), 0);
	sg_state_close(&st);
	snprintf(path, sizeof(path), "%s/sg_rule", pin);
	cr_assert_eq(unlink(path), 0);
	cr_expect(sg_state_exists(pin));
	cr_expect_eq(sg_state_open(&st, pin, -1, false), -EUCLEAN);
	cr_expect_neq(stat(path, &sb), 0, "the missing pin was re-created");
	cr_expect_eq(sg_state_open_ro(&st, pin), -EUCLEAN);
	/* unload's part: whatever is there goes, and the dir sgctl made */
	cr_expect_eq(sg_state_remove(pin), 0);
	cr_expect_neq(stat(pin, &sb), 0, "pin dir left");
}
