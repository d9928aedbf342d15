// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * AWS JSON input (see aws.h): jansson reads the text, and each security
 * group or network interface becomes the nodes a YAML file would have
 * written, each labelled with its JSON path. Only what is specific to the
 * JSON shape is checked here (types, required keys, ports given as
 * FromPort/ToPort, references AWS can make and we cannot follow); every
 * rule about the config itself is the validator's (config/).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include <linux/types.h>

#include "sgctl.h"
#include "util/codes.h"
#include "input/aws.h"

#define AWS_PATH_MAX 512

struct all;

struct aws {
	struct all *all;
	struct sg_mdoc *m;
	struct sg_diag *diag;
	size_t input;
	const char *file;
	char path[AWS_PATH_MAX];
	size_t plen;
	bool oom;
};

/* ---- The JSON path of what is being read ---- */

static size_t push_key(struct aws *a, const char *key)
{
	size_t old = a->plen;
	int n = snprintf(a->path + a->plen, sizeof(a->path) - a->plen, "%s%s",
			 a->plen ? "." : "", key);

	if (n > 0 && (size_t)n < sizeof(a->path) - a->plen)
		a->plen += (size_t)n;
	else
		a->path[a->plen] = '\0';
	return old;
}

static size_t push_index(struct aws *a, size_t i)
{
	size_t old = a->plen;
	int n = snprintf(a->path + a->plen, sizeof(a->path) - a->plen, "[%zu]",
			 i);

	if (n > 0 && (size_t)n < sizeof(a->path) - a->plen)
		a->plen += (size_t)n;
	else
		a->path[a->plen] = '\0';
	return old;
}

static void pop(struct aws *a, size_t old)
{
	a->plen = old;
	a->path[old] = '\0';
}

/* The path of key under the current one, in buf. */
static const char *sub(struct aws *a, const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", a->path, a->plen ? "." : "", key);
	return buf;
}

__attribute__((format(printf, 5, 6))) static void
report(struct aws *a, enum sg_severity sev, const char *key, const char *code,
       const char *fmt, ...)
{
	char buf[AWS_PATH_MAX + 64], *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->oom = true;
		return;
	}
	sg_diag_add(
		a->diag, sev,
		sg_mdoc_json_pos(a->m, a->file,
				 key ? sub(a, key, buf, sizeof(buf)) : a->path),
		code, "%s", msg);
	free(msg);
}

#define AERR(a, key, code, ...) report(a, SG_ERROR, key, code, __VA_ARGS__)
#define AWARN(a, key, ...)	report(a, SG_WARNING, key, NULL, __VA_ARGS__)

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* A string member; NULL when absent (reported if required) or mistyped. */
static const char *get_str(struct aws *a, const json_t *obj, const char *key,
			   bool required)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		if (required)
			AERR(a, NULL, SG_E_MISSING, "%s is missing", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		AERR(a, key, SG_E_PARAM, "must be a string, not %s",
		     type_name(v));
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		AERR(a, key, SG_E_PARAM, "NUL character in a value");
		return NULL;
	}
	return json_string_value(v);
}

/* An array member; NULL when absent (fine) or mistyped (reported). */
static json_t *get_array(struct aws *a, const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		AERR(a, key, SG_E_PARAM, "must be an array, not %s",
		     type_name(v));
		return NULL;
	}
	return v;
}

/* A node for a JSON string member, labelled with its path. */
static int str_node(struct aws *a, const char *key, const char *value)
{
	char buf[AWS_PATH_MAX + 64];
	int id = sg_mdoc_scalar(a->m, value, true, a->file,
				key ? sub(a, key, buf, sizeof(buf)) : a->path);

	if (!id)
		a->oom = true;
	return id;
}

static int plain_node(struct aws *a, const char *key, const char *value)
{
	char buf[AWS_PATH_MAX + 64];
	int id = sg_mdoc_scalar(a->m, value, false, a->file,
				key ? sub(a, key, buf, sizeof(buf)) : a->path);

	if (!id)
		a->oom = true;
	return id;
}

static void put(struct aws *a, int map, const char *key, int value)
{
	if (!value || !sg_mdoc_put(a->m, map, key, value))
		a->oom = true;
}

static void setting(struct aws *a, const json_t *obj, const char *jkey,
		    const char *key, const char *what)
{
	const char *s = get_str(a, obj, jkey, false);
	int id;

	if (!s || !*s)
		return;
	id = str_node(a, jkey, s);
	if (id && !sg_mdoc_setting(a->m, key, id, a->input, what))
		a->oom = true;
}

/* ---- Rules ---- */

#define P_ALL	  (-1)
#define P_UNKNOWN (-2)

/* A protocol name, -1/all or a number 0-255; P_UNKNOWN else. */
static int proto_number(const char *s)
{
	static const struct {
		const char *name;
		int proto;
	} names[] = {
		{"tcp", SG_PROTO_TCP},	     {"udp", SG_PROTO_UDP},
		{"icmp", SG_PROTO_ICMP},     {"icmpv6", SG_PROTO_ICMPV6},
		{"-1", P_ALL},		     {"all", P_ALL},
	};
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].proto;
	if (*s < '0' || *s > '9')
		return P_UNKNOWN;
	v = strtol(s, &end, 10);
	return *end || v > 255 ? P_UNKNOWN : (int)v;
}

/* FromPort or ToPort: absent, or an integer. */
static bool get_port(struct aws *a, const json_t *perm, const char *key,
		     bool *have, long long *v)
{
	json_t *j = json_object_get(perm, key);

	*have = false;
	if (!j || json_is_null(j))
		return true;
	if (!json_is_integer(j)) {
		AERR(a, key, SG_E_MALFORMED, "must be an integer, not %s",
		     type_name(j));
		return false;
	}
	*have = true;
	*v = json_integer_value(j);
	return true;
}

/* What one IpPermission allows, as the YAML keys of a rule. */
struct spec {
	int proto_node;
	bool has_ports;
	char ports[32];
	const char *ports_key; /* FromPort or ToPort: where a problem is */
	bool is_icmp;
	long long itype, icode;
	bool have_type, have_code;
};

