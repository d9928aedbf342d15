/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What server.c and source.c share and the handlers do not see: the
 * console's own struct, the source's open/close, the listen address.
 */
#ifndef SG_CONSOLE_PRIV_H
#define SG_CONSOLE_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config/model.h"
#include "console/console.h"
#include "state/state.h"

/* Where the data comes from (source.c); under c->lock. */
struct sg_console_source {
	/* local: the pinned state, read-only, reopened when replaced */
	struct sg_state st;
	bool st_open;
	dev_t st_dev;
	ino_t st_ino; /* of the pinned sg_meta: a new state, a new inode */
	/* etcd */
	struct sg_etcd *etcd;
	char *vpc;	   /* the VPC edited and shown */
	char *prefix;	   /* "/sgctl/v1/VPC/" */
	int64_t seen_rev;  /* the store's revision last looked at */
	int64_t state_rev; /* the newest mod_revision of the VPC's keys */
	/* the config cache: a config replaced during a handler stays valid
	 * until it returns (console.h), so it waits in stale[] */
	struct sg_config *cfg;
	struct sg_config **stale;
	size_t nstale;
	uint64_t cfg_hash; /* local: sg_meta config_hash; etcd: the number
			    * of desired (not status) keys */
	int64_t cfg_rev;   /* local: generation; etcd: revision */
};

struct sg_console {
	struct sg_console_opts o;
	pthread_mutex_t lock; /* every handler runs under it */
	char csrf[65];	      /* hex of 32 random bytes */
	struct sg_console_source src;
	struct sg_flowbuf *flows;
};

/* source.c: set up (etcd: connects and picks the VPC; a failure is
 * reported and returns a negative errno) and tear down. */
int sg_console_source_open(struct sg_console *c);
void sg_console_source_close(struct sg_console *c);
/* After each handler (under the lock): frees the configs it replaced. */
void sg_console_source_release(struct sg_console *c);

/*
 * The listen address "ADDR:PORT", "[ADDR6]:PORT" or "localhost:PORT" as
 * a socket address. *loopback: 127.0.0.0/8 or ::1. -EINVAL when it does
 * not parse.
 */
int sg_console_listen_parse(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len, bool *loopback);

#endif /* SG_CONSOLE_PRIV_H */
