// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A security group's rules (pass 2 of the walk): what each rule allows
 * (a preset type, or a protocol with ports or ICMP type and code), whom
 * (CIDRs, groups, prefix lists; one model rule per peer), then the
 * group's duplicate rules and its quotas.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <linux/types.h>

#include "sgctl.h"
#include "config/config_priv.h"
#include "config/prefix.h"

/* Far above any quota: past it a group is already in error, and keeping
 * more rules would only cost memory. */
#define SG_GROUP_RULES_HARD_MAX 4096


struct preset {
	const char *name;
	int proto;
	int lo, hi; /* -1 for protocols without ports */
};

/* The presets of docs/usage.md "Rules", in its order. */
static const struct preset presets[] = {
	{"ssh", SG_PROTO_TCP, 22, 22},
	{"ftp", SG_PROTO_TCP, 21, 21},
	{"sftp", SG_PROTO_TCP, 22, 22},
	{"http", SG_PROTO_TCP, 80, 80},
	{"https", SG_PROTO_TCP, 443, 443},
	{"rdp", SG_PROTO_TCP, 3389, 3389},
	{"smtp", SG_PROTO_TCP, 25, 25},
	{"smtps", SG_PROTO_TCP, 465, 465},
	{"pop3", SG_PROTO_TCP, 110, 110},
	{"pop3s", SG_PROTO_TCP, 995, 995},
	{"imap", SG_PROTO_TCP, 143, 143},
	{"imaps", SG_PROTO_TCP, 993, 993},
	{"ldap", SG_PROTO_TCP, 389, 389},
	{"smb", SG_PROTO_TCP, 445, 445},
	{"dns-tcp", SG_PROTO_TCP, 53, 53},
	{"dns-udp", SG_PROTO_UDP, 53, 53},
	{"mysql", SG_PROTO_TCP, 3306, 3306},
	{"postgresql", SG_PROTO_TCP, 5432, 5432},
	{"mssql", SG_PROTO_TCP, 1433, 1433},
	{"oracle", SG_PROTO_TCP, 1521, 1521},
	{"redshift", SG_PROTO_TCP, 5439, 5439},
	{"nfs", SG_PROTO_TCP, 2049, 2049},
	{"winrm-http", SG_PROTO_TCP, 5985, 5985},
	{"winrm-https", SG_PROTO_TCP, 5986, 5986},
	{"all-traffic", SG_PROTO_ALL, -1, -1},
	{"all-tcp", SG_PROTO_TCP, 0, 65535},
	{"all-udp", SG_PROTO_UDP, 0, 65535},
	{"all-icmp", SG_PROTO_ICMP, -1, -1},
	{"all-icmpv6", SG_PROTO_ICMPV6, -1, -1},
};

#define SG_MAX_UNDEFINED_REFS 1000

__attribute__((format(printf, 2, 3))) static char *
xasprintf(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->oom = true;
		return NULL;
	}
	return s;
}

struct rspec {
	const struct preset *preset;
	int proto;
	int lo, hi;
	int itype, icode;
};

static bool is_icmp(int proto)
{
	return proto == SG_PROTO_ICMP || proto == SG_PROTO_ICMPV6;
}

static bool has_ports(int proto)
{
	return proto == SG_PROTO_TCP || proto == SG_PROTO_UDP;
}

/* "tcp/22", "tcp/80-90", "icmp type 3 code 4", "icmp all", "all", "protocol 47"
 */
static void spec_desc(const struct rspec *r, char *buf, size_t len)
{
	const char *pn = sg_proto_name(r->proto);

	if (r->proto == SG_PROTO_ALL)
		snprintf(buf, len, "all");
	else if (has_ports(r->proto) && r->lo == r->hi)
		snprintf(buf, len, "%s/%d", pn, r->lo);
	else if (has_ports(r->proto))
		snprintf(buf, len, "%s/%d-%d", pn, r->lo, r->hi);
	else if (is_icmp(r->proto) && r->itype == SG_ANY)
		snprintf(buf, len, "%s all", pn);
	else if (is_icmp(r->proto) && r->icode == SG_ANY)
		snprintf(buf, len, "%s type %d", pn, r->itype);
	else if (is_icmp(r->proto))
		snprintf(buf, len, "%s type %d code %d", pn, r->itype,
			 r->icode);
	else
		snprintf(buf, len, "protocol %d", r->proto);
}

