/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Structs and constants shared by the BPF datapath (bpf/) and the loader
 * (loader/). Every map's key and value layout lives here and only here.
 * See docs/design.md for how the maps fit together.
 *
 * Userspace includes <linux/types.h> first; BPF code includes vmlinux.h.
 */
#ifndef SGCTL_H
#define SGCTL_H

/* Limits (compile-time: they size the maps). */
#define SG_MAX_INSTANCES 4096 /* instance slots */
#define SG_MAX_ATTACH 1024 /* attached interfaces */
#define SG_CLASS_MAX_ENTRIES (1 << 20) /* per generation: remote prefix -> class */
#define SG_RULE_MAX_ENTRIES (1 << 20) /* per generation: (class, proto, port) */
#define SG_CT_MAX_ENTRIES (1 << 20) /* all instances' tracked flows */
#define SG_FRAG_MAX_ENTRIES 16384
#define SG_IPV6_MAX_EXT_HDRS 8
#define SG_ID_LEN 64 /* instance / group id, with NUL */
#define SG_IFNAME_LEN 16
#define SG_NETNS_LEN 64
#define SG_BLOB_CHUNK 65536 /* stored config text, per map value */
#define SG_BLOB_MAX_CHUNKS 1024 /* 64 MiB of config; memory per chunk used */
/*
 * Instance addresses (sg_ip) per generation. sg_ip holds two generations:
 * the live one and the one being written, so the compiler refuses more.
 */
#define SG_IP_MAX_PER_GEN 32768

/* Directions, seen from the instance. */
enum sg_dir {
	SG_DIR_IN = 0,
	SG_DIR_OUT = 1,
	SG_NDIR = 2,
};

/*
 * IP protocol numbers (IANA) that sgctl names, for the datapath and the
 * loader alike: vmlinux.h and <netinet/in.h> cannot both be included, and
 * neither gives BPF code and userspace the same names.
 */
#define SG_PROTO_HOPOPTS 0 /* IPv6 hop-by-hop options */
#define SG_PROTO_ICMP 1
#define SG_PROTO_TCP 6
#define SG_PROTO_UDP 17
#define SG_PROTO_ROUTING 43 /* IPv6 routing header */
#define SG_PROTO_FRAGMENT 44 /* IPv6 fragment header */
#define SG_PROTO_AH 51
#define SG_PROTO_ICMPV6 58
#define SG_PROTO_DSTOPTS 60 /* IPv6 destination options */
#define SG_PROTO_MH 135 /* IPv6 mobility header */

#ifndef __bpf__
/* The name a protocol has in configs and output; NULL when it has none
 * (then it is written as its number). */
static inline const char *sg_proto_name(int proto)
{
	switch (proto) {
	case SG_PROTO_TCP:
		return "tcp";
	case SG_PROTO_UDP:
		return "udp";
	case SG_PROTO_ICMP:
		return "icmp";
	case SG_PROTO_ICMPV6:
		return "icmpv6";
	default:
		return (const char *)0;
	}
}
#endif

/* IPv6 extension headers the datapath walks past to find the protocol. */
#define SG_PROTO_IS_IPV6_EXT(nh)                                         \
	((nh) == SG_PROTO_HOPOPTS || (nh) == SG_PROTO_ROUTING ||        \
	 (nh) == SG_PROTO_FRAGMENT || (nh) == SG_PROTO_DSTOPTS ||       \
	 (nh) == SG_PROTO_AH || (nh) == SG_PROTO_MH)

/*
 * Policy generations. Every policy key carries the generation it belongs to;
 * `load` writes the inactive generation completely, then flips sg_active.gen
 * with a single 32-bit store, so a new flow sees either the old policy or the
 * new one, never a mix and never nothing.
 */
#define SG_GEN_SHIFT 31
/* The generation bit of a key word (scope, class_id, gen_slot), and back. */
#define SG_GEN_BIT(gen) ((__u32)(gen) << SG_GEN_SHIFT)
#define SG_GEN_OF(word) ((__u32)(word) >> SG_GEN_SHIFT)

struct sg_active {
	__u32 gen; /* 0 or 1 */
	/* Bumped when the loader deletes tracked flows: the per-CPU flow
	 * caches (struct sg_flow_cache) stop vouching for them. */
	__u32 ct_epoch;
};

/*
 * Stage 1 of the policy: (policy, direction, family, remote address) ->
 * class. LPM trie. scope = SG_SCOPE(...) is matched in full (32 bits), then
 * the address: prefixlen = 32 + address prefix length. IPv4 addresses use
 * addr[0..3], the rest zero.
 */
