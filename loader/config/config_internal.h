/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * config.c's validator applied to a document composed elsewhere (inputs.c
 * merges several YAML and AWS JSON inputs into one). Not for the commands:
 * they use model.h and inputs.h.
 */
#ifndef SG_CONFIG_INTERNAL_H
#define SG_CONFIG_INTERNAL_H

#include <stddef.h>

#include <yaml.h>

#include "util/diag.h"
#include "config/model.h"

/* Where each node of a composed document was written. */
struct sg_doc_origin {
	struct sg_pos (*pos)(void *arg, const yaml_node_t *n);
	void *arg;
};

/*
 * Loads one YAML text into doc (UTF-8, syntax, one document per file);
 * problems go to diag as "NAME:LINE:COL: ...". Returns 0 with doc loaded
 * (possibly without a root node), -EINVAL (doc not loaded) or -ENOMEM.
 */
int sg_yaml_load(const char *name, const char *text, size_t len,
		 yaml_document_t *doc, struct sg_diag *diag);

/*
 * Validates doc into cfg as sg_config_parse_string() does with a file's
 * document; positions come from origin (NULL: name and the node marks).
 * Same return values.
 */
int sg_config_parse_doc(yaml_document_t *doc, const char *name,
			const struct sg_doc_origin *origin,
			struct sg_config *cfg, struct sg_diag *diag);

#endif /* SG_CONFIG_INTERNAL_H */