static char *rule_text(struct ctx *c, const struct rspec *r, int dir,
		       const char *peer, const char *suffix)
{
	const char *way = dir == SG_DIR_IN ? "from" : "to";
	char d[64];

	spec_desc(r, d, sizeof(d));
	if (r->preset)
		return xasprintf(c, "%s (%s) %s %s%s", r->preset->name, d, way,
				 peer, suffix);
	if (r->proto == SG_PROTO_ALL)
		return xasprintf(c, "all traffic %s %s%s", way, peer, suffix);
	return xasprintf(c, "%s %s %s%s", d, way, peer, suffix);
}

static bool parse_protocol(struct ctx *c, yaml_node_t *n, int *proto)
{
	static const struct {
		const char *name;
		int proto;
	} names[] = {
		{"tcp", SG_PROTO_TCP},    {"udp", SG_PROTO_UDP},
		{"icmp", SG_PROTO_ICMP},  {"icmpv6", SG_PROTO_ICMPV6},
		{"all", SG_PROTO_ALL}, {"-1", SG_PROTO_ALL},
	};
	const char *s = sg_yaml_scalar(n);
	unsigned long long v;
	size_t i;

	if (s && !sg_yaml_is_null(n)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(s, names[i].name)) {
				*proto = names[i].proto;
				return true;
			}
		if (cfg_parse_uint(s, &v) && v <= 255) {
			*proto = (int)v;
			return true;
		}
	}
	ERR(c, n, SG_E_PARAM,
	    "unknown protocol '%s' (expected tcp, udp, icmp, icmpv6, all, -1 "
	    "or a number 0-255)",
	    s && !sg_yaml_is_null(n) ? s : sg_yaml_node_kind(n));
	return false;
}

