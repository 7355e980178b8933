package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// handle runs queries on a pool, or within a transaction on it, through
// prepared statements where that pays.
//
// Preparing is most of the cost of a small SQLite query (parsing and
// planning a primary-key lookup takes longer than running it), and
// modernc.org/sqlite prepares anew on every call, so on SQLite every
// statement is prepared once per connection and kept. pgx keeps its own
// per-connection cache of prepared statements, so on PostgreSQL the handle
// passes the text straight through (a database/sql Stmt on top would only
// add a round trip per connection and a layer of locking).
type handle struct {
	pool  *sql.DB
	stmts *stmtCache // nil: no caching
	tx    *sql.Tx    // nil outside a transaction
	// conn, on PostgreSQL, is the connection of a transaction that
	// pipelineTx began itself (database/sql knows nothing of it).
	conn *sql.Conn
	// detached runs every statement to its end even if the context passed
	// with it is cancelled (SQLite's group commit, see committer.commit).
	detached bool
	// missed collects, within a transaction, the queries not yet prepared.
	// They cannot be prepared on the pool then: SQLite's writer pool has
	// one connection and the transaction holds it. (*DB).tx prepares them
	// once the transaction has ended.
	missed *[]string
}

// row is what QueryRowContext returns: a *sql.Row, or the error of
// preparing the statement.
type row interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// stmt returns the prepared statement for query, or nil if it must run
// unprepared this time.
func (h handle) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if h.tx == nil {
		return h.stmts.get(ctx, h.pool, query)
	}
	s := h.stmts.lookup(query)
	if s == nil {
		*h.missed = append(*h.missed, query)
		return nil, nil
	}
	// Reuses the statement already prepared on the transaction's
	// connection; the copy is released when the transaction ends.
	return h.tx.StmtContext(ctx, s), nil
}

func (h handle) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if h.detached {
		ctx = context.WithoutCancel(ctx)
	}
	if h.stmts == nil {
		if h.tx != nil {
			return h.tx.ExecContext(ctx, query, args...)
		}
		if h.conn != nil {
			return h.conn.ExecContext(ctx, query, args...)
		}
		return h.pool.ExecContext(ctx, query, args...)
	}
	s, err := h.stmt(ctx, query) //nolint:sqlclosecheck // cached; closed by Close or at the end of the transaction
	if err != nil {
		return nil, err
	}
	if s == nil {
		return h.tx.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

func (h handle) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if h.detached {
		ctx = context.WithoutCancel(ctx)
	}
	if h.stmts == nil {
		if h.tx != nil {
			return h.tx.QueryContext(ctx, query, args...)
		}
		if h.conn != nil {
			return h.conn.QueryContext(ctx, query, args...)
		}
		return h.pool.QueryContext(ctx, query, args...)
	}
	s, err := h.stmt(ctx, query) //nolint:sqlclosecheck // cached; closed by Close or at the end of the transaction
	if err != nil {
		return nil, err
	}
	if s == nil {
		return h.tx.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (h handle) QueryRowContext(ctx context.Context, query string, args ...any) row {
	if h.detached {
		ctx = context.WithoutCancel(ctx)
	}
	if h.stmts == nil {
		if h.tx != nil {
			return h.tx.QueryRowContext(ctx, query, args...)
		}
		if h.conn != nil {
			return h.conn.QueryRowContext(ctx, query, args...)
		}
		return h.pool.QueryRowContext(ctx, query, args...)
	}
	s, err := h.stmt(ctx, query) //nolint:sqlclosecheck // cached; closed by Close or at the end of the transaction
	if err != nil {
		return errRow{err}
	}
	if s == nil {
		return h.tx.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// collect returns every row of a query's result, scanned by scan, and
// closes the rows. It takes the query's error too, so that the query's
// results can be passed along without a check in between.
func collect[T any](rows *sql.Rows, qerr error, scan func(r *sql.Rows, v *T) error) (out []T, err error) {
	if qerr != nil {
		return nil, qerr
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			out, err = nil, cerr
		}
	}()
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// stmtCache holds a pool's prepared statements by query text. The queries
// are constants of this package, so the cache is small and bounded.
type stmtCache struct{ m sync.Map }

func (c *stmtCache) lookup(query string) *sql.Stmt {
	if s, ok := c.m.Load(query); ok {
		return s.(*sql.Stmt)
	}
	return nil
}

func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	if s := c.lookup(query); s != nil {
		return s, nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(query, s); loaded {
		_ = s.Close() //nolint:sqlclosecheck // another caller prepared it first: this one is surplus now
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

func (c *stmtCache) close() error {
	var errs []error
	c.m.Range(func(_, s any) bool {
		errs = append(errs, s.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}
