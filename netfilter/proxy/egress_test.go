package proxy

import (
	"context"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/agentrun/agentrun/platform"
	"github.com/agentrun/agentrun/profiles"
)

// TestEgressStartsTheProxy: a policy without network gets no proxy; one with network gets the
// proxy on a loopback port, and variables that point at it and override the caller's.
func TestEgressStartsTheProxy(t *testing.T) {
	pol := &profiles.Policy{Name: "sample", Mode: profiles.ModeEnforce}
	eg, err := StartFor(context.Background(), pol, nil)
	if err != nil || len(eg.Ports) != 0 || len(eg.Env) != 0 {
		t.Errorf("no network: %+v, %v", eg, err)
	}
	pol.Network.Allow = []profiles.NetRule{{Host: "example.com", Ports: []profiles.PortRange{{From: 443, To: 443}}}}
	eg, err = StartFor(context.Background(), pol, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eg.Stop()
	if len(eg.Ports) != 1 {
		t.Fatalf("ports %v, want the proxy's one", eg.Ports)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(eg.Ports[0]))
	if err != nil {
		t.Fatalf("the proxy does not listen on its port: %v", err)
	}
	c.Close()
	env := platform.WithEnv([]string{"PATH=/usr/bin", "https_proxy=http://corp:3128", "NO_PROXY=*"}, eg.Env)
	want := "https_proxy=http://127.0.0.1:" + strconv.Itoa(eg.Ports[0])
	if !slices.Contains(env, want) || slices.Contains(env, "https_proxy=http://corp:3128") || !slices.Contains(env, "NO_PROXY=") {
		t.Errorf("the agent's variables %q: want %s, the caller's proxy and NO_PROXY replaced", env, want)
	}
}