static bool read_spec(struct aws *a, const json_t *perm, struct spec *sp)
{
	json_t *pj = json_object_get(perm, "IpProtocol");
	bool hf, ht, ok = true;
	long long from = 0, to = 0;
	char num[24];
	const char *ps;
	int proto;

	memset(sp, 0, sizeof(*sp));
	if (!pj || json_is_null(pj)) {
		AERR(a, NULL, SG_E_MISSING, "IpProtocol is missing");
		return false;
	}
	if (json_is_integer(pj)) {
		snprintf(num, sizeof(num), "%lld", json_integer_value(pj));
		ps = num;
	} else if (json_is_string(pj)) {
		ps = json_string_value(pj);
	} else {
		AERR(a, "IpProtocol", SG_E_PARAM, "must be a string, not %s",
		     type_name(pj));
		return false;
	}
	/* config/rules.c judges the name ("unknown protocol ..."). */
	sp->proto_node = str_node(a, "IpProtocol", ps);
	proto = proto_number(ps);
	if (!get_port(a, perm, "FromPort", &hf, &from) ||
	    !get_port(a, perm, "ToPort", &ht, &to))
		return false;

	if (proto == SG_PROTO_TCP || proto == SG_PROTO_UDP) {
		const char *pn = proto == SG_PROTO_TCP ? "TCP" : "UDP";

		if (!hf || !ht) {
			AERR(a, NULL, SG_E_MISSING,
			     "%s rules need FromPort and ToPort", pn);
			return false;
		}
		if (from < 0 || from > 65535 || to < 0 || to > 65535) {
			bool bad_from = from < 0 || from > 65535;

			AERR(a, bad_from ? "FromPort" : "ToPort",
			     SG_E_MALFORMED,
			     "%s port %lld out of range 0-65535", pn,
			     bad_from ? from : to);
			ok = false;
		} else if (from > to) {
			AERR(a, "ToPort", SG_E_MALFORMED,
			     "%s port range %lld-%lld is reversed: FromPort "
			     "must not be above ToPort",
			     pn, from, to);
			ok = false;
		}
		sp->has_ports = true;
		if (from == to)
			snprintf(sp->ports, sizeof(sp->ports), "%lld", from);
		else
			snprintf(sp->ports, sizeof(sp->ports), "%lld-%lld",
				 from, to);
		sp->ports_key = "FromPort";
	} else if (proto == SG_PROTO_ICMP || proto == SG_PROTO_ICMPV6) {
		/* FromPort is the type, ToPort the code; -1 is all. */
		sp->is_icmp = true;
		sp->have_type = hf && from != -1;
		sp->have_code = ht && to != -1;
		sp->itype = from;
		sp->icode = to;
		if (sp->have_code && !sp->have_type) {
			AERR(a, "ToPort", SG_E_MALFORMED,
			     "an ICMP code (ToPort %lld) needs a type "
			     "(FromPort "
			     "-1 means all types)",
			     to);
			ok = false;
		}
	}
	/* Other protocols: AWS ignores any port range. */
	return ok;
}

/* Where a rule's peer comes from in an IpPermission. */
struct peer_src {
	const char *list; /* IpRanges */
	const char *key;  /* CidrIp */
};

static const struct peer_src peer_srcs[] = {
	{"IpRanges", "CidrIp"},
	{"Ipv6Ranges", "CidrIpv6"},
	{"PrefixListIds", "PrefixListId"},
	{"UserIdGroupPairs", "GroupId"},
};

/*
 * Can this peer be followed? Prefix lists need entries a YAML input
 * defines. A group of another account or VPC (through a peering
 * connection, or a stale reference) is outside these inputs: the rule
 * stays, naming it, and matches only the members the inputs hold
 * (usually none), never more than AWS allows. *outside says where it is.
 */
static bool peer_usable(struct aws *a, size_t src, const json_t *item,
			const char *peer, const char *owner, const char *vpc,
			char *outside, size_t olen)
{
	const char *uid, *pvpc, *pcx, *status;

	outside[0] = '\0';
	if (src == 2 && !sg_mdoc_has_prefix_list(a->m, peer)) {
		/* Its entries are unknown: an empty list stands for it, so
		 * the rule matches nothing (fail-closed). */
		int key = str_node(a, "PrefixListId", peer);
		int map = sg_mdoc_mapping(a->m, a->file, a->path);
		int seq = sg_mdoc_sequence(a->m, a->file, a->path);

		AWARN(a, "PrefixListId",
		      "prefix list %s: AWS's JSON does not hold its entries, so "
		      "rules naming it match nothing (fail-closed); define it "
		      "under prefix_lists in a YAML file loaded with this one "
		      "(aws ec2 get-managed-prefix-list-entries lists them)",
		      peer);
		if (!key || !map || !seq) {
			a->oom = true;
			return false;
		}
		put(a, map, "entries", seq);
		if (!sg_mdoc_pair(a->m,
				  sg_mdoc_section(a->m, SG_SEC_PREFIX_LISTS),
				  key, map))
			a->oom = true;
	}
	if (src != 3)
		return true;
	uid = get_str(a, item, "UserId", false);
	pvpc = get_str(a, item, "VpcId", false);
	pcx = get_str(a, item, "VpcPeeringConnectionId", false);
	status = get_str(a, item, "PeeringStatus", false);
	if (pcx && *pcx)
		snprintf(outside, olen,
			 "peering connection %s%s%s%s%s%s%s", pcx,
			 status && *status ? ", " : "",
			 status && *status ? status : "",
			 uid && *uid ? ", account " : "", uid && *uid ? uid : "",
			 pvpc && *pvpc ? ", " : "", pvpc && *pvpc ? pvpc : "");
	else if (uid && *uid && owner && strcmp(uid, owner))
		snprintf(outside, olen, "account %s", uid);
	else if (pvpc && *pvpc && vpc && strcmp(pvpc, vpc))
		snprintf(outside, olen, "%s, not this VPC", pvpc);
	if (outside[0])
		AWARN(a, NULL,
		      "%s is in %s: its members are outside these inputs, so "
		      "this rule matches none of them (fail-closed: it allows "
		      "only members the inputs hold)",
		      peer, outside);
	return true;
}

