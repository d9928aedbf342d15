// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The console's HTTP server (GNU libmicrohttpd): listening, TLS and
 * authentication, limits, the CSRF and origin checks, --read-only,
 * routing to the api_*.c tables, JSON errors, the built-in pages.
 *
 * A request goes through, in this order (docs/console.md, "Security
 * model"):
 *   1. Host: on a loopback listen only loopback names (DNS rebinding);
 *   2. authentication: the client certificate (--client-ca) or HTTP Basic
 *      (--password-file);
 *   3. Content-Length above SG_CONSOLE_MAX_BODY: 413 before any body;
 *   4. a POST, PUT or DELETE: the CSRF token and same origin, before any
 *      routing (so nothing about routes leaks and nothing runs);
 *   5. the body read whole (413 beyond the limit), then routing: 404,
 *      405, --read-only (403), and the handler under the console lock.
 * MHD's internal threads poll every connection (epoll), so a slow client
 * only holds its own connection; handlers see whole requests.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "console/console.h"
#include "console/console_priv.h"
#include "util/diag.h"

#ifndef SGCTL_VERSION
#define SGCTL_VERSION "0.1.0"
#endif

#define CONN_MEMORY_LIMIT (64 * 1024) /* headers and MHD's buffers */
#define CONN_LIMIT	  256
#define CONN_PER_IP	  32
#define CONN_TIMEOUT_S	  15 /* an idle or stalled connection is dropped */
#define THREADS		  4  /* a handler waiting on etcd holds one */
#define AUTH_CACHE	  16

#define CSP                                                                    \
	"default-src 'self'; img-src 'self' data:; object-src 'none'; "        \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

struct server {
	struct sg_console c;
	bool tls, loopback;
	char *users; /* the password file, NUL-separated lines */
	size_t users_len;
	char origin_scheme[8]; /* "http" or "https" */
	/* Authorization headers that passed, as SHA-256: crypt(3) is slow
	 * on purpose, and a page makes many requests. */
	pthread_mutex_t auth_lock;
	unsigned char auth_ok[AUTH_CACHE][32];
	unsigned auth_n, auth_next;
};

/* What one request carries between MHD's calls. */
struct req_ctx {
	char *body;
	size_t len, cap;
	bool too_big;
	bool done; /* an answer is queued already */
};

/* ---- responses ---- */

int sg_req_paging(const struct sg_req *r, struct sg_resp *w, size_t *offset,
		  size_t *limit)
{
	const char *names[2] = {"offset", "limit"};
	size_t *out[2] = {offset, limit};

	*offset = 0;
	*limit = SG_CONSOLE_PAGE_DEFAULT;
	for (int i = 0; i < 2; i++) {
		const char *s = sg_req_query(r, names[i]);
		unsigned long long v;
		char *end;

		if (!s || !*s)
			continue;
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || *end || *s == '-' || *s == '+') {
			sg_resp_error(w, 400, "InvalidRequest",
				      "%s: '%s' is not a number", names[i], s);
			return -EINVAL;
		}
		*out[i] = v > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)v;
	}
	if (*limit > SG_CONSOLE_PAGE_MAX)
		*limit = SG_CONSOLE_PAGE_MAX;
	return 0;
}

struct sg_json *sg_resp_json(struct sg_resp *w)
{
	if (w->j)
		return w->j;
	if (!w->f) {
		free(w->body);
		w->body = NULL;
		w->len = 0;
		w->f = open_memstream(&w->body, &w->len);
		if (!w->f)
			return NULL;
	}
	w->j = sg_json_new(w->f, false);
	return w->j;
}

/* Drops what the response holds (a handler that began, then failed). */
static void resp_reset(struct sg_resp *w)
{
	if (w->j)
		sg_json_destroy(w->j);
	w->j = NULL;
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	free(w->body);
	w->body = NULL;
	w->len = 0;
}

