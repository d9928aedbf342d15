// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading the stored config back (stored.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/stored.h"
#include "enforce/audit.h"
#include "input/inputs.h"

int sg_stored_config(struct sg_state *st, struct sg_config *cfg,
		     struct sg_diag *diag)
{
	struct sg_diag own;
	struct sg_diag *d = diag ? diag : &own;
	char *text = NULL;
	size_t len = 0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	err = sg_blob_load(st, &text, &len);
	if (err)
		return err;
	if (!diag)
		sg_diag_init(&own);
	err = sg_config_parse_blob(text, len, cfg, d);
	/* `sgctl audit on|off` made on this config (enforce/audit.h). */
	if (!err && !d->nerrors)
		err = sg_audit_overrides_apply(st, cfg);
	if (err || d->nerrors) {
		if (!diag) {
			sg_diag_print(&own, stderr);
			sg_err("the stored config no longer parses; load it "
			       "again");
		}
		err = err ? err : -EINVAL;
		sg_config_free(cfg);
	}
	if (!diag)
		sg_diag_free(&own);
	free(text);
	return err;
}
