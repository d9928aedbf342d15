// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Instances (network interfaces): addresses, security groups and their
 * quota, interface names, source/destination check, conntrack settings;
 * then, across all instances, that an address and an interface name
 * belong to one instance only.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_priv.h"
#include "config/prefix.h"

static void parse_conntrack(struct ctx *c, struct sg_instance *in,
			    yaml_node_t *n)
{
	static const struct {
		const char *key;
		unsigned long long lo, hi;
		size_t off;
	} f[] = {
		{"tcp_established", 60, 432000,
		 offsetof(struct sg_ct_limits, tcp_established)},
		{"udp_stream", 60, 180,
		 offsetof(struct sg_ct_limits, udp_stream)},
		{"udp", 30, 60, offsetof(struct sg_ct_limits, udp)},
		{"max_entries", 1, 16777216,
		 offsetof(struct sg_ct_limits, max_entries)},
	};
	struct kv *kv = NULL;
	size_t i, j, nkv;

	if (sg_yaml_is_null(n) || !cfg_want_map(c, n, "conntrack"))
		return;
	nkv = cfg_map_items(c, n, "key", SG_E_PARAM, &kv);
	for (i = 0; i < nkv; i++) {
		unsigned long long v;
		char what[64];

		for (j = 0; j < sizeof(f) / sizeof(f[0]); j++)
			if (!strcmp(kv[i].key, f[j].key))
				break;
		if (j == sizeof(f) / sizeof(f[0])) {
			ERR(c, kv[i].k, SG_E_PARAM,
			    "unknown key '%s' in conntrack (expected "
			    "tcp_established, udp_stream, udp, max_entries)",
			    kv[i].key);
			continue;
		}
		snprintf(what, sizeof(what), "conntrack %s", f[j].key);
		if (cfg_uint_range(c, kv[i].v, what, f[j].lo, f[j].hi, &v))
			*(uint32_t *)((char *)&in->ct + f[j].off) = (uint32_t)v;
	}
	free(kv);
}

static bool parse_bool(const char *s, bool *v)
{
	static const char *const t[] = {"true", "yes", "on"};
	static const char *const f[] = {"false", "no", "off"};
	size_t i;

	for (i = 0; s && i < 3; i++) {
		if (!strcasecmp(s, t[i])) {
			*v = true;
			return true;
		}
		if (!strcasecmp(s, f[i])) {
			*v = false;
			return true;
		}
	}
	return false;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SG_IFNAME_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' ||
		    *s == 0x7f)
			return false;
	return true;
}

