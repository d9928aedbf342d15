// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The flow routes of docs/console.md:
 *
 *   GET  /api/flowlogs                   the flow-log buffer (flows.c),
 *                                        filtered, after a cursor
 *   POST /api/groups/{}/rules/preview    what an EDIT of the rule editor
 *                                        would do, without doing it
 *
 * The preview builds the edited desired state with the save's own parser
 * and edit (rule_edit.h: the deletes, then the adds, judged by the CLI's
 * validator on the whole state), and answers with the rules added and removed,
 * the verdict changes of `sgctl diff -j` (compile/diff.h, exact) and the
 * flows of the buffer's window whose verdict the edit would change: each
 * record's flow, as its first packet, through the reference model
 * (compile/refmodel.h) under the current and the edited config. Nothing
 * is written anywhere, so it is allowed under --read-only.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <linux/types.h>

#include "sgctl.h"
#include "compile/diff.h"
#include "compile/refmodel.h"
#include "config/model.h"
#include "console/console.h"
#include "console/flows.h"
#include "console/rule_edit.h"
#include "desired/desired.h"
#include "desired/edit.h"
#include "fleet/etcd.h"
#include "out/json.h"
#include "state/state.h"
#include "util/codes.h"
#include "util/diag.h"
#include "view/config_json.h"
#include "view/diff_json.h"
#include "view/flowlog.h"

#define FLOWS_LIMIT_DEFAULT 200
#define FLOWS_LIMIT_MAX	    1000
#define PREVIEW_FLOWS_MAX   1000 /* records listed; flows_total counts all */

/* ------------------------------------------------------ GET /api/flowlogs */