/* What a rule is, to pair describe-security-groups' rules with those of
 * describe-security-group-rules. */
struct rkey {
	bool egress;
	int proto;
	long long from, to; /* -1 when absent or meaningless */
	size_t src; /* index in peer_srcs */
	const char *peer;
};

static const json_t *match_rule(struct aws *a, const char *gid,
				const struct rkey *k, const char **where);

static int tags_node(struct aws *a, const json_t *obj, const char *key);

/*
 * One rule with one peer. sgr: the matching describe-security-group-rules
 * item, whose id and tags the rule takes (its own path is in a->path).
 */
static void add_peer_rule(struct aws *a, int seq, const struct spec *sp,
			  const char *perm_path, int dir, int peer_node,
			  const json_t *item, const char *outside,
			  const json_t *sgr)
{
	char buf[AWS_PATH_MAX + 64], v[24];
	const char *desc;
	int map;

	map = sg_mdoc_mapping(a->m, a->file, perm_path);
	if (!map) {
		a->oom = true;
		return;
	}
	put(a, map, "protocol", sp->proto_node);
	if (sp->has_ports) {
		snprintf(buf, sizeof(buf), "%s.%s", perm_path, sp->ports_key);
		put(a, map, "ports",
		    sg_mdoc_scalar(a->m, sp->ports, false, a->file, buf));
	}
	if (sp->is_icmp && sp->have_type) {
		snprintf(buf, sizeof(buf), "%s.FromPort", perm_path);
		snprintf(v, sizeof(v), "%lld", sp->itype);
		put(a, map, "icmp_type",
		    sg_mdoc_scalar(a->m, v, false, a->file, buf));
	}
	if (sp->is_icmp && sp->have_code) {
		snprintf(buf, sizeof(buf), "%s.ToPort", perm_path);
		snprintf(v, sizeof(v), "%lld", sp->icode);
		put(a, map, "icmp_code",
		    sg_mdoc_scalar(a->m, v, false, a->file, buf));
	}
	put(a, map, dir == SG_DIR_IN ? "source" : "destination", peer_node);
	desc = get_str(a, item, "Description", false);
	if (desc)
		put(a, map, "description", str_node(a, "Description", desc));
	if (outside && *outside)
		put(a, map, "outside", str_node(a, NULL, outside));
	if (sgr) {
		const char *id = json_string_value(
			json_object_get(sgr, "SecurityGroupRuleId"));
		int tags = tags_node(a, sgr, "Tags");

		if (id)
			put(a, map, "id", str_node(a, NULL, id));
		if (tags)
			put(a, map, "tags", tags);
	}
	if (!sg_mdoc_append(a->m, seq, map))
		a->oom = true;
}

static bool json_port(const json_t *o, const char *key, long long *v)
{
	json_t *j = json_object_get(o, key);

	*v = -1;
	if (j && json_is_integer(j))
		*v = json_integer_value(j);
	return true;
}

/* The key of a rule: direction, protocol, ports or ICMP type and code. */
static void rkey_spec(struct rkey *k, const json_t *o, bool egress)
{
	json_t *pj = json_object_get(o, "IpProtocol");
	char num[24];
	const char *ps = "";

	if (json_is_integer(pj)) {
		snprintf(num, sizeof(num), "%lld", json_integer_value(pj));
		ps = num;
	} else if (json_is_string(pj)) {
		ps = json_string_value(pj);
	}
	k->egress = egress;
	k->proto = proto_number(ps);
	json_port(o, "FromPort", &k->from);
	json_port(o, "ToPort", &k->to);
	if (k->proto != SG_PROTO_TCP && k->proto != SG_PROTO_UDP &&
	    k->proto != SG_PROTO_ICMP && k->proto != SG_PROTO_ICMPV6)
		k->from = k->to = -1;
}

static void add_permission(struct aws *a, int seq, const json_t *perm, int dir,
			   const char *owner, const char *vpc, const char *gid)
{
	char perm_path[AWS_PATH_MAX], outside[256];
	struct spec sp;
	struct rkey key;
	size_t npeers = 0;

	if (!json_is_object(perm)) {
		AERR(a, NULL, SG_E_MALFORMED, "must be an object, not %s",
		     type_name(perm));
		return;
	}
	if (!read_spec(a, perm, &sp) || a->oom)
		return;
	rkey_spec(&key, perm, dir == SG_DIR_OUT);
	snprintf(perm_path, sizeof(perm_path), "%s", a->path);
	for (size_t s = 0; s < sizeof(peer_srcs) / sizeof(peer_srcs[0]); s++) {
		json_t *list = get_array(a, perm, peer_srcs[s].list), *item;
		size_t old = push_key(a, peer_srcs[s].list), k;

		json_array_foreach(list, k, item)
		{
			size_t o2 = push_index(a, k);
			const char *peer;

			npeers++;
			if (!json_is_object(item)) {
				AERR(a, NULL, SG_E_MALFORMED,
				     "must be an object, not %s",
				     type_name(item));
			} else if ((peer = get_str(a, item, peer_srcs[s].key,
						   true)) &&
				   peer_usable(a, s, item, peer, owner, vpc,
					       outside, sizeof(outside))) {
				const char *where = NULL;
				const json_t *sgr;

				key.src = s;
				key.peer = peer;
				sgr = match_rule(a, gid, &key, &where);
				if (!sgr && where)
					AERR(a, NULL, SG_E_NOTFOUND,
					     "this rule of %s is not in %s, "
					     "which lists %s's rules: the two "
					     "outputs disagree (take both at "
					     "the same time)",
					     gid, where, gid);
				add_peer_rule(
					a, seq, &sp, perm_path, dir,
					str_node(a, peer_srcs[s].key, peer),
					item, outside, sgr);
			}
			pop(a, o2);
		}
		pop(a, old);
	}
	if (!npeers)
		AWARN(a, NULL,
		      "this permission names no IpRanges, Ipv6Ranges, "
		      "PrefixListIds or UserIdGroupPairs: it allows nothing");
}

