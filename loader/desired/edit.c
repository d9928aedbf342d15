// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Edits of a desired state (edit.h). Every edit works on a copy of the
 * document and replaces the state only once the validator has judged the
 * whole copy, so a failed edit changes nothing.
 *
 * Rules have no place of their own in the document: a group's rules are,
 * per direction in the order its keys are written, one per peer of each
 * entry (config/rules.c), then the default egress pair when the group
 * has no outbound key. map_rules() walks the document in that order and
 * checks each step against the validated group (direction and peer), so
 * a rule id found in the config leads to its entry and peer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "sgctl.h"
#include "desired/edit.h"
#include "util/codes.h"

/* A group only the selector of `rule delete` lives in (validated, then
 * dropped): the validator tells what the selector means. */
#define PROBE_GROUP  "sg-sgctl-selector-probe"
#define DEFAULT_ID   "sg-default"
#define DEFAULT_DESC "default VPC security group"

static const char *dir_key(int dir)
{
	return dir == SG_DIR_IN ? "inbound" : "outbound";
}

static const char *peer_key(int dir)
{
	return dir == SG_DIR_IN ? "source" : "destination";
}

__attribute__((format(printf, 3, 4))) static int
fail(struct sg_diag *diag, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	sg_error(diag, (struct sg_pos){NULL, 0, 0}, code, "%s",
		 msg ? msg : "out of memory");
	rc = msg ? -EINVAL : -ENOMEM;
	free(msg);
	return rc;
}

/* "22" as a number, as a YAML file would have it; anything else a string. */
static json_t *num_or_str(const char *s)
{
	size_t len = strlen(s), i = 0;

	if (len && len < 10 && (s[0] != '0' || len == 1)) {
		for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == len)
			return json_integer(strtol(s, NULL, 10));
	}
	return json_string(s);
}

/* The message without " (line N)": the place in the JSON text means
 * nothing to whoever asked for the edit. */
static void strip_where(char *m)
{
	char *p = strstr(m, " (line ");
	char *q;

	while (p) {
		strtol(p + 7, &q, 10);
		if (q > p + 7 && q[0] == ')' && q[1] == '\0') {
			*p = '\0';
			return;
		}
		p = strstr(p + 1, " (line ");
	}
}

int sg_desired_validate(const struct sg_desired *d, struct sg_config *cfg,
			struct sg_diag *diag)
{
	struct sg_config c;
	struct sg_diag own;
	size_t len, copied = 0;
	char *text;
	int rc;

	if (cfg)
		memset(cfg, 0, sizeof(*cfg));
	text = sg_desired_text(d, &len);
	if (!text)
		return -ENOMEM;
	sg_diag_init(&own);
	rc = sg_config_parse_string("desired state", text, len, &c, &own);
	free(text);
	for (size_t i = 0; i < own.nentries; i++) {
		struct sg_diag_entry *e = &own.entries[i];

		if (e->severity != SG_ERROR)
			continue;
		strip_where(e->message);
		sg_error(diag, (struct sg_pos){NULL, 0, 0}, e->code, "%s",
			 e->message);
		copied++;
	}
	if (own.nerrors > copied)
		sg_error(diag, (struct sg_pos){NULL, 0, 0}, NULL,
			 "out of memory");
	if (!rc && own.nerrors)
		rc = -EINVAL;
	sg_diag_free(&own);
	if (rc)
		return rc;
	if (cfg)
		*cfg = c;
	else
		sg_config_free(&c);
	return 0;
}

/* The state before an edit, judged: an invalid one is not edited. */
static int current(const struct sg_desired *d, struct sg_config *cfg,
		   struct sg_diag *diag)
{
	size_t errors = diag->nerrors;
	int rc;

	if (!d->doc || !json_is_object(d->doc))
		return fail(diag, NULL, "no desired state to edit");
	rc = sg_desired_validate(d, cfg, diag);
	if (rc == -EINVAL && diag->nerrors > errors)
		sg_error(diag, (struct sg_pos){NULL, 0, 0}, NULL,
			 "the desired state has errors already (above); "
			 "nothing was changed");
	return rc;
}

/* Judges doc as the new state; on success d holds it. Takes doc. */
static int commit(struct sg_desired *d, json_t *doc, struct sg_config *cfg,
		  struct sg_diag *diag)
{
	struct sg_desired t = {doc};
	int rc = sg_desired_validate(&t, cfg, diag);

