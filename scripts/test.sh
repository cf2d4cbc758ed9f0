#!/usr/bin/env bash
# Runs agentrun's whole test suite on a Debian/Ubuntu machine, installing what it needs:
# formatting, go vet, staticcheck, the cross-builds for macOS and Windows, and go test,
# including the sandbox tests, which run as root (through sudo when needed).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# Build: gcc, libseccomp. Tests: real clients and tools run inside the sandbox (git, perl,
# python3 with pip and venv, cargo, node and npm for the agents), tmux for the terminal tests, zsh and fish for the shell
# functions of agentrun alias, setpriv and useradd
# for the unprivileged user, pgrep/ps, bubblewrap for the launch benchmark. The AppArmor VM
# tests (integration/apparmorvm): qemu, apparmor_parser, xz to unpack the kernel; they fetch
# the kernel and busybox-static themselves with apt-get download. sudo: docs/ci.md's GitHub
# step (integration/cidocs_linux_test.go).
apt_install ca-certificates git gcc libc6-dev pkg-config libseccomp-dev \
  perl python3 python3-pip python3-venv cargo tmux util-linux passwd procps bubblewrap fuse-overlayfs \
  iproute2 dnsutils iputils-ping curl apparmor \
  qemu-system-x86 xz-utils zsh fish sudo
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
ensure_go
export PATH="$(go env GOPATH)/bin:$PATH"

echo "== gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet (linux with seccomp, darwin, windows)"
go vet -tags seccomp ./...
GOOS=darwin go vet ./...
GOOS=windows go vet ./...

echo "== windows: test binaries compile; platform/windows/..., profiles and safefs tests and agentrun.exe under wine64"
./scripts/wine-test.sh

echo "== staticcheck"
if ! command -v staticcheck >/dev/null || ! staticcheck -version | grep -qF '(0.8.2)'; then
  GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
staticcheck -tags seccomp ./...
GOOS=darwin staticcheck ./...
GOOS=windows staticcheck ./...

asroot() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo --preserve-env=PATH,GOPATH,GOCACHE,GOMODCACHE,GOTOOLCHAIN,GOFLAGS "$@"
  fi
}

echo "== go test"
# The escape suite (integration/escape_*_linux_test.go) writes one line per attempt here, the
# AppArmor proof in qemu (integration/apparmor_vm_linux_test.go) the kernel's own DENIED
# (enforce) and ALLOWED (complain) records: go test shows nothing of a passing test.
export AGENTRUN_ESCAPE_REPORT="$(mktemp /tmp/agentrun-escape-XXXXXX)"
export AGENTRUN_APPARMOR_REPORT="$(mktemp /tmp/agentrun-apparmor-XXXXXX)"
trap 'rm -f "$AGENTRUN_ESCAPE_REPORT" "$AGENTRUN_APPARMOR_REPORT"' EXIT
status=0
# The integration package runs real agents at work (their sessions, their learn round trips):
# longer than go test's default 10 minutes on two cores.
asroot env AGENTRUN_ESCAPE_REPORT="$AGENTRUN_ESCAPE_REPORT" AGENTRUN_APPARMOR_REPORT="$AGENTRUN_APPARMOR_REPORT" \
  go test -tags seccomp -count=1 -timeout 30m ./... "$@" || status=$?
if [ -s "$AGENTRUN_ESCAPE_REPORT" ]; then
  grep -v $'\theld$' "$AGENTRUN_ESCAPE_REPORT" | grep -v '^escape suite:' || true
  tail -n 1 "$AGENTRUN_ESCAPE_REPORT"
fi
if [ -s "$AGENTRUN_APPARMOR_REPORT" ]; then
  echo "== AppArmor under Debian's kernel in qemu: the kernel's records"
  cat "$AGENTRUN_APPARMOR_REPORT"
fi
exit "$status"
