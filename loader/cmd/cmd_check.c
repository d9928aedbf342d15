// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * check: the verdict a new flow would get, and why.
 *
 * Two independent answers are computed and must agree:
 *  - the kernel's: the datapath programs, loaded again for the instance's
 *    slot with sg_dry_run set and the pinned maps shared, run on a
 *    synthesised first packet with BPF_PROG_TEST_RUN. In dry-run mode they
 *    decide against the live policy and write nothing (conntrack,
 *    counters, fragments, flow logs, timer) and leave the decision in .bss;
 *  - the reference model's (refmodel.c): a loop over the instance's
 *    groups and rules on the config model rebuilt from the stored text.
 * A disagreement is reported as an error (exit 1), never hidden.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/cmd.h"
#include "compile/compile.h"
#include "util/diag.h"
#include "out/json.h"
#include "state/state.h"
#include "input/inputs.h"
#include "config/model.h"
#include "enforce/apply.h"
#include "enforce/kcheck.h"
#include "enforce/plan.h"
#include "enforce/stored.h"

/*
 * The synthesised packet's source port (TCP/UDP) or echo identifier: an
 * ephemeral one. Should a tracked flow use it already, the next is tried:
 * the question is about a new flow.
 */
#define CHECK_SPORT 40000
#define CHECK_TRIES 8

/* ------------------------------------------------------------ the CLI */

struct check_args {
	const char *instance;  /* one end: --instance */
	const char *from, *to; /* a path: --from, --to */
	int dir;	       /* -1 unset */
	int proto;
	int family;	 /* of --remote; 0 unset */
	int want_family; /* --family; 0 unset */
	__u8 remote[16];
	const char *remote_text;
	long port, itype, icode; /* -1 unset */
	const char **files;	 /* --config FILE...: a candidate */
	size_t nfiles;
};

static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

enum {
	OPT_INBOUND = 0x100,
	OPT_OUTBOUND,
	OPT_INSTANCE,
	OPT_PROTOCOL,
	OPT_REMOTE,
	OPT_PORT,
	OPT_ICMP_TYPE,
	OPT_ICMP_CODE,
	OPT_CONFIG,
	OPT_FROM,
	OPT_TO,
	OPT_FAMILY,
};

static int parse_proto(const char *cmd, const char *proto, int *out)
{
	long v;

	if (!strcasecmp(proto, "tcp"))
		*out = SG_PROTO_TCP;
	else if (!strcasecmp(proto, "udp"))
		*out = SG_PROTO_UDP;
	else if (!strcasecmp(proto, "icmp"))
		*out = SG_PROTO_ICMP;
	else if (!strcasecmp(proto, "icmpv6"))
		*out = SG_PROTO_ICMPV6;
	else if (!strcasecmp(proto, "all") || !strcmp(proto, "-1"))
		return sg_usage_err(cmd,
				    "--protocol: a flow has one protocol "
				    "(tcp, udp, icmp, icmpv6 or a number)");
	else if (!parse_num(proto, 0, 255, &v))
		*out = (int)v;
	else
		return sg_usage_err(cmd,
				    "--protocol: unknown protocol '%s' (tcp, "
				    "udp, icmp, icmpv6 or a number 0-255)",
				    proto);
	return 0;
}

