package integration

// Truncating a file without opening it for writing: truncate(2) by path. In the namespace
// tier Landlock no longer checks truncation (its per-open cost), so the read-only binds must
// refuse it, for a protected file in the workspace and for a start-up file in the home; in
// the Landlock + seccomp tier Landlock refuses the home's, and the workspace's protect rules
// make that tier refuse the policy.

func init() {
	const hook = "#!/bin/sh\nexit 0\n"
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "truncate", name: "truncate(2) a protected git hook", protects: true,
			setup:   hostFiles(map[string]string{"project/.git/hooks/pre-commit": hook}),
			attack:  `truncate -s 0 .git/hooks/pre-commit`,
			want:    "Read-only file system",
			after:   unchanged("project/.git/hooks/pre-commit", hook),
			control: `echo data > notes.txt && truncate -s 0 notes.txt && test ! -s notes.txt && echo twin-ok`, controlWant: "twin-ok",
		},
		escapeAttempt{
			class: "truncate", name: "truncate(2) ~/.bashrc",
			attack:  `truncate -s 0 "$HOME/.bashrc"`,
			after:   unchanged(".bashrc", "# rc\n"),
			control: `echo data > notes.txt && truncate -s 1 notes.txt && test "$(cat notes.txt)" = d && echo twin-ok`, controlWant: "twin-ok",
		},
	)
}
