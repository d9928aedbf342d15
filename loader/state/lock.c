// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The lock that serialises mutating commands on one state, and the
 * config hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "util/diag.h"
#include "state/state.h"

/* ----------------------------------------------------------------- lock */

__u64 sg_hash64(const void *data, size_t len)
{
	const unsigned char *p = data;
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int sg_state_lock(const char *pin_dir, int timeout_ms)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct timespec ts = {0, 50 * 1000 * 1000};
	enum sg_pin_dir_kind kind;
	int fd, waited = 0, err;

	/* One lock per state, whatever the spelling of its pin dir; and no
	 * lock file for a pin dir that would be refused. */
	err = sg_pin_dir_canonical(pin_dir, dir, sizeof(dir));
	if (!err)
		err = sg_pin_dir_check(dir, &kind);
	if (err)
		return err;
	if (strcmp(dir, SG_DEFAULT_PIN_DIR) == 0)
		snprintf(path, sizeof(path), "/run/sgctl.lock");
	else
		snprintf(path, sizeof(path), "/run/sgctl-%016llx.lock",
			 (unsigned long long)sg_hash64(dir, strlen(dir)));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = -errno;

		sg_err("cannot open lock file %s: %s", path, strerror(-err));
		return err;
	}
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int err = -errno;

			sg_err("cannot lock %s: %s", path, strerror(-err));
			close(fd);
			return err;
		}
		if (waited >= timeout_ms) {
			sg_err("another sgctl is running (lock %s held); try "
			       "again later",
			       path);
			close(fd);
			return -EBUSY;
		}
		/* Say why we hang rather than hang silently. */
		if (!waited)
			fprintf(stderr,
				"sgctl: another sgctl is running; waiting up "
				"to %d s for it to finish\n",
				timeout_ms / 1000);
		nanosleep(&ts, NULL);
		waited += 50;
	}
}
