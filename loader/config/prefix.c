// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* CIDR parsing, formatting and containment. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/prefix.h"

static int family_bits(const struct sg_prefix *p)
{
	return p->family == 4 ? 32 : 128;
}

bool sg_prefix_mask(struct sg_prefix *p)
{
	int bits = family_bits(p);
	bool masked = false;
	int i;

	for (i = p->len; i < bits; i++) {
		uint8_t bit = 0x80 >> (i % 8);

		if (p->addr[i / 8] & bit) {
			p->addr[i / 8] &= ~bit;
			masked = true;
		}
	}
	/* IPv4 keeps addr[4..15] zero so prefixes compare with memcmp. */
	if (p->family == 4)
		memset(p->addr + 4, 0, 12);
	return masked;
}

int sg_prefix_parse(const char *s, struct sg_prefix *out,
		    bool *host_bits_masked)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t alen;
	int len = -1;
	bool masked;

	memset(out, 0, sizeof(*out));
	if (host_bits_masked)
		*host_bits_masked = false;
	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (!alen || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	if (slash) {
		const char *d = slash + 1;

		/* Digits only: no sign, no spaces, at most "128". */
		if (!*d || strlen(d) > 3)
			return -EINVAL;
		len = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -EINVAL;
			len = len * 10 + (*d - '0');
		}
	}

	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
	} else {
		return -EINVAL;
	}
	if (len < 0)
		len = family_bits(out);
	if (len > family_bits(out))
		return -EINVAL;
	out->len = (uint8_t)len;
	masked = sg_prefix_mask(out);
	if (host_bits_masked)
		*host_bits_masked = masked;
	return 0;
}

bool sg_prefix_equal(const struct sg_prefix *a, const struct sg_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

int sg_prefix_cmp(const struct sg_prefix *a, const struct sg_prefix *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r)
		return r < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

bool sg_prefix_contains(const struct sg_prefix *outer,
			const struct sg_prefix *inner)
{
	int full, rest;

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	full = outer->len / 8;
	rest = outer->len % 8;
	if (memcmp(outer->addr, inner->addr, full))
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		if ((outer->addr[full] & m) != (inner->addr[full] & m))
			return false;
	}
	return true;
}

const char *sg_prefix_str(const struct sg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a,
		       sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}
