// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The console's questions about reachability (docs/console.md):
 *  - GET /api/check: `sgctl check -j`'s object for a flow (view/check.h):
 *    from an address or instance (src, from) to an address or instance
 *    (dst, to);
 *  - GET /api/map: groups, instances, prefix lists and CIDR peers, with an
 *    edge for each rule that lets one reach another and one per group
 *    membership;
 *  - GET /api/hosts: `sgctl status -j`'s object (view/status.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"
#include "compile/refmodel.h"
#include "config/model.h"
#include "out/json.h"
#include "view/check.h"
#include "view/status.h"

/* ------------------------------------------------------------ check */

/* A whole number lo..hi from parameter name; -1 when absent. */
static int query_num(const struct sg_req *r, struct sg_resp *w,
		     const char *name, long lo, long hi, long *out)
{
	const char *s = sg_req_query(r, name);
	char *end;
	long v;

	*out = -1;
	if (!s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		sg_resp_error(w, 400, "InvalidRequest",
			      "%s: '%s' is not a number %ld-%ld", name, s, lo,
			      hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* The remote end of a one-end question, as check --remote takes it. */
static int parse_remote(struct sg_resp *w, const char *name, const char *s,
			struct sg_check_args *a)
{
	if (inet_pton(AF_INET, s, a->remote) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, s, a->remote) == 1)
		a->family = 6;
	else
		return sg_resp_error(w, 400, "InvalidRequest",
				     "%s: '%s' is not an IPv4 or IPv6 address",
				     name, s) ?: -EINVAL;
	a->remote_text = s;
	return 0;
}

static int check_get(struct sg_console *c, const struct sg_req *r,
		     struct sg_resp *w)
{
	struct sg_check_args a;
	struct sg_check_src src = {};
	struct sg_check *x = NULL;
	const struct sg_config *cfg;
	const char *proto, *msg;
	char buf[256];
	int64_t rev;
	int err;

	sg_check_args_init(&a);
	a.src = sg_req_query(r, "src");
	a.dst = sg_req_query(r, "dst");
	a.from = sg_req_query(r, "from");
	a.to = sg_req_query(r, "to");
	if (a.src && a.from)
		return sg_resp_error(w, 400, "InvalidRequest",
				     "src or from (the source), not both");
	if (a.dst && a.to)
		return sg_resp_error(w, 400, "InvalidRequest",
				     "dst or to (the destination), not both");
	if (!a.src && !a.from)
		return sg_resp_error(w, 400, "InvalidRequest",
				     "src (an address) or from (an instance "
				     "id) is required");
	if (!a.dst && !a.to)
		return sg_resp_error(w, 400, "InvalidRequest",
				     "dst (an address) or to (an instance id) "
				     "is required");
	if ((a.from && !*a.from) || (a.to && !*a.to))
		return sg_resp_error(w, 400, "InvalidRequest",
				     "%s: an instance id is required",
				     a.from && !*a.from ? "from" : "to");
	if ((a.src && !*a.src) || (a.dst && !*a.dst))
		return sg_resp_error(w, 400, "InvalidRequest",
				     "%s: an address is required",
				     a.src && !*a.src ? "src" : "dst");
	if (a.from && a.dst) {
		/* An instance to an address: its outbound side. */
		if (parse_remote(w, "dst", a.dst, &a))
			return 0;
		a.instance = a.from;
		a.dir = SG_DIR_OUT;
		a.from = a.dst = NULL;
	} else if (a.src && a.to) {
		/* An address to an instance: its inbound side. */
		if (parse_remote(w, "src", a.src, &a))
			return 0;
		a.instance = a.to;
		a.dir = SG_DIR_IN;
		a.src = a.to = NULL;
	}
	proto = sg_req_query(r, "protocol");
	if (!proto || !*proto)
		return sg_resp_error(w, 400, "InvalidRequest",
				     "protocol is required (tcp, udp, icmp, "
				     "icmpv6 or a number)");
	if (sg_check_parse_proto(proto, "", &a.proto, buf, sizeof(buf)))
		return sg_resp_error(w, 400, "InvalidRequest", "%s", buf);
	if (query_num(r, w, "port", 0, 65535, &a.port) ||
	    query_num(r, w, "icmp_type", 0, 255, &a.itype) ||
	    query_num(r, w, "icmp_code", 0, 255, &a.icode))
		return 0;
	if (sg_check_args_finish(&a, "", buf, sizeof(buf)))
		return sg_resp_error(w, 400, "InvalidRequest", "%s", buf);

	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	src.pin_dir = sg_console_opts(c)->pin_dir;
	src.st = sg_console_state(c);
	src.cfg = cfg;
	src.cfg_label = sg_console_is_etcd(c) ? "desired" : "loaded";
	src.cfg_loaded = !sg_console_is_etcd(c);
	err = sg_check_run(&a, &src, &x);
	msg = sg_check_error(x, 0);
	if (!err) {
		sg_check_json(x, sg_resp_json(w));
	} else if (err == -EDOM) {
		sg_resp_error(w, 400, "InvalidRequest", "%s",
			      msg ? msg : "not a flow");
	} else if (err == -ENOENT && msg && strstr(msg, "no instance")) {
		sg_resp_error(w, 400, "InvalidInstanceID.NotFound", "%s", msg);
	} else if (err == -ENOENT && msg) {
		sg_resp_error(w, 400, "InvalidRequest", "%s", msg);
	} else if (err == -EINVAL && msg) {
		/* A path whose ends have no address of one family. */
		sg_resp_error(w, 400, "InvalidRequest", "%s", msg);
	} else {
		sg_resp_error(w, 500, "InternalError", "%s",
			      msg ? msg : strerror(err < 0 ? -err : EIO));
	}
	sg_check_free(x);
	return 0;
}

/* ------------------------------------------------------------ the map */

static const char *proto_text(int proto, char *buf, size_t len)
{
	if (proto == SG_PROTO_ALL)
		return "all";
	return sg_ref_proto_name(proto, buf, len);
}

/* "80", "8000-8080", "all" (every port, type or protocol), "8" or "3/4"
 * (icmp type/code), "N/A" (a protocol without ports). */
static void ports_text(const struct sg_rule *r, char *buf, size_t len)
{
	if (r->proto == SG_PROTO_ALL)
		snprintf(buf, len, "all");
	else if (r->proto == SG_PROTO_TCP || r->proto == SG_PROTO_UDP) {
		if (r->port_lo <= 0 && r->port_hi >= 65535)
			snprintf(buf, len, "all");
		else if (r->port_lo == r->port_hi)
			snprintf(buf, len, "%d", r->port_lo);
		else
			snprintf(buf, len, "%d-%d", r->port_lo, r->port_hi);
	} else if (r->proto == SG_PROTO_ICMP || r->proto == SG_PROTO_ICMPV6) {
		if (r->icmp_type == SG_ANY)
			snprintf(buf, len, "all");
		else if (r->icmp_code == SG_ANY)
			snprintf(buf, len, "%d", r->icmp_type);
		else
			snprintf(buf, len, "%d/%d", r->icmp_type, r->icmp_code);
	} else {
		snprintf(buf, len, "N/A");
	}
}

static void cidr_text(const struct sg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

/* The node a rule's peer is. buf holds a CIDR's text. */
static const char *peer_node(const struct sg_config *cfg,
			     const struct sg_rule *r, char *buf, size_t len)
{
	switch (r->peer_kind) {
	case SG_PEER_GROUP:
		return cfg->groups[r->peer_index].id;
	case SG_PEER_PREFIX_LIST:
		return cfg->prefix_lists[r->peer_index].id;
	case SG_PEER_CIDR:
	default:
		cidr_text(&r->cidr, buf, len);
		return buf;
	}
}

/* The id of the box standing for a group's instances. */
static void summary_id(const char *group, char *buf, size_t len)
{
	snprintf(buf, len, "%s:instances", group);
}

static void member_edge(struct sg_json *j, const char *group, const char *to)
{
	sg_json_begin_object(j);
	sg_json_kv_string(j, "from", group);
	sg_json_kv_string(j, "to", to);
	sg_json_kv_string(j, "kind", "member");
	sg_json_kv_string(j, "group", group);
	sg_json_kv_string(j, "label", "member");
	sg_json_end_object(j);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void node(struct sg_json *j, const char *id, const char *kind,
		 const char *label)
{
	sg_json_begin_object(j);
	sg_json_kv_string(j, "id", id);
	sg_json_kv_string(j, "kind", kind);
	sg_json_kv_string(j, "label", label);
	sg_json_end_object(j);
}

/*
 * Beyond this many instances the map draws one box per group for its
 * instances ("N instances") instead of one per instance, and beyond this
 * many rules the whole-VPC map keeps only the rules between groups (the
 * page then asks for one group's map, ?group=ID): a picture of 10,000
 * boxes or 60,000 arrows says nothing, and its JSON would be megabytes.
 */
#define MAP_MAX_INSTANCES 150
#define MAP_MAX_RULES 1000

struct map_sel {
	const struct sg_config *cfg;
	int want;	   /* ?group=ID, or -1 */
	bool big;	   /* no filter, too many rules: group references only */
	bool summarise;	   /* instances as one box per group */
	bool *used_group;  /* group nodes drawn */
	bool *used_plist;  /* prefix-list nodes drawn */
	size_t *members;   /* instances per group */
	size_t omitted;	   /* rules left out */
};

static bool rule_selected(const struct map_sel *m, size_t g,
			  const struct sg_rule *ru)
{
	if (m->want >= 0)
		return (int)g == m->want || (ru->peer_kind == SG_PEER_GROUP &&
					     ru->peer_index == m->want);
	if (m->big)
		return ru->peer_kind == SG_PEER_GROUP;
	return true;
}

static bool group_shown(const struct map_sel *m, size_t g)
{
	return m->want < 0 ? true : m->used_group[g];
}

static void rule_edge(struct sg_json *j, const struct sg_config *cfg,
		      const struct sg_group *gr, const struct sg_rule *ru)
{
	char pb[16], ports[32], label[64], cb[64];
	const char *peer = peer_node(cfg, ru, cb, sizeof(cb));
	const char *pt = proto_text(ru->proto, pb, sizeof(pb));
	bool in = ru->dir == SG_DIR_IN;

	ports_text(ru, ports, sizeof(ports));
	if (ru->proto == SG_PROTO_ALL)
		snprintf(label, sizeof(label), "all");
	else if (!strcmp(ports, "N/A"))
		snprintf(label, sizeof(label), "%s", pt);
	else
		snprintf(label, sizeof(label), "%s/%s", pt, ports);
	sg_json_begin_object(j);
	sg_json_kv_string(j, "from", in ? peer : gr->id);
	sg_json_kv_string(j, "to", in ? gr->id : peer);
	sg_json_kv_string(j, "kind", "rule");
	sg_json_kv_string(j, "group", gr->id);
	sg_json_kv_string(j, "rule_id", ru->id);
	sg_json_kv_string(j, "direction", in ? "inbound" : "outbound");
	sg_json_kv_string(j, "protocol", pt);
	sg_json_kv_string(j, "ports", ports);
	sg_json_kv_string(j, "label", label);
	sg_json_end_object(j);
}

/* Which nodes the selected rules touch; the CIDR peers once each (their
 * canonical text, sorted) into *cidrs. -ENOMEM or 0. */
static int map_select(struct map_sel *m, char ***cidrs, size_t *ncidr)
{
	const struct sg_config *cfg = m->cfg;
	size_t total = 0, n = 0, u = 0;
	char cb[64];
	char **v;

	for (size_t i = 0; i < cfg->ninstances; i++)
		for (size_t g = 0; g < cfg->instances[i].ngroups; g++)
			m->members[cfg->instances[i].groups[g]]++;
	if (m->want >= 0)
		m->used_group[m->want] = true;
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t k = 0; k < cfg->groups[g].nrules; k++) {
			const struct sg_rule *ru = &cfg->groups[g].rules[k];

			if (!rule_selected(m, g, ru)) {
				m->omitted++;
				continue;
			}
			m->used_group[g] = true;
			if (ru->peer_kind == SG_PEER_GROUP)
				m->used_group[ru->peer_index] = true;
			else if (ru->peer_kind == SG_PEER_PREFIX_LIST)
				m->used_plist[ru->peer_index] = true;
			else
				total++;
		}
	if (m->want >= 0)
		m->omitted = 0; /* a group's map leaves nothing of it out */
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t k = 0; k < cfg->groups[g].nrules; k++) {
			const struct sg_rule *ru = &cfg->groups[g].rules[k];

			if (ru->peer_kind != SG_PEER_CIDR ||
			    !rule_selected(m, g, ru))
				continue;
			cidr_text(&ru->cidr, cb, sizeof(cb));
			v[n] = strdup(cb);
			if (!v[n])
				goto oom;
			n++;
		}
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (u && !strcmp(v[u - 1], v[i])) {
			free(v[i]);
			continue;
		}
		v[u++] = v[i];
	}
	*cidrs = v;
	*ncidr = u;
	return 0;
oom:
	while (n)
		free(v[--n]);
	free(v);
	return -ENOMEM;
}

static void map_write(struct sg_json *j, const struct map_sel *m,
		      char **cidrs, size_t ncidr, int64_t rev)
{
	const struct sg_config *cfg = m->cfg;
	char id[96], label[64];

	sg_json_begin_object(j);
	sg_json_kv_int(j, "revision", rev);
	sg_json_kv_string(j, "group", m->want >= 0 ? cfg->groups[m->want].id
						   : NULL);
	sg_json_key(j, "nodes");
	sg_json_begin_array(j);
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct sg_group *gr = &cfg->groups[g];

		if (group_shown(m, g))
			node(j, gr->id, "group",
			     gr->name && *gr->name ? gr->name : gr->id);
	}
	for (size_t g = 0; m->summarise && g < cfg->ngroups; g++) {
		if (!m->members[g] || !group_shown(m, g) ||
		    (m->want >= 0 && (int)g != m->want))
			continue;
		snprintf(label, sizeof(label), "%zu instance%s", m->members[g],
			 m->members[g] == 1 ? "" : "s");
		summary_id(cfg->groups[g].id, id, sizeof(id));
		node(j, id, "instances", label);
	}
	for (size_t i = 0; !m->summarise && i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];
		bool mine = m->want < 0;

		for (size_t g = 0; !mine && g < in->ngroups; g++)
			mine = in->groups[g] == m->want;
		if (mine)
			node(j, in->id, "instance", in->id);
	}
	for (size_t i = 0; i < cfg->nprefix_lists; i++)
		if (m->used_plist[i] || (m->want < 0 && !m->big))
			node(j, cfg->prefix_lists[i].id, "prefix-list",
			     cfg->prefix_lists[i].id);
	for (size_t i = 0; i < ncidr; i++)
		node(j, cidrs[i], "cidr", cidrs[i]);
	sg_json_end_array(j);

	sg_json_key(j, "edges");
	sg_json_begin_array(j);
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t k = 0; k < cfg->groups[g].nrules; k++)
			if (rule_selected(m, g, &cfg->groups[g].rules[k]))
				rule_edge(j, cfg, &cfg->groups[g],
					  &cfg->groups[g].rules[k]);
	for (size_t g = 0; m->summarise && g < cfg->ngroups; g++) {
		if (!m->members[g] || (m->want >= 0 && (int)g != m->want))
			continue;
		summary_id(cfg->groups[g].id, id, sizeof(id));
		member_edge(j, cfg->groups[g].id, id);
	}
	for (size_t i = 0; !m->summarise && i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];

		for (size_t g = 0; g < in->ngroups; g++)
			if (m->want < 0 || in->groups[g] == m->want)
				member_edge(j, cfg->groups[in->groups[g]].id,
					    in->id);
	}
	sg_json_end_array(j);
	sg_json_kv_bool(j, "instances_summarised", m->summarise);
	sg_json_kv_uint(j, "rules_omitted", m->omitted);
	sg_json_end_object(j);
}

