package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
	"github.com/storekey/storekey/internal/store/storetest"
)

func TestStorage(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if b.Name == store.Postgres {
				dbtest.RequirePostgres(t)
			}
			storetest.Run(t, func(t *testing.T) oauth.Storage { return b.Open(t) })
		})
	}
}

func TestDialect(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if got := b.Open(t).Dialect(); got != b.Name {
				t.Errorf("Dialect() = %q, want %q", got, b.Name)
			}
		})
	}
}

// Migrate is run on every start: a second run is a no-op.
func TestMigrateTwice(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
		})
	}
}

// Open creates the parent directories of a SQLite file and accepts file:
// URIs, with and without query parameters of their own.
func TestOpenSQLiteDSN(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{
		filepath.Join(dir, "a", "b", "plain.db"),
		"file:" + filepath.Join(dir, "c", "uri.db"),
		"file://" + filepath.Join(dir, "d", "uri.db") + "?cache=private",
		filepath.Join(dir, "e", "query.db") + "?_pragma=cache_size(-2000)",
		":memory:",
	} {
		t.Run(dsn, func(t *testing.T) {
			db, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer func() { _ = db.Close() }()
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if err := db.AddKey(t.Context(), oauth.Key{ID: "k", Secret: []byte("s"), CreatedAt: time.Unix(1, 0)}); err != nil {
				t.Fatalf("AddKey: %v", err)
			}
			keys, err := db.Keys(t.Context())
			if err != nil || len(keys) != 1 {
				t.Fatalf("Keys = %v, %v; want the key just added", keys, err)
			}
		})
	}
}

// Two DB values on one SQLite file behave as two processes would: their
// writers contend for SQLite's file lock, not for one Go connection. The
// busy timeout and immediate transactions must keep SQLITE_BUSY from
// surfacing: every loser sees ErrConflict, nothing else.
func TestSQLiteTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	ctx := t.Context()
	seedStore(t, dbs[0], &oauth.App{ID: "a", Name: "A", CreatedAt: t0})
	for round := range 5 {
		code := &oauth.Code{Hash: oauth.Hash(fmt.Sprint("code", round)), AppID: "a", StoreID: "s", UserID: "u", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
		noErr(t, dbs[1].CreateCode(ctx, code))
		const n = 20
		errs := make(chan error, n)
		for i := range n {
			go func() {
				g := &oauth.Grant{ID: fmt.Sprintf("g%d-%d", round, i), AppID: "a", StoreID: "s", UserID: "u", Generation: 1, CreatedAt: t0}
				tok := &oauth.Token{Hash: oauth.Hash(g.ID), Kind: oauth.KindAccess, GrantID: g.ID, AppID: "a", StoreID: "s", Generation: 1, CreatedAt: t0}
				errs <- dbs[i%2].RedeemCode(ctx, code, t0, g, []*oauth.Token{tok})
			}()
		}
		won := 0
		for range n {
			switch err := <-errs; {
			case err == nil:
				won++
			case !errors.Is(err, oauth.ErrConflict):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners", round, won)
		}
	}
}

// A store that cannot be reached fails at Open, not at first use.
func TestOpenUnreachablePostgres(t *testing.T) {
	ctx := t.Context()
	_, err := store.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
}
