#!/usr/bin/env bash
# Installs agentrun on a Debian/Ubuntu machine: its prerequisites, then the binary and its
# sandbox stage (agentrun-stage, which it runs itself) in /usr/local/bin (PREFIX=/usr/local).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_install ca-certificates git
# On amd64 agentrun is pure Go (its seccomp filters are compiled when it is built, and ship
# with the source); elsewhere it compiles them with libseccomp, through cgo.
if [ "$(dpkg --print-architecture)" != amd64 ]; then
  apt_install gcc libc6-dev pkg-config libseccomp-dev
fi
# Where the kernel has AppArmor, each run as root loads a profile: that needs apparmor_parser.
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = "Y" ]; then
  apt_install apparmor
fi
ensure_go
prefix="${PREFIX:-/usr/local}"
scripts/build.sh bin/agentrun
# The stage first: an agentrun whose stage binary is from another build starts itself instead.
as_root install -D -m 0755 bin/agentrun-stage "$prefix/bin/agentrun-stage"
as_root install -D -m 0755 bin/agentrun "$prefix/bin/agentrun"
echo "agentrun (and its sandbox stage, agentrun-stage) installed in $prefix/bin; agentrun doctor says what this host offers" >&2
