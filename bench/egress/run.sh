#!/usr/bin/env bash
# Egress benchmark: a bulk download and small-request latency through the sandbox's userspace
# network stack, against the same over a bare veth pair, interleaved in one run, on the fake
# internet the integration tests build (network namespaces; nothing leaves the machine).
# Run as root from anywhere in the repository. Prints MB/s and ms for both, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec go test -tags seccomp ./integration -run '^$' -bench Egress -benchtime "${1:-1}x"
