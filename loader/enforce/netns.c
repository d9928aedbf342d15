// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Network namespaces by name and by inode (netns.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforce/netns.h"
#include "sgctl.h"
#include "util/diag.h"

static const char *const netns_dirs[] = {"/run/netns", "/var/run/netns"};

static bool valid_name(const char *name)
{
	return strlen(name) < SG_NETNS_LEN && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

/* Opens /run/netns/NAME (or /var/run/netns/NAME): fd or -errno. */
static int open_named(const char *name)
{
	char path[256];
	int fd = -ENOENT;

	for (size_t i = 0; i < sizeof(netns_dirs) / sizeof(*netns_dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", netns_dirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		fd = -errno;
	}
	return fd;
}

static int fd_ino(int fd, __u64 *ino)
{
	struct stat sb;

	if (fstat(fd, &sb))
		return -errno;
	*ino = sb.st_ino;
	return 0;
}

/* Enters the namespace of fd (closed either way). */
static int enter_fd(int fd, __u64 ino, struct sg_netns *ns)
{
	int orig, err;

	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		close(fd);
		close(orig);
		return err;
	}
	close(fd);
	ns->orig_fd = orig;
	ns->ino = ino;
	return 0;
}

int sg_netns_enter(const char *name, struct sg_netns *ns)
{
	__u64 ino;
	int fd, err;

	ns->orig_fd = -1;
	ns->ino = 0;
	if (!name || !*name) {
		err = sg_netns_ino(NULL, &ns->ino);
		if (err)
			sg_err("cannot stat /proc/self/ns/net: %s",
			       strerror(-err));
		return err;
	}
	if (!valid_name(name)) {
		sg_err("invalid network namespace name '%s'", name);
		return -EINVAL;
	}
	fd = open_named(name);
	if (fd < 0) {
		if (fd == -ENOENT)
			sg_err("no network namespace %s (see ip netns list)",
			       name);
		else
			sg_err("cannot open network namespace %s: %s", name,
			       strerror(-fd));
		return fd;
	}
	err = fd_ino(fd, &ino);
	if (err) {
		sg_err("cannot stat network namespace %s: %s", name,
		       strerror(-err));
		close(fd);
		return err;
	}
	err = enter_fd(fd, ino, ns);
	if (err)
		sg_err("cannot enter network namespace %s: %s", name,
		       strerror(-err));
	return err;
}

int sg_netns_leave(struct sg_netns *ns)
{
	int err = 0;

	if (ns->orig_fd < 0)
		return 0;
	if (setns(ns->orig_fd, CLONE_NEWNET)) {
		err = -errno;
		sg_err("cannot return to the original network namespace: %s",
		       strerror(-err));
	}
	close(ns->orig_fd);
	ns->orig_fd = -1;
	return err;
}

int sg_netns_ino(const char *name, __u64 *ino)
{
	struct stat sb;
	int fd, err;

	if (!name || !*name) {
		if (stat("/proc/self/ns/net", &sb))
			return -errno;
		*ino = sb.st_ino;
		return 0;
	}
	if (!valid_name(name))
		return -ENOENT;
	fd = open_named(name);
	if (fd < 0)
		return fd;
	err = fd_ino(fd, ino);
	close(fd);
	return err;
}

/* ------------------------------------------------------------ the walk */

/* One reachable namespace: a path that opens it, and its name if any. */
struct ns_ref {
	char path[288];
	char name[SG_NETNS_LEN];
	__u64 ino;
};

struct ns_list {
	struct ns_ref *v;
	size_t n, cap;
};

static void add_ref(struct ns_list *l, const char *path, const char *name)
{
	struct stat sb;
	struct ns_ref *r;

	if (stat(path, &sb))
		return;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ino == sb.st_ino) {
			/* Keep a name when one reaches it. */
			if (name && !l->v[i].name[0])
				snprintf(l->v[i].name, sizeof(l->v[i].name),
					 "%s", name);
			return;
		}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return;
		l->v = p;
		l->cap = cap;
	}
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (name)
		snprintf(r->name, sizeof(r->name), "%s", name);
	r->ino = sb.st_ino;
}

/* Every reachable namespace: the caller's, the named, the processes'. */
static void list_namespaces(struct ns_list *l)
{
	char path[288];
	struct dirent *e;
	DIR *d;

	add_ref(l, "/proc/self/ns/net", NULL);
	for (size_t i = 0; i < sizeof(netns_dirs) / sizeof(*netns_dirs); i++) {
		d = opendir(netns_dirs[i]);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' || !valid_name(e->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", netns_dirs[i],
				 e->d_name);
			add_ref(l, path, e->d_name);
		}
		closedir(d);
	}
	d = opendir("/proc");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		add_ref(l, path, NULL);
	}
	closedir(d);
}

static int enter_ref(const struct ns_ref *r, struct sg_netns *ns)
{
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	__u64 ino;

	if (fd < 0)
		return -errno;
	/* A process may have exited and its pid been reused. */
	if (fd_ino(fd, &ino) || ino != r->ino) {
		close(fd);
		return -ENOENT;
	}
	return enter_fd(fd, ino, ns);
}

int sg_netns_enter_ino(__u64 ino, const char *name, struct sg_netns *ns)
{
	struct ns_list l = {};
	__u64 got = 0;
	int fd, err = -ENOENT;

	ns->orig_fd = -1;
	ns->ino = 0;
	if (name && *name && valid_name(name)) {
		fd = open_named(name);
		if (fd >= 0) {
			if (!fd_ino(fd, &got) && got == ino)
				return enter_fd(fd, ino, ns);
			close(fd);
		}
	}
	if (!sg_netns_ino(NULL, &got) && got == ino) {
		ns->ino = ino;
		return 0;
	}
	list_namespaces(&l);
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].ino == ino) {
			err = enter_ref(&l.v[i], ns);
			if (!err)
				break;
		}
	free(l.v);
	return err;
}

int sg_netns_walk(int (*fn)(void *ctx, __u64 ino, const char *name), void *ctx)
{
	struct ns_list l = {};
	struct sg_netns ns;
	__u64 self = 0;
	int rc = 0;

	sg_netns_ino(NULL, &self);
	list_namespaces(&l);
	for (size_t i = 0; !rc && i < l.n; i++) {
		const char *name = l.v[i].name[0] ? l.v[i].name : NULL;

		if (l.v[i].ino == self) {
			rc = fn(ctx, self, name);
			continue;
		}
		if (enter_ref(&l.v[i], &ns))
			continue;
		rc = fn(ctx, l.v[i].ino, name);
		if (sg_netns_leave(&ns) && !rc)
			rc = -EIO;
	}
	free(l.v);
	return rc;
}
