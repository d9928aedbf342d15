/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The composed document: several inputs, YAML and AWS JSON mixed, as one
 * YAML document with the schema of a single config file (document.c builds
 * it from YAML, aws.c from JSON). Each node remembers where it was
 * written, so diagnostics name "lab.yaml:14:17" for YAML and "sgs.json:
 * SecurityGroups[0].IpPermissions[1].FromPort" for JSON.
 */
#ifndef SG_DOCUMENT_H
#define SG_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "util/diag.h"

enum sg_section {
	SG_SEC_PREFIX_LISTS,
	SG_SEC_GROUPS,
	SG_SEC_INSTANCES,
	SG_NSECTIONS,
};

struct sg_mdoc;

/*
 * An empty composed document (a root mapping) for ninputs inputs, each to
 * be named with sg_mdoc_set_input() before anything is added. Problems go
 * to diag. NULL when out of memory.
 */
struct sg_mdoc *sg_mdoc_new(struct sg_diag *diag, size_t ninputs);
/* Input number input is called name (interned), and is JSON or YAML. */
bool sg_mdoc_set_input(struct sg_mdoc *m, size_t input, const char *name,
		       bool json);
void sg_mdoc_free(struct sg_mdoc *m);
/* -ENOMEM once memory ran out while building, else 0. */
int sg_mdoc_status(const struct sg_mdoc *m);

/*
 * Loads one YAML input's text and merges its sections and settings into
 * m. Problems are reported to the diag. Returns 0 or -ENOMEM.
 */
int sg_mdoc_add_yaml(struct sg_mdoc *m, size_t input, const char *text,
		     size_t len);

/* ---- For the validator: the result ---- */

yaml_document_t *sg_mdoc_document(struct sg_mdoc *m);
/* The name of an input (interned); NULL past the last. */
const char *sg_mdoc_input_name(const struct sg_mdoc *m, size_t input);
/* Where node n of sg_mdoc_document(m) was written. */
struct sg_pos sg_mdoc_node_pos(struct sg_mdoc *m, const yaml_node_t *n);
/* The diagnostics from start on in reading order: input, line, column. */
void sg_mdoc_sort_diag(struct sg_mdoc *m, size_t start);

/*
 * How a message at "at" names the earlier place "ref" in buf: "line 4" in
 * the same file, "other.yaml:4" in another, "sgs.json: SecurityGroups[0].
 * GroupId" for JSON (no lines). Returns buf.
 */
const char *sg_pos_where(struct sg_pos at, struct sg_pos ref, char *buf,
			 size_t len);

/* ---- For aws.c: building the document ---- */

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
/* A group some input defined so far. */
bool sg_mdoc_has_group(struct sg_mdoc *m, const char *id);

#endif /* SG_DOCUMENT_H */
