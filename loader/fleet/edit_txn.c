// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Edit transactions, in etcd and on the loaded config (edit_txn.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enforce/apply.h"
#include "fleet/edit_txn.h"
#include "input/inputs.h"
#include "state/state.h"

#define ROOT_PREFIX	"/sgctl/v1/"
#define MAX_ATTEMPTS	8
#define LOCK_TIMEOUT_MS 10000

__attribute__((format(printf, 2, 3))) static void txn_err(struct sg_diag *diag,
							  const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	sg_error(diag, (struct sg_pos){NULL, 0, 0}, NULL, "%s",
		 msg ? msg : "out of memory");
	free(msg);
}

/* ---- etcd ---- */

static bool is_status(const char *key, size_t plen)
{
	return !strncmp(key + plen, "status/", 7);
}

int sg_etcd_vpcs(struct sg_etcd *e, char ***vpcs, size_t *n, char **err)
{
	struct sg_kvset all = {0};
	int64_t rev;
	char **v = NULL;
	size_t nv = 0;
	int rc;

	*vpcs = NULL;
	*n = 0;
	rc = sg_etcd_range_prefix(e, ROOT_PREFIX, &all, &rev, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < all.n; i++) {
		const char *name = all.v[i].key + strlen(ROOT_PREFIX);
		const char *slash = strchr(name, '/');
		size_t len = slash ? (size_t)(slash - name) : strlen(name);
		bool seen = false;
		char **nvp;

		if (!slash || !len)
			continue;
		for (size_t k = 0; k < nv && !seen; k++)
			seen = strlen(v[k]) == len && !strncmp(v[k], name, len);
		if (seen)
			continue;
		nvp = realloc(v, (nv + 1) * sizeof(*v));
		if (!nvp || !(nvp[nv] = strndup(name, len))) {
			v = nvp ? nvp : v;
			rc = -ENOMEM;
			break;
		}
		v = nvp;
		nv++;
	}
	sg_kvset_free(&all);
	if (rc) {
		for (size_t k = 0; k < nv; k++)
			free(v[k]);
		free(v);
		return rc;
	}
	*vpcs = v;
	*n = nv;
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sg_kv *)a)->key,
		      ((const struct sg_kv *)b)->key);
}

static const struct sg_kv *kv_find(const struct sg_kvset *s, const char *key)
{
	struct sg_kv k = {(char *)key, NULL, 0, 0};

	return s->n ? bsearch(&k, s->v, s->n, sizeof(k), kv_cmp) : NULL;
}

