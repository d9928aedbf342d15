// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * conntrack list | flush: the tracked flows of sg_ct4 and sg_ct, seen from
 * each instance (local = the instance's side), and forgetting them.
 *
 * An entry past its idle timeout counts as absent for the datapath and the
 * expiry timer deletes it within a second; list skips such entries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "state/skel.h"

#include "cmd/cmd.h"
#include "util/diag.h"
#include "out/json.h"
#include "state/state.h"
#include "compile/refmodel.h"

struct ct_row {
	struct sg_ct_key k;
	struct sg_ct_val v;
	const char *inst; /* id, or "slot N" */
	__u64 idle_s;
};

struct ct_ctx {
	char *ids; /* SG_ID_LEN each */
	__u32 *slots;
	size_t nslots;
	char slotname[SG_ID_LEN];
};

static const char *state_name(__u8 s)
{
	switch (s) {
	case SG_CT_TCP_OPENING:
		return "SYN_SENT";
	case SG_CT_TCP_ESTABLISHED:
		return "ESTABLISHED";
	case SG_CT_TCP_CLOSING:
		return "CLOSING";
	case SG_CT_UDP:
		return "UNREPLIED";
	case SG_CT_UDP_STREAM:
		return "STREAM";
	case SG_CT_ICMP:
		return "ECHO";
	case SG_CT_OTHER:
		return "OTHER";
	}
	return "?";
}

static const char *slot_id(const struct ct_ctx *x, __u32 slot)
{
	for (size_t i = 0; i < x->nslots; i++)
		if (x->slots[i] == slot)
			return x->ids + i * SG_ID_LEN;
	return NULL;
}

static int find_slot(const struct ct_ctx *x, const char *id, __u32 *slot)
{
	for (size_t i = 0; i < x->nslots; i++)
		if (!strcmp(x->ids + i * SG_ID_LEN, id)) {
			*slot = x->slots[i];
			return 0;
		}
	return -ENOENT;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* "198.18.1.10:22", "[2001:db8::1]:22", or the address alone. */
static void endpoint(char *buf, size_t len, int family, const __u8 *addr,
		     int port)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (port < 0)
		snprintf(buf, len, "%s", a);
	else if (family == 6)
		snprintf(buf, len, "[%s]:%d", a, port);
	else
		snprintf(buf, len, "%s:%d", a, port);
}

static bool has_ports(__u8 proto)
{
	return proto == SG_PROTO_TCP || proto == SG_PROTO_UDP;
}

static int row_cmp(const void *a, const void *b)
{
	const struct ct_row *x = a, *y = b;
	int r = strcmp(x->inst, y->inst);

	if (r)
		return r;
	if (x->v.created_ns != y->v.created_ns)
		return x->v.created_ns < y->v.created_ns ? -1 : 1;
	return memcmp(&x->k, &y->k, sizeof(x->k));
}

static void print_rows(const struct ct_row *rows, size_t n)
{
	char l[64], r[64], pb[16];

	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_key(j, "flows");
		sg_json_begin_array(j);
		for (size_t i = 0; i < n; i++) {
			const struct ct_row *w = &rows[i];
			int fam = w->k.family == 6 ? 6 : 4;

			sg_json_begin_object(j);
			sg_json_kv_string(j, "instance", w->inst);
			sg_json_kv_uint(j, "slot", w->k.slot);
			sg_json_kv_string(
				j, "protocol",
				sg_ref_proto_name(w->k.proto, pb, sizeof(pb)));
			sg_json_kv_uint(j, "protocol_number", w->k.proto);
			sg_json_kv_uint(j, "family", (__u64)fam);
			endpoint(l, sizeof(l), fam, w->k.laddr, -1);
			endpoint(r, sizeof(r), fam, w->k.raddr, -1);
			sg_json_kv_string(j, "local_addr", l);
			sg_json_kv_string(j, "remote_addr", r);
			if (has_ports(w->k.proto)) {
				sg_json_kv_uint(j, "local_port",
						ntohs(w->k.lport));
				sg_json_kv_uint(j, "remote_port",
						ntohs(w->k.rport));
			} else if (w->k.proto == SG_PROTO_ICMP ||
				   w->k.proto == SG_PROTO_ICMPV6) {
				sg_json_kv_uint(j, "icmp_id",
						ntohs(w->k.lport));
			}
			sg_json_kv_string(j, "state", state_name(w->v.state));
			sg_json_kv_string(j, "origin",
					  w->v.origin == SG_DIR_IN
						  ? "inbound"
						  : "outbound");
			sg_json_kv_uint(j, "idle_seconds", w->idle_s);
			sg_json_kv_uint(j, "timeout_seconds", w->v.timeout_s);
			sg_json_kv_uint(j, "packets_in",
					w->v.packets[SG_DIR_IN]);
			sg_json_kv_uint(j, "bytes_in", w->v.bytes[SG_DIR_IN]);
			sg_json_kv_uint(j, "packets_out",
					w->v.packets[SG_DIR_OUT]);
			sg_json_kv_uint(j, "bytes_out", w->v.bytes[SG_DIR_OUT]);
			sg_json_end_object(j);
		}
		sg_json_end_array(j);
		sg_json_end_object(j);
		sg_json_destroy(j);
		return;
	}
	if (!n) {
		printf("no tracked flows\n");
		return;
	}
	printf("%-12s %-6s %-30s %-30s %-11s %-8s %8s %8s %9s %9s\n",
	       "INSTANCE", "PROTO", "LOCAL", "REMOTE", "STATE", "ORIGIN",
	       "IDLE(s)", "TIMEOUT", "PKTS IN", "PKTS OUT");
	for (size_t i = 0; i < n; i++) {
		const struct ct_row *w = &rows[i];
		int fam = w->k.family == 6 ? 6 : 4;
		bool ports = has_ports(w->k.proto);

		endpoint(l, sizeof(l), fam, w->k.laddr,
			 ports ? ntohs(w->k.lport) : -1);
		endpoint(r, sizeof(r), fam, w->k.raddr,
			 ports ? ntohs(w->k.rport) : -1);
		printf("%-12s %-6s %-30s %-30s %-11s %-8s %8llu %8u %9llu "
		       "%9llu\n",
		       w->inst, sg_ref_proto_name(w->k.proto, pb, sizeof(pb)),
		       l, r, state_name(w->v.state),
		       w->v.origin == SG_DIR_IN ? "inbound" : "outbound",
		       (unsigned long long)w->idle_s, w->v.timeout_s,
		       (unsigned long long)w->v.packets[SG_DIR_IN],
		       (unsigned long long)w->v.packets[SG_DIR_OUT]);
	}
}