/* Ends the JSON writer and the stream: w->body, w->len are the body. */
static void resp_finish(struct sg_resp *w)
{
	if (w->j)
		sg_json_destroy(w->j);
	w->j = NULL;
	if (w->f)
		fclose(w->f);
	w->f = NULL;
}

static int resp_verror(struct sg_resp *w, unsigned status, const char *code,
		       const char *fmt, va_list ap)
{
	struct sg_json *j;
	char *msg = NULL;

	resp_reset(w);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	w->status = status;
	j = sg_resp_json(w);
	if (!j) {
		free(msg);
		return 0;
	}
	sg_json_begin_object(j);
	sg_json_kv_string(j, "error", msg ? msg : code);
	sg_json_kv_string(j, "code", code);
	sg_json_end_object(j);
	free(msg);
	return 0;
}

int sg_resp_error(struct sg_resp *w, unsigned status, const char *code,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	resp_verror(w, status, code, fmt, ap);
	va_end(ap);
	return 0;
}

int sg_resp_diag(struct sg_resp *w, const struct sg_diag *d, int row)
{
	const struct sg_diag_entry *first = NULL;
	struct sg_json *j;

	for (size_t i = 0; d && i < d->nentries; i++)
		if (d->entries[i].severity == SG_ERROR) {
			first = &d->entries[i];
			break;
		}
	resp_reset(w);
	w->status = 400;
	j = sg_resp_json(w);
	if (!j)
		return 0;
	sg_json_begin_object(j);
	sg_json_kv_string(j, "error",
			  first ? first->message : "the request is not valid");
	sg_json_kv_string(j, "code",
			  first && first->code ? first->code
					       : "InvalidRequest");
	sg_json_key(j, "errors");
	sg_json_begin_array(j);
	for (size_t i = 0; d && i < d->nentries; i++) {
		const struct sg_diag_entry *e = &d->entries[i];

		if (e->severity != SG_ERROR)
			continue;
		sg_json_begin_object(j);
		sg_json_kv_string(j, "code",
				  e->code ? e->code : "InvalidRequest");
		sg_json_kv_string(j, "message", e->message);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	if (row >= 0)
		sg_json_kv_int(j, "row", row);
	sg_json_end_object(j);
	return 0;
}

static void add_security_headers(struct MHD_Response *r, bool api)
{
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control",
				api ? "no-store" : "no-cache");
}

/* Queues w (JSON) and frees what it held. */
static enum MHD_Result queue_json(struct MHD_Connection *conn,
				  struct sg_resp *w, bool api,
				  const char *extra_hdr, const char *extra_val)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status = w->status ? w->status : 200;

	resp_finish(w);
	if (!w->body) {
		static const char oom[] =
			"{\"error\":\"out of "
			"memory\",\"code\":\"InternalError\"}";

		status = 500;
		r = MHD_create_response_from_buffer(
			sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(w->len, w->body,
						    MHD_RESPMEM_MUST_FREE);
		if (r)
			w->body = NULL; /* MHD frees it */
	}
	free(w->body);
	w->body = NULL;
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	add_security_headers(r, api);
	if (extra_hdr)
		MHD_add_response_header(r, extra_hdr, extra_val);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

__attribute__((format(printf, 7, 8))) static enum MHD_Result
queue_error(struct MHD_Connection *conn, bool api, const char *hdr,
	    const char *val, unsigned status, const char *code, const char *fmt,
	    ...)
{
	struct sg_resp w = {0};
	va_list ap;

	va_start(ap, fmt);
	resp_verror(&w, status, code, fmt, ap);
	va_end(ap);
	return queue_json(conn, &w, api, hdr, val);
}

#define ERR(conn, api, status, code, ...)                                      \
	queue_error(conn, api, NULL, NULL, status, code, __VA_ARGS__)

/* ---- requests ---- */

const char *sg_req_query(const struct sg_req *r, const char *name)
{
	if (!r || !r->conn)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

static void client_ip(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, len, "unknown");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, len);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) /* "My IP" is the IPv4 one */
			inet_ntop(AF_INET, &a->s6_addr[12], buf, len);
		else
			inet_ntop(AF_INET6, a, buf, len);
	}
}