#define SG_SCOPE_DIR_SHIFT 30
#define SG_SCOPE_V6_SHIFT 29
#define SG_SCOPE_POLICY_MASK 0x1fffffffu /* 29 bits: the most policies */
#define SG_SCOPE(gen, dir, v6, policy)                          \
	(((__u32)(gen) << SG_GEN_SHIFT) |                       \
	 ((__u32)(dir) << SG_SCOPE_DIR_SHIFT) |                 \
	 ((__u32)(v6) << SG_SCOPE_V6_SHIFT) |                   \
	 ((__u32)(policy) & SG_SCOPE_POLICY_MASK))
/* Decoding a scope: each field of SG_SCOPE(gen, dir, v6, policy). */
#define SG_SCOPE_GEN(scope) ((__u32)(scope) >> SG_GEN_SHIFT)
#define SG_SCOPE_DIR(scope) (((__u32)(scope) >> SG_SCOPE_DIR_SHIFT) & 1)
#define SG_SCOPE_V6(scope) (((__u32)(scope) >> SG_SCOPE_V6_SHIFT) & 1)
#define SG_SCOPE_POLICY(scope) ((__u32)(scope) & SG_SCOPE_POLICY_MASK)
/* dir << 1 | v6: the scope's index among a policy's four (0..3). */
#define SG_SCOPE_SUB(scope) (((__u32)(scope) >> SG_SCOPE_V6_SHIFT) & 3)

struct sg_class_key {
	__u32 prefixlen;
	__u32 scope;
	__u8 addr[16];
};

/*
 * sg_class_val.flags, set by the loader from the class's stage-2 entries:
 * EXACT_PORTS, look in sg_rule_exact before sg_rule; EXACT_ONLY, it holds
 * every entry of the class (none is a range or a whole protocol), so a
 * miss there is final.
 */
#define SG_CLASS_EXACT_PORTS (1u << 0)
#define SG_CLASS_EXACT_ONLY (1u << 1)

/*
 * prefixlen is 16 bits so that flags fits in the 8 bytes the value always
 * had: an entry written before flags existed (or by a writer that ignores
 * them) reads as flags 0, which is always correct (stage 2 in sg_rule).
 */
struct sg_class_val {
	__u32 class_id; /* includes the generation bit */
	__u16 prefixlen; /* matched prefix: an LPM lookup does not return the key */
	__u16 flags;
};

/*
 * Exact-match copy of stage 1: every full-length entry of sg_class (a
 * member /32 or /128, a host CIDR) again in a hash, keyed like sg_class
 * without prefixlen. A full-length prefix is the longest there can be, so a
 * hit here is what the LPM would return, in one hash lookup instead of a
 * trie walk whose depth grows with every entry of the trie. Layout: the
 * tail of struct sg_class_key from scope on, so the datapath can pass
 * &key.scope. Read only for scopes whose instances carry SG_INST_EXACT in
 * sg_inst.flags; without it the LPM alone decides. The loader fills it
 * when the trie is large enough for that to pay (loader/compile/exact.c).
 */
struct sg_class_exact_key {
	__u32 scope; /* SG_SCOPE(...), generation bit included */
	__u8 addr[16];
};

/*
 * Stage 2: (class, protocol, destination port) -> allow. LPM trie.
 * prefixlen 32: all traffic. 48 + k: protocol `proto`, the first k bits of
 * `port` (network order). ICMP and ICMPv6 use port = type << 8 | code.
 * pad is always zero.
 */
#define SG_RULE_PLEN_ALL 32
#define SG_RULE_PLEN_PROTO 48

struct sg_rule_key {
	__u32 prefixlen;
	__u32 class_id;
	__u8 proto;
	__u8 pad;
	__be16 port;
};

/* sg_rule_val.flags */
#define SG_RULE_UNTRACKED (1u << 0) /* never tracked: docs/semantics.md §3.9 */

struct sg_rule_val {
	__u32 rule_ref; /* index into the loader's rule table (for check/show) */
	__u32 flags;
	/* sg_rule_key_of(rule id): where the rule's hits are counted
	 * (sg_rule_hits), the same across reloads while the rule exists.
	 * 4-byte aligned like the rest, so that a struct embedding the key
	 * and this value (compile.h's sg_rule_entry) has no padding. */
	__u64 rule_key __attribute__((packed, aligned(4)));
};
_Static_assert(sizeof(struct sg_rule_val) == 16 &&
		       _Alignof(struct sg_rule_val) == 4,
	       "sg_rule_val: 16 bytes, no padding around it");

