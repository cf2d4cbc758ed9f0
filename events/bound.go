package events

import "unicode/utf8"

// The longest an event's strings are kept (in bytes) by Bounded. Paths, names, command lines
// and process chains come from the sandbox; an agent can make them as long as the kernel
// lets it (a path of 4096 bytes, a command line of megabytes), and each is stored, counted in
// memory and written to the events file. Paths keep 1 KiB: real paths are shorter, and a
// longer one still says where it is.
const (
	MaxPathLen    = 1024 // Path and Exe
	MaxNameLen    = 255  // Name: a DNS name has at most 253 bytes
	MaxProcessLen = 256  // Process and each entry of Chain
	MaxChain      = 8    // entries of Chain
	MaxTextLen    = 512  // Rule and Reason
	MaxShortLen   = 64   // RunID, Profile, Op, Address, Protocol
)

// Truncated ends a string that Bounded shortened.
const Truncated = "…"

// Bounded returns e with every string shortened to its limit (at a UTF-8 boundary where
// there is one, ending in Truncated) and Chain to its first MaxChain entries. An event
// within the limits comes back as it is.
func (e Event) Bounded() Event {
	e.RunID = Clip(e.RunID, MaxShortLen)
	e.Profile = Clip(e.Profile, MaxShortLen)
	e.Kind = Kind(Clip(string(e.Kind), MaxShortLen))
	e.Process = Clip(e.Process, MaxProcessLen)
	e.Exe = Clip(e.Exe, MaxPathLen)
	e.Op = Clip(e.Op, MaxShortLen)
	e.Name = Clip(e.Name, MaxNameLen)
	e.Path = Clip(e.Path, MaxPathLen)
	e.Address = Clip(e.Address, MaxShortLen)
	e.Protocol = Clip(e.Protocol, MaxShortLen)
	e.Verdict = Verdict(Clip(string(e.Verdict), MaxShortLen))
	e.Rule = Clip(e.Rule, MaxTextLen)
	e.Reason = Clip(e.Reason, MaxTextLen)
	if needsClip(e.Chain) {
		chain := make([]string, 0, min(len(e.Chain), MaxChain))
		for i, c := range e.Chain {
			if i == MaxChain {
				break
			}
			chain = append(chain, Clip(c, MaxProcessLen))
		}
		e.Chain = chain
	}
	return e
}

func needsClip(chain []string) bool {
	if len(chain) > MaxChain {
		return true
	}
	for _, c := range chain {
		if len(c) > MaxProcessLen {
			return true
		}
	}
	return false
}

// Clip shortens s to at most n bytes, ending in Truncated, at a UTF-8 boundary where there is
// one; a shorter s comes back as it is.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(Truncated)
	// Back up to the start of a rune, unless the bytes there are not UTF-8 anyway.
	for i := cut; i > cut-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			cut = i
			break
		}
	}
	return s[:cut] + Truncated
}
