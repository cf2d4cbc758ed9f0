package launcher

import (
	"net/url"
	"strings"
)

// Credential-bearing environment variables, recognised by name. A wildcard pass entry
// (NPM_CONFIG_*, ANTHROPIC_*) never lets one through; only a profile that names the
// variable exactly does, as each agent profile names its own API key.
var (
	// credentialParts are found anywhere in the upper-cased name.
	credentialParts = []string{
		"TOKEN",      // GITHUB_TOKEN, GH_TOKEN, NPM_TOKEN, VAULT_TOKEN, AWS_SESSION_TOKEN, NPM_CONFIG__AUTHTOKEN, _authToken
		"SECRET",     // AWS_SECRET_ACCESS_KEY, CLIENT_SECRET
		"PASSWORD",   // PYPI_PASSWORD, TWINE_PASSWORD, DOCKER_PASSWORD, PGPASSWORD
		"PASSWD",     //
		"PASSPHRASE", // GPG_PASSPHRASE, SSH key passphrases
		"CREDENTIAL", // GOOGLE_APPLICATION_CREDENTIALS (a path to a key file), AWS_SHARED_CREDENTIALS_FILE
		"APIKEY",     // OPENAI_APIKEY, X_APIKEY
		"API_KEY",    // OPENAI_API_KEY, ANTHROPIC_API_KEY
		"PRIVATE_KEY",
		"ACCESS_KEY", // AWS_ACCESS_KEY_ID: half of the pair, and names the account
		"COOKIE",
		"ASKPASS", // GIT_ASKPASS, SSH_ASKPASS: programs that hand out passwords
	}
	// credentialWords are whole words of the name (split at anything but letters and digits).
	credentialWords = map[string]bool{
		"AUTH": true, // NPM_CONFIG__AUTH, DOCKER_AUTH_CONFIG, SSH_AUTH_SOCK (a live key agent)
		"PASS": true, // SMTP_PASS, DB_PASS
		"PAT":  true, // GITHUB_PAT: a personal access token
		"DSN":  true, // SENTRY_DSN: a URL with a key
		"OTP":  true,
	}
	// credentialLastWords end a name: STRIPE_KEY, SIGNING_KEY, OPENAI_KEY.
	credentialLastWords = map[string]bool{"KEY": true, "KEYS": true}
	// credentialNames are other variables that hand over a credential or a live session.
	credentialNames = map[string]bool{
		"GPG_AGENT_INFO": true, // the gpg agent's socket
		"KRB5CCNAME":     true, // the Kerberos ticket cache
		"MYSQL_PWD":      true,
	}
)

// credentialVar reports whether a variable looks like it carries a credential: by its
// name, or by a value that is a URL with a password in it (DATABASE_URL=postgres://u:pw@db,
// a registry URL with a token).
func credentialVar(name, value string) bool {
	upper := strings.ToUpper(name)
	if credentialNames[upper] {
		return true
	}
	for _, p := range credentialParts {
		if strings.Contains(upper, p) {
			return true
		}
	}
	words := strings.FieldsFunc(upper, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') })
	for _, w := range words {
		if credentialWords[w] {
			return true
		}
	}
	if len(words) > 0 && credentialLastWords[words[len(words)-1]] {
		return true
	}
	return urlWithPassword(value)
}

// urlWithPassword reports whether s is, or holds, a URL whose user information has a
// password: scheme://user:password@host.
func urlWithPassword(s string) bool {
	if !strings.Contains(s, "://") {
		return false
	}
	for _, field := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		if u, err := url.Parse(field); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				return true
			}
		}
	}
	return false
}
