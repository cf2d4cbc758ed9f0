#!/usr/bin/env bash
# Installs agentrun on a Debian/Ubuntu machine: its prerequisites, then the binary in
# /usr/local/bin (PREFIX=/usr/local). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_install ca-certificates git
ensure_go
prefix="${PREFIX:-/usr/local}"
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
go build -trimpath -ldflags "-s -w -X github.com/agentrun/agentrun/cmd/agentrun/cli.Version=$version" -o bin/agentrun ./cmd/agentrun
as_root install -D -m 0755 bin/agentrun "$prefix/bin/agentrun"
echo "agentrun $version installed in $prefix/bin/agentrun" >&2
