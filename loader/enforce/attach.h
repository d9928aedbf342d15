/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attaching the programs to interfaces: sg_xdp on ingress (XDP, netlink),
 * sg_tc on egress (clsact filter, handle SG_TC_HANDLE, priority
 * SG_TC_PRIORITY), in the caller's network namespace or a named one, and
 * the records in sg_attach that let detach/unload/show work later.
 * Netlink attachments hold their program: enforcement outlives sgctl.
 *
 * The kernel is the truth, the records are notes: a record names a
 * namespace (its inode), an ifindex and the programs attached there, and
 * every use checks them against what is attached now. A program belongs
 * to a state when it uses the state's maps (the map ids of the program
 * include the id of the state's pinned sg_active), so two states never
 * take each other's interfaces.
 */
#ifndef SG_ATTACH_H
#define SG_ATTACH_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "enforce/netns.h"
#include "state/state.h"

#define SG_TC_HANDLE   0x5347 /* "SG" */
#define SG_TC_PRIORITY 1

/* sg_attach_val.flags bit kept by the loader only: the clsact qdisc was
 * created by this attach, so a detach that leaves it empty removes it. */
#define SG_ATTACH_OWN_CLSACT (1u << 8)

/* Which state a program must belong to, and where its records are. */
struct sg_owner {
	int attach_fd;	 /* sg_attach, -1 when there is none */
	__u32 active_id; /* map id of its sg_active; 0: unknown */
	bool own_fd;	 /* attach_fd opened here (sg_owner_close closes) */
};

/* The owner of an open state. */
int sg_owner_of_state(struct sg_owner *o, struct sg_state *st);
/* The owner from the pins alone (unload: works when the object would no
 * longer load over old pins). Missing pins leave attach_fd -1 and
 * active_id 0; other failures are reported and returned. */
int sg_owner_open(struct sg_owner *o, const char *pin_dir);
void sg_owner_close(struct sg_owner *o);

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
 * records it. Re-attaching over this state's programs replaces them; a
 * program of another sgctl state ("attached by another sgctl state") or
 * one sgctl did not attach is never replaced (-EBUSY).
 */
int sg_attach(struct sg_state *st, const struct sg_attach_req *req);

/* ---- the records against the kernel ---- */

enum sg_att_status {
	SG_ATT_OK,    /* our programs on that ifindex in that namespace */
	SG_ATT_STALE, /* interface gone, renamed or re-created, or its
			 namespace gone or no longer under its name */
	SG_ATT_LOST,  /* the interface is there, our programs are not */
};

struct sg_att_truth {
	enum sg_att_status status;
	bool progs; /* a program of this state is on the recorded ifindex */
	char ifname_now[SG_IFNAME_LEN]; /* its name now, "" when gone */
};

/* "ok", "stale", "lost" */
const char *sg_att_status_name(enum sg_att_status s);

/* Checks one record against the kernel (enters its namespace when it can
 * be reached). Silent; a negative errno only for unexpected failures. */
int sg_attach_verify(const struct sg_owner *o, const struct sg_attach_key *k,
		     const struct sg_attach_val *v, struct sg_att_truth *t);

/* What a detach did. */
struct sg_detach_result {
	size_t detached; /* interfaces our programs were removed from */
	size_t forgot;	 /* stale records dropped (nothing was attached) */
};

/*
 * Detaches by interface name (in netns, NULL = the caller's namespace):
 * the records of that name there (their programs removed wherever the
 * interface went), and programs of this state on the interface that no
 * record covers. -ENOENT (reported) when nothing of this state was there.
 */
int sg_detach(const struct sg_owner *o, const char *ifname, const char *netns,
	      struct sg_detach_result *r);

/* Detaches a recorded attachment (unload): removes its programs wherever
 * they are (*detached set when some were) and deletes the record. */
int sg_detach_record(const struct sg_owner *o, const struct sg_attach_key *key,
		     const struct sg_attach_val *val, bool *detached);

/*
 * Removes the programs of this state that no record covers from every
 * interface of every reachable namespace (a crash between attaching and
 * recording, a record dropped while its interface moved), saying where.
 * *n: interfaces cleaned. Needs o->active_id.
 */
int sg_attach_sweep(const struct sg_owner *o, size_t *n);

/*
 * With no state loaded: reports sgctl programs on ifname (in netns) that
 * outlived their state or belong to another pin dir, and returns -EEXIST;
 * 0 when there are none. Removes nothing: whose they are is unknown.
 */
int sg_attach_orphans(const char *ifname, const char *netns);

/*
 * Removes every attachment of the state in pin_dir (unload), from its pins
 * alone (works when the object would no longer load over old pins): the
 * recorded ones, then the sweep. *detached: interfaces cleaned.
 */
int sg_detach_all(const char *pin_dir, size_t *detached);

#endif /* SG_ATTACH_H */