/* The checks that need the flow's family (known later for a path). */
static int check_family(const char *cmd, struct check_args *a, int family)
{
	if (a->proto == SG_PROTO_ICMP && family == 6)
		return sg_usage_err(cmd,
				    "icmp is IPv4's; for an IPv6 remote use "
				    "--protocol icmpv6");
	if (a->proto == SG_PROTO_ICMPV6 && family == 4)
		return sg_usage_err(cmd,
				    "icmpv6 is IPv6's; for an IPv4 remote use "
				    "--protocol icmp");
	if (family == 6 && SG_PROTO_IS_IPV6_EXT(a->proto))
		return sg_usage_err(cmd,
				    "protocol %d is an IPv6 extension header, "
				    "not a flow's protocol",
				    a->proto);
	return 0;
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
	static const struct option opts[] = {
		{"inbound", no_argument, NULL, OPT_INBOUND},
		{"outbound", no_argument, NULL, OPT_OUTBOUND},
		{"instance", required_argument, NULL, OPT_INSTANCE},
		{"protocol", required_argument, NULL, OPT_PROTOCOL},
		{"remote", required_argument, NULL, OPT_REMOTE},
		{"port", required_argument, NULL, OPT_PORT},
		{"icmp-type", required_argument, NULL, OPT_ICMP_TYPE},
		{"icmp-code", required_argument, NULL, OPT_ICMP_CODE},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"family", required_argument, NULL, OPT_FAMILY},
		{NULL, 0, NULL, 0},
	};
	const char *proto = NULL;
	bool path;
	int opt, d, err;
	long v;

	memset(a, 0, sizeof(*a));
	a->dir = -1;
	a->port = a->itype = a->icode = -1;
	a->files = calloc((size_t)argc + 1, sizeof(*a->files));
	if (!a->files) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_INBOUND:
		case OPT_OUTBOUND:
			d = opt == OPT_INBOUND ? SG_DIR_IN : SG_DIR_OUT;
			if (a->dir >= 0 && a->dir != d)
				return sg_usage_err(argv[0],
						    "--inbound or --outbound, "
						    "not both");
			a->dir = d;
			break;
		case OPT_INSTANCE:
			a->instance = optarg;
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_CONFIG:
			a->files[a->nfiles++] = optarg;
			break;
		case OPT_FAMILY:
			if (parse_num(optarg, 4, 6, &v) || v == 5)
				return sg_usage_err(argv[0],
						    "--family: 4 or 6, not "
						    "'%s'",
						    optarg);
			a->want_family = (int)v;
			break;
		case OPT_PROTOCOL:
			proto = optarg;
			break;
		case OPT_REMOTE:
			a->remote_text = optarg;
			if (inet_pton(AF_INET, optarg, a->remote) == 1)
				a->family = 4;
			else if (inet_pton(AF_INET6, optarg, a->remote) == 1)
				a->family = 6;
			else
				return sg_usage_err(argv[0],
						    "--remote: '%s' is not an "
						    "IPv4 or IPv6 address",
						    optarg);
			break;
		case OPT_PORT:
			if (parse_num(optarg, 0, 65535, &a->port))
				return sg_usage_err(argv[0],
						    "--port: '%s' is not a "
						    "port 0-65535",
						    optarg);
			break;
		case OPT_ICMP_TYPE:
			if (parse_num(optarg, 0, 255, &a->itype))
				return sg_usage_err(argv[0],
						    "--icmp-type: '%s' is not "
						    "0-255",
						    optarg);
			break;
		case OPT_ICMP_CODE:
			if (parse_num(optarg, 0, 255, &a->icode))
				return sg_usage_err(argv[0],
						    "--icmp-code: '%s' is not "
						    "0-255",
						    optarg);
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	/* --config FILE... : the files after the first one too. */
	if (optind < argc && !a->nfiles)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	while (optind < argc)
		a->files[a->nfiles++] = argv[optind++];

	path = a->from || a->to;
	if (path) {
		if (!a->from || !a->to)
			return sg_usage_err(argv[0],
					    "a path needs --from and --to");
		if (a->instance || a->remote_text || a->dir >= 0)
			return sg_usage_err(argv[0],
					    "--from/--to judge both ends: "
					    "no --instance, --remote, "
					    "--inbound or --outbound");
	} else {
		if (!a->instance)
			return sg_usage_err(argv[0],
					    "--instance (or --from and --to) "
					    "is required");
		if (a->dir < 0)
			return sg_usage_err(argv[0], "--inbound or "
						     "--outbound is required");
		if (!a->remote_text)
			return sg_usage_err(argv[0], "--remote is required");
		if (a->want_family && a->want_family != a->family)
			return sg_usage_err(argv[0],
					    "--family %d but --remote is an "
					    "IPv%d address",
					    a->want_family, a->family);
	}
	if (!proto)
		return sg_usage_err(argv[0], "--protocol is required");
	err = parse_proto(argv[0], proto, &a->proto);
	if (err)
		return err;

	if (a->proto == SG_PROTO_TCP || a->proto == SG_PROTO_UDP) {
		if (a->port < 0)
			return sg_usage_err(argv[0],
					    "--port is required for tcp and "
					    "udp");
	} else if (a->port >= 0) {
		return sg_usage_err(argv[0],
				    "--port applies only to tcp and udp");
	}
	if (a->family) {
		err = check_family(argv[0], a, a->family);
		if (err)
			return err;
	}
	if (a->want_family) {
		err = check_family(argv[0], a, a->want_family);
		if (err)
			return err;
	}
	if (a->proto == SG_PROTO_ICMP || a->proto == SG_PROTO_ICMPV6) {
		if (a->icode >= 0 && a->itype < 0)
			return sg_usage_err(argv[0],
					    "--icmp-code needs --icmp-type");
		/* An echo request by default: what ping sends. */
		if (a->itype < 0)
			a->itype = a->proto == SG_PROTO_ICMP ? 8 : 128;
		if (a->icode < 0)
			a->icode = 0;
	} else if (a->itype >= 0 || a->icode >= 0) {
		return sg_usage_err(argv[0],
				    "--icmp-type and --icmp-code apply only to "
				    "icmp and icmpv6");
	}
	return 0;
}

