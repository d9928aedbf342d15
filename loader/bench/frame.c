// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The frames the benchmarks send: built by hand, so every field (and both
 * checksums, which the receiving stack verifies) is known.
 */
#include <string.h>

#include <linux/types.h>

#include "sgctl.h"
#include "bench/priv.h"

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __u32 csum_add(__u32 sum, const __u8 *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	return sum;
}

size_t bench_frame_build(const struct bench_frame_spec *s, __u8 *buf)
{
	static const __u8 dd[6] = {0x02, 0, 0, 0, 0, 0x02},
			  ds[6] = {0x02, 0, 0, 0, 0, 0x01};
	size_t l4len = s->proto == SG_PROTO_TCP ? 20 : 8, len = s->size;
	__u8 *ip = buf + 14, *l4 = ip + 20, pseudo[12];
	__u32 sum;

	if (len < 14 + 20 + l4len)
		len = 14 + 20 + l4len;
	if (len < 60)
		len = 60;
	if (len > BENCH_FRAME_MAX)
		len = BENCH_FRAME_MAX;
	memset(buf, 0, BENCH_FRAME_MAX);
	memcpy(buf, s->dmac ? s->dmac : dd, 6);
	memcpy(buf + 6, s->smac ? s->smac : ds, 6);
	put16(buf + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (__u16)(len - 14));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = s->proto;
	put32(ip + 12, s->saddr);
	put32(ip + 16, s->daddr);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == SG_PROTO_TCP) {
		put32(l4 + 4, 1000);
		put32(l4 + 8, s->tcp_flags & 0x10 ? 2000 : 0);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (__u16)(len - 34));
	}
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = s->proto;
	put16(pseudo + 10, (__u16)(len - 34));
	sum = csum_add(csum_add(0, pseudo, 12), l4, len - 34);
	put16(l4 + (s->proto == SG_PROTO_TCP ? 16 : 6), csum_fold(sum));
	return len;
}
