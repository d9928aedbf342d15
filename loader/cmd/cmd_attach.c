// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* attach, detach. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "state/skel.h"

#include "enforce/apply.h"
#include "enforce/attach.h"
#include "enforce/plan.h"
#include "enforce/stored.h"
#include "cmd/cmd.h"
#include "util/diag.h"
#include "input/inputs.h"
#include "out/json.h"
#include "state/state.h"
#include "config/model.h"

/*
 * Opens the state read-write without programs and parses its stored
 * config into cfg, or says nothing is loaded (st closed then).
 */
static int open_loaded(struct sg_state *st, struct sg_config *cfg)
{
	struct sg_meta meta;
	int err;

	if (!sg_state_exists(sg_opts.pin_dir)) {
		sg_err("no config loaded; run sgctl load FILE first");
		return -ENOENT;
	}
	if (sg_state_open(st, sg_opts.pin_dir, -1, false))
		return -EIO;
	err = sg_meta_read(st, &meta) ? -EIO : 0;
	if (!err && !meta.loaded_at)
		err = -ENOENT;
	if (!err)
		err = sg_stored_config(st, cfg, NULL);
	if (err == -ENOENT)
		sg_err("no config loaded; run sgctl load FILE first");
	if (err)
		sg_state_close(st);
	return err;
}

/*
 * The slot of instance idx of the stored config cfg; an instance this
 * host does not enforce yet gets one, its policy compiled in as a new
 * generation (tracked flows and other instances are untouched).
 */
static int enforce_slot(struct sg_state *st, struct sg_config *cfg, int idx)
{
	const char *id = cfg->instances[idx].id;
	struct sg_apply_req req = {.label = "the loaded config", .extra = id};
	struct sg_apply_result res;
	int slot, err;

	slot = sg_slot_get(st, id, false);
	if (slot != -ENOENT)
		return slot;
	err = sg_enforce_apply(st, cfg, &req, &res);
	if (err)
		return err;
	return sg_slot_get(st, id, false);
}

enum { OPT_HOST_SIDE = 0x100, OPT_XDP_MODE, OPT_ALL };

/*
 * attach --all: every instance of the loaded config that names its
 * interface and whose `host` (when it has one) is this machine, in its
 * `netns` (else the current namespace or --netns), host-side when it says
 * `host_side` or --host-side is given. What sgctl.service runs at boot.
 */
static int attach_all(const char *netns_opt, bool side_opt, bool generic)
{
	struct sg_config cfg = {};
	struct sg_state st = {};
	struct sg_json *j = NULL;
	size_t n = 0, failed = 0;
	int lock, slot, rc = SG_EXIT_ERR;

	if (sg_need_root("attach"))
		return SG_EXIT_ERR;
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0)
		return SG_EXIT_ERR;
	if (open_loaded(&st, &cfg))
		goto out;
	sg_state_close(&st);
	if (sg_opts.json) {
		j = sg_json_new(stdout, true);
		sg_json_begin_object(j);
		sg_json_key(j, "attached");
		sg_json_begin_array(j);
	}
	for (size_t i = 0; i < cfg.ninstances; i++) {
		const struct sg_instance *in = &cfg.instances[i];
		const char *netns = in->netns ? in->netns : netns_opt;
		bool host_side = in->host_side || side_opt;
		struct sg_attach_req req = {};
		int err;

		/* filtered: false: AWS enforces nothing there either. */
		if (!in->interface || in->unfiltered ||
		    !sg_plan_host_is_here(in->host))
			continue;
		n++;
		if (sg_state_open(&st, sg_opts.pin_dir, -1, false)) {
			failed++;
			continue;
		}
		slot = sg_slot_get(&st, in->id, false);
		sg_state_close(&st);
		if (slot < 0) {
			if (slot == -ENOENT)
				sg_err("instance %s has no slot; load the "
				       "config again",
				       in->id);
			failed++;
			continue;
		}
		if (sg_state_open(&st, sg_opts.pin_dir, slot, host_side)) {
			failed++;
			continue;
		}
		req.ifname = in->interface;
		req.netns = netns;
		req.instance = in->id;
		req.slot = (__u32)slot;
		req.host_side = host_side;
		req.xdp_generic = generic;
		err = sg_attach(&st, &req);
		sg_state_close(&st);
		if (err) {
			failed++;
			continue;
		}
		if (j) {
			sg_json_begin_object(j);
			sg_json_kv_string(j, "interface", in->interface);
			sg_json_kv_string(j, "netns", netns ? netns : "");
			sg_json_kv_string(j, "instance", in->id);
			sg_json_kv_uint(j, "slot", (unsigned)slot);
			sg_json_kv_string(j, "mode",
					  host_side ? "host-side" : "nic");
			sg_json_kv_string(j, "xdp_mode",
					  generic ? "generic" : "native");
			sg_json_end_object(j);
		} else {
			printf("attached %s%s%s: instance %s (slot %d), %s "
			       "mode, XDP %s\n",
			       in->interface, netns ? " in netns " : "",
			       netns ? netns : "", in->id, slot,
			       host_side ? "host-side" : "nic",
			       generic ? "generic" : "native");
		}
	}
	if (j) {
		sg_json_end_array(j);
		sg_json_kv_uint(j, "failed", failed);
		sg_json_end_object(j);
		sg_json_destroy(j);
	}
	if (!n)
		sg_warnx("no instance of the loaded config names an "
			 "interface on this host: nothing to attach");
	rc = failed ? SG_EXIT_ERR : SG_EXIT_OK;
