// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Enforcement overrides of the loaded config (audit.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "enforce/audit.h"
#include "util/diag.h"

static int audit_fd(struct sg_state *st)
{
	struct bpf_map *m =
		bpf_object__find_map_by_name(st->skel->obj, "sg_audit");

	return m ? bpf_map__fd(m) : -1;
}

int sg_audit_overrides_apply(struct sg_state *st, struct sg_config *cfg)
{
	struct sg_slot_key *keys = NULL;
	struct sg_audit_val *vals = NULL;
	struct sg_meta meta;
	size_t n = 0;
	int fd = audit_fd(st), err;

	if (fd < 0)
		return 0;
	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	err = sg_map_dump(fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			  (void **)&vals, &n);
	if (err) {
		sg_err("cannot read sg_audit: %s", sg_bpf_strerror(err));
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		char id[SG_ID_LEN];
		int g, in;

		if (!meta.config_hash ||
		    vals[i].config_hash != meta.config_hash)
			continue; /* made on another config */
		memcpy(id, keys[i].id, sizeof(id));
		id[sizeof(id) - 1] = '\0';
		g = sg_config_find_group(cfg, id);
		in = sg_config_find_instance(cfg, id);
		if (g >= 0)
			cfg->groups[g].audit = vals[i].audit != 0;
		if (in >= 0)
			cfg->instances[in].audit = vals[i].audit != 0;
	}
	free(keys);
	free(vals);
	return 0;
}

int sg_audit_override_set(struct sg_state *st, const char *id, bool audit)
{
	struct sg_slot_key k = {};
	struct sg_audit_val v = {.audit = audit};
	struct sg_meta meta;
	int fd = audit_fd(st), err;

	if (fd < 0) {
		sg_err("this state keeps no audit overrides; run 'sgctl "
		       "unload' and load again");
		return -ENOTSUP;
	}
	if (strlen(id) >= sizeof(k.id))
		return -ENAMETOOLONG;
	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	snprintf(k.id, sizeof(k.id), "%s", id);
	v.config_hash = meta.config_hash;
	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY)) {
		err = -errno;
		sg_err("cannot write sg_audit: %s", sg_bpf_strerror(err));
		return err;
	}
	return 0;
}
