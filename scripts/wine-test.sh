#!/usr/bin/env bash
# Windows on the Linux CI: the test binaries of every package with tests compile for Windows,
# and those of platform/windows/..., profiles and platform/safefs run under Debian's wine64, one throw-away
# prefix for all.
#
# Debian 12's wine 8.0 has no bcryptprimitives.dll, which every Go 1.24+ Windows binary loads
# from system32 at start for ProcessPrng ("fatal error: bcryptprimitives.dll not found"):
# scripts/wine/bcryptprimitives.c is built here with mingw-w64 and put in the prefix.
# Tests that need Windows itself (AppContainer, ACLs, Job Objects) call
# platform/windows/wintest.RequireWindows and skip here; they run on GitHub's windows-latest
# runner (.github/workflows/windows.yml). Tests failing for a known bug that is not wine's are
# listed in scripts/wine/known-failures.
# Called by scripts/test.sh; leaves nothing behind (prefix, binaries, wineserver).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_install wine64 gcc-mingw-w64-x86-64
ensure_go
wine64="$(command -v wine64 || echo /usr/lib/wine/wine64)"
wineserver="$(command -v wineserver || echo /usr/lib/wine/wineserver)"

# Everything goes under one directory, wine's server socket too (wine puts it in $TMPDIR).
work="$(mktemp -d /tmp/agentrun-wine-XXXXXX)"
mkdir "$work/tmp" "$work/bin"
export TMPDIR="$work/tmp" WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all
cleanup() {
  if [ -e "$WINEPREFIX" ]; then
    "$wineserver" -k 2>/dev/null || true
    "$wineserver" -w 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

# The prefix's first boot takes a while (≈15 s on two cores): start it now, behind the builds.
boot_start="$EPOCHREALTIME"
"$wine64" wineboot -i >"$work/boot.log" 2>&1 &
boot_pid=$!

echo "== test binaries compile for windows (every package with tests)"
start="$EPOCHREALTIME"
pkgs="$(GOOS=windows go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...)"
# shellcheck disable=SC2086 # one package a word
GOOS=windows go test -c -o /dev/null $pkgs
echo "ok   $(echo "$pkgs" | wc -l) packages $(since "$start")"

# profiles too: the backends' pure input, whose rules are written with / on every OS and
# resolved on the Windows host (its paths, globs and goldens must hold there as on Linux);
# and safefs, the after-run checks' file operations (os.Root outside Linux).
under_wine=(./platform/windows/... ./profiles ./platform/safefs)
echo "== ${under_wine[*]} under wine64"
GOOS=windows go test -c -o "$work/bin/" "${under_wine[@]}"
x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -shared -nostdlib -Wl,--entry,DllEntry -Wl,--dynamicbase \
  -o "$work/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c -ladvapi32
if ! wait "$boot_pid"; then
  echo "wine64 wineboot failed:"; cat "$work/boot.log"; exit 1
fi
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
# One server for every test binary, until cleanup kills it. wineboot's own server lingers a few
# seconds after it ends, and `wineserver -p` exits 2 while another server runs (the CI's exit 2 when
# the builds were as quick as the boot): wait for that one to go first.
"$wineserver" -w
"$wineserver" -p
echo "prefix booted in $(since "$boot_start") (from the start, behind the builds)"

status=0
# run_wine runs a test binary in its package's directory (its testdata) under wine.
run_wine() {
  local dir="$1" bin="$2"; shift 2
  (cd "$dir" && AGENTRUN_EXPECT_WINE=1 timeout -k 10 300 "$wine64" "$bin" -test.count=1 "$@")
}
while read -r dir importpath; do
  bin="$work/bin/${importpath##*/}.test.exe"
  [ -e "$bin" ] || continue # no tests
  rel="${dir#"$PWD"/}"
  known="$(awk -v p="$rel" '$1 == p { printf "%s%s", sep, "^" $2 "$"; sep = "|" }' scripts/wine/known-failures)"
  start="$EPOCHREALTIME"
  if run_wine "$dir" "$bin" ${known:+-test.skip "$known"} >"$work/out" 2>&1; then
    echo "ok   $rel $(since "$start")"
  else
    echo "FAIL $rel $(since "$start")"; cat "$work/out"; status=1
  fi
  if [ -n "$known" ]; then
    if run_wine "$dir" "$bin" -test.run "$known" >"$work/out" 2>&1; then
      echo "FAIL $rel: $known now passes under wine: remove it from scripts/wine/known-failures"; status=1
    else
      echo "     $rel: known failures still fail ($known; scripts/wine/known-failures)"
    fi
  fi
done < <(GOOS=windows go list -f '{{.Dir}} {{.ImportPath}}' "${under_wine[@]}")

# agentrun.exe itself, as a user runs it (wine has no AppContainer: enforce mode must refuse,
# naming the layer; audit mode runs the agent in a Job Object).
echo "== agentrun.exe under wine64"
GOOS=windows go build -o "$work/bin/agentrun.exe" ./cmd/agentrun
mkdir -p "$work/workspace"
# expect WHAT STATUS PATTERN -- ARGS: agentrun.exe ARGS exits with STATUS and prints PATTERN.
expect() {
  local what="$1" want="$2" pattern="$3"; shift 4
  local got=0
  (cd "$work/workspace" && env -u TERM ${with_env:+"$with_env"} timeout -k 10 120 "$wine64" "$work/bin/agentrun.exe" "$@" </dev/null >"$work/out" 2>&1) || got=$?
  if [ "$got" = "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" "$work/out"; }; then
    echo "ok   agentrun.exe: $what"
  else
    echo "FAIL agentrun.exe: $what: exit $got (want $want), output without \"$pattern\":"; cat "$work/out"; status=1
  fi
}
expect "doctor" 0 "windows: AppContainer backend" -- doctor
expect "a dry run" 0 "layer job object" -- --dry-run --profile base -- cmd /c echo hello
expect "enforce mode without AppContainer refuses" 125 "the appcontainer layer cannot be set up" -- --profile base -- cmd /c echo hello
expect "an audit run prints" 0 "hello" -- --mode audit --profile base -- cmd /c echo hello
expect "an audit run's exit status" 7 "" -- --mode audit --profile base -- cmd /c exit 7
expect "a command that does not exist" 127 "" -- --mode audit --profile base -- no-such-agent
# The profile passes TERM; the host's variable is spelled Term (TERM is unset for these runs): on
# Windows that is TERM.
with_env=Term=wine-test expect "variables named without regard to case, as Windows does" 0 'Term=wine-test' -- --mode audit --profile base -- cmd /c set Term
expect "Windows' own variables reach the agent" 0 'SystemRoot=' -- --mode audit --profile base -- cmd /c set SystemRoot
exit "$status"
