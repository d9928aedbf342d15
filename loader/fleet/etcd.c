// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The etcd client (etcd.h): HTTP/1.1 POSTs of JSON to etcd's v3 gateway
 * with libcurl; the wire format is etcd_wire.c. One easy handle per
 * client keeps the connection (and its TLS session) between requests; a
 * watch gets a handle of its own, driven by a multi handle so that it
 * sleeps in poll() and still sees *stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fleet/etcd.h"
#include "fleet/etcd_wire.h"

#define SG_ETCD_DEFAULT_TIMEOUT_MS 5000
/* How long a watch sleeps in poll() before it looks at *stop again: a
 * wakeup or two a second is no CPU to speak of at idle. */
#define SG_ETCD_WATCH_POLL_MS 500

struct sg_etcd {
	char *url; /* without a trailing '/' */
	char *cacert, *cert, *key;
	long timeout_ms;
	CURL *curl;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

__attribute__((format(printf, 2, 3))) static void seterr(char **err,
							 const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	free(*err);
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

void sg_etcd_close(struct sg_etcd *e)
{
	if (!e)
		return;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	curl_slist_free_all(e->headers);
	free(e->url);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e);
}

/* The options every handle of e shares: TLS, headers, timeouts. */
static void setup_handle(struct sg_etcd *e, CURL *h, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	/* etcd's URL is given, never found through the environment. */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (e->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->cacert);
	if (e->cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert);
	if (e->key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, e->key);
}

int sg_etcd_open(const struct sg_etcd_opts *o, struct sg_etcd **out, char **err)
{
	static bool curl_ready;
	struct sg_etcd *e;
	size_t n;

	*out = NULL;
	if (!o->url || !*o->url) {
		seterr(err, "no etcd URL (--etcd URL or SGCTL_ETCD)");
		return -EINVAL;
	}
	if (strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8)) {
		seterr(err, "etcd URL %s: not http:// or https://", o->url);
		return -EINVAL;
	}
	if (!!o->cert != !!o->key) {
		seterr(err, "etcd at %s: --cert and --key go together", o->url);
		return -EINVAL;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			seterr(err, "libcurl: initialisation failed");
			return -ENOMEM;
		}
		curl_ready = true;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto nomem;
	e->url = strdup(o->url);
	if (!e->url)
		goto nomem;
	n = strlen(e->url);
	while (n > 0 && e->url[n - 1] == '/')
		e->url[--n] = '\0';
	e->cacert = dup_or_null(o->cacert);
	e->cert = dup_or_null(o->cert);
	e->key = dup_or_null(o->key);
	e->timeout_ms =
		o->timeout_ms > 0 ? o->timeout_ms : SG_ETCD_DEFAULT_TIMEOUT_MS;
	e->headers = curl_slist_append(NULL, "Content-Type: application/json");
	e->curl = curl_easy_init();
	if (!e->headers || !e->curl)
		goto nomem;
	setup_handle(e, e->curl, e->errbuf);
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	*out = e;
	return 0;
nomem:
	sg_etcd_close(e);
	seterr(err, "out of memory");
	return -ENOMEM;
}

static bool is_tls_error(CURLcode c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return true;
	default:
		return false;
	}
}

/* The server's TLS alert that means "your certificate": required, bad,
 * unknown CA, ... (OpenSSL's words, as libcurl passes them on). */
static bool cert_refused(const char *msg)
{
	static const char *const words[] = {
		"certificate required", "bad certificate",
		"unknown ca",		"certificate unknown",
		"handshake failure",	"certificate expired",
		"access denied",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(msg, words[i]))
			return true;
	return false;
}

