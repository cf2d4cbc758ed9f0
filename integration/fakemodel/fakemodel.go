// Package fakemodel is a scripted model API for the integration tests' fake internet: it
// speaks what the coding agents ask of their providers — Anthropic's Messages API (Claude
// Code), OpenAI's Responses API (Codex) and Gemini's generateContent (Gemini CLI), streamed as
// each CLI asks — and answers, turn by turn, with the shell commands of a Script, then a final
// text. The agent runs each command with its own shell tool and sends the output back; the
// server logs every tool result it receives (Result), so that a test can see what each command
// did inside the sandbox.
//
// A turn is known from the request alone: the number of tool results in the conversation. So
// the server keeps no session, and an agent's side requests (titles, summaries, quota checks:
// requests without the shell tool) get a short text.
package fakemodel

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Script is what the model does in one session: asks for each command in turn, then ends
// with Final.
type Script struct {
	Commands []string `json:"commands"`
	Final    string   `json:"final"`
}

// Result is a tool result the model received: the output of Script.Commands[Step] as the
// agent reported it.
type Result struct {
	API     string `json:"api"` // anthropic, openai, gemini
	Step    int    `json:"step"`
	Command string `json:"command"`
	Output  string `json:"output"`
	IsError bool   `json:"is_error,omitempty"`
}

// Server serves the model APIs for one Script. It is an http.Handler.
type Server struct {
	script Script
	mu     sync.Mutex
	log    io.Writer
	seen   map[string]bool // results logged, by API, step and output: agents resend them each turn
}

// New is a server for script that writes each new tool result to log as a line of JSON.
func New(script Script, log io.Writer) *Server {
	return &Server{script: script, log: log, seen: map[string]bool{}}
}

// ServeHTTP routes a request by its path to the API it belongs to.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if model, method, ok := geminiRoute(r.URL.Path); ok && r.Method == http.MethodPost {
		switch method {
		case "generateContent", "streamGenerateContent":
			s.gemini(w, r, model, method == "streamGenerateContent")
		case "countTokens":
			writeJSON(w, map[string]any{"totalTokens": 100})
		default:
			http.Error(w, `{"error":{"message":"the fake model API does not serve `+method+`"}}`, http.StatusNotFound)
		}
		return
	}
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/v1/messages/count_tokens"):
		writeJSON(w, map[string]any{"input_tokens": 100})
	case strings.HasSuffix(p, "/v1/messages"):
		s.anthropic(w, r)
	case strings.HasSuffix(p, "/responses") && r.Method == http.MethodPost:
		s.openai(w, r)
	case strings.HasSuffix(p, "/models") && r.Method == http.MethodGet:
		writeJSON(w, map[string]any{"object": "list", "data": []any{}, "models": []any{}})
	default:
		http.Error(w, `{"error":{"message":"the fake model API does not serve `+p+`"}}`, http.StatusNotFound)
	}
}

// turn is what the model says next, given the tool results so far: a command (step < len) or
// the final text.
func (s *Server) turn(results int) (command string, final bool) {
	if results < len(s.script.Commands) {
		return s.script.Commands[results], false
	}
	return s.script.Final, true
}

// record logs res once.
func (s *Server) record(res Result) {
	if res.Step < len(s.script.Commands) {
		res.Command = s.script.Commands[res.Step]
	}
	b, _ := json.Marshal(res)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[string(b)] {
		return
	}
	s.seen[string(b)] = true
	_, _ = s.log.Write(append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// sse writes one server-sent event and flushes it.
func sse(w http.ResponseWriter, event string, data any) {
	b, _ := json.Marshal(data)
	if event != "" {
		_, _ = io.WriteString(w, "event: "+event+"\n")
	}
	_, _ = io.WriteString(w, "data: "+string(b)+"\n\n")
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// ReadResults parses a log New wrote.
func ReadResults(b []byte) ([]Result, error) {
	var out []Result
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
