package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The file bench/launch reads holds this process's high-water mark, as "VmHWM: N kB".
func TestWritePeak(t *testing.T) {
	file := filepath.Join(t.TempDir(), "peak")
	writePeak(file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) != 3 || f[0] != "VmHWM:" || f[2] != "kB" {
		t.Fatalf("peak file holds %q, want a VmHWM line", b)
	}
	if kib, err := strconv.Atoi(f[1]); err != nil || kib <= 0 {
		t.Fatalf("peak %q is not a positive number of KiB", f[1])
	}
}
