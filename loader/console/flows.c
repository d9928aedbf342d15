// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The console's flow-log buffer: a thread that reads the local datapath's
 * flow records (view/flowlog.h) once a second, as `flowlog --follow`
 * does, and keeps the last SG_CONSOLE_FLOW_WINDOW_S seconds of them in a
 * ring (at most SG_FLOWBUF_MAX records), each numbered with a rising
 * cursor for live follow.
 *
 * Once a second: the cheap watch of the state (sg_fl_watch), a snapshot
 * of the maps, and one record per flow and direction that carried
 * packets since the last poll (its counts since then). A flow already
 * there when the state is first read gives one record counting all its
 * packets. Reloads re-read the names (a flow counted until then keeps
 * the names it had); a rebuilt state is reopened; an unloaded one is let
 * go (the records stay until they age out) and watched for again, as is
 * a pin directory where nothing was loaded yet.
 *
 * The snapshot and the deltas are made without the lock; only the
 * appending takes it, so readers wait at most for an append.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/console.h"
#include "console/flows.h"
#include "out/json.h"
#include "state/state.h"
#include "util/diag.h"
#include "view/flowlog.h"

#define NS	     1000000000ULL
#define FB_FIRST_CAP 1024

struct sg_flowbuf_labels {
	struct sg_flowbuf_labels *next; /* every labels ever made */
	char account[64], vpc[64], region[64];
};

struct sg_flowbuf {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* stop */
	bool stop;
	char *pin_dir;

	/* Under lock: the ring, oldest at head. */
	struct sg_flowbuf_rec *ring;
	size_t cap, head, n;
	uint64_t next_cursor;
	/* Every rule id seen (key -> id, sorted): a rule deleted since a
	 * record was counted still names it. */
	struct sg_fl_rule *rules;
	size_t nrules;
	/* Instance ids, interned (sorted): records point into them. */
	char **ids;
	size_t nids;
	struct sg_flowbuf_labels *labels; /* the newest first */

	/* The poller's own (no lock): the datapath and the last snapshot. */
	struct sg_fl_src src;
	bool open;
	bool quiet; /* an open failed and was reported: say it once */
	struct sg_flows prev, cur, add;
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* The monotonic time window_s seconds ago (0 early after boot). */
static uint64_t window_start(unsigned int window_s)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), w = (uint64_t)window_s * NS;

	return now > w ? now - w : 0;
}

/* ------------------------------------------------------------ names */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The buffer's copy of id (NULL on NULL or out of memory). Under lock. */
static const char *intern(struct sg_flowbuf *fb, const char *id)
{
	char **hit, **v, *s;
	size_t at = 0;

	if (!id)
		return NULL;
	hit = fb->nids ? bsearch(&id, fb->ids, fb->nids, sizeof(*fb->ids),
				 str_cmp)
		       : NULL;
	if (hit)
		return *hit;
	s = strdup(id);
	v = realloc(fb->ids, (fb->nids + 1) * sizeof(*v));
	if (!s || !v) {
		free(s);
		if (v)
			fb->ids = v;
		return NULL;
	}
	fb->ids = v;
	while (at < fb->nids && strcmp(fb->ids[at], s) < 0)
		at++;
	memmove(&fb->ids[at + 1], &fb->ids[at],
		(fb->nids - at) * sizeof(*fb->ids));
	fb->ids[at] = s;
	fb->nids++;
	return s;
}

/* The labels of names n, the newest ones when they are the same. Under
 * lock. */
static const struct sg_flowbuf_labels *labels_of(struct sg_flowbuf *fb,
						 const struct sg_fl_names *n)
{
	struct sg_flowbuf_labels *l = fb->labels;

	if (l && !strcmp(l->account, n->account) && !strcmp(l->vpc, n->vpc) &&
	    !strcmp(l->region, n->region))
		return l;
	l = calloc(1, sizeof(*l));
	if (!l)
		return fb->labels;
	snprintf(l->account, sizeof(l->account), "%s", n->account);
	snprintf(l->vpc, sizeof(l->vpc), "%s", n->vpc);
	snprintf(l->region, sizeof(l->region), "%s", n->region);
	l->next = fb->labels;
	fb->labels = l;
	return l;
}

