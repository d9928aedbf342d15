/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Network namespaces, by name (as `ip netns` names them: /run/netns/NAME)
 * and by identity (the inode of the namespace, what an attachment record
 * keeps). A namespace whose name was deleted stays reachable while a
 * process lives in it: sgctl finds it through /proc, so the programs it
 * attached there can still be checked and removed.
 */
#ifndef SG_NETNS_H
#define SG_NETNS_H

#include <linux/types.h>

/* A network namespace entered for one operation, then left. */
struct sg_netns {
	int orig_fd; /* the caller's namespace, -1 when not entered */
	__u64 ino;   /* inode of the namespace we are in (target) */
};

/*
 * Enters the namespace `name`; NULL or "" stays in the caller's namespace.
 * Either way ns->ino is the target's inode. Leave with sg_netns_leave
 * (safe when nothing was entered). Failures are reported.
 */
int sg_netns_enter(const char *name, struct sg_netns *ns);
int sg_netns_leave(struct sg_netns *ns);

/* The inode of namespace `name` (NULL or "": the caller's), silently;
 * -ENOENT when no namespace has that name. */
int sg_netns_ino(const char *name, __u64 *ino);

/*
 * Enters the namespace whose inode is ino wherever it can be reached: by
 * `name` (a hint), the caller's, any `ip netns` name, any process's.
 * -ENOENT, silently, when it is nowhere (it is gone). Leave with
 * sg_netns_leave.
 */
int sg_netns_enter_ino(__u64 ino, const char *name, struct sg_netns *ns);

/*
 * Calls fn once inside every namespace that can be reached (the caller's,
 * the named ones, those of processes), with its inode and its `ip netns`
 * name (NULL for none). Stops at fn's first nonzero return and returns it.
 */
int sg_netns_walk(int (*fn)(void *ctx, __u64 ino, const char *name), void *ctx);

#endif /* SG_NETNS_H */
