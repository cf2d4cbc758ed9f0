package schema_test

import (
	"fmt"
	"testing"

	"github.com/agentrun/agentrun/profiles"
	"go.yaml.in/yaml/v3"
)

func TestProbe(t *testing.T) {
	for _, doc := range []string{
		"name: a\nresources: {pids: 4_096}",
		"name: a\nresources: {pids: 0x1000}",
		"name: a\nresources: {pids: 4096.0}",
		"name: a\nresources: {cpu: 0x10}",
		"name: a\nresources: {cpu: 017}",
		"name: a\nresources: {cpu: 0.0095}",
		"name: a\nresources: {memory: 017}",
		"name: a\nresources: {memory: 0x10000000}",
		"name: a\nresources: {memory: 8_000_000_000}",
		"name: a\nresources: {memory: ' 8 GiB '}",
		"name: a\nresources: {memory: 16777216B}",
		"name: a\nresources: {memory: 1.5GiB}",
		"name: a\nresources: {memory: 1e10}",
		"name: a\nnetwork: {}",
		"name: a\nnetwork: {allow: [' github.com ']}",
		"name: a\nnetwork: {allow: ['GitHub.com.:80-81,443']}",
		"name: a\nnetwork: {allow: ['2001:db8::/32']}",
		"name: a\nnetwork: {allow: ['[2001:db8::/32]:22']}",
		"name: a\nnetwork: {allow: ['bücher.de']}",
		"name: a\nnetwork: {udp: ['*.example.com:53']}",
		"name: a\nnetwork: {allow: ['*.com']}",
		"name: a\nfilesystem: {read: ['${HOME}/x']}",
		"name: a\nfilesystem: {read: ['$HOMEx']}",
		"name: a\nfilesystem: {write: ['/.']}",
		"name: a\nfilesystem: {write: ['/...']}",
		"name: a\nenv: {set: {A: 2001-12-14, B: 1.0, C: true, D: 0x10}}",
		"name: a\nenv: {set: {1A: x}}",
		"name: a\ndescription: 2",
		"name: a\nmode: audit\n",
		"name: a\nextends: [b.yaml]",
		"name: a\nmatch: ['']",
		"name: a\n'<<': {name: b}",
	} {
		_, err := profiles.Parse("x.yaml", []byte(doc))
		var v any
		yerr := yaml.Unmarshal([]byte(doc), &v)
		fmt.Printf("%-55q go-err=%v\n    yaml=%#v %v\n", doc, err, v, yerr)
	}
}