static void upper(char *d, const char *s, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		d[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	d[i] = '\0';
}

static bool parse_ports(struct ctx *c, yaml_node_t *n, int proto, int *lo,
			int *hi)
{
	unsigned long long a, b;
	const char *s = sg_yaml_scalar(n);
	char pn[8], *dash, tmp[32];

	upper(pn, sg_proto_name(proto), sizeof(pn));
	if (!s || sg_yaml_is_null(n)) {
		ERR(c, n, SG_E_MALFORMED,
		    "ports must be a port, a range N-M or all, not %s",
		    sg_yaml_node_kind(n));
		return false;
	}
	if (!strcasecmp(s, "all")) {
		*lo = 0;
		*hi = 65535;
		return true;
	}
	if (strlen(s) >= sizeof(tmp))
		goto bad;
	strcpy(tmp, s);
	dash = strchr(tmp, '-');
	if (dash)
		*dash = '\0';
	if (!cfg_parse_uint(tmp, &a) || (dash && !cfg_parse_uint(dash + 1, &b)))
		goto bad;
	if (!dash)
		b = a;
	if (a > 65535 || b > 65535) {
		ERR(c, n, SG_E_MALFORMED, "%s port %llu out of range 0-65535",
		    pn, a > 65535 ? a : b);
		return false;
	}
	if (a > b) {
		ERR(c, n, SG_E_MALFORMED,
		    "%s port range %llu-%llu is reversed: the first port must "
		    "not be above the last",
		    pn, a, b);
		return false;
	}
	*lo = (int)a;
	*hi = (int)b;
	return true;
bad:
	ERR(c, n, SG_E_MALFORMED,
	    "%s ports '%s' must be a port, a range N-M or all", pn, s);
	return false;
}

static bool parse_icmp_field(struct ctx *c, yaml_node_t *n, const char *what,
			     int *v)
{
	unsigned long long x;
	const char *s = sg_yaml_scalar(n);

	if (s && (!strcasecmp(s, "all") || !strcmp(s, "-1"))) {
		*v = SG_ANY;
		return true;
	}
	if (s && !sg_yaml_is_null(n) && cfg_parse_uint(s, &x)) {
		if (x <= 255) {
			*v = (int)x;
			return true;
		}
		ERR(c, n, SG_E_MALFORMED, "ICMP %s %llu out of range 0-255",
		    what, x);
		return false;
	}
	ERR(c, n, SG_E_MALFORMED,
	    "ICMP %s must be a number 0-255 or all, not '%s'", what,
	    s && !sg_yaml_is_null(n) ? s : sg_yaml_node_kind(n));
	return false;
}

/* Rule under construction in one group: the model rules plus where each
 * peer was written (for duplicate and quota messages). */
struct gbuild {
	size_t cap;
	struct sg_pos *ppos;
	size_t ppcap;
};

static void add_rule(struct ctx *c, struct sg_group *g, struct gbuild *gb,
		     struct sg_rule *r, struct sg_pos ppos)
{
	if (!r->text || !r->peer_text || g->nrules >= SG_GROUP_RULES_HARD_MAX ||
	    !RESERVE(c, g->rules, gb->cap, g->nrules + 1) ||
	    !RESERVE(c, gb->ppos, gb->ppcap, g->nrules + 1)) {
		free(r->peer_text);
		free(r->text);
		free(r->description);
		cfg_tags_free(r->tags, r->ntags);
		return;
	}
	if (!r->id[0])
		sg_rule_id_derive(g->id, r, r->id);
	gb->ppos[g->nrules] = ppos;
	g->rules[g->nrules++] = *r;
}

/*
 * A reference to a group the file does not define. docs/usage.md's own
 * example does this (sg-lb), and configs may be merged from several files,
 * so it is a warning: the reference stands for a group without members,
 * which matches nothing. Returns its future index, or -1 after an error.
 */
static int undefined_group(struct ctx *c, yaml_node_t *n, const char *s)
{
	size_t k;

	for (k = 0; k < c->nundef; k++)
		if (!strcmp(c->undef[k], s))
			break;
	if (!cfg_valid_id(s, "sg-") ||
	    (k == c->nundef && c->nundef >= SG_MAX_UNDEFINED_REFS)) {
		ERR(c, n, SG_E_NOTFOUND,
		    "security group %s does not exist in %s", s, c->cfg->vpc);
		return -1;
	}
	/* outside: the input said where it is (aws.c warned already). */
	if (!c->cur_outside)
		sg_warn(c->diag, cfg_pos(c, n),
			"security group %s is not defined in %s: this rule "
			"matches nothing until it is",
			s, c->cfg->vpc);
	if (k == c->nundef) {
		size_t oc = c->undefoutcap;

		if (!RESERVE(c, c->undef, c->undefcap, k + 1) ||
		    !RESERVE(c, c->undef_pos, c->undefposcap, k + 1) ||
		    !RESERVE(c, c->undef_outside, c->undefoutcap, k + 1))
			return -1;
		memset(c->undef_outside + oc, 0,
		       (c->undefoutcap - oc) * sizeof(*c->undef_outside));
		if (c->cur_outside)
			c->undef_outside[k] = cfg_strdup(c, c->cur_outside);
		c->undef[k] = cfg_strdup(c, s);
		if (!c->undef[k])
			return -1;
		c->undef_pos[k] = cfg_pos(c, n);
		c->nundef++;
	}
	return (int)(c->undef_base + k);
}

/* Fills r's peer from a written source/destination; false on error. */
static bool resolve_peer(struct ctx *c, yaml_node_t *n, struct sg_rule *r)
{
	const char *s = sg_yaml_scalar(n);
	struct sg_prefix p;
	bool masked;
	char buf[64];
	int i;

	if (!s || sg_yaml_is_null(n)) {
		ERR(c, n, SG_E_PARAM,
		    "a peer must be a CIDR, sg-... or pl-..., not %s",
		    sg_yaml_node_kind(n));
		return false;
	}
	if (!strncmp(s, "sg-", 3)) {
		i = cfg_ix_find(c->gids, c->ngids, s);
		if (i < 0)
			i = undefined_group(c, n, s);
		if (i < 0)
			return false;
		r->peer_kind = SG_PEER_GROUP;
		r->peer_index = i;
		return true;
	}
	if (!strncmp(s, "pl-", 3)) {
		i = cfg_ix_find(c->plids, c->nplids, s);
		if (i < 0) {
			ERR(c, n, SG_E_PLNOTFOUND,
			    "prefix list %s does not exist", s);
			return false;
		}
		r->peer_kind = SG_PEER_PREFIX_LIST;
		r->peer_index = i;
		return true;
	}
	if (sg_prefix_parse(s, &p, &masked) < 0) {
		ERR(c, n, SG_E_PARAM,
		    "'%s' is not a CIDR, a security group (sg-...) or a prefix "
		    "list (pl-...)",
		    s);
		return false;
	}
	if (!strchr(s, '/')) {
		/* AWS wants the length written; say what to write. */
		ERR(c, n, SG_E_PARAM, "'%s' is not a CIDR: write %s", s,
		    sg_prefix_str(&p, buf, sizeof(buf)));
		return false;
	}
	if (masked)
		sg_warn(c->diag, cfg_pos(c, n),
			"%s has host bits set; using %s", s,
			sg_prefix_str(&p, buf, sizeof(buf)));
	r->peer_kind = SG_PEER_CIDR;
	r->cidr = p;
	r->peer_index = -1;
	return true;
}

static void parse_rule(struct ctx *c, struct sg_group *g, struct gbuild *gb,
		       int dir, yaml_node_t *n)
{
	yaml_node_t *type = NULL, *proto = NULL, *ports = NULL, *itype = NULL;
	yaml_node_t *icode = NULL, *peer = NULL, *descn = NULL, *idn = NULL;
	yaml_node_t *tagsn = NULL, *outn = NULL;
	struct sg_tag *tags = NULL;
	size_t ntags = 0;
	const char *peer_key = dir == SG_DIR_IN ? "source" : "destination";
	const char *other_key = dir == SG_DIR_IN ? "destination" : "source";
	const char *desc = NULL;
	struct rspec rs = {NULL, 0, -1, -1, -1, -1};
	struct kv *kv = NULL;
	bool ok = true, wrong_way = false;
	struct items it;
	yaml_node_item_t *p;
	size_t i, nkv;

	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, SG_E_MALFORMED,
		    "a rule must be a mapping (type or protocol, ports, %s), "
		    "not %s",
		    peer_key, sg_yaml_node_kind(n));
		return;
	}
	nkv = cfg_map_items(c, n, "key", SG_E_PARAM, &kv);
	for (i = 0; i < nkv; i++) {
		const char *k = kv[i].key;

		if (!strcmp(k, "type"))
			type = kv[i].v;
		else if (!strcmp(k, "protocol"))
			proto = kv[i].v;
		else if (!strcmp(k, "ports"))
			ports = kv[i].v;
		else if (!strcmp(k, "icmp_type"))
			itype = kv[i].v;
		else if (!strcmp(k, "icmp_code"))
			icode = kv[i].v;
		else if (!strcmp(k, peer_key))
			peer = kv[i].v;
		else if (!strcmp(k, "description"))
			descn = kv[i].v;
		else if (!strcmp(k, "id"))
			idn = kv[i].v;
		else if (!strcmp(k, "tags"))
			tagsn = kv[i].v;
		else if (!strcmp(k, "outside"))
			outn = kv[i].v;
		else if (!strcmp(k, other_key)) {
			wrong_way = true;
			ERR(c, kv[i].k, SG_E_MALFORMED,
			    "%s rules take '%s', not '%s'",
			    dir == SG_DIR_IN ? "inbound" : "outbound", peer_key,
			    other_key);
			ok = false;
		} else {
			ERR(c, kv[i].k, SG_E_PARAM,
			    "unknown rule key '%s' (expected type, protocol, "
			    "ports, icmp_type, icmp_code, %s, description, id, "
			    "tags, outside)",
			    k, peer_key);
			ok = false;
		}
	}
	free(kv);

	/* What the rule allows. */
	if (type && proto) {
		ERR(c, proto, SG_E_MALFORMED,
		    "a rule takes type or protocol, not both");
		ok = false;
	} else if (type) {
		const char *s = sg_yaml_scalar(type);

		for (i = 0; s && i < sizeof(presets) / sizeof(presets[0]); i++)
			if (!strcasecmp(s, presets[i].name))
				rs.preset = &presets[i];
		if (!rs.preset) {
			ERR(c, type, SG_E_PARAM,
			    "unknown rule type '%s' (expected a preset such as "
			    "ssh, http, all-traffic; or use protocol)",
			    s && !sg_yaml_is_null(type)
				    ? s
				    : sg_yaml_node_kind(type));
			ok = false;
		} else {
			yaml_node_t *extra = ports   ? ports
					     : itype ? itype
						     : icode;

			rs.proto = rs.preset->proto;
			rs.lo = rs.preset->lo;
			rs.hi = rs.preset->hi;
			if (is_icmp(rs.proto))
				rs.itype = rs.icode = SG_ANY;
			if (extra) {
				ERR(c, extra, SG_E_MALFORMED,
				    "type %s sets the protocol and ports "
				    "itself; write protocol instead to choose "
				    "them",
				    rs.preset->name);
				ok = false;
			}
		}
	} else if (proto) {
		if (!parse_protocol(c, proto, &rs.proto)) {
			ok = false;
		} else if (has_ports(rs.proto)) {
			if (!ports) {
				ERR(c, n, SG_E_MISSING,
				    "%s rules need ports (N, N-M or all)",
				    sg_proto_name(rs.proto));
				ok = false;
			} else if (!parse_ports(c, ports, rs.proto, &rs.lo,
						&rs.hi)) {
				ok = false;
			}
		} else if (ports) {
			ERR(c, ports, SG_E_MALFORMED,
			    "ports apply only to tcp and udp, not to %s",
			    sg_proto_name(rs.proto)       ? sg_proto_name(rs.proto)
			    : rs.proto == SG_PROTO_ALL ? "all traffic"
						       : "this protocol");
			ok = false;
		}
		if (is_icmp(rs.proto)) {
			rs.itype = rs.icode = SG_ANY;
			if (itype &&
			    !parse_icmp_field(c, itype, "type", &rs.itype))
				ok = false;
			if (icode &&
			    !parse_icmp_field(c, icode, "code", &rs.icode))
				ok = false;
			if (ok && rs.icode != SG_ANY && rs.itype == SG_ANY) {
				ERR(c, icode, SG_E_MALFORMED,
				    "icmp_code needs an icmp_type");
				ok = false;
			}
		} else if (ok && (itype || icode)) {
			ERR(c, itype ? itype : icode, SG_E_MALFORMED,
			    "%s applies only to icmp and icmpv6",
			    itype ? "icmp_type" : "icmp_code");
			ok = false;
		}
	} else {
		ERR(c, n, SG_E_MISSING, "a rule needs a type or a protocol");
		ok = false;
	}

	if (descn) {
		desc = cfg_str(c, descn, "description", SG_TEXT_MAX);
		if (!desc)
			ok = false;
	}

	/* Who it allows: one model rule per peer. */
	if (!peer) {
		/* Unless the peer was written under the other direction's key.
		 */
		if (!wrong_way)
			ERR(c, n, SG_E_MISSING, "%s rules need a %s",
			    dir == SG_DIR_IN ? "inbound" : "outbound",
			    peer_key);
		return;
	}
	if (!cfg_list_items(c, peer, peer_key, true, &it))
		return;
	if (it.start == it.top) {
		ERR(c, peer, SG_E_MISSING, "%s must name at least one peer",
		    peer_key);
		return;
	}
	if (idn) {
		const char *id = sg_yaml_scalar(idn);

		if (!sg_rule_id_valid(id)) {
			ERR(c, idn, SG_E_PARAM,
			    "rule id '%s' is not sgr- followed by 17 lowercase "
			    "hex digits",
			    id && !sg_yaml_is_null(idn) ? id
							: sg_yaml_node_kind(idn));
			ok = false;
		} else if (it.top - it.start > 1) {
			/* AWS stores one rule per peer, each with its id. */
			ERR(c, idn, SG_E_PARAM,
			    "id names one rule, but this entry has %d %ss "
			    "(%d rules): write one entry per %s",
			    (int)(it.top - it.start), peer_key,
			    (int)(it.top - it.start), peer_key);
			ok = false;
		}
	}
	if (tagsn && !cfg_tags(c, tagsn, &tags, &ntags))
		ok = false;
	/* outside: WHERE names a group of another account or VPC. */
	c->cur_outside = outn ? cfg_str(c, outn, "outside", SG_TEXT_MAX) : NULL;
	for (p = it.start; p < it.top && !c->stop && !c->oom; p++) {
		yaml_node_t *pn = cfg_node(c, *p);
		struct sg_rule r;

		memset(&r, 0, sizeof(r));
		if (!resolve_peer(c, pn, &r) || !ok)
			continue;
		r.tags = cfg_tags_dup(c, tags, ntags);
		r.ntags = r.tags ? ntags : 0;
		r.dir = dir;
		r.proto = rs.proto;
		r.port_lo = rs.lo;
		r.port_hi = rs.hi;
		r.icmp_type = rs.itype;
		r.icmp_code = rs.icode;
		r.pos = cfg_pos(c, n);
		r.peer_text = cfg_strdup(c, sg_yaml_scalar(pn));
		r.text = rule_text(c, &rs, dir, sg_yaml_scalar(pn), "");
		r.description = cfg_strdup(c, desc);
		if (idn) {
			snprintf(r.id, sizeof(r.id), "%s", sg_yaml_scalar(idn));
			r.id_written = true;
		}
		add_rule(c, g, gb, &r, cfg_pos(c, pn));
	}
	c->cur_outside = NULL;
	cfg_tags_free(tags, ntags);
}