/* Adds the rule ids of n to the buffer's. Under lock. */
static void merge_rules(struct sg_flowbuf *fb, const struct sg_fl_names *n)
{
	struct sg_fl_rule *v;
	size_t k;

	if (!n->nrules)
		return;
	v = realloc(fb->rules, (fb->nrules + n->nrules) * sizeof(*v));
	if (!v)
		return;
	fb->rules = v;
	memcpy(&v[fb->nrules], n->rules, n->nrules * sizeof(*v));
	qsort(v, fb->nrules + n->nrules, sizeof(*v), sg_fl_rule_cmp);
	k = 0;
	for (size_t i = 0; i < fb->nrules + n->nrules; i++)
		if (!k || v[i].key != v[k - 1].key)
			v[k++] = v[i];
	fb->nrules = k;
}

const char *sg_flowbuf_rec_rule(struct sg_flowbuf *fb,
				const struct sg_flowbuf_rec *r)
{
	struct sg_fl_rule k = {.key = r->f.rule_key}, *hit;

	if (!r->f.rule_key || !fb->nrules)
		return "-";
	hit = bsearch(&k, fb->rules, fb->nrules, sizeof(k), sg_fl_rule_cmp);
	return hit ? hit->id : "-";
}

/* ------------------------------------------------------------- ring */

static struct sg_flowbuf_rec *rec_at(struct sg_flowbuf *fb, size_t i)
{
	return &fb->ring[(fb->head + i) % fb->cap];
}

/* Room for one more record: the ring grows to SG_FLOWBUF_MAX, then the
 * oldest record goes. Under lock. */
static int make_room(struct sg_flowbuf *fb)
{
	struct sg_flowbuf_rec *v;
	size_t ncap;

	if (fb->n < fb->cap)
		return 0;
	if (fb->cap >= SG_FLOWBUF_MAX) {
		fb->head = (fb->head + 1) % fb->cap;
		fb->n--;
		return 0;
	}
	ncap = fb->cap ? fb->cap * 2 : FB_FIRST_CAP;
	if (ncap > SG_FLOWBUF_MAX)
		ncap = SG_FLOWBUF_MAX;
	v = malloc(ncap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < fb->n; i++)
		v[i] = *rec_at(fb, i);
	free(fb->ring);
	fb->ring = v;
	fb->cap = ncap;
	fb->head = 0;
	return 0;
}

/* Drops the records older than the window. Under lock. */
static void age_out(struct sg_flowbuf *fb, uint64_t now)
{
	uint64_t win = (uint64_t)SG_CONSOLE_FLOW_WINDOW_S * NS;

	while (fb->n && rec_at(fb, 0)->f.last_ns + win < now) {
		fb->head = (fb->head + 1) % fb->cap;
		fb->n--;
	}
}

/* Appends the poller's new records (fb->add), labelled under the names
 * the source has now. */
static void append(struct sg_flowbuf *fb, int64_t offset_ns)
{
	const struct sg_fl_names *n = &fb->src.names;
	const struct sg_flowbuf_labels *l;

	pthread_mutex_lock(&fb->lock);
	l = labels_of(fb, n);
	for (size_t i = 0; i < fb->add.n; i++) {
		struct sg_flowbuf_rec *r;

		if (make_room(fb))
			break;
		r = rec_at(fb, fb->n++);
		r->f = fb->add.v[i];
		r->instance = intern(fb, sg_fl_owner(n, r->f.id.slot));
		r->labels = l;
		r->cursor = fb->next_cursor++;
		r->offset_ns = offset_ns;
	}
	age_out(fb, clock_ns(CLOCK_MONOTONIC));
	pthread_mutex_unlock(&fb->lock);
	fb->add.n = 0;
}

/* --------------------------------------------------------- the poller */

/*
 * fb->add: each flow of cur with packets since prev (a flow not in prev
 * counts whole), only that poll's counts. A flow read lower than in prev
 * keeps prev's counts (sg_flow_no_less).
 */
