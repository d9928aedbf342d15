// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sgctl: the command table and the global options.
 *
 *	sgctl [--pin-dir DIR] [-j] COMMAND [ARGS]
 *
 * Global options may appear anywhere (before or after the command), spelled
 * out in full; getopt_long takes them out. A command may be abbreviated to
 * any prefix that names only it. Under -j errors are JSON objects too
 * (util/diag.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cmd/cmd.h"
#include "util/diag.h"
#include "state/state.h"

struct sg_opts sg_opts = {
	.pin_dir = SG_DEFAULT_PIN_DIR,
};

/* Seeing what it does (cmd_check.c, cmd_stats.c, cmd_conntrack.c,
 * cmd_flowlog.c). */
int cmd_check(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_conntrack(int argc, char **argv);
int cmd_flowlog(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* Living with other tools (cmd_export.c). */
int cmd_export(int argc, char **argv);
/* Measuring it (cmd_bench.c). */
int cmd_bench(int argc, char **argv);

static const struct cmd cmds[] = {
	{"validate", cmd_validate,
	 "[--vpc ID] [--quota NAME=N] FILE...\tparse and check only (YAML "
	 "or AWS JSON, merged); changes nothing"},
	{"load", cmd_load,
	 "[--vpc ID] [--quota NAME=N] FILE...\tvalidate, compile and apply "
	 "the config atomically"},
	{"attach", cmd_attach,
	 "IFACE|--all [--instance ID] [--netns NAME] [--host-side] "
	 "[--xdp-mode native|generic]"
	 "\tenforce an instance's policy on IFACE (--all: on every "
	 "instance's configured interface)"},
	{"detach", cmd_detach, "IFACE [--netns NAME]\tremove it from IFACE"},
	{"show", cmd_show, "\tgroups, rules, instances, attachments"},
	{"unload", cmd_unload,
	 "\tdetach everything and remove all pinned state"},
	{"push", cmd_push,
	 "[--vpc ID] [--quota NAME=N] FILE... --etcd URL "
	 "[--cacert F --cert F --key F]"
	 "\tvalidate as load does, then write the desired state to etcd"},
	{"check", cmd_check,
	 "(--instance ID --inbound|--outbound --remote ADDR | --from ID "
	 "--to ID) --protocol P [--port N|--icmp-type T [--icmp-code C]] "
	 "[--config FILE...]"
	 "\tthe verdict a new flow would get, and why (--from/--to: both "
	 "ends of a path, --family 4|6; --config: under a candidate)"},
	{"diff", cmd_diff,
	 "[OLD] NEW | OLD... -- NEW...\tthe traffic whose verdict a config "
	 "change changes, and the rules why (OLD: the loaded config)"},
	{"stats", cmd_stats,
	 "[--instance ID] [--prometheus]"
	 "\tcounters per instance and direction, conntrack room"},
	{"conntrack", cmd_conntrack,
	 "list|flush [--instance ID]\tthe tracked flows / forget them"},
	{"flowlog", cmd_flowlog,
	 "[--instance ID] [--follow] [--window S] [--format F] "
	 "[--output FILE [--max-size N] [--keep N]]"
	 "\tVPC Flow Logs records of accepted and rejected flows"},
	{"rules", cmd_rules,
	 "[--group G] [--instance I] [--unused [--since D]]"
	 "\tevery rule's hits, packets, bytes and last use"},
	{"audit", cmd_audit,
	 "on|off ID\tlet a group's or instance's would-be drops pass, "
	 "counted and logged"},
	{"export", cmd_export,
	 "nft [--instance ID] [--vpc ID] [--quota NAME=N] [FILE...]"
	 "\tthe policy as an nftables ruleset (for nft -f)"},
	{"bench", cmd_bench,
	 "micro [--rules LIST] [--members LIST] [--runs N] [--repeat N] | "
	 "live ... | gen micro|cp ... | control ..."
	 "\tmeasure: per-packet cost, live frames on veth, load times"},
	{"rule", cmd_rule,
	 "add|delete GROUP --inbound|--outbound --type T|--protocol P "
	 "[--port N[-M]] --source|--destination PEER"
	 "\tadd or delete one rule of a group; also --icmp-type T "
	 "--icmp-code C, --description D, delete by --rule-id sgr-...; "
	 "in etcd with --etcd URL, else the loaded config"},
	{"group", cmd_group,
	 "create ID [--name N] [--description D] | delete ID"
	 "\tcreate or delete a security group (--etcd URL or the loaded "
	 "config)"},
	{"instance", cmd_instance,
	 "add ID --ips A[,B] [--groups G[,G]] [--host H --interface IF "
	 "[--netns NS] [--host-side]] | set-groups ID G... | remove ID"
	 "\tadd an instance, change its groups, remove it (--etcd URL or "
	 "the loaded config)"},
	{"agent", cmd_agent,
	 "--etcd URL --host NAME [--vpc ID] [--cacert F --cert F --key F]"
	 "\tkeep this host's state equal to the desired state in etcd"},
	{"status", cmd_status,
	 "--etcd URL [--vpc ID] [--cacert F --cert F --key F]"
	 "\tevery agent: applied revision, lag, errors"},
	{"console", cmd_console,
	 "[--listen ADDR:PORT] [--read-only] [--etcd URL ...] "
	 "[--tls-cert F --tls-key F [--client-ca F|--password-file F]]"
	 "\tthe web console: groups, rules with hits, flow logs, check"},
	{NULL, NULL, NULL},
};

const struct cmd *sg_cmd_find(const struct cmd *table, const char *name,
			      bool *ambiguous)
{
	const struct cmd *hit = NULL;
	size_t len = strlen(name);
	int n = 0;

	*ambiguous = false;
	if (!len)
		return NULL;
	for (const struct cmd *c = table; c->name; c++) {
		if (!strcmp(c->name, name))
			return c;
		if (!strncmp(c->name, name, len)) {
			hit = c;
			n++;
		}
	}
	if (n > 1) {
		*ambiguous = true;
		return NULL;
	}
	return hit;
}

void sg_cmd_names(const struct cmd *table, const char *prefix, char *buf,
		  size_t len)
{
	size_t plen = strlen(prefix), used = 0;

	if (len)
		buf[0] = '\0';
	for (const struct cmd *c = table; c->name && len; c++) {
		int n;

		if (strncmp(c->name, prefix, plen))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			     c->name);
		if (n < 0 || (size_t)n >= len - used)
			break; /* truncated: the list is a hint */
		used += (size_t)n;
	}
}

/* "NAME ARGS": the usage line of a table entry, without "usage: sgctl". */
static int cmd_head(const struct cmd *c, char *head, size_t len)
{
	const char *tab = strchr(c->help, '\t');
	int alen = tab ? (int)(tab - c->help) : (int)strlen(c->help);

	return snprintf(head, len, "%s%s%.*s", c->name, alen ? " " : "", alen,
			c->help);
}

static void print_cmd_help(const struct cmd *c, FILE *out, bool brief)
{
	const char *tab = strchr(c->help, '\t');
	char head[160];
	int n;

	n = cmd_head(c, head, sizeof(head));
	if (!brief) {
		fprintf(out, "usage: sgctl %s\n", head);
		return;
	}
	if (!tab)
		fprintf(out, "  %s\n", head);
	else if (n <= 28)
		fprintf(out, "  %-28s  %s\n", head, tab + 1);
	else
		fprintf(out, "  %s\n  %-28s  %s\n", head, "", tab + 1);
}

void sg_cmd_usage(const char *cmd, FILE *out)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, cmd))
			print_cmd_help(c, out, false);
}

