// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The JSON writer (see json.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "out/json.h"

#define SG_JSON_MAX_DEPTH 64

struct sg_json {
	FILE *out;
	bool pretty;
	int depth;
	bool after_key; /* a key was written: the value follows without comma */
	bool nonempty[SG_JSON_MAX_DEPTH]; /* container at depth has items */
};

struct sg_json *sg_json_new(FILE *out, bool pretty)
{
	struct sg_json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->out = out;
	j->pretty = pretty;
	return j;
}

void sg_json_destroy(struct sg_json *j)
{
	if (!j)
		return;
	fputc('\n', j->out);
	fflush(j->out);
	free(j);
}

static void indent(struct sg_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Called before any value or key: comma and indentation as needed. */
static void separate(struct sg_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->nonempty[j->depth - 1])
			fputc(',', j->out);
		j->nonempty[j->depth - 1] = true;
		indent(j);
	}
}

static void open_container(struct sg_json *j, char c)
{
	separate(j);
	fputc(c, j->out);
	if (j->depth < SG_JSON_MAX_DEPTH)
		j->nonempty[j->depth] = false;
	j->depth++;
}

static void close_container(struct sg_json *j, char c)
{
	bool had_items = false;

	if (j->depth > 0) {
		j->depth--;
		had_items =
			j->depth < SG_JSON_MAX_DEPTH && j->nonempty[j->depth];
	}
	if (had_items)
		indent(j);
	fputc(c, j->out);
}

void sg_json_begin_object(struct sg_json *j)
{
	open_container(j, '{');
}

void sg_json_end_object(struct sg_json *j)
{
	close_container(j, '}');
}

void sg_json_begin_array(struct sg_json *j)
{
	open_container(j, '[');
}

void sg_json_end_array(struct sg_json *j)
{
	close_container(j, ']');
}

static void write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out); /* UTF-8 passes through */
		}
	}
	fputc('"', out);
}

void sg_json_key(struct sg_json *j, const char *key)
{
	separate(j);
	write_escaped(j->out, key);
	fputs(j->pretty ? ": " : ":", j->out);
	j->after_key = true;
}

void sg_json_string(struct sg_json *j, const char *s)
{
	separate(j);
	if (s)
		write_escaped(j->out, s);
	else
		fputs("null", j->out);
}

void sg_json_int(struct sg_json *j, int64_t v)
{
	separate(j);
	fprintf(j->out, "%" PRId64, v);
}

void sg_json_uint(struct sg_json *j, uint64_t v)
{
	separate(j);
	fprintf(j->out, "%" PRIu64, v);
}

void sg_json_double(struct sg_json *j, double v)
{
	separate(j);
	if (isfinite(v))
		fprintf(j->out, "%.17g", v);
	else
		fputs("null", j->out);
}

void sg_json_bool(struct sg_json *j, bool v)
{
	separate(j);
	fputs(v ? "true" : "false", j->out);
}

void sg_json_null(struct sg_json *j)
{
	separate(j);
	fputs("null", j->out);
}

void sg_json_kv_string(struct sg_json *j, const char *key, const char *s)
{
	sg_json_key(j, key);
	sg_json_string(j, s);
}

void sg_json_kv_int(struct sg_json *j, const char *key, int64_t v)
{
	sg_json_key(j, key);
	sg_json_int(j, v);
}

void sg_json_kv_uint(struct sg_json *j, const char *key, uint64_t v)
{
	sg_json_key(j, key);
	sg_json_uint(j, v);
}

void sg_json_kv_bool(struct sg_json *j, const char *key, bool v)
{
	sg_json_key(j, key);
	sg_json_bool(j, v);
}
