// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Opening the BPF object with its maps pinned by name in the pin dir
 * (pindir.c; created on first use, never re-created one by one), and the
 * conntrack timer's kick.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/internal.h"
#include "state/state.h"

const char *sg_bpf_strerror(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

bool sg_state_exists(const char *pin_dir)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(pin_dir);

	/* Any pin of sgctl's: a state with some missing is damaged, and
	 * exists (sg_state_open says so). */
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = !strncmp(de->d_name, "sg_", 3) && de->d_type != DT_DIR;
	closedir(d);
	return found;
}

/* ----------------------------------------------------------- open/close */

/*
 * Every pin of the object's maps must be there, or none (a new state).
 * *present: how many are. A state with some missing is damaged: the
 * attached programs read the maps those pins held, and a map created in
 * their place would be one nobody reads.
 */
static int check_pins(struct sgctl_bpf *skel, size_t *present)
{
	const char *missing = NULL;
	struct bpf_map *map;

	*present = 0;
	bpf_object__for_each_map(map, skel->obj)
	{
		const char *path = bpf_map__pin_path(map);

		if (bpf_map__is_internal(map) || !path)
			continue;
		if (access(path, F_OK) == 0)
			(*present)++;
		else if (!missing)
			missing = bpf_map__name(map);
	}
	if (*present && missing) {
		sg_err("state damaged: missing %s; run 'sgctl unload'",
		       missing);
		return -EUCLEAN;
	}
	return 0;
}

static int state_open(struct sg_state *st, const char *pin_dir, int slot,
		      bool host_side, bool ro)
{
	enum sg_pin_dir_kind kind;
	struct bpf_program *prog;
	struct bpf_map *map;
	size_t present;
	int err;

	memset(st, 0, sizeof(*st));
	st->ro = ro;
	if (slot >= SG_MAX_INSTANCES) {
		sg_err("slot %d out of range (max %d)", slot,
		       SG_MAX_INSTANCES - 1);
		return -ERANGE;
	}
	err = sg_pin_dir_canonical(pin_dir, st->pin_dir, sizeof(st->pin_dir));
	if (err)
		return err;
	err = sg_pin_dir_check(st->pin_dir, &kind);
	if (err)
		return err;
	if (ro && kind != SG_PIN_DIR_BPFFS)
		return -ENOENT; /* nothing loaded */

	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = st->pin_dir);
	st->skel = sgctl_bpf__open_opts(&opts);
	if (!st->skel) {
		err = -errno;
		sg_err("cannot open the BPF object: %s", sg_bpf_strerror(err));
		return err;
	}
	err = check_pins(st->skel, &present);
	if (!err && ro && !present)
		err = -ENOENT;
	if (!err && !ro)
		err = sg_pin_dir_prepare(st->pin_dir);
	if (err)
		goto fail;
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
		if (err == -EINVAL && present)
			sg_err("the pinned maps may come from another sgctl "
			       "version; sgctl unload removes them");
		goto fail;
	}
	if (ro)
		return 0;

	/* Pins are root-only. */
	for (map = bpf_object__next_map(st->skel->obj, NULL); map;
	     map = bpf_object__next_map(st->skel->obj, map)) {
		char path[PATH_MAX];

		if (bpf_map__is_internal(map))
			continue;
		if (sg_pin_path(path, sizeof(path), st->pin_dir,
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

fail:
	sgctl_bpf__destroy(st->skel);
	st->skel = NULL;
	return err;
}

int sg_state_open(struct sg_state *st, const char *pin_dir, int slot,
		  bool host_side)
{
	return state_open(st, pin_dir, slot, host_side, false);
}

int sg_state_open_ro(struct sg_state *st, const char *pin_dir)
{
	return state_open(st, pin_dir, -1, false, true);
}

void sg_state_close(struct sg_state *st)
{
	if (st->skel)
		sgctl_bpf__destroy(st->skel);
	st->skel = NULL;
	st->progs = false;
	st->slots_cached = false;
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
			sg_err("cannot open the BPF object: %s",
			       sg_bpf_strerror(err));
			return err;
		}
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog,
						  prog == skel->progs.sg_xdp);
		skel->rodata->sg_slot = slot < SG_MAX_INSTANCES ? slot : 0;
		skel->rodata->sg_host_side = 0;
		err = sgctl_bpf__load(skel);
		if (err) {
			sg_err("cannot load the BPF object: %s",
			       sg_bpf_strerror(err));
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