/* One end judged: an instance, a direction, a remote address. */
struct check_side {
	size_t inst;
	int slot; /* in the loaded state; -1: none */
	__u8 local[16];
	char remote_text[INET6_ADDRSTRLEN];
	struct sg_ref_pkt pkt;
	struct sg_ref_result model;
	struct sg_kverdict kv;
	__s64 ct_in_use;
	__u32 ct_max;
};

struct check_ctx {
	struct check_args a;
	struct sg_config cfg;
	struct sg_compiled comp;
	bool compiled;
	char *label; /* the candidate's files; NULL: the loaded config */
	struct check_side side[2];
	size_t nsides;
};

static const char *dir_name(int d)
{
	return d == SG_DIR_IN ? "inbound" : "outbound";
}

/* "tcp port 22", "icmp type 8 code 0", "protocol 47" */
static void what(const struct sg_ref_pkt *p, char *buf, size_t len)
{
	char pb[16];

	if (p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP)
		snprintf(buf, len, "%s port %d",
			 sg_ref_proto_name(p->proto, pb, sizeof(pb)), p->dport);
	else if (sg_ref_is_icmp(p->family, p->proto))
		snprintf(buf, len, "%s type %d code %d",
			 sg_ref_proto_name(p->proto, pb, sizeof(pb)),
			 p->icmp_type, p->icmp_code);
	else
		snprintf(buf, len, "protocol %d", p->proto);
}

static const struct sg_rule *rule_at(const struct check_ctx *x, int g, int r)
{
	return &x->cfg.groups[g].rules[r];
}

/* The rule the kernel picked first, then the model's other matches. */
static size_t order_matches(const struct check_ctx *x,
			    const struct check_side *s, int *idx)
{
	size_t n = 0;
	int first = -1;

	if (s->kv.matched && s->kv.rule_ref < x->comp.nrule_refs) {
		const struct sg_rule_ref *rr =
			&x->comp.rule_refs[s->kv.rule_ref];

		for (size_t i = 0; i < s->model.nmatches; i++)
			if (s->model.matches[i].group == rr->group &&
			    s->model.matches[i].rule == rr->rule)
				first = (int)i;
	}
	if (first >= 0)
		idx[n++] = first;
	for (size_t i = 0; i < s->model.nmatches; i++)
		if ((int)i != first)
			idx[n++] = (int)i;
	return n;
}

static void group_label(const struct sg_group *g, char *buf, size_t len)
{
	if (g->name && strcmp(g->name, g->id))
		snprintf(buf, len, "%s (%s)", g->id, g->name);
	else
		snprintf(buf, len, "%s", g->id);
}

