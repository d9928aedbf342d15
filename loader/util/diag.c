// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Diagnostics: a growing list of errors and warnings, each with its place in
 * the input, printed as "sgctl: FILE:LINE:COL: CODE: message"; and the
 * tool's own errors and warnings. Under -j all of them are JSON objects.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/diag.h"

void sg_diag_init(struct sg_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void sg_diag_free(struct sg_diag *d)
{
	size_t i;

	for (i = 0; i < d->nentries; i++) {
		free(d->entries[i].code);
		free(d->entries[i].message);
	}
	free(d->entries);
	memset(d, 0, sizeof(*d));
}

/*
 * File names live as long as the process, not the diag: a config's
 * positions point at them, and a config outlives the diag that parsed it
 * (load compiles, and reports compile errors, after parsing).
 */
static char **interned;
static size_t ninterned;

const char *sg_diag_intern(struct sg_diag *d, const char *name)
{
	char **files;
	char *copy;
	size_t i;

	(void)d;
	if (!name)
		return NULL;
	for (i = 0; i < ninterned; i++)
		if (!strcmp(interned[i], name))
			return interned[i];
	copy = strdup(name);
	if (!copy)
		return NULL;
	files = realloc(interned, (ninterned + 1) * sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	interned = files;
	interned[ninterned++] = copy;
	return copy;
}

void sg_diag_add(struct sg_diag *d, enum sg_severity sev, struct sg_pos pos,
		 const char *code, const char *fmt, ...)
{
	struct sg_diag_entry *e, *entries;
	va_list ap;
	char *msg;
	int n;

	/* Count first: even when memory runs out the caller must see a failure.
	 */
	if (sev == SG_ERROR)
		d->nerrors++;
	else if (sev == SG_WARNING)
		d->nwarnings++;
	else
		d->nnotes++;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	entries = realloc(d->entries, (d->nentries + 1) * sizeof(*entries));
	if (!entries) {
		free(msg);
		return;
	}
	d->entries = entries;
	e = &d->entries[d->nentries];
	e->severity = sev;
	e->pos = pos;
	e->message = msg;
	e->code = NULL;
	if (code) {
		e->code = strdup(code);
		if (!e->code) {
			free(msg);
			return;
		}
	}
	d->nentries++;
}

static bool json_mode;

void sg_diag_set_json(bool on)
{
	json_mode = on;
}

bool sg_diag_json(void)
{
	return json_mode;
}

void sg_diag_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* "FILE:LINE:COL: [warning: ]CODE: message", the line without "sgctl: ". */
static void entry_text(const struct sg_diag_entry *e, FILE *out)
{
	if (e->pos.file) {
		if (e->pos.line > 0 && e->pos.col > 0)
			fprintf(out, "%s:%d:%d: ", e->pos.file, e->pos.line,
				e->pos.col);
		else if (e->pos.line > 0)
			fprintf(out, "%s:%d: ", e->pos.file, e->pos.line);
		else
			fprintf(out, "%s: ", e->pos.file);
	}
	if (e->severity == SG_WARNING)
		fputs("warning: ", out);
	else if (e->severity == SG_NOTE)
		fputs("note: ", out);
	if (e->code)
		fprintf(out, "%s: ", e->code);
	fputs(e->message, out);
}

static void json_key_string(FILE *out, const char *key, const char *val)
{
	fprintf(out, "\"%s\": ", key);
	if (val)
		sg_diag_json_string(out, val);
	else
		fputs("null", out);
}

static void json_key_int(FILE *out, const char *key, int val)
{
	if (val > 0)
		fprintf(out, "\"%s\": %d", key, val);
	else
		fprintf(out, "\"%s\": null", key);
}

static const char *severity_name(enum sg_severity s)
{
	return s == SG_ERROR ? "error" : s == SG_WARNING ? "warning" : "note";
}

void sg_diag_print_json_array(const struct sg_diag *d, FILE *out)
{
	fputs("[", out);
	for (size_t i = 0; i < d->nentries; i++) {
		const struct sg_diag_entry *e = &d->entries[i];
		const char *file = e->pos.file, *sep = NULL;
		char *fcopy = NULL;

		/* A JSON input's place is "FILE: PATH" (no lines). */
		if (file && e->pos.line <= 0)
			for (const char *p = strstr(file, ": "); p;
			     p = strstr(p + 1, ": "))
				sep = p;
		if (sep)
			fcopy = strndup(file, (size_t)(sep - file));
		fputs(i ? ", {" : "{", out);
		json_key_string(out, "severity", severity_name(e->severity));
		fputs(", ", out);
		json_key_string(out, "file", fcopy ? fcopy : file);
		fputs(", ", out);
		json_key_string(out, "path", fcopy ? sep + 2 : NULL);
		fputs(", ", out);
		json_key_int(out, "line", e->pos.line);
		fputs(", ", out);
		json_key_int(out, "column", e->pos.col);
		fputs(", ", out);
		json_key_string(out, "code", e->code);
		fputs(", ", out);
		json_key_string(out, "message", e->message);
		fputs("}", out);
		free(fcopy);
	}
	fputs("]", out);
}

void sg_diag_entry_text(const struct sg_diag_entry *e, FILE *out)
{
	entry_text(e, out);
}

static void print_json(const struct sg_diag *d, FILE *out)
{
	const struct sg_diag_entry *first = NULL;
	size_t i;

	for (i = 0; i < d->nentries && !first; i++)
		if (d->entries[i].severity == SG_ERROR)
			first = &d->entries[i];
	/* Errors are the answer of a failed command: stdout, like sg_err. */
	if (d->nerrors)
		out = stdout;
	fputs("{", out);
	if (d->nerrors) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);

		if (m) {
			if (first)
				entry_text(first, m);
			else /* counted, but out of memory when added */
				fputs("out of memory", m);
			fclose(m);
		}
		json_key_string(out, "error", text ? text : "out of memory");
		fputs(", ", out);
		free(text);
	}
	fputs("\"diagnostics\": ", out);
	sg_diag_print_json_array(d, out);
	fputs("}\n", out);
	fflush(out);
}

