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
	const char *instance;
	int dir; /* -1 unset */
	int proto;
	int family;
	__u8 remote[16];
	const char *remote_text;
	long port, itype, icode; /* -1 unset */
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
};

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
		{NULL, 0, NULL, 0},
	};
	const char *proto = NULL;
	int opt, d;
	long v;

	memset(a, 0, sizeof(*a));
	a->dir = -1;
	a->port = a->itype = a->icode = -1;
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
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (!a->instance)
		return sg_usage_err(argv[0], "--instance is required");
	if (a->dir < 0)
		return sg_usage_err(argv[0],
				    "--inbound or --outbound is required");
	if (!proto)
		return sg_usage_err(argv[0], "--protocol is required");
	if (!a->remote_text)
		return sg_usage_err(argv[0], "--remote is required");

	if (!strcasecmp(proto, "tcp"))
		a->proto = SG_PROTO_TCP;
	else if (!strcasecmp(proto, "udp"))
		a->proto = SG_PROTO_UDP;
	else if (!strcasecmp(proto, "icmp"))
		a->proto = SG_PROTO_ICMP;
	else if (!strcasecmp(proto, "icmpv6"))
		a->proto = SG_PROTO_ICMPV6;
	else if (!strcasecmp(proto, "all") || !strcmp(proto, "-1"))
		return sg_usage_err(argv[0],
				    "--protocol: a flow has one protocol "
				    "(tcp, udp, icmp, icmpv6 or a number)");
	else if (!parse_num(proto, 0, 255, &v))
		a->proto = (int)v;
	else
		return sg_usage_err(argv[0],
				    "--protocol: unknown protocol '%s' (tcp, "
				    "udp, icmp, icmpv6 or a number 0-255)",
				    proto);

	if (a->proto == SG_PROTO_TCP || a->proto == SG_PROTO_UDP) {
		if (a->port < 0)
			return sg_usage_err(argv[0],
					    "--port is required for tcp and "
					    "udp");
	} else if (a->port >= 0) {
		return sg_usage_err(argv[0],
				    "--port applies only to tcp and udp");
	}
	if (a->proto == SG_PROTO_ICMP && a->family == 6)
		return sg_usage_err(argv[0],
				    "icmp is IPv4's; for an IPv6 remote use "
				    "--protocol icmpv6");
	if (a->proto == SG_PROTO_ICMPV6 && a->family == 4)
		return sg_usage_err(argv[0],
				    "icmpv6 is IPv6's; for an IPv4 remote use "
				    "--protocol icmp");
	if (a->family == 6 && SG_PROTO_IS_IPV6_EXT(a->proto))
		return sg_usage_err(argv[0],
				    "protocol %d is an IPv6 extension header, "
				    "not a flow's protocol",
				    a->proto);
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

struct check_ctx {
	struct check_args a;
	struct sg_config cfg;
	struct sg_compiled comp;
	bool compiled;
	size_t inst;
	__u32 slot;
	__u8 local[16];
	struct sg_ref_pkt pkt;
	struct sg_ref_result model;
	struct sg_kverdict kv;
	__s64 ct_in_use;
	__u32 ct_max;
};

static const char *dir_name(int d)
{
	return d == SG_DIR_IN ? "inbound" : "outbound";
}

