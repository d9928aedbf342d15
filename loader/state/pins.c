// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pins: the bpffs pin directory, opening the BPF object with its maps
 * pinned by name (created on first use), the conntrack timer's kick, and
 * removing the state.
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

int sg_pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool sg_state_exists(const char *pin_dir)
{
	char path[PATH_MAX];

	if (sg_pin_path(path, sizeof(path), pin_dir, "sg_meta"))
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
		if (sg_pin_path(path, sizeof(path), pin_dir, de->d_name))
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
