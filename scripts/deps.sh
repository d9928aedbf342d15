#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installs the Debian packages sgctl needs to build, test and run its lab,
# only those missing. Called by `make test` and `make demo`.
set -eu
pkgs="clang llvm gcc make pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
libyaml-dev libjansson-dev libcriterion-dev iproute2 nftables socat netcat-openbsd iputils-ping
linux-libc-dev xdp-tools gnuplot-nox libclang-rt-14-dev valgrind python3 strace
libcurl4-openssl-dev etcd-server etcd-client openssl
libmicrohttpd-dev libgnutls28-dev libcrypt-dev curl"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
# For the console's real-browser test only (tests/ns/test_console_browser.sh
# skips without them): Debian's chromium and its driver, and Node.js with
# npm where the machine has none. Best effort: a failure here fails nothing.
optional="chromium chromium-driver"
command -v node >/dev/null || optional="$optional nodejs"
command -v npm >/dev/null || optional="$optional npm"
opt_missing=
for p in $optional; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		opt_missing="$opt_missing $p"
done
[ "$(id -u)" -eq 0 ] || opt_missing=
[ -z "$missing" ] && [ -z "$opt_missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ -n "$opt_missing" ]; then
	echo "deps: installing$opt_missing (browser test; optional)"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $opt_missing >/dev/null ||
		echo "deps: could not install$opt_missing: the browser test will skip" >&2
fi
