// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench live: live frames (BPF_F_TEST_XDP_LIVE_FRAMES) from tg_gen
 * returning XDP_TX on the generator's veth end, received by sgctl (counted
 * in sg_stats) or by tg_sink (no filter, or nftables behind it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "trafficgen.skel.h"

#include "bench/priv.h"
#include "enforce/attach.h"
#include "state/state.h"
#include "util/diag.h"

const char *const bench_mix_names[BENCH_NMIX] = {
	"drop", "established", "allowed", "many-sources", "syn-flood"};
const char *const bench_receiver_names[BENCH_NRX] = {"sgctl", "pass", "drop"};

static int ifinfo(const char *netns, const char *dev, int *ifindex, __u8 mac[6])
{
	struct sg_netns ns;
	struct ifreq ifr = {};
	int err, fd;

	err = sg_netns_enter(netns, &ns);
	if (err)
		return err;
	*ifindex = (int)if_nametoindex(dev);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	err = 0;
	if (!*ifindex || fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		err = -errno;
		sg_err("interface %s%s%s: %s", dev, netns ? " in netns " : "",
		       netns ? netns : "", strerror(errno));
	} else if (mac) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	if (fd >= 0)
		close(fd);
	sg_netns_leave(&ns);
	return err;
}

/* Packets the receiver counted so far: sg_stats of the slot (inbound) or
 * tg_counter. pass/drop split for sgctl. */
static int rx_count(const struct bench_live_opts *o, struct trafficgen_bpf *tg,
		    int stats_fd, __u64 *total, __u64 *passed)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sg_counter_val *v = calloc((size_t)ncpu, sizeof(*v));
	int err = 0;

	*total = *passed = 0;
	if (!v)
		return -ENOMEM;
	if (o->receiver != BENCH_RX_SGCTL) {
		__u32 k = 0;

		err = bpf_map_lookup_elem(bpf_map__fd(tg->maps.tg_counter), &k,
					  v);
		for (int i = 0; !err && i < ncpu; i++)
			*total += v[i].packets;
		if (o->receiver == BENCH_RX_PASS)
			*passed = *total;
	} else {
		for (__u32 c = 0; c < SG_NCOUNTERS && !err; c++) {
			__u32 idx =
				SG_STATS_INDEX((__u32)o->slot, SG_DIR_IN, c);
			__u64 n = 0;

			err = bpf_map_lookup_elem(stats_fd, &idx, v);
			for (int i = 0; !err && i < ncpu; i++)
				n += v[i].packets;
			*total += n;
			if (SG_COUNTER_PASSES(c))
				*passed += n;
		}
	}
	free(v);
	if (err)
		sg_err("cannot read the receive counters: %s",
		       sg_bpf_strerror(err));
	return err;
}

