package linux

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/agentrun/agentrun/platform/linux/rootfs"
	"github.com/agentrun/agentrun/platform/linux/stage"
)

// aclGrant is a tree the agent reaches through ACL entries for its uid rather than through an
// idmapped bind: its file system (or one mounted beneath it) cannot be idmapped on this
// kernel (overlayfs before Linux 5.19, tmpfs before 6.3, FUSE file systems that do not opt
// in). What the agent creates there belongs to its uid during the run and to Owner after.
type aclGrant struct {
	Path         string
	Write        bool
	Owner, Group int
}

// grantUnmappable decides, on the host before the stage builds the root, which of s's
// idmapped binds cannot be idmapped, and grants the agent those trees with ACLs instead: the
// binds go without the idmapping. Each grant is first recorded in the run's lock file, so
// that the next run takes it back if this agentrun is killed (see CleanStale), and taken back
// when the stage is gone (see stageProc.close). A file system without ACLs either stops the run, as one without idmap did.
func (r *sandboxRun) grantUnmappable(s *stage.Sandbox) error {
	var probe *idmapProbe
	var grants []aclGrant
	for i := range s.Ops {
		op := &s.Ops[i]
		if op.Kind != rootfs.OpBind || !op.IDMap {
			continue
		}
		if idmapsSurely(op.Dst) {
			continue
		}
		if probe == nil {
			var err error
			if probe, err = newIDMapProbe(*s.IDMap); err != nil {
				return err
			}
			defer probe.close()
		}
		ok, err := probe.supports(op.Dst)
		if ok || err != nil {
			// Idmapped as planned; a path the host lacks or reaches through a link is the
			// stage's to skip or refuse.
			continue
		}
		op.IDMap = false
		grants = append(grants, aclGrant{Path: op.Dst, Write: op.Flags&unix.MS_RDONLY == 0, Owner: s.IDMap.OwnerUID, Group: s.IDMap.OwnerGID})
	}
	if len(grants) == 0 {
		return nil
	}
	if _, err := r.stage.lock.Write(journalLines(grants)); err != nil {
		return fmt.Errorf("recording the agent's ACL grants in the run's lock file: %w", err)
	}
	// Taken back once the stage is gone, and with it every process of the agent.
	r.stage.undo = append(r.stage.undo, func() { revokeGrants(grants, r.spec.Stderr) })
	for _, g := range grants {
		if err := grantTree(g.Path, agentUID, g.Write); err != nil {
			if errors.Is(err, errNoACL) {
				return &rootfs.IDMapError{Path: g.Path, Err: err, NoACL: true}
			}
			return err
		}
	}
	return nil
}

// revokeGrants takes back grants, saying on w what could not be.
func revokeGrants(grants []aclGrant, w io.Writer) {
	for _, g := range grants {
		if err := revokeTree(g.Path, agentUID, g.Owner, g.Group); err != nil && w != nil {
			fmt.Fprintf(w, "agentrun: %v\n", err)
		}
	}
}

// journalPrefix starts a grant's line in a run's lock file, among its cgroup directories.
const journalPrefix = "acl "

// journalLines records grants in a run's lock file, one line each: "acl OWNER GROUP PATH".
func journalLines(grants []aclGrant) []byte {
	var b strings.Builder
	for _, g := range grants {
		fmt.Fprintf(&b, "\n%s%d %d %s", journalPrefix, g.Owner, g.Group, strconv.Quote(g.Path))
	}
	return []byte(b.String())
}

// grantsOf reads the grants a lock file records.
func grantsOf(content []byte) []aclGrant {
	var grants []aclGrant
	for _, line := range strings.Split(string(content), "\n") {
		rest, ok := strings.CutPrefix(line, journalPrefix)
		if !ok {
			continue
		}
		f := strings.SplitN(rest, " ", 3)
		if len(f) != 3 {
			continue
		}
		owner, err1 := strconv.Atoi(f[0])
		group, err2 := strconv.Atoi(f[1])
		path, err3 := strconv.Unquote(f[2])
		if err1 != nil || err2 != nil || err3 != nil || !strings.HasPrefix(path, "/") {
			continue
		}
		grants = append(grants, aclGrant{Path: path, Owner: owner, Group: group})
	}
	return grants
}
