// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The input files (see inputs.h): read, told apart (YAML or AWS JSON),
 * composed into one document, and stored as one blob.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "input/aws.h"
#include "input/document.h"
#include "input/inputs.h"
#include "input/yaml.h"

#define ARCHIVE_MAGIC "sgctl-inputs 1\n"

/* ---- Reading ---- */

static int read_all(FILE *f, char **text, size_t *len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL, *nb;
	struct stat st;

	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode))
		return -EISDIR;
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SG_INPUT_MAX_SIZE + 1)
				cap = SG_INPUT_MAX_SIZE + 1;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > SG_INPUT_MAX_SIZE) {
			free(buf);
			return -EFBIG;
		}
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				return -EIO;
			}
			break;
		}
	}
	if (!buf)
		buf = malloc(1);
	if (!buf)
		return -ENOMEM;
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int sg_inputs_read(const char *const *paths, size_t n, struct sg_inputs *in,
		   struct sg_diag *diag)
{
	bool had_stdin = false;
	int rc = 0;

	memset(in, 0, sizeof(*in));
	in->files = calloc(n ? n : 1, sizeof(*in->files));
	if (!in->files)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool use_stdin = !strcmp(paths[i], "-");
		struct sg_input *f = &in->files[in->n];
		const char *name = use_stdin ? "<stdin>" : paths[i];
		struct sg_pos pos = {sg_diag_intern(diag, name), 0, 0};
		FILE *fp;
		int err;

		if (use_stdin && had_stdin) {
			sg_error(diag, pos, NULL,
				 "stdin can be read only once");
			rc = -EINVAL;
			continue;
		}
		had_stdin |= use_stdin;
		fp = use_stdin ? stdin : fopen(paths[i], "rb");
		if (!fp) {
			err = -errno;
		} else {
			err = read_all(fp, &f->text, &f->len);
			if (!use_stdin)
				fclose(fp);
		}
		if (err == -EFBIG) {
			sg_error(diag, pos, NULL, "larger than %u MiB",
				 SG_INPUT_MAX_SIZE >> 20);
		} else if (err) {
			sg_error(diag, pos, NULL, "%s", strerror(-err));
		} else {
			f->name = strdup(name);
			if (!f->name) {
				free(f->text);
				err = -ENOMEM;
			} else {
				in->n++;
			}
		}
		if (err && !rc)
			rc = err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	if (rc)
		sg_inputs_free(in);
	return rc;
}

void sg_inputs_free(struct sg_inputs *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++) {
		free(in->files[i].name);
		free(in->files[i].text);
	}
	free(in->files);
	memset(in, 0, sizeof(*in));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

bool sg_input_is_json(const char *name, const char *text, size_t len)
{
	size_t i = 0;

	if (name && ends_with(name, ".json"))
		return true;
	if (name && (ends_with(name, ".yaml") || ends_with(name, ".yml")))
		return false;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\n' || text[i] == '\r'))
		i++;
	return i < len && (text[i] == '{' || text[i] == '[');
}

/* ---- One document ---- */

static bool file_is_json(const struct sg_input *f)
{
	return sg_input_is_json(f->name, f->text, f->len);
}

int sg_inputs_compose(const struct sg_inputs *in, struct sg_diag *diag,
		      struct sg_mdoc **out)
{
	struct sg_mdoc *m;
	int rc = 0;

