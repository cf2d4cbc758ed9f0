#!/usr/bin/env bash
# Builds agentrun into $1 (default bin/agentrun) and its sandbox stage, agentrun-stage, beside
# it: libcontainer's seccomp support on (-tags seccomp), libseccomp linked statically so the
# binaries run where libseccomp is absent; urfave/cli without its man-page and markdown
# generators, whose packages cost every start. agentrun is given the stage's Go build ID and
# uses only that stage binary (otherwise it starts itself as the stage, slower).
# The one place that knows how agentrun is built: install.sh, the tests and the benchmarks use it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bin/agentrun}"
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
export CGO_ENABLED=1
export CGO_LDFLAGS="${CGO_LDFLAGS:-} -Wl,-Bstatic -lseccomp -Wl,-Bdynamic"
stage="$(dirname "$out")/agentrun-stage"
build() { go build -tags seccomp,urfave_cli_no_docs -trimpath "$@"; }
build -ldflags "-s -w" -o "$stage" ./cmd/agentrun-stage
stage_id="$(go tool buildid "$stage")"
build -ldflags "-s -w -X github.com/agentrun/agentrun/cmd/agentrun/cli.Version=$version -X github.com/agentrun/agentrun/platform/linux.stageBuildID=$stage_id" \
  -o "$out" ./cmd/agentrun
