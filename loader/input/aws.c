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

struct aws {
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
 * defines; group references must stay in the account and the VPC.
 */
static bool peer_usable(struct aws *a, size_t src, const json_t *item,
			const char *peer, const char *owner, const char *vpc)
{
	const char *uid, *pvpc, *pcx;

	if (src == 2 && !sg_mdoc_has_prefix_list(a->m, peer)) {
		AERR(a, "PrefixListId", SG_E_PLNOTFOUND,
		     "prefix list %s: AWS's JSON does not hold its entries; "
		     "define it under prefix_lists in a YAML file loaded with "
		     "this one",
		     peer);
		return false;
	}
	if (src != 3)
		return true;
	uid = get_str(a, item, "UserId", false);
	pvpc = get_str(a, item, "VpcId", false);
	pcx = get_str(a, item, "VpcPeeringConnectionId", false);
	if (pcx && *pcx) {
		AERR(a, "VpcPeeringConnectionId", SG_E_NOTFOUND,
		     "%s is reached through peering connection %s: "
		     "cross-account/peering references are not supported",
		     peer, pcx);
		return false;
	}
	if (uid && owner && strcmp(uid, owner)) {
		AERR(a, "UserId", SG_E_NOTFOUND,
		     "%s belongs to account %s, not %s: "
		     "cross-account/peering references are not supported",
		     peer, uid, owner);
		return false;
	}
	if (pvpc && vpc && strcmp(pvpc, vpc)) {
		AERR(a, "VpcId", SG_E_NOTFOUND,
		     "%s is in %s, not %s: a rule may only reference groups "
		     "of its own VPC",
		     peer, pvpc, vpc);
		return false;
	}
	return true;
}

static void add_peer_rule(struct aws *a, int seq, const struct spec *sp,
			  const char *perm_path, int dir, int peer_node,
			  const json_t *item)
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
	if (!sg_mdoc_append(a->m, seq, map))
		a->oom = true;
}

static void add_permission(struct aws *a, int seq, const json_t *perm, int dir,
			   const char *owner, const char *vpc)
{
	char perm_path[AWS_PATH_MAX];
	struct spec sp;
	size_t npeers = 0;

	if (!json_is_object(perm)) {
		AERR(a, NULL, SG_E_MALFORMED, "must be an object, not %s",
		     type_name(perm));
		return;
	}
	if (!read_spec(a, perm, &sp) || a->oom)
		return;
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
				   peer_usable(a, s, item, peer, owner, vpc)) {
				add_peer_rule(
					a, seq, &sp, perm_path, dir,
					str_node(a, peer_srcs[s].key, peer),
					item);
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
			   int dir, const char *owner, const char *vpc)
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

		add_permission(a, seq, perm, dir, owner, vpc);
		pop(a, o2);
		if (a->oom)
			break;
	}
	pop(a, old);
	return seq;
}

/* ---- Security groups and network interfaces ---- */

static void add_group(struct aws *a, const json_t *sg)
{
	const char *gid, *s, *owner, *vpc;
	int key, map;

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
	put(a, map, "inbound",
	    add_permissions(a, sg, "IpPermissions", SG_DIR_IN, owner, vpc));
	/* Absent (not empty): AWS's default egress, as in YAML. */
	if (json_object_get(sg, "IpPermissionsEgress"))
		put(a, map, "outbound",
		    add_permissions(a, sg, "IpPermissionsEgress", SG_DIR_OUT,
				    owner, vpc));
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

static void add_interface(struct aws *a, const json_t *ni)
{
	const char *id, *s;
	int key, map, ips, groups;
	json_t *sdc;
	char buf[AWS_PATH_MAX + 64];

	if (!json_is_object(ni)) {
		AERR(a, NULL, SG_E_PARAM,
		     "a network interface must be an object, not %s",
		     type_name(ni));
		return;
	}
	id = get_str(a, ni, "NetworkInterfaceId", true);
	if (!id)
		return;
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
	add_strings(a, groups, ni, "Groups", "GroupId");
	put(a, map, "ips", ips);
	put(a, map, "security_groups", groups);
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

/* A bare array (aws ... --query SecurityGroups): what its items look like. */
static void add_bare(struct aws *a, const json_t *arr)
{
	size_t i;
	json_t *item;

	json_array_foreach(arr, i, item)
	{
		size_t old = push_index(a, i);

		if (json_is_object(item) && json_object_get(item, "GroupId"))
			add_group(a, item);
		else if (json_is_object(item) &&
			 json_object_get(item, "NetworkInterfaceId"))
			add_interface(a, item);
		else
			AERR(a, NULL, SG_E_PARAM,
			     "neither a security group (GroupId) nor a "
			     "network interface (NetworkInterfaceId)");
		pop(a, old);
		if (a->oom)
			break;
	}
}

int sg_aws_add(struct sg_mdoc *m, size_t input, const char *name,
	       const char *text, size_t len)
{
	struct aws a = {.m = m, .diag = sg_mdoc_diag(m), .input = input};
	json_error_t jerr;
	json_t *root, *sgs, *nis;

	a.file = sg_diag_intern(a.diag, name);
	/* A UTF-8 byte order mark is not JSON; editors add one anyway. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			  &jerr);
	if (!root) {
		struct sg_pos at = {a.file, jerr.line > 0 ? jerr.line : 0,
				    jerr.column > 0 ? jerr.column : 0};

		/* jansson's own text names its flag (JSON_ALLOW_NUL). */
		if (json_error_code(&jerr) == json_error_null_character)
			sg_error(a.diag, at, NULL,
				 "JSON: a string holds a NUL character "
				 "(\\u0000), which no AWS value contains");
		else
			sg_error(a.diag, at, NULL, "JSON: %s", jerr.text);
		return 0;
	}
	if (json_is_array(root)) {
		add_bare(&a, root);
	} else if (!json_is_object(root)) {
		sg_error(a.diag, (struct sg_pos){a.file, 0, 0}, NULL,
			 "JSON: expected the output of aws ec2 "
			 "describe-security-groups or "
			 "describe-network-interfaces, not %s",
			 type_name(root));
	} else {
		sgs = json_object_get(root, "SecurityGroups");
		nis = json_object_get(root, "NetworkInterfaces");
		if (!sgs && !nis)
			sg_error(a.diag, (struct sg_pos){a.file, 0, 0}, NULL,
				 "JSON: no SecurityGroups or NetworkInterfaces "
				 "key: expected the output of aws ec2 "
				 "describe-security-groups or "
				 "describe-network-interfaces");
		if (sgs)
			add_list(&a, sgs, "SecurityGroups", add_group);
		if (nis && !a.oom)
			add_list(&a, nis, "NetworkInterfaces", add_interface);
	}
	json_decref(root);
	return a.oom || sg_mdoc_status(m) ? -ENOMEM : 0;
}
