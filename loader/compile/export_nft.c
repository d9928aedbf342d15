// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sgctl export nft: the policy of the model as an nftables ruleset.
 *
 *   table inet sgctl
 *     sets     addr4_<inst>/addr6_<inst>  an instance's addresses
 *              pl4_<pl>/pl6_<pl>          a prefix list (interval sets)
 *              sg4_<sg>/sg6_<sg>          the members of a referenced group
 *     chains   input, output, forward     base chains, policy accept:
 *                                         established/related flows pass,
 *                                         an instance's traffic jumps to
 *              in_<inst>, out_<inst>      its rules: an allowed packet
 *                                         returns, the rest is dropped
 *
 * An instance is recognised by its addresses (daddr inbound, saddr
 * outbound), so the same ruleset works inside the instance's namespace
 * (input/output) and on a router that forwards its traffic (forward);
 * traffic to or from no instance is untouched. Allow rules "return" rather
 * than accept so that, between two instances on one router, the sender's
 * outbound and the receiver's inbound rules both judge a new flow.
 *
 * Differences from the XDP datapath, by nature of netfilter: conntrack is
 * the host's (one table, the kernel's timeouts and limits), every flow is
 * tracked (no untracked flows), and there is no source check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "util/diag.h"
#include "compile/export_nft.h"
#include "sgctl.h"

struct nft {
	const struct sg_config *cfg;
	FILE *out;
	bool *inst_on;	 /* instances exported */
	bool *group_ref; /* groups whose members a rule names */
	bool *pl_ref;	 /* prefix lists a rule names */
};

/* nft identifiers: letters, digits and '_' (ids also have '-' and '.'). */
static void ident(char *buf, size_t len, const char *prefix, const char *id)
{
	size_t n = (size_t)snprintf(buf, len, "%s", prefix);

	for (; *id && n + 1 < len; id++)
		buf[n++] = (*id >= 'a' && *id <= 'z') ||
					   (*id >= 'A' && *id <= 'Z') ||
					   (*id >= '0' && *id <= '9')
				   ? *id
				   : '_';
	buf[n] = '\0';
}

/* A comment nft accepts: no double quote or control, at most 127 bytes,
 * cut on a character boundary. */
static void comment(char *buf, size_t len, const char *s)
{
	size_t n = 0, max = len - 1 < 127 ? len - 1 : 127, k;

	for (; s && *s && n < max; s++)
		buf[n++] = *s == '"'		      ? '\''
			   : (unsigned char)*s < 0x20 ? ' '
						      : *s;
	/* Cut short: do not leave half a UTF-8 sequence at the end. */
	if (s && *s && n && (unsigned char)buf[n - 1] >= 0x80) {
		k = n;
		while (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0) {
			unsigned char lead = (unsigned char)buf[k - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

			if (n - (k - 1) < need)
				n = k - 1;
		}
	}
	buf[n] = '\0';
}

static bool has_family(const struct sg_prefix *p, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].family == family)
			return true;
	return false;
}

/* Group gi carried by instance ii? */
static bool carries(const struct sg_instance *in, int gi)
{
	for (size_t i = 0; i < in->ngroups; i++)
		if (in->groups[i] == gi)
			return true;
	return false;
}

static bool members_have(const struct sg_config *cfg, int gi, int family)
{
	for (size_t i = 0; i < cfg->ninstances; i++)
		if (carries(&cfg->instances[i], gi) &&
		    has_family(cfg->instances[i].ips, cfg->instances[i].nips,
			       family))
			return true;
	return false;
}

static void addr(char *buf, size_t len, const struct sg_prefix *p,
		 bool keep_len)
{
	char *slash;

	sg_prefix_str(p, buf, len);
	slash = strchr(buf, '/');
	if (slash && !keep_len)
		*slash = '\0';
}

