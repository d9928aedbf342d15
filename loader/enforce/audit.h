/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `sgctl audit on|off ID`: the enforcement of a group or an instance of
 * the loaded config, changed without a new file. The change is kept in
 * the pinned sg_audit map next to the stored config, tagged with that
 * config's hash; sg_stored_config() applies it to every read-back of the
 * config (show, attach, a re-apply), and a load of another config makes
 * it void (its hash no longer matches). To keep it across loads, write
 * `enforcement: audit` in the file.
 */
#ifndef SG_AUDIT_H
#define SG_AUDIT_H

#include <stdbool.h>

#include "config/model.h"
#include "state/state.h"

/* Applies the overrides made on the live config to cfg (read back from
 * it). Quietly does nothing when there are none. */
int sg_audit_overrides_apply(struct sg_state *st, struct sg_config *cfg);

/* Records id (a group or instance of the live config) as audited or
 * enforced. The caller re-applies the config afterwards. */
int sg_audit_override_set(struct sg_state *st, const char *id, bool audit);

#endif /* SG_AUDIT_H */
