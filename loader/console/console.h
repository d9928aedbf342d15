/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The console (`sgctl console`): an HTTP server inside sgctl (GNU
 * libmicrohttpd) that serves the pages built into the binary and a JSON API
 * under /api/ (docs/console.md). Three parts:
 *
 *  - server.c: listening, TLS and authentication, limits, CSRF and origin
 *    checks, --read-only, routing, JSON errors. Every API handler runs
 *    under one console lock (c->lock), so handlers never race one another;
 *    slow clients do not hold it (the body is read before the call).
 *  - source.c: where the data comes from: the config loaded in --pin-dir,
 *    or the VPC's desired state in etcd (--etcd), cached per revision; the
 *    local datapath state (hits, flow logs, attachments) when one is here;
 *    edits through the CLI's one edit path (fleet/edit_txn.h).
 *  - api_*.c: the handlers, each file exporting a route table.
 *
 * The JSON objects are the CLI's -j objects (view/), so the console and the
 * command line never disagree.
 */
#ifndef SG_CONSOLE_H
#define SG_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/model.h"
#include "desired/edit.h"
#include "fleet/etcd.h"
#include "out/json.h"
#include "util/diag.h"

#define SG_CONSOLE_LISTEN "127.0.0.1:8080"
#define SG_CONSOLE_MAX_BODY (1024 * 1024) /* 413 beyond */
#define SG_CONSOLE_FLOW_WINDOW_S 600	  /* flow-log records kept */

struct sg_console_opts {
	const char *listen; /* ADDR:PORT or [ADDR6]:PORT; NULL: the default */
	bool read_only;
	const char *tls_cert, *tls_key;
	const char *client_ca;	   /* clients must present a cert it signed */
	const char *password_file; /* "user:crypt(3) hash" lines, Basic auth */
	const char *pin_dir;	   /* the local state */
	struct sg_etcd_opts etcd;  /* etcd.url NULL: the locally loaded config */
	const char *vpc;	   /* with etcd: which VPC (NULL: the only one) */
};

struct sg_console;

/* Runs the console until SIGINT/SIGTERM. Prints "console: listening on
 * http(s)://ADDR:PORT/" (-j: {"listen": "..."}) once it accepts. Returns
 * an exit status (0, 1 on a refused or failed start). */
int sg_console_run(const struct sg_console_opts *o);

/* ---- what a handler sees ---- */

/* One request; the whole body has been read (at most SG_CONSOLE_MAX_BODY). */
struct sg_req {
	const char *method;    /* "GET", "POST", "PUT", "DELETE" */
	const char *path;      /* "/api/groups/sg-1/rules", no query */
	const char *arg[4];    /* the {} segments of the route, URL-decoded */
	const char *body;      /* NUL-terminated, "" when none */
	size_t body_len;
	const char *client_ip; /* "192.0.2.7" or "2001:db8::7" ("My IP") */
	void *conn;	       /* the server's connection (sg_req_query) */
};

/* A query parameter, URL-decoded; NULL when absent. */
const char *sg_req_query(const struct sg_req *r, const char *name);

struct sg_resp;
/* The offset and limit of a list (default 500, at most 1000): 0, or
 * -EINVAL with the 400 written to w. */
#define SG_CONSOLE_PAGE_DEFAULT 500
#define SG_CONSOLE_PAGE_MAX	1000
int sg_req_paging(const struct sg_req *r, struct sg_resp *w, size_t *offset,
		  size_t *limit);

/*
 * The answer. A handler either writes JSON through sg_resp_json (the
 * server finishes the body) or calls sg_resp_error. status 0 means 200.
 */
struct sg_resp {
	unsigned status;
	FILE *f;	  /* open_memstream, opened by sg_resp_json */
	char *body;	  /* the finished body (server) */
	size_t len;
	struct sg_json *j;
};

/* A compact JSON writer into the response body (one per response). */
struct sg_json *sg_resp_json(struct sg_resp *w);

