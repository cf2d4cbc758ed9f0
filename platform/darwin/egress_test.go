package darwin

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

func TestProxyEnv(t *testing.T) {
	got := withEnv([]string{"PATH=/usr/bin", "https_proxy=http://corp:3128", "NO_PROXY=*"}, proxyEnv(4001, 4002))
	want := []string{"PATH=/usr/bin",
		"HTTP_PROXY=http://127.0.0.1:4001", "http_proxy=http://127.0.0.1:4001",
		"HTTPS_PROXY=http://127.0.0.1:4001", "https_proxy=http://127.0.0.1:4001",
		"ALL_PROXY=socks5h://127.0.0.1:4002", "all_proxy=socks5h://127.0.0.1:4002",
		"NO_PROXY=", "no_proxy="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestEgressFailsClosed: until the proxy is wired in, a policy with network does not run,
// and one without runs with no proxy.
func TestEgressFailsClosed(t *testing.T) {
	pol := samplePolicy()
	eg, err := startEgress(context.Background(), pol, nil)
	if err != nil || len(eg.Ports) != 0 || len(eg.Env) != 0 {
		t.Errorf("no network: %+v, %v", eg, err)
	}
	pol.Network.Allow = []profiles.NetRule{{}}
	if eg, err := startEgress(context.Background(), pol, nil); err == nil {
		if len(eg.Ports) == 0 {
			t.Error("a policy with network got no proxy port and no error")
		}
		eg.Stop()
	} else if !errors.Is(err, errNoProxy) {
		t.Errorf("error %v", err)
	}
}
