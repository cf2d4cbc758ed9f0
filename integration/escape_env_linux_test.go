package integration

// The environment: credentials in agentrun's environment do not reach the agent through a
// wildcard pass entry (NPM_CONFIG_*, ANTHROPIC_*), nor at all unless a profile names them
// exactly; the agent's own API key, named by its profile, and ordinary settings do.
func init() {
	creds := []string{
		"NPM_CONFIG__AUTHTOKEN=npm_secret1", "NPM_CONFIG__AUTH=c2VjcmV0Mg==", "NPM_CONFIG_//registry.npmjs.org/:_authToken=npm_secret3",
		"GITHUB_TOKEN=ghp_secret4", "GH_TOKEN=ghp_secret5", "AWS_SECRET_ACCESS_KEY=secret6", "AWS_SESSION_TOKEN=secret7",
		"ANTHROPIC_ADMIN_KEY=secret8", "CLAUDE_CODE_SECRET_SAUCE=secret9", "SSH_AUTH_SOCK=/tmp/ssh-x/agent.1",
		"NPM_CONFIG_REGISTRY=https://u:secret10@registry.example/", "GEMINI_OAUTH_TOKEN=secret11",
		"ANTHROPIC_API_KEY=sk-ant-named", "LANG=C.UTF-8", "NPM_CONFIG_FUND=false", "ANTHROPIC_MODEL=claude-test", "GEMINI_API_KEY=gm-named",
	}
	const leaked = `env | grep -E 'secret|SSH_AUTH_SOCK' && exit 0; echo none leaked; exit 1`
	escapeAttempts = append(escapeAttempts,
		escapeAttempt{
			class: "env", name: "npm tokens through NPM_CONFIG_* under claude", profile: "claude", env: creds,
			attack: leaked, want: "none leaked",
			control: `echo "$NPM_CONFIG_FUND $LANG"`, controlWant: "false C.UTF-8",
		},
		escapeAttempt{
			class: "env", name: "other keys through ANTHROPIC_* under claude", profile: "claude", env: creds,
			attack:  `env | grep -E '^(ANTHROPIC_ADMIN_KEY|CLAUDE_CODE_SECRET)' && exit 0; echo none leaked; exit 1`,
			want:    "none leaked",
			control: `echo "$ANTHROPIC_API_KEY $ANTHROPIC_MODEL"`, controlWant: "sk-ant-named claude-test",
		},
		escapeAttempt{
			class: "env", name: "forge, cloud and agent sockets under base", env: creds,
			attack: leaked, want: "none leaked",
			control: `echo "$LANG"`, controlWant: "C.UTF-8",
		},
		escapeAttempt{
			class: "env", name: "tokens through GEMINI_* under gemini", profile: "gemini", env: creds,
			attack: leaked, want: "none leaked",
			control: `echo "$GEMINI_API_KEY"`, controlWant: "gm-named",
		},
	)
}
