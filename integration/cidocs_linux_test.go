package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// ciPackage is the workspace's package.json for the CI examples: its tests pass, and on the
// way try to append to ~/.bashrc, which the ci profile protects: one denial, recorded on
// every host (a write), for the annotations and the report to show.
const ciPackage = `{"name": "ci-example", "version": "1.0.0", "scripts": {"test": "node -e \"try { require('fs').appendFileSync(require('os').homedir() + '/.bashrc', 'x') } catch (e) {} console.log('tests pass')\""}}`

// ciStep is one shell step of a CI example: its script, and the environment it gets.
type ciStep struct {
	name, script string
	env          []string
	asRootOnly   bool // it uses sudo, which only root has here
}

// TestCIDocs runs the shell steps of action.yml and of docs/ci.md's examples (but their
// install lines, which fetch from the network) as GitHub Actions or GitLab CI would, with the
// built agentrun on PATH, as root and as a user without sudo: each succeeds, writes a report
// that validates, and the step's denial shows as a workflow command and in the step summary.
func TestCIDocs(t *testing.T) {
	jobs := []ciJob{{name: "action.yml", steps: actionSteps(t)}}
	for _, s := range docSteps(t) {
		jobs = append(jobs, ciJob{name: s.name, steps: []ciStep{s}})
	}
	if len(jobs) < 3 {
		t.Fatalf("found %d jobs in action.yml and docs/ci.md; the examples moved?", len(jobs))
	}
	asRootAndUser(t, func(t *testing.T, r *runner) {
		writeOwned(t, r, filepath.Join(r.ws, "package.json"), ciPackage)
		for _, j := range jobs {
			t.Run(j.name, func(t *testing.T) { runCIJob(t, r, j) })
		}
	})
}

// ciJob is the steps of one example, run in turn as the CI system would.
type ciJob struct {
	name  string
	steps []ciStep
}

func runCIJob(t *testing.T, r *runner, j ciJob) {
	summary := eventsFile(t, r) // an empty file the user can append to
	report := filepath.Join(r.ws, "agentrun-report.json")
	os.Remove(report)
	var out bytes.Buffer
	for _, s := range j.steps {
		if s.asRootOnly && r.unprivate {
			t.Skip("the example runs sudo, which the test user may not")
		}
		env := append([]string{"HOME=" + r.home, "USER=" + r.name, "LANG=C.UTF-8", "TMPDIR=" + r.tmp,
			"PATH=" + filepath.Dir(agentrunBin) + ":/usr/local/bin:/usr/bin:/bin",
			"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summary, "GITHUB_ACTION_PATH=" + repoRoot(t)}, s.env...)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		argv := r.wrap([]string{"bash", "-e", "-c", s.script})
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = r.ws, env
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err != nil && r.unprivate && strings.Contains(out.String(), "the cgroups layer cannot be set up on this host, and the profile needs it") {
			// As documented: without root and without a delegated cgroup, the ci profile's
			// limits stop the run, naming the layer and the fix.
			t.Logf("fails closed as docs/ci.md says, for want of cgroups: %s", out.String())
			return
		}
		if err != nil {
			t.Fatalf("step %q failed: %v\n%s\n%s", s.name, err, s.script, out.String())
		}
	}
	if !strings.Contains(out.String(), "tests pass") {
		t.Fatalf("the tests did not run:\n%s", out.String())
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report: %v\n%s", err, out.String())
	}
	rep := validReport(t, b)
	found := false
	for _, d := range rep.Denials {
		found = found || strings.HasSuffix(d.Target, "/.bashrc")
	}
	if !found {
		t.Errorf("the report holds no denial of ~/.bashrc: %s", b)
	}
	if !strings.Contains(out.String(), "::warning") {
		t.Errorf("no ::warning workflow command in the job's output:\n%s", out.String())
	}
	if sum, _ := os.ReadFile(summary); !strings.Contains(string(sum), ".bashrc") {
		t.Errorf("the step summary does not show the denial: %q", sum)
	}
}

// repoRoot is the repository's root, where action.yml is.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// actionSteps are action.yml's shell steps, with inputs that run the workspace's tests.
func actionSteps(t *testing.T) []ciStep {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Name  string            `yaml:"name"`
				Shell string            `yaml:"shell"`
				Run   string            `yaml:"run"`
				Uses  string            `yaml:"uses"`
				Env   map[string]string `yaml:"env"`
				With  map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Runs.Using != "composite" {
		t.Fatalf("action.yml: runs.using %q, want composite", action.Runs.Using)
	}
	inputs := map[string]string{"run": "npm test"}
	for name, in := range action.Inputs {
		if _, ok := inputs[name]; !ok {
			inputs[name] = in.Default
		}
	}
	expr := regexp.MustCompile(`\$\{\{\s*inputs\.([a-z-]+)\s*\}\}`)
	subst := func(s string) string {
		return expr.ReplaceAllStringFunc(s, func(m string) string { return inputs[expr.FindStringSubmatch(m)[1]] })
	}
	var out []ciStep
	for _, s := range action.Runs.Steps {
		if s.Uses != "" {
			if p := subst(s.With["path"]); p != inputs["report"] {
				t.Errorf("action.yml: step %q uploads %q, not the report %q", s.Name, p, inputs["report"])
			}
			continue
		}
		if s.Shell != "bash" {
			t.Errorf("action.yml: step %q has shell %q; composite steps need one, and these are bash", s.Name, s.Shell)
		}
		step := ciStep{name: "action.yml/" + s.Name, script: subst(s.Run)}
		for k, v := range s.Env {
			step.env = append(step.env, k+"="+subst(v))
		}
		out = append(out, step)
	}
	return out
}

// docSteps are the run: and script: lines of docs/ci.md's YAML examples that run agentrun;
// the install lines fetch from the network and are left out.
func docSteps(t *testing.T) []ciStep {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs/ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []ciStep
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	for i, blk := range blocks {
		var doc any
		if err := yaml.Unmarshal([]byte(blk[1]), &doc); err != nil {
			t.Fatalf("docs/ci.md example %d is not YAML: %v", i+1, err)
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if run, ok := v["run"].(string); ok && strings.Contains(run, "agentrun --profile") {
					out = append(out, ciStep{name: "docs/ci.md/github", script: run, asRootOnly: strings.Contains(run, "sudo")})
				}
				if script, ok := v["script"].([]any); ok {
					for _, l := range script {
						if l, ok := l.(string); ok && strings.Contains(l, "agentrun --profile") {
							out = append(out, ciStep{name: "docs/ci.md/gitlab", script: l})
						}
					}
				}
				for _, c := range v {
					walk(c)
				}
			case []any:
				for _, c := range v {
					walk(c)
				}
			}
		}
		walk(doc)
	}
	return out
}
