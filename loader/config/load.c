// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * From input to config: files, a stored blob or a YAML text are read and
 * composed by input/, then validated here (config.c). One YAML file takes
 * the validator's own path, byte for byte; several inputs or AWS JSON go
 * through the composed document, whose diagnostics are put in input order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "input/inputs.h"
#include "config/config_priv.h"

static int parse_string(const char *name, const char *text, size_t len,
			struct sg_config *cfg, struct sg_diag *diag,
			const struct sg_input_opts *opts)
{
	size_t start = diag->nentries, errors = diag->nerrors;
	yaml_document_t doc;
	int rc;

	/* What load stored for several inputs or AWS JSON. */
	if (text && sg_inputs_is_archive(text, len))
		return sg_config_parse_blob(text, len, cfg, diag);
	memset(cfg, 0, sizeof(*cfg));
	rc = sg_yaml_load(name, text, len, &doc, diag);
	if (rc)
		return rc;
	rc = sg_config_parse_doc(&doc, name, NULL, cfg, diag, start, errors,
				 opts);
	yaml_document_delete(&doc);
	return rc;
}

int sg_config_parse_string(const char *name, const char *text, size_t len,
			   struct sg_config *cfg, struct sg_diag *diag)
{
	return parse_string(name, text, len, cfg, diag, NULL);
}

int sg_inputs_parse(const struct sg_inputs *in, struct sg_config *cfg,
		    struct sg_diag *diag)
{
	size_t start = diag->nentries, errors = diag->nerrors;
	struct sg_mdoc *m;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	/* One YAML file: the validator's own path, byte for byte. */
	if (in->n == 1 &&
	    !sg_input_is_json(in->files[0].name, in->files[0].text,
			      in->files[0].len))
		return parse_string(sg_diag_intern(diag, in->files[0].name),
				    in->files[0].text, in->files[0].len, cfg,
				    diag, &in->opts);

	rc = sg_inputs_compose(in, diag, &m);
	if (rc)
		return rc;
	rc = sg_config_parse_doc(sg_mdoc_document(m), sg_mdoc_input_name(m, 0),
				 m, cfg, diag, diag->nentries, diag->nerrors,
				 &in->opts);
	sg_mdoc_sort_diag(m, start);
	sg_mdoc_free(m);
	if (rc == -ENOMEM)
		return rc;
	if (diag->nerrors > errors) {
		sg_config_free(cfg);
		return -EINVAL;
	}
	return rc;
}

int sg_config_parse_files(const char *const *paths, size_t n,
			  struct sg_config *cfg, struct sg_diag *diag)
{
	return sg_config_parse_files_opts(paths, n, NULL, cfg, diag);
}

int sg_config_parse_files_opts(const char *const *paths, size_t n,
			       const struct sg_input_opts *opts,
			       struct sg_config *cfg, struct sg_diag *diag)
{
	struct sg_inputs in;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = sg_inputs_read(paths, n, &in, diag);
	if (rc)
		return rc;
	if (opts)
		in.opts = *opts;
	rc = sg_inputs_parse(&in, cfg, diag);
	sg_inputs_free(&in);
	return rc;
}

int sg_config_parse_blob(const char *blob, size_t len, struct sg_config *cfg,
			 struct sg_diag *diag)
{
	struct sg_inputs in;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = sg_inputs_unpack(blob, len, &in);
	if (rc == -EUCLEAN)
		sg_error(diag, (struct sg_pos){"(loaded config)", 0, 0}, NULL,
			 "the stored config is corrupt");
	if (rc)
		return rc == -EUCLEAN ? -EINVAL : rc;
	rc = sg_inputs_parse(&in, cfg, diag);
	sg_inputs_free(&in);
	return rc;
}
