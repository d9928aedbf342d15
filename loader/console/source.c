// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Where the console's data comes from: the config loaded in --pin-dir
 * (read back from the stored text, enforce/stored.h) or the VPC's desired
 * state in etcd (fleet/etcd.h, desired/desired.h), validated as load
 * validates it. Parsing and validating 10,000 instances per request is
 * far too slow, so the config is kept until a cheap check says it
 * changed:
 *   local: sg_meta of the live generation (one map lookup): the config
 *          hash and generation;
 *   etcd:  the store's revision (one small get); only when it moved are
 *          the VPC's keys read, and only when one of them moved (not an
 *          agent's status key) is the config parsed again.
 * Everything here runs under the console lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/model.h"
#include "console/console.h"
#include "console/console_priv.h"
#include "desired/desired.h"
#include "enforce/stored.h"
#include "fleet/edit_txn.h"
#include "fleet/etcd.h"
#include "state/state.h"
#include "util/diag.h"

const struct sg_console_opts *sg_console_opts(const struct sg_console *c)
{
	return &c->o;
}

bool sg_console_is_etcd(const struct sg_console *c)
{
	return c->o.etcd.url && *c->o.etcd.url;
}

struct sg_etcd *sg_console_etcd(struct sg_console *c)
{
	return sg_console_is_etcd(c) ? c->src.etcd : NULL;
}

/* The cached config goes; a handler may still hold it (freed by
 * sg_console_source_release once it returns). */
static void cfg_drop(struct sg_console_source *src)
{
	if (src->cfg) {
		struct sg_config **s =
			realloc(src->stale, (src->nstale + 1) * sizeof(*s));

		if (s) {
			src->stale = s;
			src->stale[src->nstale++] = src->cfg;
		} else {
			/* no room to defer: leak rather than free it under
			 * a handler */
		}
	}
	src->cfg = NULL;
	src->cfg_hash = 0;
	src->cfg_rev = 0;
}

/*
 * Parsing a big config leaves megabytes of freed scratch (the composed
 * document, the diagnostics) in malloc's arenas: give them back to the
 * system once a config was built or dropped, so the console's RSS is the
 * config it keeps, not the peak of reading it.
 */
static void heap_give_back(void)
{
	malloc_trim(0);
}

/* After every handler (under the console lock): what it allocated on a
 * big config (usage tables, the page's JSON) goes back too. */
void sg_console_source_release(struct sg_console *c)
{
	struct sg_console_source *src = &c->src;

	for (size_t i = 0; i < src->nstale; i++) {
		sg_config_free(src->stale[i]);
		free(src->stale[i]);
	}
	free(src->stale);
	src->stale = NULL;
	src->nstale = 0;
	heap_give_back();
}

/* A new config to fill. */
static struct sg_config *cfg_new(void)
{
	return calloc(1, sizeof(struct sg_config));
}

/* ---- local ---- */

/* The pinned sg_meta's identity: a state unloaded and loaded again pins
 * new maps (new inodes), and the ones we hold open are then stale. */
static int meta_pin_id(struct sg_console_source *src, dev_t *dev, ino_t *ino)
{
	char path[PATH_MAX];
	struct stat sb;

	if (snprintf(path, sizeof(path), "%s/sg_meta", src->st.pin_dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &sb))
		return -errno;
	*dev = sb.st_dev;
	*ino = sb.st_ino;
	return 0;
}

static void state_close(struct sg_console_source *src)
{
	if (src->st_open)
		sg_state_close(&src->st);
	src->st_open = false;
}

struct sg_state *sg_console_state(struct sg_console *c)
{
	struct sg_console_source *src = &c->src;
	dev_t dev;
	ino_t ino;

	if (src->st_open) {
		if (!meta_pin_id(src, &dev, &ino) && dev == src->st_dev &&
		    ino == src->st_ino)
			return &src->st;
		state_close(src); /* unloaded, or replaced */
	}
	if (!c->o.pin_dir || !sg_state_exists(c->o.pin_dir))
		return NULL;
	if (sg_state_open_ro(&src->st, c->o.pin_dir))
		return NULL;
	src->st_open = true;
	if (meta_pin_id(src, &src->st_dev, &src->st_ino)) {
		state_close(src);
		return NULL;
	}
	return &src->st;
}

static const struct sg_config *local_config(struct sg_console *c, int64_t *rev,
					    struct sg_resp *w)
{
	struct sg_console_source *src = &c->src;
	struct sg_state *st = sg_console_state(c);
	struct sg_config *cfg;
	struct sg_diag diag;
	struct sg_meta m;
	int rc;

