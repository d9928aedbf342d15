/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The console's flow-log buffer (flows.c), as its handlers read it: the
 * records of the last SG_CONSOLE_FLOW_WINDOW_S seconds (at most
 * SG_FLOWBUF_MAX), oldest first, each numbered with a cursor that only
 * rises (also across console restarts: the numbering starts at the
 * start's unix time in microseconds).
 *
 * A record is what `sgctl flowlog --follow` prints per window, with a
 * one-second window: a flow's first record counts everything until it
 * was first seen, each later one the packets of one poll.
 */
#ifndef SG_CONSOLE_FLOWS_H
#define SG_CONSOLE_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console/console.h"
#include "out/json.h"
#include "view/flowlog.h"

#define SG_FLOWBUF_MAX 100000 /* records kept, whatever the window */

/* The account, VPC and region a record was counted under (opaque). */
struct sg_flowbuf_labels;

struct sg_flowbuf_rec {
	struct sg_flow f;
	const char *instance; /* the slot's owner then (NULL: none) */
	const struct sg_flowbuf_labels *labels;
	uint64_t cursor;
	int64_t offset_ns; /* realtime - monotonic when it was read */
};

/* What GET /api/flowlogs asks for. */
struct sg_flowbuf_query {
	const char *instance; /* NULL: any */
	int action;	      /* -1: any; SG_FL_ACCEPT or SG_FL_REJECT */
	bool have_addr;	      /* srcaddr or dstaddr is addr */
	int family;	      /* 4 or 6 */
	uint8_t addr[16];
	int port;	  /* -1: any; srcport or dstport (tcp, udp) */
	const char *rule; /* sg-rule-id; NULL: any */
	bool have_after;  /* only records after this cursor */
	uint64_t after;
	size_t limit; /* 1-1000 */
};

/*
 * Writes "records": [FLOW + "cursor"...] and "next" into the object j
 * has open. With after: the oldest limit records after it, so that a
 * follower polling with after=next misses none; without: the newest
 * limit records. Oldest first either way. next: the last record given
 * when limit cut the answer, else the newest cursor looked at (or after).
 * fb NULL: no records.
 */
void sg_flowbuf_list(struct sg_flowbuf *fb, const struct sg_flowbuf_query *q,
		     struct sg_json *j);

/*
 * Calls fn for each record of the last window_s seconds, oldest first,
 * with the buffer's lock held: fn must not call the buffer's other
 * functions, except sg_flowbuf_rec_members. Nothing when fb is NULL.
 */
typedef void (*sg_flowbuf_fn)(struct sg_flowbuf *fb,
			      const struct sg_flowbuf_rec *r, void *arg);
void sg_flowbuf_each(struct sg_flowbuf *fb, unsigned int window_s,
		     sg_flowbuf_fn fn, void *arg);

/* The record's members (the `flowlog -j` fields, "direction", "cursor")
 * into the object j has open. From fn only. */
void sg_flowbuf_rec_members(struct sg_flowbuf *fb,
			    const struct sg_flowbuf_rec *r, struct sg_json *j);
/* The record's sg-rule-id ("-": none). From fn only. */
const char *sg_flowbuf_rec_rule(struct sg_flowbuf *fb,
				const struct sg_flowbuf_rec *r);

#endif /* SG_CONSOLE_FLOWS_H */
