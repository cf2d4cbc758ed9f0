package apparmorvm

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Assets returns a VM with Debian's current kernel, a static busybox and apparmor_parser
// (with the shared libraries it needs) at /sbin/apparmor_parser. It downloads the two
// packages from the machine's Debian repositories with apt-get the first time and keeps what
// it takes from them under CacheDir. It skips the test when qemu-system-x86_64 is not
// installed; anything else missing fails it.
func Assets(t testing.TB) *VM {
	t.Helper()
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("AppArmor VM tests need qemu-system-x86_64 (apt-get install qemu-system-x86, as scripts/test.sh does)")
	}
	assets.Lock()
	defer assets.Unlock()
	if assets.vm == nil {
		// Asking apt takes about 2 s: once a process.
		assets.vm = fetchAssets(t)
		assets.vm.qemu = qemu
	}
	v := *assets.vm
	v.Files = maps.Clone(assets.vm.Files)
	return &v
}

// assets is what Assets found, for the next test in the process.
var assets struct {
	sync.Mutex
	vm *VM
}

func fetchAssets(t testing.TB) *VM {
	t.Helper()
	dir, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	v := &VM{Files: map[string]string{}}
	kernelPkg, err := kernelPackage()
	if err != nil {
		t.Fatal(err)
	}
	bzImage, err := cached(t, dir, kernelPkg, "./boot/vmlinuz-", "vmlinuz")
	if err != nil {
		t.Fatal(err)
	}
	if v.Kernel, err = uncompressedKernel(bzImage); err != nil {
		t.Logf("apparmorvm: booting the compressed kernel, about 3 s slower under TCG: %v", err)
		v.Kernel = bzImage
	}
	if v.Busybox, err = cached(t, dir, "busybox-static", "./bin/busybox", "busybox"); err != nil {
		t.Fatal(err)
	}
	parser, err := findProgram("apparmor_parser")
	if err != nil {
		t.Fatalf("%v (apt-get install apparmor, as scripts/test.sh does)", err)
	}
	v.AddProgram(t, "/sbin/apparmor_parser", parser)
	return v
}

// CacheDir is where Assets keeps the kernel and busybox between runs:
// $XDG_CACHE_HOME/agentrun-test/apparmorvm (~/.cache/… by default), or
// /var/cache/agentrun-test/apparmorvm when there is no home.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = "/var/cache"
	}
	dir := filepath.Join(base, "agentrun-test", "apparmorvm")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating the VM asset cache: %w", err)
	}
	return dir, nil
}

// kernelPackage names the versioned kernel package that linux-image-amd64 depends on,
// e.g. linux-image-6.1.0-56-amd64.
func kernelPackage() (string, error) {
	out, err := exec.Command("apt-cache", "depends", "--important", "linux-image-amd64").Output()
	if err != nil {
		return "", fmt.Errorf("asking apt-cache for linux-image-amd64's kernel: %w%s (run apt-get update)", err, stderrOf(err))
	}
	for line := range strings.Lines(string(out)) {
		if dep, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: "); ok && strings.HasPrefix(dep, "linux-image-") {
			return dep, nil
		}
	}
	return "", fmt.Errorf("linux-image-amd64 depends on no linux-image package: apt-cache says %q (run apt-get update)", out)
}

// cached returns the cached copy of the file of package pkg whose path in the package starts
// with prefix, downloading the package first when its current version is not cached yet.
// The cache holds one directory per package file name (name_version_arch), so a new kernel
// from a point release is fetched once and the old one stays until someone removes it.
func cached(t testing.TB, dir, pkg, prefix, name string) (string, error) {
	out, err := exec.Command("apt-get", "download", "--print-uris", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("asking apt-get where %s is: %w%s (run apt-get update)", pkg, err, stderrOf(err))
	}
	// 'URI' name_version_arch.deb size hash
	fields := strings.Fields(string(out))
	if len(fields) < 2 || !strings.HasSuffix(fields[1], ".deb") {
		return "", fmt.Errorf("apt-get download --print-uris %s said %q", pkg, out)
	}
	dest := filepath.Join(dir, strings.TrimSuffix(fields[1], ".deb"), name)
	if _, err := os.Stat(dest); err == nil {
		return dest, nil
	}
	start := time.Now()
	// As root, apt downloads as _apt, and as root with a warning where _apt cannot write.
	tmp := t.TempDir()
	get := exec.Command("apt-get", "download", "-q", pkg)
	get.Dir = tmp
	if out, err := get.CombinedOutput(); err != nil {
		return "", fmt.Errorf("downloading %s: %w: %s", pkg, err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s left %d .deb files", pkg, len(debs))
	}
	if err := extract(debs[0], prefix, dest); err != nil {
		return "", err
	}
	t.Logf("apparmorvm: fetched %s from %s in %v", name, fields[1], time.Since(start).Round(time.Millisecond))
	return dest, nil
}

// extract copies the first file of the .deb whose path starts with prefix to dest, reading
// the package's data with dpkg-deb and stopping as soon as it has the file (a kernel
// package's modules come after /boot and are most of its size).
func extract(deb, prefix, dest string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	var stderr bytes.Buffer
	cmd.Stderr, cmd.WaitDelay = &stderr, 10*time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("reading %s: %w", deb, err)
	}
	found, err := copyFromTar(stdout, prefix, dest)
	// Stop dpkg-deb and the tar it runs: tar holds the stderr pipe and would block on a full
	// stdout that no one reads any more.
	stdout.Close()
	cancel()
	werr := cmd.Wait()
	switch {
	case err != nil:
		return fmt.Errorf("reading %s: %w", deb, err)
	case !found && werr != nil:
		return fmt.Errorf("reading %s: %w: %s", deb, werr, stderr.Bytes())
	case !found:
		return fmt.Errorf("%s has no file %s*", filepath.Base(deb), prefix)
	}
	return nil
}