	if (!st) {
		cfg_drop(src);
		sg_resp_error(w, 503, "ServiceUnavailable",
			      "nothing is loaded in %s (sgctl load FILE)",
			      c->o.pin_dir ? c->o.pin_dir : "the pin dir");
		return NULL;
	}
	rc = sg_meta_read(st, &m);
	if (rc || !m.loaded_at) {
		cfg_drop(src);
		sg_resp_error(w, 503, "ServiceUnavailable",
			      "nothing is loaded in %s (sgctl load FILE)",
			      c->o.pin_dir);
		return NULL;
	}
	if (src->cfg && src->cfg_hash == m.config_hash &&
	    src->cfg_rev == (int64_t)m.gen) {
		*rev = src->cfg_rev;
		return src->cfg;
	}
	cfg_drop(src);
	cfg = cfg_new();
	if (!cfg) {
		sg_resp_error(w, 500, "InternalError", "out of memory");
		return NULL;
	}
	sg_diag_init(&diag);
	rc = sg_stored_config(st, cfg, &diag);
	if (rc) {
		if (rc == -ENOENT)
			sg_resp_error(w, 503, "ServiceUnavailable",
				      "nothing is loaded in %s (sgctl load "
				      "FILE)",
				      c->o.pin_dir);
		else if (diag.nerrors)
			sg_resp_error(w, 503, "ServiceUnavailable",
				      "the stored config no longer parses; "
				      "load it again");
		else
			sg_resp_error(w, 503, "ServiceUnavailable",
				      "the stored config: %s", strerror(-rc));
		sg_diag_free(&diag);
		free(cfg);
		return NULL;
	}
	sg_diag_free(&diag);
	src->cfg = cfg;
	src->cfg_hash = m.config_hash;
	src->cfg_rev = (int64_t)m.gen;
	*rev = src->cfg_rev;
	heap_give_back();
	return cfg;
}

/* ---- etcd ---- */