/* lead: "" for one end; "source: " or "destination: " on a path. */
static void print_side(const struct check_ctx *x, const struct check_side *s,
		       const char *lead)
{
	const struct sg_instance *in = &x->cfg.instances[s->inst];
	const struct sg_ref_result *m = &s->model;
	const char *peer = s->pkt.dir == SG_DIR_IN ? "from" : "to";
	char w[64], gl[200];
	int *idx;

	what(&s->pkt, w, sizeof(w));
	printf("%s%s %s %s %s %s, instance %s\n", lead,
	       m->accept ? "ACCEPT" : "REJECT", dir_name(s->pkt.dir), w, peer,
	       s->remote_text, in->id);

	if (m->reason == SG_REF_INFRA) {
		printf("  never filtered: security groups do not apply to "
		       "neighbour discovery, router solicitation/"
		       "advertisement or DHCP\n");
	} else if (m->reason == SG_REF_BY_RULE || m->reason == SG_REF_CT_FULL) {
		idx = calloc(m->nmatches ? m->nmatches : 1, sizeof(*idx));
		size_t n = idx ? order_matches(x, s, idx) : 0;

		for (size_t i = 0; i < n; i++) {
			const struct sg_ref_hit *h = &m->matches[idx[i]];
			const struct sg_rule *r = rule_at(x, h->group, h->rule);

			group_label(&x->cfg.groups[h->group], gl, sizeof(gl));
			printf("  %s group %s\n    rule: %s\n",
			       i ? "also allowed by" : "allowed by", gl,
			       r->text);
			printf("    rule id: %s\n", r->id);
			if (r->description && *r->description)
				printf("    description: %s\n", r->description);
		}
		free(idx);
		if (m->reason == SG_REF_CT_FULL)
			printf("  but the instance's conntrack table is full "
			       "(%lld of %u in use): new flows are dropped "
			       "and counted as conntrack_allowance_exceeded; "
			       "the client sees a time-out\n",
			       (long long)s->ct_in_use, s->ct_max);
		else if (m->tracked)
			printf("  the flow is tracked: replies pass whatever "
			       "the %s rules say\n",
			       s->pkt.dir == SG_DIR_IN ? "outbound"
						       : "inbound");
		else if (s->pkt.proto == SG_PROTO_TCP ||
			 s->pkt.proto == SG_PROTO_UDP)
			printf("  untracked flow (a rule open to the world, "
			       "and all traffic allowed the other way): every "
			       "packet is judged by the rules\n");
		else
			printf("  not tracked: every such packet is judged by "
			       "the rules\n");
		if (m->accept && s->pkt.proto == SG_PROTO_TCP && x->nsides == 1)
			printf("  a client that gets \"connection refused\" "
			       "got through the security groups: nothing "
			       "listens on port %d there\n",
			       s->pkt.dport);
	} else {
		printf("  no security group of %s allows it (groups:", in->id);
		for (size_t g = 0; g < in->ngroups; g++)
			printf("%s %s", g ? "," : "",
			       x->cfg.groups[in->groups[g]].id);
		printf(")\n  the packet is dropped silently: the client sees a "
		       "time-out, not \"connection refused\"\n");
		/* Rules naming a group of another account or VPC. */
		for (size_t g = 0; g < in->ngroups; g++) {
			const struct sg_group *gr =
				&x->cfg.groups[in->groups[g]];

			for (size_t k = 0; k < gr->nrules; k++) {
				const struct sg_rule *r = &gr->rules[k];

				if (r->dir == s->pkt.dir &&
				    r->peer_kind == SG_PEER_GROUP &&
				    x->cfg.groups[r->peer_index].outside)
					printf("  %s: %s: the members of %s "
					       "are outside these inputs "
					       "(%s)\n",
					       gr->id, r->text, r->peer_text,
					       x->cfg.groups[r->peer_index]
						       .outside);
			}
		}
		if (m->nnear) {
			printf("  closest rules:\n");
			for (size_t i = 0; i < m->nnear; i++) {
				const struct sg_ref_hit *h = &m->near[i];
				const struct sg_rule *r =
					rule_at(x, h->group, h->rule);
				char why[512];

				sg_ref_explain_miss(&x->cfg, r, &s->pkt,
						    h->miss, why, sizeof(why));
				printf("    %s: %s", x->cfg.groups[h->group].id,
				       r->text);
				if (r->description && *r->description)
					printf("  # %s", r->description);
				printf("\n      %s (%s)\n", why, r->id);
			}
		} else {
			printf("  no rule comes close: no %s rule of these "
			       "groups has the right %s or the right "
			       "protocol and port\n",
			       dir_name(s->pkt.dir),
			       s->pkt.dir == SG_DIR_IN ? "source"
						       : "destination");
		}
	}
	if (x->label)
		printf("  checked: kernel (%s, dry run on a scratch copy of "
		       "%s: %s) and reference model agree; the loaded config "
		       "is untouched\n",
		       s->pkt.dir == SG_DIR_IN ? "XDP" : "TC", x->label,
		       sg_counter_name(s->kv.counter));
	else
		printf("  checked: kernel (%s, dry run: %s) and reference "
		       "model agree\n",
		       s->pkt.dir == SG_DIR_IN ? "XDP" : "TC",
		       sg_counter_name(s->kv.counter));
}

static void print_path(const struct check_ctx *x)
{
	const struct check_side *src = &x->side[0], *dst = &x->side[1];
	bool ok = src->model.accept && dst->model.accept;
	char w[64], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *why;

	what(&src->pkt, w, sizeof(w));
	snprintf(a, sizeof(a), "%s", dst->remote_text); /* the source's */
	snprintf(b, sizeof(b), "%s", src->remote_text); /* the dest's */
	if (ok)
		why = "the source's outbound and the destination's inbound "
		      "rules both allow it";
	else if (!src->model.accept && !dst->model.accept)
		why = "neither the source's outbound nor the destination's "
		      "inbound rules allow it";
	else if (!src->model.accept)
		why = "the source's outbound rules stop it";
	else
		why = "the destination's inbound rules stop it";
	printf("%s %s from %s (%s) to %s (%s): %s\n", ok ? "ACCEPT" : "REJECT",
	       w, x->cfg.instances[src->inst].id, a,
	       x->cfg.instances[dst->inst].id, b, why);
	print_side(x, src, "source: ");
	print_side(x, dst, "destination: ");
}

