// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The rule editor's EDIT body and edit (rule_edit.h): the save and the
 * preview both come here, so the rules a preview shows are the rules the
 * save then writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <linux/types.h>

#include "sgctl.h"
#include "config/ruletype.h"
#include "console/rule_edit.h"
#include "util/codes.h"

static const struct sg_pos nowhere;

/* A member given as a string or a number, as text into buf; NULL when
 * absent, "" (and *bad) when it is neither. */
static const char *scalar(json_t *o, const char *key, char *buf, size_t len,
			  bool *bad)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
		return buf;
	}
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	*bad = true;
	return "";
}

/* "tcp" / "6" -> 6, "all" / "-1" -> SG_PROTO_ALL; -3 when not known. */
static int proto_number(const char *p)
{
	char *end;
	long v;

	if (!strcasecmp(p, "all") || !strcmp(p, "-1"))
		return SG_PROTO_ALL;
	for (int n = 0; n < 256; n++)
		if (sg_proto_name(n) && !strcasecmp(sg_proto_name(n), p))
			return n;
	v = strtol(p, &end, 10);
	return *p && !*end && v >= 0 && v <= 255 ? (int)v : -3;
}

/*
 * One SPEC of the editor into a rule spec: the Type's preset when the
 * protocol and ports are the Type's (the rule then reads as the CLI's
 * `--type http` would), else the protocol and ports as given. 0, or an
 * error for the row in diag.
 */
static int row_spec(json_t *o, int dir, struct sg_rule_spec *s,
		    struct sg_rule_edit_text *tx, struct sg_diag *diag)
{
	const struct sg_ruletype *t = NULL;
	const char *type, *ports;
	bool bad = false;

	memset(s, 0, sizeof(*s));
	s->dir = dir;
	if (!json_is_object(o)) {
		sg_error(diag, nowhere, SG_E_MALFORMED,
			 "a rule to add must be a JSON object");
		return -EINVAL;
	}
	type = scalar(o, "type", tx->type, sizeof(tx->type), &bad);
	s->protocol = scalar(o, "protocol", tx->proto, sizeof(tx->proto), &bad);
	ports = scalar(o, "port_range", tx->ports, sizeof(tx->ports), &bad);
	s->icmp_type =
		scalar(o, "icmp_type", tx->itype, sizeof(tx->itype), &bad);
	s->icmp_code =
		scalar(o, "icmp_code", tx->icode, sizeof(tx->icode), &bad);
	s->peer = json_string_value(json_object_get(o, "peer"));
	s->description = json_string_value(json_object_get(o, "description"));
	if (bad || (json_object_get(o, "peer") && !s->peer) ||
	    (json_object_get(o, "description") && !s->description &&
	     !json_is_null(json_object_get(o, "description")))) {
		sg_error(diag, nowhere, SG_E_MALFORMED,
			 "type, protocol, port_range, icmp_type, icmp_code, "
			 "peer and description are strings (or numbers)");
		return -EINVAL;
	}
	if (s->description && !*s->description)
		s->description = NULL;
	if (s->protocol && !*s->protocol)
		s->protocol = NULL;
	if (s->protocol && !strcmp(s->protocol, "-1"))
		s->protocol = "all"; /* AWS's IpProtocol -1 */
	if (ports && !strcasecmp(ports, "all"))
		ports = "all";
	if (ports && (!*ports || !strcasecmp(ports, "N/A")))
		ports = NULL;
	if (s->protocol) {
		int p = proto_number(s->protocol);

		/* What the editor shows beside a protocol that has no ports
		 * ("All") or no ICMP type is not part of the rule. */
		if (p != SG_PROTO_TCP && p != SG_PROTO_UDP)
			ports = NULL;
		if (p != SG_PROTO_ICMP && p != SG_PROTO_ICMPV6)
			s->icmp_type = s->icmp_code = NULL;
	}
	if (s->icmp_type && !strcmp(s->icmp_type, "-1"))
		s->icmp_type = "all";
	if (s->icmp_code && !strcmp(s->icmp_code, "-1"))
		s->icmp_code = "all";
	if (type && *type) {
		t = sg_ruletype_find(type);
		if (!t && !s->protocol) {
			/* A preset of the config ("ssh"): the parser judges
			 * it. */
			s->type = type;
			return 0;
		}
	}
	if (!t && !s->protocol && !(type && *type)) {
		sg_error(diag, nowhere, SG_E_MISSING,
			 "a rule needs a type or a protocol");
		return -EINVAL;
	}
	if (t && !s->protocol) {
		if (t->proto == SG_RULETYPE_ANY_PROTO) {
			sg_error(diag, nowhere, SG_E_MISSING,
				 "%s needs a protocol number", t->name);
			return -EINVAL;
		}
		s->protocol = sg_ruletype_protocol(t);
		if (t->fixed)
			ports = NULL;
	}
	/* The Type's own protocol and ports: say it as its preset. */
	if (t && t->preset && proto_number(s->protocol) == t->proto &&
	    !s->icmp_type && !s->icmp_code) {
		char want[24];
		const char *tr =
			sg_port_range_str(t->proto, t->port_lo, t->port_hi,
					  SG_ANY, want, sizeof(want));
		bool same = !ports || !strcmp(ports, tr) ||
			    (t->port_lo == 0 && t->port_hi == 65535 &&
			     !strcmp(ports, "all"));

		if (same) {
			s->type = t->preset;
			s->protocol = NULL;
			ports = NULL;
		}
	}
	s->ports = ports;
	return 0;
}