/* Equal strings, in a time that does not tell how much matched. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return !d;
}

/* "127.0.0.1:8080", "[::1]:8080", "localhost:8080" (port optional). */
static bool host_is_loopback(const char *host)
{
	char name[256];
	const char *end;
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;

	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end)
			return false;
		n = (size_t)(end - host - 1);
		if (n >= sizeof(name))
			return false;
		memcpy(name, host + 1, n);
		name[n] = '\0';
		return inet_pton(AF_INET6, name, &a6) == 1 &&
		       IN6_IS_ADDR_LOOPBACK(&a6);
	}
	end = strchr(host, ':');
	n = end ? (size_t)(end - host) : strlen(host);
	if (n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (!strcasecmp(name, "localhost"))
		return true;
	return inet_pton(AF_INET, name, &a4) == 1 &&
	       (ntohl(a4.s_addr) >> 24) == 127;
}

/* ---- authentication ---- */

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return -errno;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = (cap ? cap * 2 : 8192));

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* The password file as NUL-separated "user:hash" lines; comments and
 * blank lines dropped. */
static int load_users(struct server *s, const char *path)
{
	char *text, *line, *save = NULL;
	size_t len, n = 0;
	int rc, users = 0;

	rc = read_file(path, &text, &len);
	if (rc) {
		sg_err("console: %s: %s", path, strerror(-rc));
		return rc;
	}
	s->users = calloc(1, len + 2);
	if (!s->users) {
		free(text);
		return -ENOMEM;
	}
	for (line = strtok_r(text, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *colon;

		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		colon = strchr(line, ':');
		if (!colon || colon == line || !colon[1]) {
			sg_err("console: %s: a line is not \"user:hash\"",
			       path);
			free(text);
			return -EINVAL;
		}
		memcpy(s->users + n, line, strlen(line) + 1);
		n += strlen(line) + 1;
		users++;
	}
	free(text);
	s->users_len = n;
	if (!users) {
		sg_err("console: %s: no user", path);
		return -EINVAL;
	}
	return 0;
}

static bool password_ok(struct server *s, const char *user, const char *pass)
{
	/* A user that does not exist costs a hash too (no timing hint). */
	static const char dummy[] =
		"$6$sgctlconsole$0000000000000000000000000000000000000000000"
		"000000000000000000000000000000000000000000";
	const char *hash = dummy;
	struct crypt_data *cd;
	size_t ulen = strlen(user);
	bool ok = false;
	const char *h;

	for (size_t i = 0; i < s->users_len; i += strlen(s->users + i) + 1) {
		const char *l = s->users + i;

		if (!strncmp(l, user, ulen) && l[ulen] == ':') {
			hash = l + ulen + 1;
			break;
		}
	}
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	h = crypt_r(pass, hash, cd);
	if (h && h[0] != '*' && hash != dummy)
		ok = same_secret(h, hash);
	free(cd);
	return ok;
}

/* The Authorization header's digest is one that passed before. */
static bool auth_cached(struct server *s, const unsigned char *dig, bool add)
{
	bool hit = false;

	pthread_mutex_lock(&s->auth_lock);
	if (add) {
		memcpy(s->auth_ok[s->auth_next], dig, 32);
		s->auth_next = (s->auth_next + 1) % AUTH_CACHE;
		if (s->auth_n < AUTH_CACHE)
			s->auth_n++;
	} else {
		for (unsigned i = 0; i < s->auth_n; i++) {
			unsigned char d = 0;

			for (int k = 0; k < 32; k++)
				d |= s->auth_ok[i][k] ^ dig[k];
			hit |= !d;
		}
	}
	pthread_mutex_unlock(&s->auth_lock);
	return hit;
}

/* *refused false: the client may go on; else the answer is queued. */
static enum MHD_Result check_auth(struct server *s, struct MHD_Connection *conn,
				  bool api, bool *refused)
{
	*refused = true;
	if (s->c.o.client_ca) {
		const union MHD_ConnectionInfo *ci;
		unsigned status = 0;
		int rc;

		ci = MHD_get_connection_info(
			conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (!ci || !ci->tls_session)
			return ERR(conn, api, 403, "UnauthorizedOperation",
				   "a client certificate is required");
		rc = gnutls_certificate_verify_peers2(
			(gnutls_session_t)ci->tls_session, &status);
		if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND)
			return ERR(conn, api, 403, "UnauthorizedOperation",
				   "a client certificate is required");
		if (rc < 0 || status)
			return ERR(conn, api, 403, "UnauthorizedOperation",
				   "the client certificate is not signed by "
				   "the console's client CA");
	}
	if (s->users) {
		const char *authz;
		unsigned char dig[32];
		bool have_dig = false;
		char *user, *pass = NULL;
		bool ok = false, sent;

		authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "Authorization");
		if (authz && !gnutls_hash_fast(GNUTLS_DIG_SHA256, authz,
					       strlen(authz), dig)) {
			have_dig = true;
			if (auth_cached(s, dig, false)) {
				*refused = false;
				return MHD_YES;
			}
		}
#if MHD_VERSION >= 0x00097701
		/* the interface of newer libmicrohttpd (the old one is
		 * deprecated there) */
		struct MHD_BasicAuthInfo *bi =
			MHD_basic_auth_get_username_password3(conn);

		user = bi ? bi->username : NULL;
		pass = bi ? bi->password : NULL;
		if (user && pass)
			ok = password_ok(s, user, pass);
		if (pass)
			explicit_bzero(pass, bi->password_len);
		pass = NULL;
		sent = bi != NULL;
		if (bi)
			MHD_free(bi);
#else
		user = MHD_basic_auth_get_username_password(conn, &pass);
		sent = user != NULL;
		if (user && pass)
			ok = password_ok(s, user, pass);
		if (pass) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		if (user)
			MHD_free(user);
#endif
		if (ok && have_dig)
			auth_cached(s, dig, true);
		if (!ok)
			return queue_error(conn, api, "WWW-Authenticate",
					   "Basic realm=\"sgctl console\", "
					   "charset=\"UTF-8\"",
					   401, "UnauthorizedOperation", "%s",
					   sent ? "wrong user name or password"
						: "a user name and password "
						  "are required");
	}
	*refused = false;
	return MHD_YES;
}