/* The VPC: --vpc, else the only one in the store. 0, or an error in w. */
static int etcd_pick_vpc(struct sg_console *c, struct sg_resp *w)
{
	struct sg_console_source *src = &c->src;
	char **v = NULL, *err = NULL;
	size_t n = 0;
	int rc;

	if (src->prefix)
		return 0;
	if (c->o.vpc) {
		src->vpc = strdup(c->o.vpc);
	} else {
		rc = sg_etcd_vpcs(src->etcd, &v, &n, &err);
		if (rc) {
			sg_resp_error(w, 503, "ServiceUnavailable", "%s",
				      err ? err : strerror(-rc));
			free(err);
			return rc;
		}
		if (n == 1) {
			src->vpc = v[0];
			v[0] = NULL;
		} else {
			sg_resp_error(w, 503, "ServiceUnavailable",
				      n ? "etcd at %s holds several VPCs: "
					  "start the console with --vpc ID"
					: "etcd at %s holds no VPC yet "
					  "(sgctl push)",
				      c->o.etcd.url);
		}
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		if (!src->vpc)
			return -ENOENT;
	}
	if (!src->vpc)
		return -ENOMEM;
	src->prefix = sg_desired_prefix(src->vpc);
	if (!src->prefix) {
		free(src->vpc);
		src->vpc = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool is_status_key(const struct sg_console_source *src, const char *key)
{
	size_t n = strlen(src->prefix);

	return !strncmp(key, src->prefix, n) && !strncmp(key + n, "status/", 7);
}

/* The first error of diag as a 503 (what is in etcd does not validate:
 * nothing a console request can fix). */
static void diag_503(struct sg_resp *w, const struct sg_diag *d,
		     const char *what)
{
	for (size_t i = 0; i < d->nentries; i++)
		if (d->entries[i].severity == SG_ERROR) {
			sg_resp_error(w, 503, "ServiceUnavailable",
				      "%s: %s%s%s", what,
				      d->entries[i].code ? d->entries[i].code
							 : "",
				      d->entries[i].code ? ": " : "",
				      d->entries[i].message);
			return;
		}
	sg_resp_error(w, 503, "ServiceUnavailable", "%s", what);
}

static const struct sg_config *etcd_config(struct sg_console *c, int64_t *rev,
					   struct sg_resp *w)
{
	struct sg_console_source *src = &c->src;
	struct sg_config *cfg;
	struct sg_kvset kv = {0};
	struct sg_desired d = {0};
	struct sg_kv one = {0};
	struct sg_diag diag;
	char *err = NULL, *key = NULL, *text = NULL, label[64];
	int64_t store_rev = 0, newest = 0;
	size_t len = 0, ndesired = 0;
	bool found;
	int rc;

	if (etcd_pick_vpc(c, w))
		return NULL;
	/* One small read: the store's revision moves with any write. */
	if (asprintf(&key, "%svpc", src->prefix) < 0)
		return NULL;
	rc = sg_etcd_get(src->etcd, key, &one, &found, &store_rev, &err);
	free(key);
	if (found) {
		free(one.key);
		free(one.value);
	}
	if (rc) {
		sg_resp_error(w, 503, "ServiceUnavailable", "%s",
			      err ? err : strerror(-rc));
		free(err);
		return NULL;
	}
	if (src->cfg && store_rev == src->seen_rev) {
		*rev = src->cfg_rev;
		return src->cfg;
	}
	rc = sg_etcd_range_prefix(src->etcd, src->prefix, &kv, &store_rev,
				  &err);
	if (rc) {
		sg_resp_error(w, 503, "ServiceUnavailable", "%s",
			      err ? err : strerror(-rc));
		free(err);
		return NULL;
	}
	for (size_t i = 0; i < kv.n; i++) {
		if (is_status_key(src, kv.v[i].key))
			continue;
		ndesired++;
		if (kv.v[i].mod_revision > newest)
			newest = kv.v[i].mod_revision;
	}
	/* Only agents' status moved: the same newest mod_revision and the
	 * same number of keys (a deleted key leaves the newest alone). */
	if (src->cfg && newest == src->state_rev && ndesired == src->cfg_hash) {
		src->seen_rev = store_rev;
		sg_kvset_free(&kv);
		*rev = src->cfg_rev;
		return src->cfg;
	}
	cfg_drop(src);
	cfg = cfg_new();
	if (!cfg) {
		sg_kvset_free(&kv);
		sg_resp_error(w, 500, "InternalError", "out of memory");
		return NULL;
	}
	if (!ndesired) {
		sg_kvset_free(&kv);
		free(cfg);
		sg_resp_error(w, 503, "ServiceUnavailable",
			      "etcd at %s holds nothing for VPC %s",
			      c->o.etcd.url, src->vpc);
		return NULL;
	}
	sg_diag_init(&diag);
	rc = sg_desired_from_kv(&kv, src->prefix, &d, &diag);
	if (!rc && !diag.nerrors) {
		text = sg_desired_text(&d, &len);
		if (!text)
			rc = -ENOMEM;
	}
	snprintf(label, sizeof(label), "revision %lld", (long long)store_rev);
	if (!rc && !diag.nerrors)
		rc = sg_config_parse_string(label, text, len, cfg, &diag);
	free(text);
	sg_desired_free(&d);
	if (rc || diag.nerrors) {
		diag_503(w, &diag, "the desired state in etcd is not valid");
		sg_diag_free(&diag);
		sg_kvset_free(&kv);
		free(cfg);
		return NULL;
	}
	sg_diag_free(&diag);
	src->cfg = cfg;
	src->cfg_rev = store_rev;
	src->cfg_hash = ndesired; /* for the check above */
	src->seen_rev = store_rev;
	src->state_rev = newest;
	sg_kvset_free(&kv);
	*rev = store_rev;
	heap_give_back();
	return cfg;
}

const struct sg_config *sg_console_config(struct sg_console *c, int64_t *rev,
					  struct sg_resp *w)
{
	int64_t dummy;

	if (!rev)
		rev = &dummy;
	*rev = 0;
	if (sg_console_is_etcd(c))
		return etcd_config(c, rev, w);
	return local_config(c, rev, w);
}

int sg_console_edit(struct sg_console *c, sg_edit_fn fn, void *arg,
		    struct sg_diag *diag, int64_t *rev)
{
	int rc;

	*rev = 0;
	if (sg_console_is_etcd(c)) {
		struct sg_edit_etcd_result res;

		rc = sg_edit_etcd(&c->o.etcd,
				  c->src.vpc ? c->src.vpc : c->o.vpc, fn, arg,
				  diag, &res);
		if (!rc)
			*rev = res.revision;
	} else {
		uint32_t gen = 0;

		rc = sg_edit_local(c->o.pin_dir, fn, arg, diag, &gen);
		if (!rc)
			*rev = gen;
	}
	return rc;
}

int sg_console_source_open(struct sg_console *c)
{
	struct sg_console_source *src = &c->src;
	char *err = NULL;
	int rc;

	if (!sg_console_is_etcd(c))
		return 0;
	rc = sg_etcd_open(&c->o.etcd, &src->etcd, &err);
	if (rc) {
		sg_err("console: %s", err ? err : strerror(-rc));
		free(err);
	}
	return rc;
}

void sg_console_source_close(struct sg_console *c)
{
	struct sg_console_source *src = &c->src;

	cfg_drop(src);
	sg_console_source_release(c);
	state_close(src);
	if (src->etcd)
		sg_etcd_close(src->etcd);
	src->etcd = NULL;
	free(src->vpc);
	free(src->prefix);
	src->vpc = src->prefix = NULL;
}
