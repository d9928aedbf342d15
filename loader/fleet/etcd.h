/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A client of etcd's v3 JSON gateway (the gRPC API over HTTP/1.1 JSON:
 * /v3/kv/range, /v3/kv/txn, /v3/watch) on libcurl and jansson. Keys and
 * values are base64 on the wire and plain strings here; int64 fields
 * (revision) are JSON strings there and int64_t here.
 */
#ifndef SG_ETCD_H
#define SG_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desired/desired.h"

/* Where etcd is and how to prove who we are (etcdctl's option names). */
struct sg_etcd_opts {
	const char *url; /* "http://127.0.0.1:2379" or https:// */
	const char *cacert; /* --cacert: CA bundle of the server; may be NULL */
	const char *cert; /* --cert: client certificate; may be NULL */
	const char *key; /* --key: its private key; may be NULL */
	long timeout_ms; /* of one request (not of a watch); 0 = 5000 */
};

struct sg_etcd;

/*
 * The errors below are negative errnos; *err (when not NULL) gets a
 * malloc'ed sentence saying what went wrong ("etcd at URL: SSL certificate
 * problem: ...", "etcd at URL: connection refused").
 */
int sg_etcd_open(const struct sg_etcd_opts *o, struct sg_etcd **e, char **err);
void sg_etcd_close(struct sg_etcd *e);

/* Every key under prefix, sorted, at one revision (*revision). */
int sg_etcd_range_prefix(struct sg_etcd *e, const char *prefix,
			 struct sg_kvset *out, int64_t *revision, char **err);
int sg_etcd_get(struct sg_etcd *e, const char *key, struct sg_kv *out,
		bool *found, int64_t *revision, char **err);

/* A transaction: if every compare holds, apply the ops. */
struct sg_etcd_cmp {
	const char *key;
	int64_t mod_revision; /* the key's mod_revision must equal this;
			       * 0 = the key must not exist */
};

struct sg_etcd_op {
	bool del; /* delete key (or, with prefix, every key under it) */
	bool prefix;
	const char *key;
	const char *value; /* for a put */
	size_t len;
};

/*
 * *succeeded false: a compare failed (someone else wrote first) and
 * nothing was written. *revision: the store's revision afterwards.
 */
int sg_etcd_txn(struct sg_etcd *e, const struct sg_etcd_cmp *cmp, size_t ncmp,
		const struct sg_etcd_op *ops, size_t nops, bool *succeeded,
		int64_t *revision, char **err);

/*
 * Makes the desired-state keys under prefix equal to want in one
 * transaction: puts the keys that are new or changed, deletes the keys
 * have holds and want does not (never PREFIX "status/..."), each guarded
 * by the mod_revision in have (what the caller read, at have_revision).
 * Nothing to change: writes nothing, *revision = have_revision.
 * *succeeded false: someone wrote one of those keys since; the caller
 * reads again and retries. *nput / *ndel (may be NULL): keys written.
 */
int sg_etcd_put_state(struct sg_etcd *e, const char *prefix,
		      const struct sg_kvset *have, int64_t have_revision,
		      const struct sg_kvset *want, bool *succeeded,
		      int64_t *revision, size_t *nput, size_t *ndel,
		      char **err);

/* One change seen by a watch. */
struct sg_etcd_event {
	bool del;
	const char *key;
	const char *value; /* NULL for a delete */
	size_t len;
	int64_t mod_revision;
};

/*
 * Watches every key under prefix from start_revision on, calling on_events
 * once per watch response (all events of one revision arrive together).
 * Returns when on_events returns non-zero (that value), when *stop becomes
 * true, or on an error: -ECONNRESET etc., and -ESTALE when start_revision
 * was compacted (*compact_revision set): the caller re-lists.
 * An idle watch uses no CPU (it blocks in the socket).
 */
typedef int (*sg_etcd_watch_fn)(const struct sg_etcd_event *ev, size_t n,
				int64_t revision, void *arg);
int sg_etcd_watch(struct sg_etcd *e, const char *prefix,
		  int64_t start_revision, sg_etcd_watch_fn on_events,
		  void *arg, volatile bool *stop, int64_t *compact_revision,
		  char **err);

#endif /* SG_ETCD_H */