/* A host name as agents are named (--host): it ends an etcd key. */
static bool valid_host(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > SG_HOST_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

/* A name `ip netns` accepts (/run/netns/NAME). */
static bool valid_netns(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SG_NETNS_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* Returns how many groups the list names (valid or not). */
static size_t parse_instance_groups(struct ctx *c, struct sg_instance *in,
				    yaml_node_t *n)
{
	struct sg_config *cfg = c->cfg;
	size_t cap = 0, i, max_rules = 0, count = 0;
	const char *widest = NULL;
	struct items it;
	yaml_node_item_t *p;

	if (!cfg_list_items(c, n, "security_groups", true, &it))
		return 1;
	for (p = it.start; p < it.top && !c->stop; p++) {
		yaml_node_t *gn = cfg_node(c, *p);
		const char *s = sg_yaml_scalar(gn);
		int gi = -1;

		count++;
		if (!s || sg_yaml_is_null(gn)) {
			ERR(c, gn, SG_E_PARAM,
			    "security_groups items must be group ids, not %s",
			    sg_yaml_node_kind(gn));
			continue;
		}
		gi = cfg_ix_find(c->gids, c->ngids, s);
		if (gi < 0 && !strcmp(s, "default"))
			gi = c->default_group; /* maybe implicit: not in gnames
						*/
		else if (gi < 0 && strncmp(s, "sg-", 3))
			gi = cfg_ix_find(c->gnames, c->ngnames, s);
		if (gi < 0) {
			ERR(c, gn, SG_E_NOTFOUND,
			    "security group %s does not exist in %s", s,
			    cfg->vpc);
			continue;
		}
		for (i = 0; i < in->ngroups; i++)
			if (in->groups[i] == gi)
				break;
		if (i < in->ngroups) {
			ERR(c, gn, SG_E_PARAM, "%s lists %s twice", in->id, s);
			continue;
		}
		if (in->ngroups >= SG_MAX_GROUPS_PER_INSTANCE)
			continue; /* reported below, with the full count */
		if (!RESERVE(c, in->groups, cap, in->ngroups + 1))
			return count;
		in->groups[in->ngroups++] = gi;
		if (c->gsrc[gi].per_sg > max_rules) {
			max_rules = c->gsrc[gi].per_sg;
			widest = cfg->groups[gi].id;
		}
	}
	if (count > SG_MAX_GROUPS_PER_INSTANCE)
		ERR(c, n, SG_E_SGLIMIT,
		    "%s has %zu security groups; the limit is %d", in->id,
		    count, SG_MAX_GROUPS_PER_INSTANCE);
	else if (count > cfg->quotas.groups_per_instance)
		ERR(c, n, SG_E_SGLIMIT,
		    "%s has %zu security groups; the quota is %u (if the "
		    "account's is higher: --quota groups_per_instance=N or "
		    "`quotas:` in the config)",
		    in->id, count, cfg->quotas.groups_per_instance);
	else if (in->ngroups * max_rules > SG_MAX_RULES_PER_INSTANCE)
		ERR(c, n, SG_E_RULELIMIT,
		    "%s: %zu groups x %zu rules (%s) = %zu, above the limit of "
		    "%d rules per interface",
		    in->id, in->ngroups, max_rules, widest,
		    in->ngroups * max_rules, SG_MAX_RULES_PER_INSTANCE);
	return count;
}

void cfg_instance(struct ctx *c, struct kv *e)
{
	struct sg_config *cfg = c->cfg;
	yaml_node_t *ipsn = NULL, *groupsn = NULL, *netnsn = NULL,
		    *siden = NULL;
	struct sg_instance *in;
	struct kv *kv = NULL;
	size_t i, nkv, cap = 0;
	struct items it;
	yaml_node_item_t *p;

	if (!cfg_valid_id(e->key, "i-") && !cfg_valid_id(e->key, "eni-"))
		ERR(c, e->k, SG_E_PARAM,
		    "instance id '%s' must be i- or eni- followed by letters, "
		    "digits, '-', '_' or '.' (at most %d characters)",
		    e->key, SG_ID_LEN - 1);
	if (!RESERVE(c, cfg->instances, c->icap, cfg->ninstances + 1))
		return;
	in = &cfg->instances[cfg->ninstances++];
	memset(in, 0, sizeof(*in));
	in->id = cfg_strdup(c, e->key);
	in->pos = cfg_pos(c, e->k);
	in->source_dest_check = true;
	in->ct.tcp_established = 432000;
	in->ct.udp_stream = 180;
	in->ct.udp = 30;
	in->ct.max_entries = 65536;

	if (!sg_yaml_is_null(e->v) && cfg_want_map(c, e->v, "an instance")) {
		nkv = cfg_map_items(c, e->v, "key", SG_E_PARAM, &kv);
		for (i = 0; i < nkv; i++) {
			const char *k = kv[i].key, *s;

			if (!strcmp(k, "interface")) {
				s = cfg_str(c, kv[i].v, "interface", 0);
				if (s && !valid_ifname(s))
					ERR(c, kv[i].v, SG_E_PARAM,
					    "interface '%s' is not a valid "
					    "interface name (1-%d characters, "
					    "no '/', ':' or spaces)",
					    s, SG_IFNAME_LEN - 1);
				else if (s)
					in->interface = cfg_strdup(c, s);
			} else if (!strcmp(k, "host")) {
				s = cfg_str(c, kv[i].v, "host", 0);
				if (s && !valid_host(s))
					ERR(c, kv[i].v, SG_E_PARAM,
					    "host '%s' is not a valid host "
					    "name (1-%d letters, digits, "
					    "'-', '_' or '.')",
					    s, SG_HOST_MAX);
				else if (s)
					in->host = cfg_strdup(c, s);
			} else if (!strcmp(k, "netns")) {
				netnsn = kv[i].v;
				s = cfg_str(c, kv[i].v, "netns", 0);
				if (s && !valid_netns(s))
					ERR(c, kv[i].v, SG_E_PARAM,
					    "netns '%s' is not a valid network "
					    "namespace name (1-%d characters, "
					    "no '/' or spaces)",
					    s, SG_NETNS_LEN - 1);
				else if (s)
					in->netns = cfg_strdup(c, s);
			} else if (!strcmp(k, "host_side")) {
				siden = kv[i].v;
				s = sg_yaml_scalar(kv[i].v);
				if (!parse_bool(s, &in->host_side))
					ERR(c, kv[i].v, SG_E_PARAM,
					    "host_side must be true or false");
			} else if (!strcmp(k, "ips")) {
				ipsn = kv[i].v;
			} else if (!strcmp(k, "security_groups")) {
				groupsn = kv[i].v;
			} else if (!strcmp(k, "source_dest_check")) {
				s = sg_yaml_scalar(kv[i].v);
				if (!parse_bool(s, &in->source_dest_check))
					ERR(c, kv[i].v, SG_E_PARAM,
					    "source_dest_check must be true or "
					    "false");
			} else if (!strcmp(k, "conntrack")) {
				parse_conntrack(c, in, kv[i].v);
			} else if (!strcmp(k, "enforcement")) {
				s = sg_yaml_scalar(kv[i].v);
				if (s && !strcmp(s, "audit"))
					in->audit = true;
				else if (!s || strcmp(s, "enforce"))
					ERR(c, kv[i].v, SG_E_PARAM,
					    "enforcement must be enforce or "
					    "audit");
			} else if (!strcmp(k, "tags")) {
				cfg_tags(c, kv[i].v, &in->tags, &in->ntags);
			} else if (!strcmp(k, "filtered")) {
				bool f = true;

				s = sg_yaml_scalar(kv[i].v);
				if (!parse_bool(s, &f))
					ERR(c, kv[i].v, SG_E_PARAM,
					    "filtered must be true or false");
				in->unfiltered = !f;
			} else {
				ERR(c, kv[i].k, SG_E_PARAM,
				    "unknown key '%s' in instance %s (expected "
				    "interface, ips, security_groups, "
				    "source_dest_check, conntrack, tags, "
				    "filtered, enforcement, host, netns, "
				    "host_side)",
				    k, e->key);
			}
		}
		free(kv);
	}
	/* Both say how to attach to the interface: without one they mean
	 * nothing. */
	if (netnsn && !in->interface)
		ERR(c, netnsn, SG_E_MISSING,
		    "instance %s: netns needs interface", e->key);
	if (siden && in->host_side && !in->interface)
		ERR(c, siden, SG_E_MISSING,
		    "instance %s: host_side needs interface", e->key);

	if (!ipsn) {
		ERR(c, e->k, SG_E_MISSING, "instance %s needs ips", e->key);
	} else if (cfg_list_items(c, ipsn, "ips", true, &it)) {
		if (it.start == it.top)
			ERR(c, ipsn, SG_E_MISSING,
			    "instance %s needs at least one address in ips",
			    e->key);
		for (p = it.start; p < it.top && !c->stop; p++) {
			yaml_node_t *an = cfg_node(c, *p);
			const char *s = sg_yaml_scalar(an);
			struct sg_prefix a;
			bool masked;

			if (!s || sg_yaml_is_null(an) ||
			    sg_prefix_parse(s, &a, &masked) < 0) {
				ERR(c, an, SG_E_PARAM,
				    "'%s' is not an IPv4 or IPv6 address",
				    s && !sg_yaml_is_null(an)
					    ? s
					    : sg_yaml_node_kind(an));
				continue;
			}
			if (a.len != (a.family == 4 ? 32 : 128)) {
				ERR(c, an, SG_E_PARAM,
				    "ips takes addresses, not networks: '%s'",
				    s);
				continue;
			}
			if (!RESERVE(c, in->ips, cap, in->nips + 1) ||
			    !RESERVE(c, c->ips, c->ipcap, c->nips + 1))
				return;
			in->ips[in->nips++] = a;
			c->ips[c->nips].p = a;
			c->ips[c->nips].inst = cfg->ninstances - 1;
			c->ips[c->nips].order = c->nips;
			c->ips[c->nips].pos = cfg_pos(c, an);
			c->nips++;
		}
	}

	/* filtered: false (AWS's Groups: []): no group, not even default. */
	if (in->unfiltered) {
		if (groupsn && !sg_yaml_is_null(groupsn) &&
		    !(groupsn->type == YAML_SEQUENCE_NODE &&
		      groupsn->data.sequence.items.start ==
			      groupsn->data.sequence.items.top))
			ERR(c, groupsn, SG_E_PARAM,
			    "%s has filtered: false (no security group): it "
			    "cannot list security_groups",
			    in->id);
		return;
	}
	/* None listed: the VPC's default group, as AWS does. */
	if (!(groupsn ? parse_instance_groups(c, in, groupsn) : 0) && !c->oom &&
	    c->default_group >= 0) {
		in->groups = malloc(sizeof(*in->groups));
		if (!in->groups) {
			c->oom = true;
			return;
		}
		in->groups[0] = c->default_group;
		in->ngroups = 1;
	}
}

static int ipref_cmp(const void *a, const void *b)
{
	const struct ipref *x = a, *y = b;
	int r = sg_prefix_cmp(&x->p, &y->p);

	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* An address belongs to one instance, and once. */
void cfg_check_addresses(struct ctx *c)
{
	struct sg_config *cfg = c->cfg;
	size_t i, first;
	char buf[64], wb[WHERE_LEN];

	if (c->nips < 2)
		return;
	qsort(c->ips, c->nips, sizeof(*c->ips), ipref_cmp);
	for (first = 0, i = 1; i < c->nips; i++) {
		const struct ipref *a = &c->ips[first], *b = &c->ips[i];
		char *slash;

		if (sg_prefix_cmp(&a->p, &b->p)) {
			first = i;
			continue;
		}
		sg_prefix_str(&b->p, buf, sizeof(buf));
		slash = strchr(buf, '/');
		if (slash)
			*slash = '\0';
		if (a->inst == b->inst)
			sg_error(c->diag, b->pos, SG_E_PARAM,
				 "%s lists %s twice",
				 cfg->instances[b->inst].id, buf);
		else
			sg_error(c->diag, b->pos, SG_E_PARAM,
				 "address %s is already used by %s (%s)", buf,
				 cfg->instances[a->inst].id,
				 sg_pos_where(b->pos, a->pos, wb, sizeof(wb)));
	}
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* Where an interface is: (host, netns, name). */
static int place_cmp(const void *x, const void *y)
{
	const struct sg_instance *a = *(const struct sg_instance *const *)x;
	const struct sg_instance *b = *(const struct sg_instance *const *)y;
	int r = strcmp(or_empty(a->host), or_empty(b->host));

	if (!r)
		r = strcmp(or_empty(a->netns), or_empty(b->netns));
	if (!r)
		r = strcmp(a->interface, b->interface);
	/* stable: the first in the file is reported as the owner */
	return r ? r : (a < b ? -1 : a > b);
}

/*
 * attach finds an instance by its interface: it must be unambiguous on
 * its host and in its namespace (eth0 on two hosts is two interfaces).
 */
void cfg_check_interfaces(struct ctx *c)
{
	struct sg_config *cfg = c->cfg;
	size_t i, n = 0, first;
	char wb[WHERE_LEN];
	const struct sg_instance **s = calloc(cfg->ninstances + 1, sizeof(*s));

	if (!s) {
		c->oom = true;
		return;
	}
	for (i = 0; i < cfg->ninstances; i++)
		if (cfg->instances[i].interface)
			s[n++] = &cfg->instances[i];
	qsort(s, n, sizeof(*s), place_cmp);
	for (first = 0, i = 1; i < n; i++) {
		const struct sg_instance *a = s[first], *b = s[i];

		if (strcmp(or_empty(a->host), or_empty(b->host)) ||
		    strcmp(or_empty(a->netns), or_empty(b->netns)) ||
		    strcmp(a->interface, b->interface)) {
			first = i;
			continue;
		}
		sg_error(c->diag, b->pos, SG_E_PARAM,
			 "interface %s%s%s is already used by %s (%s)",
			 b->interface, b->netns ? " in netns " : "",
			 or_empty(b->netns), a->id,
			 sg_pos_where(b->pos, a->pos, wb, sizeof(wb)));
	}
	free(s);
}
