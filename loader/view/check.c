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
 * A disagreement is reported as an error (exit 1), never hidden. The
 * console, asked about an instance not enforced on its host, gets the
 * model's answer alone and says so ("kernel": null).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "view/check.h"
#include "compile/compile.h"
#include "compile/refmodel.h"
#include "config/model.h"
#include "enforce/apply.h"
#include "enforce/kcheck.h"
#include "enforce/plan.h"
#include "enforce/stored.h"
#include "out/json.h"
#include "state/state.h"
#include "util/diag.h"

/*
 * The synthesised packet's source port (TCP/UDP) or echo identifier: an
 * ephemeral one. Should a tracked flow use it already, the next is tried:
 * the question is about a new flow.
 */
#define CHECK_SPORT 40000
#define CHECK_TRIES 8

#define CHECK_MAX_ERR 2

/* ------------------------------------------------------------ the flow */

void sg_check_args_init(struct sg_check_args *a)
{
	memset(a, 0, sizeof(*a));
	a->dir = -1;
	a->proto = -1;
	a->port = a->itype = a->icode = -1;
}

int sg_check_parse_proto(const char *s, const char *opt, int *proto,
			 char *msg, size_t len)
{
	char *end;
	long v;

	if (!strcasecmp(s, "tcp"))
		*proto = SG_PROTO_TCP;
	else if (!strcasecmp(s, "udp"))
		*proto = SG_PROTO_UDP;
	else if (!strcasecmp(s, "icmp"))
		*proto = SG_PROTO_ICMP;
	else if (!strcasecmp(s, "icmpv6"))
		*proto = SG_PROTO_ICMPV6;
	else if (!strcasecmp(s, "all") || !strcmp(s, "-1"))
		goto all;
	else {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || *end || end == s || v < 0 || v > 255) {
			snprintf(msg, len,
				 "%sprotocol: unknown protocol '%s' (tcp, "
				 "udp, icmp, icmpv6 or a number 0-255)",
				 opt, s);
			return -EINVAL;
		}
		*proto = (int)v;
	}
	return 0;
all:
	snprintf(msg, len,
		 "%sprotocol: a flow has one protocol (tcp, udp, icmp, "
		 "icmpv6 or a number)",
		 opt);
	return -EINVAL;
}

/* The checks that need the flow's family (known later for a path). */
static int check_family(const struct sg_check_args *a, int family, char *msg,
			size_t len)
{
	if (a->proto == SG_PROTO_ICMP && family == 6)
		snprintf(msg, len,
			 "icmp is IPv4's; for an IPv6 remote use "
			 "--protocol icmpv6");
	else if (a->proto == SG_PROTO_ICMPV6 && family == 4)
		snprintf(msg, len,
			 "icmpv6 is IPv6's; for an IPv4 remote use "
			 "--protocol icmp");
	else if (family == 6 && SG_PROTO_IS_IPV6_EXT(a->proto))
		snprintf(msg, len,
			 "protocol %d is an IPv6 extension header, not a "
			 "flow's protocol",
			 a->proto);
	else
		return 0;
	return -EINVAL;
}

int sg_check_args_finish(struct sg_check_args *a, const char *opt, char *msg,
			 size_t len)
{
	if (a->proto < 0) {
		snprintf(msg, len, "%sprotocol is required", opt);
		return -EINVAL;
	}
	if (a->proto == SG_PROTO_TCP || a->proto == SG_PROTO_UDP) {
		if (a->port < 0) {
			snprintf(msg, len,
				 "%sport is required for tcp and udp", opt);
			return -EINVAL;
		}
	} else if (a->port >= 0) {
		snprintf(msg, len, "%sport applies only to tcp and udp", opt);
		return -EINVAL;
	}
	if (a->family && check_family(a, a->family, msg, len))
		return -EINVAL;
	if (a->want_family && check_family(a, a->want_family, msg, len))
		return -EINVAL;
	if (a->proto == SG_PROTO_ICMP || a->proto == SG_PROTO_ICMPV6) {
		if (a->icode >= 0 && a->itype < 0) {
			snprintf(msg, len, "%sicmp-code needs %sicmp-type",
				 opt, opt);
			return -EINVAL;
		}
		/* An echo request by default: what ping sends. */
		if (a->itype < 0)
			a->itype = a->proto == SG_PROTO_ICMP ? 8 : 128;
		if (a->icode < 0)
			a->icode = 0;
	} else if (a->itype >= 0 || a->icode >= 0) {
		snprintf(msg, len,
			 "%sicmp-type and %sicmp-code apply only to icmp and "
			 "icmpv6",
			 opt, opt);
		return -EINVAL;
	}
	return 0;
}

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

