package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/agentrun/agentrun/events/store"
)

// The flood tests run an agent that makes unique denials as fast as it can (new paths, new
// DNS names) and check that agentrun's memory and its event store stay bounded, and that the
// end-of-run summary says what was only counted. AGENTRUN_FLOOD_SECONDS sets how long each
// flood lasts (default 3; the figures are for 60).
const floodSecondsEnv = "AGENTRUN_FLOOD_SECONDS"

// The bounds a flood must keep, whatever its length.
const (
	floodMaxRSS    = 100 << 20 // agentrun's peak resident memory
	floodMaxGrowth = 50 << 20  // the store's growth in one run, after a checkpoint
)

func floodSeconds(t *testing.T) int {
	t.Helper()
	s := os.Getenv(floodSecondsEnv)
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a number of seconds", floodSecondsEnv, s)
	}
	return n
}

// pathFlood creates /etc/flood-N for new N until the time is up (each a denied create under
// base) and prints how many it tried.
const pathFlood = `use Fcntl; my $end = time + %d; my $i = 0;
while (time < $end) { for (1..500) { sysopen(my $f, "/etc/flood-$i", O_WRONLY|O_CREAT); $i++ } }
print "$i\n";`

// dnsFlood sends A queries for new names to the sandbox's resolver until the time is up,
// reading the answers as they come, and prints how many it sent.
const dnsFlood = `use Socket; my $end = time + %d; my $i = 0;
open(my $r, "<", "/etc/resolv.conf") or die "resolv.conf: $!";
my ($ns) = map { /^nameserver\s+(\S+)/ ? $1 : () } <$r>;
socket(my $s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!";
my $to = sockaddr_in(53, inet_aton($ns));
my $rin = ""; vec($rin, fileno($s), 1) = 1;
while (time < $end) {
	for (1..500) {
		my $name = "q$i-" . int(rand(1e9)) . ".flood.test";
		my $q = pack("n6", $i & 0xffff, 0x0100, 1, 0, 0, 0) . join("", map { chr(length $_) . $_ } split /\./, $name) . "\0" . pack("n2", 1, 1);
		send($s, $q, 0, $to); $i++;
	}
	while (select(my $rout = $rin, undef, undef, 0) > 0) { recv($s, my $b, 512, 0) }
}
print "$i\n";`

// floodProfile allows one name, so the sandbox has its resolver; every other name is denied.
const floodProfile = `name: flood
extends: [base]
network:
  allow: ["allowed.test:443"]
`

// floodFigures is what one flood did.
type floodFigures struct {
	produced   int   // what the agent says it did
	rss        int64 // agentrun's peak resident memory, bytes: the larger of hwm and maxrss
	hwm        int64 // its VmHWM, read while it ran
	maxrss     int64 // its rusage's, which counts the processes it waited for too
	growth     int64 // the store's growth, bytes
	aggregates int   // the profile's aggregates afterwards
	run        store.RunInfo
	summary    string // agentrun's stderr
}

func (f floodFigures) String() string {
	return fmt.Sprintf("%d produced; agentrun peak RSS %.1f MiB (VmHWM %.1f, ru_maxrss %.1f); store growth %.1f MiB; %d aggregates; run: %d raw events kept, %d not kept one by one, %d capped",
		f.produced, float64(f.rss)/(1<<20), float64(f.hwm)/(1<<20), float64(f.maxrss)/(1<<20), float64(f.growth)/(1<<20), f.aggregates, f.run.Events, f.run.Dropped, f.run.Capped)
}