static void parse_rule_list(struct ctx *c, struct sg_group *g,
			    struct gbuild *gb, int dir, yaml_node_t *list)
{
	struct items it;
	yaml_node_item_t *p;

	if (!cfg_list_items(c, list, dir == SG_DIR_IN ? "inbound" : "outbound",
			    false, &it))
		return;
	for (p = it.start; p < it.top && !c->stop && !c->oom; p++)
		parse_rule(c, g, gb, dir, cfg_node(c, *p));
}

static void add_all_rule(struct ctx *c, struct sg_group *g, struct gbuild *gb,
			 int dir, const char *peer, struct sg_pos pos,
			 const char *suffix)
{
	struct rspec rs = {NULL, SG_PROTO_ALL, -1, -1, -1, -1};
	struct sg_rule r;

	memset(&r, 0, sizeof(r));
	r.dir = dir;
	r.proto = SG_PROTO_ALL;
	r.port_lo = r.port_hi = -1;
	r.icmp_type = r.icmp_code = -1;
	r.pos = pos;
	if (!strncmp(peer, "sg-", 3)) {
		r.peer_kind = SG_PEER_GROUP;
		r.peer_index = (int)(g - c->cfg->groups);
	} else {
		r.peer_kind = SG_PEER_CIDR;
		r.peer_index = -1;
		sg_prefix_parse(peer, &r.cidr, NULL);
	}
	r.peer_text = cfg_strdup(c, peer);
	r.text = rule_text(c, &rs, dir, peer, suffix);
	add_rule(c, g, gb, &r, pos);
}