static bool parse_uint(const char *s, unsigned long long max,
		       unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static int get_flowlogs(struct sg_console *c, const struct sg_req *r,
			struct sg_resp *w)
{
	struct sg_flowbuf_query q = {
		.action = -1,
		.port = -1,
		.limit = FLOWS_LIMIT_DEFAULT,
	};
	const char *v;
	unsigned long long n;
	struct sg_json *j;

	v = sg_req_query(r, "instance");
	if (v && *v)
		q.instance = v;
	v = sg_req_query(r, "action");
	if (v && *v) {
		if (!strcasecmp(v, "ACCEPT"))
			q.action = SG_FL_ACCEPT;
		else if (!strcasecmp(v, "REJECT"))
			q.action = SG_FL_REJECT;
		else
			return sg_resp_error(w, 400, "InvalidRequest",
					     "action: '%s' is not ACCEPT or "
					     "REJECT",
					     v);
	}
	v = sg_req_query(r, "addr");
	if (v && *v) {
		q.have_addr = true;
		if (inet_pton(AF_INET, v, q.addr) == 1)
			q.family = 4;
		else if (inet_pton(AF_INET6, v, q.addr) == 1)
			q.family = 6;
		else
			return sg_resp_error(
				w, 400, "InvalidRequest",
				"addr: '%s' is not an IPv4 or IPv6 "
				"address",
				v);
	}
	v = sg_req_query(r, "port");
	if (v && *v) {
		if (!parse_uint(v, 65535, &n))
			return sg_resp_error(w, 400, "InvalidRequest",
					     "port: '%s' is not a port 0-65535",
					     v);
		q.port = (int)n;
	}
	v = sg_req_query(r, "rule");
	if (v && *v)
		q.rule = v;
	v = sg_req_query(r, "after");
	if (v && *v) {
		if (!parse_uint(v, UINT64_MAX, &n))
			return sg_resp_error(w, 400, "InvalidRequest",
					     "after: '%s' is not a cursor", v);
		q.have_after = true;
		q.after = n;
	}
	v = sg_req_query(r, "limit");
	if (v && *v) {
		if (!parse_uint(v, UINT32_MAX, &n) || !n)
			return sg_resp_error(w, 400, "InvalidRequest",
					     "limit: '%s' is not a number 1-%d",
					     v, FLOWS_LIMIT_MAX);
		q.limit = n > FLOWS_LIMIT_MAX ? FLOWS_LIMIT_MAX : (size_t)n;
	}
	j = sg_resp_json(w);
	if (!j)
		return sg_resp_error(w, 500, "InternalError", "out of memory");
	sg_json_begin_object(j);
	sg_flowbuf_list(sg_console_flows(c), &q, j);
	sg_json_end_object(j);
	return 0;
}

/* ------------------------------------------------- the desired state */

/* The desired state the console works on: the VPC's keys in etcd, or
 * what the local load stored. On failure the error is written to w. */
static int read_desired(struct sg_console *c, const struct sg_config *cfg,
			struct sg_desired *d, struct sg_diag *diag,
			struct sg_resp *w)
{
	int err;

	if (sg_console_is_etcd(c)) {
		struct sg_kvset kv = {0};
		char *prefix = sg_desired_prefix(cfg->vpc), *why = NULL;
		int64_t rev;

		if (!prefix) {
			sg_resp_error(w, 500, "InternalError", "out of memory");
			return -ENOMEM;
		}
		err = sg_etcd_range_prefix(sg_console_etcd(c), prefix, &kv,
					   &rev, &why);
		if (err)
			sg_resp_error(w, 503, "ServiceUnavailable", "%s",
				      why ? why : "etcd is unreachable");
		else
			err = sg_desired_from_kv(&kv, prefix, d, diag);
		free(why);
		free(prefix);
		sg_kvset_free(&kv);
	} else {
		struct sg_state *st = sg_console_state(c);
		char *text = NULL;
		size_t len = 0;

		if (!st) {
			sg_resp_error(w, 503, "ServiceUnavailable",
				      "nothing is loaded on this host");
			return -ENOENT;
		}
		err = sg_blob_load(st, &text, &len);
		if (err)
			sg_resp_error(w, 503, "ServiceUnavailable",
				      "cannot read the loaded config: %s",
				      strerror(-err));
		else
			err = sg_desired_from_blob(text, len, d, diag);
		free(text);
	}
	if (err && diag->nerrors)
		sg_resp_diag(w, diag, -1);
	return err;
}

/* -------------------------------------------------------- the answer */

/* A rule of the diff: the console's RULE object (without usage: the
 * rule is not loaded yet, or no longer). */
static void rule_json(struct sg_json *j, const struct sg_config *cfg,
		      const struct sg_rule *r)
{
	sg_json_begin_object(j);
	sg_view_rule_fields(j, cfg, r);
	sg_view_rule_console_fields(j, r);
	sg_json_end_object(j);
}

static bool group_has_rule(const struct sg_group *g, const char *id)
{
	for (size_t i = 0; i < g->nrules; i++)
		if (!strcmp(g->rules[i].id, id))
			return true;
	return false;
}

/* The rules of a that b lacks (by id: an id is its content's). */
static void rules_only_in(struct sg_json *j, const struct sg_config *ca,
			  const struct sg_group *a, const struct sg_group *b)
{
	sg_json_begin_array(j);
	for (size_t i = 0; i < a->nrules; i++)
		if (!group_has_rule(b, a->rules[i].id))
			rule_json(j, ca, &a->rules[i]);
	sg_json_end_array(j);
}

/* ---- the flows whose verdict changes ---- */

/* An instance of the buffer (records share its interned id) in both
 * configs. */
struct inst_memo {
	const char *id;
	int cur, next; /* indices; -1: absent */
	bool affected; /* carries the edited group in either */
};

/* A verdict pair already computed: a flow's records (one per poll that
 * saw packets) share their first packet. Direct-mapped. */
#define VERDICT_SLOTS 4096

struct verdict {
	bool valid;
	int inst; /* in cur */
	struct sg_ref_pkt p;
	bool before, after;
	const char *rule; /* after's rule id, "-" */
};

struct replay {
	const struct sg_config *cur, *next;
	struct verdict *cache; /* VERDICT_SLOTS, or NULL */
	struct verdict one;    /* without a cache */
	int gcur, gnext;       /* the edited group in each */
	unsigned int dirs;     /* the directions edited: 1 << enum sg_dir */
	struct inst_memo *memo;
	size_t nmemo, cap;
	struct sg_json *j;
	size_t listed, total;
	int err;
};

static bool carries(const struct sg_config *cfg, int inst, int g)
{
	const struct sg_instance *in;

	if (inst < 0 || g < 0)
		return false;
	in = &cfg->instances[inst];
	for (size_t k = 0; k < in->ngroups; k++)
		if (in->groups[k] == g)
			return true;
	return false;
}

static const struct inst_memo *memo_of(struct replay *x, const char *id)
{
	size_t lo = 0, hi = x->nmemo;
	struct inst_memo *m;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->memo[mid].id == id)
			return &x->memo[mid];
		if ((uintptr_t)x->memo[mid].id < (uintptr_t)id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (x->nmemo == x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 16;

		m = realloc(x->memo, ncap * sizeof(*m));
		if (!m)
			return NULL;
		x->memo = m;
		x->cap = ncap;
	}
	memmove(&x->memo[lo + 1], &x->memo[lo],
		(x->nmemo - lo) * sizeof(*x->memo));
	m = &x->memo[lo];
	x->nmemo++;
	m->id = id;
	m->cur = sg_config_find_instance(x->cur, id);
	m->next = sg_config_find_instance(x->next, id);
	m->affected = m->cur >= 0 && m->next >= 0 &&
		      (carries(x->cur, m->cur, x->gcur) ||
		       carries(x->next, m->next, x->gnext));
	return m;
}

/*
 * The flow's first packet as the instance saw it: its direction (the
 * conntrack entry's origin: the reply direction's record replays the
 * opening packet), the remote end, the destination port. An ICMP flow is
 * taken as an echo request (conntrack tracks echoes only; a reject's
 * record keeps no type).
 */
static void first_packet(const struct sg_flow *f, struct sg_ref_pkt *p)
{
	bool rec_in = f->id.dir == SG_DIR_IN;

	memset(p, 0, sizeof(*p));
	p->dir = f->origin;
	p->family = f->id.family;
	p->proto = f->id.proto;
	memcpy(p->remote, rec_in ? f->id.saddr : f->id.daddr, 16);
	if (f->id.proto == SG_PROTO_TCP || f->id.proto == SG_PROTO_UDP) {
		int lport = rec_in ? f->id.dport : f->id.sport;
		int rport = rec_in ? f->id.sport : f->id.dport;

		p->dport = p->dir == SG_DIR_IN ? lport : rport;
		p->sport = p->dir == SG_DIR_IN ? rport : lport;
	} else if (sg_ref_is_icmp(p->family, p->proto)) {
		p->icmp_type = p->family == 4 ? 8 : 128;
		p->icmp_code = 0;
	}
}

/* The packet's verdict under both configs (cached); NULL on error. */
static const struct verdict *judge(struct replay *x, const struct inst_memo *m,
				   const struct sg_ref_pkt *p)
{
	struct sg_ref_result a = {0}, b = {0};
	struct verdict *v = &x->one;
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *k = (const unsigned char *)p;

	for (size_t i = 0; i < sizeof(*p); i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	h = (h ^ (uint64_t)m->cur) * 1099511628211ULL;
	if (x->cache) {
		v = &x->cache[h % VERDICT_SLOTS];
		if (v->valid && v->inst == m->cur &&
		    !memcmp(&v->p, p, sizeof(*p)))
			return v;
	}
	x->err = sg_ref_decide(x->cur, (size_t)m->cur, p, false, &a);
	if (!x->err)
		x->err = sg_ref_decide(x->next, (size_t)m->next, p, false, &b);
	if (!x->err) {
		v->valid = true;
		v->inst = m->cur;
		v->p = *p;
		v->before = a.accept;
		v->after = b.accept;
		v->rule = "-";
		if (b.accept && b.nmatches)
			v->rule = x->next->groups[b.matches[0].group]
					  .rules[b.matches[0].rule]
					  .id;
	}
	sg_ref_result_free(&a);
	sg_ref_result_free(&b);
	return x->err ? NULL : v;
}

static void replay_one(struct sg_flowbuf *fb, const struct sg_flowbuf_rec *r,
		       void *arg)
{
	struct replay *x = arg;
	const struct sg_flow *f = &r->f;
	const struct inst_memo *m;
	const struct verdict *v;
	struct sg_ref_pkt p;

	if (x->err || !r->instance || f->id.action == SG_FL_SKIPDATA)
		return;
	/* Rejects the rules decide; the others (conntrack full, source
	 * check, malformed...) no edit changes. */
	if (f->id.action == SG_FL_REJECT &&
	    f->id.reason != SG_CNT_DROP_NO_RULE &&
	    f->id.reason != SG_CNT_AUDIT_WOULD_DROP)
		return;
	if (!(x->dirs & (1u << f->origin)))
		return;
	m = memo_of(x, r->instance);
	if (!m) {
		x->err = -ENOMEM;
		return;
	}
	if (!m->affected)
		return;
	first_packet(f, &p);
	v = judge(x, m, &p);
	if (!v || v->before == v->after)
		return;
	x->total++;
	if (x->listed < PREVIEW_FLOWS_MAX) {
		x->listed++;
		sg_json_begin_object(x->j);
		sg_flowbuf_rec_members(fb, r, x->j);
		sg_json_kv_string(x->j, "new_action",
				  v->after ? "ACCEPT" : "REJECT");
		sg_json_kv_string(x->j, "new_rule_id", v->rule);
		sg_json_end_object(x->j);
	}
}

/* --------------------------------- POST /api/groups/{}/rules/preview */

/* The instances an edit of one group's rules can change: those carrying
 * it before or after. */
struct carriers {
	const struct sg_config *cur, *next;
	int gc, gn; /* the group in each */
};

static bool carries_edited(const struct sg_diff_inst *in, void *arg)
{
	const struct carriers *w = arg;

	return (in->old_index >= 0 && carries(w->cur, in->old_index, w->gc)) ||
	       (in->new_index >= 0 && w->gn >= 0 &&
		carries(w->next, in->new_index, w->gn));
}

static int post_preview(struct sg_console *c, const struct sg_req *r,
			struct sg_resp *w)
{
	const char *group = r->arg[0];
	const struct sg_config *loaded;
	struct sg_config cur = {0}, next = {0};
	struct sg_desired d = {0};
	struct sg_rule_edit e;
	struct sg_diag diag;
	struct sg_diff diff = {0};
	struct replay x = {0};
	struct sg_json *j;
	int64_t rev;
	int err, gc, gn;

	sg_diag_init(&diag);
	if (sg_rule_edit_parse(&e, group, r, w))
		goto out;
	loaded = sg_console_config(c, &rev, w);
	if (!loaded)
		goto out;
	if (read_desired(c, loaded, &d, &diag, w))
		goto out;
	err = sg_desired_validate(&d, &cur, &diag);
	if (err) {
		if (diag.nerrors)
			sg_resp_diag(w, &diag, -1);
		else
			sg_resp_error(w, 503, "ServiceUnavailable",
				      "the current config does not validate: "
				      "%s",
				      strerror(-err));
		goto out;
	}
	gc = sg_config_find_group(&cur, group);
	if (gc < 0 || cur.groups[gc].undefined) {
		sg_error(&diag, (struct sg_pos){NULL, 0, 0}, SG_E_NOTFOUND,
			 "security group %s does not exist in %s", group,
			 cur.vpc);
		sg_resp_diag(w, &diag, -1);
		goto out;
	}
	err = sg_rule_edit_run(&d, &e, &cur, &next, &diag);
	if (err) {
		if (diag.nerrors)
			sg_resp_diag(w, &diag, e.row);
		else
			sg_resp_error(w, 500, "InternalError", "%s",
				      strerror(-err));
		goto out;
	}
	gn = sg_config_find_group(&next, group);
	{
		struct carriers who = {&cur, &next, gc, gn};

		err = sg_diff_configs_for(&cur, &next, carries_edited, &who,
					  &diff);
	}
	if (err || gn < 0) {
		sg_resp_error(w, 500, "InternalError", "diff: %s",
			      strerror(err ? -err : ENOENT));
		goto out;
	}

	j = sg_resp_json(w);
	if (!j) {
		sg_resp_error(w, 500, "InternalError", "out of memory");
		goto out;
	}
	sg_json_begin_object(j);
	sg_json_key(j, "diff");
	sg_json_begin_object(j);
	sg_json_key(j, "added");
	rules_only_in(j, &next, &next.groups[gn], &cur.groups[gc]);
	sg_json_key(j, "removed");
	rules_only_in(j, &cur, &cur.groups[gc], &next.groups[gn]);
	sg_json_end_object(j);
	sg_json_key(j, "changes");
	sg_json_begin_array(j);
	for (size_t i = 0; i < diff.nchanges; i++)
		sg_view_diff_change(j, &diff, &diff.changes[i], &cur, &next);
	sg_json_end_array(j);
	sg_json_key(j, "flows");
	sg_json_begin_array(j);
	x.cur = &cur;
	x.next = &next;
	x.gcur = gc;
	x.gnext = gn;
	/* The editor's direction, and a deleted rule's own. */
	x.dirs = 1u << e.dir;
	for (size_t i = 0; i < cur.groups[gc].nrules; i++)
		for (size_t k = 0; k < e.ndel; k++)
			if (!strcmp(cur.groups[gc].rules[i].id, e.del[k]))
				x.dirs |= 1u << cur.groups[gc].rules[i].dir;
	x.j = j;
	x.cache = calloc(VERDICT_SLOTS, sizeof(*x.cache));
	sg_flowbuf_each(sg_console_flows(c), SG_CONSOLE_FLOW_WINDOW_S,
			replay_one, &x);
	sg_json_end_array(j);
	sg_json_kv_uint(j, "flows_total", x.total);
	if (x.err) /* the list is incomplete: say why */
		sg_json_kv_string(j, "flows_error", strerror(-x.err));
	sg_json_kv_uint(j, "window_s", SG_CONSOLE_FLOW_WINDOW_S);
	sg_json_end_object(j);
out:
	free(x.memo);
	free(x.cache);
	sg_diff_free(&diff);
	sg_config_free(&cur);
	sg_config_free(&next);
	sg_desired_free(&d);
	sg_diag_free(&diag);
	sg_rule_edit_free(&e);
	return 0;
}

const struct sg_route sg_api_flow_routes[] = {
	{"GET", "/api/flowlogs", get_flowlogs, false},
	{"POST", "/api/groups/{}/rules/preview", post_preview, false},
	{NULL, NULL, NULL, false},
};
