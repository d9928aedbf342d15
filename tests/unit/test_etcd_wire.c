// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of etcd's v3 gateway wire format (loader/fleet/etcd_wire.c):
 * base64, the range end of a prefix, request bodies, and the parsing of
 * range, txn and watch responses as etcd 3.4 sends them. No network.
 *
 * The unit tests link the pure core only, and fleet/ is not part of it;
 * etcd_wire.c needs jansson alone, so it is compiled in here.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/etcd_wire.c"

static void check_b64(const char *plain, size_t len, const char *enc)
{
	char *e = sg_etcd_b64_encode(plain, len), *d;
	size_t n = 99;

	cr_assert_str_eq(e, enc);
	d = sg_etcd_b64_decode(enc, &n);
	cr_assert_not_null(d);
	cr_assert_eq(n, len);
	cr_assert(!memcmp(d, plain, len));
	cr_assert_eq(d[n], '\0');
	free(e);
	free(d);
}

Test(b64, round_trips)
{
	check_b64("", 0, "");
	check_b64("f", 1, "Zg==");
	check_b64("fo", 2, "Zm8=");
	check_b64("foo", 3, "Zm9v");
	check_b64("foob", 4, "Zm9vYg==");
	check_b64("/sgctl/v1/vpc-1/groups/sg-web", 29,
		  "L3NnY3RsL3YxL3ZwYy0xL2dyb3Vwcy9zZy13ZWI=");
	check_b64("\xff\x00\xfe", 3, "/wD+");
}

Test(b64, rejects_garbage)
{
	cr_assert_null(sg_etcd_b64_decode("Zm9", NULL));
	cr_assert_null(sg_etcd_b64_decode("Zm9!", NULL));
	cr_assert_null(sg_etcd_b64_decode("Zg==Zg==", NULL));
	cr_assert_null(sg_etcd_b64_decode("Z===", NULL));
	cr_assert_null(sg_etcd_b64_decode("Zm=v", NULL));
}

