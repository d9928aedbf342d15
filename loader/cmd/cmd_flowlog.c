// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * flowlog: VPC Flow Logs version 2 records,
 *
 *   version account-id interface-id srcaddr dstaddr srcport dstport
 *   protocol packets bytes start end action log-status
 *
 * Where the records come from, their names and fields: view/flowlog.h.
 *
 * Without --follow: one record per flow and direction with everything
 * counted since the flow was first seen (start/end = its first and last
 * packet); --window S keeps the flows with a packet in the last S seconds.
 * With --follow: that, then every S seconds (default 60) one record per
 * flow and direction that had traffic in the window just closed, counting
 * only that window's packets. The maps are polled every second so that an
 * entry the expiry timer deletes has been read since its last packet.
 *
 * Following the state across changes (each poll reads only sg_active,
 * sg_meta and the id of the map pinned as sg_meta; nothing more unless
 * one of them changed):
 *   reload   (the live generation or sg_meta changed): the slot table and
 *            the stored config (account id) are read again. When an owner
 *            or the account changed, the records of the window so far are
 *            printed at once, under the names they were counted under,
 *            and the rest of the window is counted under the new names:
 *            a record names the instance that owned the slot when its
 *            packets were counted. A flow first seen at that poll in a
 *            slot that changed owner counts for the new owner (the old
 *            one had to be detached before a load could remove it); what
 *            the old owner's flows counted until then is printed under
 *            its name, and the load deletes those flows.
 *   rebuilt  (sg_meta is pinned again as another map, once that load has
 *            finished): the window so far is printed, the maps reopened,
 *            and the new maps' flows count from their start.
 *   gone     (no sg_meta pinned at two polls in a row): the window so far
 *            is printed, then "state removed; exiting", exit status 1.
 * With --instance ID the id is looked up again at each reload; while the
 * loaded config has no such instance nothing is printed for it.
 *
 * Times: the datapath stamps bpf_ktime_get_ns() (CLOCK_MONOTONIC); records
 * carry unix seconds, converted with the CLOCK_REALTIME - CLOCK_MONOTONIC
 * offset read at each poll.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/diag.h"
#include "out/json.h"
#include "state/state.h"
#include "view/flowlog.h"

#define NS 1000000000ULL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * NS + (__u64)ts.tv_nsec;
}

/* --------------------------------------------------------------- output */

#define FL_DEFAULT_FORMAT                                                      \
	"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} "      \
	"${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} "      \
	"${end} ${action} ${log-status}"
#define FL_MAX_SEGS 128

/* A parsed --format: literal text, each followed by a field or none. */
struct fl_format {
	struct {
		char *lit;
		int field; /* enum sg_fl_field, -1: none */
	} seg[FL_MAX_SEGS];
	size_t n;
	bool custom; /* --format given (-j then prints only its fields) */
};

static void format_free(struct fl_format *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->seg[i].lit);
	f->n = 0;
}

static void known_fields(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < SG_FL_NFIELDS && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? ", " : "", sg_fl_fields[i].name);
}

/* Parses "${a} text ${b}..."; on error says why in err (usage). */
static int format_parse(const char *text, struct fl_format *f, char *err,
			size_t errlen)
{
	const char *p = text;

	f->n = 0;
	while (*p) {
		const char *open = strstr(p, "${"), *close = NULL;
		size_t litlen = open ? (size_t)(open - p) : strlen(p);
		int field = -1;

		if (f->n == FL_MAX_SEGS) {
			snprintf(err, errlen, "too many fields");
			return -EINVAL;
		}
		if (open) {
			char name[64];
			size_t nl;

			close = strchr(open, '}');
			if (!close) {
				snprintf(err, errlen, "'${' without '}'");
				return -EINVAL;
			}
			nl = (size_t)(close - open - 2);
			if (nl >= sizeof(name))
				nl = sizeof(name) - 1;
			memcpy(name, open + 2, nl);
			name[nl] = '\0';
			for (int i = 0; i < SG_FL_NFIELDS; i++)
				if (!strcmp(sg_fl_fields[i].name, name))
					field = i;
			if (field < 0) {
				char known[600];

				known_fields(known, sizeof(known));
				snprintf(err, errlen,
					 "unknown field '%s'; known fields: %s",
					 name, known);
				return -EINVAL;
			}
		}
		f->seg[f->n].lit = strndup(p, litlen);
		f->seg[f->n].field = field;
		f->n++;
		p = open ? close + 1 : p + litlen;
	}
	if (!f->n) {
		snprintf(err, errlen, "empty format");
		return -EINVAL;
	}
	return 0;
}