static int rule_cmp(const struct sg_rule *a, const struct sg_rule *b)
{
#define CMP(x, y)                                                              \
	do {                                                                   \
		if ((x) != (y))                                                \
			return (x) < (y) ? -1 : 1;                             \
	} while (0)
	CMP(a->dir, b->dir);
	CMP(a->proto, b->proto);
	CMP(a->port_lo, b->port_lo);
	CMP(a->port_hi, b->port_hi);
	CMP(a->icmp_type, b->icmp_type);
	CMP(a->icmp_code, b->icmp_code);
	CMP((int)a->peer_kind, (int)b->peer_kind);
	if (a->peer_kind == SG_PEER_CIDR)
		return sg_prefix_cmp(&a->cidr, &b->cidr);
	CMP(a->peer_index, b->peer_index);
	return 0;
#undef CMP
}

static int rule_ix_cmp(const void *a, const void *b, void *arg)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct sg_rule *rules = arg;
	int r = rule_cmp(&rules[x], &rules[y]);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

static void check_duplicates(struct ctx *c, struct sg_group *g,
			     struct gbuild *gb)
{
	size_t *ix, i, first;
	char wb[WHERE_LEN];

	if (g->nrules < 2)
		return;
	ix = malloc(g->nrules * sizeof(*ix));
	if (!ix) {
		c->oom = true;
		return;
	}
	for (i = 0; i < g->nrules; i++)
		ix[i] = i;
	qsort_r(ix, g->nrules, sizeof(*ix), rule_ix_cmp, g->rules);
	for (first = 0, i = 1; i < g->nrules; i++) {
		if (rule_cmp(&g->rules[ix[first]], &g->rules[ix[i]])) {
			first = i;
			continue;
		}
		sg_error(c->diag, gb->ppos[ix[i]], SG_E_DUPRULE,
			 "%s already has this rule: %s (%s)", g->id,
			 g->rules[ix[first]].text,
			 sg_pos_where(gb->ppos[ix[i]], gb->ppos[ix[first]], wb,
				      sizeof(wb)));
	}
	free(ix);
}