	*out = NULL;
	m = sg_mdoc_new(diag, in->n);
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < in->n && !rc; i++)
		if (!sg_mdoc_set_input(m, i, in->files[i].name,
				       file_is_json(&in->files[i])))
			rc = -ENOMEM;
	/* YAML first: JSON rules may name the prefix lists it defines. */
	for (size_t i = 0; i < in->n && !rc; i++)
		if (!file_is_json(&in->files[i]))
			rc = sg_mdoc_add_yaml(m, i, in->files[i].text,
					      in->files[i].len);
	for (size_t i = 0; i < in->n && !rc; i++)
		if (file_is_json(&in->files[i]))
			rc = sg_aws_add(m, i, sg_mdoc_input_name(m, i),
					in->files[i].text, in->files[i].len);
	if (!rc)
		rc = sg_mdoc_status(m);
	if (rc) {
		sg_mdoc_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- The stored form ---- */

int sg_inputs_pack(const struct sg_inputs *in, char **blob, size_t *len)
{
	size_t size = sizeof(ARCHIVE_MAGIC) - 1, off;
	char *b;

	if (in->n == 1 &&
	    !sg_input_is_json(in->files[0].name, in->files[0].text,
			      in->files[0].len)) {
		b = malloc(in->files[0].len + 1);
		if (!b)
			return -ENOMEM;
		memcpy(b, in->files[0].text, in->files[0].len);
		b[in->files[0].len] = '\0';
		*blob = b;
		*len = in->files[0].len;
		return 0;
	}
	for (size_t i = 0; i < in->n; i++)
		size += 48 + strlen(in->files[i].name) + in->files[i].len;
	b = malloc(size + 1);
	if (!b)
		return -ENOMEM;
	off = (size_t)sprintf(b, "%s", ARCHIVE_MAGIC);
	for (size_t i = 0; i < in->n; i++) {
		const struct sg_input *f = &in->files[i];
		size_t nl = strlen(f->name);

		off += (size_t)sprintf(b + off, "%zu %zu\n", nl, f->len);
		memcpy(b + off, f->name, nl);
		off += nl;
		memcpy(b + off, f->text, f->len);
		off += f->len;
		b[off++] = '\n';
	}
	b[off] = '\0';
	*blob = b;
	*len = off;
	return 0;
}

static bool take_size(const char **p, const char *end, char stop, size_t *v)
{
	size_t x = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (SIZE_MAX - 9) / 10)
			return false;
		x = x * 10 + (size_t)(*s - '0');
	}
	if (s >= end || *s != stop)
		return false;
	*p = s + 1;
	*v = x;
	return true;
}

bool sg_inputs_is_archive(const char *blob, size_t len)
{
	const size_t ml = sizeof(ARCHIVE_MAGIC) - 1;

	return len >= ml && !memcmp(blob, ARCHIVE_MAGIC, ml);
}

int sg_inputs_unpack(const char *blob, size_t len, struct sg_inputs *in)
{
	const size_t ml = sizeof(ARCHIVE_MAGIC) - 1;
	const char *p = blob, *end = blob + len;
	size_t cap = 0;

	memset(in, 0, sizeof(*in));
	if (!sg_inputs_is_archive(blob, len)) {
		in->files = calloc(1, sizeof(*in->files));
		if (!in->files)
			return -ENOMEM;
		in->files[0].name = strdup("(loaded config)");
		in->files[0].text = malloc(len + 1);
		if (!in->files[0].name || !in->files[0].text) {
			free(in->files[0].name);
			free(in->files[0].text);
			free(in->files);
			in->files = NULL;
			return -ENOMEM;
		}
		memcpy(in->files[0].text, blob, len);
		in->files[0].text[len] = '\0';
		in->files[0].len = len;
		in->n = 1;
		return 0;
	}
	p += ml;
	while (p < end) {
		size_t nl, dl;
		struct sg_input *f;

		if (!take_size(&p, end, ' ', &nl) ||
		    !take_size(&p, end, '\n', &dl) || (size_t)(end - p) < nl ||
		    (size_t)(end - p) - nl < dl + 1 || p[nl + dl] != '\n')
			goto corrupt;
		if (in->n == cap) {
			struct sg_input *nf;

			cap = cap ? cap * 2 : 4;
			nf = realloc(in->files, cap * sizeof(*nf));
			if (!nf)
				goto oom;
			in->files = nf;
		}
		f = &in->files[in->n];
		f->name = strndup(p, nl);
		f->text = malloc(dl + 1);
		if (!f->name || !f->text) {
			free(f->name);
			free(f->text);
			goto oom;
		}
		memcpy(f->text, p + nl, dl);
		f->text[dl] = '\0';
		f->len = dl;
		in->n++;
		p += nl + dl + 1;
	}
	if (!in->n)
		goto corrupt;
	return 0;
corrupt:
	sg_inputs_free(in);
	return -EUCLEAN;
oom:
	sg_inputs_free(in);
	return -ENOMEM;
}
