// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The temporary state micro and control measure: a pin directory of its
 * own, never the host's, filled from generated configs by the real
 * parser, compiler and state writer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/priv.h"
#include "compile/compile.h"
#include "config/model.h"
#include "state/state.h"
#include "util/diag.h"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char bench_pin[128];

void bench_state_cleanup(void)
{
	if (bench_pin[0] && sg_state_exists(bench_pin))
		sg_state_remove(bench_pin);
	else if (bench_pin[0])
		rmdir(bench_pin);
	bench_pin[0] = '\0';
}

static void on_signal(int sig)
{
	bench_state_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

int bench_state_open(struct sg_state *st)
{
	snprintf(bench_pin, sizeof(bench_pin), "/sys/fs/bpf/sgctl-bench-%d",
		 (int)getpid());
	atexit(bench_state_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	return sg_state_open(st, bench_pin, 0, false);
}

/*
 * Instance 0 gets slot 0, the others slots 1... Member instances' own
 * addresses are left out of sg_ip (the source check of host-side
 * attachments, never read by the NIC-mode XDP measured here): 100k members
 * would not fit its 65536 entries.
 */
int bench_compile_text(const char *text, size_t len, struct sg_config *cfg,
		       struct sg_compiled *c, double *t_parse,
		       double *t_compile)
{
	struct sg_diag diag;
	double t0;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	memset(c, 0, sizeof(*c));
	sg_diag_init(&diag);
	t0 = bench_now();
	err = sg_config_parse_string("bench.yaml", text, len, cfg, &diag);
	if (t_parse)
		*t_parse = bench_now() - t0;
	t0 = bench_now();
	if (!err && !diag.nerrors)
		err = sg_compile(cfg, c, &diag);
	if (t_compile)
		*t_compile = bench_now() - t0;
	if (err || diag.nerrors) {
		sg_diag_print(&diag, stderr);
		sg_diag_free(&diag);
		sg_compiled_free(c);
		sg_config_free(cfg);
		return err ? err : -EINVAL;
	}
	sg_diag_free(&diag);
	return 0;
}

int bench_apply(struct sg_state *st, struct sg_compiled *c, bool strip_members)
{
	int *slots = calloc(c->ninsts ? c->ninsts : 1, sizeof(*slots));
	int err;

	if (!slots)
		return -ENOMEM;
	if (c->ninsts > SG_MAX_INSTANCES) {
		free(slots);
		sg_err("%zu instances: at most %d slots", c->ninsts,
		       SG_MAX_INSTANCES);
		return -E2BIG;
	}
	for (size_t i = 0; i < c->ninsts; i++) {
		slots[i] = (int)i;
		if (strip_members && i)
			c->insts[i].nips = 0;
	}
	err = sg_state_apply(st, c, slots, c->ninsts);
	free(slots);
	return err;
}
