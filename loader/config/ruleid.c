// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Rule ids: "sgr-" + 17 hex digits, as AWS names a SecurityGroupRuleId.
 * A rule keeps the id it was given; otherwise its id is derived from what
 * it allows, so every host and every reload computes the same one and the
 * hit counters of a rule that still exists survive a reload.
 */
#include <stdio.h>
#include <string.h>

#include "config/model.h"

/* FNV-1a over a field, then a separator so "a","bc" differs from "ab","c". */
static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ULL;
	}
	*h ^= 0xff;
	*h *= 0x100000001b3ULL;
}

static void mix_int(uint64_t *h, int v)
{
	char buf[16];

	mix(h, buf, (size_t)snprintf(buf, sizeof(buf), "%d", v));
}

static uint64_t rule_hash(uint64_t seed, const char *group_id,
			  const struct sg_rule *r)
{
	uint64_t h = seed;
	char buf[64];
	const char *peer = r->peer_text ? r->peer_text : "";

	/* The enforced CIDR, not the text: 10.0.0.1/8 and 10.0.0.0/8 are one. */
	if (r->peer_kind == SG_PEER_CIDR)
		peer = sg_prefix_str(&r->cidr, buf, sizeof(buf));
	mix(&h, group_id, strlen(group_id));
	mix_int(&h, r->dir);
	mix_int(&h, r->proto);
	mix_int(&h, r->port_lo);
	mix_int(&h, r->port_hi);
	mix_int(&h, r->icmp_type);
	mix_int(&h, r->icmp_code);
	mix_int(&h, r->peer_kind);
	mix(&h, peer, strlen(peer));
	/* Final avalanche (splitmix64's) so nearby rules differ everywhere. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

void sg_rule_id_derive(const char *group_id, const struct sg_rule *r,
		       char id[SG_RULE_ID_SIZE])
{
	uint64_t a = rule_hash(0xcbf29ce484222325ULL, group_id, r);
	uint64_t b = rule_hash(0x84222325cbf29ce4ULL, group_id, r);

	snprintf(id, SG_RULE_ID_SIZE, "sgr-%016llx%01llx",
		 (unsigned long long)a, (unsigned long long)(b & 0xf));
}

bool sg_rule_id_valid(const char *s)
{
	if (!s || strncmp(s, "sgr-", 4) || strlen(s) != SG_RULE_ID_SIZE - 1)
		return false;
	for (s += 4; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

bool sg_config_find_rule(const struct sg_config *cfg, const char *id,
			 size_t *group, size_t *rule)
{
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t r = 0; r < cfg->groups[g].nrules; r++)
			if (!strcmp(cfg->groups[g].rules[r].id, id)) {
				if (group)
					*group = g;
				if (rule)
					*rule = r;
				return true;
			}
	return false;
}
