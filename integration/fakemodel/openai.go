package fakemodel

// Codex (codex exec, 0.171.0) against this server, as probed on loopback (and run by
// TestAgents):
//
//   - Pointed here by a model provider of its own, as -c overrides (the same keys would do in
//     $CODEX_HOME/config.toml): model_provider=fake, model_providers.fake.name=fake,
//     model_providers.fake.base_url="http://HOST:PORT/v1", model_providers.fake.env_key=OPENAI_API_KEY
//     (the variable holding the key; any value), model_providers.fake.wire_api=responses,
//     model_providers.fake.supports_websockets=false; and -m fake-model, a model it has no
//     metadata for (a warning), so that it offers the plain tool set: a function
//     exec_command{cmd}. It no longer reads OPENAI_BASE_URL. The built-in provider takes
//     -c openai_base_url=URL instead, but first tries a WebSocket (GET …/responses, Upgrade)
//     again and again (about 7 s) before falling back to HTTP, and its default model gets "code
//     mode": the tools come in an additional_tools input item and the shell is reachable only
//     from JavaScript run by its exec tool (in codex-code-mode-host). The server answers that
//     too (tried: it works), but the provider above is simpler and quicker.
//   - Flags: exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox: no
//     approvals and no sandbox of its own (no bubblewrap, no Landlock; the request's metadata
//     says sandbox "none"). The prompt is the last argument; stdin not a terminal.
//   - Hosts it tries otherwise (all fail harmlessly offline): api.github.com, github.com and
//     chatgpt.com (plugins: --disable plugins), ab.chatgpt.com (OTLP metrics:
//     -c analytics.enabled=false), api.openai.com (the built-in provider without
//     openai_base_url). With the flags above it looked up no name at all.
//   - A custom CA: SSL_CERT_FILE or CODEX_CA_CERTIFICATE, a PEM file (both tried over HTTPS
//     with a test CA; without either the handshake fails and it retries "waiting for network").
//
// What it sends: POST …/responses, streamed (SSE), the whole conversation in input each time;
// tool results come back as function_call_output items (custom_tool_call_output in code
// mode), their output a string ("…Process exited with code N\n…Output:\n…").

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// openaiRequest is what the server reads of a Responses API request.
type openaiRequest struct {
	Model  string          `json:"model"`
	Stream bool            `json:"stream"`
	Input  json.RawMessage `json:"input"` // a string, or items
	Tools  []openaiTool    `json:"tools"`
}

// openaiTool is a tool the agent offers: a function (parameters a JSON schema), a freeform
// (custom) tool, a built-in such as local_shell, or a namespace of tools.
type openaiTool struct {
	Type       string       `json:"type"`
	Name       string       `json:"name"`
	Parameters *toolSchema  `json:"parameters"`
	Tools      []openaiTool `json:"tools"` // a namespace's
}

// toolSchema is what the server reads of a function's parameters.
type toolSchema struct {
	Properties map[string]struct {
		Type string `json:"type"`
	} `json:"properties"`
}

// openaiItem is an input item: a message, a tool call or a tool result, or (code mode) a set
// of additional tools.
type openaiItem struct {
	Type   string          `json:"type"`
	CallID string          `json:"call_id"`
	Output json.RawMessage `json:"output"` // a string, or content items
	Tools  []openaiTool    `json:"tools"`
}

// openaiShell is how a command is asked of the agent's shell tool: the output item to send.
type openaiShell func(callID, command string) map[string]any

