#!/usr/bin/env bash
# Installs agentrun on a Debian/Ubuntu machine: its prerequisites, then the binary and its
# sandbox stage (agentrun-stage, which it runs itself) in /usr/local/bin (PREFIX=/usr/local).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_install ca-certificates git gcc libc6-dev
# On amd64 agentrun's seccomp filters are compiled when it is built (they ship with the
# source); elsewhere agentrun compiles them with libseccomp.
if [ "$(dpkg --print-architecture)" != amd64 ]; then
  apt_install pkg-config libseccomp-dev
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
