// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP (ingress) and TC (egress) attachment, in a named network namespace
 * when asked, and the sg_attach records (see attach.h).
 *
 * A program is "ours" when its id is the recorded one or its name is the
 * one sgctl gives it (sg_xdp / sg_tc): a crashed run may leave programs
 * without a record, and those must still be detachable. Anything else on
 * the interface belongs to someone else and is never replaced or removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "enforce/attach.h"
#include "util/diag.h"

/* " in netns NAME" or "" */
static const char *where(const char *netns)
{
	static char buf[SG_NETNS_LEN + 16];

	if (!netns || !*netns)
		return "";
	snprintf(buf, sizeof(buf), " in netns %s", netns);
	return buf;
}

/* ---------------------------------------------------------------- netns */

int sg_netns_enter(const char *name, struct sg_netns *ns)
{
	static const char *const dirs[] = {"/run/netns", "/var/run/netns"};
	char path[256];
	struct stat sb;
	int fd = -1, orig, err;

	ns->orig_fd = -1;
	ns->ino = 0;
	if (!name || !*name) {
		if (stat("/proc/self/ns/net", &sb)) {
			err = -errno;
			sg_err("cannot stat /proc/self/ns/net: %s",
			       strerror(-err));
			return err;
		}
		ns->ino = sb.st_ino;
		return 0;
	}
	if (strlen(name) >= SG_NETNS_LEN || strchr(name, '/') ||
	    !strcmp(name, ".") || !strcmp(name, "..")) {
		sg_err("invalid network namespace name '%s'", name);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && fd < 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			sg_err("no network namespace %s (see ip netns list)",
			       name);
		else
			sg_err("cannot open network namespace %s: %s", name,
			       strerror(-err));
		return err;
	}
	if (fstat(fd, &sb)) {
		err = -errno;
		sg_err("cannot stat network namespace %s: %s", name,
		       strerror(-err));
		close(fd);
		return err;
	}
	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0) {
		err = -errno;
		sg_err("cannot open /proc/self/ns/net: %s", strerror(-err));
		close(fd);
		return err;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		sg_err("cannot enter network namespace %s: %s", name,
		       strerror(-err));
		close(fd);
		close(orig);
		return err;
	}
	close(fd);
	ns->orig_fd = orig;
	ns->ino = sb.st_ino;
	return 0;
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

/* ------------------------------------------------------------- programs */

static int prog_info_by_id(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &ilen);
	close(fd);
	if (err)
		return err;
	snprintf(name, len, "%s", info.name);
	return 0;
}

static __u32 prog_id_of_fd(int fd)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return 0;
	return info.id;
}

static int silent_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* Our TC filter, if any. A missing clsact qdisc makes the kernel complain
 * through libbpf; that is just "no filter" here. */
static int tc_query_quiet(struct bpf_tc_hook *hook, struct bpf_tc_opts *o)
{
	libbpf_print_fn_t old = libbpf_set_print(silent_print);
	int err = bpf_tc_query(hook, o);

	libbpf_set_print(old);
	return err;
}

static int tc_hook_create_quiet(struct bpf_tc_hook *hook)
{
	libbpf_print_fn_t old = libbpf_set_print(silent_print);
	int err = bpf_tc_hook_create(hook);

	libbpf_set_print(old);
	return err;
}

static bool is_ours(__u32 id, const char *name, __u32 recorded)
{
	char got[BPF_OBJ_NAME_LEN];

	if (!id)
		return false;
	if (recorded && id == recorded)
		return true;
	if (prog_info_by_id(id, got, sizeof(got)))
		return false;
	return strcmp(got, name) == 0;
}

static int foreign_error(const char *ifname, const char *netns,
			 const char *kind, __u32 id)
{
	char name[BPF_OBJ_NAME_LEN] = "?";

	prog_info_by_id(id, name, sizeof(name));
	sg_err("%s%s already has %s program (%s, id %u) that sgctl did not "
	       "attach; remove it first",
	       ifname, where(netns), kind, name, id);
	return -EBUSY;
}

