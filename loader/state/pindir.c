// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The pin directory: its one canonical name (the lock and the pins go by
 * it), the rules for accepting a directory, and removing only what sgctl
 * made. A directory is accepted when it does not exist (sgctl creates it,
 * and below /sys/fs/bpf that is all; elsewhere it mounts a bpffs of its
 * own on it), when it is on bpffs and empty or holds sgctl state, or when
 * it is empty (sgctl mounts a bpffs on it). Symlinks are refused.
 *
 * What sgctl made is remembered inside the pin dir, as empty directories
 * (bpffs holds no files; a directory is root-only like the pins):
 * MARK_CREATED, sgctl created the directory; MARK_MOUNTED, sgctl mounted
 * the bpffs on it. Without them unload neither removes the directory nor
 * unmounts anything.
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

#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/internal.h"
#include "state/state.h"

#define MARK_CREATED "sgctl_created" /* bpffs refuses dots in names */
#define MARK_MOUNTED "sgctl_mounted"

static bool is_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

static bool under_sys_fs_bpf(const char *dir)
{
	static const char root[] = "/sys/fs/bpf";
	size_t n = sizeof(root) - 1;

	return strncmp(dir, root, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

int sg_pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------ canonical name */

int sg_pin_dir_canonical(const char *pin_dir, char *out, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX];
	char *rest = NULL;
	struct stat sb;
	size_t n;

	if (pin_dir[0] != '/') {
		sg_err("pin directory %s: must be an absolute path", pin_dir);
		return -EINVAL;
	}
	/* Collapse "//" and "/./"; ".." is refused (it would mean another
	 * directory once a symlink is on the way). */
	n = 0;
	for (const char *p = pin_dir; *p;) {
		const char *e;
		size_t cl;

		while (*p == '/')
			p++;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		cl = (size_t)(e - p);
		if (cl == 0)
			break;
		if (cl == 2 && p[0] == '.' && p[1] == '.') {
			sg_err("pin directory %s: must not contain '..'",
			       pin_dir);
			return -EINVAL;
		}
		if (!(cl == 1 && p[0] == '.')) {
			if (n + 1 + cl + 1 > sizeof(path))
				return -ENAMETOOLONG;
			path[n++] = '/';
			memcpy(path + n, p, cl);
			n += cl;
		}
		p = e;
	}
	if (n == 0) {
		sg_err("pin directory %s: not a usable directory", pin_dir);
		return -EINVAL;
	}
	path[n] = '\0';
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		sg_err("pin directory %s is a symlink; refusing to follow it",
		       pin_dir);
		return -ELOOP;
	}
	/* The deepest existing ancestor resolved, the rest appended. */
	for (;;) {
		char *slash;

		if (realpath(path, real))
			break;
		if (errno != ENOENT) {
			int err = -errno;

			sg_err("pin directory %s: %s", pin_dir, strerror(-err));
			return err;
		}
		slash = strrchr(path, '/');
		if (rest)
			rest[-1] = '/';
		rest = slash + 1;
		*slash = '\0';
		if (slash == path) {
			strcpy(real, "/");
			break;
		}
	}
	if (rest)
		rest[-1] = '/';
	n = (size_t)snprintf(out, len, "%s%s%s", strcmp(real, "/") ? real : "",
			     rest ? "/" : "", rest ? rest : "");
	if (n >= len) {
		sg_err("pin directory %s: name too long", pin_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* --------------------------------------------------------------- rules */

/*
 * The pinned map names of the BPF object, NULL-terminated, from the
 * skeleton (opened, not loaded); malloc'ed.
 */
static const char **pin_names(void)
{
	struct sgctl_bpf *skel = sgctl_bpf__open();
	const char **names;
	struct bpf_map *map;
	size_t n = 0;

	if (!skel)
		return NULL;
	names = calloc(64, sizeof(*names));
	bpf_object__for_each_map(map, skel->obj)
	{
		if (!names || n + 1 >= 64)
			break;
		if (bpf_map__is_internal(map) || !bpf_map__pin_path(map))
			continue;
		names[n++] = strdup(bpf_map__name(map));
		if (!names[n - 1]) {
			free(names);
			names = NULL;
		}
	}
	sgctl_bpf__destroy(skel);
	return names;
}

static void free_names(const char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free((char *)names[i]);
	free(names);
}

/* An entry sgctl makes in a pin dir: a map pin (sg_*) or a marker. */
static bool ours(const char *name)
{
	return !strncmp(name, "sg_", 3) || !strcmp(name, MARK_CREATED) ||
	       !strcmp(name, MARK_MOUNTED);
}

/* What dir holds: nothing, sgctl's entries (foreign ones may sit beside
 * them), or only foreign entries. */
enum dir_content { DIR_EMPTY, DIR_SGCTL, DIR_FOREIGN };

static int dir_content(const char *dir, enum dir_content *c)
{
	bool sg = false, foreign = false, bpffs = is_bpffs(dir);
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* bpffs names with a dot are the kernel's (maps.debug and
		 * progs.debug of every new mount): nobody else can make
		 * them. */
		if (bpffs && strchr(de->d_name, '.'))
			continue;
		if (ours(de->d_name))
			sg = true;
		else
			foreign = true;
	}
	closedir(d);
	*c = sg ? DIR_SGCTL : foreign ? DIR_FOREIGN : DIR_EMPTY;
	return 0;
}

int sg_pin_dir_check(const char *canon, enum sg_pin_dir_kind *kind)
{
	enum dir_content c;
	struct stat sb;
	int err;

	if (lstat(canon, &sb)) {
		if (errno == ENOENT) {
			*kind = SG_PIN_DIR_ABSENT;
			return 0;
		}
		err = -errno;
		sg_err("pin directory %s: %s", canon, strerror(-err));
		return err;
	}
	if (S_ISLNK(sb.st_mode)) {
		sg_err("pin directory %s is a symlink; refusing to follow it",
		       canon);
		return -ELOOP;
	}
	if (!S_ISDIR(sb.st_mode)) {
		sg_err("pin directory %s is not a directory", canon);
		return -ENOTDIR;
	}
	err = dir_content(canon, &c);
	if (err) {
		sg_err("cannot read pin directory %s: %s", canon,
		       strerror(-err));
		return err;
	}
	if (c == DIR_FOREIGN) {
		sg_err("pin directory %s is not empty and holds no sgctl "
		       "state; refusing to use it",
		       canon);
		return -ENOTEMPTY;
	}
	if (is_bpffs(canon))
		*kind = SG_PIN_DIR_BPFFS;
	else if (c == DIR_EMPTY)
		*kind = SG_PIN_DIR_EMPTY;
	else {
		/* sgctl names on another file system: not a state */
		sg_err("pin directory %s is not empty and holds no sgctl "
		       "state; refusing to use it",
		       canon);
		return -ENOTEMPTY;
	}
	return 0;
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
	if (mkdir(buf, mode))
		return -errno;
	return 0;
}

static int mark(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int err = sg_pin_path(path, sizeof(path), dir, name);

	if (!err && mkdir(path, 0700) && errno != EEXIST)
		err = -errno;
	if (err)
		sg_err("cannot create %s: %s", path, strerror(-err));
	return err;
}

static bool marked(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;

	return !sg_pin_path(path, sizeof(path), dir, name) &&
	       lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int mount_bpffs(const char *dir)
{
	int err;

	if (!mount("bpf", dir, "bpf", 0, "mode=0700"))
		return 0;
	err = -errno;
	sg_err("cannot mount bpffs at %s: %s", dir, strerror(-err));
	return err;
}

int sg_pin_dir_prepare(const char *canon)
{
	enum sg_pin_dir_kind kind;
	bool created = false, mounted = false;
	int err;

	err = sg_pin_dir_check(canon, &kind);
	if (err)
		return err;
	if (kind == SG_PIN_DIR_ABSENT) {
		if (under_sys_fs_bpf(canon) && !is_bpffs("/sys/fs/bpf")) {
			err = mount_bpffs("/sys/fs/bpf");
			if (err)
				return err;
		}
		err = mkdir_p(canon, 0700);
		if (err) {
			sg_err("cannot create pin directory %s: %s", canon,
			       strerror(-err));
			return err;
		}
		created = true;
		kind = is_bpffs(canon) ? SG_PIN_DIR_BPFFS : SG_PIN_DIR_EMPTY;
	}
	if (kind == SG_PIN_DIR_EMPTY) {
		/* A pin dir outside any bpffs gets a bpffs of its own. */
		err = mount_bpffs(canon);
		if (err) {
			if (created)
				rmdir(canon);
			return err;
		}
		mounted = true;
	}
	if (chmod(canon, 0700)) {
		err = -errno;
		sg_err("chmod %s: %s", canon, strerror(-err));
		return err;
	}
	if (created)
		err = mark(canon, MARK_CREATED);
	if (!err && mounted)
		err = mark(canon, MARK_MOUNTED);
	return err;
}

/* -------------------------------------------------------------- remove */

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

static int unlink_in(const char *dir, const char *name, bool is_dir)
{
	char path[PATH_MAX];
	int err = sg_pin_path(path, sizeof(path), dir, name);

	if (err)
		return err;
	if ((is_dir ? rmdir(path) : unlink(path)) && errno != ENOENT) {
		err = -errno;
		sg_err("cannot remove %s: %s", path, strerror(-err));
	}
	return err;
}

int sg_state_remove(const char *pin_dir)
{
	char dir[PATH_MAX];
	const char **names;
	bool created, mounted;
	struct stat sb;
	int err = 0;

	err = sg_pin_dir_canonical(pin_dir, dir, sizeof(dir));
	if (err)
		return err;
	if (lstat(dir, &sb)) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		sg_err("cannot open %s: %s", dir, strerror(-err));
		return err;
	}
	/* Only the pins of sgctl's own maps; anything else is not ours. */
	names = pin_names();
	if (!names) {
		sg_err("cannot open the BPF object: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; names[i]; i++)
		if (unlink_in(dir, names[i], false))
			err = -EIO;
	free_names(names);
	if (err)
		return err;

	created = marked(dir, MARK_CREATED);
	mounted = marked(dir, MARK_MOUNTED);
	unlink_in(dir, MARK_CREATED, true);
	unlink_in(dir, MARK_MOUNTED, true);
	if (mounted && is_mountpoint(dir) && is_bpffs(dir)) {
		if (umount2(dir, MNT_DETACH)) {
			err = -errno;
			sg_err("cannot unmount %s: %s", dir, strerror(-err));
			return err;
		}
	}
	if (!created)
		return 0;
	if (rmdir(dir) && errno != ENOENT) {
		if (errno == ENOTEMPTY || errno == EEXIST) {
			sg_warnx("left %s in place: it holds files sgctl did "
				 "not create",
				 dir);
			return 0;
		}
		err = -errno;
		sg_err("cannot remove %s: %s", dir, strerror(-err));
	}
	return err;
}