struct sink {
	struct sg_json *j; /* -j without --follow: one document */
	bool follow;
	__s64 offset_ns; /* realtime - monotonic */
	struct fl_format fmt;
	FILE *out;		     /* stdout or --output */
	const char *path;	     /* --output */
	unsigned long long max_size; /* rotate past this many bytes; 0 never */
	unsigned int keep;	     /* rotated files kept: path.1 .. path.N */
};

/* Keeps path.1 .. path.keep: path.N-1 -> path.N, ..., path -> path.1. */
static void rotate(struct sink *s)
{
	char from[PATH_MAX], to[PATH_MAX];

	fclose(s->out);
	for (unsigned int i = s->keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", s->path);
		else
			snprintf(from, sizeof(from), "%s.%u", s->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", s->path, i);
		rename(from, to); /* a missing one is fine */
	}
	if (!s->keep)
		unlink(s->path);
	s->out = fopen(s->path, "a");
	if (!s->out) {
		sg_err("flowlog: cannot open %s: %s", s->path, strerror(errno));
		s->out = stdout; /* records are not lost */
		s->path = NULL;
	}
}

/* One record of f, labelled under x's names. */
static void emit(struct sg_fl_src *x, struct sink *s, const struct sg_flow *f)
{
	char vals[SG_FL_NFIELDS][SG_FL_VAL_LEN];
	struct sg_fl_labels l;

	sg_fl_labels_of(&x->names, f, &l);
	sg_fl_values(f, &l, s->offset_ns, vals);
	if (!sg_opts.json) {
		for (size_t i = 0; i < s->fmt.n; i++) {
			fputs(s->fmt.seg[i].lit, s->out);
			if (s->fmt.seg[i].field >= 0)
				fputs(vals[s->fmt.seg[i].field], s->out);
		}
		fputc('\n', s->out);
	} else {
		struct sg_json *j = s->j ? s->j : sg_json_new(s->out, false);

		sg_json_begin_object(j);
		if (s->fmt.custom) {
			bool want[SG_FL_NFIELDS] = {};

			for (size_t k = 0; k < s->fmt.n; k++)
				if (s->fmt.seg[k].field >= 0)
					want[s->fmt.seg[k].field] = true;
			sg_fl_json_members(j, f, vals, want);
		} else {
			sg_fl_json_members(j, f, vals, NULL);
		}
		sg_json_end_object(j);
		if (!s->j) {
			sg_json_destroy(j); /* one object per line */
		}
	}
	if (s->path && s->max_size) {
		long pos = ftell(s->out);

		if (pos >= 0 && (unsigned long long)pos >= s->max_size)
			rotate(s);
	}
}

/* The whole history: one record per flow and direction. */
static void emit_all(struct sg_fl_src *x, struct sink *s, struct sg_flows *f,
		     __u64 since_ns)
{
	struct sg_flow *v = malloc((f->n ? f->n : 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].last_ns >= since_ns)
			v[n++] = f->v[i];
	qsort(v, n, sizeof(*v), sg_flow_time_cmp);
	for (size_t i = 0; i < n; i++)
		emit(x, s, &v[i]);
	free(v);
}

/* ------------------------------------------------------------ following */

/*
 * After a reload that changes names: the poll's snapshot cur was taken
 * under the old names. Flows first seen now in a slot whose owner changed
 * are the new owner's: they are left out of cur, so that the next poll
 * counts them whole under the new names.
 */
static void drop_moved(const struct sg_fl_src *x,
		       const struct sg_fl_names *next,
		       const struct sg_flows *prev, struct sg_flows *cur)
{
	size_t k = 0;

	for (size_t i = 0; i < cur->n; i++) {
		const struct sg_flow *c = &cur->v[i];

		if (sg_fl_owner_changed(&x->names, next, c->id.slot) &&
		    !bsearch(c, prev->v, prev->n, sizeof(*c), sg_flow_id_cmp))
			continue;
		cur->v[k++] = *c;
	}
	cur->n = k;
}

/*
 * Adds cur - prev (per flow; a flow not in prev counts whole) to the
 * window's accumulator acc, which is kept sorted by id. A flow that reads
 * lower than in prev keeps prev's counts in cur: a run of rejects flushed
 * while it was read (sg_reject_dump) shows up a poll later.
 */
static int accumulate(const struct sg_flows *prev, struct sg_flows *cur,
		      struct sg_flows *acc, __u64 win_start)
{
	size_t sorted = acc->n; /* ids of cur are unique: new ones go last */

	for (size_t i = 0; i < cur->n; i++) {
		struct sg_flow *c = &cur->v[i];
		const struct sg_flow *p = bsearch(c, prev->v, prev->n,
						  sizeof(*c), sg_flow_id_cmp);
		struct sg_flow d, *a;

		if (!sg_flow_delta(c, p, &d))
			continue;
		if (d.first_ns < win_start)
			d.first_ns = win_start;
		a = bsearch(&d, acc->v, sorted, sizeof(d), sg_flow_id_cmp);
		if (a) {
			a->packets += d.packets;
			a->bytes += d.bytes;
			if (d.last_ns > a->last_ns)
				a->last_ns = d.last_ns;
			continue;
		}
		if (sg_flows_push(acc, &d))
			return -ENOMEM;
	}
	qsort(acc->v, acc->n, sizeof(*acc->v), sg_flow_id_cmp);
	return 0;
}

static void flush_window(struct sg_fl_src *x, struct sink *s,
			 struct sg_flows *acc)
{
	qsort(acc->v, acc->n, sizeof(*acc->v), sg_flow_time_cmp);
	for (size_t i = 0; i < acc->n; i++)
		emit(x, s, &acc->v[i]);
	acc->n = 0;
	fflush(s->out);
}

static int follow(struct sg_fl_src *x, struct sink *s, struct sg_flows *prev,
		  unsigned int window)
{
	struct sg_flows cur = {}, acc = {}, tmp;
	struct sg_fl_names next = {};
	__u64 win_start = clock_ns(CLOCK_MONOTONIC);
	__u64 win_end = win_start + (__u64)window * NS;
	int err = 0;

	while (!stop) {
		__u64 now = clock_ns(CLOCK_MONOTONIC);
		__u64 wake = now + NS < win_end ? now + NS : win_end;
		enum sg_fl_change what = SG_FL_SAME;
		struct sg_fl_seen w;
		bool renamed = false;
		struct timespec ts;

		if (wake > now) {
			ts.tv_sec = (time_t)((wake - now) / NS);
			ts.tv_nsec = (long)((wake - now) % NS);
			nanosleep(&ts, NULL); /* EINTR on a signal: fine */
		}
		err = sg_fl_watch(x, &what);
		if (!err && what == SG_FL_RELOADED) {
			err = sg_fl_seen_now(x, &w);
			if (!err)
				err = sg_fl_names_read(&x->st, x->want, &next);
			if (!err && !sg_fl_names_differ(&x->names, &next))
				sg_fl_take_names(x, &next,
						 &w); /* nothing to show */
			else
				renamed = !err;
		}
		if (err)
			break;
		/* The maps x has open, under the names they had until now:
		 * also the last packets of a state just removed. */
		err = sg_fl_snapshot(x, &cur);
		if (err)
			break;
		s->offset_ns = (__s64)(clock_ns(CLOCK_REALTIME) -
				       clock_ns(CLOCK_MONOTONIC));
		if (renamed)
			drop_moved(x, &next, prev, &cur);
		err = accumulate(prev, &cur, &acc, win_start);
		if (err)
			break;
		tmp = *prev;
		*prev = cur;
		cur = tmp;
		if (renamed) {
			flush_window(x, s, &acc);
			sg_fl_take_names(x, &next, &w);
		} else if (what == SG_FL_REBUILT) {
			flush_window(x, s, &acc);
			err = sg_fl_reopen(x);
			if (err == -ENOENT) /* unloaded again since */
				sg_err("state removed; exiting");
			if (err)
				break;
			prev->n = 0; /* new maps: their flows count whole */
		} else if (what == SG_FL_MISSING && x->seen.missing) {
			flush_window(x, s, &acc);
			sg_err("state removed; exiting");
			err = -ENOENT;
			break;
		}
		x->seen.missing = what == SG_FL_MISSING;
		if (clock_ns(CLOCK_MONOTONIC) >= win_end || stop) {
			flush_window(x, s, &acc);
			win_start = win_end;
			win_end += (__u64)window * NS;
			/* A stalled process skips windows rather than bursting.
			 */
			now = clock_ns(CLOCK_MONOTONIC);
			while (win_end <= now) {
				win_start = win_end;
				win_end += (__u64)window * NS;
			}
		}
	}
	flush_window(x, s, &acc);
	sg_fl_names_free(&next);
	free(cur.v);
	free(acc.v);
	return err;
}

/* ----------------------------------------------------------------- main */

enum {
	OPT_INSTANCE = 0x100,
	OPT_FOLLOW,
	OPT_WINDOW,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_MAX_SIZE,
	OPT_KEEP,
};

/* "10485760", "512K", "10M", "1G" -> bytes; 0 when it is not one. */
static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return 0;
	if (!*end)
		return v;
	if (end[1])
		return 0;
	switch (*end) {
	case 'k':
	case 'K':
		return v << 10;
	case 'm':
	case 'M':
		return v << 20;
	case 'g':
	case 'G':
		return v << 30;
	}
	return 0;
}

