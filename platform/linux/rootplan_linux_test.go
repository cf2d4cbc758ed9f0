package linux

import (
	"testing"

	"github.com/agentrun/agentrun/platform/fsplan"
	"github.com/agentrun/agentrun/platform/linux/rootfs"
)

// TestKernelOpsOrder checks where the sandbox's devices and the masks of its /proc and /sys
// go: before the plan's binds where none of them lies in /dev, /proc or /sys (so that the
// idmapping is made beside them), and after every bind and denial where one does, so that
// the masks cover what it binds there.
func TestKernelOpsOrder(t *testing.T) {
	usr := fsplan.Mount{Path: "/usr", Access: fsplan.Read, Dir: true}
	shadow := fsplan.Mount{Path: "/etc/shadow", Access: fsplan.Deny}
	for _, c := range []struct {
		name  string
		plan  fsplan.Plan
		first bool
	}{
		{"no bind in a kernel tree", fsplan.Plan{Mounts: []fsplan.Mount{usr, shadow}}, true},
		{"a bind in /sys", fsplan.Plan{Mounts: []fsplan.Mount{usr, {Path: "/sys/class", Access: fsplan.Read, Dir: true}}}, false},
		{"a denial in /proc", fsplan.Plan{Mounts: []fsplan.Mount{usr, {Path: "/proc/cpuinfo", Access: fsplan.Deny}}}, false},
		{"an exec denial in /dev", fsplan.Plan{Mounts: []fsplan.Mount{usr}, ExecDeny: []fsplan.Mount{{Path: "/dev/shm/x", Access: fsplan.Read}}}, false},
		{"a bind of the root", fsplan.Plan{Mounts: []fsplan.Mount{{Path: "/", Access: fsplan.Read, Dir: true}}}, false},
		{"a bind beside a kernel tree", fsplan.Plan{Mounts: []fsplan.Mount{usr, {Path: "/system", Access: fsplan.Read, Dir: true}}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ops := rootOps(c.plan, rootOptions{}, nil, "")
			kernel := kernelOps(false)
			firstKernel, lastKernel, firstBind, lastPlan := -1, -1, -1, -1
			for i, op := range ops {
				isKernel := false
				for _, k := range kernel {
					if op == k {
						isKernel = true
					}
				}
				switch {
				case isKernel:
					if firstKernel < 0 {
						firstKernel = i
					}
					lastKernel = i
				case op.Kind == rootfs.OpBind || op.Kind == rootfs.OpSelf:
					if firstBind < 0 {
						firstBind = i
					}
					lastPlan = i
				}
			}
			if firstKernel < 0 || lastKernel-firstKernel+1 != len(kernel) {
				t.Fatalf("the kernel trees' steps are not all there, in one run: %+v", ops)
			}
			if c.first && lastKernel > firstBind {
				t.Errorf("the kernel trees' steps come after a bind of the plan: %+v", ops)
			}
			if !c.first && firstKernel < lastPlan {
				t.Errorf("the kernel trees' steps come before a bind or denial of the plan, which could cover their masks: %+v", ops)
			}
		})
	}
}
