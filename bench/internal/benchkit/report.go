package benchkit

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Ms formats d in milliseconds, one decimal.
func Ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Ratio formats a/b as "1.23×".
func Ratio(a, b time.Duration) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// MiB formats the median of kib in MiB, or "–" when nothing was measured.
func MiB(kib []int64) string {
	if len(kib) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", float64(Median(kib))/1024)
}

// Count formats the median of n with its ratio to the median of ref, as "706 (117×)"; "–"
// when nothing was measured.
func Count(n, ref []int64) string {
	if len(n) == 0 {
		return "–"
	}
	m, r := Median(n), Median(ref)
	if r == 0 {
		return fmt.Sprintf("%d", m)
	}
	return fmt.Sprintf("%d (%.1f×)", m, float64(m)/float64(r))
}

// Machine is one line saying when and where a run was measured: date, kernel, cores, runs.
func Machine(n int) string {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, Linux %s, %d cores, %d interleaved runs of each, medians",
		time.Now().UTC().Format("2006-01-02"), strings.TrimSpace(string(kernel)), runtime.NumCPU(), n)
}

// Table writes a markdown table.
func Table(w io.Writer, header []string, rows [][]string) {
	line := func(cells []string) { fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | ")) }
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
}
