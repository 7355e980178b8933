package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// testDBs opens a migrated SQLite database and, when the test server
// answers, a PostgreSQL one in a schema of its own (dbtest cannot be used
// here: it imports this package).
func testDBs(t *testing.T) map[string]*DB {
	t.Helper()
	ctx := context.Background()
	out := map[string]*DB{}
	lite, err := Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lite.Close() })
	if err := lite.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	out[SQLite] = lite

	dsn := os.Getenv("STOREKEY_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("pgx", dsn)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = admin.PingContext(pctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable: %v", err)
		}
		t.Logf("PostgreSQL unreachable, SQLite only: %v", err)
		return out
	}
	t.Cleanup(func() { _ = admin.Close() })
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "sk_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	pg, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	if err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	out[Postgres] = pg
	return out
}

// The audit trail is append-only in the database itself, not only by
// convention: updates and deletes fail on both dialects.
func TestAuditAppendOnly(t *testing.T) {
	for name, db := range testDBs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			rec := oauth.AuditRecord{At: time.Unix(1, 0), Action: oauth.AuditSignIn, UserID: "u1"}
			if err := db.AppendAudit(ctx, []oauth.AuditRecord{rec}); err != nil {
				t.Fatal(err)
			}
			for _, stmt := range []string{
				`UPDATE audit_log SET user_id = 'u2'`,
				`DELETE FROM audit_log`,
			} {
				if _, err := db.w.ExecContext(ctx, stmt); err == nil {
					t.Errorf("%s: no error", stmt)
				}
			}
			recs, err := db.AuditRecords(ctx, oauth.AuditFilter{})
			if err != nil || len(recs) != 1 || recs[0].UserID != "u1" {
				t.Errorf("after the refused changes: %+v, %v", recs, err)
			}
		})
	}
}
