package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
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