void sg_rule_edit_free(struct sg_rule_edit *e)
{
	json_decref(e->body);
	free(e->del);
	free(e->add);
	free(e->text);
	free(e->added);
	free(e->deleted);
	memset(e, 0, sizeof(*e));
	e->row = -1;
}

int sg_rule_edit_parse(struct sg_rule_edit *e, const char *group,
		       const struct sg_req *r, struct sg_resp *w)
{
	json_t *del, *add;
	struct sg_diag diag;
	json_error_t err;
	const char *ds;

	memset(e, 0, sizeof(*e));
	e->group = group;
	e->row = -1;
	e->body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES,
			     &err);
	if (!e->body) {
		sg_resp_error(w, 400, "InvalidRequest", "bad JSON: %s",
			      err.text);
		return -1;
	}
	if (!json_is_object(e->body)) {
		sg_resp_error(w, 400, "InvalidRequest",
			      "the body must be a JSON object");
		return -1;
	}
	ds = json_string_value(json_object_get(e->body, "direction"));
	if (!ds || (strcmp(ds, "inbound") && strcmp(ds, "outbound"))) {
		sg_resp_error(w, 400, "InvalidRequest",
			      "direction must be \"inbound\" or \"outbound\"");
		return -1;
	}
	e->dir = !strcmp(ds, "inbound") ? SG_DIR_IN : SG_DIR_OUT;
	del = json_object_get(e->body, "delete");
	add = json_object_get(e->body, "add");
	if ((del && !json_is_array(del) && !json_is_null(del)) ||
	    (add && !json_is_array(add) && !json_is_null(add))) {
		sg_resp_error(w, 400, "InvalidRequest",
			      "delete and add must be arrays");
		return -1;
	}
	e->ndel = json_is_array(del) ? json_array_size(del) : 0;
	e->nadd = json_is_array(add) ? json_array_size(add) : 0;
	if (e->ndel > SG_RULE_EDIT_MAX_ROWS || e->nadd > SG_RULE_EDIT_MAX_ROWS) {
		sg_resp_error(w, 400, "InvalidRequest",
			      "at most %d rows per save", SG_RULE_EDIT_MAX_ROWS);
		return -1;
	}
	e->del = calloc(e->ndel + 1, sizeof(*e->del));
	e->deleted = calloc(e->ndel + 1, sizeof(*e->deleted));
	e->add = calloc(e->nadd + 1, sizeof(*e->add));
	e->text = calloc(e->nadd + 1, sizeof(*e->text));
	e->added = calloc(e->nadd + 1, sizeof(*e->added));
	if (!e->del || !e->deleted || !e->add || !e->text || !e->added) {
		sg_resp_error(w, 503, "ServiceUnavailable", "out of memory");
		return -1;
	}
	sg_diag_init(&diag);
	for (size_t i = 0; i < e->ndel; i++) {
		e->del[i] = json_string_value(json_array_get(del, i));
		if (!e->del[i]) {
			sg_error(&diag, nowhere, SG_E_MALFORMED,
				 "delete: rule ids are strings (sgr-...)");
			sg_resp_diag(w, &diag, -1);
			sg_diag_free(&diag);
			return -1;
		}
	}
	for (size_t i = 0; i < e->nadd; i++)
		if (row_spec(json_array_get(add, i), e->dir, &e->add[i],
			     &e->text[i], &diag)) {
			sg_resp_diag(w, &diag, (int)i);
			sg_diag_free(&diag);
			return -1;
		}
	sg_diag_free(&diag);
	return 0;
}

int sg_rule_edit_run(struct sg_desired *d, struct sg_rule_edit *e,
		     const struct sg_config *cur, struct sg_config *next,
		     struct sg_diag *diag)
{
	/* Judged once, not per row: a save stays quick on a big VPC. */
	return sg_edit_rule_batch(d, e->group, cur, e->del, e->ndel,
				  e->deleted, e->add, e->nadd, e->added,
				  &e->row, next, diag);
}

int sg_rule_edit_fn(struct sg_desired *d, void *arg, struct sg_diag *diag)
{
	return sg_rule_edit_run(d, arg, NULL, NULL, diag);
}