static void elements(struct nft *x, const struct sg_prefix *p, size_t n,
		     int family, bool prefixes)
{
	bool first = true;
	char buf[64];

	fputs("elements = { ", x->out);
	for (size_t i = 0; i < n; i++) {
		if (p[i].family != family)
			continue;
		addr(buf, sizeof(buf), &p[i], prefixes);
		fprintf(x->out, "%s%s", first ? "" : ", ", buf);
		first = false;
	}
	fputs(" }", x->out);
}

static void set_header(struct nft *x, const char *name, int family,
		       bool interval)
{
	fprintf(x->out, "\tset %s {\n\t\ttype %s\n", name,
		family == 4 ? "ipv4_addr" : "ipv6_addr");
	if (interval)
		fputs("\t\tflags interval\n\t\tauto-merge\n", x->out);
	fputs("\t\t", x->out);
}

static void emit_sets(struct nft *x)
{
	const struct sg_config *cfg = x->cfg;
	char name[96];
	int f;

	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];

		if (!x->inst_on[i])
			continue;
		for (f = 4; f <= 6; f += 2) {
			if (!has_family(in->ips, in->nips, f))
				continue;
			ident(name, sizeof(name), f == 4 ? "addr4_" : "addr6_",
			      in->id);
			fprintf(x->out, "\t# %s's addresses\n", in->id);
			set_header(x, name, f, false);
			elements(x, in->ips, in->nips, f, false);
			fputs("\n\t}\n\n", x->out);
		}
	}
	for (size_t i = 0; i < cfg->nprefix_lists; i++) {
		const struct sg_prefix_list *pl = &cfg->prefix_lists[i];

		if (!x->pl_ref[i])
			continue;
		for (f = 4; f <= 6; f += 2) {
			if (!has_family(pl->entries, pl->nentries, f))
				continue;
			ident(name, sizeof(name), f == 4 ? "pl4_" : "pl6_",
			      pl->id);
			fprintf(x->out, "\t# prefix list %s\n", pl->id);
			set_header(x, name, f, true);
			elements(x, pl->entries, pl->nentries, f, true);
			fputs("\n\t}\n\n", x->out);
		}
	}
	for (size_t g = 0; g < cfg->ngroups; g++) {
		if (!x->group_ref[g])
			continue;
		for (f = 4; f <= 6; f += 2) {
			bool first = true;
			char buf[64];

			if (!members_have(cfg, (int)g, f))
				continue;
			ident(name, sizeof(name), f == 4 ? "sg4_" : "sg6_",
			      cfg->groups[g].id);
			fprintf(x->out,
				"\t# addresses of the instances carrying %s\n",
				cfg->groups[g].id);
			set_header(x, name, f, false);
			fputs("elements = { ", x->out);
			for (size_t i = 0; i < cfg->ninstances; i++) {
				const struct sg_instance *in =
					&cfg->instances[i];

				if (!carries(in, (int)g))
					continue;
				for (size_t k = 0; k < in->nips; k++) {
					if (in->ips[k].family != f)
						continue;
					addr(buf, sizeof(buf), &in->ips[k],
					     false);
					fprintf(x->out, "%s%s",
						first ? "" : ", ", buf);
					first = false;
				}
			}
			fputs(" }\n\t}\n\n", x->out);
		}
	}
}