/* A failed transfer as an errno and a sentence naming etcd's URL. */
static int curl_failure(struct sg_etcd *e, CURLcode c, const char *errbuf,
			char **err)
{
	const char *msg = *errbuf ? errbuf : curl_easy_strerror(c);
	bool https = !strncmp(e->url, "https://", 8);

	bool dropped = c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR ||
		       c == CURLE_GOT_NOTHING || c == CURLE_SSL_CONNECT_ERROR;

	if (https && strstr(msg, "SSL certificate problem")) {
		seterr(err,
		       "etcd at %s: TLS: the server's certificate is not "
		       "trusted (--cacert): %s",
		       e->url, msg);
		return -EPROTO;
	}
	/* With TLS 1.3 the server refuses a client certificate after the
	 * client has finished its handshake: the alert, or only a reset
	 * connection, shows up on the first read or write. */
	if (https && ((is_tls_error(c) && cert_refused(msg)) || dropped)) {
		seterr(err,
		       "etcd at %s: TLS handshake refused: client certificate "
		       "%s (%s)",
		       e->url,
		       e->cert ? "required or invalid"
			       : "required (none given: --cert, --key)",
		       msg);
		return -EACCES;
	}
	if (is_tls_error(c)) {
		seterr(err, "etcd at %s: TLS: %s", e->url, msg);
		return -EPROTO;
	}
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		seterr(err, "etcd at %s: connection refused (%s)", e->url, msg);
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		seterr(err, "etcd at %s: unknown host (%s)", e->url, msg);
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		seterr(err, "etcd at %s: no answer in time (%s)", e->url, msg);
		return -ETIMEDOUT;
	case CURLE_GOT_NOTHING:
		seterr(err, "etcd at %s: empty reply (does it want https://?)",
		       e->url);
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		seterr(err, "out of memory");
		return -ENOMEM;
	default:
		seterr(err, "etcd at %s: %s", e->url, msg);
		return -ECONNRESET;
	}
}

/* An HTTP error status as a sentence with the gateway's message. */
static int http_failure(struct sg_etcd *e, long status, const char *body,
			size_t len, char **err)
{
	char *m = sg_etcd_error_message(body, len);
	const char *hint = "";

	if (m && strstr(m, "too many operations in txn"))
		hint = " (raise etcd's --max-txn-ops)";
	else if (m && strstr(m, "request is too large"))
		hint = " (raise etcd's --max-request-bytes)";
	if (m)
		seterr(err, "etcd at %s: HTTP %ld: %s%s", e->url, status, m,
		       hint);
	else {
		/* Not the gateway (a proxy, a wrong path): its text, short. */
		while (len && (body[len - 1] == '\n' || body[len - 1] == '\r' ||
			       body[len - 1] == ' '))
			len--;
		seterr(err, "etcd at %s: HTTP %ld: %.*s", e->url, status,
		       (int)(len > 200 ? 200 : len), body);
	}
	free(m);
	return status == 404 ? -ENOENT : -EIO;
}

struct buf {
	char *p;
	size_t len, cap;
};

static size_t buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* POSTs body to URL + path; *resp gets the 200 answer's body. */
static int post(struct sg_etcd *e, const char *path, const char *body,
		struct buf *resp, char **err)
{
	char *url = NULL;
	long status = 0;
	CURLcode c;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	if (asprintf(&url, "%s%s%s", e->url, SG_ETCD_API, path) < 0) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	e->errbuf[0] = '\0';
	curl_easy_setopt(e->curl, CURLOPT_URL, url);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, resp);
	c = curl_easy_perform(e->curl);
	if (c != CURLE_OK) {
		rc = curl_failure(e, c, e->errbuf, err);
	} else {
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200)
			rc = http_failure(e, status, resp->p ? resp->p : "",
					  resp->len, err);
	}
	free(url);
	if (rc) {
		free(resp->p);
		memset(resp, 0, sizeof(*resp));
	}
	return rc;
}

/* A parse failure of a 200 answer, prefixed with etcd's URL. */
static int bad_answer(struct sg_etcd *e, int rc, char **err)
{
	if (err && *err) {
		char *why = *err;

		*err = NULL;
		seterr(err, "etcd at %s: %s", e->url, why);
		free(why);
	} else {
		seterr(err, "etcd at %s: %s", e->url, strerror(-rc));
	}
	return rc;
}

static int range(struct sg_etcd *e, const char *key, bool prefix,
		 struct sg_kvset *out, int64_t *revision, char **err)
{
	char *body = sg_etcd_range_request(key, prefix);
	struct buf resp;
	int64_t rev = 0;
	int rc;

