// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The agent of one host (agent.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config/model.h"
#include "desired/desired.h"
#include "enforce/apply.h"
#include "enforce/attach.h"
#include "enforce/netns.h"
#include "fleet/agent.h"
#include "state/state.h"
#include "util/diag.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define RETRY_ATTACH_S	2 /* a missing interface is looked for again */
#define LOCK_TIMEOUT_MS 10000
#define REVISION_MARK	"# sgctl agent: etcd revision "

static volatile sig_atomic_t g_term;
/* The watch looks at it twice a second: set by a stop or the retry
 * alarm. */
static volatile bool g_watch_stop;

void sg_agent_stop(void)
{
	g_term = 1;
	g_watch_stop = true;
}

static void on_alarm(int sig)
{
	(void)sig;
	g_watch_stop = true;
}

struct agent {
	const struct sg_agent_opts *o;
	char *prefix;
	size_t prefix_len;
	char *status_key;
	struct sg_etcd *etcd;
	json_t *cache;	 /* desired key -> its value (string), as last seen */
	int64_t seen;	 /* the revision the cache is at */
	int64_t applied; /* the revision of the state enforced here */
	double applied_at;
	bool ever_applied;
	/* the last refusal, published in the status; NULL when none */
	char *err_key, *err_msg;
	int64_t err_rev;
	bool status_dirty;
	size_t pending; /* local interfaces that do not exist yet */
	/* the last apply, so the next writes only what changed */
	struct sg_apply_cache apply_cache;
	/*
	 * The state, opened once: opening it parses the BPF object (~100 ms),
	 * which would otherwise be most of a small change's apply time.
	 */
	struct sg_state st;
	bool st_open;
	char *last_problem; /* the last etcd failure printed */
};

static double now_wall(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double now_mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Sleeps ms, or less when stopped. */
static void nap(long ms)
{
	while (ms > 0 && !g_term) {
		long step = ms > 100 ? 100 : ms;
		struct timespec t = {0, step * 1000000L};

		nanosleep(&t, NULL);
		ms -= step;
	}
}

static bool is_tls(const struct agent *a)
{
	return !strncmp(a->o->etcd.url, "https://", 8);
}

static bool is_status_key(const struct agent *a, const char *key)
{
	return !strncmp(key + a->prefix_len, "status/", 7);
}

static bool is_local(const struct agent *a, const struct sg_instance *in)
{
	return in->host && !strcmp(in->host, a->o->host);
}

/* An etcd failure, printed once until it changes. */
static void problem(struct agent *a, const char *what, const char *msg)
{
	char *s = NULL;

	if (asprintf(&s, "%s: %s", what, msg ? msg : "failed") < 0)
		return;
	if (a->last_problem && !strcmp(a->last_problem, s)) {
		free(s);
		return;
	}
	sg_warnx("agent: %s (enforcement continues; retrying)", s);
	free(a->last_problem);
	a->last_problem = s;
}

static void recovered(struct agent *a)
{
	if (!a->last_problem)
		return;
	sg_warnx("agent: etcd at %s answers again", a->o->etcd.url);
	free(a->last_problem);
	a->last_problem = NULL;
}

/* ------------------------------------------------------------- status */

static int publish_status(struct agent *a)
{
	json_t *st, *err = json_null();
	struct sg_etcd_op op = {.key = a->status_key};
	bool ok = false;
	int64_t rev;
	char *text, *why = NULL;
	int rc;

	if (a->err_msg)
		err = json_pack("{s:s?,s:s,s:I}", "key", a->err_key, "message",
				a->err_msg, "revision", (json_int_t)a->err_rev);
	st = json_pack("{s:s,s:I,s:f,s:o,s:I,s:s}", "host", a->o->host,
		       "revision", (json_int_t)a->applied, "applied_at",
		       a->applied_at, "error", err, "pid", (json_int_t)getpid(),
		       "version", a->o->version ? a->o->version : "");
	text = st ? json_dumps(st, JSON_COMPACT | JSON_REAL_PRECISION(13))
		  : NULL;
	json_decref(st);
	if (!text)
		return -ENOMEM;
	op.value = text;
	op.len = strlen(text);
	rc = sg_etcd_txn(a->etcd, NULL, 0, &op, 1, &ok, &rev, &why);
	if (rc)
		problem(a, "cannot publish the status", why);
	a->status_dirty = rc != 0;
	free(why);
	free(text);
	return rc;
}

static void clear_error(struct agent *a)
{
	free(a->err_key);
	free(a->err_msg);
	a->err_key = a->err_msg = NULL;
	a->err_rev = 0;
}

static void set_error(struct agent *a, int64_t rev, const char *key,
		      const char *msg)
{
	clear_error(a);
	a->err_key = key ? strdup(key) : NULL;
	a->err_msg = strdup(msg);
	a->err_rev = rev;
}

/* -------------------------------------------------- the desired state */

/*
 * The desired state as the text the parser judges: JSON (which is YAML),
 * one object of the store per line, so the line of an error names the
 * key that holds it. The first line records the revision (show reads it
 * back from the stored config).
 */
struct lines {
	char **key; /* per line (1-based), or NULL */
	size_t n, cap;
};

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->key[i]);
	free(l->key);
	memset(l, 0, sizeof(*l));
}