/* Removes our XDP program attached in mode (XDP_FLAGS_*_MODE) with id. */
static int xdp_remove(int ifindex, __u32 mode, __u32 id)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0)
		xo.old_prog_fd = fd;
	err = bpf_xdp_detach(ifindex, mode | (fd >= 0 ? XDP_FLAGS_REPLACE : 0),
			     &xo);
	if (fd >= 0)
		close(fd);
	return err;
}

/* ---------------------------------------------------------------- attach */

static int attach_here(struct sg_state *st, const struct sg_attach_req *req,
		       __u64 ino)
{
	int attach_fd = bpf_map__fd(st->skel->maps.sg_attach);
	int xdp_fd = bpf_program__fd(st->skel->progs.sg_xdp);
	int tc_fd = bpf_program__fd(st->skel->progs.sg_tc);
	__u32 mode = req->xdp_generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	__u32 other =
		req->xdp_generic ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	__u32 same_id, other_id, flags;
	struct sg_attach_key key = {};
	struct sg_attach_val old, val = {};
	bool have_rec, tc_replace = false, other_removed = false;
	int ifindex, old_fd = -1, err;

	if (!st->progs || xdp_fd < 0 || tc_fd < 0) {
		sg_err("internal: programs not loaded");
		return -EINVAL;
	}
	ifindex = (int)if_nametoindex(req->ifname);
	if (!ifindex) {
		sg_err("no interface %s%s", req->ifname, where(req->netns));
		return -ENODEV;
	}
	key.netns_ino = ino;
	key.ifindex = (__u32)ifindex;
	have_rec = bpf_map_lookup_elem(attach_fd, &key, &old) == 0;
	if (!have_rec)
		memset(&old, 0, sizeof(old));

	/* What is there now? Refuse to touch anything not ours. */
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err) {
		sg_err("cannot query XDP on %s%s: %s", req->ifname,
		       where(req->netns), sg_bpf_strerror(err));
		return err;
	}
	if (q.hw_prog_id)
		return foreign_error(req->ifname, req->netns,
				     "an offloaded XDP", q.hw_prog_id);
	if (q.drv_prog_id && !is_ours(q.drv_prog_id, "sg_xdp", old.xdp_prog_id))
		return foreign_error(req->ifname, req->netns, "an XDP",
				     q.drv_prog_id);
	if (q.skb_prog_id && !is_ours(q.skb_prog_id, "sg_xdp", old.xdp_prog_id))
		return foreign_error(req->ifname, req->netns, "an XDP",
				     q.skb_prog_id);
	same_id = req->xdp_generic ? q.skb_prog_id : q.drv_prog_id;
	other_id = req->xdp_generic ? q.drv_prog_id : q.skb_prog_id;

	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tq, .handle = SG_TC_HANDLE,
		    .priority = SG_TC_PRIORITY);
	if (tc_query_quiet(&hook, &tq) == 0) {
		if (!is_ours(tq.prog_id, "sg_tc", old.tc_prog_id))
			return foreign_error(req->ifname, req->netns,
					     "a TC egress", tq.prog_id);
		tc_replace = true;
	}

	/* XDP: replace ours atomically in the same mode; switching modes
	 * needs a detach first (one mode at a time). */
	if (other_id) {
		err = xdp_remove(ifindex, other, other_id);
		if (err) {
			sg_err("cannot remove the previous XDP program from "
			       "%s%s: %s",
			       req->ifname, where(req->netns), sg_bpf_strerror(err));
			return err;
		}
		other_removed = true;
	}
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	flags = mode;
	if (same_id) {
		old_fd = bpf_prog_get_fd_by_id(same_id);
		if (old_fd >= 0) {
			xo.old_prog_fd = old_fd;
			flags |= XDP_FLAGS_REPLACE;
		}
	} else {
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	err = bpf_xdp_attach(ifindex, xdp_fd, flags, &xo);
	if (err) {
		if (err == -EOPNOTSUPP && !req->xdp_generic)
			sg_err("%s%s: its driver has no native XDP support; "
			       "use --xdp-mode generic",
			       req->ifname, where(req->netns));
		else
			sg_err("cannot attach XDP (%s) to %s%s: %s",
			       req->xdp_generic ? "generic" : "native",
			       req->ifname, where(req->netns), sg_bpf_strerror(err));
		goto restore_other;
	}

	/* TC egress on clsact; an existing clsact is fine. */
	err = tc_hook_create_quiet(&hook);
	if (err && err != -EEXIST) {
		sg_err("cannot create the clsact qdisc on %s%s: %s",
		       req->ifname, where(req->netns), sg_bpf_strerror(err));
		goto undo_xdp;
	}
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = SG_TC_HANDLE,
		    .priority = SG_TC_PRIORITY, .prog_fd = tc_fd,
		    .flags = tc_replace ? BPF_TC_F_REPLACE : 0);
	err = bpf_tc_attach(&hook, &to);
	if (err) {
		sg_err("cannot attach TC egress to %s%s: %s", req->ifname,
		       where(req->netns), sg_bpf_strerror(err));
		goto undo_xdp;
	}

	snprintf(val.ifname, sizeof(val.ifname), "%s", req->ifname);
	snprintf(val.netns, sizeof(val.netns), "%s",
		 req->netns ? req->netns : "");
	snprintf(val.instance, sizeof(val.instance), "%s", req->instance);
	val.slot = req->slot;
	val.flags = (req->host_side ? SG_ATTACH_HOST_SIDE : 0) |
		    (req->xdp_generic ? SG_ATTACH_XDP_GENERIC : 0);
	val.xdp_prog_id = prog_id_of_fd(xdp_fd);
	val.tc_prog_id = to.prog_id ? to.prog_id : prog_id_of_fd(tc_fd);
	err = bpf_map_update_elem(attach_fd, &key, &val, BPF_ANY);
	if (err) {
		sg_err("cannot record the attachment of %s: %s", req->ifname,
		       sg_bpf_strerror(err));
		if (!tc_replace) {
			LIBBPF_OPTS(bpf_tc_opts, dt, .handle = SG_TC_HANDLE,
				    .priority = SG_TC_PRIORITY);
			bpf_tc_detach(&hook, &dt);
		}
		goto undo_xdp;
	}
	if (old_fd >= 0)
		close(old_fd);
	return 0;