	out->v = NULL;
	out->n = 0;
	if (!body) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	rc = post(e, "/kv/range", body, &resp, err);
	free(body);
	if (rc)
		return rc;
	rc = sg_etcd_parse_range(resp.p, resp.len, out, &rev, err);
	free(resp.p);
	if (rc)
		return bad_answer(e, rc, err);
	if (revision)
		*revision = rev;
	return 0;
}

int sg_etcd_range_prefix(struct sg_etcd *e, const char *prefix,
			 struct sg_kvset *out, int64_t *revision, char **err)
{
	return range(e, prefix, true, out, revision, err);
}

int sg_etcd_get(struct sg_etcd *e, const char *key, struct sg_kv *out,
		bool *found, int64_t *revision, char **err)
{
	struct sg_kvset s;
	int rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	rc = range(e, key, false, &s, revision, err);
	if (rc)
		return rc;
	if (s.n) {
		*out = s.v[0];
		*found = true;
		s.v[0].key = NULL;
		s.v[0].value = NULL;
	}
	sg_etcd_kvset_clear(&s);
	return 0;
}

int sg_etcd_txn(struct sg_etcd *e, const struct sg_etcd_cmp *cmp, size_t ncmp,
		const struct sg_etcd_op *ops, size_t nops, bool *succeeded,
		int64_t *revision, char **err)
{
	char *body = sg_etcd_txn_request(cmp, ncmp, ops, nops);
	struct buf resp;
	int64_t rev = 0;
	bool ok = false;
	int rc;

	*succeeded = false;
	if (!body) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	rc = post(e, "/kv/txn", body, &resp, err);
	free(body);
	if (rc)
		return rc;
	rc = sg_etcd_parse_txn(resp.p, resp.len, &ok, &rev, err);
	free(resp.p);
	if (rc)
		return bad_answer(e, rc, err);
	*succeeded = ok;
	if (revision)
		*revision = rev;
	return 0;
}

int sg_etcd_put_state(struct sg_etcd *e, const char *prefix,
		      const struct sg_kvset *have, int64_t have_revision,
		      const struct sg_kvset *want, bool *succeeded,
		      int64_t *revision, size_t *nput, size_t *ndel, char **err)
{
	struct sg_etcd_plan p;
	int rc;

	*succeeded = false;
	if (sg_etcd_plan_state(prefix, have, want, &p)) {
		seterr(err, "out of memory");
		return -ENOMEM;
	}
	if (nput)
		*nput = p.nput;
	if (ndel)
		*ndel = p.ndel;
	if (!p.n) {
		*succeeded = true;
		if (revision)
			*revision = have_revision;
		sg_etcd_plan_free(&p);
		return 0;
	}
	rc = sg_etcd_txn(e, p.cmp, p.n, p.ops, p.n, succeeded, revision, err);
	sg_etcd_plan_free(&p);
	return rc;
}

/* ---------------------------------------------------------------- watch */

struct watch_ctx {
	struct sg_etcd *e;
	CURL *h;
	struct sg_etcd_lines lines;
	struct buf errbody; /* the body of a non-200 answer */
	sg_etcd_watch_fn fn;
	void *arg;
	volatile bool *stop;
	int64_t *compact_revision;
	char **err;
	bool created;
	bool done; /* rc is the result */
	int rc;
};

static void watch_finish(struct watch_ctx *w, int rc)
{
	if (!w->done) {
		w->done = true;
		w->rc = rc;
	}
}

/* One response of the stream. */
static void watch_line(struct watch_ctx *w, const char *line, size_t len)
{
	struct sg_etcd_watch_resp r;
	char *why = NULL;
	int rc;

	rc = sg_etcd_parse_watch(line, len, &r, &why);
	if (rc) {
		seterr(w->err, "etcd at %s: watch: %s", w->e->url,
		       why ? why : strerror(-rc));
		free(why);
		watch_finish(w, rc == -EIO ? -ECONNRESET : rc);
		return;
	}
	if (r.created)
		w->created = true;
	if (r.canceled) {
		if (r.compact_revision > 0) {
			if (w->compact_revision)
				*w->compact_revision = r.compact_revision;
			seterr(w->err,
			       "etcd at %s: watch: revision compacted (the "
			       "oldest left is %lld)",
			       w->e->url, (long long)r.compact_revision);
			watch_finish(w, -ESTALE);
		} else {
			seterr(w->err, "etcd at %s: watch canceled: %s",
			       w->e->url,
			       r.cancel_reason ? r.cancel_reason : "no reason");
			watch_finish(w, -ECANCELED);
		}
	} else if (r.nev) {
		rc = w->fn(r.ev, r.nev, r.revision, w->arg);
		if (rc)
			watch_finish(w, rc);
	}
	sg_etcd_watch_resp_free(&r);
}

