// Command fakemodel serves the fake model API on an address, for trying an agent against it
// by hand: fakemodel -addr 127.0.0.1:18080 -script script.json -log results.jsonl.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"

	"github.com/agentrun/agentrun/integration/fakemodel"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "address to listen on")
	script := flag.String("script", "", "the script: JSON {\"commands\": [...], \"final\": \"...\"}")
	logPath := flag.String("log", "/dev/stdout", "where the tool results go, one JSON line each")
	flag.Parse()
	var s fakemodel.Script
	b, err := os.ReadFile(*script)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		log.Fatalf("%s: %v", *script, err)
	}
	out, err := os.OpenFile(*logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*addr, fakemodel.New(s, out)))
}