static int do_list(struct sg_state *st, struct ct_ctx *x, const char *want)
{
	struct sg_ct_key *keys = NULL;
	struct sg_ct_val *vals = NULL;
	struct ct_row *rows = NULL;
	size_t n, m = 0;
	__u32 wslot = 0;
	__u64 now;
	int err;

	if (want && find_slot(x, want, &wslot)) {
		sg_err("conntrack: no instance %s in the loaded config", want);
		return -ENOENT;
	}
	err = sg_ct_dump(st, &keys, &vals, &n);
	if (err)
		return err;
	now = mono_ns();
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sg_ct_val *v = &vals[i];
		struct ct_row *w = &rows[m];

		if (want && keys[i].slot != wslot)
			continue;
		/* Past its timeout: gone for the datapath already. */
		if (now > v->last_seen_ns + (__u64)v->timeout_s * 1000000000ULL)
			continue;
		w->k = keys[i];
		w->v = *v;
		w->inst = slot_id(x, keys[i].slot);
		if (!w->inst)
			w->inst = "(released)";
		w->idle_s = now > v->last_seen_ns
				    ? (now - v->last_seen_ns) / 1000000000ULL
				    : 0;
		m++;
	}
	qsort(rows, m, sizeof(*rows), row_cmp);
	print_rows(rows, m);