static int map_get(struct sg_console *c, const struct sg_req *r,
		   struct sg_resp *w)
{
	const char *want = sg_req_query(r, "group");
	struct map_sel m = {.want = -1};
	const struct sg_config *cfg;
	char **cidrs = NULL;
	size_t ncidr = 0, nrules = 0, shown = 0;
	int64_t rev;
	int err = -ENOMEM;

	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	m.cfg = cfg;
	if (want && *want) {
		m.want = sg_config_find_group(cfg, want);
		if (m.want < 0)
			return sg_resp_error(w, 404, "InvalidGroup.NotFound",
					     "the security group '%s' does "
					     "not exist",
					     want);
	}
	for (size_t g = 0; g < cfg->ngroups; g++)
		nrules += cfg->groups[g].nrules;
	m.big = m.want < 0 && nrules > MAP_MAX_RULES;
	m.used_group = calloc(cfg->ngroups + 1, sizeof(*m.used_group));
	m.used_plist = calloc(cfg->nprefix_lists + 1, sizeof(*m.used_plist));
	m.members = calloc(cfg->ngroups + 1, sizeof(*m.members));
	if (m.used_group && m.used_plist && m.members)
		err = map_select(&m, &cidrs, &ncidr);
	if (!err) {
		if (m.want >= 0)
			shown = m.members[m.want];
		else
			shown = cfg->ninstances;
		m.summarise = shown > MAP_MAX_INSTANCES;
		map_write(sg_resp_json(w), &m, cidrs, ncidr, rev);
	}
	for (size_t i = 0; i < ncidr; i++)
		free(cidrs[i]);
	free(cidrs);
	free(m.used_group);
	free(m.used_plist);
	free(m.members);
	if (err)
		return sg_resp_error(w, 503, "ServiceUnavailable",
				     "out of memory");
	return 0;
}

