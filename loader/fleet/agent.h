/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent of one host (sgctl agent, docs/fleet.md): keeps the pinned
 * state of a pin dir equal to the desired state of one VPC in etcd.
 *
 *   list PREFIX at revision R -> build the desired state -> validate it
 *   (the parser of load) -> apply (sg_enforce_apply, the one apply path,
 *   local = the instances whose host is this agent's) -> attach/detach
 *   those instances -> watch from R+1, rebuilding and applying on each
 *   response that changes desired state.
 *
 * Compaction re-lists; etcd down: the pinned programs keep deciding,
 * the agent retries with backoff (at most 5 s) and resumes the watch
 * where it stopped. A revision that does not validate is refused with an
 * error naming its key (in the status key too) and the last good state
 * stays. The status of the agent is PREFIX "status/" HOST.
 */
#ifndef SG_AGENT_H
#define SG_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet/etcd.h"

struct sg_agent_opts {
	struct sg_etcd_opts etcd;
	const char *host;    /* --host: this agent's instances */
	const char *pin_dir; /* the state it keeps */
	const char *vpc;     /* NULL: vpc-default */
	const char *version; /* sgctl's, for the status */
	bool json;	     /* one JSON object per applied revision */
	FILE *out;	     /* those lines (flushed each) */
};

/*
 * Runs until sg_agent_stop() (SIGTERM, SIGINT: the caller's handlers call
 * it). Returns 0 after a stop (enforcement stays as applied), or a
 * negative errno when it cannot start: etcd refuses our credentials
 * (-EACCES, -EPROTO) before anything was applied, or the pin dir is
 * refused. Messages on stderr.
 */
int sg_agent_run(const struct sg_agent_opts *o);
/* Async-signal-safe: the agent ends at its next wakeup (<= 0.5 s). */
void sg_agent_stop(void);

/*
 * The etcd revision an agent stored with the config it applied (the first
 * line of the stored text), or -1 when the stored config did not come
 * from an agent (load, edits without etcd).
 */
int64_t sg_agent_stored_revision(const char *text, size_t len);

/* The status an agent publishes, read back (sgctl status). */
struct sg_agent_status {
	char *host;
	int64_t revision;  /* applied; 0 before the first apply */
	double applied_at; /* Unix seconds; 0 when never */
	char *error_key;   /* NULL when no error (or no key known) */
	char *error;	   /* NULL when the last revision applied */
	long pid;
	char *version;
	int64_t mod_revision; /* of the status key */
};

/* Parses a status value; -EINVAL when it is not one. */
int sg_agent_status_parse(const char *value, size_t len,
			  struct sg_agent_status *s);
void sg_agent_status_free(struct sg_agent_status *s);

#endif /* SG_AGENT_H */