struct sg_check {
	struct sg_check_args a;
	const struct sg_config *cfg; /* judged on: &own, or the caller's */
	struct sg_config own;	     /* the loaded config, or a candidate */
	struct sg_compiled comp;
	bool compiled;
	bool kernel; /* the kernel was asked; else the model alone */
	char *label; /* the candidate's files; NULL: the loaded config */
	const char *model_label; /* "config" of a model-only answer */
	struct check_side side[2];
	size_t nsides;
	bool addrs; /* a path between the two addresses asked about */
	__u8 src_addr[16], dst_addr[16];
	char err[CHECK_MAX_ERR][512]; /* the failure's messages */
	size_t nerr;
};

/* A failure's message, kept for the caller (the CLI prints it, the
 * console answers with it). */
__attribute__((format(printf, 2, 3))) static void xerr(struct sg_check *x,
							 const char *fmt, ...)
{
	va_list ap;

	if (x->nerr >= CHECK_MAX_ERR)
		return;
	va_start(ap, fmt);
	vsnprintf(x->err[x->nerr++], sizeof(x->err[0]), fmt, ap);
	va_end(ap);
}

const char *sg_check_error(const struct sg_check *x, size_t i)
{
	return x && i < x->nerr ? x->err[i] : NULL;
}

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

static const struct sg_rule *rule_at(const struct sg_check *x, int g, int r)
{
	return &x->cfg->groups[g].rules[r];
}