static int add_permissions(struct aws *a, const json_t *sg, const char *key,
			   int dir, const char *owner, const char *vpc,
			   const char *gid)
{
	json_t *list = get_array(a, sg, key), *perm;
	size_t old = push_key(a, key), i;
	int seq = sg_mdoc_sequence(a->m, a->file, a->path);

	if (!seq) {
		a->oom = true;
		pop(a, old);
		return 0;
	}
	json_array_foreach(list, i, perm)
	{
		size_t o2 = push_index(a, i);

		add_permission(a, seq, perm, dir, owner, vpc, gid);
		pop(a, o2);
		if (a->oom)
			break;
	}
	pop(a, old);
	return seq;
}

/* ---- All JSON inputs together ---- */

/* A group of a describe-security-groups output. */
struct gref {
	const char *gid, *vpc;
};

/* A rule of a describe-security-group-rules output. */
struct sgr {
	const json_t *item;
	const char *file; /* input name */
	size_t index; /* in SecurityGroupRules */
	bool bare; /* a bare array: no SecurityGroupRules key */
	const char *gid;
	bool used, paired, skip;
};

struct vcount {
	const char *vpc;
	size_t groups, ifaces;
};

struct all {
	struct sg_mdoc *m;
	struct sg_diag *diag;
	const struct sg_input_opts *opts;
	struct gref *gref;
	size_t ngref, grefcap;
	struct sgr *sgr;
	size_t nsgr, sgrcap;
	struct vcount *vc;
	size_t nvc, vccap;
	const char *want; /* the VPC taken; NULL: any */
	size_t skip_groups, skip_ifaces, skip_rules;
	bool oom;
};

static bool grow(void **arr, size_t *cap, size_t need, size_t size)
{
	void *p;
	size_t n;

	if (need <= *cap)
		return true;
	n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * size);
	if (!p)
		return false;
	*arr = p;
	*cap = n;
	return true;
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) && *json_string_value(v) ? json_string_value(v)
							   : NULL;
}

static bool taken(struct all *al, const char *vpc)
{
	return !vpc || !al->want || !strcmp(vpc, al->want);
}

static int gref_cmp(const void *x, const void *y)
{
	return strcmp(((const struct gref *)x)->gid,
		      ((const struct gref *)y)->gid);
}

static const struct gref *find_gref(struct all *al, const char *gid)
{
	struct gref k = {gid, NULL};

	return al->ngref ? bsearch(&k, al->gref, al->ngref, sizeof(k),
				   gref_cmp)
			 : NULL;
}

static const json_t *match_rule(struct aws *a, const char *gid,
				const struct rkey *k, const char **where)
{
	struct all *al = a->all;
	bool any = false;

	*where = NULL;
	for (size_t i = 0; i < al->nsgr; i++) {
		struct sgr *r = &al->sgr[i];
		const json_t *it = r->item, *ref;
		struct rkey rk;
		const char *peer = NULL;
		size_t src = 0;

		if (!r->paired || strcmp(r->gid, gid))
			continue;
		any = true;
		if (r->used)
			continue;
		rkey_spec(&rk, it, json_is_true(json_object_get(it, "IsEgress")));
		if (rk.egress != k->egress || rk.proto != k->proto ||
		    rk.from != k->from || rk.to != k->to)
			continue;
		if ((peer = jstr(it, "CidrIpv4")))
			src = 0;
		else if ((peer = jstr(it, "CidrIpv6")))
			src = 1;
		else if ((peer = jstr(it, "PrefixListId")))
			src = 2;
		else if ((ref = json_object_get(it, "ReferencedGroupInfo")) &&
			 (peer = jstr(ref, "GroupId")))
			src = 3;
		if (!peer || src != k->src || strcmp(peer, k->peer))
			continue;
		r->used = true;
		return it;
	}
	if (any) {
		for (size_t i = 0; i < al->nsgr; i++)
			if (al->sgr[i].paired && !strcmp(al->sgr[i].gid, gid)) {
				*where = al->sgr[i].file;
				break;
			}
	}
	return NULL;
}

/* Tags: [{Key, Value}] as a mapping; 0 when there are none. */
static int tags_node(struct aws *a, const json_t *obj, const char *key)
{
	json_t *arr = get_array(a, obj, key), *t;
	size_t old, i;
	int map = 0;

	if (!arr || !json_array_size(arr))
		return 0;
	old = push_key(a, key);
	map = sg_mdoc_mapping(a->m, a->file, a->path);
	if (!map)
		a->oom = true;
	json_array_foreach(arr, i, t)
	{
		size_t o2 = push_index(a, i);
		const char *k, *v;

		if (!json_is_object(t)) {
			AERR(a, NULL, SG_E_PARAM, "a tag must be an object, not %s",
			     type_name(t));
		} else if ((k = get_str(a, t, "Key", true))) {
			v = get_str(a, t, "Value", false);
			if (map && !sg_mdoc_pair(a->m, map, str_node(a, "Key", k),
						 str_node(a, "Value", v ? v : "")))
				a->oom = true;
		}
		pop(a, o2);
	}
	pop(a, old);
	return map;
}

/* ---- Security groups and network interfaces ---- */