/* "tcp port 22", "icmp type 8 code 0", "protocol 47" */
static void what(const struct check_ctx *x, char *buf, size_t len)
{
	const struct sg_ref_pkt *p = &x->pkt;
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
static size_t order_matches(const struct check_ctx *x, int *idx)
{
	size_t n = 0;
	int first = -1;

	if (x->kv.matched && x->kv.rule_ref < x->comp.nrule_refs) {
		const struct sg_rule_ref *rr =
			&x->comp.rule_refs[x->kv.rule_ref];

		for (size_t i = 0; i < x->model.nmatches; i++)
			if (x->model.matches[i].group == rr->group &&
			    x->model.matches[i].rule == rr->rule)
				first = (int)i;
	}
	if (first >= 0)
		idx[n++] = first;
	for (size_t i = 0; i < x->model.nmatches; i++)
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

static void print_plain(const struct check_ctx *x)
{
	const struct sg_instance *in = &x->cfg.instances[x->inst];
	const struct sg_ref_result *m = &x->model;
	const char *peer = x->pkt.dir == SG_DIR_IN ? "from" : "to";
	char w[64], gl[200];
	int *idx;

	what(x, w, sizeof(w));
	printf("%s %s %s %s %s, instance %s\n", m->accept ? "ACCEPT" : "REJECT",
	       dir_name(x->pkt.dir), w, peer, x->a.remote_text, in->id);

	if (m->reason == SG_REF_INFRA) {
		printf("  never filtered: security groups do not apply to "
		       "neighbour discovery, router solicitation/"
		       "advertisement or DHCP\n");
	} else if (m->reason == SG_REF_BY_RULE || m->reason == SG_REF_CT_FULL) {
		idx = calloc(m->nmatches ? m->nmatches : 1, sizeof(*idx));
		size_t n = idx ? order_matches(x, idx) : 0;

		for (size_t i = 0; i < n; i++) {
			const struct sg_ref_hit *h = &m->matches[idx[i]];
			const struct sg_rule *r = rule_at(x, h->group, h->rule);

			group_label(&x->cfg.groups[h->group], gl, sizeof(gl));
			printf("  %s group %s\n    rule: %s\n",
			       i ? "also allowed by" : "allowed by", gl,
			       r->text);
			if (r->description && *r->description)
				printf("    description: %s\n", r->description);
		}
		free(idx);
		if (m->reason == SG_REF_CT_FULL)
			printf("  but the instance's conntrack table is full "
			       "(%lld of %u in use): new flows are dropped "
			       "and counted as conntrack_allowance_exceeded; "
			       "the client sees a time-out\n",
			       (long long)x->ct_in_use, x->ct_max);
		else if (m->tracked)
			printf("  the flow is tracked: replies pass whatever "
			       "the %s rules say\n",
			       x->pkt.dir == SG_DIR_IN ? "outbound"
						       : "inbound");
		else if (x->pkt.proto == SG_PROTO_TCP ||
			 x->pkt.proto == SG_PROTO_UDP)
			printf("  untracked flow (a rule open to the world, "
			       "and all traffic allowed the other way): every "
			       "packet is judged by the rules\n");
		else
			printf("  not tracked: every such packet is judged by "
			       "the rules\n");
		if (m->accept && x->pkt.proto == SG_PROTO_TCP)
			printf("  a client that gets \"connection refused\" "
			       "got through the security groups: nothing "
			       "listens on port %d there\n",
			       x->pkt.dport);
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

				if (r->dir == x->pkt.dir &&
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

				sg_ref_explain_miss(&x->cfg, r, &x->pkt,
						    h->miss, why, sizeof(why));
				printf("    %s: %s", x->cfg.groups[h->group].id,
				       r->text);
				if (r->description && *r->description)
					printf("  # %s", r->description);
				printf("\n      %s\n", why);
			}
		} else {
			printf("  no rule comes close: no %s rule of these "
			       "groups has the right %s or the right "
			       "protocol and port\n",
			       dir_name(x->pkt.dir),
			       x->pkt.dir == SG_DIR_IN ? "source"
						       : "destination");
		}
	}
	printf("  checked: kernel (%s, dry run: %s) and reference model "
	       "agree\n",
	       x->pkt.dir == SG_DIR_IN ? "XDP" : "TC",
	       sg_counter_name(x->kv.counter));
}

static void json_rule(struct sg_json *j, const struct check_ctx *x,
		      const struct sg_ref_hit *h)
{
	const struct sg_group *g = &x->cfg.groups[h->group];
	const struct sg_rule *r = rule_at(x, h->group, h->rule);

	sg_json_begin_object(j);
	sg_json_kv_string(j, "group", g->id);
	sg_json_kv_string(j, "group_name", g->name);
	sg_json_kv_string(j, "rule", r->text);
	sg_json_kv_string(j, "description", r->description);
	if (h->miss) {
		char why[512];

		sg_ref_explain_miss(&x->cfg, r, &x->pkt, h->miss, why,
				    sizeof(why));
		sg_json_key(j, "mismatch");
		sg_json_begin_array(j);
		if (h->miss & SG_REF_MISS_PEER)
			sg_json_string(j, x->pkt.dir == SG_DIR_IN
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

static void print_json(const struct check_ctx *x)
{
	const struct sg_ref_result *m = &x->model;
	struct sg_json *j = sg_json_new(stdout, true);
	const char *reason = m->reason == SG_REF_BY_RULE   ? "rule"
			     : m->reason == SG_REF_INFRA   ? "not_filtered"
			     : m->reason == SG_REF_CT_FULL ? "conntrack_full"
							   : "no_rule";
	char pb[16];

	sg_json_begin_object(j);
	sg_json_kv_string(j, "verdict", m->accept ? "ACCEPT" : "REJECT");
	sg_json_kv_string(j, "reason", reason);
	sg_json_kv_string(j, "instance", x->cfg.instances[x->inst].id);
	sg_json_kv_string(j, "direction", dir_name(x->pkt.dir));
	sg_json_kv_string(j, "protocol",
			  sg_ref_proto_name(x->pkt.proto, pb, sizeof(pb)));
	sg_json_kv_int(j, "protocol_number", x->pkt.proto);
	sg_json_kv_string(j, "remote", x->a.remote_text);
	if (x->pkt.proto == SG_PROTO_TCP || x->pkt.proto == SG_PROTO_UDP)
		sg_json_kv_int(j, "port", x->pkt.dport);
	if (sg_ref_is_icmp(x->pkt.family, x->pkt.proto)) {
		sg_json_kv_int(j, "icmp_type", x->pkt.icmp_type);
		sg_json_kv_int(j, "icmp_code", x->pkt.icmp_code);
	}
	if (m->reason == SG_REF_BY_RULE || m->reason == SG_REF_CT_FULL) {
		int *idx = calloc(m->nmatches ? m->nmatches : 1, sizeof(*idx));
		size_t n = idx ? order_matches(x, idx) : 0;

		if (n) {
			const struct sg_ref_hit *h = &m->matches[idx[0]];
			const struct sg_rule *r = rule_at(x, h->group, h->rule);

			sg_json_kv_string(j, "group",
					  x->cfg.groups[h->group].id);
			sg_json_kv_string(j, "rule", r->text);
			sg_json_kv_string(j, "description", r->description);
		}
		sg_json_kv_bool(j, "tracked", m->tracked);
		sg_json_key(j, "matching_rules");
		sg_json_begin_array(j);
		for (size_t i = 0; i < n; i++)
			json_rule(j, x, &m->matches[idx[i]]);
		sg_json_end_array(j);
		free(idx);
	}
	if (!m->accept) {
		sg_json_kv_string(j, "client_sees", "time-out");
		sg_json_key(j, "closest_rules");
		sg_json_begin_array(j);
		for (size_t i = 0; i < m->nnear; i++)
			json_rule(j, x, &m->near[i]);
		sg_json_end_array(j);
	}
	sg_json_key(j, "conntrack");
	sg_json_begin_object(j);
	sg_json_kv_int(j, "in_use", x->ct_in_use);
	sg_json_kv_uint(j, "max_entries", x->ct_max);
	sg_json_end_object(j);
	sg_json_key(j, "kernel");
	sg_json_begin_object(j);
	sg_json_kv_string(j, "program", x->pkt.dir == SG_DIR_IN ? "xdp" : "tc");
	sg_json_kv_string(j, "counter", sg_counter_name(x->kv.counter));
	if (x->kv.matched)
		sg_json_kv_uint(j, "rule_ref", x->kv.rule_ref);
	sg_json_end_object(j);
	sg_json_kv_bool(j, "model_agrees", true);
	sg_json_end_object(j);
	sg_json_destroy(j);
}

static int load_config(struct sg_state *st, struct check_ctx *x)
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

int cmd_check(int argc, char **argv)
{
	struct check_ctx x = {};
	struct sg_state st = {};
	struct sg_kcheck k = {};
	struct sg_inst inst;
	char why[512];
	int rc = SG_EXIT_ERR, slot, idx, err;

	err = parse_args(argc, argv, &x.a);
	if (err)
		return err;
	if (sg_need_root(argv[0]))
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		sg_err("check: no config loaded (pin directory %s)",
		       sg_opts.pin_dir);
		return SG_EXIT_ERR;
	}
	if (sg_state_open_ro(&st, sg_opts.pin_dir))
		return SG_EXIT_ERR;
	if (load_config(&st, &x))
		goto out;
	idx = sg_config_find_instance(&x.cfg, x.a.instance);
	if (idx < 0) {
		sg_err("check: no instance %s in the loaded config",
		       x.a.instance);
		goto out;
	}
	x.inst = (size_t)idx;
	slot = sg_slot_get(&st, x.a.instance, false);
	if (slot < 0) {
		sg_err("check: instance %s is not enforced on this host (the "
		       "config has more instances than slots, and it names "
		       "no interface): attach it first",
		       x.a.instance);
		goto out;
	}
	x.slot = (__u32)slot;
	if (sg_ct_count_read(&st, x.slot, &x.ct_in_use) ||
	    sg_inst_read(&st, x.slot, &inst))
		goto out;
	x.ct_max = inst.ct_max;

	x.pkt.dir = x.a.dir;
	x.pkt.family = x.a.family;
	memcpy(x.pkt.remote, x.a.remote, 16);
	x.pkt.proto = x.a.proto;
	x.pkt.sport = CHECK_SPORT;
	x.pkt.dport = (int)x.a.port;
	x.pkt.icmp_type = (int)x.a.itype;
	x.pkt.icmp_code = (int)x.a.icode;
	sg_ref_local_addr(&x.cfg.instances[x.inst], x.pkt.family, x.local);

	err = sg_ref_decide(&x.cfg, x.inst, &x.pkt,
			    x.ct_in_use >= (__s64)x.ct_max, &x.model);
	if (err) {
		sg_err("check: reference model: %s", strerror(-err));
		goto out;
	}
	if (sg_kcheck_open(&k, sg_opts.pin_dir, x.slot))
		goto out;
	for (int t = 0; t < CHECK_TRIES; t++) {
		x.pkt.sport = CHECK_SPORT + t * 1009;
		if (sg_kcheck_run(&k, &x.pkt, x.local, &x.kv))
			goto out;
		if (x.kv.counter != SG_CNT_ACCEPT_ESTABLISHED &&
		    x.kv.counter != SG_CNT_ACCEPT_RELATED)
			break;
	}
	if (!sg_check_agree(&x.comp, &x.model, &x.kv, why, sizeof(why))) {
		sg_err("check: the kernel and the reference model disagree: "
		       "%s",
		       why);
		sg_err("check: this is a bug in sgctl (the datapath, the "
		       "compiler or the model); please report it with the "
		       "config and this command line");
		goto out;
	}
	if (sg_opts.json)
		print_json(&x);
	else
		print_plain(&x);
	rc = SG_EXIT_OK;
out:
	sg_kcheck_close(&k);
	sg_state_close(&st);
	sg_ref_result_free(&x.model);
	if (x.compiled)
		sg_compiled_free(&x.comp);
	sg_config_free(&x.cfg);
	return rc;
}
