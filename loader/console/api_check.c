// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The console's questions about reachability (docs/console.md):
 *  - GET /api/check: `sgctl check -j`'s object for a flow (view/check.h);
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
	if ((a.src || a.dst) && (a.from || a.to))
		return sg_resp_error(w, 400, "InvalidRequest",
				     "src/dst or from/to, not both");
	if (!a.from && !a.to && !a.src && !a.dst)
		return sg_resp_error(w, 400, "InvalidRequest",
				     "src and dst (addresses) or from and to "
				     "(instance ids) are required");
	if (a.from || a.to) {
		if (!a.from || !*a.from)
			return sg_resp_error(w, 400, "InvalidRequest",
					     "from: an instance id is required");
		if (!a.to || !*a.to)
			return sg_resp_error(w, 400, "InvalidRequest",
					     "to: an instance id is required");
	} else {
		if (!a.src || !*a.src)
			return sg_resp_error(w, 400, "InvalidRequest",
					     "src: an address is required");
		if (!a.dst || !*a.dst)
			return sg_resp_error(w, 400, "InvalidRequest",
					     "dst: an address is required");
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

static int map_get(struct sg_console *c, const struct sg_req *r,
		   struct sg_resp *w)
{
	const struct sg_config *cfg;
	struct sg_json *j;
	char **cidrs = NULL;
	size_t ncidr = 0, total = 0, u = 0;
	char pb[16], ports[32], label[64], cb[64];
	int64_t rev;

	(void)r;
	cfg = sg_console_config(c, &rev, w);
	if (!cfg)
		return 0;
	/* The CIDR peers, once each (by their canonical text). */
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t k = 0; k < cfg->groups[g].nrules; k++)
			total += cfg->groups[g].rules[k].peer_kind ==
				 SG_PEER_CIDR;
	cidrs = calloc(total ? total : 1, sizeof(*cidrs));
	if (!cidrs)
		return sg_resp_error(w, 503, "ServiceUnavailable",
				     "out of memory");
	for (size_t g = 0; g < cfg->ngroups; g++)
		for (size_t k = 0; k < cfg->groups[g].nrules; k++) {
			const struct sg_rule *ru = &cfg->groups[g].rules[k];

			if (ru->peer_kind != SG_PEER_CIDR)
				continue;
			cidr_text(&ru->cidr, cb, sizeof(cb));
			cidrs[ncidr] = strdup(cb);
			if (!cidrs[ncidr])
				goto oom;
			ncidr++;
		}
	qsort(cidrs, ncidr, sizeof(*cidrs), cmp_str);
	for (size_t i = 0; i < ncidr; i++) {
		if (u && !strcmp(cidrs[u - 1], cidrs[i])) {
			free(cidrs[i]);
			continue;
		}
		cidrs[u++] = cidrs[i];
	}
	ncidr = u;

	j = sg_resp_json(w);
	sg_json_begin_object(j);
	sg_json_kv_int(j, "revision", rev);
	sg_json_key(j, "nodes");
	sg_json_begin_array(j);
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct sg_group *gr = &cfg->groups[g];

		node(j, gr->id, "group", gr->name && *gr->name ? gr->name
							       : gr->id);
	}
	for (size_t i = 0; i < cfg->ninstances; i++)
		node(j, cfg->instances[i].id, "instance",
		     cfg->instances[i].id);
	for (size_t i = 0; i < cfg->nprefix_lists; i++)
		node(j, cfg->prefix_lists[i].id, "prefix-list",
		     cfg->prefix_lists[i].id);
	for (size_t i = 0; i < ncidr; i++)
		node(j, cidrs[i], "cidr", cidrs[i]);
	sg_json_end_array(j);

	sg_json_key(j, "edges");
	sg_json_begin_array(j);
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct sg_group *gr = &cfg->groups[g];

		for (size_t k = 0; k < gr->nrules; k++) {
			const struct sg_rule *ru = &gr->rules[k];
			const char *peer = peer_node(cfg, ru, cb, sizeof(cb));
			const char *pt = proto_text(ru->proto, pb, sizeof(pb));
			bool in = ru->dir == SG_DIR_IN;

			ports_text(ru, ports, sizeof(ports));
			if (ru->proto == SG_PROTO_ALL)
				snprintf(label, sizeof(label), "all");
			else if (!strcmp(ports, "N/A"))
				snprintf(label, sizeof(label), "%s", pt);
			else
				snprintf(label, sizeof(label), "%s/%s", pt,
					 ports);
			sg_json_begin_object(j);
			sg_json_kv_string(j, "from", in ? peer : gr->id);
			sg_json_kv_string(j, "to", in ? gr->id : peer);
			sg_json_kv_string(j, "kind", "rule");
			sg_json_kv_string(j, "group", gr->id);
			sg_json_kv_string(j, "rule_id", ru->id);
			sg_json_kv_string(j, "direction",
					  in ? "inbound" : "outbound");
			sg_json_kv_string(j, "protocol", pt);
			sg_json_kv_string(j, "ports", ports);
			sg_json_kv_string(j, "label", label);
			sg_json_end_object(j);
		}
	}
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];

		for (size_t g = 0; g < in->ngroups; g++) {
			const char *gid = cfg->groups[in->groups[g]].id;

			sg_json_begin_object(j);
			sg_json_kv_string(j, "from", gid);
			sg_json_kv_string(j, "to", in->id);
			sg_json_kv_string(j, "kind", "member");
			sg_json_kv_string(j, "group", gid);
			sg_json_kv_string(j, "label", "member");
			sg_json_end_object(j);
		}
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
	for (size_t i = 0; i < ncidr; i++)
		free(cidrs[i]);
	free(cidrs);
	return 0;
oom:
	for (size_t i = 0; i < ncidr; i++)
		free(cidrs[i]);
	free(cidrs);
	return sg_resp_error(w, 503, "ServiceUnavailable", "out of memory");
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
	{"GET", "/api/hosts", hosts_get, false},
	{NULL, NULL, NULL, false},
};