// copyFromTar writes the first regular file in the tar stream whose name starts with prefix
// to dest, through a temporary file renamed into place, so that concurrent test processes
// never see half a file.
func copyFromTar(r io.Reader, prefix, dest string) (bool, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, prefix) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return false, err
		}
		f, err := os.CreateTemp(filepath.Dir(dest), ".tmp-*")
		if err != nil {
			return false, err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), 0o755)
		}
		if err == nil {
			err = os.Rename(f.Name(), dest)
		}
		if err != nil {
			os.Remove(f.Name())
			return false, fmt.Errorf("copying %s: %w", h.Name, err)
		}
		return true, nil
	}
}

// uncompressedKernel returns the ELF vmlinux inside a bzImage, unpacking it beside the
// bzImage the first time. qemu boots an ELF kernel through its PVH entry point, skipping the
// real-mode setup and the decompressor, which under TCG takes 3 of a boot's 5 seconds.
// Debian compresses its kernels with xz.
func uncompressedKernel(bzImage string) (string, error) {
	dest := filepath.Join(filepath.Dir(bzImage), "vmlinux")
	if _, err := os.Stat(dest); err == nil {
		return dest, nil
	}
	data, err := os.ReadFile(bzImage)
	if err != nil {
		return "", err
	}
	i := bytes.Index(data, []byte("\xfd7zXZ\x00"))
	if i < 0 {
		return "", fmt.Errorf("%s holds no xz stream", bzImage)
	}
	f, err := os.CreateTemp(filepath.Dir(dest), ".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	// The bzImage goes on after the stream (the decompressor's trailer): --single-stream.
	xz := exec.Command("xz", "--decompress", "--stdout", "--single-stream")
	xz.Stdin, xz.Stdout = bytes.NewReader(data[i:]), f
	var stderr bytes.Buffer
	xz.Stderr = &stderr
	err = xz.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("unpacking %s with xz: %w: %s", bzImage, err, stderr.Bytes())
	}
	head := make([]byte, 4)
	if g, err := os.Open(f.Name()); err == nil {
		_, err = io.ReadFull(g, head)
		g.Close()
		if err != nil || string(head) != "\x7fELF" {
			return "", fmt.Errorf("%s does not hold an ELF kernel", bzImage)
		}
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), dest); err != nil {
		return "", err
	}
	return dest, nil
}

// findProgram finds a host program in PATH or in the sbin directories a non-root PATH lacks.
func findProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed", name)
}

// AddProgram puts the host program hostPath at vmPath in the VM, with the shared libraries
// ldd says it needs at the paths ldd names (the dynamic loader finds them there without an
// ld.so.cache). Use it for dynamically linked programs such as agentrun itself.
func (v *VM) AddProgram(t testing.TB, vmPath, hostPath string) {
	t.Helper()
	if v.Files == nil {
		v.Files = map[string]string{}
	}
	v.Files[vmPath] = hostPath
	libs, err := sharedLibraries(hostPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range libs {
		v.Files[lib] = lib
	}
}

// sharedLibraries lists the absolute paths of the libraries ldd says program loads,
// the dynamic loader included; none for a static program.
func sharedLibraries(program string) ([]string, error) {
	out, err := exec.Command("ldd", program).Output()
	if err != nil {
		// ldd exits 1 for a static program ("not a dynamic executable").
		if bytes.Contains(out, []byte("not a dynamic executable")) || strings.Contains(stderrOf(err), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %w%s", program, err, stderrOf(err))
	}
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("ldd %s: %s", program, line)
		}
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		if p, _, _ := strings.Cut(line, " "); path.IsAbs(p) {
			libs = append(libs, p)
		}
	}
	return libs, nil
}

// stderrOf returns ": " and the standard error an exec.Cmd.Output failure captured, or "".
func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
