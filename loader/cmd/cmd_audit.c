// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * audit on|off ID: a group's or an instance's enforcement in the loaded
 * config. On: new flows no rule allows pass untracked, are counted as
 * audit_would_drop and logged as REJECT with ${audit} AUDIT. An instance
 * is audited when it or any of its groups is. The override is kept next
 * to the stored config (enforce/audit.h) and the config re-applied
 * through sg_enforce_apply, as attach does; it holds until another
 * config is loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/model.h"
#include "enforce/apply.h"
#include "enforce/audit.h"
#include "enforce/stored.h"
#include "out/json.h"
#include "state/state.h"
#include "util/diag.h"

int cmd_audit(int argc, char **argv)
{
	struct sg_config cfg = {};
	struct sg_state st = {};
	struct sg_apply_req req = {.label = "the loaded config"};
	struct sg_apply_result res;
	struct sg_meta meta;
	const char *id;
	bool on;
	int lock, rc = SG_EXIT_ERR, g, in;

	if (argc != 3 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return sg_usage_err(argv[0], "expected on|off and a group or "
					     "instance id");
	on = !strcmp(argv[1], "on");
	id = argv[2];
	if (sg_need_root(argv[0]))
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		sg_err("audit: no config loaded; run sgctl load FILE first");
		return SG_EXIT_ERR;
	}
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0)
		return SG_EXIT_ERR;
	if (sg_state_open(&st, sg_opts.pin_dir, -1, false))
		goto out_lock;
	if (sg_meta_read(&st, &meta) || !meta.loaded_at) {
		sg_err("audit: no config loaded; run sgctl load FILE first");
		goto out;
	}
	if (sg_stored_config(&st, &cfg, NULL))
		goto out;
	g = sg_config_find_group(&cfg, id);
	in = sg_config_find_instance(&cfg, id);
	if (g < 0 && in < 0) {
		sg_err("audit: %s: no group or instance %s in the loaded "
		       "config",
		       strncmp(id, "sg-", 3) ? "InvalidParameterValue"
					     : "InvalidGroup.NotFound",
		       id);
		goto out;
	}
	if (sg_audit_override_set(&st, id, on))
		goto out;
	/* The config again, with the override applied, enforced anew. */
	sg_config_free(&cfg);
	if (sg_stored_config(&st, &cfg, NULL) ||
	    sg_enforce_apply(&st, &cfg, &req, &res))
		goto out;
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "id", id);
		sg_json_kv_string(j, "enforcement", on ? "audit" : "enforce");
		sg_json_kv_uint(j, "generation", res.gen);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("%s: enforcement %s%s\n", id, on ? "audit" : "enforce",
		       on ? " (would-be drops pass, counted as "
			    "audit_would_drop)"
			  : "");
	}
	rc = SG_EXIT_OK;
out:
	sg_config_free(&cfg);
	sg_state_close(&st);
out_lock:
	close(lock);
	return rc;
}
