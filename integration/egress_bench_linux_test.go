package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkEgress compares, on the fake internet and interleaved in one run, a bulk download
// and the latency of small requests (name lookup, connect, request, reply) through the
// sandbox's userspace stack with the same over the bare veth pair. Run it as root:
//
//	go test -tags seccomp ./integration -run '^$' -bench Egress -benchtime 1x
//
// It reports MB/s and milliseconds for both and the ratios; it asserts nothing about them.
func BenchmarkEgress(b *testing.B) {
	r := newRunner(b, false)
	f := newFakeInternet(b)
	r.netns, r.resolv = f.client, f.resolv
	profile := filepath.Join(r.home, "egress.yaml")
	if err := os.WriteFile(profile, []byte(egressProfile), 0o644); err != nil {
		b.Fatal(err)
	}
	const requests = 40
	download := `curl -s -o /dev/null -w '%{speed_download}\n' http://allowed.test/bulk`
	latency := `for i in $(seq ` + strconv.Itoa(requests) + `); do curl -s -o /dev/null -w '%{time_total}\n' http://allowed.test/; done`
	bare := &runner{ws: r.ws, home: r.home, tmp: r.tmp, netns: f.client, resolv: f.resolv}
	var bareMBs, boxMBs []float64
	var bareLat, boxLat []float64
	for i := 0; i < b.N*3; i++ {
		bareMBs = append(bareMBs, floats(b, bare.plain(b, download))...)
		boxMBs = append(boxMBs, floats(b, r.run(b, "--profile", profile, "--", "sh", "-c", download).stdout)...)
		bareLat = append(bareLat, floats(b, bare.plain(b, latency))...)
		boxLat = append(boxLat, floats(b, r.run(b, "--profile", profile, "--", "sh", "-c", latency).stdout)...)
	}
	if len(boxMBs) == 0 || len(boxLat) == 0 {
		b.Fatal("no measurement through the sandbox")
	}
	bm, sm := median(bareMBs)/1e6, median(boxMBs)/1e6
	bl, sl := median(bareLat)*1000, median(boxLat)*1000
	b.ReportMetric(bm, "bare-MB/s")
	b.ReportMetric(sm, "sandbox-MB/s")
	b.ReportMetric(sm/bm, "throughput-ratio")
	b.ReportMetric(bl, "bare-ms/req")
	b.ReportMetric(sl, "sandbox-ms/req")
	b.ReportMetric(sl-bl, "added-ms/req")
}

// plain runs a shell script in the runner's network namespace without agentrun.
func (r *runner) plain(t testing.TB, script string) string {
	t.Helper()
	argv := r.wrap([]string{"sh", "-c", script})
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	return string(out)
}

func floats(b *testing.B, out string) []float64 {
	var fs []float64
	for _, line := range strings.Fields(out) {
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			b.Fatalf("not a number: %q in %q", line, out)
		}
		fs = append(fs, f)
	}
	return fs
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