static int lines_add(struct lines *l, const char *key)
{
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **k = realloc(l->key, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		l->key = k;
		l->cap = cap;
	}
	if (!l->n)
		l->key[l->n++] = NULL; /* line 0: none */
	l->key[l->n] = key ? strdup(key) : NULL;
	if (key && !l->key[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static const char *map_key_dir(const char *top)
{
	if (!strcmp(top, "security_groups"))
		return "groups/";
	if (!strcmp(top, "instances"))
		return "instances/";
	if (!strcmp(top, "prefix_lists"))
		return "prefix-lists/";
	return NULL;
}

static int key_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The object's keys, sorted (stable text, stable slot order). */
static const char **sorted_keys(json_t *obj, size_t *n)
{
	const char **k = calloc(json_object_size(obj) + 1, sizeof(*k));
	const char *key;
	json_t *v;

	*n = 0;
	if (!k)
		return NULL;
	json_object_foreach(obj, key, v) k[(*n)++] = key;
	qsort(k, *n, sizeof(*k), key_cmp);
	return k;
}

static char *agent_text(struct agent *a, json_t *doc, int64_t rev,
			struct lines *l, size_t *len)
{
	const int flags = JSON_COMPACT | JSON_ENSURE_ASCII;
	char *text = NULL, *vkey = NULL, *okey = NULL;
	size_t ntop, first = 1;
	const char **top = NULL;
	FILE *f;
	int err = 0;

	if (asprintf(&vkey, "%svpc", a->prefix) < 0)
		return NULL;
	f = open_memstream(&text, len);
	if (!f)
		goto fail;
	fprintf(f, REVISION_MARK "%" PRId64 "\n{\n", rev);
	err |= lines_add(l, NULL) | lines_add(l, NULL);
	top = sorted_keys(doc, &ntop);
	if (!top)
		goto fail;
	for (size_t i = 0; i < ntop; i++) {
		json_t *v = json_object_get(doc, top[i]);
		const char *dir = map_key_dir(top[i]);
		json_t *name = json_string(top[i]);
		char *ks =
			name ? json_dumps(name, JSON_ENCODE_ANY | flags) : NULL;
		char *vs;

		json_decref(name);
		if (!ks)
			goto fail;
		/* a line of its own: the header of a map, or the vpc key's */
		fprintf(f, "%s%s: ", first ? "" : ",\n", ks);
		free(ks);
		err |= lines_add(l, NULL);
		first = 0;
		if (!dir || !json_is_object(v)) {
			vs = json_dumps(v, flags | JSON_ENCODE_ANY);
			if (!vs)
				goto fail;
			fputs(vs, f);
			free(vs);
			/* this line is the vpc key's */
			free(l->key[l->n - 1]);
			l->key[l->n - 1] = strdup(vkey);
			continue;
		}
		{
			size_t nk;
			const char **ks2 = sorted_keys(v, &nk);

			if (!ks2)
				goto fail;
			fputs("{", f);
			for (size_t k = 0; k < nk; k++) {
				json_t *name = json_string(ks2[k]);
				char *kq = name ? json_dumps(name,
							     JSON_ENCODE_ANY |
								     flags)
						: NULL;

				json_decref(name);
				vs = json_dumps(json_object_get(v, ks2[k]),
						flags | JSON_ENCODE_ANY);
				if (!kq || !vs) {
					free(kq);
					free(vs);
					free(ks2);
					goto fail;
				}
				free(okey);
				okey = NULL;
				if (asprintf(&okey, "%s%s%s", a->prefix, dir,
					     ks2[k]) < 0) {
					okey = NULL;
					free(kq);
					free(vs);
					free(ks2);
					goto fail;
				}
				fprintf(f, "%s\n%s: %s", k ? "," : "", kq, vs);
				err |= lines_add(l, okey);
				free(kq);
				free(vs);
			}
			free(ks2);
			fputs(nk ? "\n}" : "}", f);
			if (nk)
				err |= lines_add(l, NULL);
		}
	}
	fputs("\n}\n", f);
	err |= lines_add(l, NULL);
	if (fclose(f) || err) {
		f = NULL;
		goto fail;
	}
	free(top);
	free(vkey);
	free(okey);
	return text;
fail:
	if (f)
		fclose(f);
	free(top);
	free(vkey);
	free(okey);
	free(text);
	return NULL;
}

/* The key an error is about: its line's, else the object its message
 * names, else none. */
static const char *error_key(const struct lines *l,
			     const struct sg_diag_entry *e)
{
	if (e->pos.line > 0 && (size_t)e->pos.line < l->n &&
	    l->key[e->pos.line])
		return l->key[e->pos.line];
	for (size_t i = 1; i < l->n; i++) {
		const char *k = l->key[i], *id;

		if (!k)
			continue;
		id = strrchr(k, '/');
		id = id ? id + 1 : k;
		if (*id && strstr(e->message, id))
			return k;
	}
	return NULL;
}

/* The kv cache as the list sg_desired_from_kv reads, sorted by key. */
static int cache_kvset(struct agent *a, struct sg_kvset *s)
{
	size_t n;
	const char **keys = sorted_keys(a->cache, &n);

	memset(s, 0, sizeof(*s));
	if (!keys)
		return -ENOMEM;
	s->v = calloc(n + 1, sizeof(*s->v));
	if (!s->v) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v =
			json_string_value(json_object_get(a->cache, keys[i]));

		s->v[i].key = strdup(keys[i]);
		s->v[i].value = strdup(v ? v : "");
		s->v[i].len = v ? strlen(v) : 0;
		s->n++;
		if (!s->v[i].key || !s->v[i].value) {
			free(keys);
			sg_kvset_free(s);
			return -ENOMEM;
		}
	}
	free(keys);
	return 0;
}

/*
 * The desired state at rev, validated as load validates a file (and what
 * this host can hold of it). 0 with *cfg and *text; else -EINVAL with the
 * first error recorded (set_error) and every error printed.
 */
static int build(struct agent *a, int64_t rev, struct sg_config *cfg,
		 char **text, size_t *len)
{
	struct sg_desired d = {};
	struct sg_kvset kv;
	struct lines l = {};
	struct sg_diag diag;
	char label[64];
	int err;

	*text = NULL;
	memset(cfg, 0, sizeof(*cfg));
	sg_diag_init(&diag);
	snprintf(label, sizeof(label), "revision %" PRId64, rev);
	err = cache_kvset(a, &kv);
	if (err)
		goto out;
	err = sg_desired_from_kv(&kv, a->prefix, &d, &diag);
	sg_kvset_free(&kv);
	if (!err && !diag.nerrors) {
		*text = agent_text(a, d.doc, rev, &l, len);
		if (!*text)
			err = -ENOMEM;
	}
	if (!err && !diag.nerrors)
		err = sg_config_parse_string(label, *text, *len, cfg, &diag);
	if (!err && !diag.nerrors) {
		for (size_t i = 0; i < cfg->ninstances; i++)
			cfg->instances[i].remote =
				!is_local(a, &cfg->instances[i]);
		err = sg_compile_limits(cfg, &diag);
	}
	if (diag.nerrors) {
		bool first = true;

		for (size_t i = 0; i < diag.nentries; i++) {
			const struct sg_diag_entry *e = &diag.entries[i];
			const char *key;
			char *msg = NULL;

			if (e->severity != SG_ERROR)
				continue;
			/* sg_desired_from_kv names the key as the file */
			key = e->pos.file && !strncmp(e->pos.file, a->prefix,
						      a->prefix_len)
				      ? e->pos.file
				      : error_key(&l, e);
			if (asprintf(&msg, "%s%s%s", e->code ? e->code : "",
				     e->code ? ": " : "", e->message) < 0)
				continue;
			sg_err("agent: revision %" PRId64 " refused: %s: %s",
			       rev, key ? key : "(the whole state)", msg);
			if (first)
				set_error(a, rev, key, msg);
			first = false;
			free(msg);
		}
		err = -EINVAL;
	} else if (err) {
		char msg[128];

		snprintf(msg, sizeof(msg), "cannot build the desired state: %s",
			 strerror(-err));
		sg_err("agent: revision %" PRId64 ": %s", rev, msg);
		set_error(a, rev, NULL, msg);
	}
out:
	if (err) {
		sg_config_free(cfg);
		free(*text);
		*text = NULL;
	}
	lines_free(&l);
	sg_desired_free(&d);
	sg_diag_free(&diag);
	return err;
}

/* ------------------------------------------------------------ attach */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static bool same_place(const struct sg_instance *in,
		       const struct sg_attach_val *v)
{
	return in->interface && !strcmp(in->interface, v->ifname) &&
	       !strcmp(or_empty(in->netns), v->netns) &&
	       !!(v->flags & SG_ATTACH_HOST_SIDE) == in->host_side;
}

/*
 * Before an apply: detaches what the new state no longer attaches here
 * (an instance gone, moved to another host or interface) and records
 * whose interface lost our programs (attached again afterwards).
 */
static void detach_moved(struct agent *a, struct sg_state *st,
			 const struct sg_config *cfg)
{
	struct sg_attach_key *keys = NULL;
	struct sg_attach_val *vals = NULL;
	struct sg_owner owner;
	size_t n = 0;

	if (sg_owner_of_state(&owner, st) ||
	    sg_attach_list(st, &keys, &vals, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		int idx = sg_config_find_instance(cfg, vals[i].instance);
		const struct sg_instance *in =
			idx >= 0 ? &cfg->instances[idx] : NULL;
		struct sg_att_truth t;
		bool keep = in && is_local(a, in) && same_place(in, &vals[i]);
		bool det = false;

		if (keep && !sg_attach_verify(&owner, &keys[i], &vals[i], &t) &&
		    t.status == SG_ATT_OK)
			continue;
		if (sg_detach_record(&owner, &keys[i], &vals[i], &det))
			continue;
		if (det)
			sg_warnx("agent: detached %s%s%s (instance %s)",
				 vals[i].ifname,
				 vals[i].netns[0] ? " in netns " : "",
				 vals[i].netns, vals[i].instance);
	}
	free(keys);
	free(vals);
}

/* Whether ifname exists in netns (NULL: ours), silently. */
static bool iface_exists(const char *ifname, const char *netns)
{
	struct sg_netns ns;
	__u64 ino;
	bool there;

	if (netns && sg_netns_ino(netns, &ino))
		return false;
	if (sg_netns_enter(netns, &ns))
		return false;
	there = if_nametoindex(ifname) != 0;
	sg_netns_leave(&ns);
	return there;
}

/*
 * After an apply (or on the retry alarm): attaches every local instance
 * that names an interface and is not attached there yet. Interfaces that
 * do not exist yet are counted in a->pending and looked for again.
 */
static void attach_local(struct agent *a, const struct sg_config *cfg,
			 struct sg_state *st)
{
	struct sg_attach_key *keys = NULL;
	struct sg_attach_val *vals = NULL;
	size_t n = 0, pending = 0;

	if (sg_attach_list(st, &keys, &vals, &n))
		return;
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sg_instance *in = &cfg->instances[i];
		struct sg_attach_req req = {};
		struct sg_state pst = {};
		bool done = false;
		int slot;

		if (!is_local(a, in) || !in->interface)
			continue;
		for (size_t k = 0; k < n && !done; k++)
			done = !strcmp(vals[k].instance, in->id) &&
			       same_place(in, &vals[k]);
		if (done)
			continue;
		if (!iface_exists(in->interface, in->netns)) {
			pending++;
			continue;
		}
		slot = sg_slot_get(st, in->id, false);
		if (slot < 0)
			continue;
		if (sg_state_open(&pst, a->o->pin_dir, slot, in->host_side))
			continue;
		req.ifname = in->interface;
		req.netns = in->netns;
		req.instance = in->id;
		req.slot = (__u32)slot;
		req.host_side = in->host_side;
		if (!sg_attach(&pst, &req))
			sg_warnx("agent: attached %s%s%s: instance %s (slot "
				 "%d, %s)",
				 in->interface, in->netns ? " in netns " : "",
				 or_empty(in->netns), in->id, slot,
				 in->host_side ? "host-side" : "nic");
		sg_state_close(&pst);
	}
	if (pending && pending != a->pending)
		sg_warnx("agent: %zu interface%s not there yet; attached when "
			 "%s",
			 pending, pending == 1 ? "" : "s",
			 pending == 1 ? "it appears" : "they appear");
	a->pending = pending;
	free(keys);
	free(vals);
}

/*
 * The agent's state handle, under the lock. Reopened when its pins are
 * gone (someone ran unload) so writes never go to maps nobody reads; the
 * slot cache is dropped since other commands may have changed the slots.
 */
static struct sg_state *agent_state(struct agent *a, int *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sg_active", a->st.pin_dir);
	if (a->st_open && access(path, F_OK)) {
		sg_state_close(&a->st);
		a->st_open = false;
	}
	if (!a->st_open) {
		*err = sg_state_open(&a->st, a->o->pin_dir, -1, false);
		if (*err)
			return NULL;
		a->st_open = true;
	}
	a->st.slots_cached = false;
	*err = 0;
	return &a->st;
}

static void agent_state_drop(struct agent *a)
{
	if (a->st_open)
		sg_state_close(&a->st);
	a->st_open = false;
}

/* --------------------------------------------------------------- apply */

static void print_applied(struct agent *a, int64_t rev, double ms,
			  const struct sg_apply_result *r)
{
	FILE *out = a->o->out;

	if (a->o->json) {
		json_t *o = json_pack(
			"{s:I,s:f,s:f,s:I,s:I,s:s,s:I,s:b,s:b}", "revision",
			(json_int_t)rev, "applied_at", a->applied_at,
			"apply_ms", (double)(long long)(ms * 1000) / 1000,
			"entries_written", (json_int_t)r->entries_written,
			"entries_deleted", (json_int_t)r->entries_deleted,
			"host", a->o->host, "instances", (json_int_t)r->local,
			"unchanged", r->unchanged, "incremental",
			r->incremental);
		char *s = o ? json_dumps(o,
					 JSON_COMPACT | JSON_REAL_PRECISION(13))
			    : NULL;

		if (s)
			fprintf(out, "%s\n", s);
		free(s);
		json_decref(o);
	} else {
		fprintf(out,
			"revision %" PRId64 " applied in %.1f ms: %zu entries "
			"written, %zu deleted%s, %zu local instance%s (host "
			"%s)\n",
			rev, ms, r->entries_written, r->entries_deleted,
			r->incremental ? " in place" : "", r->local,
			r->local == 1 ? "" : "s", a->o->host);
	}
	fflush(out);
}

/* Builds the desired state at rev and makes it this host's. */
static int apply_rev(struct agent *a, int64_t rev)
{
	struct sg_apply_result res;
	struct sg_apply_req req = {};
	struct sg_config cfg;
	struct sg_state *st;
	double t0 = now_mono_ms(), ms;
	char *text = NULL, label[64];
	size_t len = 0;
	int lock, err;

	err = build(a, rev, &cfg, &text, &len);
	if (err) {
		publish_status(a);
		return err;
	}
	lock = sg_state_lock(a->o->pin_dir, LOCK_TIMEOUT_MS);
	if (lock < 0) {
		err = lock;
		goto out;
	}
	st = agent_state(a, &err);
	if (st) {
		detach_moved(a, st, &cfg);
		snprintf(label, sizeof(label), "revision %" PRId64, rev);
		req.label = label;
		req.text = text;
		req.len = len;
		req.host = a->o->host;
		req.cache = &a->apply_cache;
		err = sg_enforce_apply(st, &cfg, &req, &res);
		if (!err)
			attach_local(a, &cfg, st);
		else
			agent_state_drop(a); /* reopen for the next */
	}
	close(lock);
	if (err) {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 "cannot apply revision %" PRId64 ": %s", rev,
			 strerror(-err));
		sg_err("agent: %s", msg);
		set_error(a, rev, NULL, msg);
		publish_status(a);
		goto out;
	}
	ms = now_mono_ms() - t0;
	a->applied = rev;
	a->applied_at = now_wall();
	a->ever_applied = true;
	clear_error(a);
	print_applied(a, rev, ms, &res);
	publish_status(a);
out:
	sg_config_free(&cfg);
	free(text);
	return err;
}

/* The retry alarm: attach what has appeared since. */
static void retry_attach(struct agent *a)
{
	struct sg_config cfg = {};
	struct sg_state *st;
	int lock, err;

	lock = sg_state_lock(a->o->pin_dir, LOCK_TIMEOUT_MS);
	if (lock < 0)
		return;
	st = agent_state(a, &err);
	if (st) {
		char *text = NULL;
		size_t len = 0;
		struct sg_diag diag;

		sg_diag_init(&diag);
		if (!sg_blob_load(st, &text, &len) &&
		    !sg_config_parse_string("stored", text, len, &cfg, &diag))
			attach_local(a, &cfg, st);
		sg_diag_free(&diag);
		free(text);
	}
	sg_config_free(&cfg);
	close(lock);
}

/* ---------------------------------------------------------------- loop */

static void cache_put(struct agent *a, const char *key, const char *value,
		      size_t len)
{
	json_object_set_new(a->cache, key, json_stringn(value, len));
}

static int on_events(const struct sg_etcd_event *ev, size_t n, int64_t revision,
		     void *arg)
{
	struct agent *a = arg;
	bool changed = false;

	if (g_term)
		return 1;
	int64_t rev = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t r = ev[i].mod_revision ? ev[i].mod_revision : revision;

		/* Older than what we hold: a replay after a reconnect. */
		if (r <= a->seen)
			continue;
		if (r > rev)
			rev = r;
		if (strncmp(ev[i].key, a->prefix, a->prefix_len) ||
		    is_status_key(a, ev[i].key))
			continue;
		changed = true;
		if (ev[i].del)
			json_object_del(a->cache, ev[i].key);
		else
			cache_put(a, ev[i].key, ev[i].value, ev[i].len);
	}
	if (!rev)
		return 0;
	/* A response holds every event up to its last one: the state of
	 * that revision. */
	a->seen = rev;
	recovered(a);
	if (changed)
		apply_rev(a, rev);
	return g_term ? 1 : 0;
}

