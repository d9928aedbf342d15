// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * export nft [--instance ID] [FILE...]: the policy as an nftables ruleset.
 *
 * Without FILE the loaded config is exported (root, like show); with FILEs
 * (YAML or AWS JSON, merged as load merges them) nothing loaded is needed.
 * -j wraps the ruleset in a JSON object.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/diag.h"
#include "compile/export_nft.h"
#include "enforce/stored.h"
#include "input/inputs.h"
#include "out/json.h"
#include "state/state.h"
#include "config/model.h"

/* The loaded config, parsed from the stored inputs. */
static int loaded_config(struct sg_config *cfg)
{
	struct sg_state st = {};
	int err;

	if (sg_need_root("export"))
		return -EPERM;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		sg_err("no config loaded; run sgctl load FILE first, or name "
		       "the FILEs to export");
		return -ENOENT;
	}
	if (sg_state_open_ro(&st, sg_opts.pin_dir))
		return -EIO;
	err = sg_stored_config(&st, cfg, NULL);
	sg_state_close(&st);
	if (err == -ENOENT)
		sg_err("no config loaded; run sgctl load FILE first, or name "
		       "the FILEs to export");
	return err;
}

static int file_config(char **files, size_t n, struct sg_config *cfg,
		       const struct sg_input_opts *io)
{
	struct sg_diag diag;
	int err;

	sg_diag_init(&diag);
	err = sg_config_parse_files_opts((const char *const *)files, n, io, cfg,
					 &diag);
	sg_diag_print(&diag, stderr);
	if (err && !diag.nerrors)
		sg_err("%s", strerror(-err));
	sg_diag_free(&diag);
	return err;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"vpc", required_argument, NULL, 'V'},
		{"quota", required_argument, NULL, 'Q'},
		{NULL, 0, NULL, 0},
	};
	struct sg_input_opts io = {};
	const char *instance = NULL, *format;
	struct sg_config cfg = {};
	char *text = NULL;
	size_t tlen = 0;
	int opt, only = -1, rc = SG_EXIT_ERR, err;
	FILE *out;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:", opts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			if (sg_input_opts_vpc(&io, optarg))
				return SG_EXIT_USAGE;
			break;
		case 'Q':
			if (sg_input_opts_quota(&io, optarg))
				return SG_EXIT_USAGE;
			break;
		case 'i':
			instance = optarg;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind >= argc)
		return sg_usage_err(argv[0], "missing FORMAT (nft)");
	format = argv[optind++];
	if (strcmp(format, "nft"))
		return sg_usage_err(argv[0], "unknown format '%s' (nft)",
				    format);

	err = optind < argc ? file_config(argv + optind,
					  (size_t)(argc - optind), &cfg, &io)
			    : loaded_config(&cfg);
	if (err)
		return SG_EXIT_ERR;
	if (instance) {
		only = sg_config_find_instance(&cfg, instance);
		if (only < 0) {
			sg_err("no instance %s in the config", instance);
			goto out;
		}
	}

	out = sg_opts.json ? open_memstream(&text, &tlen) : stdout;
	if (!out) {
		sg_err("out of memory");
		goto out;
	}
	err = sg_export_nft(&cfg, only, out);
	if (sg_opts.json)
		fclose(out);
	if (err) {
		if (err != -EINVAL)
			sg_err("cannot write the ruleset: %s", strerror(-err));
		goto out;
	}
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "format", "nft");
		sg_json_kv_string(j, "table", "inet " SG_NFT_TABLE);
		sg_json_key(j, "instances");
		sg_json_begin_array(j);
		for (size_t i = 0; i < cfg.ninstances; i++)
			if (only < 0 || (size_t)only == i)
				sg_json_string(j, cfg.instances[i].id);
		sg_json_end_array(j);
		sg_json_kv_string(j, "ruleset", text);
		sg_json_end_object(j);
		sg_json_destroy(j);
	}
	rc = SG_EXIT_OK;
out:
	free(text);
	sg_config_free(&cfg);
	return rc;
}
