// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the per-host limits validate and load check before
 * compiling (sg_compile_limits, loader/compile/compile.c): a map holds two
 * generations, so one generation may use half of it, and what goes past
 * that is refused with the limit named rather than loaded once.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"

static struct sg_config *instances(size_t n, size_t ips_each)
{
	struct sg_config *cfg = calloc(1, sizeof(*cfg));

	cr_assert_not_null(cfg);
	cfg->instances = calloc(n, sizeof(*cfg->instances));
	cr_assert_not_null(cfg->instances);
	cfg->ninstances = n;
	for (size_t i = 0; i < n; i++)
		cfg->instances[i].nips = ips_each;
	return cfg;
}

static void done(struct sg_config *cfg)
{
	free(cfg->instances);
	free(cfg);
}

static int limits(const struct sg_config *cfg, char *msg, size_t len)
{
	struct sg_diag diag;
	int err;

	sg_diag_init(&diag);
	err = sg_compile_limits(cfg, &diag);
	msg[0] = '\0';
	if (diag.nentries)
		snprintf(msg, len, "%s", diag.entries[0].message);
	cr_expect_eq(diag.nerrors, err ? 1u : 0u);
	sg_diag_free(&diag);
	return err;
}

Test(limits, slots)
{
	struct sg_config *cfg = instances(SG_MAX_INSTANCES + 1, 1);
	char msg[512];

	cr_expect_eq(limits(cfg, msg, sizeof(msg)), -E2BIG);
	cr_expect(strstr(msg, "4096 instance slots"), "%s", msg);
	/* Remote instances take no slot: a VPC larger than the slots. */
	cfg->instances[0].remote = true;
	cr_expect_eq(limits(cfg, msg, sizeof(msg)), 0, "%s", msg);
	done(cfg);
}

Test(limits, instance_addresses)
{
	/* 32768 addresses: one generation's half of sg_ip, exactly. */
	struct sg_config *cfg = instances(SG_IP_MAX_PER_GEN / 8, 8);
	char msg[512];

	cr_expect_eq(limits(cfg, msg, sizeof(msg)), 0, "%s", msg);
	cfg->instances[0].nips++;
	cr_expect_eq(limits(cfg, msg, sizeof(msg)), -E2BIG);
	cr_expect(strstr(msg, "more than 32768 instance addresses (limit: "
			      "sg_ip holds two generations of 32768)"),
		  "%s", msg);
	/* A remote instance's addresses are not in sg_ip. */
	cfg->instances[0].remote = true;
	cr_expect_eq(limits(cfg, msg, sizeof(msg)), 0, "%s", msg);
	done(cfg);
}
