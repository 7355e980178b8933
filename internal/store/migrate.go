package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Migrate brings the schema up to date with the migrations embedded in the
// binary. It is safe to call on every start: applied migrations are skipped.
//
// On PostgreSQL it holds an advisory lock, keyed by the current schema,
// while it runs, so that processes starting together migrate one at a time.
// SQLite has no such lock: run one migrating process at a time.
func (db *DB) Migrate(ctx context.Context) (err error) {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	if db.dialect == Postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	p, err := goose.NewProvider(dialect, db.w, fsys,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if db.dialect == Postgres {
		unlock, err := lockMigrations(ctx, db.w)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		defer func() { err = errors.Join(err, unlock()) }()
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// lockMigrations takes a session-level advisory lock on a connection of its
// own, waiting for it rather than polling (goose's own locker polls every
// five seconds). The key is derived from the current schema, so databases
// that live side by side in schemas of one PostgreSQL database do not wait
// for each other.
func lockMigrations(ctx context.Context, pool *sql.DB) (unlock func() error, err error) {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	const key = `hashtextextended('storekey.migrate.' || coalesce(current_schema(), ''), 0)`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	return func() error {
		_, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`)
		return errors.Join(err, conn.Close())
	}, nil
}
