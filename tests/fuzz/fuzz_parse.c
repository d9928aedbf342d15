// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the datapath's packet parsers (bpf/parse.h, the very
 * file the BPF object is built from) compiled for userspace through the
 * headers in tests/fuzz/shim/. Every input is a frame; it is parsed the
 * way sg_parse() in bpf/sgctl.bpf.c does, once as XDP sees it (the whole
 * frame linear) and once as TC may (a longer skb whose tail is paged out).
 * AddressSanitizer catches any read past data_end (the frame is copied to
 * a buffer of exactly its size); the asserts below check what the policy
 * stage relies on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlinux.h"
#include "parse.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_parse: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

struct parsed {
	struct sg_pkt p, q;
	int quoted;
	void *l3, *l4;
};

/* sg_parse() of bpf/sgctl.bpf.c, step for step. */
static int parse(void *data, void *data_end, uint32_t pkt_len, struct parsed *m)
{
	struct sg_pkt *p = &m->p;
	void *pos = data, *l4 = NULL;
	__be16 eth_proto;
	uint32_t l3_avail;
	int ret;

	eth_proto = sg_parse_eth(&pos, data_end);
	if (!eth_proto)
		return SG_CNT_DROP_MALFORMED;
	m->l3 = pos;
	l3_avail = pkt_len - (uint32_t)(pos - data);
	if (eth_proto == bpf_htons(SG_ETH_P_IP))
		ret = sg_parse_ipv4(pos, data_end, l3_avail, p, &l4);
	else if (eth_proto == bpf_htons(SG_ETH_P_IPV6))
		ret = sg_parse_ipv6(pos, data_end, l3_avail, p, &l4);
	else
		return SG_CNT_PASS_INFRA;
	m->l4 = l4;
	if (ret != SG_CONTINUE || p->frag == SG_FRAG_LATER)
		return ret;
	ret = sg_parse_l4(l4, data_end, p);
	if (ret != SG_CONTINUE)
		return ret;
	if (p->icmp && sg_is_icmp_error(p))
		m->quoted = !sg_parse_quoted(p, l4, data_end, &m->q);
	return SG_CONTINUE;
}

static void check(const uint8_t *buf, size_t len, uint32_t pkt_len, int ret,
		  const struct parsed *m)
{
	const struct sg_pkt *p = &m->p;
	const uint8_t *end = buf + len, *l3 = m->l3, *l4 = m->l4;
	uint32_t l3_avail;

	CHECK(ret == SG_CONTINUE || ret == SG_CNT_DROP_MALFORMED ||
	      ret == SG_CNT_DROP_IPV6_CHAIN || ret == SG_CNT_PASS_INFRA);
	if (ret == SG_CNT_PASS_INFRA) {
		/* Only non-IP frames pass unparsed. */
		CHECK(l3 != NULL && l3 + 0 <= end);
		return;
	}
	if (ret != SG_CONTINUE)
		return;
	l3_avail = pkt_len - (uint32_t)(l3 - buf);
	CHECK(p->family == 4 || p->family == 6);
	CHECK(p->frag <= SG_FRAG_LATER);
	CHECK(l4 >= l3 && l4 <= l3 + l3_avail);
	/* Linear frame (XDP): the cursor never passes data_end. With a
	 * paged tail (TC) an unread header may lie beyond the linear part. */
	if (pkt_len == len)
		CHECK(l4 <= end);
	/* The L4 bytes the IP header claims lie within the packet. */
	CHECK((uint32_t)(l4 - l3) + p->l4_len <= l3_avail);
	if (p->family == 4) {
		CHECK((l3[0] >> 4) == 4 && (l3[0] & 0xf) >= 5);
		CHECK(l4 == l3 + (l3[0] & 0xf) * 4);
		CHECK(p->proto == l3[9]);
		CHECK(!memcmp(p->saddr, l3 + 12, 4) &&
		      !memcmp(p->daddr, l3 + 16, 4));
	} else {
		CHECK((l3[0] >> 4) == 6);
		CHECK(!memcmp(p->saddr, l3 + 8, 16) &&
		      !memcmp(p->daddr, l3 + 24, 16));
		/* At most 8 extension headers of at least 8 bytes each
		 * (AH: 8 too), and never one a protocol is read from. */
		CHECK(!sg_ipv6_is_ext(p->proto) || p->frag == SG_FRAG_LATER);
	}
	if (p->frag == SG_FRAG_LATER)
		return;
	if (p->proto == SG_PROTO_TCP) {
		CHECK(p->l4_len >= 20 && l4 + 20 <= end);
		CHECK((uint32_t)(l4[12] >> 4) * 4 >= 20 &&
		      (uint32_t)(l4[12] >> 4) * 4 <= p->l4_len);
		CHECK(!memcmp(&p->sport, l4, 2) &&
		      !memcmp(&p->dport, l4 + 2, 2));
		CHECK(p->tcp_flags == l4[13]);
	} else if (p->proto == SG_PROTO_UDP) {
		CHECK(p->l4_len >= 8 && l4 + 8 <= end);
		CHECK(!memcmp(&p->sport, l4, 2) &&
		      !memcmp(&p->dport, l4 + 2, 2));
	} else if (p->icmp) {
		CHECK(p->l4_len >= 8 && l4 + 8 <= end);
		CHECK(p->icmp_type == l4[0]);
	}
	if (m->quoted) {
		CHECK(p->icmp && sg_is_icmp_error(p));
		CHECK(m->q.family == p->family);
		if (m->q.icmp)
			CHECK(sg_is_echo(&m->q));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly sized: ASan reports a read one byte past data_end. */
	uint8_t *buf = malloc(size ? size : 1);
	uint32_t extra[2] = {0, 0};
	int i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* TC: skb->len may exceed the linear bytes; derive a paged tail. */
	if (size)
		extra[1] = (uint32_t)data[size - 1] * 13 + 1;
	for (i = 0; i < 2; i++) {
		struct parsed m = {0};
		uint32_t pkt_len = (uint32_t)size + extra[i];
		int ret;

		/* The kernel never runs a program on less than an
		 * Ethernet header; the parser must cope regardless. */
		ret = parse(buf, buf + size, pkt_len, &m);
		check(buf, size, pkt_len, ret, &m);
	}
	free(buf);
	return 0;
}
