/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The config a state enforces, read back: the inputs stored in sg_blob by
 * the last load, parsed into the model again (every command that shows,
 * checks, exports or attaches works from it).
 */
#ifndef SG_STORED_H
#define SG_STORED_H

#include "config/model.h"
#include "state/state.h"
#include "util/diag.h"

/*
 * Reads the stored config of st and parses it into *cfg.
 * diag NULL: diagnostics and "the stored config no longer parses; load it
 * again" go to stderr; else they are collected in diag (already
 * initialised) and nothing is printed. Returns 0, -ENOENT (silently) when
 * nothing is stored, -EINVAL when the stored text does not parse, or
 * another negative errno (reported by the state layer). On failure *cfg
 * is empty.
 */
int sg_stored_config(struct sg_state *st, struct sg_config *cfg,
		     struct sg_diag *diag);

#endif /* SG_STORED_H */