static void json_rule(struct sg_json *j, const struct check_ctx *x,
		      const struct check_side *s, const struct sg_ref_hit *h)
{
	const struct sg_group *g = &x->cfg.groups[h->group];
	const struct sg_rule *r = rule_at(x, h->group, h->rule);

	sg_json_begin_object(j);
	sg_json_kv_string(j, "group", g->id);
	sg_json_kv_string(j, "group_name", g->name);
	sg_json_kv_string(j, "rule_id", r->id);
	sg_json_kv_string(j, "rule", r->text);
	sg_json_kv_string(j, "description", r->description);
	if (h->miss) {
		char why[512];

		sg_ref_explain_miss(&x->cfg, r, &s->pkt, h->miss, why,
				    sizeof(why));
		sg_json_key(j, "mismatch");
		sg_json_begin_array(j);
		if (h->miss & SG_REF_MISS_PEER)
			sg_json_string(j, s->pkt.dir == SG_DIR_IN
						  ? "source"
						  : "destination");
		if (h->miss & SG_REF_MISS_PROTO)
			sg_json_string(j, "protocol");
		if (h->miss & SG_REF_MISS_PORT)
			sg_json_string(j, "port");
		if (h->miss & SG_REF_MISS_ICMP)
			sg_json_string(j, "icmp_type");
		sg_json_end_array(j);
		sg_json_kv_string(j, "explanation", why);
	}
	sg_json_end_object(j);
}

/* The members of one end's object (check's whole answer for one end). */
static void json_side(struct sg_json *j, const struct check_ctx *x,
		      const struct check_side *s)
{
	const struct sg_ref_result *m = &s->model;
	const char *reason = m->reason == SG_REF_BY_RULE   ? "rule"
			     : m->reason == SG_REF_INFRA   ? "not_filtered"
			     : m->reason == SG_REF_CT_FULL ? "conntrack_full"
							   : "no_rule";
	const struct sg_instance *in = &x->cfg.instances[s->inst];
	char pb[16];

	sg_json_kv_string(j, "verdict", m->accept ? "ACCEPT" : "REJECT");
	sg_json_kv_string(j, "reason", reason);
	sg_json_kv_string(j, "instance", in->id);
	sg_json_kv_string(j, "direction", dir_name(s->pkt.dir));
	sg_json_kv_string(j, "protocol",
			  sg_ref_proto_name(s->pkt.proto, pb, sizeof(pb)));
	sg_json_kv_int(j, "protocol_number", s->pkt.proto);
	sg_json_kv_string(j, "remote", s->remote_text);
	if (s->pkt.proto == SG_PROTO_TCP || s->pkt.proto == SG_PROTO_UDP)
		sg_json_kv_int(j, "port", s->pkt.dport);
	if (sg_ref_is_icmp(s->pkt.family, s->pkt.proto)) {
		sg_json_kv_int(j, "icmp_type", s->pkt.icmp_type);
		sg_json_kv_int(j, "icmp_code", s->pkt.icmp_code);
	}
	sg_json_key(j, "groups");
	sg_json_begin_array(j);
	for (size_t g = 0; g < in->ngroups; g++)
		sg_json_string(j, x->cfg.groups[in->groups[g]].id);
	sg_json_end_array(j);
	if (m->reason == SG_REF_BY_RULE || m->reason == SG_REF_CT_FULL) {
		int *idx = calloc(m->nmatches ? m->nmatches : 1, sizeof(*idx));
		size_t n = idx ? order_matches(x, s, idx) : 0;

		if (n) {
			const struct sg_ref_hit *h = &m->matches[idx[0]];
			const struct sg_rule *r = rule_at(x, h->group, h->rule);

			sg_json_kv_string(j, "group",
					  x->cfg.groups[h->group].id);
			sg_json_kv_string(j, "rule_id", r->id);
			sg_json_kv_string(j, "rule", r->text);
			sg_json_kv_string(j, "description", r->description);
		}
		sg_json_kv_bool(j, "tracked", m->tracked);
		sg_json_key(j, "matching_rules");
		sg_json_begin_array(j);
		for (size_t i = 0; i < n; i++)
			json_rule(j, x, s, &m->matches[idx[i]]);
		sg_json_end_array(j);
		free(idx);
	}
	if (!m->accept) {
		sg_json_kv_string(j, "client_sees", "time-out");
		sg_json_key(j, "closest_rules");
		sg_json_begin_array(j);
		for (size_t i = 0; i < m->nnear; i++)
			json_rule(j, x, s, &m->near[i]);
		sg_json_end_array(j);
	}
	sg_json_key(j, "conntrack");
	sg_json_begin_object(j);
	sg_json_kv_int(j, "in_use", s->ct_in_use);
	sg_json_kv_uint(j, "max_entries", s->ct_max);
	sg_json_end_object(j);
	sg_json_key(j, "kernel");
	sg_json_begin_object(j);
	sg_json_kv_string(j, "program", s->pkt.dir == SG_DIR_IN ? "xdp" : "tc");
	sg_json_kv_string(j, "counter", sg_counter_name(s->kv.counter));
	if (s->kv.matched)
		sg_json_kv_uint(j, "rule_ref", s->kv.rule_ref);
	sg_json_kv_bool(j, "scratch", x->label != NULL);
	sg_json_end_object(j);
	sg_json_kv_bool(j, "model_agrees", true);
}