out:
	free(keys);
	free(vals);
	free(rows);
	return err;
}

static int do_flush(struct sg_state *st, struct ct_ctx *x, const char *want)
{
	__u32 slot;
	size_t flushed;
	int err;

	if (want && find_slot(x, want, &slot)) {
		sg_err("conntrack: no instance %s in the loaded config", want);
		return -ENOENT;
	}
	err = sg_ct_flush(st, want ? &slot : NULL, want ? 1 : 0, &flushed);
	if (err)
		return err;
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "instance", want);
		sg_json_kv_uint(j, "flushed", flushed);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("flushed %zu tracked flow%s%s%s\n", flushed,
		       flushed == 1 ? "" : "s", want ? " of " : "",
		       want ? want : "");
	}
	return 0;
}

/*
 * list and flush: argv[0] is "conntrack" (for its usage line), the options
 * follow.
 */
static int run(int argc, char **argv, bool list)
{
	static const struct option opts[] = {
		{"instance", required_argument, NULL, 'i'},
		{NULL, 0, NULL, 0},
	};
	struct sg_state st = {};
	struct ct_ctx x = {};
	const char *want = NULL;
	int opt, lock = -1, err, rc = SG_EXIT_ERR;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			want = optarg;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (sg_need_root(argv[0]))
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		if (want) {
			sg_err("conntrack: no config loaded (no instance %s)",
			       want);
			return SG_EXIT_ERR;
		}
		if (sg_opts.json)
			printf(list ? "{\"flows\": []}\n"
				    : "{\"instance\": null, "
				      "\"flushed\": 0}\n");
		else
			printf(list ? "no tracked flows\n"
				    : "flushed 0 tracked flows\n");
		return SG_EXIT_OK;
	}
	if (!list) {
		/* Serialised with load/unload: they reset slots too. */
		lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
		if (lock < 0)
			return SG_EXIT_ERR;
	}
	/* list only reads: it creates and writes nothing. */
	if (list ? sg_state_open_ro(&st, sg_opts.pin_dir)
		 : sg_state_open(&st, sg_opts.pin_dir, -1, false))
		goto out;
	if (sg_slot_list(&st, &x.ids, &x.slots, &x.nslots))
		goto out;
	err = list ? do_list(&st, &x, want) : do_flush(&st, &x, want);
	if (!err)
		rc = SG_EXIT_OK;
out:
	sg_state_close(&st);
	free(x.ids);
	free(x.slots);
	if (lock >= 0)
		close(lock);
	return rc;
}

static int sub_list(int argc, char **argv)
{
	return run(argc, argv, true);
}

static int sub_flush(int argc, char **argv)
{
	return run(argc, argv, false);
}

/* Resolved like the commands: any prefix that names only one. */
static const struct cmd subcmds[] = {
	{"list", sub_list, "[--instance ID]\tthe tracked flows"},
	{"flush", sub_flush, "[--instance ID]\tforget them"},
	{NULL, NULL, NULL},
};

int cmd_conntrack(int argc, char **argv)
{
	const struct cmd *sub;
	char names[64];
	bool ambiguous;

	sg_cmd_names(subcmds, "", names, sizeof(names));
	if (argc < 2 || argv[1][0] == '-')
		return sg_usage_err(argv[0], "which one: %s?", names);
	sub = sg_cmd_find(subcmds, argv[1], &ambiguous);
	if (!sub) {
		if (ambiguous)
			sg_cmd_names(subcmds, argv[1], names, sizeof(names));
		return sg_usage_err(argv[0], "%s subcommand '%s' (%s)",
				    ambiguous ? "ambiguous" : "unknown",
				    argv[1], names);
	}
	/* The subcommand sees "conntrack" and the options after the word. */
	argv[1] = argv[0];
	return sub->fn(argc - 1, argv + 1);
}