	if (rc) {
		json_decref(doc);
		return rc;
	}
	json_decref(d->doc);
	d->doc = doc;
	return 0;
}

/* The section object of doc (made when create and missing). */
static json_t *section(json_t *doc, const char *name, bool create)
{
	json_t *s = json_object_get(doc, name);

	if (json_is_object(s) || !create)
		return json_is_object(s) ? s : NULL;
	s = json_object();
	if (!s || json_object_set_new(doc, name, s))
		return NULL;
	return s;
}

static json_t *all_traffic(int dir, const char *peer)
{
	json_t *o = json_object();

	if (o && (json_object_set_new(o, "protocol", json_string("all")) ||
		  json_object_set_new(o, peer_key(dir), json_string(peer)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The object of group g in doc, made writable: the VPC's implicit default
 * group is written out with its rules (all traffic from itself, default
 * egress), an empty group (null) becomes {}.
 */
static json_t *group_obj(json_t *doc, const struct sg_group *g)
{
	json_t *sec = section(doc, "security_groups", true), *o, *in;

	if (!sec)
		return NULL;
	o = json_object_get(sec, g->id);
	if (json_is_object(o))
		return o;
	if (o && !json_is_null(o))
		return NULL;
	o = json_object();
	if (!o || json_object_set_new(sec, g->id, o))
		return NULL;
	if (g->implicit) {
		in = json_array();
		if (json_object_set_new(o, "name", json_string("default")) ||
		    json_object_set_new(o, "description",
					json_string(g->description
							    ? g->description
							    : DEFAULT_DESC)) ||
		    json_object_set_new(o, "inbound", in) ||
		    json_array_append_new(in, all_traffic(SG_DIR_IN, g->id)))
			return NULL;
	}
	return o;
}

/* Where a rule of a group was written. */
struct rref {
	int dir;
	size_t entry; /* in the direction's list */
	long peer;    /* in the entry's peer list; -1: a single peer */
	int egress;   /* default egress: 1 = 0.0.0.0/0, 2 = ::/0; else 0 */
};

static const char *const egress_peers[] = {NULL, "0.0.0.0/0", "::/0"};

/*
 * The place of every rule of g (validated) in its object gobj, in g's
 * order. -EUCLEAN when the document and the config do not line up (never
 * for a state the validator accepted).
 */
static int map_rules(json_t *gobj, const struct sg_group *g, struct rref **out)
{
	struct rref *v = calloc(g->nrules + 1, sizeof(*v));
	bool has_out = false;
	size_t n = 0;
	const char *k;
	json_t *list;

	if (!v)
		return -ENOMEM;
	json_object_foreach(gobj, k, list)
	{
		int dir;

		if (!strcmp(k, "inbound"))
			dir = SG_DIR_IN;
		else if (!strcmp(k, "outbound"))
			dir = SG_DIR_OUT;
		else
			continue;
		has_out |= dir == SG_DIR_OUT;
		for (size_t e = 0;
		     json_is_array(list) && e < json_array_size(list); e++) {
			json_t *p = json_object_get(json_array_get(list, e),
						    peer_key(dir));
			size_t np = json_is_array(p) ? json_array_size(p) : 1;

			for (size_t j = 0; j < np; j++) {
				json_t *pj = json_is_array(p)
						     ? json_array_get(p, j)
						     : p;

				if (n >= g->nrules || g->rules[n].dir != dir ||
				    !json_is_string(pj) ||
				    strcmp(json_string_value(pj),
					   g->rules[n].peer_text))
					goto mismatch;
				v[n++] = (struct rref){
					dir, e, json_is_array(p) ? (long)j : -1,
					0};
			}
		}
	}
	for (int k2 = 1; !has_out && k2 <= 2; k2++) {
		if (n >= g->nrules || g->rules[n].dir != SG_DIR_OUT ||
		    strcmp(g->rules[n].peer_text, egress_peers[k2]))
			goto mismatch;
		v[n++] = (struct rref){SG_DIR_OUT, 0, -1, k2};
	}
	if (n != g->nrules)
		goto mismatch;
	*out = v;
	return 0;
mismatch:
	free(v);
	return -EUCLEAN;
}

static int map_failed(struct sg_diag *diag, const char *group)
{
	return fail(diag, NULL,
		    "cannot tell which entry of %s holds the rule (the "
		    "document and the validated config disagree)",
		    group);
}

/* The group to edit: defined, or the VPC's implicit default group. */
static int find_group(const struct sg_config *cfg, const char *id,
		      struct sg_diag *diag)
{
	int gi = sg_config_find_group(cfg, id);

	if (gi < 0 || cfg->groups[gi].undefined)
		return fail(diag, SG_E_NOTFOUND,
			    "security group %s does not exist in %s", id,
			    cfg->vpc);
	return gi;
}

static json_t *rule_entry(const struct sg_rule_spec *s, bool description)
{
	json_t *o = json_object();
	int bad = !o;

	if (!bad && s->type)
		bad |= json_object_set_new(o, "type", json_string(s->type));
	if (!bad && s->protocol)
		bad |= json_object_set_new(o, "protocol",
					   num_or_str(s->protocol));
	if (!bad && s->ports)
		bad |= json_object_set_new(o, "ports", num_or_str(s->ports));
	if (!bad && s->icmp_type)
		bad |= json_object_set_new(o, "icmp_type",
					   num_or_str(s->icmp_type));
	if (!bad && s->icmp_code)
		bad |= json_object_set_new(o, "icmp_code",
					   num_or_str(s->icmp_code));
	if (!bad && s->peer)
		bad |= json_object_set_new(o, peer_key(s->dir),
					   json_string(s->peer));
	if (!bad && description && s->description)
		bad |= json_object_set_new(o, "description",
					   json_string(s->description));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The rule list of direction dir in gobj, made when missing (outbound
 * then starts with the default egress pair it replaces). */
static json_t *rule_list(json_t *gobj, int dir)
{
	json_t *l = json_object_get(gobj, dir_key(dir));

	if (json_is_array(l))
		return l;
	if (l && !json_is_null(l))
		return NULL;
	l = json_array();
	if (!l || json_object_set_new(gobj, dir_key(dir), l))
		return NULL;
	return l;
}

int sg_edit_rule_add(struct sg_desired *d, const char *group,
		     const struct sg_rule_spec *s, char *id,
		     struct sg_diag *diag)
{
	struct sg_config cur, next;
	json_t *doc = NULL, *gobj, *list, *entry;
	struct rref *refs = NULL;
	size_t index;
	bool had_out;
	int gi, rc;

	rc = current(d, &cur, diag);
	if (rc)
		return rc;
	gi = find_group(&cur, group, diag);
	if (gi < 0) {
		rc = gi;
		goto out;
	}
	if (!s->peer) {
		rc = fail(diag, SG_E_MISSING, "a rule needs a %s",
			  peer_key(s->dir));
		goto out;
	}
	/* AWS refuses a reference to a group it does not know. */
	if (!strncmp(s->peer, "sg-", 3)) {
		int pi = sg_config_find_group(&cur, s->peer);

		if (pi < 0 || cur.groups[pi].undefined) {
			rc = fail(diag, SG_E_NOTFOUND,
				  "security group %s does not exist in %s",
				  s->peer, cur.vpc);
			goto out;
		}
	}
	rc = -ENOMEM;
	doc = json_deep_copy(d->doc);
	gobj = doc ? group_obj(doc, &cur.groups[gi]) : NULL;
	if (!gobj)
		goto out;
	had_out = json_object_get(gobj, "outbound") != NULL;
	list = rule_list(gobj, s->dir);
	if (!list) {
		rc = fail(diag, SG_E_MALFORMED, "%s of %s is not a list",
			  dir_key(s->dir), group);
		goto out;
	}
	/* The default egress rules stay, written out, next to the new one. */
	if (s->dir == SG_DIR_OUT && !had_out &&
	    (json_array_append_new(list,
				   all_traffic(SG_DIR_OUT, "0.0.0.0/0")) ||
	     json_array_append_new(list, all_traffic(SG_DIR_OUT, "::/0"))))
		goto out;
	entry = rule_entry(s, true);
	if (!entry || json_array_append_new(list, entry))
		goto out;
	index = json_array_size(list) - 1;

	rc = commit(d, doc, &next, diag);
	doc = NULL;
	if (rc)
		goto out;
	gi = sg_config_find_group(&next, group);
	gobj = json_object_get(section(d->doc, "security_groups", false),
			       group);
	rc = map_rules(gobj, &next.groups[gi], &refs);
	if (!rc && id) {
		id[0] = '\0';
		for (size_t i = 0; i < next.groups[gi].nrules; i++)
			if (refs[i].dir == s->dir && !refs[i].egress &&
			    refs[i].entry == index)
				snprintf(id, SG_RULE_ID_SIZE, "%s",
					 next.groups[gi].rules[i].id);
	}
	if (rc == -EUCLEAN)
		rc = map_failed(diag, group); /* the edit is made, though */
	free(refs);
	sg_config_free(&next);
out:
	json_decref(doc);
	sg_config_free(&cur);
	return rc;
}

static bool same_rule(const struct sg_rule *a, const struct sg_rule *b)
{
	if (a->dir != b->dir || a->proto != b->proto ||
	    a->port_lo != b->port_lo || a->port_hi != b->port_hi ||
	    a->icmp_type != b->icmp_type || a->icmp_code != b->icmp_code ||
	    a->peer_kind != b->peer_kind)
		return false;
	if (a->peer_kind == SG_PEER_CIDR)
		return a->cidr.family == b->cidr.family &&
		       a->cidr.len == b->cidr.len &&
		       !memcmp(a->cidr.addr, b->cidr.addr,
			       sizeof(a->cidr.addr));
	return !strcmp(a->peer_text, b->peer_text);
}

/* What the selector s means, as the validator reads it, into *r (its
 * strings owned by *pcfg). */
static int probe_rule(const struct sg_desired *d, const struct sg_rule_spec *s,
		      struct sg_config *pcfg, const struct sg_rule **r,
		      struct sg_diag *diag)
{
	struct sg_desired t;
	json_t *g, *list, *entry, *sec;
	int rc = -ENOMEM, gi;

	if (!s->peer)
		return fail(diag, SG_E_MISSING,
			    "name the rule: --rule-id, or the same options as "
			    "rule add (with --%s)",
			    peer_key(s->dir));
	/* The set_new and append_new calls take their value, even when
	 * they fail: only the copy is left to free. */
	t.doc = json_deep_copy(d->doc);
	sec = t.doc ? section(t.doc, "security_groups", true) : NULL;
	if (!sec || json_object_set_new(sec, PROBE_GROUP, json_object()) ||
	    !(g = json_object_get(sec, PROBE_GROUP)) ||
	    json_object_set_new(g, dir_key(s->dir), json_array()) ||
	    !(list = json_object_get(g, dir_key(s->dir))) ||
	    !(entry = rule_entry(s, false)) ||
	    json_array_append_new(list, entry)) {
		json_decref(t.doc);
		return rc;
	}
	rc = sg_desired_validate(&t, pcfg, diag);
	json_decref(t.doc);
	if (rc)
		return rc;
	gi = sg_config_find_group(pcfg, PROBE_GROUP);
	if (gi < 0 || !pcfg->groups[gi].nrules ||
	    pcfg->groups[gi].rules[0].dir != s->dir) {
		sg_config_free(pcfg);
		return fail(diag, NULL, "cannot read the rule selector");
	}
	*r = &pcfg->groups[gi].rules[0];
	return 0;
}

/* Deletes the rule of gobj at ref; the default egress pair becomes an
 * outbound list with the other one. */
static int remove_at(json_t *gobj, const struct rref *ref)
{
	json_t *list, *entry, *peers;

	if (ref->egress) {
		list = json_array();
		if (!list || json_object_set_new(gobj, "outbound", list) ||
		    json_array_append_new(
			    list, all_traffic(SG_DIR_OUT,
					      egress_peers[3 - ref->egress])))
			return -ENOMEM;
		return 0;
	}
	list = json_object_get(gobj, dir_key(ref->dir));
	entry = json_array_get(list, ref->entry);
	peers = json_object_get(entry, peer_key(ref->dir));
	if (ref->peer < 0 || json_array_size(peers) <= 1)
		return json_array_remove(list, ref->entry) ? -EUCLEAN : 0;
	return json_array_remove(peers, (size_t)ref->peer) ? -EUCLEAN : 0;
}

int sg_edit_rule_delete(struct sg_desired *d, const char *group,
			const char *rule_id, const struct sg_rule_spec *s,
			char *deleted, struct sg_diag *diag)
{
	struct sg_config cur, probe = {0};
	const struct sg_rule *want = NULL;
	const struct sg_group *g;
	struct rref *refs = NULL;
	json_t *doc = NULL, *gobj;
	size_t r;
	int gi, rc;

	rc = current(d, &cur, diag);
	if (rc)
		return rc;
	gi = find_group(&cur, group, diag);
	if (gi < 0) {
		rc = gi;
		goto out;
	}
	g = &cur.groups[gi];
	if (!rule_id) {
		rc = probe_rule(d, s, &probe, &want, diag);
		if (rc)
			goto out;
	}
	for (r = 0; r < g->nrules; r++)
		if (rule_id ? !strcmp(g->rules[r].id, rule_id)
			    : same_rule(&g->rules[r], want))
			break;
	if (r == g->nrules) {
		if (rule_id)
			rc = fail(diag, SG_E_RULENOTFOUND, "%s has no rule %s",
				  group, rule_id);
		else
			rc = fail(diag, SG_E_RULENOTFOUND,
				  "%s has no %s rule %s", group,
				  dir_key(s->dir), want->text);
		goto out;
	}
	rc = -ENOMEM;
	doc = json_deep_copy(d->doc);
	gobj = doc ? group_obj(doc, g) : NULL;
	if (!gobj)
		goto out;
	rc = map_rules(gobj, g, &refs);
	if (!rc)
		rc = remove_at(gobj, &refs[r]);
	if (rc == -EUCLEAN) {
		rc = map_failed(diag, group);
		goto out;
	}
	if (rc)
		goto out;
	if (deleted)
		snprintf(deleted, SG_RULE_ID_SIZE, "%s", g->rules[r].id);
	rc = commit(d, doc, NULL, diag);
	doc = NULL;
out:
	free(refs);
	json_decref(doc);
	sg_config_free(&probe);
	sg_config_free(&cur);
	return rc;
}

/* ---- a batch of rule edits, judged once ---- */

/*
 * The deletes marked in del[] (g's rules, placed by refs) removed from
 * gobj as one delete after another would: an entry loses the peers
 * marked, or goes when all of them are; the default egress pair becomes
 * an outbound list of the ones left. Walks backwards so the indices
 * still to come stay valid.
 */
static int remove_marked(json_t *gobj, const struct sg_group *g,
			 const struct rref *refs, const bool *del)
{
	bool egress = false;
	size_t r = g->nrules;

	while (r > 0) {
		const struct rref *ref = &refs[r - 1];
		size_t first = r - 1, marked = 0;
		json_t *list, *peers;

		if (ref->egress) {
			egress |= del[r - 1];
			r--;
			continue;
		}
		while (first > 0 && !refs[first - 1].egress &&
		       refs[first - 1].dir == ref->dir &&
		       refs[first - 1].entry == ref->entry)
			first--;
		for (size_t k = first; k < r; k++)
			marked += del[k];
		list = json_object_get(gobj, dir_key(ref->dir));
		if (marked && marked == r - first) {
			if (json_array_remove(list, ref->entry))
				return -EUCLEAN;
		} else if (marked) {
			peers = json_object_get(json_array_get(list,
							       ref->entry),
						peer_key(ref->dir));
			for (size_t k = r; k-- > first;)
				if (del[k] && (refs[k].peer < 0 ||
					       json_array_remove(
						       peers,
						       (size_t)refs[k].peer)))
					return -EUCLEAN;
		}
		r = first;
	}
	if (egress) {
		json_t *list = json_array();

		if (!list || json_object_set_new(gobj, "outbound", list))
			return -ENOMEM;
		for (r = 0; r < g->nrules; r++)
			if (refs[r].egress && !del[r] &&
			    json_array_append_new(
				    list, all_traffic(SG_DIR_OUT,
						      egress_peers[refs[r].egress])))
				return -ENOMEM;
	}
	return 0;
}

/* A group of the document's own (an object or null under
 * security_groups, not the VPC's implicit default), like every sg- peer
 * of the adds, and every add has a peer. */
static bool written_out(json_t *doc, const char *group,
			const struct sg_rule_spec *add, size_t nadd)
{
	json_t *sec = section(doc, "security_groups", false), *o;

	o = json_object_get(sec, group);
	if (!o || (!json_is_object(o) && !json_is_null(o)))
		return false;
	for (size_t i = 0; i < nadd; i++) {
		if (!add[i].peer)
			return false;
		o = json_object_get(sec, add[i].peer);
		if (!strncmp(add[i].peer, "sg-", 3) &&
		    (!o || (!json_is_object(o) && !json_is_null(o))))
			return false;
	}
	return true;
}

/*
 * The batch without a judgement on the way: the edits made on a copy of
 * the document, the copy judged once. Anything but success (an error of
 * any row, a state that was invalid already) returns non-zero with d
 * untouched and nothing in diag: the caller then makes the edits one by
 * one, which names the error and the row exactly as they always have.
 */
static int batch_fast(struct sg_desired *d, const char *group,
		      const struct sg_config *given, const char *const *del,
		      size_t ndel, char (*deleted)[SG_RULE_ID_SIZE],
		      const struct sg_rule_spec *add, size_t nadd,
		      char (*added)[SG_RULE_ID_SIZE], struct sg_config *next)
{
	struct sg_config own = {0}, nx = {0};
	const struct sg_config *cur = given;
	const struct sg_group *g;
	struct rref *refs = NULL;
	struct sg_desired t = {NULL};
	struct sg_diag quiet;
	size_t *index = NULL;
	bool *mark = NULL;
	json_t *gobj;
	int gi, rc = -EINVAL;

	sg_diag_init(&quiet);
	if (!d->doc || !json_is_object(d->doc))
		goto out;
	index = calloc(nadd + 1, sizeof(*index));
	if (!index)
		goto out;
	if (!cur && !ndel && written_out(d->doc, group, add, nadd)) {
		/*
		 * Adds only, to a group written in the document, with peers
		 * that are: there is nothing to read from the config before
		 * the edit. An add never mends a state that was invalid, so
		 * the judgement at the end is the only one needed.
		 */
		t.doc = json_deep_copy(d->doc);
		gobj = t.doc ? group_obj(t.doc, &(struct sg_group){
							.id = (char *)group})
			     : NULL;
		if (!gobj)
			goto out;
		goto adds;
	}
	if (!cur) {
		if (sg_desired_validate(d, &own, &quiet))
			goto out;
		cur = &own;
	}
	gi = sg_config_find_group(cur, group);
	if (gi < 0 || cur->groups[gi].undefined)
		goto out;
	g = &cur->groups[gi];
	mark = calloc(g->nrules + 1, sizeof(*mark));
	t.doc = json_deep_copy(d->doc);
	gobj = t.doc ? group_obj(t.doc, g) : NULL;
	if (!mark || !gobj || map_rules(gobj, g, &refs))
		goto out;

	for (size_t i = 0; i < ndel; i++) {
		size_t r;

		for (r = 0; r < g->nrules; r++)
			if (!strcmp(g->rules[r].id, del[i]))
				break;
		if (r == g->nrules || mark[r])
			goto out; /* InvalidPermission.NotFound */
		mark[r] = true;
		if (deleted)
			snprintf(deleted[i], SG_RULE_ID_SIZE, "%s",
				 g->rules[r].id);
	}
	if (ndel && remove_marked(gobj, g, refs, mark))
		goto out;
adds:
	for (size_t i = 0; i < nadd; i++) {
		const struct sg_rule_spec *s = &add[i];
		json_t *list, *entry;
		bool had_out;

		if (!s->peer)
			goto out;
		if (cur && !strncmp(s->peer, "sg-", 3)) {
			int pi = sg_config_find_group(cur, s->peer);

			if (pi < 0 || cur->groups[pi].undefined)
				goto out;
		}
		had_out = json_object_get(gobj, "outbound") != NULL;
		list = rule_list(gobj, s->dir);
		if (!list)
			goto out;
		if (s->dir == SG_DIR_OUT && !had_out &&
		    (json_array_append_new(
			     list, all_traffic(SG_DIR_OUT, "0.0.0.0/0")) ||
		     json_array_append_new(list,
					   all_traffic(SG_DIR_OUT, "::/0"))))
			goto out;
		entry = rule_entry(s, true);
		if (!entry || json_array_append_new(list, entry))
			goto out;
		index[i] = json_array_size(list) - 1;
	}

	/* The one judgement of the whole edit. */
	if (sg_desired_validate(&t, &nx, &quiet))
		goto out;
	free(refs);
	refs = NULL;
	gi = sg_config_find_group(&nx, group);
	if (gi < 0 || map_rules(gobj, &nx.groups[gi], &refs))
		goto out;
	for (size_t i = 0; added && i < nadd; i++) {
		added[i][0] = '\0';
		for (size_t r = 0; r < nx.groups[gi].nrules; r++)
			if (refs[r].dir == add[i].dir && !refs[r].egress &&
			    refs[r].entry == index[i])
				snprintf(added[i], SG_RULE_ID_SIZE, "%s",
					 nx.groups[gi].rules[r].id);
	}
	json_decref(d->doc);
	d->doc = t.doc;
	t.doc = NULL;
	if (next) {
		*next = nx;
		memset(&nx, 0, sizeof(nx));
	}
	rc = 0;
out:
	json_decref(t.doc);
	free(refs);
	free(mark);
	free(index);
	sg_config_free(&nx);
	sg_config_free(&own);
	sg_diag_free(&quiet);
	return rc;
}

int sg_edit_rule_batch(struct sg_desired *d, const char *group,
		       const struct sg_config *cur, const char *const *del,
		       size_t ndel, char (*deleted)[SG_RULE_ID_SIZE],
		       const struct sg_rule_spec *add, size_t nadd,
		       char (*added)[SG_RULE_ID_SIZE], int *row,
		       struct sg_config *next, struct sg_diag *diag)
{
	int rc;

	*row = -1;
	if (next)
		memset(next, 0, sizeof(*next));
	if (!ndel && !nadd)
		return next ? sg_desired_validate(d, next, diag) : 0;
	if (!batch_fast(d, group, cur, del, ndel, deleted, add, nadd, added,
			next))
		return 0;
	/* Something is wrong: one edit after another tells what, and where. */
	for (size_t i = 0; i < ndel; i++) {
		rc = sg_edit_rule_delete(d, group, del[i], NULL,
					 deleted ? deleted[i] : NULL, diag);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < nadd; i++) {
		rc = sg_edit_rule_add(d, group, &add[i],
				      added ? added[i] : NULL, diag);
		if (rc) {
			*row = (int)i;
			return rc;
		}
	}
	return next ? sg_desired_validate(d, next, diag) : 0;
}

int sg_edit_group_create(struct sg_desired *d, const char *id, const char *name,
			 const char *description, struct sg_diag *diag)
{
	struct sg_config cur;
	json_t *doc = NULL, *sec, *o;
	int gi, rc;

	rc = current(d, &cur, diag);
	if (rc)
		return rc;
	gi = sg_config_find_group(&cur, id);
	if (gi >= 0 && !cur.groups[gi].undefined) {
		rc = fail(diag, SG_E_GDUP,
			  "security group %s already exists in %s", id,
			  cur.vpc);
		goto out;
	}
	rc = -ENOMEM;
	doc = json_deep_copy(d->doc);
	sec = doc ? section(doc, "security_groups", true) : NULL;
	o = json_object();
	if (!sec || !o || json_object_set_new(sec, id, o))
		goto out;
	if ((name && json_object_set_new(o, "name", json_string(name))) ||
	    (description &&
	     json_object_set_new(o, "description", json_string(description))))
		goto out;
	rc = commit(d, doc, NULL, diag);
	doc = NULL;
out:
	json_decref(doc);
	sg_config_free(&cur);
	return rc;
}

/* "i-a, i-b" or "rule sgr-... of sg-x, ..." for the dependency message. */
static void add_user(char *buf, size_t len, size_t *n, const char *what)
{
	size_t used = strlen(buf);

	if (++*n > 5) {
		if (*n == 6)
			snprintf(buf + used, len - used, ", ...");
		return;
	}
	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", what);
}

int sg_edit_group_delete(struct sg_desired *d, const char *id,
			 struct sg_diag *diag)
{
	char insts[512] = "", rules[512] = "", what[160];
	size_t ni = 0, nr = 0;
	struct sg_config cur;
	const struct sg_group *g;
	json_t *doc = NULL, *sec;
	int gi, rc;

	rc = current(d, &cur, diag);
	if (rc)
		return rc;
	gi = find_group(&cur, id, diag);
	if (gi < 0) {
		rc = gi;
		goto out;
	}
	g = &cur.groups[gi];
	if (g->implicit || (g->name && !strcmp(g->name, "default"))) {
		rc = fail(diag, SG_E_CANNOTDELETE,
			  "%s is the default security group of %s and cannot "
			  "be deleted",
			  id, cur.vpc);
		goto out;
	}
	for (size_t i = 0; i < cur.ninstances; i++)
		for (size_t k = 0; k < cur.instances[i].ngroups; k++)
			if (cur.instances[i].groups[k] == gi)
				add_user(insts, sizeof(insts), &ni,
					 cur.instances[i].id);
	for (size_t h = 0; h < cur.ngroups; h++)
		for (size_t r = 0; h != (size_t)gi && r < cur.groups[h].nrules;
		     r++) {
			const struct sg_rule *x = &cur.groups[h].rules[r];

			if (x->peer_kind != SG_PEER_GROUP ||
			    x->peer_index != gi)
				continue;
			snprintf(what, sizeof(what), "%s of %s", x->id,
				 cur.groups[h].id);
			add_user(rules, sizeof(rules), &nr, what);
		}
	if (ni)
		rc = fail(diag, SG_E_DEPENDENCY,
			  "%s is in use: instance%s %s carr%s it", id,
			  ni > 1 ? "s" : "", insts, ni > 1 ? "y" : "ies");
	if (nr)
		rc = fail(diag, SG_E_DEPENDENCY,
			  "%s is in use: rule%s %s reference%s it", id,
			  nr > 1 ? "s" : "", rules, nr > 1 ? "" : "s");
	if (ni || nr)
		goto out;
	rc = -ENOMEM;
	doc = json_deep_copy(d->doc);
	sec = doc ? section(doc, "security_groups", false) : NULL;
	if (!sec || json_object_del(sec, id)) {
		rc = fail(diag, SG_E_NOTFOUND,
			  "security group %s does not exist in %s", id,
			  cur.vpc);
		goto out;
	}
	rc = commit(d, doc, NULL, diag);
	doc = NULL;
out:
	json_decref(doc);
	sg_config_free(&cur);
	return rc;
}

static json_t *string_list(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int sg_edit_instance_add(struct sg_desired *d, const char *id,
			 const struct sg_instance_spec *s, struct sg_diag *diag)
{
	struct sg_config cur;
	json_t *doc = NULL, *sec, *o;
	int rc, bad;

	rc = current(d, &cur, diag);
	if (rc)
		return rc;
	if (sg_config_find_instance(&cur, id) >= 0) {
		rc = fail(diag, SG_E_INSTDUP,
			  "instance %s already exists in %s", id, cur.vpc);
		goto out;
	}
	rc = -ENOMEM;
	doc = json_deep_copy(d->doc);
	sec = doc ? section(doc, "instances", true) : NULL;
	o = json_object();
	if (!sec || !o || json_object_set_new(sec, id, o))
		goto out;
	bad = 0;
	if (s->host)
		bad |= json_object_set_new(o, "host", json_string(s->host));
	if (s->interface)
		bad |= json_object_set_new(o, "interface",
					   json_string(s->interface));
	if (s->netns)
		bad |= json_object_set_new(o, "netns", json_string(s->netns));
	if (s->host_side)
		bad |= json_object_set_new(o, "host_side", json_true());
	if (s->nips)
		bad |= json_object_set_new(o, "ips",
					   string_list(s->ips, s->nips));
	if (s->ngroups)
		bad |= json_object_set_new(o, "security_groups",
					   string_list(s->groups, s->ngroups));
	if (bad)
		goto out;
	rc = commit(d, doc, NULL, diag);
	doc = NULL;
out:
	json_decref(doc);
	sg_config_free(&cur);
	return rc;
}

/* The instance's object in doc; NULL when there is none. */
static json_t *instance_obj(json_t *doc, const char *id)
{
	return json_object_get(section(doc, "instances", false), id);
}

int sg_edit_instance_set_groups(struct sg_desired *d, const char *id,
				const char *const *groups, size_t n,
				struct sg_diag *diag)
{
	struct sg_config cur;
	json_t *doc = NULL, *o;
	int rc;

	rc = current(d, &cur, diag);
	if (rc)
		return rc;
	sg_config_free(&cur);
	if (!json_is_object(instance_obj(d->doc, id)))
		return fail(diag, SG_E_INSTNOTFOUND,
			    "instance %s does not exist", id);
	if (!n)
		return fail(diag, SG_E_MISSING,
			    "an instance needs at least one security group");
	doc = json_deep_copy(d->doc);
	o = doc ? instance_obj(doc, id) : NULL;
	if (!o ||
	    json_object_set_new(o, "security_groups", string_list(groups, n))) {
		json_decref(doc);
		return -ENOMEM;
	}
	return commit(d, doc, NULL, diag);
}

int sg_edit_instance_remove(struct sg_desired *d, const char *id,
			    struct sg_diag *diag)
{
	struct sg_config cur;
	json_t *doc;
	int rc;

	rc = current(d, &cur, diag);
	if (rc)
		return rc;
	sg_config_free(&cur);
	if (!instance_obj(d->doc, id))
		return fail(diag, SG_E_INSTNOTFOUND,
			    "instance %s does not exist", id);
	doc = json_deep_copy(d->doc);
	if (!doc || json_object_del(section(doc, "instances", false), id)) {
		json_decref(doc);
		return -ENOMEM;
	}
	return commit(d, doc, NULL, diag);
}