/* ------------------------------------------------------------ a rule */

/* Where a rule id lives (flow logs and links name rules by id alone). */
static int rule_get(struct sg_console *c, const struct sg_req *r,
		    struct sg_resp *w)
{
	const struct sg_config *cfg;
	size_t g, k;
	struct sg_json *j;
	int64_t rev;

	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	if (!sg_config_find_rule(cfg, r->arg[0], &g, &k))
		return sg_resp_error(w, 404, "InvalidSecurityGroupRuleId.NotFound",
				     "the security group rule '%s' does not "
				     "exist",
				     r->arg[0]);
	j = sg_resp_json(w);
	sg_json_begin_object(j);
	sg_json_kv_string(j, "id", cfg->groups[g].rules[k].id);
	sg_json_kv_string(j, "group", cfg->groups[g].id);
	sg_json_kv_string(j, "direction", cfg->groups[g].rules[k].dir == SG_DIR_IN
						  ? "inbound"
						  : "outbound");
	sg_json_kv_int(j, "revision", rev);
	sg_json_end_object(j);
	return 0;
}

/* ------------------------------------------------------------ hosts */

static int hosts_get(struct sg_console *c, const struct sg_req *r,
		     struct sg_resp *w)
{
	const struct sg_console_opts *o = sg_console_opts(c);
	struct sg_status st = {};
	const struct sg_config *cfg;
	struct sg_json *j;
	const char *vpc = o->vpc;
	char *why = NULL;
	int64_t rev;
	int err;

	(void)r;
	if (!sg_console_is_etcd(c)) {
		/* No fleet: this host alone, no agents to list. */
		j = sg_resp_json(w);
		sg_json_begin_object(j);
		sg_json_kv_string(j, "source", "local");
		sg_json_key(j, "hosts");
		sg_json_begin_array(j);
		sg_json_end_array(j);
		sg_json_end_object(j);
		return 0;
	}
	if (!vpc) {
		/* The only VPC: the one the console serves. */
		cfg = sg_console_config(c, &rev, w);
		if (!cfg)
			return 0;
		vpc = cfg->vpc;
	}
	err = sg_status_read(sg_console_etcd(c), vpc, &st, &why);
	if (err)
		sg_resp_error(w, 503, "ServiceUnavailable", "etcd: %s",
			      why ? why : strerror(-err));
	else
		sg_status_json(&st, sg_resp_json(w));
	sg_status_free(&st);
	free(why);
	return 0;
}

const struct sg_route sg_api_check_routes[] = {
	{"GET", "/api/check", check_get, false},
	{"GET", "/api/map", map_get, false},
	{"GET", "/api/rules/{}", rule_get, false},
	{"GET", "/api/hosts", hosts_get, false},
	{NULL, NULL, NULL, false},
};
