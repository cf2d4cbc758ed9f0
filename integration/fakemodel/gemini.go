package fakemodel

// Gemini CLI (gemini -p, 0.61.0) against this server, as probed on loopback (and run by
// TestAgents):
//
//   - Pointed here by GOOGLE_GEMINI_BASE_URL=http://HOST:PORT (no /v1beta: it adds that) and
//     GEMINI_API_KEY=any. The base URL alone makes it pick the "gateway" auth, which -p then
//     refuses ("Invalid auth method selected.", exit 41), so $HOME/.gemini/settings.json
//     must choose the key: {"security": {"auth": {"selectedType": "gemini-api-key"}}}.
//   - Flags: -p PROMPT --yolo (approve every tool) --skip-trust (else it turns yolo back into
//     "default" in a folder it does not trust; GEMINI_CLI_TRUST_WORKSPACE=true is what the flag
//     sets) -m gemini-2.5-flash (a fixed model: without one it first asks a "router" model
//     for a JSON complexity score, which the server answers with {}, and it prints the
//     parse error and goes on).
//   - Its own sandbox is off unless asked for (-s, GEMINI_SANDBOX, tools.sandbox in the
//     settings); the test sets GEMINI_SANDBOX=false.
//   - Hosts it tries otherwise: play.googleapis.com (Clearcut usage statistics; off with
//     "privacy": {"usageStatisticsEnabled": false} in the settings). With that it looked up
//     no name at all.
//   - A custom CA: NODE_EXTRA_CA_CERTS (tried over HTTPS with a test CA); SSL_CERT_FILE is
//     not read. (Claude Code takes either.)
//
// What it sends: POST /v1beta/models/MODEL:streamGenerateContent?alt=sse for its turns
// (generateContent for side requests), the whole conversation in contents each time, the
// shell tool as run_shell_command{command, description} in functionDeclarations
// (parametersJsonSchema); a command's result comes back as a functionResponse part,
// {"output": "<untrusted_context>\nOutput: …\nExit Code: N\n…</untrusted_context>"} (no Exit
// Code when it succeeded).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// geminiRequest is what the server reads of a generateContent request.
type geminiRequest struct {
	Contents []struct {
		Role  string       `json:"role"`
		Parts []geminiPart `json:"parts"`
	} `json:"contents"`
	Tools []struct {
		FunctionDeclarations []geminiFunction `json:"functionDeclarations"`
	} `json:"tools"`
	GenerationConfig struct {
		ResponseMimeType string `json:"responseMimeType"`
	} `json:"generationConfig"`
}

// geminiPart is a part of a message: text, a function call or a function's response.
type geminiPart struct {
	Text             string `json:"text,omitempty"`
	FunctionResponse *struct {
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	} `json:"functionResponse,omitempty"`
}

// geminiFunction is a function the agent declares; its schema comes as parameters or as
// parametersJsonSchema.
type geminiFunction struct {
	Name       string      `json:"name"`
	Parameters *toolSchema `json:"parameters"`
	JSONSchema *toolSchema `json:"parametersJsonSchema"`
}

// gemini answers a generateContent or streamGenerateContent request (Gemini CLI) for model:
// the next command as a functionCall of its shell tool, or the final text; streamed as
// server-sent events when the method is streamGenerateContent.
func (s *Server) gemini(w http.ResponseWriter, r *http.Request, model string, stream bool) {
	var req geminiRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var shell *geminiFunction
	for _, t := range req.Tools {
		for i, f := range t.FunctionDeclarations {
			if shell == nil && (f.Name == "run_shell_command" || f.Name == "shell") {
				shell = &t.FunctionDeclarations[i]
			}
		}
	}
	results := 0
	for _, c := range req.Contents {
		for _, p := range c.Parts {
			if p.FunctionResponse == nil {
				continue
			}
			out, isErr := geminiOutput(p.FunctionResponse.Response)
			s.record(Result{API: "gemini", Step: results, Output: out, IsError: isErr})
			results++
		}
	}
	command, final := s.turn(results)
	var part map[string]any
	switch {
	case shell == nil && req.GenerationConfig.ResponseMimeType == "application/json":
		part = map[string]any{"text": "{}"} // a side request for JSON: a routing score, a check
	case shell == nil:
		part = map[string]any{"text": "ok"} // a side request: a title, a summary
	case final:
		part = map[string]any{"text": command}
	default:
		args := map[string]any{"command": command}
		schema := shell.Parameters
		if schema == nil {
			schema = shell.JSONSchema
		}
		if schema != nil {
			if _, ok := schema.Properties["description"]; ok {
				args["description"] = fmt.Sprintf("Step %d of the script", results+1)
			}
		}
		part = map[string]any{"functionCall": map[string]any{"name": shell.Name, "args": args}}
	}
	resp := map[string]any{
		"candidates": []any{map[string]any{
			"content": map[string]any{"role": "model", "parts": []any{part}}, "finishReason": "STOP", "index": 0}},
		"usageMetadata": map[string]int{"promptTokenCount": 10, "candidatesTokenCount": 10, "totalTokenCount": 20},
		"modelVersion":  model,
		"responseId":    fmt.Sprintf("fake_%d", results),
	}
	if !stream {
		writeJSON(w, resp)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	sse(w, "", resp)
}

// geminiOutput is the text of a function's response and whether it reports an error: Gemini
// CLI sends {"output": "…"} or {"error": "…"}; anything else is kept as its JSON.
func geminiOutput(raw json.RawMessage) (string, bool) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return string(raw), false
	}
	if e, ok := m["error"].(string); ok && len(m) == 1 {
		return e, true
	}
	if out, ok := m["output"].(string); ok {
		return out, geminiFailed(out)
	}
	return string(raw), false
}

// geminiFailed reads from the output of Gemini CLI's shell tool whether the command failed:
// lines "Exit Code: N" (only when N is not 0), "Error: …" or "Signal: …".
func geminiFailed(out string) bool {
	for _, line := range strings.Split(out, "\n") {
		if code, ok := strings.CutPrefix(line, "Exit Code: "); ok && code != "0" ||
			strings.HasPrefix(line, "Error: ") || strings.HasPrefix(line, "Signal: ") {
			return true
		}
	}
	return false
}

// geminiRoute splits a Gemini API path, …/models/MODEL:METHOD, into the model and the method.
func geminiRoute(path string) (model, method string, ok bool) {
	i := strings.LastIndex(path, "/models/")
	if i < 0 {
		return "", "", false
	}
	model, method, ok = strings.Cut(path[i+len("/models/"):], ":")
	return model, method, ok
}
