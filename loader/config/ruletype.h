/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The AWS console's rule Types ("HTTP", "Custom TCP", "All traffic", ...),
 * in the order of its Type menu, and the Type a rule shows as: what the
 * console's pages and its API (GET /api/types, RULE "type" and
 * "port_range") call a rule. Pure: names only, no config is changed.
 */
#ifndef SG_RULETYPE_H
#define SG_RULETYPE_H

#include <stdbool.h>
#include <stddef.h>

/* sg_ruletype.proto of "Custom protocol": the protocol is the user's. */
#define SG_RULETYPE_ANY_PROTO (-2)

struct sg_ruletype {
	const char *name;   /* "HTTP", as the console writes it */
	int proto;	    /* SG_PROTO_TCP..., SG_PROTO_ALL, or
			     * SG_RULETYPE_ANY_PROTO */
	int port_lo;	    /* tcp/udp: the ports (Custom: -1, the user's) */
	int port_hi;	    /* -1 for protocols without ports */
	bool fixed;	    /* protocol and ports are the type's */
	bool icmp_all;	    /* ICMP types: every ICMP type and code */
	const char *preset; /* the config's preset type ("http"), or NULL */
};

/* The Type menu, in the console's order. */
extern const struct sg_ruletype sg_ruletypes[];
extern const size_t sg_nruletypes;

/* The type called name (case-insensitive); NULL when none is. */
const struct sg_ruletype *sg_ruletype_find(const char *name);

/*
 * The Type a rule shows as, from what it allows: "All traffic", "All TCP"
 * (tcp 0-65535), "HTTP" (tcp 80), "DNS (UDP)" (udp 53), "Custom TCP" (any
 * other tcp ports), "All ICMP - IPv4" (icmp, every type), "Custom ICMP -
 * IPv4" (one type), "Custom protocol" (any other protocol). icmp_type is
 * SG_ANY for every type.
 */
const char *sg_ruletype_of(int proto, int port_lo, int port_hi, int icmp_type);

/*
 * The console's Port range of a rule: "80", "8000-8080", "0-65535" (tcp,
 * udp), "All" (all traffic, every ICMP type, a protocol without ports),
 * "N/A" (one ICMP type: the type is the rule's, not a port). buf >= 16.
 */
const char *sg_port_range_str(int proto, int port_lo, int port_hi,
			      int icmp_type, char *buf, size_t len);

/* The protocol of a type as the editor writes it ("tcp", "icmp", "all");
 * NULL for "Custom protocol". */
const char *sg_ruletype_protocol(const struct sg_ruletype *t);

#endif /* SG_RULETYPE_H */
