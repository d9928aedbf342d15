// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sgctl: the command table and the global options.
 *
 *	sgctl [--pin-dir DIR] [-j] COMMAND [ARGS]
 *
 * Global options may appear anywhere (before or after the command). A
 * command may be abbreviated to any prefix that names only it.
 */
#define _GNU_SOURCE
#include <errno.h>
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
int cmd_stats(int argc, char **argv);
int cmd_conntrack(int argc, char **argv);
int cmd_flowlog(int argc, char **argv);
/* Living with other tools (cmd_export.c). */
int cmd_export(int argc, char **argv);
/* Measuring it (cmd_bench.c). */
int cmd_bench(int argc, char **argv);

static const struct cmd cmds[] = {
	{"validate", cmd_validate,
	 "FILE...\tparse and check only (YAML or AWS JSON, merged); "
	 "changes nothing"},
	{"load", cmd_load,
	 "FILE...\tvalidate, compile and apply the config atomically"},
	{"attach", cmd_attach,
	 "IFACE|--all [--instance ID] [--netns NAME] [--host-side] "
	 "[--xdp-mode native|generic]"
	 "\tenforce an instance's policy on IFACE (--all: on every "
	 "instance's configured interface)"},
	{"detach", cmd_detach, "IFACE [--netns NAME]\tremove it from IFACE"},
	{"show", cmd_show, "\tgroups, rules, instances, attachments"},
	{"unload", cmd_unload,
	 "\tdetach everything and remove all pinned state"},
	{"check", cmd_check,
	 "--instance ID (--inbound|--outbound) --protocol P --remote ADDR "
	 "[--port N] [--icmp-type T [--icmp-code C]]"
	 "\tthe verdict a new flow would get, and why"},
	{"stats", cmd_stats,
	 "[--instance ID] [--prometheus]"
	 "\tcounters per instance and direction, conntrack room"},
	{"conntrack", cmd_conntrack,
	 "list|flush [--instance ID]\tthe tracked flows / forget them"},
	{"flowlog", cmd_flowlog,
	 "[--instance ID] [--follow] [--window S]"
	 "\tVPC Flow Logs v2 records of accepted and rejected flows"},
	{"export", cmd_export,
	 "nft [--instance ID] [FILE...]"
	 "\tthe policy as an nftables ruleset (for nft -f)"},
	{"bench", cmd_bench,
	 "micro [--rules LIST] [--members LIST] [--runs N] [--repeat N] | "
	 "live ... | gen micro|cp ... | control ..."
	 "\tmeasure: per-packet cost, live frames on veth, load times"},
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

static void print_cmd_help(const struct cmd *c, FILE *out, bool brief)
{
	const char *tab = strchr(c->help, '\t');
	int alen = tab ? (int)(tab - c->help) : (int)strlen(c->help);
	char head[160];
	int n;

	n = snprintf(head, sizeof(head), "%s%s%.*s", c->name, alen ? " " : "",
		     alen, c->help);
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

int sg_usage_err(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sg_err("%s: %s", cmd, msg);
	sg_cmd_usage(cmd, stderr);
	return SG_EXIT_USAGE;
}

int sg_getopt_err(char **argv, int opt)
{
	if (opt == ':')
		return sg_usage_err(argv[0], "%s needs a value",
				    argv[optind - 1]);
	return sg_usage_err(argv[0], "unknown option '%s'", argv[optind - 1]);
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

static void usage(FILE *out)
{
	fprintf(out, "usage: sgctl [--pin-dir DIR] [-j|--json] COMMAND [ARGS]\n"
		     "       sgctl -h|--help | -V|--version\n"
		     "\n"
		     "AWS-style security groups for Linux hosts, enforced by "
		     "XDP and TC.\n"
		     "\n"
		     "commands (any unambiguous prefix works):\n");
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

int main(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	bool help = false, version = false, ambiguous, dashdash = false;
	const struct cmd *c;
	int n = 0;

	if (!args) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	libbpf_set_print(libbpf_print);

	/* Take the global options out, wherever they are. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (dashdash) {
			args[n++] = argv[i];
		} else if (!strcmp(a, "--")) {
			dashdash = true;
			args[n++] = argv[i];
		} else if (!strcmp(a, "--pin-dir")) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				sg_err("--pin-dir needs a directory");
				return SG_EXIT_USAGE;
			}
			sg_opts.pin_dir = argv[++i];
		} else if (!strncmp(a, "--pin-dir=", 10)) {
			if (!a[10]) {
				sg_err("--pin-dir needs a directory");
				return SG_EXIT_USAGE;
			}
			sg_opts.pin_dir = a + 10;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			sg_opts.json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			help = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			version = true;
		} else {
			args[n++] = argv[i];
		}
	}

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
		usage(stderr);
		return SG_EXIT_USAGE;
	}
	c = sg_cmd_find(cmds, args[0], &ambiguous);
	if (!c) {
		if (ambiguous) {
			char list[256] = "";

			for (const struct cmd *k = cmds; k->name; k++) {
				if (strncmp(k->name, args[0], strlen(args[0])))
					continue;
				if (list[0])
					strncat(list, ", ",
						sizeof(list) - strlen(list) -
							1);
				strncat(list, k->name,
					sizeof(list) - strlen(list) - 1);
			}
			sg_err("ambiguous command '%s' (%s)", args[0], list);
		} else {
			sg_err("unknown command '%s' (see sgctl --help)",
			       args[0]);
		}
		return SG_EXIT_USAGE;
	}
	if (help) {
		print_cmd_help(c, stdout, false);
		const char *tab = strchr(c->help, '\t');

		if (tab)
			printf("%s\n", tab + 1);
		return SG_EXIT_OK;
	}
	args[0] = (char *)c->name;
	return c->fn(n, args);
}