static void add_group(struct aws *a, const json_t *sg)
{
	const char *gid, *s, *owner, *vpc;
	json_t *egress;
	int key, map, tags;

	if (!json_is_object(sg)) {
		AERR(a, NULL, SG_E_PARAM,
		     "a security group must be an object, "
		     "not %s",
		     type_name(sg));
		return;
	}
	gid = get_str(a, sg, "GroupId", true);
	if (!gid)
		return;
	owner = get_str(a, sg, "OwnerId", false);
	vpc = get_str(a, sg, "VpcId", false);
	if (vpc && !*vpc)
		vpc = NULL;
	if (!taken(a->all, vpc)) {
		a->all->skip_groups++;
		return;
	}
	setting(a, sg, "VpcId", "vpc", "VPC");
	setting(a, sg, "OwnerId", "account", "account");

	key = str_node(a, "GroupId", gid);
	map = sg_mdoc_mapping(a->m, a->file, a->path);
	if (!key || !map) {
		a->oom = true;
		return;
	}
	s = get_str(a, sg, "GroupName", false);
	if (s)
		put(a, map, "name", str_node(a, "GroupName", s));
	s = get_str(a, sg, "Description", false);
	if (s)
		put(a, map, "description", str_node(a, "Description", s));
	tags = tags_node(a, sg, "Tags");
	if (tags)
		put(a, map, "tags", tags);
	put(a, map, "inbound",
	    add_permissions(a, sg, "IpPermissions", SG_DIR_IN, owner, vpc,
			    gid));
	egress = json_object_get(sg, "IpPermissionsEgress");
	if (!vpc && json_is_array(egress) && !json_array_size(egress)) {
		/* EC2-Classic: no VPC, and egress was never filtered. */
		AWARN(a, NULL,
		      "%s is an EC2-Classic group (no VpcId, "
		      "IpPermissionsEgress: []): Classic never filtered "
		      "outbound traffic, so it allows all outbound traffic "
		      "(as a VPC group's default egress) and its inbound "
		      "rules apply as written",
		      gid);
	} else if (egress) {
		/* Absent (not empty): AWS's default egress, as in YAML. */
		put(a, map, "outbound",
		    add_permissions(a, sg, "IpPermissionsEgress", SG_DIR_OUT,
				    owner, vpc, gid));
	}
	if (!sg_mdoc_pair(a->m, sg_mdoc_section(a->m, SG_SEC_GROUPS), key, map))
		a->oom = true;
}

/* Appends the string member key of every object of list to seq. */
static void add_strings(struct aws *a, int seq, const json_t *obj,
			const char *list, const char *key)
{
	json_t *arr = get_array(a, obj, list), *item;
	size_t old = push_key(a, list), i;

	json_array_foreach(arr, i, item)
	{
		size_t o2 = push_index(a, i);
		const char *s;

		if (!json_is_object(item))
			AERR(a, NULL, SG_E_PARAM, "must be an object, not %s",
			     type_name(item));
		else if ((s = get_str(a, item, key, true)) &&
			 !sg_mdoc_append(a->m, seq, str_node(a, key, s)))
			a->oom = true;
		pop(a, o2);
	}
	pop(a, old);
}

/* Is group id defined by some input (a YAML one, or a group read)? */
static bool group_known(struct aws *a, const char *gid)
{
	return find_gref(a->all, gid) || sg_mdoc_has_group(a->m, gid);
}

/*
 * An interface names a group no input holds: a group without rules
 * stands for it (its members get none of its rules: fail-closed), once.
 */
static void stub_group(struct aws *a, const char *gid, const char *eni)
{
	int key, map;

	AWARN(a, NULL,
	      "%s is not in these inputs: %s gets none of its rules (only "
	      "what its other groups allow passes); load the "
	      "describe-security-groups output that holds it with this file",
	      gid, eni);
	key = str_node(a, "GroupId", gid);
	map = sg_mdoc_mapping(a->m, a->file, a->path);
	if (!key || !map) {
		a->oom = true;
		return;
	}
	put(a, map, "outside",
	    str_node(a, NULL, "not in these inputs: its rules are unknown"));
	put(a, map, "inbound", sg_mdoc_sequence(a->m, a->file, a->path));
	put(a, map, "outbound", sg_mdoc_sequence(a->m, a->file, a->path));
	if (!sg_mdoc_pair(a->m, sg_mdoc_section(a->m, SG_SEC_GROUPS), key, map))
		a->oom = true;
}

static void add_interface(struct aws *a, const json_t *ni)
{
	const char *id, *s, *vpc, *itype;
	int key, map, ips, groups, tags;
	json_t *sdc, *garr, *g;
	char buf[AWS_PATH_MAX + 64];
	size_t i;

	if (!json_is_object(ni)) {
		AERR(a, NULL, SG_E_PARAM,
		     "a network interface must be an object, not %s",
		     type_name(ni));
		return;
	}
	id = get_str(a, ni, "NetworkInterfaceId", true);
	if (!id)
		return;
	vpc = jstr(ni, "VpcId");
	if (!taken(a->all, vpc)) {
		a->all->skip_ifaces++;
		return;
	}
	setting(a, ni, "VpcId", "vpc", "VPC");
	setting(a, ni, "OwnerId", "account", "account");
	key = str_node(a, "NetworkInterfaceId", id);
	map = sg_mdoc_mapping(a->m, a->file, a->path);
	ips = sg_mdoc_sequence(a->m, a->file,
			       sub(a, "PrivateIpAddresses", buf, sizeof(buf)));
	groups = sg_mdoc_sequence(a->m, a->file,
				  sub(a, "Groups", buf, sizeof(buf)));
	if (!key || !map || !ips || !groups) {
		a->oom = true;
		return;
	}
	if (json_object_get(ni, "PrivateIpAddresses")) {
		add_strings(a, ips, ni, "PrivateIpAddresses",
			    "PrivateIpAddress");
	} else {
		s = get_str(a, ni, "PrivateIpAddress", false);
		if (s && !sg_mdoc_append(a->m, ips,
					 str_node(a, "PrivateIpAddress", s)))
			a->oom = true;
	}
	add_strings(a, ips, ni, "Ipv6Addresses", "Ipv6Address");
	garr = get_array(a, ni, "Groups");
	if (garr && !json_array_size(garr)) {
		/* NAT gateways and other AWS-managed interfaces. */
		itype = jstr(ni, "InterfaceType");
		sg_note(a->diag, sg_mdoc_json_pos(a->m, a->file, a->path),
			"%s (InterfaceType %s) has no security group "
			"(Groups: []): AWS filters none of its traffic, so its "
			"addresses belong to no group, it never joins the "
			"default group and there is nothing to attach",
			id, itype ? itype : "not given");
		put(a, map, "filtered", plain_node(a, "Groups", "false"));
	} else {
		add_strings(a, groups, ni, "Groups", "GroupId");
		json_array_foreach(garr, i, g)
		{
			const char *gid = jstr(g, "GroupId");
			size_t old;

			if (!gid || group_known(a, gid))
				continue;
			old = push_key(a, "Groups");
			push_index(a, i);
			stub_group(a, gid, id);
			pop(a, old);
		}
		put(a, map, "security_groups", groups);
	}
	put(a, map, "ips", ips);
	tags = tags_node(a, ni, json_object_get(ni, "TagSet") ? "TagSet"
							       : "Tags");
	if (tags)
		put(a, map, "tags", tags);
	sdc = json_object_get(ni, "SourceDestCheck");
	if (sdc && !json_is_null(sdc)) {
		if (!json_is_boolean(sdc))
			AERR(a, "SourceDestCheck", SG_E_PARAM,
			     "must be true or false, not %s", type_name(sdc));
		else
			put(a, map, "source_dest_check",
			    plain_node(a, "SourceDestCheck",
				       json_is_true(sdc) ? "true" : "false"));
	}
	if (!sg_mdoc_pair(a->m, sg_mdoc_section(a->m, SG_SEC_INSTANCES), key,
			  map))
		a->oom = true;
}