/* ---- CSRF and origin ---- */

static bool is_write(const char *method)
{
	return !strcmp(method, "POST") || !strcmp(method, "PUT") ||
	       !strcmp(method, "DELETE") || !strcmp(method, "PATCH");
}

/* The token, and the request comes from the console's own pages. */
static const char *csrf_refusal(struct server *s, struct MHD_Connection *conn)
{
	const char *tok, *origin, *site, *host;
	char own[300];

	tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					  "X-CSRF-Token");
	if (!tok || !same_secret(tok, s->c.csrf))
		return "missing or wrong X-CSRF-Token (see GET /api/session)";
	site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   "Sec-Fetch-Site");
	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return "a cross-site request";
	origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	if (origin) {
		host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						   "Host");
		if (!host)
			return "a cross-origin request (no Host)";
		snprintf(own, sizeof(own), "%s://%s", s->origin_scheme, host);
		if (strcasecmp(origin, own))
			return "a cross-origin request";
	}
	return NULL;
}

/* ---- routing ---- */

static const struct sg_route *const *route_tables(void)
{
	static const struct sg_route *const t[] = {
		sg_api_group_routes, sg_api_instance_routes, sg_api_flow_routes,
		sg_api_check_routes, NULL};

	return t;
}

/* pattern against path, "{}" taking one non-empty segment into arg[]. */
static bool route_match(const char *pattern, const char *path, char seg[4][256],
			int *nseg)
{
	const char *p = pattern, *u = path;

	*nseg = 0;
	while (*p && *u) {
		if (p[0] == '{' && p[1] == '}') {
			size_t n = strcspn(u, "/");

			if (!n || n >= 256 || *nseg >= 4)
				return false;
			memcpy(seg[*nseg], u, n);
			seg[*nseg][n] = '\0';
			(*nseg)++;
			u += n;
			p += 2;
			continue;
		}
		if (*p != *u)
			return false;
		p++;
		u++;
	}
	return !*p && !*u;
}

