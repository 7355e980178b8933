package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointer copies SQLite's write-ahead log back into the database file
// from a connection of its own, so that checkpoints run beside the writer
// instead of inside its commits (SQLite's automatic checkpoint runs in the
// committing connection, and the writer is the one thing every write waits
// for). PASSIVE checkpoints never block the writer or the readers. The
// writer keeps a high automatic checkpoint threshold as a backstop, should
// this fall behind.
type checkpointer struct {
	conn *sql.DB
	quit chan struct{}
	wg   sync.WaitGroup
}

// checkpointEvery is how often the log is copied back.
const checkpointEvery = 250 * time.Millisecond

func startCheckpointer(conn *sql.DB) *checkpointer {
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, quit: make(chan struct{})}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-c.quit:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				// An error (the database busy or closing) only means the
				// next tick, or the writer's backstop, does it.
				_, _ = c.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
				cancel()
			}
		}
	}()
	return c
}

func (c *checkpointer) close() error {
	close(c.quit)
	c.wg.Wait()
	return c.conn.Close()
}
