/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The input files: several, YAML and AWS JSON mixed, read and composed
 * into one document (document.h; AWS JSON is translated by aws.c) that
 * the validator in config/ then judges exactly as a single YAML file.
 * config/load.c goes from files or a stored blob to a config.
 *
 * The loaded inputs are stored in the sg_blob map as an archive (name,
 * length, bytes per file) and parsed again by show, attach and the other
 * readers with sg_config_parse_blob(). A load of one YAML file stores its
 * text unchanged, as before.
 */
#ifndef SG_INPUTS_H
#define SG_INPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/diag.h"

/* One input file, read. */
struct sg_input {
	char *name; /* as given; "<stdin>" for "-" */
	char *text;
	size_t len;
};

/*
 * What the command line adds to the inputs (--vpc, --quota): kept with
 * them, so show, attach and every later parse of the stored blob read the
 * inputs exactly as load did. Zero/empty: not given.
 */
/* AWS's hard limits: no quota increase goes past them. */
#define SG_HARD_GROUPS_PER_INSTANCE 16
#define SG_HARD_RULES_X_GROUPS 1000 /* rules per group x groups per ENI */

struct sg_input_opts {
	char vpc[64]; /* take this VPC out of inputs that hold several */
	unsigned int rules_per_group; /* 1-1000 */
	unsigned int groups_per_instance; /* 1-16 */
};

struct sg_inputs {
	struct sg_input *files;
	size_t n;
	struct sg_input_opts opts;
};

/*
 * The options as a command gets them: --vpc ID, --quota NAME=N. Return
 * 0, or -EINVAL after printing why (sg_err). For validate, load, export
 * and push alike.
 */
int sg_input_opts_vpc(struct sg_input_opts *o, const char *arg);
int sg_input_opts_quota(struct sg_input_opts *o, const char *arg);
bool sg_input_opts_set(const struct sg_input_opts *o);

/*
 * Reads every path ("-" = stdin, at most once; at most SG_INPUT_MAX_SIZE
 * bytes each, input/yaml.h). Problems are reported to
 * diag ("FILE: No such file or directory"). Returns 0 or a negative errno.
 */
int sg_inputs_read(const char *const *paths, size_t n, struct sg_inputs *in,
		   struct sg_diag *diag);
void sg_inputs_free(struct sg_inputs *in);

/*
 * The stored form: a single YAML input as its text; anything else (or
 * options given) as an archive, the options as its first member named
 * SG_INPUT_OPTS_NAME. *blob is malloc'ed.
 */
#define SG_INPUT_OPTS_NAME "(sgctl options)"
int sg_inputs_pack(const struct sg_inputs *in, char **blob, size_t *len);
/* Splits a stored blob back into inputs and options (plain text: one
 * YAML input). */
int sg_inputs_unpack(const char *blob, size_t len, struct sg_inputs *in);
/* Is blob an archive of several inputs (not one YAML text)? */
bool sg_inputs_is_archive(const char *blob, size_t len);

/* The input's format: JSON by extension (.json) or content ('{' / '['). */
bool sg_input_is_json(const char *name, const char *text, size_t len);

struct sg_mdoc;

/*
 * All inputs as one composed document (document.h): the YAML inputs first
 * (JSON rules may name the prefix lists they define), then the JSON ones.
 * Problems go to diag. Returns 0 with *m to free with sg_mdoc_free(), or
 * -ENOMEM.
 */
int sg_inputs_compose(const struct sg_inputs *in, struct sg_diag *diag,
		      struct sg_mdoc **m);

#endif /* SG_INPUTS_H */
