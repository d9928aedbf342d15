/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Diagnostics: errors and warnings collected with their place in the input,
 * printed as "sgctl: FILE:LINE:COL: CODE: message".
 */
#ifndef SG_DIAG_H
#define SG_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sg_pos {
	const char *file; /* owned by the diag (interned), or a literal */
	int line; /* 1-based; 0 = unknown */
	int col; /* 1-based; 0 = unknown */
};

enum sg_severity {
	SG_ERROR,
	SG_WARNING,
	SG_NOTE, /* what the input means, told once; neither error nor warning */
};

struct sg_diag_entry {
	enum sg_severity severity;
	struct sg_pos pos;
	char *code; /* "InvalidPermission.Malformed", or NULL */
	char *message;
};

struct sg_diag {
	struct sg_diag_entry *entries;
	size_t nentries;
	size_t nerrors;
	size_t nwarnings;
	size_t nnotes;
};

void sg_diag_init(struct sg_diag *d);
void sg_diag_free(struct sg_diag *d);
/* Returns a copy of name that lives as long as the process. */
const char *sg_diag_intern(struct sg_diag *d, const char *name);

__attribute__((format(printf, 5, 6))) void
sg_diag_add(struct sg_diag *d, enum sg_severity sev, struct sg_pos pos,
	    const char *code, const char *fmt, ...);
#define sg_error(d, pos, code, ...) sg_diag_add(d, SG_ERROR, pos, code, __VA_ARGS__)
#define sg_warn(d, pos, ...) sg_diag_add(d, SG_WARNING, pos, NULL, __VA_ARGS__)
#define sg_note(d, pos, ...) sg_diag_add(d, SG_NOTE, pos, NULL, __VA_ARGS__)

/*
 * Prints every entry, in order, one line each. Under -j (sg_diag_set_json)
 * the entries become one JSON object instead: with errors, on stdout,
 *   {"error": "<the first error's line>", "diagnostics": [...]}
 * and with warnings only, on out, {"diagnostics": [...]}; each diagnostic is
 * {"severity", "file", "line", "column", "code", "message"} (null when
 * unknown).
 */
void sg_diag_print(const struct sg_diag *d, FILE *out);

/*
 * The entries as a JSON array on out, each {"severity", "file", "path",
 * "line", "column", "code", "message"}: path is the JSON path of an AWS
 * input ("SecurityGroups[0].IpPermissions[1]"), line and column those of
 * YAML; null when unknown. For -j validate's one object.
 */
void sg_diag_print_json_array(const struct sg_diag *d, FILE *out);
/* One entry as its text line, without "sgctl: " and newline. */
void sg_diag_entry_text(const struct sg_diag_entry *e, FILE *out);

/*
 * -j: errors and warnings of the tool become JSON objects, as bpftool does:
 * sg_err prints {"error": "message"} on stdout, sg_warnx {"warning":
 * "message"} on stderr. Set once by main() before a command runs.
 */
void sg_diag_set_json(bool on);
bool sg_diag_json(void);
/* s as a JSON string, quoted and escaped (UTF-8 passes through). */
void sg_diag_json_string(FILE *out, const char *s);

/* Plain errors of the tool itself: "sgctl: message" on stderr. */
__attribute__((format(printf, 1, 2))) void sg_err(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void sg_warnx(const char *fmt, ...);

/*
 * Puts the entries from start on in reading order, stably: by input (the
 * position's file is files[i], or "files[i]: PATH" for JSON; any other
 * file after them all), then line, then column. With no files, by line
 * and column. Passes that run in several orders call it when done.
 */
void sg_diag_sort(struct sg_diag *d, size_t start, const char *const *files,
		  size_t nfiles);

#endif /* SG_DIAG_H */