static void print_json(const struct check_ctx *x)
{
	struct sg_json *j = sg_json_new(stdout, true);

	sg_json_begin_object(j);
	if (x->nsides == 1) {
		json_side(j, x, &x->side[0]);
	} else {
		const struct check_side *src = &x->side[0];
		char pb[16];

		sg_json_kv_string(j, "verdict",
				  src->model.accept && x->side[1].model.accept
					  ? "ACCEPT"
					  : "REJECT");
		sg_json_kv_string(
			j, "protocol",
			sg_ref_proto_name(src->pkt.proto, pb, sizeof(pb)));
		sg_json_kv_int(j, "protocol_number", src->pkt.proto);
		if (src->pkt.proto == SG_PROTO_TCP ||
		    src->pkt.proto == SG_PROTO_UDP)
			sg_json_kv_int(j, "port", src->pkt.dport);
		if (sg_ref_is_icmp(src->pkt.family, src->pkt.proto)) {
			sg_json_kv_int(j, "icmp_type", src->pkt.icmp_type);
			sg_json_kv_int(j, "icmp_code", src->pkt.icmp_code);
		}
		sg_json_kv_int(j, "family", src->pkt.family);
		for (size_t i = 0; i < 2; i++) {
			sg_json_key(j, i ? "destination" : "source");
			sg_json_begin_object(j);
			sg_json_kv_string(j, "address",
					  x->side[!i].remote_text);
			json_side(j, x, &x->side[i]);
			sg_json_end_object(j);
		}
	}
	sg_json_kv_string(j, "config", x->label ? x->label : "loaded");
	sg_json_end_object(j);
	sg_json_destroy(j);
}

/* ------------------------------------------------------ the config */

static int load_stored(struct sg_state *st, struct check_ctx *x)
{
	struct sg_plan plan;
	struct sg_diag diag;
	int err;

	err = sg_stored_config(st, &x->cfg, NULL);
	if (err == -ENOENT)
		sg_err("check: no config loaded");
	if (err)
		return err;
	/* As the host compiled it: instances without a slot are remote. */
	err = sg_plan_host(st, &x->cfg, SG_PLAN_HELD, NULL, &plan);
	sg_plan_free(&plan);
	if (err)
		return err;
	/* Only for rule_ref -> rule: the verdict is not taken from it. */
	sg_diag_init(&diag);
	err = sg_compile(&x->cfg, &x->comp, &diag);
	if (err) {
		sg_diag_print(&diag, stderr);
		sg_err("cannot compile the stored config");
	} else {
		x->compiled = true;
	}
	sg_diag_free(&diag);
	return err;
}

/* The candidate: parsed and validated as load would; compiled later,
 * once the ends are known. */
static int load_candidate(struct check_ctx *x)
{
	struct sg_diag diag;
	size_t diag_errors;
	int err;

	x->label = sg_files_label(x->a.files, x->a.nfiles);
	if (!x->label) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	sg_diag_init(&diag);
	err = sg_config_parse_files(x->a.files, x->a.nfiles, &x->cfg, &diag);
	sg_diag_print(&diag, stderr);
	diag_errors = diag.nerrors;
	if (!err && diag.nerrors)
		err = -EINVAL;
	sg_diag_free(&diag);
	if (err && !diag_errors)
		sg_err("check: %s: %s", x->label, strerror(-err));
	return err;
}

