package fakemodel

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// anthropicRequest is what the server reads of a Messages API request.
type anthropicRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"` // a string, or blocks
	} `json:"messages"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

// anthropicBlock is a content block of a message.
type anthropicBlock struct {
	Type      string          `json:"type"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"` // a tool result's: a string, or text blocks
	IsError   bool            `json:"is_error"`
}

// anthropic answers a Messages API request (Claude Code): the next command as a tool_use of
// its Bash tool, or the final text; streamed when asked.
func (s *Server) anthropic(w http.ResponseWriter, r *http.Request) {
	var req anthropicRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	hasBash := false
	for _, t := range req.Tools {
		hasBash = hasBash || t.Name == "Bash"
	}
	results := 0
	for _, m := range req.Messages {
		var blocks []anthropicBlock
		if m.Role != "user" || json.Unmarshal(m.Content, &blocks) != nil {
			continue
		}
		for _, b := range blocks {
			if b.Type != "tool_result" {
				continue
			}
			s.record(Result{API: "anthropic", Step: results, Output: toolText(b.Content), IsError: b.IsError})
			results++
		}
	}
	command, final := s.turn(results)
	if !hasBash {
		command, final = "ok", true // a side request: a title, a summary
	}
	msg := map[string]any{
		"id": fmt.Sprintf("msg_fake_%d", results), "type": "message", "role": "assistant", "model": req.Model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]int{"input_tokens": 10, "output_tokens": 1},
	}
	var block map[string]any
	stop := "end_turn"
	if final {
		block = map[string]any{"type": "text", "text": command}
	} else {
		stop = "tool_use"
		block = map[string]any{"type": "tool_use", "id": fmt.Sprintf("toolu_fake_%d", results), "name": "Bash",
			"input": map[string]any{"command": command, "description": fmt.Sprintf("Step %d of the script", results+1)}}
	}
	if !req.Stream {
		msg["content"], msg["stop_reason"] = []any{block}, stop
		writeJSON(w, msg)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	sse(w, "message_start", map[string]any{"type": "message_start", "message": msg})
	start := map[string]any{}
	for k, v := range block {
		start[k] = v
	}
	var delta map[string]any
	if final {
		start["text"] = ""
		delta = map[string]any{"type": "text_delta", "text": command}
	} else {
		input, _ := json.Marshal(block["input"])
		start["input"] = map[string]any{}
		delta = map[string]any{"type": "input_json_delta", "partial_json": string(input)}
	}
	sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": start})
	sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": delta})
	sse(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	sse(w, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]int{"output_tokens": 10}})
	sse(w, "message_stop", map[string]any{"type": "message_stop"})
}

// toolText is the text of a tool result's content: a string, or text blocks (text,
// input_text, output_text).
func toolText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &blocks)
	var parts []string
	for _, b := range blocks {
		if strings.HasSuffix(b.Type, "text") {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n")
}
