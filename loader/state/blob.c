// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The stored config text, in chunks of sg_blob (so show, check and
 * attach can rebuild the model the live generation came from): one copy
 * per generation, at keys SG_BLOB_KEY(gen, i), described by
 * sg_meta[SG_META_GEN(gen)]. A load writes the inactive generation's copy
 * before its flip, so the live generation's copy is never half written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/internal.h"
#include "state/state.h"

#define CHUNK_DATA (sizeof(((struct sg_blob_chunk *)0)->data))

int sg_blob_store_gen(struct sg_state *st, __u32 gen, const char *text,
		      size_t len, __u64 hash)
{
	return sg_blob_store_gen_over(st, gen, text, len, hash,
				      SG_BLOB_MAX_CHUNKS);
}

int sg_blob_store_gen_over(struct sg_state *st, __u32 gen, const char *text,
			   size_t len, __u64 hash, __u32 old_chunks)
{
	int fd = bpf_map__fd(st->skel->maps.sg_blob);
	size_t nchunks = (len + CHUNK_DATA - 1) / CHUNK_DATA;
	struct sg_blob_chunk *chunk;
	struct sg_meta meta = {};
	int err = 0;

	if (nchunks > SG_BLOB_MAX_CHUNKS) {
		sg_err("config too large to store (%zu bytes, max %zu)", len,
		       CHUNK_DATA * SG_BLOB_MAX_CHUNKS);
		return -E2BIG;
	}
	chunk = calloc(1, sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	for (__u32 i = 0; i < nchunks; i++) {
		size_t off = (size_t)i * CHUNK_DATA;
		size_t n = len - off < CHUNK_DATA ? len - off : CHUNK_DATA;
		__u32 key = SG_BLOB_KEY(gen, i);

		memset(chunk, 0, sizeof(*chunk));
		chunk->len = (__u32)n;
		memcpy(chunk->data, text + off, n);
		err = bpf_map_update_elem(fd, &key, chunk, BPF_ANY);
		if (err)
			break;
	}
	free(chunk);
	if (old_chunks > SG_BLOB_MAX_CHUNKS)
		old_chunks = SG_BLOB_MAX_CHUNKS;
	for (__u32 i = (__u32)nchunks; !err && i < old_chunks; i++) {
		__u32 key = SG_BLOB_KEY(gen, i);
		int e = bpf_map_delete_elem(fd, &key);

		if (e && e != -ENOENT)
			err = e;
	}
	if (err) {
		sg_err("cannot store the config text: %s",
		       sg_bpf_strerror(err));
		return err;
	}
	meta.config_hash = hash;
	meta.gen = gen & 1;
	meta.blob_chunks = (__u32)nchunks;
	meta.blob_len = len;
	meta.loaded_at = (__u64)time(NULL);
	return sg_meta_put(st, SG_META_GEN(gen), &meta);
}

int sg_blob_store(struct sg_state *st, const char *text, size_t len)
{
	__u32 gen;
	int err = sg_active_gen(st, &gen);

	return err ? err
		   : sg_blob_store_gen(st, gen, text, len,
				       sg_hash64(text, len));
}

/* Generation gen's copy as meta describes it; -EUCLEAN when it does not
 * read back as recorded. */
static int blob_read(struct sg_state *st, const struct sg_meta *meta,
		     char **text, size_t *len)
{
	int fd = bpf_map__fd(st->skel->maps.sg_blob);
	struct sg_blob_chunk *chunk;
	size_t off = 0;
	char *buf;
	int err = 0;

	if (meta->blob_chunks > SG_BLOB_MAX_CHUNKS ||
	    meta->blob_len > (__u64)meta->blob_chunks * CHUNK_DATA) {
		sg_err("stored config is corrupt (%u chunks, %llu bytes)",
		       meta->blob_chunks, (unsigned long long)meta->blob_len);
		return -EUCLEAN;
	}
	buf = malloc(meta->blob_len + 1);
	chunk = malloc(sizeof(*chunk));
	if (!buf || !chunk) {
		free(buf);
		free(chunk);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < meta->blob_chunks; i++) {
		__u32 key = SG_BLOB_KEY(meta->gen, i);

		err = bpf_map_lookup_elem(fd, &key, chunk);
		if (err == -ENOENT) {
			err = -EUCLEAN;
			break; /* truncated: said below */
		}
		if (err) {
			sg_err("cannot read stored config chunk %u: %s", i,
			       sg_bpf_strerror(err));
			break;
		}
		if (chunk->len > sizeof(chunk->data) ||
		    off + chunk->len > meta->blob_len) {
			sg_err("stored config is corrupt (chunk %u)", i);
			err = -EUCLEAN;
			break;
		}
		memcpy(buf + off, chunk->data, chunk->len);
		off += chunk->len;
	}
	free(chunk);
	if ((!err || err == -EUCLEAN) && off != meta->blob_len) {
		sg_err("stored config is truncated (%zu of %llu bytes)", off,
		       (unsigned long long)meta->blob_len);
		err = -EUCLEAN;
	}
	if (!err && meta->config_hash &&
	    sg_hash64(buf, off) != meta->config_hash) {
		sg_err("stored config is corrupt (its hash is not the one "
		       "recorded)");
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

int sg_blob_load(struct sg_state *st, char **text, size_t *len)
{
	struct sg_meta meta;
	int err;

	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	if (!meta.loaded_at && !meta.blob_chunks)
		return -ENOENT;
	return blob_read(st, &meta, text, len);
}

bool sg_state_is_current(struct sg_state *st, __u64 hash, size_t len)
{
	struct sg_meta done, live;
	char *text = NULL;
	size_t n = 0;
	__u32 gen;
	bool ok;

	if (!hash || sg_active_gen(st, &gen) ||
	    sg_meta_get(st, SG_META_COMMIT, &done) ||
	    sg_meta_get(st, SG_META_GEN(gen), &live))
		return false;
	if (!done.loaded_at || done.config_hash != hash || done.gen != gen ||
	    live.config_hash != hash || live.gen != gen || live.blob_len != len)
		return false;
	/* Read back whole: a damaged copy is loaded again, not kept. */
	ok = blob_read(st, &live, &text, &n) == 0 && n == len;
	free(text);
	return ok;
}
