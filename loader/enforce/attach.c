// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP (ingress) and TC (egress) attachment, in a named network namespace
 * when asked, and the sg_attach records checked against the kernel (see
 * attach.h).
 *
 * A program is this state's when it uses the state's sg_active map; an
 * sgctl program (named sg_xdp / sg_tc) that does not belongs to another
 * state; anything else belongs to someone else. Only this state's
 * programs are ever replaced or removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* ---------------------------------------------------------------- owner */

static __u32 map_id_of_fd(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

int sg_owner_of_state(struct sg_owner *o, struct sg_state *st)
{
	memset(o, 0, sizeof(*o));
	o->attach_fd = bpf_map__fd(st->skel->maps.sg_attach);
	o->active_id = map_id_of_fd(bpf_map__fd(st->skel->maps.sg_active));
	if (!o->active_id) {
		sg_err("cannot read the id of the sg_active map");
		return -EIO;
	}
	return 0;
}

int sg_owner_open(struct sg_owner *o, const char *pin_dir)
{
	char path[512];
	int fd, err = 0;

	memset(o, 0, sizeof(*o));
	o->attach_fd = -1;
	snprintf(path, sizeof(path), "%s/sg_active", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		o->active_id = map_id_of_fd(fd);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/sg_attach", pin_dir);
	o->attach_fd = bpf_obj_get(path);
	if (o->attach_fd < 0 && errno != ENOENT) {
		err = -errno;
		sg_warnx("cannot read %s: %s", path, strerror(-err));
	}
	o->own_fd = o->attach_fd >= 0;
	return err;
}

void sg_owner_close(struct sg_owner *o)
{
	if (o->own_fd && o->attach_fd >= 0)
		close(o->attach_fd);
	o->attach_fd = -1;
	o->own_fd = false;
}

/* ------------------------------------------------------------- programs */

enum prog_kind {
	PROG_NONE,	  /* nothing there */
	PROG_OURS,	  /* this state's */
	PROG_OTHER_STATE, /* sgctl's, of another state */
	PROG_FOREIGN,	  /* someone else's */
};

static int prog_name_by_id(__u32 id, char *name, size_t len)
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

/* Whom program id belongs to. sgname: the name sgctl gives it;
 * recorded: its id in our record (trusted when the owner is unknown). */
static enum prog_kind classify(const struct sg_owner *o, __u32 id,
			       const char *sgname, __u32 recorded)
{
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info), nmaps, *ids = NULL;
	enum prog_kind kind;
	int fd;

	if (!id)
		return PROG_NONE;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? PROG_NONE : PROG_FOREIGN;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		close(fd);
		return PROG_FOREIGN;
	}
	kind = strcmp(info.name, sgname) ? PROG_FOREIGN : PROG_OTHER_STATE;
	nmaps = info.nr_map_ids;
	if (o->active_id && nmaps && kind == PROG_OTHER_STATE) {
		ids = calloc(nmaps, sizeof(*ids));
		memset(&info, 0, sizeof(info));
		ilen = sizeof(info);
		info.nr_map_ids = nmaps;
		info.map_ids = (__u64)(unsigned long)ids;
		if (ids && !bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
			if (info.nr_map_ids < nmaps)
				nmaps = info.nr_map_ids;
			for (__u32 i = 0; i < nmaps; i++)
				if (ids[i] == o->active_id)
					kind = PROG_OURS;
		}
		free(ids);
	} else if (!o->active_id && recorded && id == recorded) {
		kind = PROG_OURS;
	}
	close(fd);
	return kind;
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

/* What is attached to ifindex (current namespace) now. */
struct iface_progs {
	__u32 drv, skb, hw; /* XDP, per mode */
	__u32 tc;	    /* egress filter at our handle and priority */
};

static int query_iface(int ifindex, struct iface_progs *p)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tq, .handle = SG_TC_HANDLE,
		    .priority = SG_TC_PRIORITY);
	int err;

	memset(p, 0, sizeof(*p));
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	p->drv = q.drv_prog_id;
	p->skb = q.skb_prog_id;
	p->hw = q.hw_prog_id;
	if (tc_query_quiet(&hook, &tq) == 0)
		p->tc = tq.prog_id;
	return 0;
}