/* Lists the prefix: the cache becomes exactly what is there (what
 * vanished is gone), then applies it. */
static int relist(struct agent *a)
{
	struct sg_kvset s = {};
	int64_t rev = 0;
	char *why = NULL;
	int err;

	err = sg_etcd_range_prefix(a->etcd, a->prefix, &s, &rev, &why);
	if (err) {
		/* Never in touch yet: credentials etcd refuses are a
		 * mistake to say at once, not to retry (over TLS, a
		 * refused client certificate may also look like a
		 * connection closed mid-handshake). */
		if (!a->ever_applied && !a->seen &&
		    (err == -EACCES || err == -EPROTO ||
		     (is_tls(a) && err == -ECONNRESET))) {
			sg_err("agent: %s%s", why ? why : strerror(-err),
			       err == -ECONNRESET
				       ? " (etcd closed the TLS connection: "
					 "no client certificate, or one it "
					 "does not trust?)"
				       : "");
			free(why);
			return err;
		}
		if (err == -ENOMEM) {
			sg_err("out of memory");
			free(why);
			return err;
		}
		problem(a, "cannot list", why ? why : strerror(-err));
		free(why);
		return -EAGAIN;
	}
	recovered(a);
	json_object_clear(a->cache);
	for (size_t i = 0; i < s.n; i++)
		if (!is_status_key(a, s.v[i].key))
			cache_put(a, s.v[i].key, s.v[i].value, s.v[i].len);
	sg_kvset_free(&s);
	a->seen = rev;
	apply_rev(a, rev);
	return 0;
}

