package store_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// A statement that fails in the middle of a pipelined transaction (on
// PostgreSQL, after the code's update was already sent in the same round
// trip) leaves nothing written, and the connection goes back to the pool
// outside any transaction: what follows on it works.
func TestPipelinedTransactionFailure(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			ctx := t.Context()
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(db.CreateApp(ctx, &oauth.App{ID: "a", Name: "A", CreatedAt: t0}))
			must(db.CreateUser(ctx, &oauth.User{ID: "u", Email: "u@example.com", CreatedAt: t0}))
			must(db.CreateStore(ctx, &oauth.Store{ID: "s", Name: "S", Slug: "s", CreatedAt: t0}, "u"))
			code := func(name string) *oauth.Code {
				c := &oauth.Code{Hash: oauth.Hash(name), AppID: "a", StoreID: "s", UserID: "u", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
				must(db.CreateCode(ctx, c))
				return c
			}
			grant := func(id string) *oauth.Grant {
				return &oauth.Grant{ID: id, AppID: "a", StoreID: "s", UserID: "u", Generation: 1, CreatedAt: t0}
			}
			must(db.RedeemCode(ctx, code("c0").Hash, t0, grant("g-taken"), nil))

			c1 := code("c1")
			// The code's update succeeds, the grant's insert does not.
			for range 20 { // enough to come back to the same pooled connection
				err := db.RedeemCode(ctx, c1.Hash, t0, grant("g-taken"), nil)
				if !errors.Is(err, oauth.ErrConflict) {
					t.Fatalf("RedeemCode with a taken grant id = %v, want ErrConflict", err)
				}
				got, err := db.Code(ctx, c1.Hash)
				must(err)
				if !got.UsedAt.IsZero() || got.GrantID != "" {
					t.Fatalf("the failed redemption left the code used: %+v", got)
				}
			}
			must(db.RedeemCode(ctx, c1.Hash, t0, grant("g1"), nil))
			if _, err := db.Grant(ctx, "g1"); err != nil {
				t.Fatalf("Grant after a clean redemption: %v", err)
			}
		})
	}
}

// A transaction whose COMMIT travels in the same batch as its statements
// (nothing left to decide) is rolled back whole when one of them fails.
func TestPipelinedCommitInBatch(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			ctx := t.Context()
			insert := func(name string) string {
				return `INSERT INTO attempts (name, window_start, hits) VALUES ('` + name + `', 0, 1)`
			}
			for range 20 { // enough to come back to the same pooled connection
				err := db.ExecInOneTx(ctx, insert("a"), insert("b"), insert("b"), insert("c"))
				if !errors.Is(err, oauth.ErrConflict) {
					t.Fatalf("a batch with a duplicate key = %v, want ErrConflict", err)
				}
				for _, name := range []string{"a", "b", "c"} {
					if n, err := db.CountAttempt(ctx, name, time.Unix(0, 0), time.Hour); err != nil || n != 1 {
						t.Fatalf("after the failed batch, %s counts %d (err %v): want 1, nothing kept", name, n, err)
					}
					if err := db.ResetAttempts(ctx, name); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := db.ExecInOneTx(ctx, insert("a"), insert("b")); err != nil {
				t.Fatalf("a clean batch: %v", err)
			}
			if n, err := db.CountAttempt(ctx, "b", time.Unix(0, 0), time.Hour); err != nil || n != 2 {
				t.Fatalf("after the clean batch, b counts %d (err %v), want 2", n, err)
			}
		})
	}
}

// On PostgreSQL tokens name their app without a foreign key (migration
// 00006). A token row left behind by an insert that raced its app's
// deletion must never be found.
func TestTokenOfDeletedAppNotFound(t *testing.T) {
	dsn := dbtest.PostgresSchema(t)
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := raw.ExecContext(t.Context(), `INSERT INTO tokens (hash, kind, app_id, user_id, scopes, generation, created_at)
		VALUES ($1, 'access', 'app_gone', '', '', 0, $2)`, oauth.Hash("ska_orphan"), t0.UnixMicro()); err != nil {
		t.Fatalf("insert a token without its app: %v", err)
	}
	if _, err := db.TokenInfo(t.Context(), oauth.Hash("ska_orphan")); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("TokenInfo of a token whose app is gone = %v, want ErrNotFound", err)
	}
	err = db.CreateToken(t.Context(), &oauth.Token{Hash: oauth.Hash("ska_new"), Kind: oauth.KindAccess, AppID: "app_gone", CreatedAt: t0})
	if !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("CreateToken for a missing app = %v, want ErrNotFound", err)
	}
}