/* Only the ends judged are compiled in: the rest lend their addresses. */
static int compile_candidate(struct check_ctx *x)
{
	int err;

	for (size_t i = 0; i < x->cfg.ninstances; i++)
		x->cfg.instances[i].remote = true;
	for (size_t i = 0; i < x->nsides; i++)
		x->cfg.instances[x->side[i].inst].remote = false;
	err = sg_enforce_compile(&x->cfg, &x->comp);
	if (!err)
		x->compiled = true;
	return err;
}

static int find_instance(struct check_ctx *x, const char *id, size_t *out)
{
	int idx = sg_config_find_instance(&x->cfg, id);

	if (idx < 0) {
		if (x->label)
			sg_err("check: no instance %s in %s", id, x->label);
		else
			sg_err("check: no instance %s in the loaded config",
			       id);
		return -ENOENT;
	}
	*out = (size_t)idx;
	return 0;
}

static bool has_family(const struct sg_instance *in, int family)
{
	for (size_t k = 0; k < in->nips; k++)
		if (in->ips[k].family == family)
			return true;
	return false;
}

/* The first address of the family (sg_ref_local_addr's too), as text. */
static void first_addr(const struct sg_instance *in, int family, __u8 *out,
		       char *text)
{
	sg_ref_local_addr(in, family, out);
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, out, text,
		  INET6_ADDRSTRLEN);
}

/* A path: the source's egress to the destination's address, the
 * destination's ingress from the source's, in one family. */
static int setup_path(struct check_ctx *x)
{
	const struct sg_instance *src, *dst;
	__u8 addr[16];
	int family = x->a.want_family;

	x->nsides = 2;
	if (find_instance(x, x->a.from, &x->side[0].inst) ||
	    find_instance(x, x->a.to, &x->side[1].inst))
		return -ENOENT;
	src = &x->cfg.instances[x->side[0].inst];
	dst = &x->cfg.instances[x->side[1].inst];
	if (!family && x->a.proto == SG_PROTO_ICMP)
		family = 4;
	if (!family && x->a.proto == SG_PROTO_ICMPV6)
		family = 6;
	if (!family)
		family = has_family(src, 4) && has_family(dst, 4) ? 4 : 6;
	if (check_family("check", &x->a, family))
		return -EINVAL;
	for (size_t i = 0; i < 2; i++) {
		const struct sg_instance *in = i ? dst : src;

		if (!has_family(in, family)) {
			sg_err("check: instance %s has no IPv%d address%s",
			       in->id, family,
			       x->a.want_family ? ""
						: " (both ends need one of "
						  "the same family)");
			return -EINVAL;
		}
	}
	x->side[0].pkt.dir = SG_DIR_OUT;
	x->side[1].pkt.dir = SG_DIR_IN;
	/* Each end's remote is the other end's address. */
	first_addr(dst, family, addr, x->side[0].remote_text);
	memcpy(x->side[0].pkt.remote, addr, 16);
	first_addr(src, family, addr, x->side[1].remote_text);
	memcpy(x->side[1].pkt.remote, addr, 16);
	for (size_t i = 0; i < 2; i++)
		x->side[i].pkt.family = family;
	return 0;
}

static int setup_one(struct check_ctx *x)
{
	struct check_side *s = &x->side[0];

	x->nsides = 1;
	if (find_instance(x, x->a.instance, &s->inst))
		return -ENOENT;
	s->pkt.dir = x->a.dir;
	s->pkt.family = x->a.family;
	memcpy(s->pkt.remote, x->a.remote, 16);
	snprintf(s->remote_text, sizeof(s->remote_text), "%s",
		 x->a.remote_text);
	return 0;
}

/* ------------------------------------------------------------- judging */