/* "tcp dport 22", "icmp type 3 icmp code 4", "meta l4proto 47", "". */
static bool proto_match(const struct sg_rule *r, int family, char *buf,
			size_t len)
{
	const char *pn;

	buf[0] = '\0';
	switch (r->proto) {
	case SG_PROTO_ALL:
		return true;
	case SG_PROTO_TCP:
	case SG_PROTO_UDP:
		pn = r->proto == SG_PROTO_TCP ? "tcp" : "udp";
		if (r->port_lo <= 0 && r->port_hi >= 65535)
			snprintf(buf, len, "meta l4proto %s ", pn);
		else if (r->port_lo == r->port_hi)
			snprintf(buf, len, "%s dport %d ", pn, r->port_lo);
		else
			snprintf(buf, len, "%s dport %d-%d ", pn, r->port_lo,
				 r->port_hi);
		return true;
	case SG_PROTO_ICMP:
	case SG_PROTO_ICMPV6:
		/* ICMP exists over IPv4 only, ICMPv6 over IPv6 only. */
		if ((r->proto == SG_PROTO_ICMP) != (family == 4))
			return false;
		pn = r->proto == SG_PROTO_ICMP ? "icmp" : "icmpv6";
		if (r->icmp_type == SG_ANY)
			snprintf(buf, len, "meta l4proto %s ",
				 r->proto == SG_PROTO_ICMP ? "icmp"
							   : "ipv6-icmp");
		else if (r->icmp_code == SG_ANY)
			snprintf(buf, len, "%s type %d ", pn, r->icmp_type);
		else
			snprintf(buf, len, "%s type %d %s code %d ", pn,
				 r->icmp_type, pn, r->icmp_code);
		return true;
	default:
		snprintf(buf, len, "meta l4proto %d ", r->proto);
		return true;
	}
}

static void rule_line(struct nft *x, const struct sg_group *g,
		      const struct sg_rule *r, int family, const char *peer)
{
	char pm[64], text[300], cm[128];

	char masked[64], rt[200];
	const char *at;

	if (!proto_match(r, family, pm, sizeof(pm)))
		return;
	/* The CIDR as enforced: 192.168.0.1/31 is matched as 192.168.0.0/31. */
	snprintf(rt, sizeof(rt), "%s", r->text);
	if (r->peer_kind == SG_PEER_CIDR && r->peer_text &&
	    strcmp(sg_prefix_str(&r->cidr, masked, sizeof(masked)),
		   r->peer_text) &&
	    (at = strstr(r->text, r->peer_text)))
		snprintf(rt, sizeof(rt), "%.*s%s%s", (int)(at - r->text),
			 r->text, masked, at + strlen(r->peer_text));
	snprintf(text, sizeof(text), "%s: %s%s%s", g->id, rt,
		 r->description ? " - " : "",
		 r->description ? r->description : "");
	comment(cm, sizeof(cm), text);
	fprintf(x->out, "\t\t%s%sreturn comment \"%s\"\n", peer, pm, cm);
}

static void emit_rule(struct nft *x, const struct sg_group *g,
		      const struct sg_rule *r)
{
	const struct sg_config *cfg = x->cfg;
	const char *way = r->dir == SG_DIR_IN ? "saddr" : "daddr";
	char peer[160], name[96], buf[64];
	bool any = false;
	int f;

	switch (r->peer_kind) {
	case SG_PEER_CIDR:
		f = r->cidr.family;
		if (r->cidr.len == 0)
			snprintf(peer, sizeof(peer), "meta nfproto %s ",
				 f == 4 ? "ipv4" : "ipv6");
		else {
			addr(buf, sizeof(buf), &r->cidr, true);
			snprintf(peer, sizeof(peer), "%s %s %s ",
				 f == 4 ? "ip" : "ip6", way, buf);
		}
		rule_line(x, g, r, f, peer);
		return;
	case SG_PEER_PREFIX_LIST: {
		const struct sg_prefix_list *pl =
			&cfg->prefix_lists[r->peer_index];

		for (f = 4; f <= 6; f += 2) {
			if (!has_family(pl->entries, pl->nentries, f))
				continue;
			ident(name, sizeof(name), f == 4 ? "pl4_" : "pl6_",
			      pl->id);
			snprintf(peer, sizeof(peer), "%s %s @%s ",
				 f == 4 ? "ip" : "ip6", way, name);
			rule_line(x, g, r, f, peer);
			any = true;
		}
		break;
	}
	case SG_PEER_GROUP:
		for (f = 4; f <= 6; f += 2) {
			if (!members_have(cfg, r->peer_index, f))
				continue;
			ident(name, sizeof(name), f == 4 ? "sg4_" : "sg6_",
			      cfg->groups[r->peer_index].id);
			snprintf(peer, sizeof(peer), "%s %s @%s ",
				 f == 4 ? "ip" : "ip6", way, name);
			rule_line(x, g, r, f, peer);
			any = true;
		}
		break;
	}
	if (!any) {
		char cm[300];

		comment(cm, sizeof(cm), r->text);
		fprintf(x->out,
			"\t\t# %s: %s: matches nothing (no addresses)\n", g->id,
			cm);
	}
}

