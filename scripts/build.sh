#!/usr/bin/env bash
# Builds agentrun into $1 (default bin/agentrun) and its sandbox stage, agentrun-stage, beside
# it: libseccomp on in agentrun (-tags seccomp: it compiles the stage's filter), linked
# statically so the binary runs where libseccomp is absent (the stage is pure Go); urfave/cli without its man-page and markdown
# generators, whose packages cost every start. agentrun is given the stage's Go build ID and
# uses only that stage binary (otherwise it starts itself as the stage, slower).
# The one place that knows how agentrun is built: install.sh, the tests and the benchmarks use it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bin/agentrun}"
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
export CGO_ENABLED=1
ldflags="${CGO_LDFLAGS:-}"
stage="$(dirname "$out")/agentrun-stage"
# The stage is pure Go (no cgo, no libc: static, and no C library's start-up at every launch):
# agentrun compiles the seccomp filter with libseccomp and the stage only loads it. It looks up
# no user and no name, so the pure Go user and DNS code does.
CGO_ENABLED=0 go build -tags osusergo,netgo -trimpath \
  -ldflags "-s -w" -o "$stage" ./cmd/agentrun-stage
stage_id="$(go tool buildid "$stage")"
# agentrun links libc dynamically (its user lookups go through NSS), libseccomp statically.
CGO_LDFLAGS="$ldflags -Wl,-Bstatic -lseccomp -Wl,-Bdynamic" go build -tags seccomp,urfave_cli_no_docs -trimpath \
  -ldflags "-s -w -X github.com/agentrun/agentrun/cmd/agentrun/cli.Version=$version -X github.com/agentrun/agentrun/platform/linux.stageBuildID=$stage_id" \
  -o "$out" ./cmd/agentrun
