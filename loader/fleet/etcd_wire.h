/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The wire format of etcd's v3 JSON gateway, with no network: base64 keys
 * and values, int64 as JSON strings, the request bodies of range, txn and
 * watch, and the parsing of their responses. etcd.c does the HTTP. Pure
 * (jansson only), so the unit tests cover it.
 *
 * The gateway (etcd 3.4) serves /v3/ (and the older /v3beta/); proto3
 * leaves out fields at their default, so a missing "succeeded" is false,
 * a missing "kvs" is none and a missing "revision" is 0.
 */
#ifndef SG_ETCD_WIRE_H
#define SG_ETCD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fleet/etcd.h"

/* The gateway's path prefix (etcd 3.4 serves both /v3/ and /v3beta/). */
#define SG_ETCD_API "/v3"

/* Standard base64 with padding; malloc'ed, NUL-terminated. */
char *sg_etcd_b64_encode(const void *data, size_t len);
/* NULL when s is not valid base64; else malloc'ed, NUL-terminated
 * (*len without the NUL). */
char *sg_etcd_b64_decode(const char *s, size_t *len);

/*
 * The end of the range of every key that starts with prefix: prefix with
 * its last byte that is not 0xff incremented and what follows dropped;
 * "\0" (every key) when there is none. malloc'ed, *len bytes.
 */
char *sg_etcd_range_end(const char *prefix, size_t *len);

/* A JSON int64: a string of digits (the gateway's form) or a number. */
bool sg_etcd_json_int64(const json_t *v, int64_t *out);

/* Request bodies (JSON text, malloc'ed), NULL when out of memory. */
char *sg_etcd_range_request(const char *key, bool prefix);
char *sg_etcd_txn_request(const struct sg_etcd_cmp *cmp, size_t ncmp,
			  const struct sg_etcd_op *ops, size_t nops);
char *sg_etcd_watch_request(const char *prefix, int64_t start_revision);

/*
 * Response bodies. Each returns 0, or -EPROTO with *err a sentence (not
 * naming the URL; the caller prefixes it) when the body is not what the
 * gateway sends. A gateway error object ({"error", "code", "message"})
 * gives -EIO with its message.
 */
int sg_etcd_parse_range(const char *body, size_t len, struct sg_kvset *out,
			int64_t *revision, char **err);
int sg_etcd_parse_txn(const char *body, size_t len, bool *succeeded,
		      int64_t *revision, char **err);

/* The gateway's error message in body, or NULL (malloc'ed). */
char *sg_etcd_error_message(const char *body, size_t len);

/* One response of a watch stream. */
struct sg_etcd_watch_resp {
	bool created;
	bool canceled;
	int64_t revision;	  /* header revision */
	int64_t compact_revision; /* > 0: start_revision was compacted */
	char *cancel_reason;	  /* malloc'ed or NULL */
	struct sg_etcd_event *ev; /* keys and values malloc'ed */
	size_t nev;
};

int sg_etcd_parse_watch(const char *line, size_t len,
			struct sg_etcd_watch_resp *r, char **err);
void sg_etcd_watch_resp_free(struct sg_etcd_watch_resp *r);

/*
 * The watch stream arrives in chunks that need not end where a response
 * ends: each response is one line (the gateway ends every one with '\n').
 * Feed appends; next takes the next complete line out (without the '\n',
 * NUL-terminated, malloc'ed) or returns NULL when none is complete yet.
 */
struct sg_etcd_lines {
	char *buf;
	size_t len, cap;
};

int sg_etcd_lines_feed(struct sg_etcd_lines *l, const char *data, size_t n);
char *sg_etcd_lines_next(struct sg_etcd_lines *l, size_t *len);
void sg_etcd_lines_free(struct sg_etcd_lines *l);

/*
 * The transaction that turns the keys have (read under prefix, with their
 * mod_revisions) into want: a put for each key of want that is new or has
 * another value, a delete for each key of have that want lacks (never
 * one under prefix "status/", the agents' own), and a compare for each of
 * those keys on the mod_revision read (0: must still not exist). The
 * plan's strings point into have and want.
 */
struct sg_etcd_plan {
	struct sg_etcd_cmp *cmp;
	struct sg_etcd_op *ops;
	size_t n; /* compares = ops */
	size_t nput, ndel;
};

int sg_etcd_plan_state(const char *prefix, const struct sg_kvset *have,
		       const struct sg_kvset *want, struct sg_etcd_plan *p);
void sg_etcd_plan_free(struct sg_etcd_plan *p);

/* Frees the keys and values of a set (not the contract's sg_kvset_free,
 * which desired/ implements; the same thing). */
void sg_etcd_kvset_clear(struct sg_kvset *s);

#endif /* SG_ETCD_WIRE_H */
