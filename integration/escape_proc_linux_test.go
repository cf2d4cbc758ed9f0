package integration

// /proc magic links: another process's root, cwd and descriptors lead nowhere the agent
// could not already go.
func init() {
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "proc", name: "shadow through /proc/1/root",
			attack: "cat /proc/1/root/etc/shadow", want: "Permission denied",
			control: "cat /proc/self/root/etc/passwd >/dev/null && echo ok", controlWant: "ok",
		},
		escapeAttempt{
			class: "proc", name: "ssh key through /proc/self/root",
			attack: "cat /proc/self/root$HOME/.ssh/id_ed25519", want: "Permission denied",
			control: "cat /proc/self/root$HOME/.ssh/id_ed25519.pub", controlWant: "ssh-ed25519",
		},
	)
}
