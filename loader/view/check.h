/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * check's answer (`sgctl check`, GET /api/check): the verdict a new flow
 * would get, and why, from two independent answers that must agree: the
 * kernel's (the loaded programs in dry-run mode, enforce/kcheck.h) and
 * the reference model's (compile/refmodel.h). The command line and the
 * console both call it, so they print the same JSON object.
 */
#ifndef SG_VIEW_CHECK_H
#define SG_VIEW_CHECK_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/model.h"
#include "out/json.h"
#include "state/state.h"

/* The flow asked about: one end, a path, or (console) two addresses. */
struct sg_check_args {
	const char *instance;  /* one end: its instance, */
	int dir;	       /* SG_DIR_IN or SG_DIR_OUT; -1 unset */
	int family;	       /* of remote; 0 unset */
	__u8 remote[16];       /* and its remote address */
	const char *remote_text;
	const char *from, *to; /* a path: both ends' instances */
	const char *src, *dst; /* two addresses, at least one an instance's */
	int want_family;       /* 0: any */
	int proto;	       /* -1 unset */
	long port, itype, icode; /* -1 unset */
	const char **files;	 /* a candidate config (CLI --config) */
	size_t nfiles;
	const char *files_label; /* "a.yaml + b.yaml", for messages */
};

void sg_check_args_init(struct sg_check_args *a);

/*
 * The checks and defaults of a flow once its fields are set, with the
 * messages of check's command line; opt is how the inputs are named:
 * "--" (the CLI's options) or "" (the console's parameters). Returns 0, or
 * -EINVAL with the message in msg.
 */
int sg_check_args_finish(struct sg_check_args *a, const char *opt, char *msg,
			 size_t len);
/* tcp, udp, icmp, icmpv6 or a number 0-255 ("all" is no flow's). */
int sg_check_parse_proto(const char *s, const char *opt, int *proto,
			 char *msg, size_t len);

/* Where the answer comes from. */
struct sg_check_src {
	const char *pin_dir;  /* the local datapath (the kernel's answer) */
	struct sg_state *st;  /* opened on pin_dir; NULL: nothing loaded */
	/*
	 * NULL (the CLI): the config loaded in st, or a.files; every instance
	 * judged must be enforced here. Else (the console): the config the
	 * flow is judged on; the kernel is asked too when every end is
	 * enforced here (then on the loaded config, as the CLI does), and
	 * otherwise the model alone answers ("kernel": null).
	 */
	const struct sg_config *cfg;
	const char *cfg_label; /* "config" of the model-only answer */
	bool cfg_loaded; /* cfg is the config loaded in st (not etcd's) */
};

struct sg_check;

/*
 * Judges the flow. 0 with *out the answer, or a negative errno with *out
 * holding the error's messages (sg_check_errors); free *out either way.
 * -EDOM: the flow is not a valid one (a usage error).
 */
int sg_check_run(const struct sg_check_args *a, const struct sg_check_src *src,
		 struct sg_check **out);
void sg_check_free(struct sg_check *x);

/* The failure's messages, "check: ..." (NULL past the last). */
const char *sg_check_error(const struct sg_check *x, size_t i);

/* `check -j`'s object, into j (its one value). */
void sg_check_json(const struct sg_check *x, struct sg_json *j);
/* check's text answer on stdout. */
void sg_check_print(const struct sg_check *x);

#endif /* SG_VIEW_CHECK_H */
