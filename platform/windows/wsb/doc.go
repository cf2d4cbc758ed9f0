// Package wsb compiles a policy to a Windows Sandbox configuration, a .wsb file (agentrun
// compile --target wsb). It is pure and builds on every OS.
//
// Windows Sandbox is a throw-away Hyper-V virtual machine with a pristine copy of the host's
// Windows: nothing of the host is visible in it except the folders a .wsb maps, and
// everything in it is discarded when its window closes. A .wsb (Microsoft's "Windows Sandbox
// configuration", windows-sandbox-configure-using-wsb-file) has ten settings; all are
// written:
//
//	VGpu                  Disable (the virtual GPU widens the attack surface)
//	Networking            Disable without network rules; Enable only with Lossy, since a
//	                      .wsb cannot filter hosts (the sandbox reaches any address)
//	MappedFolders         the workspace and the read and write roots under the home, each
//	                      a MappedFolder (ReadOnly true for read, false for write)
//	LogonCommand          cmd.exe in the mapped workspace running the command, quoted by
//	                      the rules of CommandLineToArgvW and escaped for cmd.exe
//	AudioInput, VideoInput, PrinterRedirection, ClipboardRedirection
//	                      Disable
//	ProtectedClient       Enable
//	MemoryInMB            the profile's memory limit (else the default limit)
//
// Paths. Profiles are written for a Unix home; the policy is resolved for Env, a stand-in
// home, workspace and $TMPDIR, and what is under them is then mapped: the home to
// Options.Home on the host and C:\Users\WDAGUtilityAccount (the sandbox's account) inside,
// the workspace to Options.Workspace and SandboxWorkspace. Everything else (/usr, /etc,
// $TMPDIR, unix sockets) has no Windows meaning and is not mapped: the sandbox has its own
// Windows and temporary directory, and a root left out grants less, never more.
//
// What a .wsb cannot express is refused, each rule named with its file:line: network hosts
// (no filter), deny and protect rules inside or above a mapped folder (a MappedFolder is
// all or nothing), exec rules, review rules, audit mode and the pids and cpu limits (no
// events, no process control). With Lossy the .wsb is written anyway, and each rule given
// up is listed in Result.Lost and in an XML comment. Deny and protect rules outside every
// mapped folder hold as they are: the sandbox cannot see those paths at all.
package wsb