/*
 * Exact-match copy of stage 2: every single-port entry of sg_rule
 * (prefixlen SG_RULE_PLEN_PROTO + 16) again in a hash, keyed like
 * sg_rule_key without prefixlen (so &key.class_id is a key). The longest
 * match for a full port is that entry when it exists, with the same value.
 * Consulted only for classes whose sg_class_val has SG_CLASS_EXACT_PORTS.
 */
struct sg_rule_exact_key {
	__u32 class_id; /* generation bit included */
	__u8 proto;
	__u8 pad;
	__be16 port;
};

/*
 * A miss in either exact map would cost a full hash lookup (several calls)
 * before the trie walk; this filter answers most misses inline: one array
 * read, a few multiplies. Per generation SG_BLOOM_WORDS 64-bit words, each
 * exact entry of that generation setting two bits of one word (blocked
 * Bloom filter). Written by the loader with the exact maps; both sides
 * compute the same hashes with the functions below.
 */
#define SG_BLOOM_WORDS (1u << 18) /* 2 MiB per generation */
#define SG_BLOOM_MIX(h, w) (((h) ^ (__u64)(w)) * 0x9e3779b97f4a7c15ULL)

static inline __u64 sg_class_exact_hash(const struct sg_class_exact_key *k)
{
	__u64 h = 0x243f6a8885a308d3ULL;
	__u32 a[4];

	__builtin_memcpy(a, k->addr, sizeof(a));
	h = SG_BLOOM_MIX(h, k->scope);
	h = SG_BLOOM_MIX(h, a[0]);
	h = SG_BLOOM_MIX(h, a[1]);
	h = SG_BLOOM_MIX(h, a[2]);
	return SG_BLOOM_MIX(h, a[3]);
}

static inline __u64 sg_rule_exact_hash(const struct sg_rule_exact_key *k)
{
	__u64 h = 0x13198a2e03707344ULL;
	__u32 w[2];

	__builtin_memcpy(w, k, sizeof(w));
	h = SG_BLOOM_MIX(h, w[0]);
	return SG_BLOOM_MIX(h, w[1]);
}

/* The high bits of the last product depend on every key bit. */
static inline __u32 sg_bloom_word(__u32 gen, __u64 h)
{
	return (gen & 1) * SG_BLOOM_WORDS +
	       ((__u32)(h >> 32) & (SG_BLOOM_WORDS - 1));
}

static inline __u64 sg_bloom_bits(__u64 h)
{
	return (1ULL << ((h >> 52) & 63)) | (1ULL << ((h >> 58) & 63));
}

_Static_assert(sizeof(struct sg_class_exact_key) ==
		       sizeof(struct sg_class_key) - 4 &&
	       __builtin_offsetof(struct sg_class_key, scope) == 4,
	       "sg_class_exact_key must be sg_class_key from scope on");
_Static_assert(sizeof(struct sg_rule_exact_key) ==
		       sizeof(struct sg_rule_key) - 4 &&
	       __builtin_offsetof(struct sg_rule_key, class_id) == 4,
	       "sg_rule_exact_key must be sg_rule_key from class_id on");

/*
 * Per-instance settings, array indexed by gen * SG_MAX_INSTANCES + slot.
 * A slot is an instance's stable number across loads; programs attached for
 * an instance carry their slot in .rodata.
 */
#define SG_INST_PRESENT (1u << 0)
#define SG_INST_SOURCE_CHECK (1u << 1)
/* enforcement: audit (the instance or one of its groups): a new flow no
 * rule allows passes untracked, counted SG_CNT_AUDIT_WOULD_DROP. */
#define SG_INST_AUDIT (1u << 2)
/*
 * Per stage-1 scope of the instance's policy (direction, family), set by
 * the loader: EXACT, look in sg_class_exact before sg_class (the scope has
 * full-length entries); EXACT_ONLY, it holds every entry of the scope, so
 * a miss there is final. Without them only sg_class is read.
 */
#define SG_INST_EXACT_SHIFT(dir, v6) (8 + 2 * ((dir) * 2 + (v6)))
#define SG_INST_EXACT(dir, v6) (1u << SG_INST_EXACT_SHIFT(dir, v6))
#define SG_INST_EXACT_ONLY(dir, v6) (2u << SG_INST_EXACT_SHIFT(dir, v6))
/*
 * ports[dir] is set: which TCP / UDP destination ports any stage-2 entry
 * of the policy (any class) allows, in buckets of SG_PORT_BUCKET_SHIFT
 * bits. A clear bit proves "no rule" before either lookup: a flood to
 * closed ports costs the same whatever the number of rules.
 */