/*
 * Filters on the clsact qdisc of ifindex (both directions), by an
 * RTM_GETTFILTER dump: 0 and *n, or a negative errno (-EINVAL/-ENOENT
 * when there is no clsact).
 */
static int clsact_filters(int ifindex, size_t *n)
{
	static const __u32 parents[] = {
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
	};
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	char buf[8192];
	int fd, err = 0;

	*n = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	for (size_t p = 0; !err && p < 2; p++) {
		bool done = false;

		memset(&req, 0, sizeof(req));
		req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
		req.nh.nlmsg_type = RTM_GETTFILTER;
		req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.nh.nlmsg_seq = (__u32)p + 1;
		req.tc.tcm_family = AF_UNSPEC;
		req.tc.tcm_ifindex = ifindex;
		req.tc.tcm_parent = parents[p];
		if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
			err = -errno;
			break;
		}
		while (!err && !done) {
			ssize_t len = recv(fd, buf, sizeof(buf), 0);
			struct nlmsghdr *nh = (struct nlmsghdr *)buf;

			if (len < 0) {
				err = -errno;
				break;
			}
			for (; NLMSG_OK(nh, (__u32)len);
			     nh = NLMSG_NEXT(nh, len)) {
				if (nh->nlmsg_type == NLMSG_DONE) {
					done = true;
					break;
				}
				if (nh->nlmsg_type == NLMSG_ERROR) {
					struct nlmsgerr *e = NLMSG_DATA(nh);

					err = e->error ? e->error : 0;
					done = true;
					break;
				}
				if (nh->nlmsg_type == RTM_NEWTFILTER)
					(*n)++;
			}
		}
	}
	close(fd);
	return err;
}

/* The clsact qdisc goes when sgctl created it and nothing uses it. */
static void clsact_release(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	size_t n;

	if (clsact_filters(ifindex, &n) || n)
		return;
	bpf_tc_hook_destroy(&hook);
}

static int foreign_error(const char *ifname, const char *netns,
			 const char *kind, __u32 id)
{
	char name[BPF_OBJ_NAME_LEN] = "?";

	prog_name_by_id(id, name, sizeof(name));
	sg_err("%s%s already has %s program (%s, id %u) that sgctl did not "
	       "attach; remove it first",
	       ifname, where(netns), kind, name, id);
	return -EBUSY;
}

static int other_state_error(const char *ifname, const char *netns,
			     const char *kind, __u32 id)
{
	sg_err("%s%s is attached by another sgctl state (%s program id %u); "
	       "detach it with that state's --pin-dir first",
	       ifname, where(netns), kind, id);
	return -EBUSY;
}

/* Refuses an interface with a program not of this state. */
static int check_takeover(const struct sg_owner *o, const struct iface_progs *p,
			  const struct sg_attach_val *old, const char *ifname,
			  const char *netns)
{
	const struct {
		__u32 id;
		const char *sgname, *kind, *what;
		__u32 recorded;
	} progs[] = {
		{p->drv, "sg_xdp", "an XDP", "XDP", old->xdp_prog_id},
		{p->skb, "sg_xdp", "an XDP", "XDP", old->xdp_prog_id},
		{p->tc, "sg_tc", "a TC egress", "TC", old->tc_prog_id},
	};

	if (p->hw)
		return foreign_error(ifname, netns, "an offloaded XDP", p->hw);
	for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++) {
		switch (classify(o, progs[i].id, progs[i].sgname,
				 progs[i].recorded)) {
		case PROG_OTHER_STATE:
			return other_state_error(ifname, netns, progs[i].what,
						 progs[i].id);
		case PROG_FOREIGN:
			return foreign_error(ifname, netns, progs[i].kind,
					     progs[i].id);
		default:
			break;
		}
	}
	return 0;
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

