package wsb

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// The documented elements (Windows Sandbox configuration): each element's allowed children,
// and whether a child may repeat. Anything else fails the check.
var schema = map[string]map[string]bool{
	"Configuration": {"VGpu": false, "Networking": false, "MappedFolders": false, "LogonCommand": false, "AudioInput": false,
		"VideoInput": false, "ProtectedClient": false, "PrinterRedirection": false, "ClipboardRedirection": false, "MemoryInMB": false},
	"MappedFolders": {"MappedFolder": true},
	"MappedFolder":  {"HostFolder": false, "SandboxFolder": false, "ReadOnly": false},
	"LogonCommand":  {"Command": false},
}

// checkedConfig is a decode of the documented elements with every value as text, so that the
// check sees what was written rather than what encoding/xml would accept.
type checkedConfig struct {
	VGpu, Networking, AudioInput, VideoInput, ProtectedClient, PrinterRedirection, ClipboardRedirection, MemoryInMB string
	MappedFolders                                                                                                   struct {
		MappedFolder []struct{ HostFolder, SandboxFolder, ReadOnly string }
	}
	LogonCommand struct{ Command string }
}

// checkWSB decodes a .wsb strictly: only documented elements, each once where it cannot
// repeat, no attributes or stray text, the required ones present, values from the documented
// sets.
func checkWSB(data []byte) (*checkedConfig, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var stack []string
	var seen []map[string]bool
	root := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "" || len(t.Attr) > 0 {
				return nil, fmt.Errorf("<%s>: no namespace or attribute is documented", name)
			}
			if len(stack) == 0 {
				if name != "Configuration" || root {
					return nil, fmt.Errorf("root element <%s>, want one <Configuration>", name)
				}
				root = true
			} else {
				parent := stack[len(stack)-1]
				repeat, ok := schema[parent][name]
				if !ok {
					return nil, fmt.Errorf("<%s> in <%s> is not a documented element", name, parent)
				}
				if seen[len(seen)-1][name] && !repeat {
					return nil, fmt.Errorf("<%s> twice in <%s>", name, parent)
				}
				seen[len(seen)-1][name] = true
			}
			stack = append(stack, name)
			seen = append(seen, map[string]bool{})
		case xml.EndElement:
			stack, seen = stack[:len(stack)-1], seen[:len(seen)-1]
		case xml.CharData:
			if len(stack) > 0 && schema[stack[len(stack)-1]] != nil && strings.TrimSpace(string(t)) != "" {
				return nil, fmt.Errorf("text %q in <%s>", t, stack[len(stack)-1])
			}
		case xml.ProcInst, xml.Directive:
			return nil, fmt.Errorf("unexpected %T", t)
		}
	}
	if !root {
		return nil, fmt.Errorf("no <Configuration>")
	}
	var c checkedConfig
	if err := xml.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	onOff := map[string]bool{Enable: true, Disable: true, Default: true}
	for name, v := range map[string]string{"VGpu": c.VGpu, "Networking": c.Networking, "AudioInput": c.AudioInput, "VideoInput": c.VideoInput,
		"ProtectedClient": c.ProtectedClient, "PrinterRedirection": c.PrinterRedirection, "ClipboardRedirection": c.ClipboardRedirection} {
		if !onOff[v] {
			return nil, fmt.Errorf("<%s> is %q, want Enable, Disable or Default (every setting is written)", name, v)
		}
	}
	if n, err := strconv.ParseInt(c.MemoryInMB, 10, 64); err != nil || n <= 0 {
		return nil, fmt.Errorf("<MemoryInMB> is %q, want a positive number", c.MemoryInMB)
	}
	for _, m := range c.MappedFolders.MappedFolder {
		if !windowsAbs(m.HostFolder) || !windowsAbs(m.SandboxFolder) {
			return nil, fmt.Errorf("<MappedFolder> %q -> %q: both must be absolute Windows paths", m.HostFolder, m.SandboxFolder)
		}
		if m.ReadOnly != "true" && m.ReadOnly != "false" {
			return nil, fmt.Errorf("<ReadOnly> is %q, want true or false", m.ReadOnly)
		}
	}
	if c.LogonCommand.Command == "" {
		return nil, fmt.Errorf("no <LogonCommand><Command>")
	}
	return &c, nil
}

func TestCheckWSBRejects(t *testing.T) {
	good := `<Configuration><VGpu>Disable</VGpu><Networking>Disable</Networking><MappedFolders><MappedFolder><HostFolder>C:\a</HostFolder><SandboxFolder>C:\b</SandboxFolder><ReadOnly>true</ReadOnly></MappedFolder></MappedFolders><LogonCommand><Command>cmd.exe</Command></LogonCommand><AudioInput>Disable</AudioInput><VideoInput>Disable</VideoInput><ProtectedClient>Enable</ProtectedClient><PrinterRedirection>Disable</PrinterRedirection><ClipboardRedirection>Disable</ClipboardRedirection><MemoryInMB>8192</MemoryInMB></Configuration>`
	if _, err := checkWSB([]byte(good)); err != nil {
		t.Fatalf("the good configuration: %v", err)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"unknown element", "<VGpu>", "<Gpu>Disable</Gpu><VGpu>"},
		{"misspelt element", "<Networking>Disable</Networking>", "<Network>Disable</Network>"},
		{"missing setting", "<AudioInput>Disable</AudioInput>", ""},
		{"undocumented value", "<VGpu>Disable</VGpu>", "<VGpu>Off</VGpu>"},
		{"read-only as 1", "<ReadOnly>true</ReadOnly>", "<ReadOnly>1</ReadOnly>"},
		{"relative host folder", `<HostFolder>C:\a</HostFolder>`, `<HostFolder>a</HostFolder>`},
		{"twice", "<VGpu>Disable</VGpu>", "<VGpu>Disable</VGpu><VGpu>Disable</VGpu>"},
		{"attribute", "<Configuration>", `<Configuration x="1">`},
		{"no command", "<Command>cmd.exe</Command>", "<Command></Command>"},
		{"no memory", "<MemoryInMB>8192</MemoryInMB>", ""},
		{"unknown child of MappedFolder", "<ReadOnly>true</ReadOnly>", "<ReadOnly>true</ReadOnly><Mode>rw</Mode>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatal("the test's replacement did not apply")
			}
			if _, err := checkWSB([]byte(bad)); err == nil {
				t.Errorf("accepted %s", bad)
			}
		})
	}
}