int cmd_flowlog(int argc, char **argv)
{
	struct sg_fl_src x = {.reject_fd = -1, .skip_fd = -1};
	struct sink s = {.out = stdout, .keep = 5};
	const char *format = NULL;
	char ferr[800];
	struct sg_flows prev = {};
	const char *want = NULL;
	bool do_follow = false, have_window = false;
	unsigned long window = 60;
	int opt, rc = SG_EXIT_ERR;
	static const struct option opts[] = {
		{"instance", required_argument, NULL, OPT_INSTANCE},
		{"follow", no_argument, NULL, OPT_FOLLOW},
		{"window", required_argument, NULL, OPT_WINDOW},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"max-size", required_argument, NULL, OPT_MAX_SIZE},
		{"keep", required_argument, NULL, OPT_KEEP},
		{NULL, 0, NULL, 0},
	};

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case OPT_INSTANCE:
			want = optarg;
			break;
		case OPT_FOLLOW:
			do_follow = true;
			break;
		case OPT_WINDOW:
			errno = 0;
			window = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || window < 1 ||
			    window > 86400)
				return sg_usage_err(argv[0],
						    "--window: '%s' is not a "
						    "number of seconds 1-86400",
						    optarg);
			have_window = true;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_OUTPUT:
			s.path = optarg;
			break;
		case OPT_MAX_SIZE:
			s.max_size = parse_size(optarg);
			if (!s.max_size)
				return sg_usage_err(argv[0],
						    "--max-size: '%s' is not a "
						    "size (e.g. 10M, 512K)",
						    optarg);
			break;
		case OPT_KEEP:
			errno = 0;
			s.keep = (unsigned int)strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || s.keep > 1000)
				return sg_usage_err(argv[0],
						    "--keep: '%s' is not a "
						    "number 0-1000",
						    optarg);
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (s.max_size && !s.path)
		return sg_usage_err(argv[0], "--max-size goes with --output");
	s.fmt.custom = format != NULL;
	if (format_parse(format ? format : FL_DEFAULT_FORMAT, &s.fmt, ferr,
			 sizeof(ferr))) {
		format_free(&s.fmt);
		return sg_usage_err(argv[0], "--format: %s", ferr);
	}
	if (sg_need_root(argv[0])) {
		format_free(&s.fmt);
		return SG_EXIT_ERR;
	}
	if (s.path) {
		s.out = fopen(s.path, "a");
		if (!s.out) {
			sg_err("flowlog: cannot open %s: %s", s.path,
			       strerror(errno));
			format_free(&s.fmt);
			return SG_EXIT_ERR;
		}
	}
	if (!sg_state_exists(sg_opts.pin_dir)) {
		if (want) {
			sg_err("flowlog: no config loaded (no instance %s)",
			       want);
			goto out;
		}
		if (sg_opts.json && !do_follow && !s.path)
			printf("{\"records\": []}\n");
		rc = SG_EXIT_OK;
		goto out;
	}
	if (sg_fl_open(&x, sg_opts.pin_dir, want))
		goto out;
	if (want && x.names.want_slot >= SG_MAX_INSTANCES) {
		sg_err("flowlog: no instance %s in the loaded config", want);
		goto out;
	}
	if (x.reject_fd < 0)
		sg_warnx("this datapath keeps no record of rejected flows: "
			 "only ACCEPT records");

	if (sg_fl_snapshot(&x, &prev))
		goto out;
	s.follow = do_follow;
	s.offset_ns =
		(__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	/* -j: one document, or one object per line when following or
	 * appending to a file. */
	if (sg_opts.json && !do_follow && !s.path) {
		s.j = sg_json_new(stdout, true);
		sg_json_begin_object(s.j);
		sg_json_key(s.j, "records");
		sg_json_begin_array(s.j);
	}
	emit_all(&x, &s, &prev,
		 have_window && !do_follow
			 ? clock_ns(CLOCK_MONOTONIC) - (__u64)window * NS
			 : 0);
	if (s.j) {
		sg_json_end_array(s.j);
		sg_json_end_object(s.j);
		sg_json_destroy(s.j);
		s.j = NULL;
	}
	fflush(s.out);
	if (do_follow) {
		struct sigaction sa = {.sa_handler = on_signal};

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (follow(&x, &s, &prev, (unsigned int)window))
			goto out;
	}
	rc = SG_EXIT_OK;
out:
	sg_fl_close(&x);
	free(prev.v);
	format_free(&s.fmt);
	if (s.out != stdout)
		fclose(s.out);
	return rc;
}