/*
 * Removes this state's programs from ifindex (current namespace); rec,
 * when there is one, gives the recorded ids and whether the clsact qdisc
 * is ours. *removed is set when a program was removed. -ENODEV is not an
 * error here (nothing to remove).
 */
static int remove_ours(const struct sg_owner *o, int ifindex,
		       const char *ifname, const char *netns,
		       const struct sg_attach_val *rec, bool *removed)
{
	static const struct sg_attach_val none;
	struct iface_progs p;
	int err;

	if (!rec)
		rec = &none;
	err = query_iface(ifindex, &p);
	if (err == -ENODEV)
		return 0;
	if (err) {
		sg_err("cannot query XDP on %s%s: %s", ifname, where(netns),
		       sg_bpf_strerror(err));
		return err;
	}
	if (classify(o, p.drv, "sg_xdp", rec->xdp_prog_id) == PROG_OURS) {
		err = xdp_remove(ifindex, XDP_FLAGS_DRV_MODE, p.drv);
		if (err)
			goto xdp_fail;
		*removed = true;
	}
	if (classify(o, p.skb, "sg_xdp", rec->xdp_prog_id) == PROG_OURS) {
		err = xdp_remove(ifindex, XDP_FLAGS_SKB_MODE, p.skb);
		if (err)
			goto xdp_fail;
		*removed = true;
	}
	if (classify(o, p.tc, "sg_tc", rec->tc_prog_id) == PROG_OURS) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, dt, .handle = SG_TC_HANDLE,
			    .priority = SG_TC_PRIORITY);

		err = bpf_tc_detach(&hook, &dt);
		if (err && err != -ENOENT) {
			sg_err("cannot remove the TC egress filter from "
			       "%s%s: %s",
			       ifname, where(netns), sg_bpf_strerror(err));
			return err;
		}
		*removed = true;
	}
	/* Other filters may live on a clsact sgctl did not add. */
	if (rec->flags & SG_ATTACH_OWN_CLSACT)
		clsact_release(ifindex);
	return 0;

xdp_fail:
	sg_err("cannot remove XDP from %s%s: %s", ifname, where(netns),
	       sg_bpf_strerror(err));
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
	struct sg_owner owner;
	struct iface_progs p;
	bool have_rec, tc_replace, other_removed = false, own_clsact;
	int ifindex, old_fd = -1, err;

	if (!st->progs || xdp_fd < 0 || tc_fd < 0) {
		sg_err("internal: programs not loaded");
		return -EINVAL;
	}
	err = sg_owner_of_state(&owner, st);
	if (err)
		return err;
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
	err = query_iface(ifindex, &p);
	if (err) {
		sg_err("cannot query XDP on %s%s: %s", req->ifname,
		       where(req->netns), sg_bpf_strerror(err));
		return err;
	}
	err = check_takeover(&owner, &p, &old, req->ifname, req->netns);
	if (err)
		return err;
	same_id = req->xdp_generic ? p.skb : p.drv;
	other_id = req->xdp_generic ? p.drv : p.skb;
	tc_replace = p.tc != 0;

	/* XDP: replace ours atomically in the same mode; switching modes
	 * needs a detach first (one mode at a time). */
	if (other_id) {
		err = xdp_remove(ifindex, other, other_id);
		if (err) {
			sg_err("cannot remove the previous XDP program from "
			       "%s%s: %s",
			       req->ifname, where(req->netns),
			       sg_bpf_strerror(err));
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
			       req->ifname, where(req->netns),
			       sg_bpf_strerror(err));
		goto restore_other;
	}

	/* TC egress on clsact; an existing clsact is fine, and stays when
	 * we leave (it was there before us, or our record says so). */
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_EGRESS);
	err = tc_hook_create_quiet(&hook);
	if (err && err != -EEXIST) {
		sg_err("cannot create the clsact qdisc on %s%s: %s",
		       req->ifname, where(req->netns), sg_bpf_strerror(err));
		goto undo_xdp;
	}
	own_clsact = !err || (have_rec && (old.flags & SG_ATTACH_OWN_CLSACT));
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
		    (req->xdp_generic ? SG_ATTACH_XDP_GENERIC : 0) |
		    (own_clsact ? SG_ATTACH_OWN_CLSACT : 0);
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
			if (own_clsact)
				clsact_release(ifindex);
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

