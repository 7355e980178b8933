package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/storekey/storekey/internal/oauth"
)

// Dialect names, as returned by (*DB).Dialect.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is the SQL implementation of oauth.Storage and oauth.SampleData. It is
// safe for concurrent use.
//
// On SQLite, writes go through a pool of exactly one connection and reads
// through a pool of several: SQLite admits one writer at a time, so queueing
// writers in Go instead of in SQLite's busy handler keeps SQLITE_BUSY out of
// the picture within a process, while WAL mode lets readers proceed alongside
// the writer. On PostgreSQL both are the same pool.
type DB struct {
	w       *sql.DB // writes and transactions
	r       *sql.DB // reads outside transactions; == w on PostgreSQL
	wr, rd  handle  // w and r, through prepared statements on SQLite
	dialect string
	commit  *committer    // SQLite's group commit; nil on PostgreSQL
	steps   *stepBatcher  // PostgreSQL's group commit of one-statement inserts; nil on SQLite
	ckpt    *checkpointer // SQLite's log checkpoints; nil on PostgreSQL and in memory
}

func newDB(dialect string, w, r *sql.DB) *DB {
	db := &DB{w: w, r: r, dialect: dialect, wr: handle{pool: w}, rd: handle{pool: r}}
	if dialect == SQLite {
		db.wr.stmts = new(stmtCache)
		db.rd.stmts = db.wr.stmts
		if r != w {
			db.rd.stmts = new(stmtCache)
		}
		db.commit = newCommitter(db)
	} else {
		db.steps = newStepBatcher(db)
	}
	return db
}

var (
	_ oauth.Storage    = (*DB)(nil)
	_ oauth.SampleData = (*DB)(nil)
)

// Open connects to the database that dsn names and checks that it answers.
// A dsn that starts with postgres:// or postgresql:// selects PostgreSQL
// (through pgx); anything else is a SQLite file path or file: URI, whose
// parent directory is created if missing. Open does not migrate; call
// Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

func openPostgres(dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	// pgx prepares and caches every statement per connection (its default
	// QueryExecModeCacheStatement), so the token path runs prepared
	// statements without any bookkeeping here. The pool is kept modest:
	// PostgreSQL's own default max_connections is 100, shared by every
	// process of a deployment.
	n := max(8, 4*runtime.GOMAXPROCS(0))
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pool.SetConnMaxLifetime(time.Hour)
	return newDB(Postgres, pool, pool), nil
}

// sqliteParams are the connection settings every SQLite connection gets.
//
//   - busy_timeout: another process holding the write lock makes us wait up
//     to 10 s instead of failing with SQLITE_BUSY at once.
//   - journal_mode=WAL: readers never block the writer nor the writer them.
//   - foreign_keys: SQLite leaves them off unless asked, per connection; the
//     schema relies on ON DELETE CASCADE.
//   - synchronous=FULL: in WAL mode NORMAL may lose the last commits on a
//     power cut or OS crash (they are durable only against an application
//     crash). A lost commit here is a redeemed code that becomes redeemable
//     again or a rotation that is undone after the new tokens were handed
//     out, so every commit is synced; it costs one fsync per write.
const sqliteParams = "_busy_timeout=10000&_journal_mode=WAL&_foreign_keys=1&_synchronous=FULL"

func openSQLite(dsn string) (*DB, error) {
	path, memory := sqlitePath(dsn)
	if path != "" && !memory {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil { //nolint:gosec // G703: the operator names the database file
			return nil, fmt.Errorf("store: create database directory: %w", err)
		}
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// BEGIN IMMEDIATE takes the write lock when the transaction starts. A
	// deferred transaction that reads first and then writes would have to
	// upgrade its lock, and SQLite answers a failed upgrade with SQLITE_BUSY
	// at once, without waiting out the busy timeout.
	//
	// The writer's page cache is 1 MiB rather than SQLite's 2 MiB: what it
	// writes most is the token hash index, whose pages are random, so a
	// bigger cache hits no more often; the operating system caches the file.
	w, err := sql.Open("sqlite", dsn+sep+sqliteParams+"&_txlock=immediate&_pragma=wal_autocheckpoint(20000)&_pragma=cache_size(-1024)")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if memory {
		// Every connection to an in-memory database sees a database of its
		// own: reads must share the one writer connection.
		return newDB(SQLite, w, w), nil
	}
	// Connect the writer first, so that the file exists and is in WAL mode
	// before a query-only reader opens it.
	if err := w.Ping(); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite: %w", err), w.Close())
	}
	// Readers keep small page caches of their own (128 KiB): in WAL mode a
	// reader empties its cache whenever a write has been committed since
	// its last read (pagerBeginReadTransaction), which under load is
	// before nearly every read, so a bigger cache only holds memory. The
	// operating system caches the file for all of them, and the hot reads
	// (token validation, apps) are served from the service's caches.
	r, err := sql.Open("sqlite", dsn+sep+sqliteParams+"&_query_only=1&_pragma=cache_size(-128)")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite: %w", err), w.Close())
	}
	// As many readers as cores, and two at least so that one long read (an
	// export) never holds up the rest. Each connection keeps its page
	// cache, its copy of the schema and its statements, and SQLite's
	// allocator holds what they once needed: under full flows a third
	// reader on two cores measured 1.5-2 MB more resident memory and no
	// more throughput, since a read takes tens of microseconds.
	n := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	c, err := sql.Open("sqlite", dsn+sep+sqliteParams+"&_pragma=cache_size(-256)")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite: %w", err), w.Close(), r.Close())
	}
	db := newDB(SQLite, w, r)
	db.ckpt = startCheckpointer(c)
	return db, nil
}