/* Under -j: {"error": "CMD: message", "usage": "sgctl CMD ARGS"}. */
static void json_usage_err(const char *msg, const char *usage)
{
	fflush(stdout);
	fputs("{\"error\": ", stdout);
	sg_diag_json_string(stdout, msg);
	if (usage) {
		fputs(", \"usage\": ", stdout);
		sg_diag_json_string(stdout, usage);
	}
	fputs("}\n", stdout);
	fflush(stdout);
}

int sg_usage_err(const char *cmd, const char *fmt, ...)
{
	char msg[512], line[600], head[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!sg_opts.json) {
		sg_err("%s: %s", cmd, msg);
		sg_cmd_usage(cmd, stderr);
		return SG_EXIT_USAGE;
	}
	snprintf(line, sizeof(line), "%s: %s", cmd, msg);
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, cmd)) {
			char usage[200];

			cmd_head(c, head, sizeof(head));
			snprintf(usage, sizeof(usage), "sgctl %s", head);
			json_usage_err(line, usage);
			return SG_EXIT_USAGE;
		}
	json_usage_err(line, NULL);
	return SG_EXIT_USAGE;
}

int sg_getopt_err(char **argv, int opt)
{
	if (opt == ':')
		return sg_usage_err(argv[0], "%s needs a value",
				    argv[optind - 1]);
	return sg_usage_err(argv[0], "unknown option '%s'", argv[optind - 1]);
}