static size_t watch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct watch_ctx *w = arg;
	size_t n = size * nmemb, len;
	long status = 0;
	char *line;

	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return buf_write(data, size, nmemb, &w->errbody);
	if (sg_etcd_lines_feed(&w->lines, data, n)) {
		seterr(w->err, "out of memory");
		watch_finish(w, -ENOMEM);
		return 0;
	}
	while (!w->done && !(w->stop && *w->stop) &&
	       (line = sg_etcd_lines_next(&w->lines, &len))) {
		watch_line(w, line, len);
		free(line);
	}
	/* Stopping: a short write ends the transfer. */
	return w->done || (w->stop && *w->stop) ? 0 : n;
}

int sg_etcd_watch(struct sg_etcd *e, const char *prefix, int64_t start_revision,
		  sg_etcd_watch_fn on_events, void *arg, volatile bool *stop,
		  int64_t *compact_revision, char **err)
{
	struct watch_ctx w = {
		.e = e,
		.fn = on_events,
		.arg = arg,
		.stop = stop,
		.compact_revision = compact_revision,
		.err = err,
	};
	char errbuf[CURL_ERROR_SIZE] = "";
	char *body = NULL, *url = NULL;
	CURLM *m = NULL;
	CURLcode result = CURLE_OK;
	int running = 1;
	long status = 0;

	if (compact_revision)
		*compact_revision = 0;
	body = sg_etcd_watch_request(prefix, start_revision);
	if (!body || asprintf(&url, "%s%s/watch", e->url, SG_ETCD_API) < 0) {
		url = NULL;
		goto nomem;
	}
	w.h = curl_easy_init();
	m = curl_multi_init();
	if (!w.h || !m)
		goto nomem;
	setup_handle(e, w.h, errbuf);
	curl_easy_setopt(w.h, CURLOPT_URL, url);
	curl_easy_setopt(w.h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(w.h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(w.h, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w.h, CURLOPT_WRITEDATA, &w);
	if (curl_multi_add_handle(m, w.h))
		goto nomem;

	while (!w.done && !(stop && *stop)) {
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(m, &running) != CURLM_OK) {
			seterr(err, "etcd at %s: watch: libcurl failed",
			       e->url);
			watch_finish(&w, -EIO);
			break;
		}
		while ((msg = curl_multi_info_read(m, &left)))
			if (msg->msg == CURLMSG_DONE)
				result = msg->data.result;
		if (w.done || !running)
			break;
		/* Sleeps in poll() until the socket has data or time is up. */
		curl_multi_poll(m, NULL, 0, SG_ETCD_WATCH_POLL_MS, NULL);
	}

	if (!w.done && !(stop && *stop)) {
		curl_easy_getinfo(w.h, CURLINFO_RESPONSE_CODE, &status);
		if (result != CURLE_OK && result != CURLE_WRITE_ERROR)
			watch_finish(&w, curl_failure(e, result, errbuf, err));
		else if (status && status != 200)
			watch_finish(
				&w, http_failure(e, status,
						 w.errbody.p ? w.errbody.p : "",
						 w.errbody.len, err));
		else {
			seterr(err, "etcd at %s: the watch stream ended",
			       e->url);
			watch_finish(&w, -ECONNRESET);
		}
	}
	goto out;
nomem:
	seterr(err, "out of memory");
	watch_finish(&w, -ENOMEM);
out:
	if (m && w.h)
		curl_multi_remove_handle(m, w.h);
	if (w.h)
		curl_easy_cleanup(w.h);
	if (m)
		curl_multi_cleanup(m);
	sg_etcd_lines_free(&w.lines);
	free(w.errbody.p);
	free(body);
	free(url);
	return w.done ? w.rc : 0;
}
