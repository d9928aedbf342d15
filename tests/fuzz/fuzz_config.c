// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: sg_config_parse_string() (YAML, AWS JSON and stored
 * archives all enter there), then, for a config that validates, the
 * compiler and the diagnostics printer. Any crash, leak, undefined
 * behaviour or hang (libFuzzer -timeout) is a bug.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "util/diag.h"
#include "config/model.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_config cfg;
	struct sg_compiled c;
	struct sg_diag diag;
	char *text;
	int rc;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	/* Not NUL-terminated, exactly sized: overreads are caught. */
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	memset(&cfg, 0, sizeof(cfg));
	sg_diag_init(&diag);
	rc = sg_config_parse_string("fuzz.yaml", text, size, &cfg, &diag);
	if (!rc) {
		memset(&c, 0, sizeof(c));
		if (!sg_compile(&cfg, &c, &diag))
			sg_compiled_free(&c);
		sg_config_free(&cfg);
	} else if (rc != -EINVAL && rc != -ENOMEM && rc != -E2BIG) {
		fprintf(stderr, "fuzz_config: unexpected return %d\n", rc);
		abort();
	}
	if (devnull)
		sg_diag_print(&diag, devnull);
	if (rc == -EINVAL && !diag.nerrors) {
		fprintf(stderr, "fuzz_config: failed without an error\n");
		abort();
	}
	sg_diag_free(&diag);
	free(text);
	return 0;
}
