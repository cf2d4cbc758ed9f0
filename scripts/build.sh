#!/usr/bin/env bash
# Builds agentrun into $1 (default bin/agentrun) and its sandbox stage, agentrun-stage, beside
# it. On amd64 both are pure Go, static, without cgo (no C library's start-up at every
# launch): agentrun's seccomp filters are compiled when it is built
# (platform/linux/seccompfilter/programs_linux_amd64.go, generated and checked by
# TestPrograms), and it asks getent for users its /etc/passwd reading does not find
# (userdirs/lookup.go). Elsewhere agentrun compiles its filters with libseccomp (-tags
# seccomp), linked statically so the binary runs where libseccomp is absent, and links libc
# for NSS. urfave/cli without its man-page and markdown generators, whose packages cost every
# start. agentrun is given the stage's Go build ID and uses only that stage binary
# (otherwise it starts itself as the stage, slower).
# The one place that knows how agentrun is built: install.sh, the tests and the benchmarks use it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bin/agentrun}"
version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
ldflags="${CGO_LDFLAGS:-}"
stage="$(dirname "$out")/agentrun-stage"
# The stage only loads the filter agentrun sends: no cgo, no libc (no C library's start-up at
# every launch). It looks up no user and no name, so the pure Go user and DNS code does.
CGO_ENABLED=0 go build -tags osusergo,netgo -trimpath \
  -ldflags "-s -w" -o "$stage" ./cmd/agentrun-stage
stage_id="$(go tool buildid "$stage")"
link="-s -w -X github.com/agentrun/agentrun/cmd/agentrun/cli.Version=$version -X github.com/agentrun/agentrun/platform/linux.stageBuildID=$stage_id"
if [ "$(go env GOARCH)" = amd64 ]; then
  # The built-in seccomp programs must have been compiled from today's rules (pure Go check).
  if ! check="$(CGO_ENABLED=0 go test -count=1 -run '^TestProgramsMatchRules$' ./platform/linux/seccompfilter 2>&1)"; then
    echo "$check" >&2
    echo "build.sh: the built-in seccomp programs are stale; regenerate them as said above" >&2
    exit 1
  fi
  CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags "$link" -o "$out" ./cmd/agentrun
else
  CGO_ENABLED=1 CGO_LDFLAGS="$ldflags -Wl,-Bstatic -lseccomp -Wl,-Bdynamic" go build -tags seccomp,urfave_cli_no_docs -trimpath \
    -ldflags "$link" -o "$out" ./cmd/agentrun
fi