/* ---------------------------------------------------------------- verify */

const char *sg_att_status_name(enum sg_att_status s)
{
	switch (s) {
	case SG_ATT_OK:
		return "ok";
	case SG_ATT_LOST:
		return "lost";
	default:
		return "stale";
	}
}

int sg_attach_verify(const struct sg_owner *o, const struct sg_attach_key *k,
		     const struct sg_attach_val *v, struct sg_att_truth *t)
{
	char now[IF_NAMESIZE] = "";
	struct iface_progs p;
	struct sg_netns ns;
	bool named, xdp, tc;
	__u64 ino;
	int err;

	memset(t, 0, sizeof(*t));
	t->status = SG_ATT_STALE;
	/* Its name leads to it still (a deleted or re-created namespace
	 * does not, even when a process keeps the old one alive). */
	named = !v->netns[0] ||
		(!sg_netns_ino(v->netns, &ino) && ino == k->netns_ino);
	err = sg_netns_enter_ino(k->netns_ino, v->netns, &ns);
	if (err == -ENOENT)
		return 0; /* the namespace is gone */
	if (err)
		return err;
	if (!if_indextoname(k->ifindex, now)) {
		now[0] = '\0';
		goto out;
	}
	snprintf(t->ifname_now, sizeof(t->ifname_now), "%s", now);
	err = query_iface((int)k->ifindex, &p);
	if (err) {
		err = err == -ENODEV ? 0 : err;
		goto out;
	}
	xdp = classify(o, p.drv, "sg_xdp", v->xdp_prog_id) == PROG_OURS ||
	      classify(o, p.skb, "sg_xdp", v->xdp_prog_id) == PROG_OURS;
	tc = classify(o, p.tc, "sg_tc", v->tc_prog_id) == PROG_OURS;
	t->progs = xdp || tc;
	if (!named || strcmp(now, v->ifname))
		t->status = SG_ATT_STALE;
	else
		t->status = xdp && tc ? SG_ATT_OK : SG_ATT_LOST;
out:
	if (sg_netns_leave(&ns) && !err)
		err = -EIO;
	return err;
}

/* ---------------------------------------------------------------- detach */

/* The walk's view of one interface of one namespace. */
struct iface_visit {
	const struct sg_owner *o;
	const struct sg_attach_val *rec; /* hunt: the record's programs */
	size_t n;			 /* interfaces cleaned */
	int err;
};

/* " in netns NAME", or the namespace's inode when it has no name. */
static const char *where_ino(const char *name, __u64 ino)
{
	static char buf[SG_NETNS_LEN + 48];
	__u64 self = 0;

	if (name)
		return where(name);
	if (!sg_netns_ino(NULL, &self) && self == ino)
		return "";
	snprintf(buf, sizeof(buf), " in the unnamed netns %llu",
		 (unsigned long long)ino);
	return buf;
}

/*
 * In one namespace (entered): with ctx->rec, removes this state's
 * programs from the interfaces that carry the record's programs (the
 * record's interface moved or was renamed); without, from every
 * interface (the sweep).
 */
