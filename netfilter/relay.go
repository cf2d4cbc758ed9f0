package netfilter

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

const (
	relayBuffer = 256 << 10
	// cutGrace is how long the server may still answer the requests that went out before a
	// connection was cut at a request naming another host.
	cutGrace = 10 * time.Second
)

// HalfCloser is the agent's side of a relayed connection: a stream that can end its
// writing half while still reading (a TCP connection, gVisor's or the kernel's).
type HalfCloser interface {
	net.Conn
	CloseWrite() error
}

// ReadFirstFlight reads a connection's first bytes until they name a host or cannot, at most
// MaxFirstFlight bytes for at most timeout. It returns what it read, to be
// forwarded once the flow is allowed.
func ReadFirstFlight(c net.Conn, timeout time.Duration) ([]byte, FirstFlight, error) {
	var first []byte
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	for {
		ff, err := SniffFirstFlight(first)
		if err != ErrIncomplete {
			return first, ff, err
		}
		if len(first) >= MaxFirstFlight {
			return first, ff, fmt.Errorf("no complete first flight in %d KiB", MaxFirstFlight>>10)
		}
		n, err := c.Read(buf[:min(len(buf), MaxFirstFlight-len(first))])
		first = append(first, buf[:n]...)
		if err != nil && n == 0 {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return first, ff, fmt.Errorf("no complete first flight within %s (%d bytes came)", timeout, len(first))
			}
			return first, ff, fmt.Errorf("the connection ended before its first flight was complete (%d bytes came)", len(first))
		}
	}
}

// Relay copies between the agent's connection and the real one until both ends are done,
// and returns the bytes moved. With check, what the agent sends is cleartext HTTP/1 and each
// request goes out only once check let it; cut says why the connection was closed early.
// With observe too (audit mode), nothing is held or cut: check's objection goes to observe.
func Relay(agent HalfCloser, up net.Conn, first []byte, check *HTTPStream, observe func(error)) (total int64, cut error) {
	var mu sync.Mutex
	add := func(n int64) { mu.Lock(); total += n; mu.Unlock() }
	if check == nil && len(first) > 0 {
		n, err := up.Write(first)
		add(int64(n))
		if err != nil {
			return total, nil
		}
	}
	// switched carries, when an upgrade is awaited, whether the server's answer was a 101.
	switched := make(chan bool, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		var n int64
		if check == nil {
			n, _ = io.CopyBuffer(up, agent, make([]byte, relayBuffer))
		} else if observe != nil {
			n = copyObserved(up, agent, first, check, observe)
		} else if n, cut = copyChecked(up, agent, first, check, switched); cut != nil {
			// The server still answers what went out before the cut, then must close.
			_ = up.SetReadDeadline(time.Now().Add(cutGrace))
		}
		add(n)
		if cw, ok := up.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	go func() {
		defer wg.Done()
		n := copyAnswers(agent, up, check != nil && observe == nil, switched)
		add(n)
		_ = agent.CloseWrite()
	}()
	wg.Wait()
	return total, cut
}

// copyObserved copies the agent's bytes to up as they come, starting with first, and feeds
// them to check too (audit mode): its first objection goes to observe, and after it, or after
// an upgrade, the stream is no longer read.
func copyObserved(up net.Conn, agent HalfCloser, first []byte, check *HTTPStream, observe func(error)) int64 {
	var total int64
	buf := make([]byte, relayBuffer)
	p, reading := first, true
	for {
		if reading {
			if _, err := check.Feed(p); err != nil {
				if err != ErrAwaitUpgrade {
					observe(err)
				}
				reading = false
			}
		}
		if len(p) > 0 {
			if _, err := up.Write(p); err != nil {
				return total
			}
			total += int64(len(p))
		}
		n, err := agent.Read(buf)
		if n == 0 && err != nil {
			return total
		}
		p = buf[:n]
	}
}

// copyChecked copies the agent's HTTP/1 requests to up as check lets them through, starting
// with first. At an upgrade it waits for the server's answer on switched.
func copyChecked(up net.Conn, agent HalfCloser, first []byte, check *HTTPStream, switched <-chan bool) (int64, error) {
	var total int64
	buf := make([]byte, relayBuffer)
	p := first
	for {
		out, err := check.Feed(p)
		if err == ErrAwaitUpgrade {
			if _, werr := up.Write(out); werr != nil {
				return total, nil
			}
			total += int64(len(out))
			out, err = check.Upgraded(<-switched)
		}
		if len(out) > 0 {
			if _, werr := up.Write(out); werr != nil {
				return total, nil
			}
			total += int64(len(out))
		}
		if err != nil {
			return total, err
		}
		n, rerr := agent.Read(buf)
		if n == 0 && rerr != nil {
			return total, nil
		}
		p = buf[:n]
	}
}

// copyAnswers copies the server's answers to the agent. With http, it tells switched whether
// the first answer's status line says 101 (an upgrade, when one is awaited), or false when
// the server closed before it.
func copyAnswers(agent HalfCloser, up net.Conn, http bool, switched chan<- bool) int64 {
	var total int64
	buf := make([]byte, relayBuffer)
	var status []byte // the first answer's start, until it can say 101 or not
	told := !http
	tell := func(v bool) {
		if !told {
			switched <- v
			told = true
		}
	}
	defer tell(false)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			if !told {
				status = append(status, buf[:min(n, 16)]...)
				if len(status) >= len("HTTP/1.1 101 ") {
					tell(IsSwitchingProtocols(status))
				}
			}
			w, werr := agent.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				return total
			}
		}
		if err != nil {
			return total
		}
	}
}