// flood runs agentrun with the profile in file and args (the agent's command last),
// measuring its peak memory and the store's growth.
func flood(t *testing.T, r *runner, profileName, file string, args ...string) floodFigures {
	t.Helper()
	dir := filepath.Join(r.home, ".local", "state", "agentrun")
	// A run before, so the store exists and its size is the baseline; its denial must
	// outlive the flood.
	if res := r.run(t, append(r.denials(), "--profile", file, "--network", "none", "--", "sh", "-c", "cat /etc/shadow; true")...); res.code != 0 {
		t.Fatalf("a first run: %s", res)
	}
	before := storeSize(t, r, dir)

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(floodSeconds(t))*time.Second+5*time.Minute)
	defer cancel()
	cmd := r.command(ctx, append(append(r.denials(), "--profile", file), args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// agentrun is the command's process after the wrappers' execs (setpriv, nsenter, sh):
	// read its high-water mark while it runs, and its rusage at the end.
	var hwm atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			if kb := vmHWM(cmd.Process.Pid); kb > hwm.Load() {
				hwm.Store(kb)
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running agentrun: %v", err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("the flood's agent: exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	f := floodFigures{summary: stderr.String()}
	f.hwm = hwm.Load() << 10
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		// ru_maxrss is the largest of agentrun and the processes it waited for (the
		// sandbox's): an upper bound of agentrun's own.
		f.maxrss = ru.Maxrss << 10
	}
	f.rss = max(f.hwm, f.maxrss)
	f.produced, _ = strconv.Atoi(strings.TrimSpace(lastLine(stdout.String())))
	f.growth = storeSize(t, r, dir) - before

	st := openTestStore(t, r, dir)
	defer st.Close()
	runs, err := st.Runs(store.Filter{Profile: profileName, Limit: 1})
	if err != nil || len(runs) == 0 {
		t.Fatalf("the flood's run in the store: %v, %v", runs, err)
	}
	f.run = runs[0]
	aggs, err := st.Aggregates(store.Filter{Profile: profileName})
	if err != nil {
		t.Fatal(err)
	}
	f.aggregates = len(aggs)
	kept := false
	for _, a := range aggs {
		kept = kept || a.Target == "/etc/shadow"
	}
	if !kept {
		t.Error("the first run's denial of /etc/shadow is gone after the flood")
	}
	return f
}

// checkFlood holds a flood to the bounds, and its summary to the store's counts.
func checkFlood(t *testing.T, f floodFigures) {
	t.Helper()
	t.Logf("%d s flood: %s", floodSeconds(t), f)
	if f.rss >= floodMaxRSS {
		t.Errorf("agentrun's peak RSS %d MiB, want under %d MiB", f.rss>>20, floodMaxRSS>>20)
	}
	if f.growth >= floodMaxGrowth {
		t.Errorf("the store grew by %d MiB, want under %d MiB", f.growth>>20, floodMaxGrowth>>20)
	}
	// The first run's: a few denials, and rootless (--trace: see denials) what it read.
	if f.aggregates > store.DefaultMaxRunAggregates+50 {
		t.Errorf("%d aggregates after one run, want at most the cap of %d (and a few from the first run)", f.aggregates, store.DefaultMaxRunAggregates)
	}
	said := strings.Contains(f.summary, fmt.Sprintf("agentrun: %s more events were only counted", thousandsOf(f.run.Capped)))
	if f.run.Capped > 0 && !said {
		t.Errorf("the run capped %d events but its summary does not say so:\n%s", f.run.Capped, f.summary)
	}
	if f.run.Capped == 0 && strings.Contains(f.summary, "more events were only counted") {
		t.Errorf("the summary speaks of a cap the run did not reach:\n%s", f.summary)
	}
}

func testFloodPaths(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	script := fmt.Sprintf(pathFlood, floodSeconds(t))
	jsonl := filepath.Join(r.tmp, "flood.jsonl")
	f := flood(t, r, "test", r.profile, "--network", "none", "--events", jsonl, "--", "perl", "-e", script)
	checkFlood(t, f)
	// The events file has every event, up to its cap of 1 GiB per run.
	if fi, err := os.Stat(jsonl); err != nil {
		t.Error(err)
	} else {
		t.Logf("the events file: %.1f MiB", float64(fi.Size())/(1<<20))
		if fi.Size() > 1<<30+1<<20 {
			t.Errorf("the events file holds %d bytes, past its cap of 1 GiB", fi.Size())
		}
	}
	os.Remove(jsonl)
	if f.produced > store.DefaultMaxRunAggregates+1000 && f.run.Capped == 0 {
		t.Errorf("%d unique denials, none capped: %s", f.produced, f)
	}
}

func testFloodDNS(t *testing.T, unprivileged bool) {
	r := newRunner(t, unprivileged)
	if unprivileged {
		usableTUN(t)
	}
	fi := newFakeInternet(t)
	r.netns, r.resolv = fi.client, fi.resolv
	profile := filepath.Join(r.home, "flood.yaml")
	writeFiles(t, r, map[string]string{"flood.yaml": floodProfile}, 0o644)
	script := fmt.Sprintf(dnsFlood, floodSeconds(t))
	f := flood(t, r, "flood", profile, "--", "perl", "-e", script)
	checkFlood(t, f)
	if fi.asked("flood.test") {
		t.Error("a denied name reached the internet's DNS server")
	}
	if f.run.Events == 0 {
		t.Errorf("no DNS denial was stored; the test proves nothing: %s", f)
	}
}

func TestFloodPathsAsRoot(t *testing.T)       { testFloodPaths(t, false) }
func TestFloodPathsUnprivileged(t *testing.T) { testFloodPaths(t, true) }
func TestFloodDNSAsRoot(t *testing.T)         { testFloodDNS(t, false) }
func TestFloodDNSUnprivileged(t *testing.T)   { testFloodDNS(t, true) }

// storeSize is the size of the store's database and write-ahead log after a checkpoint.
func storeSize(t *testing.T, r *runner, dir string) int64 {
	t.Helper()
	st := openTestStore(t, r, dir)
	if err := st.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(st.Path() + suffix); err == nil {
			n += fi.Size()
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// openTestStore opens the runner's store, its files staying the runner's user's.
func openTestStore(t *testing.T, r *runner, dir string) *store.Store {
	t.Helper()
	var opts store.Options
	if r.unprivate {
		opts.Owner = &store.Owner{UID: r.uid, GID: r.gid}
	}
	st, err := store.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// vmHWM is a process's peak resident memory in KiB, from /proc; 0 once it is gone.
func vmHWM(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// thousandsOf is n as the summary writes it: 120,000.
func thousandsOf(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
