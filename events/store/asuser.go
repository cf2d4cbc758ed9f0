package store

import (
	"context"
	"database/sql/driver"

	"modernc.org/sqlite"

	"github.com/agentrun/agentrun/platform/safefs"
)

// asUser opens each of the database's connections with id's file-system identity
// (safefs.AsUser: a thread of its own whose fsuid, fsgid and groups are id's). Every file of
// the store SQLite opens by name it opens as a connection opens — the database, and its -wal
// and -shm as the connection's journal_mode pragma puts it in WAL mode — so a link the user
// planted at one of those names leads only where the user may write, and what SQLite
// creates is theirs. Later calls on a connection use its open descriptors.
type asUser struct {
	dsn string
	id  *safefs.Identity
}

func (c asUser) Connect(context.Context) (driver.Conn, error) {
	var conn driver.Conn
	err := safefs.AsUser(c.id, func() (err error) {
		conn, err = c.Driver().Open(c.dsn)
		return err
	})
	return conn, err
}

func (asUser) Driver() driver.Driver { return &sqlite.Driver{} }
