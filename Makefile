# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# sgctl: security groups compiled into BPF maps, enforced by XDP and TC.
#
#   make            build build/sgctl
#   make test       install missing packages, build, run every test (root)
#   make demo       install missing packages, build, run the lab demo (root)
#   make demo-fleet the same, three hosts with an agent each and etcd (root)
#   make demo-console  the demo's lab with `sgctl console` on 127.0.0.1:8080 (root)
#   make install    sgctl, sgctl(8), bash completion, sgctl.service
#                   (PREFIX=/usr/local, DESTDIR for staging)
#   make V=1        show full commands

BUILD ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
USER_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) -MMD -MP -I$(BUILD) -Iinclude -Iloader
# The pure core links without libbpf: the unit tests and fuzz_config prove
# it, since they link CORE_LIBS only.
CORE_LIBS := -lyaml -ljansson
LIBS := -lbpf -lelf -lz -lcurl -lmicrohttpd -lgnutls -lcrypt $(CORE_LIBS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Wno-unused-parameter -MMD -MP -I$(BUILD) -Iinclude -Ibpf \
	-idirafter /usr/include/$(MULTIARCH)

BPF_OBJ := $(BUILD)/bpf/sgctl.bpf.o
SKEL := $(BUILD)/sgctl.skel.h
VMLINUX_H := $(BUILD)/vmlinux.h

# The loader, one folder per stage; a stage includes only the ones before
# it (docs/design.md):
#   util, out -> input -> config -> desired, compile -> state -> enforce
#   -> fleet, view -> bench, console -> cmd
STAGES := util out input config desired compile state enforce fleet view bench \
	console cmd
LOADER_SRCS := $(sort $(foreach d,$(STAGES),$(wildcard loader/$(d)/*.c)))
LIB_SRCS := $(filter-out loader/cmd/main.c,$(LOADER_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
# The console's pages, built into the binary (scripts/embed-assets.sh):
# regenerated when a file under web/ changes, appears or goes (the list
# of files is kept in ASSETS_LIST, rewritten only when it differs).
WEB_FILES := $(sort $(shell find loader/console/web -type f 2>/dev/null))
ASSETS_LIST := $(BUILD)/console_assets.list
ASSETS_C := $(BUILD)/console_assets.c
ASSETS_OBJ := $(BUILD)/console_assets.o
LIB_OBJS += $(ASSETS_OBJ)
LIB := $(BUILD)/libsgctl.a
# The pure core, which never touches the kernel: read, validate, compile,
# print. It links without libbpf (CORE_LIBS) and check-layers keeps it so.
CORE_STAGES := util out input config desired compile
CORE_SRCS := $(sort $(foreach d,$(CORE_STAGES),$(wildcard loader/$(d)/*.c)))
CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS))
CORE_LIB := $(BUILD)/libsgctl-core.a
SGCTL := $(BUILD)/sgctl

UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
DP_SRCS := $(sort $(wildcard tests/datapath/*.c))
DP_BINS := $(patsubst tests/datapath/%.c,$(BUILD)/tests/datapath/%,$(DP_SRCS))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: FORCE all deps check-layers test test-unit test-datapath test-ns demo demo-fleet demo-console bench clean format man install \
	uninstall fuzz fuzz-bins test-fuzz test-asan test-valgrind

all: $(SGCTL) $(UNIT_BINS) $(DP_BINS)

deps:
	$(Q)scripts/deps.sh

$(VMLINUX_H): vmlinux/gen.sh vmlinux/vmlinux_fallback.h | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)SG_VMLINUX_FALLBACK=$(SG_VMLINUX_FALLBACK) vmlinux/gen.sh $(BPFTOOL) $@

$(BPF_OBJ): bpf/sgctl.bpf.c $(VMLINUX_H) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sgctl_bpf > $@

# Benchmark helpers (sgctl bench live): the traffic generator and a
# counting sink, an object and skeleton of their own.
TG_OBJ := $(BUILD)/bpf/trafficgen.bpf.o
TG_SKEL := $(BUILD)/trafficgen.skel.h

$(TG_OBJ): bpf/trafficgen.bpf.c $(VMLINUX_H) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(TG_SKEL): $(TG_OBJ)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name trafficgen_bpf > $@

$(BUILD)/loader/bench/live.o: $(TG_SKEL)

# The reference stateful program of sgctl bench micro.
RS_OBJ := $(BUILD)/bpf/refstate.bpf.o
RS_SKEL := $(BUILD)/refstate.skel.h

$(RS_OBJ): bpf/refstate.bpf.c $(VMLINUX_H) | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(RS_SKEL): $(RS_OBJ)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name refstate_bpf > $@

$(BUILD)/loader/bench/micro.o: $(RS_SKEL)

# Userspace objects that include the skeleton depend on it through -MMD.
$(BUILD)/%.o: %.c | $(SKEL)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

FORCE:

$(ASSETS_LIST): FORCE | $(BUILD)
	$(Q)echo '$(WEB_FILES)' | cmp -s - $@ || echo '$(WEB_FILES)' > $@

$(ASSETS_C): scripts/embed-assets.sh $(ASSETS_LIST) $(WEB_FILES) | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)scripts/embed-assets.sh loader/console/web > $@.tmp && mv $@.tmp $@

$(ASSETS_OBJ): $(ASSETS_C)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(CORE_LIB): $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SGCTL): $(BUILD)/loader/cmd/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(CORE_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(CORE_LIBS) -lcriterion -o $@

$(BUILD)/tests/datapath/%: $(BUILD)/tests/datapath/%.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -lcriterion -o $@

$(BUILD) $(BUILD)/bpf:
	$(Q)mkdir -p $@

test: deps
	$(Q)$(MAKE) --no-print-directory all fuzz-bins check-layers
	$(Q)tests/run.sh $(BUILD)

test-unit: all check-layers
	$(Q)tests/run.sh $(BUILD) unit

# Every include points to an earlier stage; the core needs no libbpf.
check-layers:
	$(Q)scripts/check-layers.sh

test-datapath: all
	$(Q)tests/run.sh $(BUILD) datapath

test-ns: all
	$(Q)tests/run.sh $(BUILD) ns

demo: deps
	$(Q)$(MAKE) --no-print-directory $(SGCTL)
	$(Q)tests/lab/demo.sh $(SGCTL)

# Three hosts (namespaces), an sgctl agent each, a private etcd: a
# membership change on one host enforced on another (docs/fleet.md).
demo-fleet: deps
	$(Q)$(MAKE) --no-print-directory $(SGCTL)
	$(Q)tests/lab/demo-fleet.sh $(SGCTL)

# The demo's lab with the console on it, until Ctrl-C (docs/console.md).
demo-console: deps
	$(Q)$(MAKE) --no-print-directory $(SGCTL)
	$(Q)tests/lab/demo-console.sh $(SGCTL)

# Benchmarks (not part of test): micro, live frames on veth, nftables as
# the peer, control plane; writes docs/benchmarks.md and docs/bench-*.png.
bench: deps
	$(Q)$(MAKE) --no-print-directory $(SGCTL)
	$(Q)tests/bench/run.sh $(SGCTL)

# ---- reliability: fuzzers, sanitisers, valgrind (docs/reliability.md) ----
# libFuzzer targets, built with clang: the config parser (through the same
# objects as the tool, instrumented) and the datapath's packet parser
# (bpf/parse.h compiled for userspace through tests/fuzz/shim/).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=gnu11 -g -O1 $(WARN) $(FUZZ_SAN) -MMD -MP
FUZZ_CORE_OBJS := $(patsubst loader/%.c,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS))
FUZZ_BINS := $(FUZZ_DIR)/fuzz_config $(FUZZ_DIR)/fuzz_parse

$(FUZZ_DIR)/obj/%.o: loader/%.c | $(SKEL)
	@mkdir -p $(@D)
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -I$(BUILD) \
		-Iinclude -Iloader -c $< -o $@

$(FUZZ_DIR)/obj/fuzz_config.o: tests/fuzz/fuzz_config.c | $(SKEL)
	@mkdir -p $(@D)
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -I$(BUILD) \
		-Iinclude -Iloader -c $< -o $@

$(FUZZ_DIR)/fuzz_config: $(FUZZ_DIR)/obj/fuzz_config.o $(FUZZ_CORE_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ $(CORE_LIBS) -o $@

# The shim comes first: parse.h's "vmlinux.h" and <bpf/...> resolve there.
# Not the alignment check: frames put the IP header 2 bytes off a 4-byte
# boundary (14-byte Ethernet header), as the kernel hands them to XDP and
# TC, and BPF loads do not need alignment there.
$(FUZZ_DIR)/fuzz_parse: tests/fuzz/fuzz_parse.c
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fno-sanitize=alignment -fsanitize=fuzzer \
		-Itests/fuzz/shim -Iinclude -Ibpf $< -o $@

fuzz-bins: $(FUZZ_BINS)

# Short fuzzing alone (make test runs it as the fuzz layer).
test-fuzz: fuzz-bins
	$(Q)tests/run.sh $(BUILD) fuzz

# Long runs: each fuzzer, then the kernel-vs-model differential test, for
# FUZZ_SECONDS each (default 600), the incremental-apply differential test
# (INCR_RUNS sequences of INCR_STEPS edits), then the kill sweep of a load on a
# 3,000-instance config (about 8 minutes). Crashes, mismatch reproducers
# and logs go to $(BUILD)/fuzz/.
# The incremental-apply differential test's long run: edits per sequence,
# sequences (each a new random desired state).
INCR_STEPS ?= 2000
INCR_RUNS ?= 10
# Changes each stopped after 1, 2, 3, 5, 8... writes, in the same test.
INCR_CRASH_STEPS ?= 300

fuzz: deps
	$(Q)$(MAKE) --no-print-directory all fuzz-bins
	$(Q)tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS); f=$$?; \
	SG_DIFF_SECONDS=$(FUZZ_SECONDS) SG_DIFF_SEED=$${SG_DIFF_SEED:-time} \
		SG_DIFF_OUT=$(FUZZ_DIR) $(BUILD)/tests/datapath/test_diff \
		--jobs 1 --verbose >$(FUZZ_DIR)/diff.log 2>&1; d=$$?; \
	grep -E '^diff:|mismatch|Synthesis' $(FUZZ_DIR)/diff.log; \
	SG_INCR_STEPS=$(INCR_STEPS) SG_INCR_RUNS=$(INCR_RUNS) \
		SG_INCR_CRASH_STEPS=$(INCR_CRASH_STEPS) \
		SG_INCR_SEED=$${SG_INCR_SEED:-time} \
		$(BUILD)/tests/datapath/test_incremental --jobs 1 --verbose \
		>$(FUZZ_DIR)/incremental.log 2>&1; i=$$?; \
	grep -E '^incremental:|Assertion|Synthesis' $(FUZZ_DIR)/incremental.log; \
	tests/fuzz/crash_sweep.sh $(BUILD) >$(FUZZ_DIR)/crash_sweep.log 2>&1; c=$$?; \
	grep -E '^(PASS|FAIL|SKIP)' $(FUZZ_DIR)/crash_sweep.log; \
	[ $$f -eq 0 ] && [ $$d -eq 0 ] && [ $$i -eq 0 ] && [ $$c -eq 0 ]

# Userspace code and the unit and datapath tests under AddressSanitizer
# (leaks included) and UBSan, in their own build directory. Criterion only
# warns when a test's process fails at exit (where LeakSanitizer reports),
# so every report goes to a file and any file is a failure.
ASAN_BUILD ?= build-asan
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
ASAN_LOGS := $(abspath $(ASAN_BUILD))/sanitizer

test-asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
		CFLAGS="$(ASAN_CFLAGS)" all
	$(Q)rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS); \
	ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_LOGS)/asan \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(ASAN_LOGS)/ubsan \
		tests/run.sh $(ASAN_BUILD) unit datapath; rc=$$?; \
	if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then \
		echo "FAIL sanitizer reports in $(ASAN_LOGS):"; \
		cat $(ASAN_LOGS)/* | head -n 40; rc=1; \
	else \
		echo "PASS sanitizers: no report"; \
	fi; \
	[ $$rc -eq 0 ]

# The unit tests under valgrind: no invalid access, no definite or
# indirect leak. Criterion runs each test in a re-executed child, hence
# --trace-children; one log per process, an empty log is a clean one.
VALGRIND ?= valgrind
test-valgrind: all
	$(Q)rm -rf $(BUILD)/valgrind && mkdir -p $(BUILD)/valgrind; \
	fail=0; \
	for t in $(UNIT_BINS); do \
		n=$$(basename $$t); \
		$(VALGRIND) -q --trace-children=yes --leak-check=full \
			--errors-for-leak-kinds=definite,indirect \
			--show-leak-kinds=definite,indirect \
			--log-file=$(BUILD)/valgrind/$$n.%p.log \
			$$t --jobs 1 >$(BUILD)/valgrind/$$n.out 2>&1; \
		rc=$$?; \
		if [ $$rc -ne 0 ]; then \
			echo "FAIL valgrind $$n: exit $$rc"; \
			tail -n 5 $(BUILD)/valgrind/$$n.out; \
			fail=1; \
		elif grep -l . $(BUILD)/valgrind/$$n.*.log >/dev/null 2>&1; then \
			echo "FAIL valgrind $$n:"; \
			cat $$(grep -l . $(BUILD)/valgrind/$$n.*.log) | head -n 30; \
			fail=1; \
		else \
			echo "PASS valgrind $$n: $$(grep -o 'Tested: [0-9]*' \
				$(BUILD)/valgrind/$$n.out), no errors, no leaks"; \
		fi; \
	done; \
	[ $$fail -eq 0 ]

format:
	clang-format -i bpf/*.c bpf/*.h include/*.h loader/*/*.c loader/*/*.h tests/*/*.c

# ---- install: the tool, sgctl(8), bash completion, the boot unit ----
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MAN8 := $(BUILD)/sgctl.8

# One source: the command table (sgctl --help) and docs/sgctl.8.in.
$(MAN8): docs/sgctl.8.in scripts/mkman.sh $(SGCTL)
	$(call msg,MAN,$@)
	$(Q)scripts/mkman.sh $(SGCTL) docs/sgctl.8.in > $@

man: $(MAN8)

install: $(SGCTL) $(MAN8)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	$(Q)install -m 0755 $(SGCTL) $(DESTDIR)$(SBINDIR)/sgctl
	$(Q)install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/sgctl.8
	$(Q)install -m 0644 scripts/sgctl.bash $(DESTDIR)$(BASHCOMPDIR)/sgctl
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/sgctl.service > $(DESTDIR)$(SYSTEMDUNITDIR)/sgctl.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sgctl.service

uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/sgctl $(DESTDIR)$(MANDIR)/man8/sgctl.8 \
		$(DESTDIR)$(BASHCOMPDIR)/sgctl $(DESTDIR)$(SYSTEMDUNITDIR)/sgctl.service

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d $(BUILD)/*/*/*/*.d)