static int visit_ns(void *ctx, __u64 ino, const char *name)
{
	struct iface_visit *x = ctx;
	struct if_nameindex *ifs = if_nameindex();
	char label[SG_NETNS_LEN + 48];

	if (!ifs)
		return 0;
	snprintf(label, sizeof(label), "%s", where_ino(name, ino));
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		struct iface_progs p;
		bool removed = false;
		int err;

		if (query_iface((int)i->if_index, &p))
			continue;
		if (x->rec) {
			const struct sg_attach_val *r = x->rec;

			if (!(r->xdp_prog_id && (p.drv == r->xdp_prog_id ||
						 p.skb == r->xdp_prog_id)) &&
			    !(r->tc_prog_id && p.tc == r->tc_prog_id))
				continue;
		} else if (classify(x->o, p.drv, "sg_xdp", 0) != PROG_OURS &&
			   classify(x->o, p.skb, "sg_xdp", 0) != PROG_OURS &&
			   classify(x->o, p.tc, "sg_tc", 0) != PROG_OURS) {
			continue;
		}
		err = remove_ours(x->o, (int)i->if_index, i->if_name, name,
				  x->rec, &removed);
		if (err && !x->err)
			x->err = err;
		if (!removed)
			continue;
		x->n++;
		if (!x->rec)
			sg_warnx("removed programs of this state from %s%s "
				 "that no attachment record covered",
				 i->if_name, label);
	}
	if_freenameindex(ifs);
	return 0;
}

int sg_detach_record(const struct sg_owner *o, const struct sg_attach_key *key,
		     const struct sg_attach_val *val, bool *detached)
{
	char now[IF_NAMESIZE];
	struct sg_netns ns;
	int err = 0;

	*detached = false;
	if (!sg_netns_enter_ino(key->netns_ino, val->netns, &ns)) {
		if (if_indextoname(key->ifindex, now))
			err = remove_ours(o, (int)key->ifindex, now, val->netns,
					  val, detached);
		if (sg_netns_leave(&ns) && !err)
			err = -EIO;
		if (err)
			return err;
	}
	/* Not where the record says: the interface moved (another
	 * namespace, another index); its programs keep their ids. */
	if (!*detached && (val->xdp_prog_id || val->tc_prog_id)) {
		struct iface_visit x = {.o = o, .rec = val};

		err = sg_netns_walk(visit_ns, &x);
		if (!err)
			err = x.err;
		if (err)
			return err;
		*detached = x.n > 0;
	}
	if (o->attach_fd >= 0) {
		err = bpf_map_delete_elem(o->attach_fd, key);
		if (err && err != -ENOENT) {
			sg_err("cannot delete the attachment record of %s: %s",
			       val->ifname, sg_bpf_strerror(err));
			return err;
		}
	}
	return 0;
}

int sg_attach_sweep(const struct sg_owner *o, size_t *n)
{
	struct iface_visit x = {.o = o};
	int err;

	*n = 0;
	if (!o->active_id)
		return 0;
	err = sg_netns_walk(visit_ns, &x);
	*n = x.n;
	return err ? err : x.err;
}

int sg_detach(const struct sg_owner *o, const char *ifname, const char *netns,
	      struct sg_detach_result *r)
{
	struct sg_attach_key *keys = NULL;
	struct sg_attach_val *vals = NULL;
	const char *nsname = netns ? netns : "";
	bool have_ns, covered = false;
	struct sg_netns ns;
	size_t n = 0;
	__u64 ino = 0;
	int ifindex = 0, err = 0;

