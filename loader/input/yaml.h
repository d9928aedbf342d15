/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * YAML text as a libyaml document, and what every reader of such a
 * document needs to know about its nodes. The one place that decides what
 * a YAML null is: the YAML 1.1 / core schema plain scalars "", "~",
 * "null", "Null" and "NULL" (not "nULL", and never a quoted one).
 */
#ifndef SG_YAML_H
#define SG_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "util/diag.h"

/* The largest input file, and the largest YAML text loaded. */
#define SG_INPUT_MAX_SIZE (16u << 20)

/* A scalar's text; NULL for a mapping or a list (or no node). */
const char *sg_yaml_scalar(const yaml_node_t *n);
/* A plain null scalar (see above); false for anything else. */
bool sg_yaml_is_null(const yaml_node_t *n);
/* What n is, for messages: "a mapping", "a list", "empty", "a scalar". */
const char *sg_yaml_node_kind(const yaml_node_t *n);

/*
 * Loads one YAML text into doc: at most SG_INPUT_MAX_SIZE bytes, valid
 * UTF-8 without NUL, flow collections nested at most 64 deep, one document
 * per text. Problems go to diag as "NAME:LINE:COL: ..." (name NULL:
 * "<config>"). Returns 0 with doc loaded (possibly without a root node;
 * a second document is reported but still 0), -EINVAL (doc not loaded) or
 * -ENOMEM.
 */
int sg_yaml_load(const char *name, const char *text, size_t len,
		 yaml_document_t *doc, struct sg_diag *diag);

#endif /* SG_YAML_H */