/* The rule the kernel picked first, then the model's other matches. */
static size_t order_matches(const struct sg_check *x,
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
static void print_side(const struct sg_check *x, const struct check_side *s,
		       const char *lead)
{
	const struct sg_instance *in = &x->cfg->instances[s->inst];
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

			group_label(&x->cfg->groups[h->group], gl, sizeof(gl));
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
			       x->cfg->groups[in->groups[g]].id);
		printf(")\n  the packet is dropped silently: the client sees a "
		       "time-out, not \"connection refused\"\n");
		/* Rules naming a group of another account or VPC. */
		for (size_t g = 0; g < in->ngroups; g++) {
			const struct sg_group *gr =
				&x->cfg->groups[in->groups[g]];

			for (size_t k = 0; k < gr->nrules; k++) {
				const struct sg_rule *r = &gr->rules[k];

				if (r->dir == s->pkt.dir &&
				    r->peer_kind == SG_PEER_GROUP &&
				    x->cfg->groups[r->peer_index].outside)
					printf("  %s: %s: the members of %s "
					       "are outside these inputs "
					       "(%s)\n",
					       gr->id, r->text, r->peer_text,
					       x->cfg->groups[r->peer_index]
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

				sg_ref_explain_miss(x->cfg, r, &s->pkt,
						    h->miss, why, sizeof(why));
				printf("    %s: %s", x->cfg->groups[h->group].id,
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

static void print_path(const struct sg_check *x)
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
	       w, x->cfg->instances[src->inst].id, a,
	       x->cfg->instances[dst->inst].id, b, why);
	print_side(x, src, "source: ");
	print_side(x, dst, "destination: ");
}

static void json_rule(struct sg_json *j, const struct sg_check *x,
		      const struct check_side *s, const struct sg_ref_hit *h)
{
	const struct sg_group *g = &x->cfg->groups[h->group];
	const struct sg_rule *r = rule_at(x, h->group, h->rule);

	sg_json_begin_object(j);
	sg_json_kv_string(j, "group", g->id);
	sg_json_kv_string(j, "group_name", g->name);
	sg_json_kv_string(j, "rule_id", r->id);
	sg_json_kv_string(j, "rule", r->text);
	sg_json_kv_string(j, "description", r->description);
	if (h->miss) {
		char why[512];

		sg_ref_explain_miss(x->cfg, r, &s->pkt, h->miss, why,
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
static void json_side(struct sg_json *j, const struct sg_check *x,
		      const struct check_side *s)
{
	const struct sg_ref_result *m = &s->model;
	const char *reason = m->reason == SG_REF_BY_RULE   ? "rule"
			     : m->reason == SG_REF_INFRA   ? "not_filtered"
			     : m->reason == SG_REF_CT_FULL ? "conntrack_full"
							   : "no_rule";
	const struct sg_instance *in = &x->cfg->instances[s->inst];
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
		sg_json_string(j, x->cfg->groups[in->groups[g]].id);
	sg_json_end_array(j);
	if (m->reason == SG_REF_BY_RULE || m->reason == SG_REF_CT_FULL) {
		int *idx = calloc(m->nmatches ? m->nmatches : 1, sizeof(*idx));
		size_t n = idx ? order_matches(x, s, idx) : 0;

		if (n) {
			const struct sg_ref_hit *h = &m->matches[idx[0]];
			const struct sg_rule *r = rule_at(x, h->group, h->rule);

			sg_json_kv_string(j, "group",
					  x->cfg->groups[h->group].id);
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
	if (!x->kernel) {
		/* Not enforced here: the model's answer alone. */
		sg_json_key(j, "conntrack");
		sg_json_null(j);
		sg_json_key(j, "kernel");
		sg_json_null(j);
		sg_json_key(j, "model_agrees");
		sg_json_null(j);
		return;
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

void sg_check_json(const struct sg_check *x, struct sg_json *j)
{
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
	sg_json_kv_string(j, "config",
			  x->label    ? x->label
			  : x->kernel ? "loaded"
				      : x->model_label);
	sg_json_end_object(j);
}

/* ------------------------------------------------------ the config */

static int load_stored(struct sg_state *st, struct sg_check *x)
{
	struct sg_plan plan;
	struct sg_diag diag;
	int err;

	x->cfg = &x->own;
	err = sg_stored_config(st, &x->own, NULL);
	if (err == -ENOENT)
		xerr(x, "check: no config loaded");
	if (err)
		return err;
	/* As the host compiled it: instances without a slot are remote. */
	err = sg_plan_host(st, &x->own, SG_PLAN_HELD, NULL, &plan);
	sg_plan_free(&plan);
	if (err)
		return err;
	/* Only for rule_ref -> rule: the verdict is not taken from it. */
	sg_diag_init(&diag);
	err = sg_compile(&x->own, &x->comp, &diag);
	if (err) {
		sg_diag_print(&diag, stderr);
		xerr(x, "cannot compile the stored config");
	} else {
		x->compiled = true;
	}
	sg_diag_free(&diag);
	return err;
}

/*
 * The console's: the kernel's rule refs read back without compiling. Refs
 * are in model order over every group (compile.c: a ref means the same
 * rule whichever instances a host compiles), so the table is the running
 * count of rules; compiling 1,000 groups for each question would hold the
 * console's lock for as long.
 */
static int refs_only(struct sg_check *x)
{
	size_t n = 0, k = 0;

	for (size_t g = 0; g < x->cfg->ngroups; g++)
		n += x->cfg->groups[g].nrules;
	x->comp.rule_refs = calloc(n ? n : 1, sizeof(*x->comp.rule_refs));
	if (!x->comp.rule_refs) {
		xerr(x, "out of memory");
		return -ENOMEM;
	}
	for (size_t g = 0; g < x->cfg->ngroups; g++)
		for (size_t r = 0; r < x->cfg->groups[g].nrules; r++, k++) {
			x->comp.rule_refs[k].group = (int)g;
			x->comp.rule_refs[k].rule = (int)r;
		}
	x->comp.nrule_refs = n;
	x->compiled = true;
	return 0;
}

/* The candidate: parsed and validated as load would; compiled later,
 * once the ends are known. */
static int load_candidate(struct sg_check *x)
{
	struct sg_diag diag;
	size_t diag_errors;
	int err;

	x->cfg = &x->own;
	x->label = strdup(x->a.files_label ? x->a.files_label : "");
	if (!x->label) {
		xerr(x, "out of memory");
		return -ENOMEM;
	}
	sg_diag_init(&diag);
	err = sg_config_parse_files(x->a.files, x->a.nfiles, &x->own, &diag);
	sg_diag_print(&diag, stderr);
	diag_errors = diag.nerrors;
	if (!err && diag.nerrors)
		err = -EINVAL;
	sg_diag_free(&diag);
	if (err && !diag_errors)
		xerr(x, "check: %s: %s", x->label, strerror(-err));
	return err;
}

/* Only the ends judged are compiled in: the rest lend their addresses. */
static int compile_candidate(struct sg_check *x)
{
	int err;

	for (size_t i = 0; i < x->own.ninstances; i++)
		x->own.instances[i].remote = true;
	for (size_t i = 0; i < x->nsides; i++)
		x->own.instances[x->side[i].inst].remote = false;
	err = sg_enforce_compile(&x->own, &x->comp);
	if (!err)
		x->compiled = true;
	return err;
}

static int find_instance(struct sg_check *x, const char *id, size_t *out)
{
	int idx = sg_config_find_instance(x->cfg, id);

	if (idx < 0) {
		if (x->label)
			xerr(x, "check: no instance %s in %s", id, x->label);
		else if (x->cfg != &x->own)
			xerr(x, "check: no instance %s in the %s config", id,
			     x->model_label);
		else
			xerr(x, "check: no instance %s in the loaded config",
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
static int setup_path(struct sg_check *x)
{
	const struct sg_instance *src, *dst;
	__u8 addr[16];
	int family = x->a.want_family;

	x->nsides = 2;
	if (find_instance(x, x->a.from, &x->side[0].inst) ||
	    find_instance(x, x->a.to, &x->side[1].inst))
		return -ENOENT;
	src = &x->cfg->instances[x->side[0].inst];
	dst = &x->cfg->instances[x->side[1].inst];
	if (!family && x->a.proto == SG_PROTO_ICMP)
		family = 4;
	if (!family && x->a.proto == SG_PROTO_ICMPV6)
		family = 6;
	if (!family)
		family = has_family(src, 4) && has_family(dst, 4) ? 4 : 6;
	if (check_family(&x->a, family, x->err[0], sizeof(x->err[0]))) {
		x->nerr = 1;
		return -EDOM;
	}
	for (size_t i = 0; i < 2; i++) {
		const struct sg_instance *in = i ? dst : src;

		if (!has_family(in, family)) {
			xerr(x, "check: instance %s has no IPv%d address%s",
			       in->id, family,
			       x->a.want_family ? ""
						: " (both ends need one of "
						  "the same family)");
			return -EINVAL;
		}
	}
	x->side[0].pkt.dir = SG_DIR_OUT;
	x->side[1].pkt.dir = SG_DIR_IN;
	/* Each end's remote is the other end's address: the first of the
	 * family, or the two addresses asked about. */
	if (x->addrs) {
		memcpy(x->side[0].pkt.remote, x->dst_addr, 16);
		memcpy(x->side[1].pkt.remote, x->src_addr, 16);
		snprintf(x->side[0].remote_text, INET6_ADDRSTRLEN, "%s",
			 x->a.dst);
		snprintf(x->side[1].remote_text, INET6_ADDRSTRLEN, "%s",
			 x->a.src);
	} else {
		first_addr(dst, family, addr, x->side[0].remote_text);
		memcpy(x->side[0].pkt.remote, addr, 16);
		first_addr(src, family, addr, x->side[1].remote_text);
		memcpy(x->side[1].pkt.remote, addr, 16);
	}
	for (size_t i = 0; i < 2; i++)
		x->side[i].pkt.family = family;
	return 0;
}

static int setup_one(struct sg_check *x)
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

static int judge(struct sg_check *x, struct check_side *s, struct sg_kcheck *k)
{
	char why[512];
	int err;

	err = sg_ref_decide(x->cfg, s->inst, &s->pkt,
			    s->ct_in_use >= (__s64)s->ct_max, &s->model);
	if (err) {
		xerr(x, "check: reference model: %s", strerror(-err));
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
		xerr(x, "check: the kernel and the reference model disagree "
		       "on %s %s: %s",
		       x->cfg->instances[s->inst].id, dir_name(s->pkt.dir), why);
		xerr(x, "check: this is a bug in sgctl (the datapath, the "
		       "compiler or the model); please report it with the "
		       "config and this command line");
		return -EPROTO;
	}
	return 0;
}

/* The model alone: the instance is not enforced on this host. */
static int judge_model(struct sg_check *x, struct check_side *s)
{
	int err = sg_ref_decide(x->cfg, s->inst, &s->pkt, false, &s->model);

	if (err)
		xerr(x, "check: reference model: %s", strerror(-err));
	return err;
}

/* ------------------------------------------------ two addresses (console) */

static int parse_addr(const char *s, __u8 *out)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 6;
	return 0;
}

/* The first instance one of whose addresses is addr; -1: none. */
static int instance_by_addr(const struct sg_config *cfg, int family,
			    const __u8 *addr)
{
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];

		for (size_t k = 0; k < in->nips; k++)
			if (in->ips[k].family == family &&
			    !memcmp(in->ips[k].addr, addr,
				    family == 4 ? 4 : 16))
				return (int)i;
	}
	return -1;
}

/*
 * src -> dst as check's own forms: a path when both are instances'
 * addresses, else the inbound side of dst's instance (remote src) or the
 * outbound side of src's (remote dst).
 */
static int resolve_addrs(struct sg_check *x)
{
	struct sg_check_args *a = &x->a;
	int fs, fd, is, id;

	fs = parse_addr(a->src, x->src_addr);
	fd = parse_addr(a->dst, x->dst_addr);
	if (!fs || !fd) {
		xerr(x, "%s: '%s' is not an IPv4 or IPv6 address",
		     fs ? "dst" : "src", fs ? a->dst : a->src);
		return -EDOM;
	}
	if (fs != fd) {
		xerr(x, "src and dst: an IPv%d and an IPv%d address", fs, fd);
		return -EDOM;
	}
	if (check_family(a, fs, x->err[x->nerr], sizeof(x->err[0]))) {
		x->nerr++;
		return -EDOM;
	}
	is = instance_by_addr(x->cfg, fs, x->src_addr);
	id = instance_by_addr(x->cfg, fd, x->dst_addr);
	a->instance = a->from = a->to = NULL;
	a->family = fs;
	if (is >= 0 && id >= 0) {
		a->from = x->cfg->instances[is].id;
		a->to = x->cfg->instances[id].id;
		a->want_family = fs;
		x->addrs = true;
	} else if (id >= 0) {
		a->instance = x->cfg->instances[id].id;
		a->dir = SG_DIR_IN;
		memcpy(a->remote, x->src_addr, 16);
		a->remote_text = a->src;
	} else if (is >= 0) {
		a->instance = x->cfg->instances[is].id;
		a->dir = SG_DIR_OUT;
		memcpy(a->remote, x->dst_addr, 16);
		a->remote_text = a->dst;
	} else {
		xerr(x,
		     "check: neither %s nor %s is an instance's address in "
		     "the %s config",
		     a->src, a->dst, x->label ? x->label : x->model_label);
		return -ENOENT;
	}
	return 0;
}

static int setup(struct sg_check *x)
{
	int err;

	memset(x->side, 0, sizeof(x->side));
	x->nsides = 0;
	x->addrs = false;
	if (x->a.src && x->a.dst) {
		err = resolve_addrs(x);
		if (err)
			return err;
	}
	return x->a.from ? setup_path(x) : setup_one(x);
}

/* ------------------------------------------------------------ the answer */

static void fill_pkt(struct sg_check *x, struct check_side *s)
{
	s->pkt.proto = x->a.proto;
	s->pkt.dport = (int)x->a.port;
	s->pkt.icmp_type = (int)x->a.itype;
	s->pkt.icmp_code = (int)x->a.icode;
	sg_ref_local_addr(&x->cfg->instances[s->inst], s->pkt.family,
			  s->local);
}

/* The console's question on its own config: the model's answer, unless
 * every end is enforced here (then the CLI's, kernel and all). */
static int model_only(struct sg_check *x, const struct sg_check_src *src,
		      bool *done)
{
	bool here = src->st != NULL;
	int err;

	*done = false;
	x->cfg = src->cfg;
	err = setup(x);
	if (err)
		return err;
	for (size_t i = 0; i < x->nsides && here; i++)
		if (sg_slot_get(src->st, x->cfg->instances[x->side[i].inst].id,
				false) < 0)
			here = false;
	if (here)
		return 0;
	*done = true;
	for (size_t i = 0; i < x->nsides; i++) {
		fill_pkt(x, &x->side[i]);
		err = judge_model(x, &x->side[i]);
		if (err)
			return err;
	}
	return 0;
}

int sg_check_run(const struct sg_check_args *a, const struct sg_check_src *src,
		 struct sg_check **out)
{
	struct sg_check *x = calloc(1, sizeof(*x));
	struct sg_state *st = src->st;
	struct sg_kcheck k[2] = {};
	struct sg_kscratch ks = {};
	struct sg_inst inst;
	size_t insts[2];
	__s64 cts[2];
	bool done;
	int err;

	*out = x;
	if (!x)
		return -ENOMEM;
	x->a = *a;
	x->model_label = src->cfg_label ? src->cfg_label : "loaded";
	if (src->cfg) {
		err = model_only(x, src, &done);
		if (err || done)
			return err;
		x->a = *a;
	}
	/* A candidate needs no loaded config: it may be a file for a
	 * machine with nothing loaded yet. */
	if (!st && !x->a.nfiles) {
		xerr(x, "check: no config loaded (pin directory %s)",
		     src->pin_dir);
		return -ENOENT;
	}
	if (src->cfg && src->cfg_loaded) {
		/* The console's config is the one loaded here. */
		x->cfg = src->cfg;
		err = refs_only(x);
	} else if (src->cfg) {
		err = sg_stored_config(st, &x->own, NULL);
		if (err == -ENOENT)
			xerr(x, "check: no config loaded");
		x->cfg = &x->own;
		if (!err)
			err = refs_only(x);
	} else {
		err = x->a.nfiles ? load_candidate(x) : load_stored(st, x);
	}
	if (err)
		return err;
	err = setup(x);
	if (err)
		return err;

	for (size_t i = 0; i < x->nsides; i++) {
		struct check_side *s = &x->side[i];
		const char *id = x->cfg->instances[s->inst].id;

		fill_pkt(x, s);
		s->slot = st ? sg_slot_get(st, id, false) : -ENOENT;
		if (s->slot < 0 && s->slot != -ENOENT)
			return s->slot;
		if (s->slot < 0 && !x->label) {
			xerr(x,
			     "check: instance %s is not enforced on this "
			     "host (the config has more instances than "
			     "slots, and it names no interface): attach it "
			     "first",
			     id);
			return -ENOENT;
		}
		/* The tracked flows it has now count against the candidate's
		 * limit too. */
		if (s->slot >= 0) {
			err = sg_ct_count_read(st, (__u32)s->slot,
					       &s->ct_in_use);
			if (err)
				return err < 0 ? err : -EIO;
		}
		if (!x->label) {
			err = sg_inst_read(st, (__u32)s->slot, &inst);
			if (err)
				return err < 0 ? err : -EIO;
			s->ct_max = inst.ct_max;
		}
		insts[i] = s->inst;
		cts[i] = s->ct_in_use;
	}

	if (x->label) {
		err = compile_candidate(x);
		if (err)
			goto out;
		for (size_t i = 0; i < x->nsides; i++)
			x->side[i].ct_max =
				x->comp.insts[x->side[i].inst].inst.ct_max;
		err = sg_kscratch_open(&ks, src->pin_dir, x->cfg, &x->comp,
				       insts, cts, x->nsides);
		for (size_t i = 0; !err && i < x->nsides; i++)
			err = judge(x, &x->side[i], &ks.k[i]);
	} else {
		for (size_t i = 0; !err && i < x->nsides; i++) {
			err = sg_kcheck_open(&k[i], src->pin_dir,
					     (__u32)x->side[i].slot);
			if (!err)
				err = judge(x, &x->side[i], &k[i]);
		}
	}
	if (!err)
		x->kernel = true;
out:
	for (size_t i = 0; i < 2; i++)
		sg_kcheck_close(&k[i]);
	sg_kscratch_close(&ks);
	return err < 0 ? err : err ? -EIO : 0;
}

void sg_check_free(struct sg_check *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < 2; i++)
		sg_ref_result_free(&x->side[i].model);
	if (x->compiled)
		sg_compiled_free(&x->comp);
	sg_config_free(&x->own);
	free(x->label);
	free(x);
}

void sg_check_print(const struct sg_check *x)
{
	if (x->nsides == 2)
		print_path(x);
	else
		print_side(x, &x->side[0], "");
}