	memset(r, 0, sizeof(*r));
	have_ns = sg_netns_ino(netns, &ino) == 0;
	if (have_ns) {
		err = sg_netns_enter(netns, &ns);
		if (err)
			return err;
		ifindex = (int)if_nametoindex(ifname);
		err = sg_netns_leave(&ns);
		if (err)
			return err;
	}
	if (o->attach_fd >= 0) {
		err = sg_attach_list_fd(o->attach_fd, &keys, &vals, &n);
		if (err)
			return err;
	}
	/* The records of that name there, and the one of the interface
	 * that has the name now. */
	for (size_t i = 0; i < n; i++) {
		const struct sg_attach_key *k = &keys[i];
		const struct sg_attach_val *v = &vals[i];
		bool here = have_ns && k->netns_ino == ino;
		bool removed;

		if (!(!strcmp(v->ifname, ifname) &&
		      (here || !strcmp(v->netns, nsname))) &&
		    !(here && ifindex && k->ifindex == (__u32)ifindex))
			continue;
		if (here && ifindex && k->ifindex == (__u32)ifindex)
			covered = true;
		err = sg_detach_record(o, k, v, &removed);
		if (err)
			goto out;
		if (removed)
			r->detached++;
		else
			r->forgot++;
	}
	/* This state's programs there that no record covers (an attach
	 * killed before it wrote its record). */
	if (ifindex && !covered && o->active_id) {
		bool removed = false;

		err = sg_netns_enter(netns, &ns);
		if (err)
			goto out;
		err = remove_ours(o, ifindex, ifname, netns, NULL, &removed);
		if (sg_netns_leave(&ns) && !err)
			err = -EIO;
		if (err)
			goto out;
		r->detached += removed;
	}
	if (r->detached || r->forgot)
		goto out;
	if (!have_ns) {
		err = sg_netns_enter(netns, &ns); /* says why */
		sg_netns_leave(&ns);
		if (!err)
			err = -ENOENT;
	} else if (!ifindex) {
		sg_err("no interface %s%s", ifname, where(netns));
		err = -ENODEV;
	} else {
		sg_err("%s%s is not attached", ifname, where(netns));
		err = -ENOENT;
	}
out:
	free(keys);
	free(vals);
	return err;
}

int sg_detach_all(const char *pin_dir, size_t *detached)
{
	struct sg_attach_key *keys = NULL;
	struct sg_attach_val *vals = NULL;
	struct sg_owner o;
	size_t n = 0, swept = 0;
	int err, rc = 0;

	*detached = 0;
	if (sg_owner_open(&o, pin_dir))
		sg_warnx("removing the pins anyway");
	err = o.attach_fd >= 0
		      ? sg_attach_list_fd(o.attach_fd, &keys, &vals, &n)
		      : 0;
	if (err)
		rc = err;
	for (size_t i = 0; !err && i < n; i++) {
		bool removed;

		if (sg_detach_record(&o, &keys[i], &vals[i], &removed))
			rc = -EIO;
		else
			*detached += removed;
	}
	free(keys);
	free(vals);
	/* Only when every record went: a failed one may be what remains. */
	if (!rc) {
		rc = sg_attach_sweep(&o, &swept);
		*detached += swept;
	}
	sg_owner_close(&o);
	return rc;
}

int sg_attach_orphans(const char *ifname, const char *netns)
{
	const struct sg_owner nobody = {.attach_fd = -1};
	struct iface_progs p;
	struct sg_netns ns;
	__u32 xdp = 0, tc = 0;
	int ifindex, err;
	__u64 ino;

	if (sg_netns_ino(netns, &ino) || sg_netns_enter(netns, &ns))
		return 0; /* no such namespace: nothing to report on */
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex && !query_iface(ifindex, &p)) {
		if (classify(&nobody, p.drv, "sg_xdp", 0) == PROG_OTHER_STATE)
			xdp = p.drv;
		if (classify(&nobody, p.skb, "sg_xdp", 0) == PROG_OTHER_STATE)
			xdp = p.skb;
		if (classify(&nobody, p.tc, "sg_tc", 0) == PROG_OTHER_STATE)
			tc = p.tc;
	}
	err = sg_netns_leave(&ns);
	if (!xdp && !tc)
		return err;
	sg_err("%s%s still has sgctl programs (XDP id %u, TC id %u) but no "
	       "state is loaded here: they belong to another --pin-dir or "
	       "their state was removed; detach them with that --pin-dir, "
	       "or with ip link set dev %s xdp off and tc filter del dev %s "
	       "egress",
	       ifname, where(netns), xdp, tc, ifname, ifname);
	return -EEXIST;
}
