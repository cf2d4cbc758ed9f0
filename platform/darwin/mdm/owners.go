package mdm

import "strings"

// Owner is who may still read and write a group of denied paths once Santa protects them.
type Owner struct {
	Name      string    // the group's part of the rule name
	Why       string    // said in the rule's block message
	Processes []Process // empty: no process at all
}

// owned is one row of the table of well-known secrets whose owners Santa can name.
type owned struct {
	under func(path, home string) bool
	owner Owner
}

// appleTool is a macOS system program, named by its path and as a platform binary: System
// Integrity Protection keeps anyone from replacing what is under /usr (but /usr/local), and
// PlatformBinary requires Apple's signature, so neither can be faked by the agent. Signing
// IDs are not guessed.
func appleTool(path string) Process { return Process{BinaryPath: path, PlatformBinary: true} }

// owners are the well-known secrets whose owning programs ship with macOS. Secrets that
// third-party programs own (the AWS CLI for ~/.aws, gh for ~/.config/gh, gpg-agent for
// ~/.gnupg) are not here: those programs are installed in places the user — and so the agent —
// can write (Homebrew), often run as scripts (the AWS CLI from Homebrew is Python, which would
// let any Python program in), and their Team IDs cannot be checked from this host. Their
// secrets are readable by no process once enforced: deploy with audit mode first, read
// Santa's FILE_ACCESS events, and add each owner's TeamID and SigningID to the rule.
var owners = []owned{
	{
		under: func(p, home string) bool { return within(p, home+"/.ssh") },
		owner: Owner{Name: "ssh", Why: "only OpenSSH's programs may read it", Processes: []Process{
			appleTool("/usr/bin/ssh"), appleTool("/usr/bin/ssh-add"), appleTool("/usr/bin/ssh-agent"),
			appleTool("/usr/bin/ssh-keygen"), appleTool("/usr/bin/scp"), appleTool("/usr/bin/sftp"),
			appleTool("/usr/sbin/sshd"),
		}},
	},
	{
		under: func(p, _ string) bool { return strings.HasPrefix(p, "/private/etc/ssh/ssh_host_") },
		owner: Owner{Name: "sshd", Why: "only sshd may read the host keys", Processes: []Process{
			appleTool("/usr/sbin/sshd"), appleTool("/usr/libexec/sshd-keygen-wrapper"),
		}},
	},
	{
		under: func(p, _ string) bool {
			return within(p, "/private/etc/sudoers") || within(p, "/private/etc/sudoers.d")
		},
		owner: Owner{Name: "sudoers", Why: "only sudo and visudo may read it", Processes: []Process{
			appleTool("/usr/bin/sudo"), appleTool("/usr/sbin/visudo"),
		}},
	},
}

// noOwner is the group of the denied paths no table row owns.
var noOwner = Owner{Name: "secrets", Why: "no process may read it"}

// ownerOf is the owner of a denied path (expanded for home).
func ownerOf(path, home string) Owner {
	for _, o := range owners {
		if o.under(path, home) {
			return o.owner
		}
	}
	return noOwner
}

// within reports whether p is dir or under it.
func within(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
