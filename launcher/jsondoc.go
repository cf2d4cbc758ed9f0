package launcher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonObject is a JSON object that keeps its keys in order, so a file agentrun writes back
// differs from the agent's only where agentrun changed it. A repeated key keeps its first
// place and its last value, as JavaScript's JSON.parse does.
type jsonObject struct {
	keys []string
	vals map[string]any
}

func (o *jsonObject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

func (o *jsonObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *jsonObject) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, x := range o.keys {
		if x == k {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// MarshalJSON writes the object with its keys in order.
func (o *jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// parseJSONDoc reads one JSON value with objects as *jsonObject and numbers as
// json.Number (written back as they were).
func parseJSONDoc(src []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	v, err := decodeJSON(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

func decodeJSON(d *json.Decoder, depth int) (any, error) {
	if depth > 200 {
		return nil, errors.New("nested too deeply")
	}
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jsonObject{vals: map[string]any{}}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeJSON(d, depth+1)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			_, err := d.Token()
			return o, err
		case '[':
			a := []any{}
			for d.More() {
				v, err := decodeJSON(d, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := d.Token()
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// encodeJSONDoc writes v indented by two spaces, as Claude Code writes its files.
func encodeJSONDoc(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// jsonEqual compares two decoded documents.
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// programKeys are the members of an agent's settings that start programs outside the
// sandbox, wherever they appear (projects.*.mcpServers in ~/.claude.json among them):
// Claude Code's hooks, statusLine, apiKeyHelper, MCP servers, env and plugins; Gemini
// CLI's mcpServers and tool commands.
var programKeys = map[string]bool{
	"hooks": true, "statusLine": true, "apiKeyHelper": true, "mcpServers": true,
	"enabledMcpjsonServers": true, "enableAllProjectMcpServers": true, "env": true,
	"awsAuthRefresh": true, "awsCredentialExport": true, "otelHeadersHelper": true,
	"fileSuggestion": true, "enabledPlugins": true, "extraKnownMarketplaces": true,
	"toolDiscoveryCommand": true, "toolCallCommand": true, "discoveryCommand": true,
	"callCommand": true, "notify": true, "mcp_servers": true,
}

// keyChange is one program key the agent changed: where, and its value before and after
// ("" when absent).
type keyChange struct {
	Path          string
	Before, After string
}

// holdBackKeys returns newDoc with every program key as it was in oldDoc (absent where it
// was absent), and the changes it reverted. A document whose top level is not an object
// is held back whole when it differs.
func holdBackKeys(oldDoc, newDoc any) (any, []keyChange) {
	var changes []keyChange
	merged := revertKeys(oldDoc, newDoc, "", &changes)
	return merged, changes
}

func revertKeys(oldV, newV any, at string, changes *[]keyChange) any {
	newO, ok := newV.(*jsonObject)
	if !ok {
		return newV
	}
	oldO, _ := oldV.(*jsonObject)
	if oldO == nil {
		oldO = &jsonObject{vals: map[string]any{}}
	}
	out := &jsonObject{vals: map[string]any{}}
	for _, k := range newO.keys {
		out.set(k, newO.vals[k])
	}
	for _, k := range newO.keys {
		p := k
		if at != "" {
			p = at + "." + k
		}
		nv := newO.vals[k]
		ov, inOld := oldO.get(k)
		if !programKeys[k] {
			out.set(k, revertKeys(ov, nv, p, changes))
			continue
		}
		if inOld && jsonEqual(nv, ov) {
			continue
		}
		// Added or changed (a key the agent removed stays removed: that starts nothing).
		*changes = append(*changes, keyChange{Path: p, Before: compact(ov, inOld), After: compact(nv, true)})
		if inOld {
			out.set(k, ov)
		} else {
			out.del(k)
		}
	}
	return out
}

func compact(v any, present bool) string {
	if !present {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
