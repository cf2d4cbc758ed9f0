package wsb

import "encoding/xml"

// Configuration is the root element of a .wsb file, with the elements Microsoft documents
// (Windows Sandbox configuration) in the documented order. The docs write the GPU setting
// both <vGPU> (in the keyword list) and <VGpu> (in their examples); this writes VGpu.
type Configuration struct {
	XMLName              xml.Name       `xml:"Configuration"`
	VGpu                 string         `xml:"VGpu"`
	Networking           string         `xml:"Networking"`
	MappedFolders        *MappedFolders `xml:"MappedFolders,omitempty"`
	LogonCommand         *LogonCommand  `xml:"LogonCommand,omitempty"`
	AudioInput           string         `xml:"AudioInput"`
	VideoInput           string         `xml:"VideoInput"`
	ProtectedClient      string         `xml:"ProtectedClient"`
	PrinterRedirection   string         `xml:"PrinterRedirection"`
	ClipboardRedirection string         `xml:"ClipboardRedirection"`
	MemoryInMB           int64          `xml:"MemoryInMB,omitempty"`
}

// MappedFolders are the host folders shared into the sandbox.
type MappedFolders struct {
	MappedFolder []MappedFolder `xml:"MappedFolder"`
}

// MappedFolder is one host folder (which must exist, or the sandbox does not start) shared
// at SandboxFolder (created when missing), read-only or writable.
type MappedFolder struct {
	HostFolder    string `xml:"HostFolder"`
	SandboxFolder string `xml:"SandboxFolder"`
	ReadOnly      bool   `xml:"ReadOnly"`
}

// LogonCommand is the one command run after the sandbox's account logs on.
type LogonCommand struct {
	Command string `xml:"Command"`
}

// The values of the Enable/Disable settings.
const (
	Enable  = "Enable"
	Disable = "Disable"
	Default = "Default"
)