/*
 * An error: status (400, 403, 404, 409, 413, 503, ...) and the body
 * {"error": "message", "code": "CODE"}; code is the AWS code the CLI gives
 * for the same failure where there is one (InvalidGroup.NotFound,
 * InvalidPermission.Duplicate, DependencyViolation, ...), else one of
 * the console's: InvalidRequest, InvalidCsrfToken, UnauthorizedOperation
 * (read-only), NotFound, RequestTooLarge, ServiceUnavailable. Returns 0
 * so a handler can `return sg_resp_error(...)`.
 */
__attribute__((format(printf, 4, 5))) int
sg_resp_error(struct sg_resp *w, unsigned status, const char *code,
	      const char *fmt, ...);
/*
 * The errors of a failed edit or validation (400): the first error's
 * message and code as above, plus "errors": [{"code", "message"}...] for
 * every error in d. row >= 0 adds "row": row (the editor row at fault);
 * pass -1 for none.
 */
int sg_resp_diag(struct sg_resp *w, const struct sg_diag *d, int row);

/* ---- routes ---- */

typedef int (*sg_handler)(struct sg_console *c, const struct sg_req *r,
			  struct sg_resp *w);

struct sg_route {
	const char *method;  /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern; /* "/api/groups/{}/rules": {} is one segment */
	sg_handler fn;
	bool write; /* changes state: 403 under --read-only */
};

/* Each api_*.c exports one table, ended by {NULL}. Every POST, PUT and
 * DELETE needs the CSRF token and a same-origin request (server.c). */
extern const struct sg_route sg_api_group_routes[];    /* api_groups.c */
extern const struct sg_route sg_api_instance_routes[]; /* api_instances.c */
extern const struct sg_route sg_api_flow_routes[];     /* api_flows.c */
extern const struct sg_route sg_api_check_routes[];    /* api_check.c */

/* ---- the data (source.c); call only from a handler (under the lock) ---- */

const struct sg_console_opts *sg_console_opts(const struct sg_console *c);
bool sg_console_is_etcd(const struct sg_console *c);

/*
 * The current config: the one loaded in pin_dir, or the VPC's desired
 * state in etcd, validated. Cached until the generation (local) or the
 * revision (etcd) changes; valid until the handler returns. *rev: the
 * etcd revision, or the local policy generation. NULL on failure with the
 * error written to w (503 ServiceUnavailable: nothing loaded, etcd down).
 */
const struct sg_config *sg_console_config(struct sg_console *c, int64_t *rev,
					  struct sg_resp *w);

/* The local datapath state of pin_dir, opened read-only and kept open;
 * NULL when nothing is loaded on this host (hits and flows then empty). */
struct sg_state *sg_console_state(struct sg_console *c);

/* The etcd connection (NULL in local mode). */
struct sg_etcd *sg_console_etcd(struct sg_console *c);

/*
 * Runs the edit fn(arg) where the console works, through the CLI's one
 * path: etcd (guarded transaction) or the loaded config (applied at once).
 * 0 with *rev the new revision (local: the policy generation), or a
 * negative errno with the errors in diag (AWS codes).
 */
int sg_console_edit(struct sg_console *c, sg_edit_fn fn, void *arg,
		    struct sg_diag *diag, int64_t *rev);

/* ---- the flow-log buffer (flows.c) ---- */

/* Polls the local datapath's flow records (view/flowlog.h) once a second
 * in its own thread and keeps the last SG_CONSOLE_FLOW_WINDOW_S seconds,
 * each record numbered (a cursor for live follow). */
struct sg_flowbuf;
int sg_flowbuf_start(struct sg_flowbuf **fb, const char *pin_dir);
void sg_flowbuf_stop(struct sg_flowbuf *fb);
struct sg_flowbuf *sg_console_flows(struct sg_console *c);

/* The pages and assets built into the binary (assets.c, generated). */
struct sg_asset {
	const char *path; /* "/", "/app.js" */
	const char *type; /* "text/html; charset=utf-8" */
	const unsigned char *data;
	size_t len;
};
extern const struct sg_asset sg_console_assets[]; /* ends with {NULL} */

#endif /* SG_CONSOLE_H */