static int deltas(struct sg_flowbuf *fb)
{
	for (size_t i = 0; i < fb->cur.n; i++) {
		struct sg_flow *c = &fb->cur.v[i];
		const struct sg_flow *p =
			fb->prev.n ? bsearch(c, fb->prev.v, fb->prev.n,
					     sizeof(*c), sg_flow_id_cmp)
				   : NULL;
		struct sg_flow d;

		if (!sg_flow_delta(c, p, &d))
			continue;
		if (sg_flows_push(&fb->add, &d))
			return -ENOMEM;
	}
	if (fb->add.n)
		qsort(fb->add.v, fb->add.n, sizeof(*fb->add.v),
		      sg_flow_time_cmp);
	return 0;
}

static void swap_snapshots(struct sg_flowbuf *fb)
{
	struct sg_flows t = fb->prev;

	fb->prev = fb->cur;
	fb->cur = t;
}

static int64_t offset_now(void)
{
	return (int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
}

static void let_go(struct sg_flowbuf *fb)
{
	if (fb->open)
		sg_fl_close(&fb->src);
	fb->open = false;
	fb->prev.n = fb->cur.n = fb->add.n = 0;
}

/* The state first seen: every flow of the window, whole. */
static void first_read(struct sg_flowbuf *fb)
{
	uint64_t since;

	if (!sg_state_exists(fb->pin_dir))
		return;
	if (sg_fl_open(&fb->src, fb->pin_dir, NULL)) {
		if (!fb->quiet)
			sg_warnx("console: no flow logs from %s until it can "
				 "be read",
				 fb->pin_dir);
		fb->quiet = true;
		return;
	}
	fb->open = true;
	fb->quiet = false;
	if (sg_fl_snapshot(&fb->src, &fb->prev)) {
		let_go(fb);
		return;
	}
	since = window_start(SG_CONSOLE_FLOW_WINDOW_S);
	for (size_t i = 0; i < fb->prev.n; i++)
		if (fb->prev.v[i].last_ns >= since &&
		    sg_flows_push(&fb->add, &fb->prev.v[i]))
			break;
	if (fb->add.n)
		qsort(fb->add.v, fb->add.n, sizeof(*fb->add.v),
		      sg_flow_time_cmp);
	pthread_mutex_lock(&fb->lock);
	merge_rules(fb, &fb->src.names);
	pthread_mutex_unlock(&fb->lock);
	append(fb, offset_now());
}

/* One poll of an open state (flowlog.c's follow, one-second windows). */
static void poll_once(struct sg_flowbuf *fb)
{
	struct sg_fl_src *x = &fb->src;
	enum sg_fl_change what = SG_FL_SAME;
	struct sg_fl_names next = {};
	struct sg_fl_seen w;
	bool renamed = false;
	int err;

	err = sg_fl_watch(x, &what);
	if (!err && what == SG_FL_RELOADED) {
		err = sg_fl_seen_now(x, &w);
		if (!err)
			err = sg_fl_names_read(&x->st, NULL, &next);
		if (!err && !sg_fl_names_differ(&x->names, &next))
			sg_fl_take_names(x, &next, &w);
		else
			renamed = !err;
	}
	/* The maps open, under the names they had until now: also the
	 * last packets of a state just removed. */
	if (!err)
		err = sg_fl_snapshot(x, &fb->cur);
	if (err) {
		sg_fl_names_free(&next);
		let_go(fb);
		return;
	}
	if (renamed) {
		/* A flow first seen now in a slot that changed owner is the
		 * new owner's: the next poll counts it whole. */
		size_t k = 0;

		for (size_t i = 0; i < fb->cur.n; i++) {
			const struct sg_flow *c = &fb->cur.v[i];

			if (sg_fl_owner_changed(&x->names, &next, c->id.slot) &&
			    !(fb->prev.n &&
			      bsearch(c, fb->prev.v, fb->prev.n, sizeof(*c),
				      sg_flow_id_cmp)))
				continue;
			fb->cur.v[k++] = *c;
		}
		fb->cur.n = k;
	}
	if (deltas(fb))
		fb->add.n = 0;
	append(fb, offset_now());
	swap_snapshots(fb);
	if (renamed) {
		sg_fl_take_names(x, &next, &w);
	} else if (what == SG_FL_REBUILT) {
		if (sg_fl_reopen(x)) {
			let_go(fb);
			return;
		}
		fb->prev.n = 0; /* new maps: their flows count whole */
	} else if (what == SG_FL_MISSING && x->seen.missing) {
		let_go(fb); /* unloaded: watch for a load again */
		return;
	}
	x->seen.missing = what == SG_FL_MISSING;
	/* Names read at a reload label what comes next; their rule ids
	 * join the buffer's now. */
	if (renamed || what == SG_FL_RELOADED || what == SG_FL_REBUILT) {
		pthread_mutex_lock(&fb->lock);
		merge_rules(fb, &x->names);
		pthread_mutex_unlock(&fb->lock);
	}
}

static void *poller(void *arg)
{
	struct sg_flowbuf *fb = arg;
	struct timespec until;

	for (;;) {
		if (fb->open)
			poll_once(fb);
		else
			first_read(fb);
		pthread_mutex_lock(&fb->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		while (!fb->stop && pthread_cond_timedwait(&fb->wake, &fb->lock,
							   &until) != ETIMEDOUT)
			;
		if (fb->stop) {
			pthread_mutex_unlock(&fb->lock);
			break;
		}
		pthread_mutex_unlock(&fb->lock);
	}
	let_go(fb);
	return NULL;
}

int sg_flowbuf_start(struct sg_flowbuf **out, const char *pin_dir)
{
	struct sg_flowbuf *fb = calloc(1, sizeof(*fb));
	pthread_condattr_t ca;
	sigset_t all, was;
	int err;

	*out = NULL;
	if (!fb)
		return -ENOMEM;
	fb->pin_dir = strdup(pin_dir);
	if (!fb->pin_dir) {
		free(fb);
		return -ENOMEM;
	}
	fb->src.reject_fd = fb->src.skip_fd = -1;
	/* Rising across restarts too: a follower's old cursor stays below. */
	fb->next_cursor = clock_ns(CLOCK_REALTIME) / 1000;
	pthread_mutex_init(&fb->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fb->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* The poller takes no signal: SIGINT and SIGTERM are the server's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &was);
	err = pthread_create(&fb->thread, NULL, poller, fb);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (err) {
		pthread_cond_destroy(&fb->wake);
		pthread_mutex_destroy(&fb->lock);
		free(fb->pin_dir);
		free(fb);
		return -err;
	}
	*out = fb;
	return 0;
}

void sg_flowbuf_stop(struct sg_flowbuf *fb)
{
	struct sg_flowbuf_labels *l, *nl;

	if (!fb)
		return;
	pthread_mutex_lock(&fb->lock);
	fb->stop = true;
	pthread_cond_signal(&fb->wake);
	pthread_mutex_unlock(&fb->lock);
	pthread_join(fb->thread, NULL);
	pthread_cond_destroy(&fb->wake);
	pthread_mutex_destroy(&fb->lock);
	sg_flows_free(&fb->prev);
	sg_flows_free(&fb->cur);
	sg_flows_free(&fb->add);
	for (size_t i = 0; i < fb->nids; i++)
		free(fb->ids[i]);
	free(fb->ids);
	free(fb->rules);
	for (l = fb->labels; l; l = nl) {
		nl = l->next;
		free(l);
	}
	free(fb->ring);
	free(fb->pin_dir);
	free(fb);
}

/* ---------------------------------------------------------- reading */

void sg_flowbuf_rec_members(struct sg_flowbuf *fb,
			    const struct sg_flowbuf_rec *r, struct sg_json *j)
{
	char vals[SG_FL_NFIELDS][SG_FL_VAL_LEN];
	struct sg_fl_labels l = {
		.account = r->labels ? r->labels->account : "000000000000",
		.vpc = r->labels ? r->labels->vpc : "vpc-default",
		.region = r->labels ? r->labels->region : "local",
		.instance = r->instance,
		.rule_id = sg_flowbuf_rec_rule(fb, r),
	};

	sg_fl_values(&r->f, &l, r->offset_ns, vals);
	sg_fl_json_members(j, &r->f, vals, NULL);
	sg_json_kv_uint(j, "cursor", r->cursor);
}

static bool has_ports(const struct sg_flow *f)
{
	return f->id.proto == SG_PROTO_TCP || f->id.proto == SG_PROTO_UDP;
}

static bool matches(struct sg_flowbuf *fb, const struct sg_flowbuf_rec *r,
		    const struct sg_flowbuf_query *q)
{
	const struct sg_flow *f = &r->f;

	if (q->instance && (!r->instance || strcmp(q->instance, r->instance)))
		return false;
	if (q->action >= 0 && f->id.action != q->action)
		return false;
	if (q->have_addr) {
		size_t len = q->family == 6 ? 16 : 4;

		if (f->id.action == SG_FL_SKIPDATA ||
		    f->id.family != q->family ||
		    (memcmp(f->id.saddr, q->addr, len) &&
		     memcmp(f->id.daddr, q->addr, len)))
			return false;
	}
	if (q->port >= 0 && (!has_ports(f) || (f->id.sport != q->port &&
					       f->id.dport != q->port)))
		return false;
	if (q->rule && strcmp(q->rule, sg_flowbuf_rec_rule(fb, r)))
		return false;
	return true;
}

/* The index of the first record after cursor c (n: none). */
static size_t first_after(struct sg_flowbuf *fb, uint64_t c)
{
	size_t lo = 0, hi = fb->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rec_at(fb, mid)->cursor <= c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void sg_flowbuf_list(struct sg_flowbuf *fb, const struct sg_flowbuf_query *q,
		     struct sg_json *j)
{
	uint64_t since, next = q->have_after ? q->after : 0;
	size_t *pick, npick = 0, limit = q->limit ? q->limit : 200;

	sg_json_key(j, "records");
	sg_json_begin_array(j);
	if (!fb) {
		sg_json_end_array(j);
		sg_json_kv_uint(j, "next", next);
		return;
	}
	pick = calloc(limit, sizeof(*pick));
	since = window_start(SG_CONSOLE_FLOW_WINDOW_S);
	pthread_mutex_lock(&fb->lock);
	if (fb->n && rec_at(fb, fb->n - 1)->cursor > next)
		next = rec_at(fb, fb->n - 1)->cursor;
	if (pick && q->have_after) {
		for (size_t i = first_after(fb, q->after); i < fb->n; i++) {
			const struct sg_flowbuf_rec *r = rec_at(fb, i);

			if (r->f.last_ns < since || !matches(fb, r, q))
				continue;
			pick[npick++] = i;
			if (npick == limit) {
				next = r->cursor;
				break;
			}
		}
	} else if (pick) {
		/* The newest ones, gathered backwards. */
		for (size_t i = fb->n; i-- > 0 && npick < limit;) {
			const struct sg_flowbuf_rec *r = rec_at(fb, i);

			if (r->f.last_ns >= since && matches(fb, r, q))
				pick[npick++] = i;
		}
		for (size_t a = 0, b = npick; a + 1 < b; a++, b--) {
			size_t t = pick[a];

			pick[a] = pick[b - 1];
			pick[b - 1] = t;
		}
	}
	for (size_t k = 0; k < npick; k++) {
		sg_json_begin_object(j);
		sg_flowbuf_rec_members(fb, rec_at(fb, pick[k]), j);
		sg_json_end_object(j);
	}
	pthread_mutex_unlock(&fb->lock);
	free(pick);
	sg_json_end_array(j);
	sg_json_kv_uint(j, "next", next);
}

void sg_flowbuf_each(struct sg_flowbuf *fb, unsigned int window_s,
		     sg_flowbuf_fn fn, void *arg)
{
	uint64_t since;

	if (!fb)
		return;
	since = window_start(window_s);
	pthread_mutex_lock(&fb->lock);
	for (size_t i = 0; i < fb->n; i++) {
		const struct sg_flowbuf_rec *r = rec_at(fb, i);

		if (r->f.last_ns >= since)
			fn(fb, r, arg);
	}
	pthread_mutex_unlock(&fb->lock);
}
