// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Generated configs for sgctl bench (see gen.h). Plain YAML text,
 * deterministic (the same arguments give the same file), so a figure can
 * be reproduced with `sgctl bench gen ...` and `sgctl load`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/gen.h"

#define BENCH_NET      0xc6120000u /* 198.18.0.0/15 */
#define BENCH_NET_SIZE 0x20000u
#define V4_PER_GROUP   60
#define V6_PER_GROUP   40

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static void ip4(char *buf, size_t len, uint32_t a)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
}

static uint32_t mask(int plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

/* Rule i's source prefix: in 198.18.0.0/16 (198.19.0.0/16 holds no rule,
 * so the "other" source below is in no rule at all). */
static const int rule_lens[8] = {24, 32, 28, 20, 32, 26, 16, 30};

static uint32_t rule_addr(int i, int *plen)
{
	*plen = rule_lens[i % 8];
	return (BENCH_NET | (mix32((uint32_t)i + 1) & 0xffffu)) & mask(*plen);
}

/* Rule i's ports: one port, or every 4th a 64-port range (4 prefixes). */
static void rule_ports(int i, int *lo, int *hi)
{
	*lo = 1024 + 64 * i;
	*hi = i % 4 == 3 ? *lo + 63 : *lo;
}

/* Member j's address: a bijection of [0, 2^17) onto 198.18.0.0/15, minus
 * the addresses of the lab. */
static uint32_t member_addr(uint32_t j)
{
	return BENCH_NET | ((j * 40503u + 12345u) & (BENCH_NET_SIZE - 1));
}

static bool reserved(uint32_t a)
{
	return a == 0xc613ff01u || a == 0xc613ff02u || /* instance, peer */
	       (a & 0xff) == 0 || (a & 0xff) == 0xff;
}

int bench_gen_micro(const struct bench_micro_cfg *g, char **text, size_t *len,
		    struct bench_target *t)
{
	int rules = g->rules < 1 ? 1 : g->rules, members = g->members;
	int per, v6_per, ngroups, k, target;
	uint32_t j, made;
	char a[64];
	FILE *f;

	*text = NULL;
	*len = 0;
	/* 60 IPv4 rules per group while 16 groups suffice, else the
	 * instance quota's shape: 100-rule groups, 60 IPv4 + 40 IPv6. */
	if (rules <= 16 * V4_PER_GROUP) {
		per = V4_PER_GROUP;
		v6_per = 0;
	} else {
		per = V4_PER_GROUP + V6_PER_GROUP;
		v6_per = V6_PER_GROUP;
	}
	ngroups = (rules + per - 1) / per;
	memset(t, 0, sizeof(*t));
	t->groups = ngroups;
	t->other_src = 0xc6130101u; /* 198.19.1.1: no rule, no member */

	f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# sgctl bench micro: %d inbound rules, %d members\n"
		"vpc: vpc-bench\nsecurity_groups:\n",
		rules, members);
	/* Rule r (0-based over the instance) lands in group r / per; in each
	 * group the first per - v6_per are IPv4. */
	k = 0;
	for (int gi = 0; gi < ngroups; gi++) {
		fprintf(f, "  sg-r%d:\n    inbound:\n", gi);
		for (int r = 0; r < per && gi * per + r < rules; r++) {
			int idx = gi * per + r, lo, hi, plen;

			if (members > 0 && idx == 0) {
				fprintf(f,
					"      - {protocol: tcp, ports: %d, "
					"source: sg-members}\n",
					BENCH_MEMBER_PORT);
				continue;
			}
			rule_ports(idx, &lo, &hi);
			if (lo > 65535 - 63)
				lo = hi = 1024 + idx % 60000;
			if (r >= per - v6_per) {
				fprintf(f,
					"      - {protocol: tcp, ports: %d, "
					"source: \"2001:db8:%x::/48\"}\n",
					lo, idx);
				continue;
			}
			k++;
			ip4(a, sizeof(a), rule_addr(idx, &plen));
			if (hi != lo)
				fprintf(f,
					"      - {protocol: tcp, ports: "
					"%d-%d, source: %s/%d}\n",
					lo, hi, a, plen);
			else
				fprintf(f,
					"      - {protocol: tcp, ports: %d, "
					"source: %s/%d}\n",
					lo, a, plen);
		}
	}
	t->v4_rules = k + (members > 0);
	if (members > 0) {
		fprintf(f, "  sg-members:\n    description: the referenced "
			   "group\n    inbound: []\n");
	}
	fprintf(f, "instances:\n  %s:\n    ips: [%s]\n    security_groups: [",
		BENCH_INSTANCE, BENCH_INSTANCE_IP);
	for (int gi = 0; gi < ngroups; gi++)
		fprintf(f, "%ssg-r%d", gi ? ", " : "", gi);
	fprintf(f, "]\n");

	/* Members: spread over up to BENCH_MEMBER_INSTANCES instances. */
	if (members > 0) {
		int ninst = members < BENCH_MEMBER_INSTANCES
				    ? members
				    : BENCH_MEMBER_INSTANCES;
		int each = (members + ninst - 1) / ninst, m = 0;

		for (j = 0, made = 0; m < ninst; m++) {
			fprintf(f,
				"  i-m%d:\n    security_groups: [sg-members]\n"
				"    ips: [",
				m);
			for (int x = 0; x < each && made < (uint32_t)members;
			     x++) {
				uint32_t ad;

				do
					ad = member_addr(j++);
				while (reserved(ad));
				ip4(a, sizeof(a), ad);
				fprintf(f, "%s%s", x ? ", " : "", a);
				if (made == (uint32_t)members / 2)
					t->accept_src = ad;
				made++;
			}
			fprintf(f, "]\n");
		}
		t->accept_port = BENCH_MEMBER_PORT;
		t->accept_plen = 32;
	} else {
		/* The middle IPv4 rule of the instance. */
		int lo, hi, plen;
		uint32_t base;

		target = 0;
		for (int idx = 0, n4 = 0; idx < rules; idx++) {
			if (idx % per >= per - v6_per)
				continue;
			if (n4++ == k / 2) {
				target = idx;
				break;
			}
		}
		base = rule_addr(target, &plen);
		rule_ports(target, &lo, &hi);
		if (lo > 65535 - 63)
			lo = 1024 + target % 60000;
		t->accept_src = plen < 32 ? base | 1 : base;
		t->accept_port = (uint16_t)lo;
		t->accept_plen = plen;
	}
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

int bench_gen_cp(const struct bench_cp_cfg *g, char **text, size_t *len)
{
	int G = g->groups < 1 ? 1 : g->groups;
	int per_inst = g->per_inst < 1 ? 1 : g->per_inst;
	char a[64];
	FILE *f;

	if (per_inst > G)
		per_inst = G;
	*text = NULL;
	*len = 0;
	f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# sgctl bench control plane: %d groups x %d rules, %d "
		"instances x %d groups%s\n"
		"vpc: vpc-bench\nsecurity_groups:\n"
		"  sg-hub:\n    description: referenced by every group\n"
		"    inbound: []\n",
		G, g->rules, g->instances, per_inst,
		g->join ? ", instance 0 joins sg-hub" : "");
	for (int gi = 0; gi < G; gi++) {
		fprintf(f, "  sg-g%d:\n    inbound:\n", gi);
		for (int r = 0; r < g->rules; r++) {
			int plen;
			uint32_t ad = rule_addr(gi * 1000 + r, &plen);

			if (r == 0) {
				fprintf(f,
					"      - {protocol: tcp, ports: %d, "
					"source: sg-hub}\n",
					BENCH_MEMBER_PORT);
			} else if (r % 10 == 5) {
				fprintf(f,
					"      - {protocol: tcp, ports: %d, "
					"source: sg-g%d}\n",
					2000 + r, (gi + r) % G);
			} else {
				ip4(a, sizeof(a), ad);
				fprintf(f,
					"      - {protocol: %s, ports: %d, "
					"source: %s/%d}\n",
					r % 3 ? "tcp" : "udp", 1024 + r, a,
					plen);
			}
		}
	}
	fprintf(f, "instances:\n");
	for (int i = 0; i < g->instances; i++) {
		bool hub = i % 50 == 25 || (g->join && i == 0);

		ip4(a, sizeof(a), BENCH_NET + 0x100u + (uint32_t)i);
		fprintf(f, "  i-%d:\n    ips: [%s]\n    security_groups: [", i,
			a);
		for (int k = 0; k < per_inst; k++)
			fprintf(f, "%ssg-g%d", k ? ", " : "",
				(int)(((long)i * 7 + k) % G));
		fprintf(f, "%s]\n", hub ? ", sg-hub" : "");
	}
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}
