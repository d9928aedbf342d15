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

/* ---- Options ---- */

bool sg_input_opts_set(const struct sg_input_opts *o)
{
	return o->vpc[0] || o->rules_per_group || o->groups_per_instance;
}

int sg_input_opts_vpc(struct sg_input_opts *o, const char *arg)
{
	size_t n = strlen(arg);

	if (strncmp(arg, "vpc-", 4) || n < 5 || n >= sizeof(o->vpc) ||
	    strspn(arg + 4, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		    n - 4) {
		sg_err("--vpc: '%s' is not a VPC id (vpc-...)", arg);
		return -EINVAL;
	}
	memcpy(o->vpc, arg, n + 1);
	return 0;
}

/* Both quotas known: their product stays within AWS's hard limit. */
static int check_product(unsigned int rules, unsigned int groups,
			 const char *how)
{
	if (rules && groups &&
	    (unsigned long)rules * groups > SG_HARD_RULES_X_GROUPS) {
		sg_err("%s: %u rules per group x %u groups per instance = %lu, "
		       "above AWS's hard limit of %d (lower one of them)",
		       how, rules, groups, (unsigned long)rules * groups,
		       SG_HARD_RULES_X_GROUPS);
		return -EINVAL;
	}
	return 0;
}

int sg_input_opts_quota(struct sg_input_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	unsigned long v;
	char *end;
	bool rules;

	if (!eq) {
		sg_err("--quota takes NAME=N (rules_per_group=N or "
		       "groups_per_instance=N), not '%s'",
		       arg);
		return -EINVAL;
	}
	if ((size_t)(eq - arg) == 15 && !strncmp(arg, "rules_per_group", 15))
		rules = true;
	else if ((size_t)(eq - arg) == 19 &&
		 !strncmp(arg, "groups_per_instance", 19))
		rules = false;
	else {
		sg_err("--quota: unknown quota '%.*s' (expected "
		       "rules_per_group or groups_per_instance)",
		       (int)(eq - arg), arg);
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(eq + 1, &end, 10);
	if (eq[1] < '0' || eq[1] > '9' || *end || errno || v < 1 ||
	    v > (rules ? SG_HARD_RULES_X_GROUPS
		       : SG_HARD_GROUPS_PER_INSTANCE)) {
		sg_err("--quota %s: '%s' must be a number from 1 to %d "
		       "(AWS's hard limit)",
		       rules ? "rules_per_group" : "groups_per_instance",
		       eq + 1,
		       rules ? SG_HARD_RULES_X_GROUPS
			     : SG_HARD_GROUPS_PER_INSTANCE);
		return -EINVAL;
	}
	if (rules)
		o->rules_per_group = (unsigned int)v;
	else
		o->groups_per_instance = (unsigned int)v;
	return check_product(o->rules_per_group, o->groups_per_instance,
			     "--quota");
}

/* The options member of an archive: "vpc ID\nrules_per_group N\n...". */
static char *opts_text(const struct sg_input_opts *o, size_t *len)
{
	char *s = NULL;
	int n = asprintf(&s, "vpc %s\nrules_per_group %u\ngroups_per_instance %u\n",
			 o->vpc[0] ? o->vpc : "-", o->rules_per_group,
			 o->groups_per_instance);

	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return s;
}

static bool opts_read(const char *text, size_t len, struct sg_input_opts *o)
{
	char vpc[64];
	unsigned int r, g;
	char *t = strndup(text, len);
	bool ok;

	if (!t)
		return false;
	ok = sscanf(t, "vpc %63s rules_per_group %u groups_per_instance %u",
		    vpc, &r, &g) == 3;
	free(t);
	if (!ok || r > SG_HARD_RULES_X_GROUPS ||
	    g > SG_HARD_GROUPS_PER_INSTANCE)
		return false;
	memset(o, 0, sizeof(*o));
	if (strcmp(vpc, "-"))
		snprintf(o->vpc, sizeof(o->vpc), "%s", vpc);
	o->rules_per_group = r;
	o->groups_per_instance = g;
	return true;
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
	if (!rc) {
		struct sg_aws_input *ji = calloc(in->n ? in->n : 1, sizeof(*ji));
		size_t nj = 0;

		if (!ji)
			rc = -ENOMEM;
		for (size_t i = 0; i < in->n && ji; i++)
			if (file_is_json(&in->files[i]))
				ji[nj++] = (struct sg_aws_input){
					i, sg_mdoc_input_name(m, i),
					in->files[i].text, in->files[i].len};
		if (ji && nj)
			rc = sg_aws_add_all(m, ji, nj, &in->opts);
		free(ji);
	}
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
	size_t size = sizeof(ARCHIVE_MAGIC) - 1, off, olen = 0;
	char *b, *ot = NULL;

	if (in->n == 1 && !sg_input_opts_set(&in->opts) &&
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
	if (sg_input_opts_set(&in->opts)) {
		ot = opts_text(&in->opts, &olen);
		if (!ot)
			return -ENOMEM;
		size += 48 + sizeof(SG_INPUT_OPTS_NAME) + olen;
	}
	for (size_t i = 0; i < in->n; i++)
		size += 48 + strlen(in->files[i].name) + in->files[i].len;
	b = malloc(size + 1);
	if (!b) {
		free(ot);
		return -ENOMEM;
	}
	off = (size_t)sprintf(b, "%s", ARCHIVE_MAGIC);
	if (ot) {
		off += (size_t)sprintf(b + off, "%zu %zu\n%s",
				       sizeof(SG_INPUT_OPTS_NAME) - 1, olen,
				       SG_INPUT_OPTS_NAME);
		memcpy(b + off, ot, olen);
		off += olen;
		b[off++] = '\n';
		free(ot);
	}
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
		if (!in->n && nl == sizeof(SG_INPUT_OPTS_NAME) - 1 &&
		    !memcmp(p, SG_INPUT_OPTS_NAME, nl)) {
			if (!opts_read(p + nl, dl, &in->opts))
				goto corrupt;
			p += nl + dl + 1;
			continue;
		}
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
