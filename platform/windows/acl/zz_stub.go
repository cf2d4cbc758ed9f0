package acl

type Access uint8

const (
	Read Access = iota + 1
	ReadExecute
	Write
	WriteExecute
	DenyAll
	DenyWrite
	DenyDelete
	Traverse
)

type Grant struct {
	Path    string
	Access  Access
	Inherit bool
}