static int judge(struct check_ctx *x, struct check_side *s, struct sg_kcheck *k)
{
	char why[512];
	int err;

	err = sg_ref_decide(&x->cfg, s->inst, &s->pkt,
			    s->ct_in_use >= (__s64)s->ct_max, &s->model);
	if (err) {
		sg_err("check: reference model: %s", strerror(-err));
		return err;
	}
	for (int t = 0; t < CHECK_TRIES; t++) {
		s->pkt.sport = CHECK_SPORT + t * 1009;
		err = sg_kcheck_run(k, &s->pkt, s->local, &s->kv);
		if (err)
			return err;
		if (s->kv.counter != SG_CNT_ACCEPT_ESTABLISHED &&
		    s->kv.counter != SG_CNT_ACCEPT_RELATED)
			break;
	}
	if (!sg_check_agree(&x->comp, &s->model, &s->kv, why, sizeof(why))) {
		sg_err("check: the kernel and the reference model disagree "
		       "on %s %s: %s",
		       x->cfg.instances[s->inst].id, dir_name(s->pkt.dir), why);
		sg_err("check: this is a bug in sgctl (the datapath, the "
		       "compiler or the model); please report it with the "
		       "config and this command line");
		return -EPROTO;
	}
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct check_ctx x = {};
	struct sg_state st = {};
	struct sg_kcheck k[2] = {};
	struct sg_kscratch ks = {};
	struct sg_inst inst;
	bool have_state;
	size_t insts[2];
	__s64 cts[2];
	int rc = SG_EXIT_ERR, err;

	err = parse_args(argc, argv, &x.a);
	if (err) {
		free(x.a.files);
		return err;
	}
	if (sg_need_root(argv[0]))
		goto out;
	/* A candidate needs no loaded config: it may be a file for a
	 * machine with nothing loaded yet. */
	have_state = sg_state_exists(sg_opts.pin_dir);
	if (!have_state && !x.a.nfiles) {
		sg_err("check: no config loaded (pin directory %s)",
		       sg_opts.pin_dir);
		goto out;
	}
	if (have_state && sg_state_open_ro(&st, sg_opts.pin_dir))
		goto out;
	err = x.a.nfiles ? load_candidate(&x) : load_stored(&st, &x);
	if (err)
		goto out;
	err = x.a.from ? setup_path(&x) : setup_one(&x);
	if (err)
		goto out;

	for (size_t i = 0; i < x.nsides; i++) {
		struct check_side *s = &x.side[i];
		const char *id = x.cfg.instances[s->inst].id;

		s->pkt.proto = x.a.proto;
		s->pkt.dport = (int)x.a.port;
		s->pkt.icmp_type = (int)x.a.itype;
		s->pkt.icmp_code = (int)x.a.icode;
		sg_ref_local_addr(&x.cfg.instances[s->inst], s->pkt.family,
				  s->local);
		s->slot = have_state ? sg_slot_get(&st, id, false) : -ENOENT;
		if (s->slot < 0 && s->slot != -ENOENT)
			goto out;
		if (s->slot < 0 && !x.label) {
			sg_err("check: instance %s is not enforced on this "
			       "host (the config has more instances than "
			       "slots, and it names no interface): attach it "
			       "first",
			       id);
			goto out;
		}
		/* The tracked flows it has now count against the candidate's
		 * limit too. */
		if (s->slot >= 0 &&
		    sg_ct_count_read(&st, (__u32)s->slot, &s->ct_in_use))
			goto out;
		if (!x.label) {
			if (sg_inst_read(&st, (__u32)s->slot, &inst))
				goto out;
			s->ct_max = inst.ct_max;
		}
		insts[i] = s->inst;
		cts[i] = s->ct_in_use;
	}

	if (x.label) {
		if (compile_candidate(&x))
			goto out;
		for (size_t i = 0; i < x.nsides; i++)
			x.side[i].ct_max =
				x.comp.insts[x.side[i].inst].inst.ct_max;
		if (sg_kscratch_open(&ks, sg_opts.pin_dir, &x.cfg, &x.comp,
				     insts, cts, x.nsides))
			goto out;
		for (size_t i = 0; i < x.nsides; i++)
			if (judge(&x, &x.side[i], &ks.k[i]))
				goto out;
	} else {
		for (size_t i = 0; i < x.nsides; i++) {
			if (sg_kcheck_open(&k[i], sg_opts.pin_dir,
					   (__u32)x.side[i].slot) ||
			    judge(&x, &x.side[i], &k[i]))
				goto out;
		}
	}
	if (sg_opts.json)
		print_json(&x);
	else if (x.nsides == 2)
		print_path(&x);
	else
		print_side(&x, &x.side[0], "");
	rc = SG_EXIT_OK;
out:
	for (size_t i = 0; i < 2; i++) {
		sg_kcheck_close(&k[i]);
		sg_ref_result_free(&x.side[i].model);
	}
	sg_kscratch_close(&ks);
	sg_state_close(&st);
	if (x.compiled)
		sg_compiled_free(&x.comp);
	sg_config_free(&x.cfg);
	free(x.label);
	free(x.a.files);
	return rc;
}