struct route_hit {
	const struct sg_route *route;
	char seg[4][256];
	int nseg;
	bool path_known; /* some route has this path (405 when no method) */
	char allow[64];
};

static void route_find(const char *method, const char *path,
		       struct route_hit *h)
{
	const char *m = !strcmp(method, "HEAD") ? "GET" : method;

	memset(h, 0, sizeof(*h));
	for (const struct sg_route *const *t = route_tables(); *t; t++)
		for (const struct sg_route *r = *t; r->method; r++) {
			char seg[4][256];
			int n;

			if (!route_match(r->pattern, path, seg, &n))
				continue;
			h->path_known = true;
			if (!strstr(h->allow, r->method)) {
				size_t l = strlen(h->allow);

				snprintf(h->allow + l, sizeof(h->allow) - l,
					 "%s%s", l ? ", " : "", r->method);
			}
			if (strcmp(r->method, m) || h->route)
				continue;
			h->route = r;
			memcpy(h->seg, seg, sizeof(seg));
			h->nseg = n;
		}
}

/* GET /api/session: what the pages need before anything else. */
static int session(struct server *s, const struct sg_req *r, struct sg_resp *w)
{
	struct sg_console *c = &s->c;
	const char *vpc = NULL;
	struct sg_json *j;

	/* The VPC shown: the config's (cached, cheap), else what was asked
	 * for; the session answers even when nothing is loaded. */
	{
		struct sg_resp ignore = {0};
		int64_t rev;
		const struct sg_config *cfg =
			sg_console_config(c, &rev, &ignore);

		vpc = cfg ? cfg->vpc : c->src.vpc ? c->src.vpc : c->o.vpc;
		resp_reset(&ignore);
	}
	j = sg_resp_json(w);
	if (!j)
		return -ENOMEM;
	sg_json_begin_object(j);
	sg_json_kv_string(j, "csrf_token", c->csrf);
	sg_json_kv_bool(j, "read_only", c->o.read_only);
	sg_json_kv_string(j, "source",
			  sg_console_is_etcd(c) ? "etcd" : "local");
	sg_json_kv_string(j, "vpc", vpc);
	sg_json_kv_string(j, "client_ip", r->client_ip);
	sg_json_kv_string(j, "version", SGCTL_VERSION);
	sg_json_end_object(j);
	return 0;
}

static enum MHD_Result serve_api(struct server *s, struct MHD_Connection *conn,
				 const char *method, const char *path,
				 struct req_ctx *ctx)
{
	struct sg_req req = {0};
	struct sg_resp w = {0};
	struct route_hit h;
	char ip[INET6_ADDRSTRLEN + 8];
	int rc;

	client_ip(conn, ip, sizeof(ip));
	req.method = method;
	req.path = path;
	req.body = ctx->body ? ctx->body : "";
	req.body_len = ctx->len;
	req.client_ip = ip;
	req.conn = conn;

