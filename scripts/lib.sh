# Shared by install.sh and test.sh: find or install a Go toolchain that can build agentrun.
# Sourced, not run.

# as_root runs a command as root, through sudo when needed.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
# apt_install installs Debian/Ubuntu packages that are missing.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# go_minor prints the minor version of the go command in $1 (1.22.3 → 22), or 0.
go_minor() {
  "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p' | grep . || echo 0
}

# ensure_go puts a go command on PATH that can build the module. Go 1.21 or newer fetches the
# exact toolchain go.mod asks for from the Go module proxy by itself (GOTOOLCHAIN=auto).
ensure_go() {
  local candidates=(go /usr/local/go/bin/go /usr/lib/go/bin/go)
  for d in /usr/lib/go-1.*/bin/go; do candidates+=("$d"); done
  for g in "${candidates[@]}"; do
    if command -v "$g" >/dev/null 2>&1 && [ "$(go_minor "$g")" -ge 21 ]; then
      export PATH="$(dirname "$(command -v "$g")"):$PATH"
      export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
      return 0
    fi
  done
  echo "agentrun: installing Go from the distribution's packages" >&2
  apt_install golang-go ca-certificates git
  if [ "$(go_minor go)" -lt 21 ]; then
    # Debian 12 ships Go 1.19, Ubuntu 22.04 Go 1.18: take a newer versioned package, from
    # Debian's backports where needed.
    if grep -q bookworm /etc/os-release 2>/dev/null; then
      echo "deb http://deb.debian.org/debian bookworm-backports main" | as_root tee /etc/apt/sources.list.d/agentrun-backports.list >/dev/null
      apt_updated=""
      as_root apt-get update -qq
    fi
    for v in 1.24 1.23 1.22 1.21; do
      if apt-cache show "golang-$v-go" >/dev/null 2>&1; then
        apt_install "golang-$v-go"
        export PATH="/usr/lib/go-$v/bin:$PATH"
        break
      fi
    done
  fi
  if [ "$(go_minor go)" -lt 21 ]; then
    echo "agentrun: need Go 1.21 or newer to build (found $(go version 2>/dev/null || echo none)); install it and run again" >&2
    return 1
  fi
  export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
}