char *sg_files_label(const char **files, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(files[i]) + 3;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, " + ");
		strcat(s, files[i]);
	}
	return s;
}

int sg_args_none(int argc, char **argv)
{
	static const struct option opts[] = {
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1)
		return sg_getopt_err(argv, opt);
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	return SG_EXIT_OK;
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/*
 * Judged by the effective capabilities, whatever the uid: root with its
 * capabilities dropped (setpriv, capsh, a container) cannot load programs
 * either, and would otherwise meet libbpf's RLIMIT_MEMLOCK hints or, for
 * unload, remove the pins without detaching anything. The programs need
 * CAP_PERFMON next to CAP_BPF (or CAP_SYS_ADMIN for both).
 */
int sg_need_root(const char *cmd)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};
	bool bpf_ok, net_ok;

	if (syscall(SYS_capget, &hdr, data)) {
		if (geteuid() == 0)
			return 0; /* cannot tell: let the kernel judge */
		memset(data, 0, sizeof(data));
	}
	bpf_ok = has_cap(data, CAP_SYS_ADMIN) ||
		 (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON));
	net_ok = has_cap(data, CAP_NET_ADMIN);
	if (bpf_ok && net_ok)
		return 0;
	if (geteuid() == 0)
		sg_err("%s needs root's capabilities: this process runs as root "
		       "without CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN) and "
		       "CAP_NET_ADMIN",
		       cmd);
	else
		sg_err("%s needs root (CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)",
		       cmd);
	return -EPERM;
}

#define TOP_USAGE "sgctl [--pin-dir DIR] [-j|--json] COMMAND [ARGS]"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s\n"
		"       sgctl -h|--help | -V|--version\n"
		"\n"
		"AWS-style security groups for Linux hosts, enforced by "
		"XDP and TC.\n"
		"\n"
		"commands (any unambiguous prefix works):\n",
		TOP_USAGE);
	for (const struct cmd *c = cmds; c->name; c++)
		print_cmd_help(c, out, true);
	fprintf(out,
		"\n"
		"global options (anywhere on the line):\n"
		"  --pin-dir DIR   pinned state (default %s)\n"
		"  -j, --json      JSON output\n"
		"  -h, --help      this help, or a command's\n"
		"  -V, --version   print the version\n",
		SG_DEFAULT_PIN_DIR);
}

/*
 * libbpf's warnings go to stderr; its info and debug lines, and all but the
 * end of a verifier log, only with SGCTL_DEBUG set.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	bool debug = getenv("SGCTL_DEBUG") != NULL;
	char *msg = NULL, *tail;
	int n, lines = 0;

	if (level != LIBBPF_WARN && !debug)
		return 0;
	if (debug || !strstr(fmt, "PROG LOAD LOG"))
		return vfprintf(stderr, fmt, ap);
	n = vasprintf(&msg, fmt, ap);
	if (n < 0)
		return 0;
	/* keep the last 6 lines: where the verifier gave up */
	tail = msg + n;
	while (tail > msg && lines < 7)
		if (*--tail == '\n')
			lines++;
	fprintf(stderr,
		"libbpf: verifier log (end; SGCTL_DEBUG=1 for all of it):\n%s",
		tail == msg ? msg : tail + 1);
	free(msg);
	return n;
}

enum { OPT_PIN_DIR = 0x100 };

