package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/agentrun/agentrun/integration/fakemodel"
)

// The fake internet's model API: the test writes a script (fakeInternet.setScript) before an
// agent's session; the server, in the internet's namespace, answers the model hosts with it
// and writes the tool results it receives beside it (fakeInternet.modelResults).
const (
	modelScriptFile  = "model-script.json"
	modelResultsFile = "model-results.jsonl"
)

// scriptedModel serves the script in dir: a new script, or the log's removal (setScript), starts
// a new session with a new log.
type scriptedModel struct {
	dir string
	mu  sync.Mutex
	cur string // the script served
	srv *fakemodel.Server
	log *os.File
}

func (m *scriptedModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := os.ReadFile(filepath.Join(m.dir, modelScriptFile))
	if err != nil {
		http.Error(w, "no script for the fake model: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	m.mu.Lock()
	if _, err := os.Stat(filepath.Join(m.dir, modelResultsFile)); err != nil || string(b) != m.cur || m.srv == nil {
		var s fakemodel.Script
		if err := json.Unmarshal(b, &s); err != nil {
			m.mu.Unlock()
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if m.log != nil {
			m.log.Close()
		}
		if m.log, err = os.Create(filepath.Join(m.dir, modelResultsFile)); err != nil {
			m.mu.Unlock()
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		m.cur, m.srv = string(b), fakemodel.New(s, m.log)
	}
	srv := m.srv
	m.mu.Unlock()
	srv.ServeHTTP(w, r)
}

// setScript is what the fake model does in the next session.
func (f *fakeInternet) setScript(t testing.TB, s fakemodel.Script) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(f.dir, modelResultsFile))
	if err := os.WriteFile(filepath.Join(f.dir, modelScriptFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// modelResults are the tool results the fake model received in the session of the last
// script, by step (the last one received for each).
func (f *fakeInternet) modelResults(t testing.TB) map[int]fakemodel.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, modelResultsFile))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	rs, err := fakemodel.ReadResults(b)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]fakemodel.Result{}
	for _, r := range rs {
		out[r.Step] = r
	}
	return out
}