	if (!strcmp(path, "/api/session")) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return queue_error(conn, true, "Allow", "GET", 405,
					   "InvalidRequest",
					   "%s %s is not allowed", method,
					   path);
		pthread_mutex_lock(&s->c.lock);
		rc = session(s, &req, &w);
		sg_console_source_release(&s->c);
		pthread_mutex_unlock(&s->c.lock);
		if (rc)
			sg_resp_error(&w, 500, "InternalError", "%s",
				      strerror(-rc));
		return queue_json(conn, &w, true, NULL, NULL);
	}

	route_find(method, path, &h);
	/* --read-only refuses every write but the ones that change nothing
	 * (preview), whether or not the path exists. */
	if (s->c.o.read_only && is_write(method) &&
	    (!h.route || h.route->write))
		return ERR(conn, true, 403, "UnauthorizedOperation",
			   "the console is read-only (--read-only)");
	if (!h.route && h.path_known)
		return queue_error(conn, true, "Allow", h.allow, 405,
				   "InvalidRequest", "%s %s is not allowed",
				   method, path);
	if (!h.route)
		return ERR(conn, true, 404, "NotFound", "no such API path: %s",
			   path);
	for (int i = 0; i < h.nseg; i++)
		req.arg[i] = h.seg[i];

	pthread_mutex_lock(&s->c.lock);
	rc = h.route->fn(&s->c, &req, &w);
	sg_console_source_release(&s->c);
	pthread_mutex_unlock(&s->c.lock);
	if (rc < 0 && !w.status)
		sg_resp_error(&w, 500, "InternalError", "%s", strerror(-rc));
	else if (!w.j && !w.f && !w.body)
		sg_resp_error(&w, 500, "InternalError", "no answer");
	return queue_json(conn, &w, true, NULL, NULL);
}

static enum MHD_Result serve_asset(struct MHD_Connection *conn,
				   const char *method, const char *path)
{
	const struct sg_asset *a;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return queue_error(conn, false, "Allow", "GET, HEAD", 405,
				   "InvalidRequest", "%s %s is not allowed",
				   method, path);
	for (a = sg_console_assets; a->path; a++) {
		size_t n = strlen(a->path);

		if (!strcmp(a->path, path))
			break;
		/* "/index.html" is "/" too */
		if (a->path[n - 1] == '/' && !strncmp(a->path, path, n) &&
		    !strcmp(path + n, "index.html"))
			break;
	}
	if (!a->path)
		return ERR(conn, false, 404, "NotFound", "no such page: %s",
			   path);
	r = MHD_create_response_from_buffer(a->len, (void *)a->data,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", a->type);
	add_security_headers(r, false);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct req_ctx *ctx = *con_cls;
	bool api = !strncmp(url, "/api/", 5) || !strcmp(url, "/api");

	(void)version;
	if (!ctx) {
		const char *host, *cl;
		bool refused;
		enum MHD_Result ret;

		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		*con_cls = ctx;
		ctx->done = true; /* unless it gets through */
		host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						   "Host");
		if (s->loopback && host && !host_is_loopback(host))
			return ERR(conn, api, 400, "InvalidRequest",
				   "Host %s is not this console's (it "
				   "answers on loopback names only)",
				   host);
		ret = check_auth(s, conn, api, &refused);
		if (refused)
			return ret;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > SG_CONSOLE_MAX_BODY)
			return ERR(conn, api, 413, "RequestTooLarge",
				   "the body is larger than %d bytes",
				   SG_CONSOLE_MAX_BODY);
		if (api && is_write(method)) {
			const char *why = csrf_refusal(s, conn);

			if (why)
				return ERR(conn, true, 403, "InvalidCsrfToken",
					   "%s", why);
		}
		ctx->done = false;
		return MHD_YES;
	}
	if (ctx->done) {
		*upload_size = 0; /* answered already: the rest is dropped */
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		if (ctx->too_big || ctx->len + n > SG_CONSOLE_MAX_BODY) {
			ctx->too_big = true; /* read on, keep nothing */
		} else {
			if (ctx->len + n + 1 > ctx->cap) {
				size_t cap = ctx->cap ? ctx->cap : 4096;
				char *b;

				while (cap < ctx->len + n + 1)
					cap *= 2;
				b = realloc(ctx->body, cap);
				if (!b)
					return MHD_NO;
				ctx->body = b;
				ctx->cap = cap;
			}
			memcpy(ctx->body + ctx->len, upload, n);
			ctx->len += n;
			ctx->body[ctx->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	ctx->done = true;
	if (ctx->too_big)
		return ERR(conn, api, 413, "RequestTooLarge",
			   "the body is larger than %d bytes",
			   SG_CONSOLE_MAX_BODY);
	if (api)
		return serve_api(s, conn, method, url, ctx);
	return serve_asset(conn, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *ctx = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (ctx) {
		free(ctx->body);
		free(ctx);
	}
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* MHD's own complaints (a bad TLS handshake, a client gone) are
	 * noise for the operator unless asked for. */
	if (getenv("SGCTL_CONSOLE_DEBUG"))
		vfprintf(stderr, fmt, ap);
}

/* ---- the listen address ---- */

int sg_console_listen_parse(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len, bool *loopback)
{
	char host[128];
	const char *port_s;
	char *end;
	unsigned long port;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		n = (size_t)(rb - s - 1);
		port_s = rb + 2;
		if (!n || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n);
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon || strchr(s, ':') != colon)
			return -EINVAL;
		n = (size_t)(colon - s);
		port_s = colon + 1;
		if (!n || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, n);
	}
	host[n] = '\0';
	if (!*port_s || *port_s < '0' || *port_s > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || port > 65535)
		return -EINVAL;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr) &&
			     a6->sin6_addr.s6_addr[12] == 127);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (!strcasecmp(host, "localhost"))
			snprintf(host, sizeof(host), "127.0.0.1");
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