/*
 * Quotas (docs/semantics.md §2.12): by default 60 rules per group and
 * direction, counted per address family. A CIDR counts 1 in its family; a
 * group reference counts 1 in both (its members may have either); a
 * prefix list counts max_entries in each family it holds entries of
 * (both when it is empty, as it may grow either way).
 *
 * For the instance quota (groups x rules per group <= 1000) a group's "rules
 * per group" is its larger direction with both families together, a
 * reference counted once: with the per-family cap alone 16 x 60 could never
 * exceed 1000, which is not what AWS means to bound.
 */
static void rule_weight(struct ctx *c, const struct sg_rule *r, size_t add[2],
			size_t *tot)
{
	add[0] = add[1] = 0;
	switch (r->peer_kind) {
	case SG_PEER_CIDR:
		add[r->cidr.family == 6] = 1;
		*tot = 1;
		break;
	case SG_PEER_GROUP:
		add[0] = add[1] = 1;
		*tot = 1;
		break;
	case SG_PEER_PREFIX_LIST: {
		const struct sg_prefix_list *pl =
			&c->cfg->prefix_lists[r->peer_index];
		bool v4 = false, v6 = false;

		for (size_t j = 0; j < pl->nentries; j++) {
			v4 |= pl->entries[j].family == 4;
			v6 |= pl->entries[j].family == 6;
		}
		if (!v4 && !v6)
			v4 = v6 = true;
		add[0] = v4 ? (size_t)pl->max_entries : 0;
		add[1] = v6 ? (size_t)pl->max_entries : 0;
		*tot = (size_t)pl->max_entries;
		break;
	}
	}
}

