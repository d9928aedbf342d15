/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The command line: one table of commands (main.c), global options, and
 * helpers shared by the cmd_*.c files. A command gets argv[0] = its name
 * and the arguments after it (global options already removed) and returns
 * the exit status: SG_EXIT_OK, SG_EXIT_ERR or SG_EXIT_USAGE.
 */
#ifndef SG_CMD_H
#define SG_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef SGCTL_VERSION
#define SGCTL_VERSION "0.1.0"
#endif

#define SG_EXIT_OK    0
#define SG_EXIT_ERR   1
#define SG_EXIT_USAGE 2

#define SG_LOCK_TIMEOUT_MS 10000

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help; /* "FILE  parse and check only" (usage + summary) */
};

/* Global options, set by main() before the command runs. */
struct sg_opts {
	const char *pin_dir; /* --pin-dir, default SG_DEFAULT_PIN_DIR */
	bool json;	     /* -j / --json */
};
extern struct sg_opts sg_opts;

/* Finds name in a NULL-terminated table: exact match, else the unique
 * command it abbreviates. NULL when unknown or ambiguous (reported,
 * *ambiguous set when ambiguous). */
const struct cmd *sg_cmd_find(const struct cmd *table, const char *name,
			      bool *ambiguous);

/* The names of table's entries that start with prefix ("" for all),
 * "a, b, c", into buf (truncated to len). */
void sg_cmd_names(const struct cmd *table, const char *prefix, char *buf,
		  size_t len);

/* "sgctl: CMD: message" + "usage: ..." on stderr; returns SG_EXIT_USAGE.
 * Under -j: {"error": "CMD: message", "usage": "sgctl CMD ..."} on stdout. */
__attribute__((format(printf, 2, 3))) int sg_usage_err(const char *cmd,
						       const char *fmt, ...);
/* The usage error for what getopt_long returned ('?' or ':'). */
int sg_getopt_err(char **argv, int opt);
/* For a command that takes no options and no arguments: SG_EXIT_OK, or
 * the usage error (SG_EXIT_USAGE) for what it was given. */
int sg_args_none(int argc, char **argv);
/* "a.yaml" or "a.yaml + sgs.json + ..." for messages; malloc'ed. */
char *sg_files_label(const char **files, size_t n);
/* Prints "usage: sgctl CMD ARGS" for a command of the table to out. */
void sg_cmd_usage(const char *cmd, FILE *out);

/* 0 when the effective capabilities suffice (CAP_NET_ADMIN, and CAP_BPF +
 * CAP_PERFMON or CAP_SYS_ADMIN), whatever the uid; else reports "CMD needs
 * root (...)" and returns -EPERM. */
int sg_need_root(const char *cmd);

/* The commands. */
int cmd_validate(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_push(int argc, char **argv);

/* etcd for the fleet commands (cmd_push.c): o->url, else SGCTL_ETCD; a
 * missing URL is a usage error, a failure is reported. Returns an exit
 * status. */
struct sg_etcd;
struct sg_etcd_opts;
int sg_cmd_etcd_open(const char *cmd, struct sg_etcd_opts *o,
		     struct sg_etcd **e);

/* The fleet (cmd_agent.c, cmd_status.c). */
int cmd_agent(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* The web console (cmd_console.c, loader/console/). */
int cmd_console(int argc, char **argv);

/* ---- The edit commands (cmd_rule.c, cmd_group.c, cmd_instance.c) ---- */
int cmd_rule(int argc, char **argv);
int cmd_group(int argc, char **argv);
int cmd_instance(int argc, char **argv);

/* Where an edit goes: etcd (--etcd URL, else SGCTL_ETCD) or, with
 * neither, the loaded config of --pin-dir. */
struct sg_edit_target {
	const char *etcd, *cacert, *cert, *key, *vpc;
};

enum {
	SG_EDIT_OPT_ETCD = 0x180,
	SG_EDIT_OPT_CACERT,
	SG_EDIT_OPT_CERT,
	SG_EDIT_OPT_KEY,
	SG_EDIT_OPT_VPC,
};

/* The options of every edit command, for a getopt_long table. */
#define SG_EDIT_LONGOPTS                                                      \
	{"etcd", required_argument, NULL, SG_EDIT_OPT_ETCD},                 \
	{"cacert", required_argument, NULL, SG_EDIT_OPT_CACERT},             \
	{"cert", required_argument, NULL, SG_EDIT_OPT_CERT},                 \
	{"key", required_argument, NULL, SG_EDIT_OPT_KEY},                   \
	{"vpc", required_argument, NULL, SG_EDIT_OPT_VPC}

/* True when getopt's opt was one of SG_EDIT_LONGOPTS (kept in t). */
bool sg_edit_opt(struct sg_edit_target *t, int opt, const char *arg);

/*
 * Runs the edit fn(arg) where t says (fleet/edit_txn.h), then prints
 * "WHAT: revision N" (done() says WHAT), or under -j {"revision": N};
 * on a local edit N is the policy generation the apply made live. Errors
 * (AWS codes; -j: a JSON object with "error") and exit status 1.
 */
struct sg_desired;
struct sg_diag;
int sg_edit_run(const char *cmd, const struct sg_edit_target *t,
		int (*fn)(struct sg_desired *d, void *arg,
			  struct sg_diag *diag),
		void *arg, void (*done)(void *arg, char *buf, size_t len));

/* "CMD SUB ARGS": runs SUB of table (a unique prefix works) with argv[0]
 * CMD and the arguments after SUB. */
struct cmd;
int sg_subcmd(const struct cmd *table, int argc, char **argv);

#endif /* SG_CMD_H */
