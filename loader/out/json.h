/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small streaming JSON writer: the writer tracks nesting and commas, the
 * caller only says what comes next. One writer serves every printer (-j).
 *
 *	struct sg_json *j = sg_json_new(stdout, true);
 *	sg_json_begin_object(j);
 *	sg_json_key(j, "id");
 *	sg_json_string(j, "sg-web");
 *	sg_json_end_object(j);
 *	sg_json_destroy(j);	(ends the output with a newline)
 */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sg_json;

struct sg_json *sg_json_new(FILE *out, bool pretty);
void sg_json_destroy(struct sg_json *j);

void sg_json_begin_object(struct sg_json *j);
void sg_json_end_object(struct sg_json *j);
void sg_json_begin_array(struct sg_json *j);
void sg_json_end_array(struct sg_json *j);
void sg_json_key(struct sg_json *j, const char *key);

void sg_json_string(struct sg_json *j, const char *s); /* NULL -> null */
void sg_json_int(struct sg_json *j, int64_t v);
void sg_json_uint(struct sg_json *j, uint64_t v);
void sg_json_double(struct sg_json *j, double v);
void sg_json_bool(struct sg_json *j, bool v);
void sg_json_null(struct sg_json *j);

/* key + value in one call */
void sg_json_kv_string(struct sg_json *j, const char *key, const char *s);
void sg_json_kv_int(struct sg_json *j, const char *key, int64_t v);
void sg_json_kv_uint(struct sg_json *j, const char *key, uint64_t v);
void sg_json_kv_bool(struct sg_json *j, const char *key, bool v);

#endif /* SG_JSON_H */
