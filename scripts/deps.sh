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
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
