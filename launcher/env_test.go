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