/* The same JSON value (key order aside): nothing to write. */
static bool same_value(const struct sg_kv *a, const struct sg_kv *b)
{
	json_t *x, *y;
	bool eq;

	if (a->len == b->len && !memcmp(a->value, b->value, a->len))
		return true;
	x = json_loadb(a->value, a->len, JSON_DECODE_ANY, NULL);
	y = json_loadb(b->value, b->len, JSON_DECODE_ANY, NULL);
	eq = x && y && json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

struct txn {
	struct sg_etcd_cmp *cmp;
	struct sg_etcd_op *ops;
	size_t ncmp, nops, put, deleted;
};

/* Compares on every key read and every key new; puts of what changed,
 * deletes of what is gone. Points into old and new. */
static int plan_txn(const struct sg_kvset *old, const struct sg_kvset *new,
		    size_t plen, struct txn *t)
{
	memset(t, 0, sizeof(*t));
	t->cmp = calloc(old->n + new->n + 1, sizeof(*t->cmp));
	t->ops = calloc(old->n + new->n + 1, sizeof(*t->ops));
	if (!t->cmp || !t->ops)
		return -ENOMEM;
	for (size_t i = 0; i < old->n; i++) {
		const struct sg_kv *o = &old->v[i];

		if (is_status(o->key, plen))
			continue; /* the agents', written all the time */
		t->cmp[t->ncmp++] =
			(struct sg_etcd_cmp){o->key, o->mod_revision};
		if (!kv_find(new, o->key)) {
			t->ops[t->nops++] =
				(struct sg_etcd_op){.del = true, .key = o->key};
			t->deleted++;
		}
	}
	for (size_t i = 0; i < new->n; i++) {
		const struct sg_kv *n = &new->v[i], *o = kv_find(old, n->key);

		if (!o)
			t->cmp[t->ncmp++] = (struct sg_etcd_cmp){n->key, 0};
		if (o && same_value(o, n))
			continue;
		t->ops[t->nops++] = (struct sg_etcd_op){
			.key = n->key, .value = n->value, .len = n->len};
		t->put++;
	}
	return 0;
}

static void txn_free(struct txn *t)
{
	free(t->cmp);
	free(t->ops);
}

/* The VPC to edit: the one asked for, or the only one in the store. */
static int pick_vpc(struct sg_etcd *e, const struct sg_etcd_opts *o,
		    const char *vpc, char *out, size_t len,
		    struct sg_diag *diag)
{
	char **v, *err = NULL, list[512] = "";
	size_t n;
	int rc;

	if (vpc) {
		snprintf(out, len, "%s", vpc);
		return 0;
	}
	rc = sg_etcd_vpcs(e, &v, &n, &err);
	if (rc) {
		txn_err(diag, "%s", err ? err : strerror(-rc));
		free(err);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(list);

		snprintf(list + used, sizeof(list) - used, "%s%s",
			 i ? ", " : "", v[i]);
	}
	if (n == 1)
		snprintf(out, len, "%s", v[0]);
	else if (!n)
		txn_err(diag,
			"etcd at %s holds no desired state (nothing under "
			"%s): push one first, or name the VPC with --vpc",
			o->url, ROOT_PREFIX);
	else
		txn_err(diag,
			"etcd at %s holds several VPCs (%s): name one "
			"with --vpc",
			o->url, list);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return n == 1 ? 0 : -EINVAL;
}

int sg_edit_etcd(const struct sg_etcd_opts *o, const char *vpc, sg_edit_fn fn,
		 void *arg, struct sg_diag *diag,
		 struct sg_edit_etcd_result *res)
{
	struct sg_etcd *e = NULL;
	char *err = NULL, *prefix = NULL;
	int rc, attempt;

	memset(res, 0, sizeof(*res));
	rc = sg_etcd_open(o, &e, &err);
	if (rc) {
		txn_err(diag, "%s", err ? err : strerror(-rc));
		free(err);
		return rc;
	}
	rc = pick_vpc(e, o, vpc, res->vpc, sizeof(res->vpc), diag);
	if (!rc) {
		prefix = sg_desired_prefix(res->vpc);
		rc = prefix ? 0 : -ENOMEM;
	}
	for (attempt = 1; !rc && attempt <= MAX_ATTEMPTS; attempt++) {
		struct sg_kvset old = {0}, new = {0};
		struct sg_desired d = {0};
		struct txn t = {0};
		bool done = false;
		int64_t rev = 0;

		res->attempts = attempt;
		rc = sg_etcd_range_prefix(e, prefix, &old, &rev, &err);
		if (rc) {
			txn_err(diag, "%s", err ? err : strerror(-rc));
			break;
		}
		rc = sg_desired_from_kv(&old, prefix, &d, diag);
		if (rc == -EINVAL)
			txn_err(diag,
				"the desired state in etcd under %s has "
				"errors (above); nothing was changed",
				prefix);
		if (!rc)
			rc = fn(&d, arg, diag);
		if (!rc)
			rc = sg_desired_to_kv(&d, prefix, &new);
		if (!rc) {
			qsort(old.v, old.n, sizeof(*old.v), kv_cmp);
			qsort(new.v, new.n, sizeof(*new.v), kv_cmp);
			rc = plan_txn(&old, &new, strlen(prefix), &t);
		}
		if (!rc && !t.nops) {
			res->revision = rev; /* nothing changed */
			done = true;
		} else if (!rc) {
			rc = sg_etcd_txn(e, t.cmp, t.ncmp, t.ops, t.nops, &done,
					 &res->revision, &err);
			if (rc)
				txn_err(diag, "%s", err ? err : strerror(-rc));
			res->put = t.put;
			res->deleted = t.deleted;
		}
		txn_free(&t);
		sg_kvset_free(&new);
		sg_kvset_free(&old);
		sg_desired_free(&d);
		if (rc || done)
			break;
		/* Another writer came first: again, on what it wrote. */
		usleep(1000u * (unsigned)(1 + rand() % (5 * attempt)));
		if (attempt == MAX_ATTEMPTS) {
			txn_err(diag,
				"other writers changed %s in etcd during each "
				"of %d attempts; nothing was changed",
				res->vpc, MAX_ATTEMPTS);
			rc = -EAGAIN;
		}
	}
	free(err);
	free(prefix);
	sg_etcd_close(e);
	return rc;
}

/* ---- the loaded config ---- */

int sg_edit_local(const char *pin_dir, sg_edit_fn fn, void *arg,
		  struct sg_diag *diag, uint32_t *gen)
{
	struct sg_state st = {0};
	struct sg_desired d = {0};
	struct sg_config cfg = {0};
	struct sg_apply_result res;
	struct sg_apply_req req = {0};
	char *text = NULL, *blob = NULL;
	size_t len = 0, blen = 0;
	int lock, rc;

	lock = sg_state_lock(pin_dir, LOCK_TIMEOUT_MS);
	if (lock < 0)
		return lock;
	if (!sg_state_exists(pin_dir)) {
		txn_err(diag,
			"nothing is loaded (no state in %s): load a config "
			"first, or edit the one in etcd with --etcd URL",
			pin_dir);
		rc = -ENOENT;
		goto out_unlocked;
	}
	rc = sg_state_open(&st, pin_dir, -1, false);
	if (rc)
		goto out_unlocked;
	rc = sg_blob_load(&st, &text, &len);
	if (rc == -ENOENT)
		txn_err(diag,
			"nothing is loaded in %s: load a config first, or "
			"edit the one in etcd with --etcd URL",
			pin_dir);
	if (rc)
		goto out;
	rc = sg_desired_from_blob(text, len, &d, diag);
	if (rc == -EINVAL)
		txn_err(diag, "the loaded config no longer parses; load it "
			      "again");
	if (!rc)
		rc = fn(&d, arg, diag);
	if (rc)
		goto out;
	rc = -ENOMEM;
	blob = sg_desired_blob(&d, &blen);
	if (!blob)
		goto out;
	rc = sg_config_parse_blob(blob, blen, &cfg, diag);
	if (rc)
		goto out;
	req.label = "the edited config";
	req.text = blob;
	req.len = blen;
	rc = sg_enforce_apply(&st, &cfg, &req, &res);
	if (!rc && gen)
		*gen = res.gen;
out:
	sg_state_close(&st);
out_unlocked:
	sg_config_free(&cfg);
	sg_desired_free(&d);
	free(blob);
	free(text);
	close(lock);
	return rc;
}