static void emit_instance_chain(struct nft *x, const struct sg_instance *in,
				int dir)
{
	const struct sg_config *cfg = x->cfg;
	char name[96];

	ident(name, sizeof(name), dir == SG_DIR_IN ? "in_" : "out_", in->id);
	fprintf(x->out, "\tchain %s {\n", name);
	fprintf(x->out, "\t\t# %s %s: the union of its groups' rules\n", in->id,
		dir == SG_DIR_IN ? "inbound" : "outbound");
	fputs("\t\t# never filtered: neighbour discovery, router "
	      "solicitation/advertisement, DHCP\n"
	      "\t\ticmpv6 type { nd-router-solicit, nd-router-advert, "
	      "nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } return\n"
	      "\t\tudp sport { 67, 68 } udp dport { 67, 68 } return\n"
	      "\t\tudp sport { 546, 547 } udp dport { 546, 547 } return\n",
	      x->out);
	for (size_t k = 0; k < in->ngroups; k++) {
		const struct sg_group *g = &cfg->groups[in->groups[k]];

		for (size_t i = 0; i < g->nrules; i++)
			if (g->rules[i].dir == dir)
				emit_rule(x, g, &g->rules[i]);
	}
	fprintf(x->out,
		"\t\tcounter drop comment \"no security group of %s allows "
		"it: the client times out\"\n\t}\n\n",
		in->id);
}

static void emit_jumps(struct nft *x, const char *hook)
{
	const struct sg_config *cfg = x->cfg;
	bool fwd = !strcmp(hook, "forward");
	char set[96], chain[96];

	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];

		if (!x->inst_on[i])
			continue;
		for (int f = 4; f <= 6; f += 2) {
			if (!has_family(in->ips, in->nips, f))
				continue;
			ident(set, sizeof(set), f == 4 ? "addr4_" : "addr6_",
			      in->id);
			/* outbound first: on a router both may apply */
			if (fwd || !strcmp(hook, "output")) {
				ident(chain, sizeof(chain), "out_", in->id);
				fprintf(x->out, "\t\t%s saddr @%s jump %s\n",
					f == 4 ? "ip" : "ip6", set, chain);
			}
			if (fwd || !strcmp(hook, "input")) {
				ident(chain, sizeof(chain), "in_", in->id);
				fprintf(x->out, "\t\t%s daddr @%s jump %s\n",
					f == 4 ? "ip" : "ip6", set, chain);
			}
		}
	}
}

static void emit_base(struct nft *x, const char *hook)
{
	fprintf(x->out,
		"\tchain %s {\n"
		"\t\ttype filter hook %s priority filter; policy accept;\n",
		hook, hook);
	if (!strcmp(hook, "input"))
		fputs("\t\tiif lo accept\n", x->out);
	else if (!strcmp(hook, "output"))
		fputs("\t\toif lo accept\n", x->out);
	fputs("\t\t# replies and related ICMP errors (Path MTU Discovery) "
	      "of allowed flows\n"
	      "\t\tct state established,related accept\n",
	      x->out);
	emit_jumps(x, hook);
	fputs("\t}\n\n", x->out);
}

/*
 * Ids differing only in '-', '_' or '.' would share an nft name: refuse
 * rather than merge two instances' sets (or chains) silently.
 */