/* ---- running ---- */

static int make_token(char *hex, size_t len)
{
	unsigned char b[32];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	for (size_t i = 0; i < sizeof(b) && 2 * i + 2 < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	explicit_bzero(b, sizeof(b));
	return 0;
}

/* "http://127.0.0.1:8080/" for the address the daemon is bound to. */
static void listen_url(struct server *s, const struct sockaddr_storage *ss,
		       unsigned port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)ss)->sin6_addr, a,
			  sizeof(a));
		snprintf(buf, len, "%s://[%s]:%u/", s->origin_scheme, a, port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  a, sizeof(a));
		snprintf(buf, len, "%s://%s:%u/", s->origin_scheme, a, port);
	}
}

static void on_signal(int sig)
{
	(void)sig; /* blocked; sigwait takes it */
}

int sg_console_run(const struct sg_console_opts *o)
{
	struct server *s;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct MHD_Daemon *d = NULL;
	char *cert = NULL, *key = NULL, *ca = NULL;
	size_t clen, klen, calen;
	const union MHD_DaemonInfo *di;
	const char *listen = o->listen ? o->listen : SG_CONSOLE_LISTEN;
	unsigned flags, port;
	char url[128];
	sigset_t sigs;
	int rc, sig, status = 1;

	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->c.o = *o;
	s->c.o.listen = listen;
	pthread_mutex_init(&s->c.lock, NULL);
	pthread_mutex_init(&s->auth_lock, NULL);
	if (sg_console_listen_parse(listen, &ss, &sslen, &s->loopback)) {
		sg_err("console: --listen %s: not ADDR:PORT or [ADDR6]:PORT",
		       listen);
		goto out;
	}
	s->tls = o->tls_cert && o->tls_key;
	snprintf(s->origin_scheme, sizeof(s->origin_scheme), "%s",
		 s->tls ? "https" : "http");
	if (!s->loopback && !(s->tls && (o->client_ca || o->password_file))) {
		sg_err("console: listening on %s needs TLS and "
		       "authentication: --tls-cert, --tls-key and "
		       "--client-ca or --password-file (or listen on "
		       "loopback: 127.0.0.1)",
		       listen);
		goto out;
	}
	if ((o->client_ca || o->password_file) && !s->tls) {
		sg_err("console: --client-ca and --password-file need TLS: "
		       "--tls-cert and --tls-key");
		goto out;
	}
	if (o->password_file && load_users(s, o->password_file))
		goto out;
	if (s->tls) {
		if ((rc = read_file(o->tls_cert, &cert, &clen))) {
			sg_err("console: --tls-cert %s: %s", o->tls_cert,
			       strerror(-rc));
			goto out;
		}
		if ((rc = read_file(o->tls_key, &key, &klen))) {
			sg_err("console: --tls-key %s: %s", o->tls_key,
			       strerror(-rc));
			goto out;
		}
		if (o->client_ca &&
		    (rc = read_file(o->client_ca, &ca, &calen))) {
			sg_err("console: --client-ca %s: %s", o->client_ca,
			       strerror(-rc));
			goto out;
		}
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			sg_err("console: this libmicrohttpd has no TLS");
			goto out;
		}
	}
	if ((rc = make_token(s->c.csrf, sizeof(s->c.csrf)))) {
		sg_err("console: random token: %s", strerror(-rc));
		goto out;
	}
	/* One malloc arena: handlers run one at a time under the console
	 * lock anyway, and memory freed by one thread's handler is then
	 * reused (and given back) instead of sitting in that thread's arena. */
	mallopt(M_ARENA_MAX, 1);
	if (sg_console_source_open(&s->c))
		goto out;

	/* Read the config once before the first page asks: on a big config
	 * that is the one slow step (seconds at 10,000 instances). Nothing
	 * loaded yet is fine: the pages then say so. */
	{
		struct sg_resp w = {0};
		int64_t rev;

		(void)sg_console_config(&s->c, &rev, &w);
		resp_reset(&w);
		sg_console_source_release(&s->c);
	}
	/* The flow buffer's thread after that read: started during it, its
	 * allocations could pin the parse's freed memory in the heap. */
	rc = sg_flowbuf_start(&s->c.flows, o->pin_dir);
	if (rc && rc != -ENOTSUP && rc != -ENOENT)
		sg_warnx("console: flow logs: %s (the flow-log page stays "
			 "empty)",
			 strerror(-rc));
	if (rc)
		s->c.flows = NULL;

	/* The signals are taken by sigwait here: block them before MHD's
	 * threads start so none of them gets one. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	/* A shell starts background jobs with SIGINT ignored, and an
	 * ignored signal never reaches sigwait: take them back. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (s->tls)
		flags |= MHD_USE_TLS;
	{
		struct MHD_OptionItem opts[] = {
			{MHD_OPTION_SOCK_ADDR, 0, &ss},
			{MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT,
			 NULL},
			{MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, NULL},
			{MHD_OPTION_PER_IP_CONNECTION_LIMIT, CONN_PER_IP, NULL},
			{MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL},
			{MHD_OPTION_THREAD_POOL_SIZE, THREADS, NULL},
			{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed,
			 NULL},
			{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log,
			 NULL},
			{s->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
			 cert},
			{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
			{ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
			 ca},
			{MHD_OPTION_END, 0, NULL},
		};

		d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	}
	if (!d) {
		sg_err("console: cannot listen on %s (in use, or a bad TLS "
		       "certificate or key)",
		       listen);
		goto stop;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	port = di && di->port ? di->port
			      : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	listen_url(s, &ss, port, url, sizeof(url));
	if (sg_diag_json()) {
		printf("{\"listen\": ");
		sg_diag_json_string(stdout, url);
		printf("}\n");
	} else {
		printf("console: listening on %s\n", url);
	}
	fflush(stdout);

	while (sigwait(&sigs, &sig) == 0)
		if (sig == SIGINT || sig == SIGTERM)
			break;
	status = 0;
	MHD_stop_daemon(d);
stop:
	if (s->c.flows)
		sg_flowbuf_stop(s->c.flows);
	sg_console_source_close(&s->c);
out:
	free(cert);
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	free(ca);
	if (s->users) {
		explicit_bzero(s->users, s->users_len);
		free(s->users);
	}
	pthread_mutex_destroy(&s->c.lock);
	pthread_mutex_destroy(&s->auth_lock);
	explicit_bzero(s->auth_ok, sizeof(s->auth_ok));
	explicit_bzero(s->c.csrf, sizeof(s->c.csrf));
	free(s);
	return status;
}

struct sg_flowbuf *sg_console_flows(struct sg_console *c)
{
	return c->flows;
}
