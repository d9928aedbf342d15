/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Several input files, YAML and AWS JSON mixed, merged into one config.
 *
 * Every input becomes part of one composed YAML document with the schema of
 * SPEC section 2 (AWS JSON is translated by aws.c); config.c then validates
 * that document exactly as it validates a single YAML file. Each node of
 * the composed document remembers where it was written, so diagnostics
 * name "lab.yaml:14:17" for YAML and "sgs.json: SecurityGroups[0].
 * IpPermissions[1].FromPort" for JSON.
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

#include <yaml.h>

#include "util/diag.h"
#include "config/model.h"

/* One input file, read. */
struct sg_input {
	char *name; /* as given; "<stdin>" for "-" */
	char *text;
	size_t len;
};

struct sg_inputs {
	struct sg_input *files;
	size_t n;
};

#define SG_INPUT_MAX_SIZE (16u << 20) /* per file, as config.c */

/*
 * Reads every path ("-" = stdin, at most once). Problems are reported to
 * diag ("FILE: No such file or directory"). Returns 0 or a negative errno.
 */
int sg_inputs_read(const char *const *paths, size_t n, struct sg_inputs *in,
		   struct sg_diag *diag);
void sg_inputs_free(struct sg_inputs *in);

/* Parse and validate all inputs into one config (see model.h for rc). */
int sg_inputs_parse(const struct sg_inputs *in, struct sg_config *cfg,
		    struct sg_diag *diag);

/* The whole job: read and parse. */
int sg_config_parse_files(const char *const *paths, size_t n,
			  struct sg_config *cfg, struct sg_diag *diag);

/*
 * The stored form: a single YAML input as its text; anything else as an
 * archive. *blob is malloc'ed.
 */
int sg_inputs_pack(const struct sg_inputs *in, char **blob, size_t *len);
/* Splits a stored blob back into inputs (plain text: one YAML input). */
int sg_inputs_unpack(const char *blob, size_t len, struct sg_inputs *in);
/* Is blob an archive of several inputs (not one YAML text)? */
bool sg_inputs_is_archive(const char *blob, size_t len);
/* Parses a stored blob (what show and attach use). */
int sg_config_parse_blob(const char *blob, size_t len, struct sg_config *cfg,
			 struct sg_diag *diag);

/* The input's format: JSON by extension (.json) or content ('{' / '['). */
bool sg_input_is_json(const char *name, const char *text, size_t len);

/* ---- For aws.c: building the composed document ---- */

enum sg_section {
	SG_SEC_PREFIX_LISTS,
	SG_SEC_GROUPS,
	SG_SEC_INSTANCES,
	SG_NSECTIONS,
};

struct sg_mdoc;

/* Where diagnostics about a JSON value go: "FILE: PATH". */
struct sg_pos sg_mdoc_json_pos(struct sg_mdoc *m, const char *file,
			       const char *path);
struct sg_diag *sg_mdoc_diag(struct sg_mdoc *m);

/*
 * New nodes; path is the JSON path they come from (copied), file the
 * input's name. A quoted scalar is a string ("null" stays a string); a
 * plain one is a number or a boolean. Return the node id, 0 on failure.
 */
int sg_mdoc_scalar(struct sg_mdoc *m, const char *value, bool quoted,
		   const char *file, const char *path);
int sg_mdoc_mapping(struct sg_mdoc *m, const char *file, const char *path);
int sg_mdoc_sequence(struct sg_mdoc *m, const char *file, const char *path);
/* key is a plain-text key ("inbound"), placed at the value's path. */
bool sg_mdoc_put(struct sg_mdoc *m, int map, const char *key, int value);
bool sg_mdoc_pair(struct sg_mdoc *m, int map, int key, int value);
bool sg_mdoc_append(struct sg_mdoc *m, int seq, int item);
/* The merged mapping of a section (prefix_lists, ...). */
int sg_mdoc_section(struct sg_mdoc *m, enum sg_section s);
/*
 * A top-level setting (vpc, region, account) given by node value. All
 * inputs must agree: a different value is an error naming both places.
 * what names the setting in that message ("VPC", "account").
 */
bool sg_mdoc_setting(struct sg_mdoc *m, const char *key, int value,
		     size_t input, const char *what);
/* The prefix lists the YAML inputs define (aws.c checks references). */
bool sg_mdoc_has_prefix_list(struct sg_mdoc *m, const char *id);

#endif /* SG_INPUTS_H */