/* Counts only; cfg_check_quotas() judges once the quota is settled. */
static void count_quota(struct ctx *c, struct sg_group *g, struct gsrc *gs)
{
	size_t cnt[SG_NDIR][2] = {{0}}, tot[SG_NDIR] = {0};

	for (size_t i = 0; i < g->nrules; i++) {
		const struct sg_rule *r = &g->rules[i];
		size_t add[2], t = 0;

		rule_weight(c, r, add, &t);
		tot[r->dir] += t;
		for (int f = 0; f < 2; f++) {
			cnt[r->dir][f] += add[f];
			if (cnt[r->dir][f] > gs->most)
				gs->most = cnt[r->dir][f];
		}
	}
	gs->per_sg = tot[SG_DIR_IN] > tot[SG_DIR_OUT] ? tot[SG_DIR_IN]
						      : tot[SG_DIR_OUT];
}

static void check_quota(struct ctx *c, struct sg_group *g, struct gsrc *gs,
			size_t quota)
{
	size_t cnt[SG_NDIR][2] = {{0}};
	bool told[SG_NDIR][2] = {{false}};

	for (size_t i = 0; i < g->nrules; i++) {
		const struct sg_rule *r = &g->rules[i];
		size_t add[2], t;

		rule_weight(c, r, add, &t);
		for (int f = 0; f < 2; f++) {
			cnt[r->dir][f] += add[f];
			if (cnt[r->dir][f] <= quota || told[r->dir][f])
				continue;
			told[r->dir][f] = true;
			if (quota >= SG_MAX_RULES_PER_INSTANCE)
				sg_error(c->diag, gs->ppos[i], SG_E_RULELIMIT,
					 "%s has more than %zu %s %s rules "
					 "(this rule brings it to %zu): "
					 "AWS's hard limit, no quota raises it",
					 g->id, quota,
					 r->dir == SG_DIR_IN ? "inbound"
							     : "outbound",
					 f ? "IPv6" : "IPv4", cnt[r->dir][f]);
			else
				sg_error(c->diag, gs->ppos[i], SG_E_RULELIMIT,
					 "%s has more than %zu %s %s rules "
					 "(this rule brings it to %zu); if the "
					 "account's quota is higher, say so: "
					 "--quota rules_per_group=N or "
					 "`quotas: {rules_per_group: N}` in "
					 "the config (at most %d / groups per "
					 "instance)",
					 g->id, quota,
					 r->dir == SG_DIR_IN ? "inbound"
							     : "outbound",
					 f ? "IPv6" : "IPv4", cnt[r->dir][f],
					 SG_MAX_RULES_PER_INSTANCE);
		}
	}
}