/* ---- describe-security-group-rules read alone ---- */

/* One rule item into the inbound or outbound list of its group. */
static void add_rule_item(struct aws *a, int seq, const json_t *it,
			  const char *owner)
{
	bool egress = json_is_true(json_object_get(it, "IsEgress"));
	char outside[256] = "";
	const json_t *ref = json_object_get(it, "ReferencedGroupInfo");
	const char *peer = NULL, *pkey = NULL;
	struct spec sp;

	if (!read_spec(a, it, &sp) || a->oom)
		return;
	if ((peer = get_str(a, it, "CidrIpv4", false)))
		pkey = "CidrIpv4";
	else if ((peer = get_str(a, it, "CidrIpv6", false)))
		pkey = "CidrIpv6";
	else if ((peer = get_str(a, it, "PrefixListId", false))) {
		pkey = "PrefixListId";
		if (!peer_usable(a, 2, it, peer, owner, NULL, outside,
				 sizeof(outside)))
			return;
	} else if (json_is_object(ref)) {
		size_t old = push_key(a, "ReferencedGroupInfo");

		peer = get_str(a, ref, "GroupId", true);
		if (peer)
			peer_usable(a, 3, ref, peer, owner, NULL, outside,
				    sizeof(outside));
		pop(a, old);
		pkey = "ReferencedGroupInfo";
	}
	if (!peer) {
		if (!pkey)
			AERR(a, NULL, SG_E_MISSING,
			     "this rule names no CidrIpv4, CidrIpv6, "
			     "PrefixListId or ReferencedGroupInfo");
		return;
	}
	add_peer_rule(a, seq, &sp, a->path, egress ? SG_DIR_OUT : SG_DIR_IN,
		      str_node(a, pkey, peer), it, outside, it);
}

/* The rules of groups no describe-security-groups output holds: each
 * GroupId becomes a group of exactly these rules (no default egress). */
static void add_rule_groups(struct all *al, struct aws *ins, size_t nin)
{
	for (size_t i = 0; i < al->nsgr && !al->oom; i++) {
		struct sgr *r = &al->sgr[i];
		struct aws *a = NULL;
		int key, map, seq[2];
		size_t old;

		if (r->paired || r->skip || r->used)
			continue;
		for (size_t k = 0; k < nin; k++)
			if (ins[k].file == r->file)
				a = &ins[k];
		if (!a)
			continue;
		old = a->plen;
		if (!r->bare)
			push_key(a, "SecurityGroupRules");
		push_index(a, r->index);
		key = str_node(a, "GroupId", r->gid);
		map = sg_mdoc_mapping(a->m, a->file, a->path);
		seq[0] = sg_mdoc_sequence(a->m, a->file, a->path);
		seq[1] = sg_mdoc_sequence(a->m, a->file, a->path);
		pop(a, old);
		if (!key || !map || !seq[0] || !seq[1]) {
			al->oom = true;
			return;
		}
		put(a, map, "inbound", seq[0]);
		put(a, map, "outbound", seq[1]);
		/* This item and every later one of the same group. */
		for (size_t j = i; j < al->nsgr; j++) {
			struct sgr *q = &al->sgr[j];
			struct aws *qa = NULL;
			const char *owner;

			if (q->paired || q->used || strcmp(q->gid, r->gid))
				continue;
			for (size_t k = 0; k < nin; k++)
				if (ins[k].file == q->file)
					qa = &ins[k];
			if (!qa)
				continue;
			q->used = true;
			old = qa->plen;
			if (!q->bare)
				push_key(qa, "SecurityGroupRules");
			push_index(qa, q->index);
			owner = jstr(q->item, "GroupOwnerId");
			if (owner)
				setting(qa, q->item, "GroupOwnerId", "account",
					"account");
			add_rule_item(
				qa,
				seq[json_is_true(json_object_get(q->item,
								 "IsEgress"))],
				q->item, owner);
			pop(qa, old);
		}
		if (!sg_mdoc_pair(a->m, sg_mdoc_section(a->m, SG_SEC_GROUPS),
				  key, map))
			al->oom = true;
	}
}

/* ---- Reading and telling the documents apart ---- */

static void add_list(struct aws *a, const json_t *list, const char *key,
		     void (*fn)(struct aws *, const json_t *))
{
	size_t old = push_key(a, key), i;
	json_t *item;

	if (!json_is_array(list)) {
		AERR(a, NULL, SG_E_PARAM, "must be an array, not %s",
		     type_name(list));
	} else {
		json_array_foreach(list, i, item)
		{
			size_t o2 = push_index(a, i);

			fn(a, item);
			pop(a, o2);
			if (a->oom)
				break;
		}
	}
	pop(a, old);
}

enum item_kind { K_GROUP, K_IFACE, K_RULE, K_PERMS, K_OTHER };

static enum item_kind item_kind(const json_t *item)
{
	if (json_is_array(item) ||
	    (json_is_object(item) && json_object_get(item, "IpProtocol") &&
	     !json_object_get(item, "GroupId")))
		return K_PERMS;
	if (!json_is_object(item))
		return K_OTHER;
	if (json_object_get(item, "SecurityGroupRuleId") ||
	    json_object_get(item, "IsEgress"))
		return K_RULE;
	if (json_object_get(item, "GroupId"))
		return K_GROUP;
	if (json_object_get(item, "NetworkInterfaceId"))
		return K_IFACE;
	return K_OTHER;
}