int bench_live(const struct bench_live_opts *o, struct bench_live_result *r)
{
	struct trafficgen_bpf *tg = NULL;
	struct bpf_link *sink_link = NULL;
	struct sg_netns ns = {.orig_fd = -1};
	__u8 rx_mac[6], gen_mac[6], frame[BENCH_FRAME_MAX];
	__u64 rx0 = 0, pass0 = 0, rx1 = 0, pass1 = 0, sent = 0;
	int gen_if, rx_if, stats_fd = -1, err;
	double t0, t1;
	size_t flen;
	struct bench_frame_spec fs = {
		.saddr = o->src,
		.daddr = o->dst,
		.proto = 17,
		.sport = o->sport,
		.dport = o->dport,
		.size = (size_t)o->size,
	};

	memset(r, 0, sizeof(*r));
	err = ifinfo(o->rx_netns, o->rx_dev, &rx_if, rx_mac);
	if (!err)
		err = ifinfo(o->gen_netns, o->gen_dev, &gen_if, gen_mac);
	if (err)
		return err;
	fs.dmac = rx_mac;
	fs.smac = gen_mac;
	if (o->mix == BENCH_MIX_SYN) {
		fs.proto = 6;
		fs.tcp_flags = 0x02;
	}
	flen = bench_frame_build(&fs, frame);

	tg = trafficgen_bpf__open();
	if (!tg) {
		err = -errno;
		sg_err("cannot open the traffic generator: %s",
		       sg_bpf_strerror(err));
		return err ? err : -EINVAL;
	}
	switch (o->mix) {
	case BENCH_MIX_ALLOWED: /* one allowed source, a new flow per port */
		tg->rodata->tg_vary = 1;
		tg->rodata->tg_base = o->sport;
		tg->rodata->tg_span = 65535 - o->sport;
		break;
	case BENCH_MIX_SYN: { /* SYNs from src/src_len, random ports */
		int host = 32 - (o->src_len > 0 ? o->src_len : 32);
		__u16 c;

		if (host > 16)
			host = 16; /* the generator scrambles 16 bits of it */
		memcpy(&c, frame + 14 + 20 + 16, 2);
		tg->rodata->tg_vary = 3;
		tg->rodata->tg_span = 1u << host;
		tg->rodata->tg_base = o->src & ~((1u << host) - 1);
		tg->rodata->tg_saddr0 = o->src;
		tg->rodata->tg_sport0 = o->sport;
		tg->rodata->tg_csum0 = c;
		break;
	}
	case BENCH_MIX_MANY: /* 65536 sources of 198.18.0.0/16 */
		tg->rodata->tg_vary = 2;
		tg->rodata->tg_base = o->src & 0xffff0000u;
		tg->rodata->tg_span = 65536;
		break;
	default:
		break;
	}
	tg->rodata->tg_sink_verdict =
		o->receiver == BENCH_RX_DROP ? XDP_DROP : XDP_PASS;
	err = trafficgen_bpf__load(tg);
	if (err) {
		sg_err("cannot load the traffic generator: %s",
		       sg_bpf_strerror(err));
		goto out;
	}

	if (o->receiver == BENCH_RX_SGCTL) {
		char path[512];

		snprintf(path, sizeof(path), "%s/sg_stats", o->pin_dir);
		stats_fd = bpf_obj_get(path);
		if (stats_fd < 0) {
			err = errno ? -errno : -ENOENT;
			sg_err("cannot open %s: %s", path, strerror(errno));
			goto out;
		}
	} else {
		/* A link: detached when this process ends, whatever happens. */
		err = sg_netns_enter(o->rx_netns, &ns);
		if (err)
			goto out;
		sink_link = bpf_program__attach_xdp(tg->progs.tg_sink, rx_if);
		err = sink_link ? 0 : -errno;
		sg_netns_leave(&ns);
		if (err) {
			sg_err("cannot attach the sink to %s: %s", o->rx_dev,
			       sg_bpf_strerror(err));
			goto out;
		}
	}

	err = rx_count(o, tg, stats_fd, &rx0, &pass0);
	if (err)
		goto out;
	err = sg_netns_enter(o->gen_netns, &ns);
	if (err)
		goto out;
	t0 = bench_now();
	t1 = t0;
	while (sent < (__u64)o->count && t1 - t0 < (double)o->seconds) {
		/* The kernel wants data_end = the frame's length. */
		struct xdp_md ctx = {.data_end = (__u32)flen,
				     .ingress_ifindex = (__u32)gen_if};
		__u64 chunk = (__u64)o->count - sent;

		if (chunk > 262144)
			chunk = 262144;
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
			    .data_size_in = (__u32)flen, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = (__u32)chunk,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = 64);
		err = bpf_prog_test_run_opts(bpf_program__fd(tg->progs.tg_gen),
					     &run);
		if (err) {
			sg_err("live frames: %s", sg_bpf_strerror(err));
			break;
		}
		sent += chunk;
		t1 = bench_now();
	}
	sg_netns_leave(&ns);
	if (err)
		goto out;
	/* Let the receiver's NAPI finish what is queued. */
	usleep(20000);
	err = rx_count(o, tg, stats_fd, &rx1, &pass1);
	if (err)
		goto out;

	r->frame_bytes = flen;
	r->sent = sent;
	r->received = rx1 - rx0;
	r->passed = pass1 - pass0;
	r->seconds = t1 - t0;
out:
	bpf_link__destroy(sink_link);
	if (stats_fd >= 0)
		close(stats_fd);
	trafficgen_bpf__destroy(tg);
	return err;
}