void cfg_check_quotas(struct ctx *c)
{
	struct sg_config *cfg = c->cfg;
	size_t quota = c->q_rules ? c->q_rules : SG_MAX_RULES_PER_DIR;
	size_t proof = 0, pg = 0;

	/* AWS's own JSON proves the account's quota: AWS accepted it. */
	for (size_t i = 0; !c->q_rules && c->origin && i < cfg->ngroups; i++)
		if (cfg->groups[i].pos.line == 0 && !cfg->groups[i].implicit &&
		    c->gsrc[i].most > proof) {
			proof = c->gsrc[i].most;
			pg = i;
		}
	if (proof > quota && proof <= SG_MAX_RULES_PER_INSTANCE) {
		quota = proof;
		sg_warn(c->diag, cfg->groups[pg].pos,
			"%s has %zu rules of one direction and family, above "
			"AWS's default quota of %d: AWS accepted it, so this "
			"account's quota is taken to be %zu rules per group "
			"(and at most %zu groups per instance) for this load; "
			"--quota rules_per_group=N sets it",
			cfg->groups[pg].id, proof, SG_MAX_RULES_PER_DIR, quota,
			(size_t)SG_MAX_RULES_PER_INSTANCE / quota);
	} else if (proof > SG_MAX_RULES_PER_INSTANCE) {
		quota = SG_MAX_RULES_PER_INSTANCE;
	}
	cfg->quotas.rules_per_group = (unsigned int)quota;
	cfg->quotas.groups_per_instance =
		c->q_groups ? c->q_groups
			    : (unsigned int)(SG_MAX_RULES_PER_INSTANCE / quota <
							     SG_MAX_GROUPS_PER_INSTANCE
						     ? SG_MAX_RULES_PER_INSTANCE /
							       quota
						     : SG_MAX_GROUPS_PER_INSTANCE);
	for (size_t i = 0; i < cfg->ngroups && !c->oom; i++)
		if (c->gsrc[i].ppos)
			check_quota(c, &cfg->groups[i], &c->gsrc[i], quota);
}

void cfg_group_rules(struct ctx *c, size_t gi)
{
	struct sg_group *g = &c->cfg->groups[gi];
	struct gsrc *gs = &c->gsrc[gi];
	struct gbuild gb = {0, NULL, 0};
	int order[2] = {SG_DIR_IN, SG_DIR_OUT};
	int k;

	if (g->implicit) {
		add_all_rule(c, g, &gb, SG_DIR_IN, g->id, g->pos, "");
		add_all_rule(c, g, &gb, SG_DIR_OUT, "0.0.0.0/0", g->pos, "");
		add_all_rule(c, g, &gb, SG_DIR_OUT, "::/0", g->pos, "");
	} else {
		if (gs->out_first) {
			order[0] = SG_DIR_OUT;
			order[1] = SG_DIR_IN;
		}
		for (k = 0; k < 2; k++)
			if (gs->rules[order[k]])
				parse_rule_list(c, g, &gb, order[k],
						gs->rules[order[k]]);
		if (!gs->has_out) {
			add_all_rule(c, g, &gb, SG_DIR_OUT, "0.0.0.0/0", g->pos,
				     " (default egress)");
			add_all_rule(c, g, &gb, SG_DIR_OUT, "::/0", g->pos,
				     " (default egress)");
		}
	}
	if (!c->oom && !c->stop) {
		check_duplicates(c, g, &gb);
		count_quota(c, g, gs);
	}
	/* Kept for cfg_check_quotas(); freed with the context. */
	gs->ppos = gb.ppos;
}

struct idref {
	const char *id;
	const struct sg_rule *r;
};

static int idref_cmp(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int d = strcmp(x->id, y->id);

	/* File order among equals, so the first written is "the other". */
	return d ? d : (x->r < y->r ? -1 : x->r > y->r);
}

void cfg_check_rule_ids(struct ctx *c)
{
	const struct sg_config *cfg = c->cfg;
	struct idref *v;
	size_t n = 0, i, g, r;
	char wb[WHERE_LEN];

	for (g = 0; g < cfg->ngroups; g++)
		n += cfg->groups[g].nrules;
	if (n < 2)
		return;
	v = malloc(n * sizeof(*v));
	if (!v) {
		c->oom = true;
		return;
	}
	for (n = 0, g = 0; g < cfg->ngroups; g++)
		for (r = 0; r < cfg->groups[g].nrules; r++) {
			v[n].id = cfg->groups[g].rules[r].id;
			v[n++].r = &cfg->groups[g].rules[r];
		}
	qsort(v, n, sizeof(*v), idref_cmp);
	/* Derived ids repeat only for repeated rules, refused already. */
	for (i = 1; i < n; i++)
		if (!strcmp(v[i].id, v[i - 1].id) &&
		    (v[i].r->id_written || v[i - 1].r->id_written))
			sg_error(c->diag, v[i].r->pos, SG_E_PARAM,
				 "rule id %s is already used by the rule %s",
				 v[i].id,
				 sg_pos_where(v[i].r->pos, v[i - 1].r->pos, wb,
					      sizeof(wb)));
	free(v);
}
