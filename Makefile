# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# sgctl: security groups compiled into BPF maps, enforced by XDP and TC.
#
#   make            build build/sgctl
#   make test       install missing packages, build, run every test (root)
#   make demo       install missing packages, build, run the lab demo (root)
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
LIBS := -lbpf -lelf -lz -lyaml -ljansson
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Wno-unused-parameter -MMD -MP -I$(BUILD) -Iinclude -Ibpf \
	-idirafter /usr/include/$(MULTIARCH)

BPF_OBJ := $(BUILD)/bpf/sgctl.bpf.o
SKEL := $(BUILD)/sgctl.skel.h
VMLINUX_H := $(BUILD)/vmlinux.h

LOADER_SRCS := $(sort $(wildcard loader/*.c))
LIB_SRCS := $(filter-out loader/main.c,$(LOADER_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
LIB := $(BUILD)/libsgctl.a
# The part that never touches the kernel: parse, validate, compile.
CORE_SRCS := $(filter $(addprefix loader/,diag.c prefix.c config.c compile.c \
	inputs.c aws.c export_nft.c refmodel.c),$(LOADER_SRCS))
CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS))
CORE_LIB := $(BUILD)/libsgctl-core.a
SGCTL := $(BUILD)/sgctl

UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
DP_SRCS := $(sort $(wildcard tests/datapath/*.c))
DP_BINS := $(patsubst tests/datapath/%.c,$(BUILD)/tests/datapath/%,$(DP_SRCS))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test test-unit test-datapath test-ns demo bench clean format man install \
	uninstall

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

$(BUILD)/loader/cmd_bench.o: $(TG_SKEL)

# Userspace objects that include the skeleton depend on it through -MMD.
$(BUILD)/%.o: %.c | $(SKEL)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(CORE_LIB): $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SGCTL): $(BUILD)/loader/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(CORE_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -lcriterion -o $@

$(BUILD)/tests/datapath/%: $(BUILD)/tests/datapath/%.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -lcriterion -o $@

$(BUILD) $(BUILD)/bpf:
	$(Q)mkdir -p $@

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh $(BUILD)

test-unit: all
	$(Q)tests/run.sh $(BUILD) unit

test-datapath: all
	$(Q)tests/run.sh $(BUILD) datapath

test-ns: all
	$(Q)tests/run.sh $(BUILD) ns

demo: deps
	$(Q)$(MAKE) --no-print-directory $(SGCTL)
	$(Q)tests/lab/demo.sh $(SGCTL)

# Benchmarks (not part of test): micro, live frames on veth, nftables as
# the peer, control plane; writes docs/benchmarks.md and docs/bench-*.png.
bench: deps
	$(Q)$(MAKE) --no-print-directory $(SGCTL)
	$(Q)tests/bench/run.sh $(SGCTL)

format:
	clang-format -i bpf/*.c bpf/*.h include/*.h loader/*.c loader/*.h tests/*/*.c

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

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
