#!/usr/bin/env bash
# Builds agentrun into $1 (default bin/agentrun): libcontainer's seccomp support on
# (-tags seccomp), libseccomp linked statically so the binary runs where libseccomp is absent;
# urfave/cli without its man-page and markdown generators, whose packages cost every start.
# The one place that knows how agentrun is built: install.sh, the tests and the benchmarks use it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bin/agentrun}"
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
export CGO_ENABLED=1
export CGO_LDFLAGS="${CGO_LDFLAGS:-} -Wl,-Bstatic -lseccomp -Wl,-Bdynamic"
exec go build -tags seccomp,urfave_cli_no_docs -trimpath \
  -ldflags "-s -w -X github.com/agentrun/agentrun/cmd/agentrun/cli.Version=$version" \
  -o "$out" ./cmd/agentrun
