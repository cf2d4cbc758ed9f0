#!/usr/bin/env bash
# Runs agentrun's whole test suite on a Debian/Ubuntu machine, installing what it needs:
# formatting, go vet, staticcheck, the cross-builds for macOS and Windows, and go test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_install ca-certificates git
ensure_go
export PATH="$(go env GOPATH)/bin:$PATH"

echo "== gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet (linux, darwin, windows)"
go vet ./...
GOOS=darwin go vet ./...
GOOS=windows go vet ./...

echo "== staticcheck"
if ! command -v staticcheck >/dev/null || ! staticcheck -version | grep -qF '(0.8.2)'; then
  GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
staticcheck ./...

echo "== go test"
go test -count=1 ./... "$@"
