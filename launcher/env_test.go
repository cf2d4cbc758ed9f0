package launcher

import (
	"reflect"
	"testing"

	"github.com/agentrun/agentrun/profiles"
)

func TestAgentEnv(t *testing.T) {
	pol := &profiles.Policy{Env: profiles.EnvPolicy{
		Pass: []string{"HOME", "LC_*", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "EDITOR"},
		Set:  []profiles.EnvSetting{{Name: "EDITOR", Value: "vi"}, {Name: "NO_COLOR", Value: "1"}},
	}}
	host := []string{
		"HOME=/home/u", "LC_ALL=C", "LC_TIME=en_GB", "SECRET_TOKEN=x", "EDITOR=emacs",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.2/creds", "HOME=/dup", "NOEQUALS",
	}
	got := AgentEnv(pol, host)
	want := []string{"HOME=/home/u", "LC_ALL=C", "LC_TIME=en_GB", "EDITOR=vi", "NO_COLOR=1", "PATH=" + defaultPath}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AgentEnv:\n got %q\nwant %q", got, want)
	}
}

func TestSetEnv(t *testing.T) {
	got := setEnv([]string{"HOME=/root", "A=1"}, "HOME", "/home/u", "USER", "u")
	if want := []string{"HOME=/home/u", "A=1", "USER=u"}; !reflect.DeepEqual(got, want) {
		t.Errorf("setEnv = %q, want %q", got, want)
	}
}

// TestCredentialVar sorts real variables: credentials (and live sessions) on one side,
// settings on the other.
func TestCredentialVar(t *testing.T) {
	creds := []string{
		"AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "GITHUB_TOKEN", "GH_TOKEN",
		"GITHUB_PAT", "NPM_TOKEN", "NPM_CONFIG__AUTHTOKEN", "NPM_CONFIG__AUTH", "npm_config__auth",
		"NPM_CONFIG_//registry.npmjs.org/:_authToken", "PYPI_PASSWORD", "TWINE_PASSWORD",
		"DOCKER_PASSWORD", "DOCKER_AUTH_CONFIG", "VAULT_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
		"ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "GEMINI_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS",
		"SSH_AUTH_SOCK", "GPG_AGENT_INFO", "KRB5CCNAME", "PGPASSWORD", "MYSQL_PWD", "SMTP_PASS",
		"SENTRY_DSN", "STRIPE_KEY", "CLIENT_SECRET", "GIT_ASKPASS", "SESSION_COOKIE", "DEPLOY_PRIVATE_KEY",
	}
	for _, name := range creds {
		if !credentialVar(name, "x") {
			t.Errorf("%s: not taken for a credential", name)
		}
	}
	settings := []string{
		"PATH", "HOME", "LANG", "TERM", "PWD", "NPM_CONFIG_REGISTRY", "NPM_CONFIG_PREFIX", "ANTHROPIC_BASE_URL",
		"ANTHROPIC_MODEL", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_TMPDIR", "XDG_SESSION_TYPE",
		"DBUS_SESSION_BUS_ADDRESS", "OAUTH_CALLBACK_PORT", "GEMINI_MODEL", "AIDER_MODEL", "KEYTIMEOUT",
		"LESSKEY", "AWS_REGION", "NO_PROXY", "NODE_OPTIONS", "EDITOR",
	}
	for _, name := range settings {
		if credentialVar(name, "value") {
			t.Errorf("%s: taken for a credential", name)
		}
	}
	for _, v := range []string{"postgres://app:s3cret@db:5432/app", "https://u:tok@registry.example/simple"} {
		if !credentialVar("DATABASE_URL", v) {
			t.Errorf("a URL with a password (%s): not taken for a credential", v)
		}
	}
	if credentialVar("NPM_CONFIG_REGISTRY", "https://registry.example/npm/") {
		t.Error("a URL without a password: taken for a credential")
	}
}

// TestAgentEnvCredentials: a wildcard never passes a credential; a name the profile names
// exactly does; the dropped ones are listed by name.
func TestAgentEnvCredentials(t *testing.T) {
	pol := &profiles.Policy{Env: profiles.EnvPolicy{Pass: []string{"ANTHROPIC_*", "ANTHROPIC_API_KEY", "NPM_CONFIG_*", "LANG"}}}
	host := []string{
		"LANG=C", "ANTHROPIC_API_KEY=sk-1", "ANTHROPIC_AUTH_TOKEN=t", "ANTHROPIC_BASE_URL=https://api",
		"NPM_CONFIG__AUTHTOKEN=npm_x", "NPM_CONFIG__AUTH=dTpw", "NPM_CONFIG_REGISTRY=https://r/",
		"NPM_CONFIG_PROXY=http://u:pw@proxy:8080", "GITHUB_TOKEN=ghp_x",
	}
	env, dropped := agentEnv(pol, host)
	want := []string{"LANG=C", "ANTHROPIC_API_KEY=sk-1", "ANTHROPIC_BASE_URL=https://api", "NPM_CONFIG_REGISTRY=https://r/", "PATH=" + defaultPath}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env:\n got %q\nwant %q", env, want)
	}
	wantDropped := []string{"ANTHROPIC_AUTH_TOKEN", "NPM_CONFIG__AUTHTOKEN", "NPM_CONFIG__AUTH", "NPM_CONFIG_PROXY"}
	if !reflect.DeepEqual(dropped, wantDropped) {
		t.Errorf("dropped:\n got %q\nwant %q", dropped, wantDropped)
	}
}