#define SG_INST_PORTS (1u << 5)
#define SG_PORT_BUCKET_SHIFT 9 /* 512 ports a bit, 128 bits a protocol */
/* Bit of (proto: TCP or UDP, host-order port) in ports[dir]. */
#define SG_PORT_BIT(udp, port) \
	((((udp) ? 1u : 0u) << 7) | ((__u32)(port) >> SG_PORT_BUCKET_SHIFT))

struct sg_inst {
	__u32 flags;
	__u32 policy; /* SG set id: instances with the same groups share it */
	__u32 tcp_established; /* idle timeouts, seconds */
	__u32 udp_stream;
	__u32 udp;
	__u32 ct_max; /* this instance's conntrack capacity */
	__u64 ports[SG_NDIR][4]; /* SG_INST_PORTS: SG_PORT_BIT bits */
};

/* Instance addresses for the source check. Hash; value unused (1). */
#define SG_GEN_SLOT(gen, slot) (SG_GEN_BIT(gen) | (__u32)(slot))

struct sg_ip_key {
	__u32 gen_slot; /* SG_GEN_SLOT(gen, slot) */
	__u32 family; /* 4 or 6 */
	__u8 addr[16];
};

/*
 * Conntrack: one entry per flow per instance, normalised to the instance's
 * view: l = the instance's side, r = the remote side. ICMP echo uses the
 * identifier as lport and rport 0; protocols without ports use 0/0.
 */
enum sg_ct_state {
	SG_CT_TCP_OPENING = 1, /* SYN seen, no reply yet */
	SG_CT_TCP_ESTABLISHED,
	SG_CT_TCP_CLOSING, /* FIN both ways, or RST */
	SG_CT_UDP, /* one direction so far */
	SG_CT_UDP_STREAM, /* seen both ways */
	SG_CT_ICMP,
	SG_CT_OTHER,
};

/* sg_ct_val.flags */
#define SG_CT_SEEN_REPLY (1u << 0)
#define SG_CT_FIN_IN (1u << 1)
#define SG_CT_FIN_OUT (1u << 2)

/* Fixed timeouts, seconds (docs/semantics.md §3.10). */
#define SG_CT_TIMEOUT_TCP_OPENING 60
#define SG_CT_TIMEOUT_TCP_CLOSING 10
#define SG_CT_TIMEOUT_ICMP 30
#define SG_CT_TIMEOUT_OTHER 600