static int check_names(const struct sg_config *cfg, const bool *on,
		       const char *(*id)(const struct sg_config *, size_t),
		       size_t n, const char *what)
{
	char a[96], b[96];

	for (size_t i = 0; i < n; i++) {
		if (!on[i])
			continue;
		ident(a, sizeof(a), "", id(cfg, i));
		for (size_t k = i + 1; k < n; k++) {
			if (!on[k])
				continue;
			ident(b, sizeof(b), "", id(cfg, k));
			if (!strcmp(a, b)) {
				sg_err("%s %s and %s have the same nftables "
				       "name %s; rename one",
				       what, id(cfg, i), id(cfg, k), a);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static const char *inst_id(const struct sg_config *cfg, size_t i)
{
	return cfg->instances[i].id;
}

static const char *group_id(const struct sg_config *cfg, size_t i)
{
	return cfg->groups[i].id;
}

static const char *pl_id(const struct sg_config *cfg, size_t i)
{
	return cfg->prefix_lists[i].id;
}

int sg_export_nft(const struct sg_config *cfg, int only, FILE *out)
{
	struct nft x = {.cfg = cfg, .out = out};
	int rc = -ENOMEM;

	x.inst_on = calloc(cfg->ninstances + 1, sizeof(*x.inst_on));
	x.group_ref = calloc(cfg->ngroups + 1, sizeof(*x.group_ref));
	x.pl_ref = calloc(cfg->nprefix_lists + 1, sizeof(*x.pl_ref));
	if (!x.inst_on || !x.group_ref || !x.pl_ref)
		goto out;
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];

		if (only >= 0 && (size_t)only != i)
			continue;
		x.inst_on[i] = true;
		for (size_t k = 0; k < in->ngroups; k++) {
			const struct sg_group *g = &cfg->groups[in->groups[k]];

			for (size_t r = 0; r < g->nrules; r++) {
				if (g->rules[r].peer_kind == SG_PEER_GROUP)
					x.group_ref[g->rules[r].peer_index] =
						true;
				else if (g->rules[r].peer_kind ==
					 SG_PEER_PREFIX_LIST)
					x.pl_ref[g->rules[r].peer_index] = true;
			}
		}
	}

	rc = check_names(cfg, x.inst_on, inst_id, cfg->ninstances, "instances");
	if (!rc)
		rc = check_names(cfg, x.group_ref, group_id, cfg->ngroups,
				 "security groups");
	if (!rc)
		rc = check_names(cfg, x.pl_ref, pl_id, cfg->nprefix_lists,
				 "prefix lists");
	if (rc)
		goto out;
	fprintf(out,
		"#!/usr/sbin/nft -f\n"
		"# sgctl export nft: the security groups of %s (%s) as "
		"netfilter rules.\n"
		"# Apply with `nft -f FILE` in the instance's network "
		"namespace "
		"or on a router\n"
		"# that forwards its traffic; traffic of no instance is not "
		"touched.\n"
		"# Conntrack is the kernel's: its timeouts, not the config's; "
		"every flow is tracked.\n\n"
		"table inet %s\n"
		"delete table inet %s\n\n"
		"table inet %s {\n",
		cfg->vpc ? cfg->vpc : "vpc-default",
		cfg->region ? cfg->region : "local", SG_NFT_TABLE, SG_NFT_TABLE,
		SG_NFT_TABLE);
	emit_sets(&x);
	for (size_t i = 0; i < cfg->ninstances; i++) {
		if (!x.inst_on[i])
			continue;
		emit_instance_chain(&x, &cfg->instances[i], SG_DIR_IN);
		emit_instance_chain(&x, &cfg->instances[i], SG_DIR_OUT);
	}
	emit_base(&x, "input");
	emit_base(&x, "output");
	emit_base(&x, "forward");
	fputs("}\n", out);
	rc = fflush(out) || ferror(out) ? -EIO : 0;
out:
	free(x.inst_on);
	free(x.group_ref);
	free(x.pl_ref);
	return rc;
}
