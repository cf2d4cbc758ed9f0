package profiles

import "testing"

// BenchmarkCheckFile is what the file judge pays for each access it judges, under a policy of
// a built-in profile's size: every deny rule is asked first.
func BenchmarkCheckFile(b *testing.B) {
	pol := &Policy{}
	for _, p := range []string{"/root/.ssh/!(known_hosts|config|*.pub|*.sock)", "/root/.aws", "/root/.config/gcloud", "/root/.docker/config.json", "/root/.kube", "/root/**/.env", "/etc/ssl/private", "/root/.password-store", "/root/.local/share/keyrings/**"} {
		for range 12 {
			pol.Filesystem.Deny = append(pol.Filesystem.Deny, PathRule{Path: p, Pattern: p})
		}
	}
	pol.Filesystem.Read = []PathRule{{Path: "/usr", Pattern: "/usr"}, {Path: "/etc", Pattern: "/etc"}}
	pol.Filesystem.Write = []PathRule{{Path: "/work/project", Pattern: "$WORKSPACE"}}
	for b.Loop() {
		if d := pol.CheckFile("/work/project/src/pkg/module/file.go", AccessRead); !d.Allow {
			b.Fatal(d)
		}
	}
}