// openai answers a Responses API request (Codex): the next command as a call of its shell
// tool, or the final text as a message; streamed when asked.
func (s *Server) openai(w http.ResponseWriter, r *http.Request) {
	var req openaiRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var items []openaiItem
	_ = json.Unmarshal(req.Input, &items) // a plain string input has no items
	tools := req.Tools
	results := 0
	for _, it := range items {
		switch it.Type {
		case "additional_tools":
			tools = append(tools, it.Tools...)
		case "function_call_output", "custom_tool_call_output", "local_shell_call_output":
			out := toolText(it.Output)
			s.record(Result{API: "openai", Step: results, Output: out, IsError: exitedNonZero(out)})
			results++
		}
	}
	command, final := s.turn(results)
	shell := openaiShellOf(tools)
	if shell == nil {
		command, final = "ok", true // a side request: a title, a summary
	}
	var item map[string]any
	if final {
		item = map[string]any{"type": "message", "id": fmt.Sprintf("msg_fake_%d", results), "role": "assistant",
			"status": "completed", "phase": "final_answer",
			"content": []any{map[string]any{"type": "output_text", "text": command, "annotations": []any{}}}}
	} else {
		item = shell(fmt.Sprintf("call_fake_%d", results), command)
		item["id"] = fmt.Sprintf("fc_fake_%d", results)
		item["status"] = "completed"
	}
	resp := map[string]any{
		"id": fmt.Sprintf("resp_fake_%d", results), "object": "response", "model": req.Model,
		"status": "completed", "output": []any{item},
		"usage": map[string]any{"input_tokens": 10, "output_tokens": 10, "total_tokens": 20,
			"input_tokens_details": map[string]int{"cached_tokens": 0}, "output_tokens_details": map[string]int{"reasoning_tokens": 0}},
	}
	if !req.Stream {
		writeJSON(w, resp)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	created := map[string]any{"id": resp["id"], "object": "response", "model": req.Model, "status": "in_progress", "output": []any{}}
	seq := 0
	event := func(typ string, data map[string]any) {
		data["type"], data["sequence_number"] = typ, seq
		seq++
		sse(w, typ, data)
	}
	event("response.created", map[string]any{"response": created})
	event("response.in_progress", map[string]any{"response": created})
	event("response.output_item.added", map[string]any{"output_index": 0, "item": item})
	if final {
		event("response.output_text.delta", map[string]any{"output_index": 0, "content_index": 0, "item_id": item["id"], "delta": command})
		event("response.output_text.done", map[string]any{"output_index": 0, "content_index": 0, "item_id": item["id"], "text": command})
	}
	event("response.output_item.done", map[string]any{"output_index": 0, "item": item})
	event("response.completed", map[string]any{"response": resp})
}

// openaiShellOf finds, among the tools (namespaces searched too), the one that runs a shell
// command, and says how to call it; nil if there is none.
func openaiShellOf(tools []openaiTool) openaiShell {
	var fn, code openaiShell
	var walk func([]openaiTool)
	walk = func(ts []openaiTool) {
		for _, t := range ts {
			switch {
			case t.Type == "namespace":
				walk(t.Tools)
			case t.Type == "local_shell" && fn == nil:
				fn = func(callID, command string) map[string]any {
					return map[string]any{"type": "local_shell_call", "call_id": callID,
						"action": map[string]any{"type": "exec", "command": []string{"bash", "-lc", command}}}
				}
			case t.Type == "function" && fn == nil && isShellName(t.Name):
				fn = functionCall(t)
			case t.Type == "custom" && t.Name == "exec":
				code = codeModeCall
			}
		}
	}
	walk(tools)
	if fn != nil {
		return fn
	}
	return code
}

// isShellName says whether a function tool of this name runs a shell command.
func isShellName(name string) bool {
	switch name {
	case "exec_command", "shell", "shell_command", "container.exec":
		return true
	}
	return false
}

// functionCall calls function tool t with the command in the argument its schema has for one:
// cmd or command, a string, or an argv (type array) run by bash -lc.
func functionCall(t openaiTool) openaiShell {
	arg, argv := "command", false
	if t.Parameters != nil {
		if _, ok := t.Parameters.Properties["cmd"]; ok {
			arg = "cmd"
		}
		argv = t.Parameters.Properties[arg].Type == "array"
	}
	return func(callID, command string) map[string]any {
		args := map[string]any{arg: command}
		if argv {
			args[arg] = []string{"bash", "-lc", command}
		}
		b, _ := json.Marshal(args)
		return map[string]any{"type": "function_call", "call_id": callID, "name": t.Name, "arguments": string(b)}
	}
}

// codeModeCall asks for command through Codex's code mode: a JavaScript cell for its exec tool
// that calls the nested exec_command and returns its output.
func codeModeCall(callID, command string) map[string]any {
	cmd, _ := json.Marshal(command)
	js := "const r = await tools.exec_command({cmd: " + string(cmd) + "});\n" +
		"text(typeof r === \"string\" ? r : (r.output ?? \"\") + (r.exit_code ? \"\\nProcess exited with code \" + r.exit_code : \"\"));\n"
	return map[string]any{"type": "custom_tool_call", "call_id": callID, "name": "exec", "input": js}
}

// exitedNonZero reads Codex's report of a command's end ("Process exited with code N") from a
// tool result.
func exitedNonZero(out string) bool {
	const mark = "Process exited with code "
	i := strings.LastIndex(out, mark)
	if i < 0 {
		return false
	}
	rest := out[i+len(mark):]
	if j := strings.IndexAny(rest, "\r\n"); j >= 0 {
		rest = rest[:j]
	}
	code, err := strconv.Atoi(strings.TrimSpace(rest))
	return err == nil && code != 0
}