out:
	sg_state_close(&st);
	sg_config_free(&cfg);
	close(lock);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"netns", required_argument, NULL, 'n'},
		{"host-side", no_argument, NULL, OPT_HOST_SIDE},
		{"xdp-mode", required_argument, NULL, OPT_XDP_MODE},
		{"all", no_argument, NULL, OPT_ALL},
		{NULL, 0, NULL, 0},
	};
	const char *instance = NULL, *netns = NULL, *ifname;
	bool host_side = false, generic = false, all = false;
	struct sg_attach_req req = {};
	struct sg_config cfg = {};
	struct sg_state st = {};
	int opt, idx, slot, lock, rc = SG_EXIT_ERR;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			instance = optarg;
			break;
		case 'n':
			netns = optarg;
			break;
		case OPT_HOST_SIDE:
			host_side = true;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "native") || !strcmp(optarg, "drv"))
				generic = false;
			else if (!strcmp(optarg, "generic") ||
				 !strcmp(optarg, "skb"))
				generic = true;
			else
				return sg_usage_err(argv[0],
						    "--xdp-mode: '%s' is not "
						    "native or generic",
						    optarg);
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	ifname = optind < argc ? argv[optind] : NULL;
	if (all && (ifname || instance))
		return sg_usage_err(argv[0], "--all takes no IFACE and no "
					     "--instance");
	if (all)
		return attach_all(netns, host_side, generic);
	if (optind + 1 < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind + 1]);
	if (!ifname)
		return sg_usage_err(argv[0], "missing IFACE");
	if (!*ifname)
		return sg_usage_err(argv[0], "IFACE is empty");
	if (strlen(ifname) >= SG_IFNAME_LEN)
		return sg_usage_err(argv[0], "interface name '%s' too long",
				    ifname);

	if (sg_need_root("attach"))
		return SG_EXIT_ERR;
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0)
		return SG_EXIT_ERR;
	if (open_loaded(&st, &cfg))
		goto out;

	/* Which instance: named, or the one whose interface is IFACE. */
	if (instance) {
		idx = sg_config_find_instance(&cfg, instance);
		if (idx < 0) {
			sg_err("no instance %s in the loaded config", instance);
			goto out;
		}
	} else {
		idx = -1;
		for (size_t i = 0; i < cfg.ninstances; i++) {
			const char *itf = cfg.instances[i].interface;

			if (!itf || strcmp(itf, ifname))
				continue;
			if (idx >= 0) {
				sg_err("instances %s and %s both name "
				       "interface %s; choose one with "
				       "--instance ID",
				       cfg.instances[idx].id,
				       cfg.instances[i].id, ifname);
				goto out;
			}
			idx = (int)i;
		}
		if (idx < 0) {
			sg_err("no instance of the loaded config has interface "
			       "%s; name one with --instance ID",
			       ifname);
			goto out;
		}
	}
	instance = cfg.instances[idx].id;
	if (cfg.instances[idx].unfiltered) {
		sg_err("%s has no security group (AWS's Groups: [], as for a "
		       "NAT gateway): AWS filters none of its traffic, so "
		       "there is nothing to enforce on %s",
		       instance, ifname);
		goto out;
	}
	slot = enforce_slot(&st, &cfg, idx);
	if (slot < 0)
		goto out;

	/* Reopen with the programs built for this slot and direction. */
	sg_state_close(&st);
	if (sg_state_open(&st, sg_opts.pin_dir, slot, host_side))
		goto out;
	req.ifname = ifname;
	req.netns = netns;
	req.instance = instance;
	req.slot = (__u32)slot;
	req.host_side = host_side;
	req.xdp_generic = generic;
	if (sg_attach(&st, &req))
		goto out;

	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "interface", ifname);
		sg_json_kv_string(j, "netns", netns ? netns : "");
		sg_json_kv_string(j, "instance", instance);
		sg_json_kv_uint(j, "slot", (unsigned)slot);
		sg_json_kv_string(j, "mode", host_side ? "host-side" : "nic");
		sg_json_kv_string(j, "xdp_mode",
				  generic ? "generic" : "native");
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("attached %s%s%s: instance %s (slot %d), %s mode, XDP "
		       "%s\n",
		       ifname, netns ? " in netns " : "", netns ? netns : "",
		       instance, slot, host_side ? "host-side" : "nic",
		       generic ? "generic" : "native");
	}
	rc = SG_EXIT_OK;
