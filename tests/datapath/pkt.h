/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small packet builder for the datapath tests: one spec describes an
 * Ethernet frame (VLAN tags, IPv4 with options or IPv6 with extension
 * headers, fragments, TCP/UDP/ICMP/other), pkt_build() writes it out with
 * consistent length fields. Tests then break single bytes on purpose.
 * Checksums are left zero: the datapath never reads them.
 */
#ifndef SG_TEST_PKT_H
#define SG_TEST_PKT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 2048

enum pkt_frag {
	PKT_WHOLE,
	PKT_FIRST, /* offset 0, more fragments */
	PKT_LATER, /* offset > 0 */
};

struct pkt_spec {
	const char *src,
		*dst; /* "1.2.3.4" or "2001:db8::1": picks the family */
	uint8_t proto;
	uint16_t sport, dport; /* TCP/UDP */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	int vlans;	    /* 0, 1 or 2 (QinQ) */
	uint16_t ethertype; /* overrides the IP ethertype when set */
	int ip_opts;	    /* IPv4 option bytes, multiple of 4 */
	int v6_ext;	    /* IPv6 destination-options headers before L4 */
	enum pkt_frag frag;
	uint32_t frag_id;
	const void *payload; /* after the L4 header (e.g. a quoted packet) */
	size_t payload_len;
};

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void pkt_put32(uint8_t *p, uint32_t v)
{
	pkt_put16(p, v >> 16);
	pkt_put16(p + 2, v & 0xffff);
}

/* The L4 header of a spec; returns its length. */
static inline size_t pkt_l4(const struct pkt_spec *s, int v6, uint8_t *p)
{
	switch (s->proto) {
	case 6:
		memset(p, 0, 20);
		pkt_put16(p, s->sport);
		pkt_put16(p + 2, s->dport);
		pkt_put32(p + 4, 1000); /* seq */
		p[12] = 5 << 4;
		p[13] = s->tcp_flags;
		pkt_put16(p + 14, 65535);
		return 20;
	case 17:
		memset(p, 0, 8);
		pkt_put16(p, s->sport);
		pkt_put16(p + 2, s->dport);
		pkt_put16(p + 4, 8 + s->payload_len);
		return 8;
	case 1:
	case 58:
		if ((s->proto == 58) != v6)
			return 0;
		memset(p, 0, 8);
		p[0] = s->icmp_type;
		p[1] = s->icmp_code;
		pkt_put16(p + 4, s->icmp_id);
		pkt_put16(p + 6, 1); /* sequence */
		return 8;
	}
	return 0;
}

/* Writes the frame into buf (PKT_MAX bytes); returns its length. */
static inline size_t pkt_build(const struct pkt_spec *s, uint8_t *buf)
{
	uint8_t a[16], b[16];
	int v6 = strchr(s->src, ':') != NULL;
	size_t off = 12, l3, l4len, iplen;
	int i;

	memset(buf, 0, PKT_MAX);
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (i = 0; i < s->vlans; i++) {
		pkt_put16(buf + off, i == 0 && s->vlans == 2 ? 0x88a8 : 0x8100);
		pkt_put16(buf + off + 2, 100 + i);
		off += 4;
	}
	pkt_put16(buf + off, s->ethertype ? s->ethertype
			     : v6	  ? 0x86dd
					  : 0x0800);
	off += 2;
	l3 = off;
	inet_pton(v6 ? AF_INET6 : AF_INET, s->src, a);
	inet_pton(v6 ? AF_INET6 : AF_INET, s->dst, b);

	if (!v6) {
		size_t hlen = 20 + s->ip_opts;
		uint16_t fo = 0;

		buf[l3] = 0x40 | (hlen / 4);
		pkt_put16(buf + l3 + 4, (uint16_t)s->frag_id);
		if (s->frag == PKT_FIRST)
			fo = 0x2000;
		else if (s->frag == PKT_LATER)
			fo = 0x2000 | 185; /* 1480 bytes in */
		pkt_put16(buf + l3 + 6, fo);
		buf[l3 + 8] = 64;
		buf[l3 + 9] = s->proto;
		memcpy(buf + l3 + 12, a, 4);
		memcpy(buf + l3 + 16, b, 4);
		for (i = 0; i < s->ip_opts; i++)
			buf[l3 + 20 + i] = 1; /* NOP */
		off = l3 + hlen;
	} else {
		uint8_t *nh = buf + l3 + 6;

		buf[l3] = 0x60;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, a, 16);
		memcpy(buf + l3 + 24, b, 16);
		off = l3 + 40;
		for (i = 0; i < s->v6_ext; i++) {
			*nh = 60; /* destination options, 8 bytes of PadN */
			nh = buf + off;
			buf[off + 1] = 0;
			buf[off + 2] = 1;
			buf[off + 3] = 4;
			off += 8;
		}
		if (s->frag != PKT_WHOLE) {
			*nh = 44;
			nh = buf + off;
			pkt_put16(buf + off + 2,
				  s->frag == PKT_FIRST ? 1 : (185 << 3) | 1);
			pkt_put32(buf + off + 4, s->frag_id);
			off += 8;
		}
		*nh = s->proto;
	}

	l4len = 0;
	if (s->frag != PKT_LATER)
		l4len = pkt_l4(s, v6, buf + off);
	off += l4len;
	if (s->payload_len) {
		memcpy(buf + off, s->payload, s->payload_len);
		off += s->payload_len;
	} else if (s->frag == PKT_LATER) {
		memset(buf + off, 0xab, 64);
		off += 64;
	}
	iplen = off - l3;
	if (!v6)
		pkt_put16(buf + l3 + 2, iplen);
	else
		pkt_put16(buf + l3 + 4, iplen - 40);
	/* Ethernet minimum: pad like a NIC would, beyond the IP length. */
	return off < 60 ? 60 : off;
}

/* Offset of the IP header in a frame built from s. */
static inline size_t pkt_l3_off(const struct pkt_spec *s)
{
	return 14 + 4 * s->vlans;
}

#endif /* SG_TEST_PKT_H */