void sg_diag_print(const struct sg_diag *d, FILE *out)
{
	size_t i;

	if (json_mode) {
		if (d->nentries || d->nerrors)
			print_json(d, out);
		return;
	}
	for (i = 0; i < d->nentries; i++) {
		fputs("sgctl: ", out);
		entry_text(&d->entries[i], out);
		fputc('\n', out);
	}
}

/*
 * Plain: "sgctl: [warning: ]message" on stderr. Under -j an error is
 * {"error": "message"} on stdout (where a script reads the answer) and a
 * warning {"warning": "message"} on stderr.
 */
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	size_t n = strlen(fmt);
	bool warning = prefix[0] != '\0';
	FILE *to = warning ? stderr : stdout;
	char *msg = NULL;

	if (!json_mode) {
		fprintf(stderr, "sgctl: %s", prefix);
		vfprintf(stderr, fmt, ap);
		/* Callers write messages without the newline, like err(3). */
		if (!n || fmt[n - 1] != '\n')
			fputc('\n', stderr);
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	n = msg ? strlen(msg) : 0;
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	fflush(stdout); /* after what the command printed already */
	fprintf(to, "{\"%s\": ", warning ? "warning" : "error");
	sg_diag_json_string(to, msg ? msg : "out of memory");
	fputs("}\n", to);
	fflush(to);
	free(msg);
}

void sg_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void sg_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

/* Which input a position is in: files[i] itself, or "files[i]: PATH". */
static size_t file_rank(const char *file, const char *const *files,
			size_t nfiles)
{
	for (size_t i = 0; file && i < nfiles; i++) {
		size_t l = strlen(files[i]);

		if (file == files[i] ||
		    (!strncmp(file, files[i], l) &&
		     (!file[l] || (file[l] == ':' && file[l + 1] == ' '))))
			return i;
	}
	return nfiles;
}

struct sort_key {
	size_t rank, i;
	int line, col;
};

static int sort_key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void sg_diag_sort(struct sg_diag *d, size_t start, const char *const *files,
		  size_t nfiles)
{
	size_t n = d->nentries - start;
	struct sg_diag_entry *tmp;
	struct sort_key *k;

	if (n < 2)
		return;
	k = calloc(n, sizeof(*k));
	tmp = calloc(n, sizeof(*tmp));
	if (k && tmp) {
		for (size_t i = 0; i < n; i++) {
			const struct sg_pos *p = &d->entries[start + i].pos;

			k[i].rank = file_rank(p->file, files, nfiles);
			k[i].line = p->line;
			k[i].col = p->col;
			k[i].i = i;
		}
		qsort(k, n, sizeof(*k), sort_key_cmp);
		for (size_t i = 0; i < n; i++)
			tmp[i] = d->entries[start + k[i].i];
		memcpy(d->entries + start, tmp, n * sizeof(*tmp));
	}
	free(k);
	free(tmp);
}
