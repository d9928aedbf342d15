/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The desired state of one VPC as data that can be edited and stored one
 * object at a time: the config as a JSON object shaped exactly like the
 * YAML file (vpc, region, account, prefix_lists{}, security_groups{},
 * instances{}, and any other top-level key the config knows). JSON is
 * YAML, so the text of a desired state is judged by the same validator as
 * a file (sg_config_parse_string): one validation path for load, push,
 * edits and the agent.
 *
 * Key layout in a key-value store (etcd), under PREFIX = "/sgctl/v1/VPC/":
 *   PREFIX "vpc"                   the top-level settings (every key but
 *                                  the three maps below), one JSON object
 *   PREFIX "groups/" ID            one security group (its YAML mapping)
 *   PREFIX "instances/" ID         one instance
 *   PREFIX "prefix-lists/" ID      one prefix list
 *   PREFIX "status/" HOST          an agent's status (not desired state;
 *                                  ignored by sg_desired_from_kv)
 * so a change writes only the objects it changes.
 */
#ifndef SG_DESIRED_H
#define SG_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/diag.h"

struct sg_inputs;

struct sg_desired {
	json_t *doc; /* a JSON object; owned */
};

/* One key and its value, as read from or written to the store. */
struct sg_kv {
	char *key;
	char *value; /* NUL-terminated JSON text */
	size_t len;
	int64_t mod_revision; /* 0 when not read from a store */
};

struct sg_kvset {
	struct sg_kv *v;
	size_t n;
};

void sg_kvset_free(struct sg_kvset *s);

/* "/sgctl/v1/" VPC "/"; malloc'ed. */
char *sg_desired_prefix(const char *vpc);

/*
 * Files as load reads them (YAML and AWS JSON, composed) into a desired
 * state. Problems go to diag; -EINVAL when there were errors.
 */
int sg_desired_from_inputs(const struct sg_inputs *in, struct sg_desired *d,
			   struct sg_diag *diag);
/* What load stored (a blob, input/inputs.h) into a desired state. */
int sg_desired_from_blob(const char *blob, size_t len, struct sg_desired *d,
			 struct sg_diag *diag);
/* The whole state as JSON text that sg_config_parse_string reads. */
char *sg_desired_text(const struct sg_desired *d, size_t *len);
/*
 * The state in the form a loaded config is stored (sg_apply_req.text):
 * its text after a YAML comment line, so that sg_config_parse_blob (show,
 * attach) reads it as YAML and not as AWS JSON; sg_desired_from_blob
 * reads it back. malloc'ed.
 */
char *sg_desired_blob(const struct sg_desired *d, size_t *len);
/* The VPC id (default "vpc-default"). */
const char *sg_desired_vpc(const struct sg_desired *d);
void sg_desired_free(struct sg_desired *d);

/* One key per object under prefix (layout above). */
int sg_desired_to_kv(const struct sg_desired *d, const char *prefix,
		     struct sg_kvset *out);
/*
 * Keys read from the store back into a desired state. A value that is not
 * JSON, or a key outside the layout, is an error naming the key (diag
 * file = the key). Status keys are skipped.
 */
int sg_desired_from_kv(const struct sg_kvset *kv, const char *prefix,
		       struct sg_desired *d, struct sg_diag *diag);

#endif /* SG_DESIRED_H */
