// Package apparmorvm boots Debian's stock kernel, which has AppArmor built in, under qemu, so
// that tests can prove AppArmor enforcement on machines whose own kernel has none (this
// project's CI machine among them).
//
// Assets gathers the pieces. The kernel of linux-image-amd64 (from the versioned
// linux-image-6.1.0-N-amd64 package it depends on) and a static busybox (busybox-static) are
// downloaded with apt-get download from the machine's own Debian repositories and unpacked
// with dpkg-deb, never installed; apparmor_parser is the host's (package apparmor), with the
// libraries ldd lists. The kernel and busybox are kept under CacheDir, one directory per
// package version: the first run downloads 72 MB (the kernel package with all its modules,
// of which only /boot/vmlinuz-* is read) and keeps 76 MB (the compressed kernel, the same
// unpacked to an ELF vmlinux with xz, and busybox); later runs only ask apt which versions
// are current, about 2 s once per test process.
//
// VM.Run writes a newc initramfs (busybox and its applets, /init, the caller's script and
// files) and boots it with qemu-system-x86_64 under software emulation (TCG; set
// AGENTRUN_VM_ACCEL=kvm where KVM works): no disk, no network, the vmlinux through its PVH
// entry point, which skips the decompressor. /init moves / onto a mount (so that pivot_root
// works), mounts proc, sysfs, securityfs, devtmpfs, devpts, cgroup2, and tmpfs on /tmp and
// /run, runs the script as root, prints the whole kernel log, where AppArmor's audit records
// are (apparmor="DENIED" …), and powers off. On a 2-core machine without KVM the script
// starts 2.2 to 2.5 s after qemu does and a short script's whole run takes 2.5 to 3 s
// (booting the compressed bzImage instead takes 3 s longer).
//
// The kernel needs no module and no boot option for AppArmor: Debian builds it in
// (CONFIG_SECURITY_APPARMOR=y) and lists it in its default LSMs. The command line says
// apparmor=1 security=apparmor all the same, and Landlock and Yama stay on beside it.
package apparmorvm
