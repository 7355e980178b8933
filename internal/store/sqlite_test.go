package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// Every SQLite connection, writer and readers, runs with the settings that
// the atomicity and durability of the store rely on.
func TestSQLiteSettings(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if db.w.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", db.w.Stats().MaxOpenConnections)
	}
	for _, tc := range []struct {
		pool      string
		db        *sql.DB
		queryOnly int
	}{{"writer", db.w, 0}, {"reader", db.r, 1}} {
		for pragma, want := range map[string]any{
			"journal_mode": "wal",
			"synchronous":  int64(2), // FULL
			"foreign_keys": int64(1),
			"busy_timeout": int64(10000),
			"query_only":   int64(tc.queryOnly),
		} {
			var got any
			if err := tc.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", tc.pool, pragma, err)
			}
			if got != want {
				t.Errorf("%s: PRAGMA %s = %v (%T), want %v", tc.pool, pragma, got, got, want)
			}
		}
	}
	if _, err := db.r.ExecContext(t.Context(), "CREATE TABLE t (x INTEGER)"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestSQLitePath(t *testing.T) {
	for _, tc := range []struct {
		dsn, path string
		memory    bool
	}{
		{"/var/lib/storekey/db.sqlite", "/var/lib/storekey/db.sqlite", false},
		{"data/sk.db?_pragma=cache_size(-2000)", "data/sk.db", false},
		{"file:data/sk.db", "data/sk.db", false},
		{"file:/abs/sk.db?cache=private", "/abs/sk.db", false},
		{"file:///abs/my%20db.sqlite", "/abs/my db.sqlite", false},
		{"file://localhost/abs/sk.db", "/abs/sk.db", false},
		{":memory:", "", true},
		{"file::memory:", "", true},
		{"file:sk?mode=memory&cache=shared", "", true},
	} {
		path, memory := sqlitePath(tc.dsn)
		if path != tc.path || memory != tc.memory {
			t.Errorf("sqlitePath(%q) = %q, %v; want %q, %v", tc.dsn, path, memory, tc.path, tc.memory)
		}
	}
}

// Statements that first run inside a transaction cannot be prepared on the
// one-connection writer pool while the transaction holds it: they run
// unprepared and are cached once it ends, without deadlocking.
func TestSQLiteStatementCache(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.CreateApp(ctx, &oauth.App{ID: "a", Name: "A", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &oauth.User{ID: "u", Email: "u@example.com", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateStore(ctx, &oauth.Store{ID: "s", Name: "S", Slug: "s", CreatedAt: t0}, "u"); err != nil {
		t.Fatal(err)
	}
	cached := func(c *stmtCache) int {
		n := 0
		c.m.Range(func(_, _ any) bool { n++; return true })
		return n
	}
	before := cached(db.wr.stmts)
	for i := range 3 {
		g := &oauth.Grant{ID: fmt.Sprint("g", i), AppID: "a", StoreID: "s", UserID: "u", Generation: 1, CreatedAt: t0}
		c := &oauth.Code{Hash: oauth.Hash(g.ID), AppID: "a", StoreID: "s", UserID: "u", CreatedAt: t0, ExpiresAt: t0}
		if err := db.CreateCode(ctx, c); err != nil {
			t.Fatal(err)
		}
		tok := &oauth.Token{Hash: oauth.Hash("t" + g.ID), Kind: oauth.KindAccess, GrantID: g.ID, AppID: "a", CreatedAt: t0}
		if err := db.RedeemCode(ctx, c, t0, g, []*oauth.Token{tok}); err != nil {
			t.Fatalf("RedeemCode %d: %v", i, err)
		}
		if i == 0 {
			// CreateCode, and RedeemCode's update, two inserts and the read
			// that looks for a change of scopes to notify.
			if got := cached(db.wr.stmts) - before; got != 5 {
				t.Errorf("%d statements cached after the first redemption, want 5", got)
			}
		}
	}
	if _, err := db.TokenInfo(ctx, oauth.Hash("tg0")); err != nil {
		t.Fatal(err)
	}
	if cached(db.rd.stmts) == 0 {
		t.Error("the read pool cached no statement")
	}
}

// TestGroupCommit: concurrent writes share transactions, yet each succeeds
// or fails alone: of 50 sign-ups under one email exactly one lands, and
// all 50 under distinct emails land, whatever batches they fell into.
func TestGroupCommit(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var same, distinct, other int
	for i := 0; i < 50; i++ {
		for _, shared := range []bool{true, false} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				email := fmt.Sprintf("u%d@x.example", i)
				if shared {
					email = "same@x.example"
				}
				err := db.CreateUser(ctx, &oauth.User{ID: oauth.RandomID("usr_"), Email: email, PasswordHash: "h", CreatedAt: now})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && shared:
					same++
				case err == nil:
					distinct++
				case shared && errors.Is(err, oauth.ErrConflict):
				default:
					other++
					t.Errorf("CreateUser: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	if same != 1 || distinct != 50 || other != 0 {
		t.Fatalf("same-email wins %d (want 1), distinct %d (want 50), other errors %d", same, distinct, other)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 51 {
		t.Fatalf("users stored: %d, %v; want 51", n, err)
	}
}

// A job whose caller gives up while its statement runs does not take the
// other jobs of its group commit down with it: SQLite would roll the whole
// transaction back on an interrupted write, so the statements of a batch
// run detached from their callers' contexts.
func TestGroupCommitCallerCancel(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	slowCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := &job{ctx: slowCtx, single: true, done: make(chan error, 1), fn: func(h handle) error {
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := h.ExecContext(slowCtx, `INSERT INTO attempts (name, window_start, hits)
			SELECT 'slow', 0, count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT x FROM c)`)
		return err
	}}
	other := &job{ctx: context.Background(), single: true, done: make(chan error, 1), fn: func(h handle) error {
		_, err := h.ExecContext(context.Background(), `INSERT INTO attempts (name, window_start, hits) VALUES ('other', 0, 1)`)
		return err
	}}
	db.commit.commit([]*job{slow, other})
	if err := <-other.done; err != nil {
		t.Fatalf("the other job of the batch failed: %v", err)
	}
	var n int
	if err := db.r.QueryRowContext(t.Context(), `SELECT count(*) FROM attempts WHERE name = 'other'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the other job's row: count %d, err %v; want 1", n, err)
	}
	if err := <-slow.done; err != nil {
		t.Errorf("the job ran to its end, so it must report success: %v", err)
	}
}