int sg_agent_run(const struct sg_agent_opts *o)
{
	struct agent a = {.o = o};
	struct sigaction sa = {.sa_handler = on_alarm};
	long backoff = BACKOFF_MIN_MS;
	bool need_list = true;
	char *why = NULL;
	int err;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	a.prefix = sg_desired_prefix(o->vpc ? o->vpc : "vpc-default");
	a.cache = json_object();
	if (!a.prefix || !a.cache ||
	    asprintf(&a.status_key, "%sstatus/%s", a.prefix, o->host) < 0) {
		sg_err("out of memory");
		err = -ENOMEM;
		goto out;
	}
	a.prefix_len = strlen(a.prefix);
	err = sg_etcd_open(&o->etcd, &a.etcd, &why);
	if (err) {
		sg_err("agent: %s", why ? why : strerror(-err));
		goto out;
	}
	while (!g_term) {
		int64_t compact = 0;
		double started;

		if (need_list) {
			err = relist(&a);
			if (err && err != -EAGAIN)
				goto out;
			if (err) {
				nap(backoff);
				backoff = backoff * 2 > BACKOFF_MAX_MS
						  ? BACKOFF_MAX_MS
						  : backoff * 2;
				continue;
			}
			need_list = false;
			backoff = BACKOFF_MIN_MS;
		}
		if (a.status_dirty)
			publish_status(&a);
		g_watch_stop = g_term;
		if (a.pending)
			alarm(RETRY_ATTACH_S);
		started = now_mono_ms();
		free(why);
		why = NULL;
		err = sg_etcd_watch(a.etcd, a.prefix, a.seen + 1, on_events, &a,
				    &g_watch_stop, &compact, &why);
		alarm(0);
		if (g_term)
			break;
		if (!err || err == 1) {
			/* the alarm: look for missing interfaces */
			if (a.pending)
				retry_attach(&a);
			continue;
		}
		if (err == -ESTALE) {
			sg_warnx("agent: revision %" PRId64
				 " was compacted (the oldest left is %" PRId64
				 "); listing again",
				 a.seen + 1, compact);
			need_list = true;
			continue;
		}
		problem(&a, "watch", why ? why : strerror(-err));
		/* a watch that ran a while was healthy: start over small */
		if (now_mono_ms() - started > BACKOFF_MAX_MS)
			backoff = BACKOFF_MIN_MS;
		nap(backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
						       : backoff * 2;
	}
	err = 0;
out:
	free(why);
	if (a.etcd)
		sg_etcd_close(a.etcd);
	json_decref(a.cache);
	agent_state_drop(&a);
	sg_apply_cache_free(&a.apply_cache);
	clear_error(&a);
	free(a.prefix);
	free(a.status_key);
	free(a.last_problem);
	return err;
}

/* ------------------------------------------------------------- readers */

int64_t sg_agent_stored_revision(const char *text, size_t len)
{
	size_t m = strlen(REVISION_MARK);
	char *end;
	long long v;

	if (!text || len <= m || strncmp(text, REVISION_MARK, m))
		return -1;
	v = strtoll(text + m, &end, 10);
	if (end == text + m || *end != '\n' || v < 0)
		return -1;
	return v;
}

int sg_agent_status_parse(const char *value, size_t len,
			  struct sg_agent_status *s)
{
	json_t *o = json_loadb(value, len, 0, NULL), *e;
	const char *host;

	memset(s, 0, sizeof(*s));
	host = json_string_value(json_object_get(o, "host"));
	if (!json_is_object(o) || !host) {
		json_decref(o);
		return -EINVAL;
	}
	s->host = strdup(host);
	s->revision = json_integer_value(json_object_get(o, "revision"));
	s->applied_at = json_number_value(json_object_get(o, "applied_at"));
	s->pid = (long)json_integer_value(json_object_get(o, "pid"));
	if (json_string_value(json_object_get(o, "version")))
		s->version = strdup(
			json_string_value(json_object_get(o, "version")));
	e = json_object_get(o, "error");
	if (json_is_object(e)) {
		const char *k = json_string_value(json_object_get(e, "key"));
		const char *m =
			json_string_value(json_object_get(e, "message"));

		s->error_key = k ? strdup(k) : NULL;
		s->error = strdup(m ? m : "error");
	}
	json_decref(o);
	return 0;
}

void sg_agent_status_free(struct sg_agent_status *s)
{
	free(s->host);
	free(s->error_key);
	free(s->error);
	free(s->version);
	memset(s, 0, sizeof(*s));
}
