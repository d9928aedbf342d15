// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The stored config text, in chunks of sg_blob (so show, check and
 * attach can rebuild the model the live generation came from).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/state.h"

/* ----------------------------------------------------------------- blob */

int sg_blob_store(struct sg_state *st, const char *text, size_t len)
{
	int fd = bpf_map__fd(st->skel->maps.sg_blob);
	const size_t csz = sizeof(((struct sg_blob_chunk *)0)->data);
	size_t nchunks = (len + csz - 1) / csz;
	struct sg_blob_chunk *chunk;
	struct sg_meta meta;
	int err = 0;

	if (nchunks > SG_BLOB_MAX_CHUNKS) {
		sg_err("config too large to store (%zu bytes, max %zu)", len,
		       csz * SG_BLOB_MAX_CHUNKS);
		return -E2BIG;
	}
	chunk = calloc(1, sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	for (__u32 i = 0; i < nchunks; i++) {
		size_t off = (size_t)i * csz;
		size_t n = len - off < csz ? len - off : csz;

		memset(chunk, 0, sizeof(*chunk));
		chunk->len = (__u32)n;
		memcpy(chunk->data, text + off, n);
		err = bpf_map_update_elem(fd, &i, chunk, BPF_ANY);
		if (err)
			break;
	}
	free(chunk);
	for (__u32 i = (__u32)nchunks; !err && i < SG_BLOB_MAX_CHUNKS; i++) {
		int e = bpf_map_delete_elem(fd, &i);

		if (e && e != -ENOENT)
			err = e;
	}
	if (err) {
		sg_err("cannot store the config text: %s",
		       sg_bpf_strerror(err));
		return err;
	}
	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	meta.blob_chunks = (__u32)nchunks;
	meta.blob_len = len;
	return sg_meta_write(st, &meta);
}

int sg_blob_load(struct sg_state *st, char **text, size_t *len)
{
	int fd = bpf_map__fd(st->skel->maps.sg_blob);
	struct sg_blob_chunk *chunk;
	struct sg_meta meta;
	size_t off = 0;
	char *buf;
	int err;

	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	if (!meta.loaded_at && !meta.blob_chunks)
		return -ENOENT;
	if (meta.blob_chunks > SG_BLOB_MAX_CHUNKS ||
	    meta.blob_len > (__u64)meta.blob_chunks * SG_BLOB_CHUNK) {
		sg_err("stored config is corrupt (%u chunks, %llu bytes)",
		       meta.blob_chunks, (unsigned long long)meta.blob_len);
		return -EUCLEAN;
	}
	buf = malloc(meta.blob_len + 1);
	chunk = malloc(sizeof(*chunk));
	if (!buf || !chunk) {
		free(buf);
		free(chunk);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < meta.blob_chunks; i++) {
		err = bpf_map_lookup_elem(fd, &i, chunk);
		if (err) {
			sg_err("cannot read stored config chunk %u: %s", i,
			       sg_bpf_strerror(err));
			break;
		}
		if (chunk->len > sizeof(chunk->data) ||
		    off + chunk->len > meta.blob_len) {
			sg_err("stored config is corrupt (chunk %u)", i);
			err = -EUCLEAN;
			break;
		}
		memcpy(buf + off, chunk->data, chunk->len);
		off += chunk->len;
	}
	free(chunk);
	if (!err && off != meta.blob_len) {
		sg_err("stored config is truncated (%zu of %llu bytes)", off,
		       (unsigned long long)meta.blob_len);
		err = -EUCLEAN;
	}
	if (err) {
		free(buf);
		return err;
	}
	buf[off] = '\0';
	*text = buf;
	*len = off;
	return 0;
}