/* A bare array (aws ... --query SecurityGroups): what its items look like. */
static void add_bare(struct aws *a, const json_t *arr)
{
	size_t i;
	json_t *item;

	json_array_foreach(arr, i, item)
	{
		size_t old = push_index(a, i);

		switch (item_kind(item)) {
		case K_GROUP:
			add_group(a, item);
			break;
		case K_IFACE:
			add_interface(a, item);
			break;
		case K_RULE:
			break; /* collected before */
		case K_PERMS:
			AERR(a, NULL, SG_E_PARAM,
			     "permissions without their group (the output of "
			     "--query 'SecurityGroups[*].IpPermissions'?): run "
			     "aws ec2 describe-security-groups without --query "
			     "so that each group keeps its GroupId");
			break;
		default:
			AERR(a, NULL, SG_E_PARAM,
			     "neither a security group (GroupId), a network "
			     "interface (NetworkInterfaceId) nor a security "
			     "group rule (SecurityGroupRuleId)");
		}
		pop(a, old);
		if (a->oom)
			break;
	}
}

static void vc_add(struct all *al, const char *vpc, bool group)
{
	size_t i;

	if (!vpc)
		return;
	for (i = 0; i < al->nvc; i++)
		if (!strcmp(al->vc[i].vpc, vpc))
			break;
	if (i == al->nvc) {
		if (!grow((void **)&al->vc, &al->vccap, i + 1,
			  sizeof(*al->vc))) {
			al->oom = true;
			return;
		}
		al->vc[i] = (struct vcount){vpc, 0, 0};
		al->nvc++;
	}
	if (group)
		al->vc[i].groups++;
	else
		al->vc[i].ifaces++;
}

static void census_item(struct all *al, const json_t *item, const char *file,
			size_t index, bool bare)
{
	switch (item_kind(item)) {
	case K_GROUP: {
		const char *gid = jstr(item, "GroupId");

		vc_add(al, jstr(item, "VpcId"), true);
		if (gid && grow((void **)&al->gref, &al->grefcap, al->ngref + 1,
				sizeof(*al->gref)))
			al->gref[al->ngref++] =
				(struct gref){gid, jstr(item, "VpcId")};
		else if (gid)
			al->oom = true;
		break;
	}
	case K_IFACE:
		vc_add(al, jstr(item, "VpcId"), false);
		break;
	case K_RULE:
		if (!jstr(item, "GroupId"))
			break; /* reported when read */
		if (!grow((void **)&al->sgr, &al->sgrcap, al->nsgr + 1,
			  sizeof(*al->sgr))) {
			al->oom = true;
			break;
		}
		al->sgr[al->nsgr++] = (struct sgr){
			.item = item,
			.file = file,
			.index = index,
			.bare = bare,
			.gid = jstr(item, "GroupId"),
		};
		break;
	default:
		break;
	}
}

static void census(struct all *al, const json_t *root, const char *file)
{
	const json_t *list, *item;
	size_t i;

	if (json_is_array(root)) {
		json_array_foreach(root, i, item)
			census_item(al, item, file, i, true);
		return;
	}
	list = json_object_get(root, "SecurityGroups");
	json_array_foreach(list, i, item)
		if (json_is_object(item))
			census_item(al, item, file, i, false);
	list = json_object_get(root, "NetworkInterfaces");
	json_array_foreach(list, i, item)
		if (json_is_object(item))
			census_item(al, item, file, i, false);
	list = json_object_get(root, "SecurityGroupRules");
	json_array_foreach(list, i, item)
		if (json_is_object(item))
			census_item(al, item, file, i, false);
}

static int vc_cmp(const void *x, const void *y)
{
	const struct vcount *a = x, *b = y;

	if (a->groups != b->groups)
		return a->groups > b->groups ? -1 : 1;
	return strcmp(a->vpc, b->vpc);
}

/* "vpc-a (180 groups), vpc-b (3 groups, 2 interfaces), ..." */
static char *vc_list(struct all *al)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	qsort(al->vc, al->nvc, sizeof(*al->vc), vc_cmp);
	for (size_t i = 0; i < al->nvc; i++) {
		const struct vcount *v = &al->vc[i];

		fprintf(f, "%s%s (", i ? ", " : "", v->vpc);
		if (v->groups)
			fprintf(f, "%zu group%s", v->groups,
				v->groups == 1 ? "" : "s");
		if (v->ifaces)
			fprintf(f, "%s%zu interface%s", v->groups ? ", " : "",
				v->ifaces, v->ifaces == 1 ? "" : "s");
		fputc(')', f);
	}
	fclose(f);
	return s;
}

/* Which VPC to read: --vpc, the only one, or a refusal. */
static bool choose_vpc(struct all *al, const char *file)
{
	struct sg_pos at = {file, 0, 0};
	char *list;
	size_t i;

	if (al->opts && al->opts->vpc[0]) {
		for (i = 0; i < al->nvc; i++)
			if (!strcmp(al->vc[i].vpc, al->opts->vpc))
				break;
		al->want = al->opts->vpc;
		if (i < al->nvc || !al->nvc)
			return true;
		list = vc_list(al);
		sg_error(al->diag, at, SG_E_PARAM,
			 "--vpc %s: no group or interface of these inputs is "
			 "in it; they hold %s",
			 al->opts->vpc, list ? list : "other VPCs");
		free(list);
		return false;
	}
	if (al->nvc <= 1) {
		al->want = al->nvc ? al->vc[0].vpc : NULL;
		return true;
	}
	list = vc_list(al);
	sg_error(al->diag, at, SG_E_PARAM,
		 "these inputs hold %zu VPCs: %s; sgctl enforces one VPC: "
		 "choose it with --vpc ID",
		 al->nvc, list ? list : "");
	free(list);
	return false;
}