static const struct option global_opts[] = {
	{"pin-dir", required_argument, NULL, OPT_PIN_DIR},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/*
 * Whether argv[first..optind) is global option idx spelled out in full:
 * getopt_long also takes a prefix ("--he"), which may well be meant as one
 * of the command's own options (--host-side), so those pass through.
 */
static bool spelled_out(char **argv, int first, int idx)
{
	const char *a = argv[first], *name = global_opts[idx].name;
	size_t len = strlen(name);

	return !strncmp(a, "--", 2) && !strncmp(a + 2, name, len) &&
	       (a[2 + len] == '\0' || a[2 + len] == '=');
}

/*
 * Takes the global options out of argv, wherever they are, and leaves the
 * command and its arguments, in their order, in args. getopt_long in its
 * "return in order" mode ('-') hands every other word back as it comes, so
 * a command's option keeps its value next to it. Returns SG_EXIT_OK, or
 * SG_EXIT_USAGE with *why set.
 */
static int take_global_opts(int argc, char **argv, char **args, int *nargs,
			    bool *help, bool *version, const char **why)
{
	int opt, idx, first = 1, cluster = -1, n = 0;
	bool flushed;

	*why = NULL;
	optind = 0;
	opterr = 0;
	for (;;) {
		first = optind ? optind : 1;
		idx = -1;
		opt = getopt_long(argc, argv, "-:jhV", global_opts, &idx);
		/* A cluster of short options ("-jx") that holds one of the
		 * command's goes to it whole once getopt is past it. */
		flushed = cluster >= 0 && optind > cluster;
		if (flushed) {
			args[n++] = argv[cluster];
			cluster = -1;
		}
		if (opt == -1)
			break;
		if (idx >= 0 && !spelled_out(argv, first, idx))
			opt = '?';
		switch (opt) {
		case 1: /* the command, or an argument of it */
			args[n++] = optarg;
			break;
		case 'j':
			sg_opts.json = true;
			break;
		case 'h':
			*help = true;
			break;
		case 'V':
			*version = true;
			break;
		case OPT_PIN_DIR:
			if (!optarg[0] && !*why)
				*why = "--pin-dir needs a directory";
			sg_opts.pin_dir = optarg;
			break;
		case ':': /* only --pin-dir takes a value */
			if (!*why)
				*why = "--pin-dir needs a directory";
			break;
		default: /* the command's own option, passed on as written */
			if (optind == first)
				cluster = first;
			else if (flushed)
				break;
			for (int i = first; i < optind; i++)
				args[n++] = argv[i];
			break;
		}
	}
	/* After "--" everything is the command's, "--" included. */
	if (first < argc && !strcmp(argv[first], "--"))
		args[n++] = argv[first];
	for (int i = optind; i < argc; i++)
		args[n++] = argv[i];
	*nargs = n;
	return *why ? SG_EXIT_USAGE : SG_EXIT_OK;
}

/* main without the allocation of args, so main frees it on every path. */
static int run(int argc, char **argv, char **args)
{
	bool help = false, version = false, ambiguous;
	const struct cmd *c;
	const char *why;
	int n = 0;

	libbpf_set_print(libbpf_print);

	if (take_global_opts(argc, argv, args, &n, &help, &version, &why)) {
		sg_diag_set_json(sg_opts.json);
		sg_err("%s", why);
		return SG_EXIT_USAGE;
	}
	/* From here on, every error and warning respects -j. */
	sg_diag_set_json(sg_opts.json);

	/* A pin dir "/x/" and "/x" are the same state (and the same lock). */
	if (sg_opts.pin_dir[0]) {
		static char pd[256];
		size_t l = strlen(sg_opts.pin_dir);

		if (l >= sizeof(pd)) {
			sg_err("--pin-dir: name too long");
			return SG_EXIT_USAGE;
		}
		memcpy(pd, sg_opts.pin_dir, l + 1);
		while (l > 1 && pd[l - 1] == '/')
			pd[--l] = '\0';
		sg_opts.pin_dir = pd;
	}

	if (version) {
		if (sg_opts.json)
			printf("{\"version\":\"%s\"}\n", SGCTL_VERSION);
		else
			printf("sgctl %s\n", SGCTL_VERSION);
		return SG_EXIT_OK;
	}
	if (n == 0) {
		if (help) {
			usage(stdout);
			return SG_EXIT_OK;
		}
		if (sg_opts.json)
			json_usage_err("no command (see sgctl --help)",
				       TOP_USAGE);
		else
			usage(stderr);
		return SG_EXIT_USAGE;
	}
	c = sg_cmd_find(cmds, args[0], &ambiguous);
	if (!c) {
		char list[256];

		if (ambiguous) {
			sg_cmd_names(cmds, args[0], list, sizeof(list));
			sg_err("ambiguous command '%s' (%s)", args[0], list);
		} else {
			sg_err("unknown command '%s' (see sgctl --help)",
			       args[0]);
		}
		return SG_EXIT_USAGE;
	}
	if (help) {
		const char *tab = strchr(c->help, '\t');

		print_cmd_help(c, stdout, false);
		if (tab)
			printf("%s\n", tab + 1);
		return SG_EXIT_OK;
	}
	args[0] = (char *)c->name;
	return c->fn(n, args);
}

int main(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int rc;

	if (!args) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	rc = run(argc, argv, args);
	free(args);
	return rc;
}