out:
	sg_state_close(&st);
	sg_config_free(&cfg);
	close(lock);
	return rc;
}

static void print_detach(const char *ifname, const char *netns,
			 const struct sg_detach_result *r)
{
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "interface", ifname);
		sg_json_kv_string(j, "netns", netns ? netns : "");
		sg_json_kv_bool(j, "detached", r->detached > 0);
		sg_json_kv_uint(j, "stale_records_removed", r->forgot);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else if (r->detached) {
		printf("detached %s%s%s\n", ifname, netns ? " in netns " : "",
		       netns ? netns : "");
	} else {
		printf("%s%s%s is not filtered: removed its stale attachment "
		       "record\n",
		       ifname, netns ? " in netns " : "", netns ? netns : "");
	}
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{"netns", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	const char *netns = NULL, *ifname = NULL;
	struct sg_detach_result r;
	struct sg_state st;
	struct sg_owner owner;
	int opt, lock, rc = SG_EXIT_ERR;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			netns = optarg;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind >= argc)
		return sg_usage_err(argv[0], "missing IFACE");
	if (optind + 1 < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind + 1]);
	ifname = argv[optind];
	if (!*ifname)
		return sg_usage_err(argv[0], "IFACE is empty");

	if (sg_need_root("detach"))
		return SG_EXIT_ERR;
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0)
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		/* Programs whose state is gone are still worth a word. */
		if (!sg_attach_orphans(ifname, netns))
			sg_err("%s is not attached (no config loaded)", ifname);
		goto out_lock;
	}
	if (sg_state_open(&st, sg_opts.pin_dir, -1, false))
		goto out_lock;
	if (!sg_owner_of_state(&owner, &st) &&
	    !sg_detach(&owner, ifname, netns, &r)) {
		rc = SG_EXIT_OK;
		print_detach(ifname, netns, &r);
	}
	sg_state_close(&st);
out_lock:
	close(lock);
	return rc;
}