Test(range_end, increments_the_last_byte)
{
	size_t n;
	char *e = sg_etcd_range_end("/sgctl/v1/vpc-1/", &n);

	cr_assert_eq(n, 16);
	cr_assert(!memcmp(e, "/sgctl/v1/vpc-10", 16));
	free(e);
	e = sg_etcd_range_end("a\xff\xff", &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(e[0], 'b');
	free(e);
	/* Nothing to increment: every key from the start on. */
	e = sg_etcd_range_end("\xff", &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(e[0], '\0');
	free(e);
	e = sg_etcd_range_end("", &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(e[0], '\0');
	free(e);
}

Test(int64, strings_and_numbers)
{
	json_t *v;
	int64_t x = 0;

	v = json_string("9223372036854775807");
	cr_assert(sg_etcd_json_int64(v, &x));
	cr_assert_eq(x, INT64_MAX);
	json_decref(v);
	v = json_integer(42);
	cr_assert(sg_etcd_json_int64(v, &x));
	cr_assert_eq(x, 42);
	json_decref(v);
	v = json_string("12a");
	cr_assert_not(sg_etcd_json_int64(v, &x));
	json_decref(v);
	v = json_string("");
	cr_assert_not(sg_etcd_json_int64(v, &x));
	json_decref(v);
	v = json_string("99999999999999999999");
	cr_assert_not(sg_etcd_json_int64(v, &x));
	json_decref(v);
	cr_assert_not(sg_etcd_json_int64(json_true(), &x));
}

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	cr_assert_not_null(j, "not JSON: %s", s);
	return j;
}

static const char *str(const json_t *o, const char *path1, const char *key)
{
	const json_t *x = path1 ? json_object_get(o, path1) : o;

	return json_string_value(json_object_get(x, key));
}

Test(request, range)
{
	char *s = sg_etcd_range_request("/a/", true);
	json_t *j = parse(s);

	cr_assert_str_eq(str(j, NULL, "key"), "L2Ev");	     /* "/a/" */
	cr_assert_str_eq(str(j, NULL, "range_end"), "L2Ew"); /* "/a0" */
	json_decref(j);
	free(s);
	s = sg_etcd_range_request("/a/k", false);
	j = parse(s);
	cr_assert_null(json_object_get(j, "range_end"));
	json_decref(j);
	free(s);
}

Test(request, txn)
{
	const struct sg_etcd_cmp cmp[] = {{"/a", 7}, {"/b", 0}};
	const struct sg_etcd_op ops[] = {
		{.key = "/a", .value = "{}", .len = 2},
		{.del = true, .key = "/c"},
		{.del = true, .prefix = true, .key = "/d/"},
	};
	char *s = sg_etcd_txn_request(cmp, 2, ops, 3);
	json_t *j = parse(s), *c, *o;

	c = json_object_get(j, "compare");
	cr_assert_eq(json_array_size(c), 2);
	cr_assert_str_eq(str(json_array_get(c, 0), NULL, "target"), "MOD");
	cr_assert_str_eq(str(json_array_get(c, 0), NULL, "mod_revision"), "7");
	cr_assert_str_eq(str(json_array_get(c, 0), NULL, "result"), "EQUAL");
	cr_assert_str_eq(str(json_array_get(c, 0), NULL, "key"), "L2E=");
	cr_assert_str_eq(str(json_array_get(c, 1), NULL, "target"), "CREATE");
	cr_assert_str_eq(str(json_array_get(c, 1), NULL, "create_revision"),
			 "0");
	o = json_object_get(j, "success");
	cr_assert_eq(json_array_size(o), 3);
	cr_assert_str_eq(str(json_array_get(o, 0), "request_put", "value"),
			 "e30=");
	cr_assert_str_eq(
		str(json_array_get(o, 1), "request_delete_range", "key"),
		"L2M=");
	cr_assert_null(json_object_get(
		json_object_get(json_array_get(o, 1), "request_delete_range"),
		"range_end"));
	cr_assert_str_eq(
		str(json_array_get(o, 2), "request_delete_range", "range_end"),
		"L2Qw");
	json_decref(j);
	free(s);
}

Test(request, watch)
{
	char *s = sg_etcd_watch_request("/p/", 12);
	json_t *j = parse(s);

	cr_assert_str_eq(str(j, "create_request", "key"), "L3Av");
	cr_assert_str_eq(str(j, "create_request", "range_end"), "L3Aw");
	cr_assert_str_eq(str(j, "create_request", "start_revision"), "12");
	json_decref(j);
	free(s);
}

#define HDR                                                                    \
	"\"header\":{\"cluster_id\":\"7801232528081817440\",\"member_id\":"    \
	"\"13458989633860879742\",\"revision\":\"9\",\"raft_term\":\"2\"}"

Test(response, range)
{
	const char *body =
		"{" HDR ",\"kvs\":[{\"key\":\"L2Ev\",\"create_revision\":\"2\","
		"\"mod_revision\":\"8\",\"version\":\"1\",\"value\":\"e30=\"},"
		"{\"key\":\"L2IK\",\"mod_revision\":\"3\"}],\"count\":\"2\"}";
	struct sg_kvset s;
	int64_t rev = 0;
	char *err = NULL;

	cr_assert_eq(sg_etcd_parse_range(body, strlen(body), &s, &rev, &err),
		     0);
	cr_assert_eq(rev, 9);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.v[0].key, "/a/");
	cr_assert_str_eq(s.v[0].value, "{}");
	cr_assert_eq(s.v[0].len, 2);
	cr_assert_eq(s.v[0].mod_revision, 8);
	/* An empty value is left out by proto3. */
	cr_assert_str_eq(s.v[1].key, "/b\n");
	cr_assert_str_eq(s.v[1].value, "");
	cr_assert_eq(s.v[1].len, 0);
	sg_etcd_kvset_clear(&s);
}

Test(response, empty_range)
{
	const char *body = "{" HDR "}";
	struct sg_kvset s;
	int64_t rev = 0;

	cr_assert_eq(sg_etcd_parse_range(body, strlen(body), &s, &rev, NULL),
		     0);
	cr_assert_eq(rev, 9);
	cr_assert_eq(s.n, 0);
}

Test(response, errors)
{
	const char *gw = "{\"error\":\"etcdserver: too many operations in txn "
			 "request\",\"message\":\"etcdserver: too many "
			 "operations in txn request\",\"code\":3}";
	const char *bad = "{" HDR ",\"kvs\":[{\"key\":\"!!\"}]}";
	struct sg_kvset s;
	int64_t rev;
	char *err = NULL, *m;

	cr_assert_eq(sg_etcd_parse_range(gw, strlen(gw), &s, &rev, &err), -EIO);
	cr_assert_str_eq(err, "etcdserver: too many operations in txn request");
	free(err);
	err = NULL;
	cr_assert_eq(sg_etcd_parse_range(bad, strlen(bad), &s, &rev, &err),
		     -EPROTO);
	cr_assert_not_null(err);
	cr_assert_eq(s.n, 0);
	free(err);
	err = NULL;
	cr_assert_eq(sg_etcd_parse_range("404 page", 8, &s, &rev, &err),
		     -EPROTO);
	free(err);
	m = sg_etcd_error_message(gw, strlen(gw));
	cr_assert_str_eq(m, "etcdserver: too many operations in txn request");
	free(m);
	cr_assert_null(sg_etcd_error_message("{" HDR "}", strlen(HDR) + 2));
}

Test(response, txn)
{
	const char *yes = "{" HDR ",\"succeeded\":true,\"responses\":[]}";
	const char *no = "{" HDR "}";
	bool ok = false;
	int64_t rev = 0;

	cr_assert_eq(sg_etcd_parse_txn(yes, strlen(yes), &ok, &rev, NULL), 0);
	cr_assert(ok);
	cr_assert_eq(rev, 9);
	/* A failed compare: "succeeded" (false) is left out. */
	cr_assert_eq(sg_etcd_parse_txn(no, strlen(no), &ok, &rev, NULL), 0);
	cr_assert_not(ok);
}

Test(watch, responses)
{
	const char *created = "{\"result\":{" HDR ",\"created\":true}}";
	const char *events =
		"{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"L2Ev\","
		"\"create_revision\":\"2\",\"mod_revision\":\"9\","
		"\"version\":\"1\",\"value\":\"e30=\"}},{\"type\":\"DELETE\","
		"\"kv\":{\"key\":\"L2Iv\",\"mod_revision\":\"9\"}}]}}";
	const char *compacted =
		"{\"result\":{\"header\":{\"raft_term\":\"2\"},\"canceled\":"
		"true,\"compact_revision\":\"4\"}}";
	struct sg_etcd_watch_resp r;

	cr_assert_eq(sg_etcd_parse_watch(created, strlen(created), &r, NULL),
		     0);
	cr_assert(r.created);
	cr_assert_eq(r.nev, 0);
	sg_etcd_watch_resp_free(&r);

	cr_assert_eq(sg_etcd_parse_watch(events, strlen(events), &r, NULL), 0);
	cr_assert_eq(r.revision, 9);
	cr_assert_eq(r.nev, 2);
	cr_assert_not(r.ev[0].del);
	cr_assert_str_eq(r.ev[0].key, "/a/");
	cr_assert_str_eq(r.ev[0].value, "{}");
	cr_assert_eq(r.ev[0].mod_revision, 9);
	cr_assert(r.ev[1].del);
	cr_assert_str_eq(r.ev[1].key, "/b/");
	cr_assert_null(r.ev[1].value);
	sg_etcd_watch_resp_free(&r);

	cr_assert_eq(
		sg_etcd_parse_watch(compacted, strlen(compacted), &r, NULL), 0);
	cr_assert(r.canceled);
	cr_assert_eq(r.compact_revision, 4);
	cr_assert_eq(r.revision, 0);
	sg_etcd_watch_resp_free(&r);
}

Test(watch, stream_error)
{
	const char *e = "{\"error\":{\"grpc_code\":14,\"http_code\":503,"
			"\"message\":\"transport is closing\"}}";
	struct sg_etcd_watch_resp r;
	char *err = NULL;

	cr_assert_eq(sg_etcd_parse_watch(e, strlen(e), &r, &err), -EIO);
	cr_assert_str_eq(err, "transport is closing");
	free(err);
}

Test(watch, lines_split_across_chunks)
{
	struct sg_etcd_lines l = {};
	size_t n;
	char *s;

	cr_assert_eq(sg_etcd_lines_feed(&l, "{\"a\":", 5), 0);
	cr_assert_null(sg_etcd_lines_next(&l, &n));
	cr_assert_eq(sg_etcd_lines_feed(&l, "1}\n\n{\"b\"", 8), 0);
	s = sg_etcd_lines_next(&l, &n);
	cr_assert_str_eq(s, "{\"a\":1}");
	cr_assert_eq(n, 7);
	free(s);
	cr_assert_null(sg_etcd_lines_next(&l, &n));
	cr_assert_eq(sg_etcd_lines_feed(&l, ":2}\r\n", 5), 0);
	s = sg_etcd_lines_next(&l, &n);
	cr_assert_str_eq(s, "{\"b\":2}");
	free(s);
	cr_assert_null(sg_etcd_lines_next(&l, &n));
	sg_etcd_lines_free(&l);
}

#define KV(k, v, rev)                                                          \
	{                                                                      \
		(char *)(k), (char *)(v), sizeof(v) - 1, rev                   \
	}

Test(plan, writes_only_what_changed)
{
	struct sg_kv have_v[] = {
		KV("/p/vpc", "{\"vpc\":\"p\"}", 5),
		KV("/p/groups/sg-a", "{\"x\":1}", 6),
		KV("/p/groups/sg-gone", "{}", 7),
		KV("/p/status/host1", "{\"revision\":3}", 8),
		KV("/p/instances/i-1", "{\"y\":1}", 9),
	};
	struct sg_kv want_v[] = {
		KV("/p/instances/i-1", "{\"y\":2}", 0),
		KV("/p/groups/sg-a", "{\"x\":1}", 0),
		KV("/p/vpc", "{\"vpc\":\"p\"}", 0),
		KV("/p/groups/sg-new", "{}", 0),
	};
	struct sg_kvset have = {have_v, 5}, want = {want_v, 4};
	struct sg_etcd_plan p;

	cr_assert_eq(sg_etcd_plan_state("/p/", &have, &want, &p), 0);
	cr_assert_eq(p.n, 3);
	cr_assert_eq(p.nput, 2);
	cr_assert_eq(p.ndel, 1);
	/* In key order: groups/sg-gone, groups/sg-new, instances/i-1. */
	cr_assert_str_eq(p.ops[0].key, "/p/groups/sg-gone");
	cr_assert(p.ops[0].del);
	cr_assert_eq(p.cmp[0].mod_revision, 7);
	cr_assert_str_eq(p.ops[1].key, "/p/groups/sg-new");
	cr_assert_not(p.ops[1].del);
	cr_assert_eq(p.cmp[1].mod_revision, 0);
	cr_assert_str_eq(p.ops[2].key, "/p/instances/i-1");
	cr_assert_str_eq(p.ops[2].value, "{\"y\":2}");
	cr_assert_eq(p.ops[2].len, 7);
	cr_assert_eq(p.cmp[2].mod_revision, 9);
	sg_etcd_plan_free(&p);

	/* The same again: nothing to write. */
	cr_assert_eq(sg_etcd_plan_state("/p/", &want, &want, &p), 0);
	cr_assert_eq(p.n, 0);
	sg_etcd_plan_free(&p);
}
