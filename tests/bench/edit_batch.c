// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The edit alone (no datapath, no root): a save of the rule editor (2
 * adds; 1 delete + 1 add, a changed row) made one edit after another
 * (sg_edit_rule_delete / sg_edit_rule_add, each judging the whole state
 * twice) against sg_edit_rule_batch, on the first group of a config
 * file. Prints one JSON line per save and way, the median of RUNS in ms.
 *
 *   build/sgctl bench gen cp --groups 1000 --rules 60 --instances 10000 \
 *           --per-instance 1 > /tmp/big.yaml
 *   cc -O2 -Iloader -Ibuild -Iinclude tests/bench/edit_batch.c \
 *           build/libsgctl-core.a -lyaml -ljansson -o /tmp/edit_batch
 *   /tmp/edit_batch /tmp/big.yaml [RUNS]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "sgctl.h"
#include "desired/edit.h"
#include "input/inputs.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sg_rule_spec add[2] = {
		{.dir = SG_DIR_IN, .protocol = "tcp", .ports = "20001",
		 .peer = "198.51.100.0/24"},
		{.dir = SG_DIR_IN, .protocol = "tcp", .ports = "20002",
		 .peer = "198.51.100.0/24"},
	};
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct sg_input f = {0};
	struct sg_inputs in = {.files = &f, .n = 1};
	struct sg_desired d = {0};
	struct sg_config cfg;
	struct sg_diag diag;
	const char *group;
	const char *del[1];
	double t[4][64];
	FILE *fp;

	if (argc < 2 || runs < 1 || runs > 64 || !(fp = fopen(argv[1], "r")))
		return fprintf(stderr, "usage: edit_batch CONFIG [RUNS]\n"), 2;
	f.name = argv[1];
	f.text = NULL;
	{
		size_t cap = 0;
		ssize_t n = getdelim(&f.text, &cap, '\0', fp);

		f.len = n > 0 ? (size_t)n : 0;
	}
	fclose(fp);
	sg_diag_init(&diag);
	if (sg_desired_from_inputs(&in, &d, &diag) ||
	    sg_desired_validate(&d, &cfg, &diag)) {
		sg_diag_print(&diag, stderr);
		return 1;
	}
	group = cfg.groups[0].id;
	del[0] = cfg.groups[0].rules[0].id;
	for (int r = 0; r < runs; r++) {
		for (int way = 0; way < 4; way++) {
			struct sg_desired c = {json_deep_copy(d.doc)};
			int rc = 0, row;
			double t0 = now_ms();

			if (way == 0)
				for (int i = 0; i < 2 && !rc; i++)
					rc = sg_edit_rule_add(&c, group,
							      &add[i], NULL,
							      &diag);
			else if (way == 1)
				rc = sg_edit_rule_batch(&c, group, NULL, NULL,
							0, NULL, add, 2, NULL,
							&row, NULL, &diag);
			else if (way == 2)
				rc = sg_edit_rule_delete(&c, group, del[0],
							 NULL, NULL, &diag) ?:
				     sg_edit_rule_add(&c, group, &add[0], NULL,
						      &diag);
			else
				rc = sg_edit_rule_batch(&c, group, NULL, del,
							1, NULL, add, 1, NULL,
							&row, NULL, &diag);
			t[way][r] = now_ms() - t0;
			if (rc) {
				sg_diag_print(&diag, stderr);
				return 1;
			}
			sg_desired_free(&c);
		}
	}
	for (int way = 0; way < 4; way++) {
		qsort(t[way], runs, sizeof(double), cmp);
		printf("{\"save\": \"%s\", \"edit\": \"%s\", \"groups\": %zu, "
		       "\"instances\": %zu, \"runs\": %d, \"median_ms\": %.1f}\n",
		       way < 2 ? "2 adds" : "1 delete + 1 add",
		       way % 2 ? "batch" : "one_by_one", cfg.ngroups,
		       cfg.ninstances, runs, t[way][runs / 2]);
	}
	sg_config_free(&cfg);
	sg_desired_free(&d);
	sg_diag_free(&diag);
	free(f.text);
	return 0;
}