struct sg_ct_key {
	__u32 slot;
	__u8 proto;
	__u8 family; /* 4 or 6 */
	__be16 lport;
	__be16 rport;
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

/*
 * An IPv4 flow's key in its own map, sg_ct4: the kernel hashes and
 * compares the whole key on every lookup, and 16 bytes cost a third of
 * 48. struct sg_ct_key stays the one form both sides work with; these
 * two convert at the map.
 */
struct sg_ct4_key {
	__be32 laddr;
	__be32 raddr;
	__be16 lport;
	__be16 rport;
	__u16 slot;
	__u8 proto;
	__u8 pad;
} __attribute__((aligned(8))); /* compared as two 64-bit words */

_Static_assert(SG_MAX_INSTANCES <= 65536, "sg_ct4_key.slot is 16 bits");

static inline void sg_ct4_key_of(const struct sg_ct_key *k,
				 struct sg_ct4_key *k4)
{
	__builtin_memcpy(&k4->laddr, k->laddr, 4);
	__builtin_memcpy(&k4->raddr, k->raddr, 4);
	k4->lport = k->lport;
	k4->rport = k->rport;
	k4->slot = (__u16)k->slot;
	k4->proto = k->proto;
	k4->pad = 0;
}

static inline void sg_ct_key_of4(const struct sg_ct4_key *k4,
				 struct sg_ct_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->slot = k4->slot;
	k->proto = k4->proto;
	k->family = 4;
	k->lport = k4->lport;
	k->rport = k4->rport;
	__builtin_memcpy(k->laddr, &k4->laddr, 4);
	__builtin_memcpy(k->raddr, &k4->raddr, 4);
}

/*
 * The established fast path: a per-CPU, direct-mapped cache of IPv4
 * TCP/UDP flows in a steady state (TCP established, UDP stream). A packet
 * whose flow the cache checked against sg_ct4 in the current jiffy, with
 * no TCP flag the entry has not seen and no SYN/FIN/RST, is accepted with
 * no hash lookup: the array lookup is inlined by the verifier. Its packets
 * and bytes wait in pend[] until the flow's next long-path packet (the
 * first of the next jiffy) adds them to the entry; readers add them too
 * (sg_ct_dump), and so does the GC when it collects the entry, so counts
 * stay exact. An entry vouches only for the conntrack entry it was checked
 * against (created_ns) and only in the epoch it was made (sg_active).
 */
#define SG_FLOW_CACHE_BITS 12
#define SG_FLOW_CACHE_ENTRIES (1u << SG_FLOW_CACHE_BITS)
#define SG_FLOW_CACHE_MAX_CPUS 256 /* CPUs the GC looks at */

struct sg_flow_cache {
	struct sg_ct4_key key;
	__u64 jiffies;	  /* when it was last checked; 0: vouches for nothing */
	__u64 created_ns; /* of the conntrack entry it was checked against */
	__u64 pend_packets[2]; /* per enum sg_dir, not yet in the entry */
	__u64 pend_bytes[2];
	__u32 epoch;	/* sg_active.ct_epoch when made */
	__u8 tcp_flags; /* the entry's flags: a new one takes the long path */
	__u8 pad[3];
};

/* The cache line of an IPv4 flow (both sides use it). */
static inline __u32 sg_flow_cache_index(const struct sg_ct4_key *k)
{
	__u32 h = k->laddr ^ (k->raddr * 0x9e3779b1u) ^
		  ((__u32)k->lport << 16 | k->rport) ^
		  ((__u32)k->slot << 8 | k->proto);

	return (h * 0x85ebca6bu) >> (32 - SG_FLOW_CACHE_BITS);
}

static inline int sg_ct4_key_eq(const struct sg_ct4_key *a,
				const struct sg_ct4_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

struct sg_ct_val {
	__u64 created_ns; /* bpf_ktime_get_ns() clock */
	__u64 last_seen_ns;
	__u32 timeout_s; /* idle timeout of the current state */
	__u8 state; /* enum sg_ct_state */
	__u8 origin; /* enum sg_dir of the first packet */
	__u8 flags;
	__u8 tcp_flags; /* OR of the TCP flags seen, both ways (flow logs) */
	__u64 packets[SG_NDIR];
	__u64 bytes[SG_NDIR];
	__u64 rule_key; /* of the rule that admitted it: sg_rule_val */
};

/*
 * Early drop: when an instance's table is full, a new flow may take the
 * room of a half-open TCP entry (its opener sent the SYN and nothing
 * since), never of a flow whose opener went on. The datapath finds
 * candidates in sg_ct_opening: per slot, SG_CT_OPENING_WAYS recent
 * half-open keys, placed by hash, each tried at most once (a full table
 * of established flows costs a few array reads per new flow, no more).
 */
#define SG_CT_OPENING_WAYS 16
#define SG_CT_EARLY_PROBES SG_CT_OPENING_WAYS
#define SG_CT_OPENING_ENTRIES (SG_MAX_INSTANCES * SG_CT_OPENING_WAYS)

/*
 * The local ports of an instance's tracked flows, in buckets of
 * SG_CT_LPORT_SHIFT bits, one bitmap for TCP and one for UDP, per slot
 * (array sg_ct_lports). The datapath sets a bucket's bit before it tracks
 * a flow with that local port and never clears it; the loader clears a
 * slot's bitmaps when it releases the slot (its entries go with it). A
 * clear bit proves that no tracked flow owns a packet, so a packet no rule
 * allows either is dropped before the conntrack lookup: a flood from
 * spoofed sources costs no miss in a big table.
 */
#define SG_CT_LPORT_SHIFT 5 /* 32 ports a bit */
#define SG_CT_LPORT_WORDS ((65536 >> SG_CT_LPORT_SHIFT) / 64)

struct sg_ct_lports {
	__u64 bits[2][SG_CT_LPORT_WORDS]; /* [0] TCP, [1] UDP */
};

/* Fragments: later fragments follow the first fragment's verdict. LRU hash. */
#define SG_FRAG_TIMEOUT_NS (30ULL * 1000000000ULL)

struct sg_frag_key {
	__u32 slot;
	__u8 proto;
	__u8 family;
	__u8 dir;
	__u8 pad;
	__u32 id;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct sg_frag_val {
	__u64 expires_ns;
	__u32 allow;
	__u32 pad;
};

/*
 * Verdict counters, defined once: the enum, the datapath's pass-or-drop
 * decision and every name the loader prints are expanded from this list.
 * X(id, kind, name, reason, label):
 *   id      the counter is SG_CNT_<id>; the order is its index in sg_stats
 *   kind    ACCEPT (filtered and allowed), PASS (never filtered) or DROP
 *   name    machine name: `stats -j` "counters", `check` and its JSON
 *   reason  drop reason: `stats -j` "drops", Prometheus reason="..."; the
 *           name without "drop_" (two columns: both are output contracts)
 *   label   `stats` plain text
 * Every ACCEPT and PASS counter comes before every DROP one (asserted
 * below), so the datapath decides with one compare.
 */
#define SG_CNT_KIND_ACCEPT 0
#define SG_CNT_KIND_PASS 1
#define SG_CNT_KIND_DROP 2

#define SG_COUNTERS(X)                                                       \
	/* new flow allowed by a rule and tracked */                         \
	X(ACCEPT_NEW, ACCEPT, "accept_new", NULL, "new flow")                \
	/* packet of a tracked flow */                                       \
	X(ACCEPT_ESTABLISHED, ACCEPT, "accept_established", NULL,            \
	  "established")                                                     \
	/* allowed by a rule, not tracked */                                 \
	X(ACCEPT_UNTRACKED, ACCEPT, "accept_untracked", NULL, "untracked")   \
	/* ICMP error about a tracked flow */                                \
	X(ACCEPT_RELATED, ACCEPT, "accept_related", NULL,                    \
	  "related ICMP error")                                              \
	/* later fragment of an allowed datagram */                          \
	X(ACCEPT_FRAGMENT, ACCEPT, "accept_fragment", NULL, "later fragment") \
	/* ARP, ND, MLD, DHCP, non-IP: never filtered */                     \
	X(PASS_INFRA, PASS, "pass_infra", NULL, "not filtered (ARP/ND/DHCP)") \
	/* no rule, passed untracked: enforcement audit */                   \
	X(AUDIT_WOULD_DROP, PASS, "audit_would_drop", NULL,                  \
	  "audit: would drop")                                               \
	/* no group of the instance allows it */                             \
	X(DROP_NO_RULE, DROP, "drop_no_rule", "no_rule", "no rule")          \
	/* conntrack_allowance_exceeded */                                   \
	X(DROP_CT_FULL, DROP, "drop_conntrack_full", "conntrack_full",       \
	  "conntrack full")                                                  \
	/* truncated or malformed header */                                  \
	X(DROP_MALFORMED, DROP, "drop_malformed", "malformed", "malformed")  \
	/* later fragment without its first */                               \
	X(DROP_FRAGMENT, DROP, "drop_fragment", "fragment", "fragment")      \
	/* source check on a host-side attachment */                         \
	X(DROP_SPOOFED, DROP, "drop_spoofed_source", "spoofed_source",       \
	  "spoofed source")                                                  \
	/* more than SG_IPV6_MAX_EXT_HDRS headers */                         \
	X(DROP_IPV6_CHAIN, DROP, "drop_ipv6_header_chain",                   \
	  "ipv6_header_chain", "IPv6 header chain")                          \
	/* slot has no policy (should not happen) */                         \
	X(DROP_NO_INSTANCE, DROP, "drop_no_instance", "no_instance",         \
	  "no instance")

/* Counters: per-CPU array indexed by SG_STATS_INDEX(slot, dir, counter). */
enum sg_counter {
#define SG_CNT_ENUM_(id, kind, name, reason, label) SG_CNT_##id,
	SG_COUNTERS(SG_CNT_ENUM_)
#undef SG_CNT_ENUM_
	SG_NCOUNTERS,
};

/* How many counters let the packet through, and which (one bit each). */
#define SG_CNT_PASSES_(id, kind, name, reason, label) \
	+(SG_CNT_KIND_##kind != SG_CNT_KIND_DROP)
#define SG_CNT_PASS_BIT_(id, kind, name, reason, label) \
	| ((SG_CNT_KIND_##kind != SG_CNT_KIND_DROP) ? 1u << SG_CNT_##id : 0u)
enum {
	SG_NCOUNTERS_PASS = 0 SG_COUNTERS(SG_CNT_PASSES_),
};
_Static_assert(SG_NCOUNTERS <= 32 &&
		       (0u SG_COUNTERS(SG_CNT_PASS_BIT_)) ==
			       (1u << SG_NCOUNTERS_PASS) - 1,
	       "SG_COUNTERS: every accept and pass counter before the drops");
#undef SG_CNT_PASSES_
#undef SG_CNT_PASS_BIT_

/* Whether a verdict lets the packet through (accepted or never filtered). */
#define SG_COUNTER_PASSES(cnt) ((cnt) < SG_NCOUNTERS_PASS)

/* SG_CNT_KIND_* of a counter; SG_CNT_KIND_DROP for an unknown one. */
static inline int sg_counter_kind(int cnt)
{
	switch (cnt) {
#define SG_CNT_KIND_CASE_(id, kind, name, reason, label) \
	case SG_CNT_##id:                                \
		return SG_CNT_KIND_##kind;
		SG_COUNTERS(SG_CNT_KIND_CASE_)
#undef SG_CNT_KIND_CASE_
	}
	return SG_CNT_KIND_DROP;
}

#define SG_STATS_INDEX(slot, dir, cnt) \
	(((slot) * SG_NDIR + (dir)) * SG_NCOUNTERS + (cnt))
#define SG_STATS_ENTRIES (SG_MAX_INSTANCES * SG_NDIR * SG_NCOUNTERS)

struct sg_counter_val {
	__u64 packets;
	__u64 bytes;
};

/* Expiry timer: armed by the first packet, walks sg_ct every second. */
#define SG_GC_INTERVAL_NS (1000000000ULL)

/*
 * Flow logs: rejected packets aggregated per flow, for `sgctl flowlog`.
 * LRU hash written only on the drop path (SG_CNT_DROP_NO_RULE), so it
 * costs nothing to accepted and established traffic and nothing when
 * nobody reads it; under a flood of distinct flows the oldest are evicted.
 * Addresses and ports as the packet travelled; ports are 0 for protocols
 * without them, ICMP included (as in AWS flow logs). Accepted flows are
 * logged from their conntrack entries' per-direction counters.
 */
#define SG_REJECT_MAX_ENTRIES 16384

struct sg_reject_key {
	__u32 slot;
	__u8 dir; /* enum sg_dir */
	__u8 family; /* 4 or 6 */
	__u8 proto;
	__u8 reason; /* enum sg_counter of the drop */
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct sg_reject_val {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns; /* bpf_ktime_get_ns() clock */
	__u64 last_ns;
	__u64 rule_key; /* untracked accepts: the admitting rule; else 0 */
	__u32 tcp_flags; /* OR of the TCP flags seen */
	__u32 pad;
};

/*
 * The cost of those records is bounded: each CPU creates at most
 * sg_reject_budget (.rodata, default below) new records per instance per
 * budget window (2^30 ns, about a second). Beyond it a window's rejects make
 * no map lookup at all: they are only counted in stats, and in skip[dir]
 * of this per-CPU array (index: slot), which `sgctl flowlog` sums over the
 * CPUs into SKIPDATA records (VPC Flow Logs log-status SKIPDATA).
 *
 * A run of one flow's rejects costs no lookup either: pend[dir] holds the
 * flow (key) whose record the last reject of this CPU, slot and direction
 * found or made in sg_reject, and the packets that came after it on this
 * CPU, not yet added to that record. The next reject of another flow
 * flushes them into the record (the lookup it pays anyway). Readers add
 * the pending counts to the record with the same key (sg_reject_dump), or
 * show them as a record of their own if it was evicted meanwhile.
 */
#define SG_REJECT_BUDGET_DEFAULT 256
#define SG_REJECT_WINDOW_SHIFT 30

struct sg_reject_skip {
	__u64 packets; /* since the slot was last cleared */
	__u64 bytes;
	__u64 first_ns; /* first skipped packet, 0 if none */
	__u64 last_ns;
};

struct sg_reject_pending {
	struct sg_reject_key key; /* at offset 0: compared as 8-byte words */
	__u32 tcp_flags;	  /* OR of the pending packets' TCP flags */
	__u64 packets; /* not yet in key's record; 0: nothing pending */
	__u64 bytes;
	__u64 first_ns; /* first pending packet */
	__u64 last_ns;
	__u64 rule_key; /* to make the record again if it was evicted */
	__u32 live; /* key is the last reject's, with a record: runs go on */
	__u32 pad;
};

struct sg_reject_budget {
	__u64 window; /* now >> SG_REJECT_WINDOW_SHIFT of used */
	__u32 used; /* new records created in that window */
	__u32 pad;
	struct sg_reject_skip skip[SG_NDIR];
	struct sg_reject_pending pend[SG_NDIR];
};

/*
 * Per-rule hits, for `sgctl rules`: per-CPU hash keyed by the rule's
 * stable key (sg_rule_val.rule_key) and the instance slot, so counts
 * survive reloads that keep the rule. A tracked flow's conntrack entry
 * holds its rule's key; the conntrack GC adds the flow (one hit, last_ns
 * its creation, its packets and bytes) when it collects the entry, and
 * `sgctl rules` adds the live entries at read time: no map write on the
 * new-flow path. Untracked traffic is counted per packet (each packet is
 * admitted on its own): hits, packets, bytes.
 */
#define SG_RULE_HITS_MAX_ENTRIES 65536

struct sg_rule_hit_key {
	__u64 rule_key;
	__u32 slot;
	__u32 pad;
};

struct sg_rule_hit {
	__u64 hits; /* new flows admitted (untracked: packets) */
	__u64 packets;
	__u64 bytes;
	__u64 last_ns; /* bpf_ktime_get_ns() clock of the last hit */
};

#ifndef __bpf__
/* The 64-bit key of a rule id ("sgr-..."): FNV-1a, never 0 (0: none). */
static inline __u64 sg_rule_key_of(const char *id)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (; *id; id++) {
		h ^= (unsigned char)*id;
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}
#endif

/*
 * `sgctl check`: the programs loaded with sg_dry_run set decide a
 * synthesised packet against the live maps and write nothing to them
 * (no conntrack, counter, fragment, flow-log or timer update); the
 * decision is left in this .bss variable for the loader to read.
 */
struct sg_dry_result {
	__u32 done; /* 1 once the program decided */
	__u32 counter; /* enum sg_counter of the verdict */
	__u32 matched; /* a stage-2 rule entry was found */
	__u32 rule_ref; /* its rule_ref */
	__u32 rule_flags;
	__u32 pad;
};

/* ---- Loader-only maps (pinned with the rest; no program reads them) ---- */

/* Attachments, so detach/unload/show work after the process has exited. */
#define SG_ATTACH_HOST_SIDE (1u << 0)
#define SG_ATTACH_XDP_GENERIC (1u << 1)

struct sg_attach_key {
	__u64 netns_ino; /* inode of the network namespace */
	__u32 ifindex;
	__u32 pad;
};

struct sg_attach_val {
	char ifname[SG_IFNAME_LEN];
	char netns[SG_NETNS_LEN]; /* "" for the caller's namespace */
	char instance[SG_ID_LEN];
	__u32 slot;
	__u32 flags;
	__u32 xdp_prog_id;
	__u32 tc_prog_id;
};

/*
 * Instance id -> slot, stable across loads; one slot per generation, so a
 * load writes the new generation's slots before its flip and they take
 * effect with it (a crash before the flip leaves the live half as it
 * was). SG_SLOT_NONE: the id has no slot in that generation.
 */
struct sg_slot_key {
	char id[SG_ID_LEN];
};

#define SG_SLOT_NONE 0xffffffffu

struct sg_slot_val {
	__u32 slot[2]; /* [gen] */
};

/*
 * sg_meta[SG_META_COMMIT]: the last complete load; its config_hash is 0
 * from the start of a load until its end. sg_meta[SG_META_GEN(gen)]: the
 * stored config of generation gen (written before the flip to gen), so
 * the live generation's config can always be read back.
 */
#define SG_META_COMMIT 0
#define SG_META_GEN(gen) (1 + ((gen) & 1))
#define SG_META_ENTRIES 3

struct sg_meta {
	__u64 config_hash; /* of the stored config text: same file = no-op */
	__u32 gen;
	__u32 blob_chunks;
	__u64 blob_len;
	__u64 loaded_at; /* unix seconds */
};

/*
 * The loaded config text (so show/check can rebuild the model): chunk i of
 * generation gen's config at key SG_BLOB_KEY(gen, i).
 */
#define SG_BLOB_KEY(gen, i) (((gen) & 1) * SG_BLOB_MAX_CHUNKS + (i))

struct sg_blob_chunk {
	__u32 len;
	char data[SG_BLOB_CHUNK - 4];
};

/*
 * `sgctl audit on|off ID`: enforcement overrides of the loaded config, by
 * group or instance id. Each holds the hash of the stored config it was
 * made on and counts only while that config is live: the stored config
 * is read back with them applied (enforce/audit.c), and a load of another
 * config leaves them without effect.
 */
#define SG_AUDIT_MAX_ENTRIES 4096

struct sg_audit_val {
	__u64 config_hash; /* sg_meta.config_hash of the live config */
	__u32 audit; /* 1 audit, 0 enforce */
	__u32 pad;
};

#endif /* SGCTL_H */
