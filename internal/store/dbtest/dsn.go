package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// DSN is a fresh, empty database that a test opens itself, as often as it
// likes (several processes, several pools): Name is "sqlite" or "postgres",
// DSN what store.Open takes. Nothing is migrated.
type DSN struct {
	Name string
	DSN  string
}

// DSNs returns a fresh SQLite file and a fresh PostgreSQL schema (skipped
// or failed as RequirePostgres says), both removed when the test ends.
func DSNs(t testing.TB) []DSN {
	t.Helper()
	out := []DSN{{Name: "sqlite", DSN: filepath.Join(t.TempDir(), "storekey.db")}}
	if err := reachable(); err != nil {
		RequirePostgres(t) // fails under CI
		return out
	}
	return append(out, DSN{Name: "postgres", DSN: PostgresSchema(t)})
}

// PostgresSchema creates a schema of its own on the test server and
// returns a DSN whose connections use it; the schema is dropped when the
// test ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	RequirePostgres(t)
	u, err := url.Parse(PostgresDSN())
	if err != nil {
		t.Fatalf("dbtest: STOREKEY_TEST_POSTGRES: %v", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "sk_test_" + hex.EncodeToString(b[:])
	admin := func(stmt string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", u.String())
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, stmt)
		return errors.Join(err, db.Close())
	}
	if err := admin(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("dbtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := admin(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("dbtest: drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
