// Package netfilter decides which network flows a sandboxed agent may make. The egress
// decisions are pure Go; the userspace network stack and DNS server that apply them live in
// sub-packages. The policy model's profiles/metadata lists what is denied whatever a profile says.
package netfilter
