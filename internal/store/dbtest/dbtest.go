// Package dbtest gives tests a fresh, migrated database of each kind the
// store supports, so that any package's tests can run against both:
//
//	for _, b := range dbtest.Backends() {
//		t.Run(b.Name, func(t *testing.T) {
//			db := b.Open(t)
//			...
//		})
//	}
//
// SQLite databases are files in t.TempDir(). PostgreSQL databases are
// schemas of their own, created for the test and dropped when it ends, in
// the database that the STOREKEY_TEST_POSTGRES environment variable names
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
// When that server cannot be reached the PostgreSQL test is skipped, unless
// the CI environment variable is set: then it fails, so that CI never passes
// without having run against PostgreSQL.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/store"
)

// DefaultPostgresDSN is the server used when STOREKEY_TEST_POSTGRES is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backend is one kind of database to run tests against.
type Backend struct {
	Name string // "sqlite" or "postgres", usable as a subtest name
	// Open returns a fresh, migrated, empty database that is closed (and on
	// PostgreSQL dropped) when the test ends.
	Open func(t testing.TB) *store.DB
}

// Backends returns every backend: SQLite and PostgreSQL.
func Backends() []Backend {
	return []Backend{
		{Name: store.SQLite, Open: OpenSQLite},
		{Name: store.Postgres, Open: OpenPostgres},
	}
}

// OpenSQLite returns a fresh, migrated SQLite database in t.TempDir().
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "storekey.db"))
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("dbtest: close: %v", err)
		}
	})
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return db
}

// PostgresDSN returns the DSN of the test server: $STOREKEY_TEST_POSTGRES
// or DefaultPostgresDSN.
func PostgresDSN() string {
	if dsn := os.Getenv("STOREKEY_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultPostgresDSN
}

// reachable remembers, for the whole test binary, whether the server
// answered, so that an absent server costs one connection timeout, not one
// per test.
var reachable = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", PostgresDSN())
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return db.PingContext(ctx)
})

// RequirePostgres skips the test when the PostgreSQL test server cannot be
// reached, or fails it when the CI environment variable is set.
func RequirePostgres(t testing.TB) {
	t.Helper()
	if err := reachable(); err != nil {
		msg := fmt.Sprintf("dbtest: PostgreSQL at %s is unreachable (%v); set STOREKEY_TEST_POSTGRES to a server's DSN", redact(PostgresDSN()), err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so this fails instead of skipping)")
		}
		t.Skip(msg)
	}
}

// OpenPostgres returns a fresh, migrated PostgreSQL database: a schema of
// its own, sk_test_<random>, made the connections' search_path, and dropped
// with everything in it when the test ends.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	// The schema's cleanup is registered before open's, so it runs after
	// the store is closed.
	return open(t, PostgresSchema(t))
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