undo_xdp:
	if (old_fd >= 0) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ro, .old_prog_fd = xdp_fd);
		bpf_xdp_attach(ifindex, old_fd, mode | XDP_FLAGS_REPLACE, &ro);
	} else {
		xdp_remove(ifindex, mode, prog_id_of_fd(xdp_fd));
	}
restore_other:
	if (other_removed) {
		int fd = bpf_prog_get_fd_by_id(other_id);

		if (fd >= 0) {
			bpf_xdp_attach(ifindex, fd,
				       other | XDP_FLAGS_UPDATE_IF_NOEXIST,
				       NULL);
			close(fd);
		}
	}
	if (old_fd >= 0)
		close(old_fd);
	return err;
}

int sg_attach(struct sg_state *st, const struct sg_attach_req *req)
{
	struct sg_netns ns;
	int err, err2;

	err = sg_netns_enter(req->netns, &ns);
	if (err)
		return err;
	err = attach_here(st, req, ns.ino);
	err2 = sg_netns_leave(&ns);
	return err ? err : err2;
}

/* ---------------------------------------------------------------- detach */

/*
 * Removes our programs from ifindex (current namespace) and the record.
 * Returns -ENOENT, silently, when there was nothing of ours.
 */
static int detach_here(int attach_fd, const struct sg_attach_key *key,
		       const char *ifname, const char *netns)
{
	int ifindex = (int)key->ifindex;
	struct sg_attach_val rec;
	bool have_rec, found = false;
	int err;

	have_rec = bpf_map_lookup_elem(attach_fd, key, &rec) == 0;
	if (!have_rec)
		memset(&rec, 0, sizeof(rec));

	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err && err != -ENODEV) {
		sg_err("cannot query XDP on %s%s: %s", ifname, where(netns),
		       sg_bpf_strerror(err));
		return err;
	}
	if (!err) {
		if (is_ours(q.drv_prog_id, "sg_xdp", rec.xdp_prog_id)) {
			err = xdp_remove(ifindex, XDP_FLAGS_DRV_MODE,
					 q.drv_prog_id);
			if (err)
				goto xdp_fail;
			found = true;
		}
		if (is_ours(q.skb_prog_id, "sg_xdp", rec.xdp_prog_id)) {
			err = xdp_remove(ifindex, XDP_FLAGS_SKB_MODE,
					 q.skb_prog_id);
			if (err)
				goto xdp_fail;
			found = true;
		}

		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, tq, .handle = SG_TC_HANDLE,
			    .priority = SG_TC_PRIORITY);
		if (tc_query_quiet(&hook, &tq) == 0 &&
		    is_ours(tq.prog_id, "sg_tc", rec.tc_prog_id)) {
			LIBBPF_OPTS(bpf_tc_opts, dt, .handle = SG_TC_HANDLE,
				    .priority = SG_TC_PRIORITY);
			err = bpf_tc_detach(&hook, &dt);
			if (err && err != -ENOENT) {
				sg_err("cannot remove the TC egress filter "
				       "from %s%s: %s",
				       ifname, where(netns), sg_bpf_strerror(err));
				return err;
			}
			found = true;
		}
		/* The clsact qdisc stays: other filters may live on it. */
	}
	if (have_rec) {
		err = bpf_map_delete_elem(attach_fd, key);
		if (err && err != -ENOENT) {
			sg_err("cannot delete the attachment record of %s: %s",
			       ifname, sg_bpf_strerror(err));
			return err;
		}
		found = true;
	}
	return found ? 0 : -ENOENT;

