// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the datapath's packet parser, sg_parse() of bpf/parse.h
 * (the very function the BPF object is built from), compiled for userspace
 * through the headers in tests/fuzz/shim/. Every input is a frame, parsed
 * once as XDP sees it (the whole frame linear) and once as TC may (a longer
 * skb whose tail is paged out).
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

/*
 * Where the IP and L4 headers start, found without the parser's header
 * walk: L3 follows the Ethernet header and its tags (sg_parse_eth), and L4
 * ends where the IP length fields say the packet ends, so it starts l4_len
 * bytes before that. NULL when the frame has no whole IP header.
 */
static void locate(const uint8_t *buf, const uint8_t *end, uint32_t pkt_len,
		   const struct sg_pkt *p, const uint8_t **l3p,
		   const uint8_t **l4p)
{
	void *pos = (void *)buf;
	const uint8_t *l3;
	uint32_t ip_end;

	*l3p = *l4p = NULL;
	if (!sg_parse_eth(&pos, (void *)end))
		return;
	*l3p = l3 = pos;
	if (p->family == 4 && l3 + 20 <= end)
		ip_end = (uint32_t)l3[2] << 8 | l3[3];
	else if (p->family == 6 && l3 + 40 <= end)
		ip_end = 40 + ((uint32_t)l3[4] << 8 | l3[5]);
	else
		return;
	if (p->family == 6 && ip_end == 40) /* jumbogram: the whole frame */
		ip_end = pkt_len - (uint32_t)(l3 - buf);
	*l4p = l3 + ip_end - p->l4_len;
}

static void check(const uint8_t *buf, size_t len, uint32_t pkt_len, int ret,
		  const struct sg_parsed *m)
{
	const struct sg_pkt *p = &m->p;
	const uint8_t *end = buf + len, *l3, *l4;
	uint32_t l3_avail;

	CHECK(ret == SG_CONTINUE || ret == SG_CNT_DROP_MALFORMED ||
	      ret == SG_CNT_DROP_IPV6_CHAIN || ret == SG_CNT_PASS_INFRA);
	if (ret != SG_CONTINUE && ret != SG_CNT_PASS_INFRA)
		return;
	locate(buf, end, pkt_len, p, &l3, &l4);
	if (ret == SG_CNT_PASS_INFRA) {
		/* Only non-IP frames pass unparsed. */
		CHECK(l3 != NULL && l3 <= end);
		CHECK(memcmp(l3 - 2, "\x08\x00", 2) &&
		      memcmp(l3 - 2, "\x86\xdd", 2));
		return;
	}
	CHECK(p->family == 4 || p->family == 6);
	CHECK(l3 != NULL && l4 != NULL);
	l3_avail = pkt_len - (uint32_t)(l3 - buf);
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
		uint32_t pkt_len = (uint32_t)size + extra[i];
		struct sg_parsed m = {.pkt_len = pkt_len};
		int ret;

		/* The kernel never runs a program on less than an
		 * Ethernet header; the parser must cope regardless. */
		ret = sg_parse(buf, buf + size, &m);
		check(buf, size, pkt_len, ret, &m);
	}
	free(buf);
	return 0;
}
