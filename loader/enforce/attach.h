/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attaching the programs to interfaces: sg_xdp on ingress (XDP, netlink),
 * sg_tc on egress (clsact filter, handle SG_TC_HANDLE, priority
 * SG_TC_PRIORITY), in the caller's network namespace or a named one, and
 * the records in sg_attach that let detach/unload/show work later.
 * Netlink attachments hold their program: enforcement outlives sgctl.
 */
#ifndef SG_ATTACH_H
#define SG_ATTACH_H

#include <linux/types.h>
#include <stdbool.h>

#include "state/state.h"

#define SG_TC_HANDLE   0x5347 /* "SG" */
#define SG_TC_PRIORITY 1

/* A network namespace entered for one operation, then left. */
struct sg_netns {
	int orig_fd; /* the caller's namespace, -1 when not entered */
	__u64 ino;   /* inode of the namespace we are in (target) */
};

/*
 * Enters the namespace `name` (as `ip netns` names it: /run/netns/NAME);
 * NULL or "" stays in the caller's namespace. Either way ns->ino is the
 * target's inode. Leave with sg_netns_leave (safe when nothing entered).
 */
int sg_netns_enter(const char *name, struct sg_netns *ns);
int sg_netns_leave(struct sg_netns *ns);

struct sg_attach_req {
	const char *ifname;
	const char *netns; /* NULL: the caller's namespace */
	const char *instance;
	__u32 slot;
	bool host_side;
	bool xdp_generic;
};

/*
 * Attaches the programs of st (opened for req->slot, req->host_side) and
 * records it. Re-attaching over an sgctl attachment of the same interface
 * replaces it; a program sgctl did not attach is never replaced.
 */
int sg_attach(struct sg_state *st, const struct sg_attach_req *req);

/*
 * Detaching needs only the sg_attach map (attach_fd), so that unload works
 * even when the object no longer loads over old pins.
 */

/* Detaches by interface name (in netns, NULL = the caller's namespace).
 * -ENOENT (reported) when nothing of sgctl is attached there. */
int sg_detach(int attach_fd, const char *ifname, const char *netns);

/* Detaches a recorded attachment (unload): enters its namespace, removes
 * the programs if still there, deletes the record. */
int sg_detach_record(int attach_fd, const struct sg_attach_key *key,
		     const struct sg_attach_val *val);

#endif /* SG_ATTACH_H */