// sqlitePath returns the file path that a SQLite dsn names, "" if it cannot
// tell, and whether the database lives in memory.
func sqlitePath(dsn string) (path string, memory bool) {
	name, query, _ := strings.Cut(dsn, "?")
	if q, err := url.ParseQuery(query); err == nil && q.Get("mode") == "memory" {
		return "", true
	}
	if name == ":memory:" || name == "" {
		return "", true
	}
	if rest, ok := strings.CutPrefix(name, "file:"); ok {
		if rest == ":memory:" {
			return "", true
		}
		if after, ok := strings.CutPrefix(rest, "//"); ok {
			// file://host/path: only an empty host or localhost is valid.
			i := strings.IndexByte(after, '/')
			if i < 0 {
				return "", false
			}
			rest = after[i:]
		}
		p, err := url.PathUnescape(rest)
		if err != nil {
			return "", false
		}
		return p, false
	}
	return name, false
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Close closes the connection pools.
func (db *DB) Close() error {
	if db.steps != nil {
		db.steps.close()
	}
	if db.commit != nil {
		db.commit.close()
	}
	var errs []error
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.close())
	}
	if db.wr.stmts != nil {
		errs = append(errs, db.wr.stmts.close())
	}
	if db.rd.stmts != nil && db.rd.stmts != db.wr.stmts {
		errs = append(errs, db.rd.stmts.close())
	}
	errs = append(errs, db.w.Close())
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers, on every pool.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return fmt.Errorf("store: ping: %w", err)
		}
	}
	return nil
}

// tx runs fn in a write transaction and commits it if fn returns nil. On
// SQLite the transaction is shared with the other writes waiting at the
// moment (group commit, see committer), fn's part of it inside a savepoint.
func (db *DB) tx(ctx context.Context, fn func(tx handle) error) error {
	if db.commit != nil {
		return db.commit.do(ctx, fn, false)
	}
	return db.runTx(ctx, fn)
}

// write runs a single-statement write: on PostgreSQL directly (autocommit),
// on SQLite through the group commit. fn must run exactly one statement.
func (db *DB) write(ctx context.Context, fn func(h handle) error) error {
	if db.commit != nil {
		return db.commit.do(ctx, fn, true)
	}
	return fn(db.wr)
}

// writeStep runs a one-statement write that does not depend on any other:
// on PostgreSQL through the batcher (stepBatcher), on SQLite through the
// group commit.
func (db *DB) writeStep(ctx context.Context, s *step) error {
	if db.steps != nil {
		return db.steps.do(ctx, s)
	}
	return db.write(ctx, func(h handle) error { return s.run(ctx, h) })
}

// runTx runs fn in a transaction of its own.
func (db *DB) runTx(ctx context.Context, fn func(tx handle) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	h := db.wr
	h.tx = tx
	if h.stmts != nil {
		var missed []string
		h.missed = &missed
		defer func() {
			// The connection is free again: prepare what the transaction
			// ran unprepared, for the next one. A failure here only means
			// it will be tried again.
			for _, q := range missed {
				_, _ = h.stmts.get(context.WithoutCancel(ctx), db.w, q) //nolint:sqlclosecheck // cached; closed by Close
			}
		}()
	}
	if err := fn(h); err != nil {
		_ = tx.Rollback() // the error from fn is the one that matters
		return err
	}
	return tx.Commit()
}

// fail wraps err with the operation that failed, mapping driver errors onto
// the oauth sentinels: no rows and foreign-key violations (a reference to a
// record that does not exist) become oauth.ErrNotFound, uniqueness
// violations oauth.ErrConflict. The driver error stays in the chain for logs.
func fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, oauth.ErrNotFound) || errors.Is(err, oauth.ErrConflict) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, oauth.ErrNotFound)
	}
	if sentinel := classify(err); sentinel != nil {
		return fmt.Errorf("store: %s: %w: %w", op, sentinel, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return oauth.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return oauth.ErrNotFound
		}
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return oauth.ErrConflict
		case "23503": // foreign_key_violation
			return oauth.ErrNotFound
		}
	}
	return nil
}

// mustAffect turns an update or delete that touched no row into
// oauth.ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return oauth.ErrNotFound
	}
	return nil
}