xdp_fail:
	sg_err("cannot remove XDP from %s%s: %s", ifname, where(netns),
	       sg_bpf_strerror(err));
	return err;
}

int sg_detach(int attach_fd, const char *ifname, const char *netns)
{
	struct sg_attach_key key = {};
	struct sg_netns ns;
	int ifindex, err, err2;

	err = sg_netns_enter(netns, &ns);
	if (err)
		return err;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		/* Gone with its namespace or deleted: forget its record. */
		struct sg_attach_key *keys;
		struct sg_attach_val *vals;
		size_t n;
		bool forgot = false;

		err = sg_attach_list_fd(attach_fd, &keys, &vals, &n);
		for (size_t i = 0; !err && i < n; i++) {
			if (keys[i].netns_ino != ns.ino ||
			    strcmp(vals[i].ifname, ifname))
				continue;
			bpf_map_delete_elem(attach_fd, &keys[i]);
			forgot = true;
		}
		if (!err) {
			free(keys);
			free(vals);
		}
		if (forgot) {
			sg_warnx("%s%s no longer exists; forgot its attachment",
				 ifname, where(netns));
			err = 0;
		} else if (!err) {
			sg_err("no interface %s%s", ifname, where(netns));
			err = -ENODEV;
		}
		goto out;
	}
	key.netns_ino = ns.ino;
	key.ifindex = (__u32)ifindex;
	err = detach_here(attach_fd, &key, ifname, netns);
	if (err == -ENOENT)
		sg_err("%s%s is not attached", ifname, where(netns));
out:
	err2 = sg_netns_leave(&ns);
	return err ? err : err2;
}

int sg_detach_record(int attach_fd, const struct sg_attach_key *key,
		     const struct sg_attach_val *val)
{
	const char *netns = val->netns[0] ? val->netns : NULL;
	struct sg_netns ns = {.orig_fd = -1};
	int err, err2;

	if (netns) {
		char path[256];

		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		if (access(path, F_OK) &&
		    (snprintf(path, sizeof(path), "/var/run/netns/%s", netns),
		     access(path, F_OK))) {
			/* Namespace deleted: its interfaces went with it. */
			bpf_map_delete_elem(attach_fd, key);
			return 0;
		}
	}
	err = sg_netns_enter(netns, &ns);
	if (err)
		return err;
	if (ns.ino != key->netns_ino) {
		sg_warnx("%s: cannot reach its network namespace (inode "
			 "%llu)%s; its programs stay until that namespace goes "
			 "away",
			 val->ifname, (unsigned long long)key->netns_ino,
			 netns ? ": a namespace of that name was recreated"
			       : "");
		bpf_map_delete_elem(attach_fd, key);
		err = 0;
		goto out;
	}
	err = detach_here(attach_fd, key, val->ifname, netns);
	if (err == -ENOENT)
		err = 0;
out:
	err2 = sg_netns_leave(&ns);
	return err ? err : err2;
}