/* Parses one input; NULL after reporting why it is not read. */
static json_t *load_json(struct sg_diag *diag, const char *file,
			 const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root, *tok;

	/* A UTF-8 byte order mark is not JSON; editors add one anyway. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			  &jerr);
	if (!root) {
		struct sg_pos at = {file, jerr.line > 0 ? jerr.line : 0,
				    jerr.column > 0 ? jerr.column : 0};

		/* jansson's own text names its flag (JSON_ALLOW_NUL). */
		if (json_error_code(&jerr) == json_error_null_character)
			sg_error(diag, at, NULL,
				 "JSON: a string holds a NUL character "
				 "(\\u0000), which no AWS value contains");
		else
			sg_error(diag, at, NULL, "JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_array(root) && !json_is_object(root)) {
		sg_error(diag, (struct sg_pos){file, 0, 0}, NULL,
			 "JSON: expected the output of aws ec2 "
			 "describe-security-groups, "
			 "describe-security-group-rules or "
			 "describe-network-interfaces, not %s",
			 type_name(root));
		json_decref(root);
		return NULL;
	}
	tok = json_object_get(root, "NextToken");
	if (json_is_string(tok) && *json_string_value(tok)) {
		sg_error(diag, (struct sg_pos){file, 0, 0}, NULL,
			 "JSON: NextToken is set: this is one page of a longer "
			 "list, and a policy read from part of it would be "
			 "wrong. The AWS CLI fetches every page itself unless "
			 "told not to: run the command again without "
			 "--max-items, --page-size or --no-paginate (or pass "
			 "--starting-token NextToken until none is left and "
			 "give every page)");
		json_decref(root);
		return NULL;
	}
	if (json_is_object(root) && !json_object_get(root, "SecurityGroups") &&
	    !json_object_get(root, "NetworkInterfaces") &&
	    !json_object_get(root, "SecurityGroupRules")) {
		sg_error(diag, (struct sg_pos){file, 0, 0}, NULL,
			 "JSON: no SecurityGroups, SecurityGroupRules or "
			 "NetworkInterfaces key: expected the output of aws "
			 "ec2 describe-security-groups, "
			 "describe-security-group-rules or "
			 "describe-network-interfaces");
		json_decref(root);
		return NULL;
	}
	return root;
}

int sg_aws_add_all(struct sg_mdoc *m, const struct sg_aws_input *inputs,
		   size_t n, const struct sg_input_opts *opts)
{
	struct all al = {.m = m, .diag = sg_mdoc_diag(m), .opts = opts};
	struct aws *a = calloc(n ? n : 1, sizeof(*a));
	json_t **roots = calloc(n ? n : 1, sizeof(*roots));
	const char *first = n ? sg_diag_intern(al.diag, inputs[0].name) : "";
	bool oom = !a || !roots;
	size_t nread = 0;

	for (size_t i = 0; i < n && !oom; i++) {
		a[i] = (struct aws){.all = &al,
				    .m = m,
				    .diag = al.diag,
				    .input = inputs[i].input};
		a[i].file = sg_diag_intern(al.diag, inputs[i].name);
		roots[i] = load_json(al.diag, a[i].file, inputs[i].text,
				     inputs[i].len);
		if (roots[i]) {
			census(&al, roots[i], a[i].file);
			nread++;
		}
	}
	if (oom || al.oom || !nread || !choose_vpc(&al, first))
		goto out;
	if (al.ngref)
		qsort(al.gref, al.ngref, sizeof(*al.gref), gref_cmp);
	for (size_t i = 0; i < al.nsgr; i++) {
		const struct gref *g = find_gref(&al, al.sgr[i].gid);

		al.sgr[i].paired = g != NULL;
		al.sgr[i].skip = g && !taken(&al, g->vpc);
		if (al.sgr[i].skip) {
			al.sgr[i].paired = false;
			al.skip_rules++;
		}
	}
	for (size_t i = 0; i < n && !oom; i++) {
		json_t *root = roots[i], *sgs, *nis;

		if (!root)
			continue;
		if (json_is_array(root)) {
			add_bare(&a[i], root);
		} else {
			sgs = json_object_get(root, "SecurityGroups");
			nis = json_object_get(root, "NetworkInterfaces");
			if (sgs)
				add_list(&a[i], sgs, "SecurityGroups",
					 add_group);
			if (nis && !a[i].oom)
				add_list(&a[i], nis, "NetworkInterfaces",
					 add_interface);
		}
		oom |= a[i].oom;
	}
	if (!oom)
		add_rule_groups(&al, a, n);
	/* Rules of a group read from both outputs that only one holds. */
	for (size_t i = 0; i < al.nsgr && !oom; i++) {
		const struct sgr *r = &al.sgr[i];
		const json_t *id = json_object_get(r->item,
						   "SecurityGroupRuleId");
		char path[64];

		if (!r->paired || r->used)
			continue;
		snprintf(path, sizeof(path), "%s[%zu]",
			 r->bare ? "" : "SecurityGroupRules", r->index);
		sg_error(al.diag, sg_mdoc_json_pos(m, r->file, path),
			 SG_E_NOTFOUND,
			 "rule %s of %s is not among the rules of %s in the "
			 "describe-security-groups output read with it: the "
			 "two outputs disagree (take both at the same time)",
			 json_is_string(id) ? json_string_value(id) : "",
			 r->gid, r->gid);
	}
	if (al.want && opts && opts->vpc[0] &&
	    (al.skip_groups || al.skip_ifaces))
		sg_diag_add(al.diag, SG_NOTE, (struct sg_pos){first, 0, 0}, NULL,
			"--vpc %s: skipped %zu groups, %zu interfaces and %zu "
			"rules of %zu other VPC%s",
			al.want, al.skip_groups, al.skip_ifaces, al.skip_rules,
			al.nvc - 1, al.nvc - 1 == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		oom |= a[i].oom;
out:
	for (size_t i = 0; roots && i < n; i++)
		json_decref(roots[i]);
	free(roots);
	free(a);
	free(al.gref);
	free(al.sgr);
	free(al.vc);
	return oom || al.oom || sg_mdoc_status(m) ? -ENOMEM : 0;
}
