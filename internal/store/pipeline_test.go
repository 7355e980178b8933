package store_test

import (
	"database/sql"
	"errors"
	"fmt"
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
			seedStore(t, db, &oauth.App{ID: "a", Name: "A", CreatedAt: t0})
			code := func(name string) *oauth.Code {
				c := &oauth.Code{Hash: oauth.Hash(name), AppID: "a", StoreID: "s", UserID: "u", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
				noErr(t, db.CreateCode(ctx, c))
				return c
			}
			grant := func(id string) *oauth.Grant {
				return &oauth.Grant{ID: id, AppID: "a", StoreID: "s", UserID: "u", Generation: 1, CreatedAt: t0}
			}
			noErr(t, db.RedeemCode(ctx, code("c0"), t0, grant("g-taken"), nil))

			c1 := code("c1")
			// The code's update succeeds, the grant's insert does not.
			for range 20 { // enough to come back to the same pooled connection
				err := db.RedeemCode(ctx, c1, t0, grant("g-taken"), nil)
				if !errors.Is(err, oauth.ErrConflict) {
					t.Fatalf("RedeemCode with a taken grant id = %v, want ErrConflict", err)
				}
				got, err := db.Code(ctx, c1.Hash)
				noErr(t, err)
				if !got.UsedAt.IsZero() || got.GrantID != "" {
					t.Fatalf("the failed redemption left the code used: %+v", got)
				}
			}
			noErr(t, db.RedeemCode(ctx, c1, t0, grant("g1"), nil))
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

// RedeemCode's one-round-trip path (redeemSteps) writes a redemption only
// when it needs nothing decided in Go. When the code is used, when its
// merchant may no longer connect apps to the store, or when the redemption
// changes the scopes that an app with a webhook holds on the store, it
// refuses (and RedeemCode takes its general path) having written nothing:
// not the grant, not a token, not the code or its use. Codes are sealed
// ones, which the database sees first when they are redeemed, unless said
// stored (the out-of-band kind).
func TestQuickRedemption(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			ctx := t.Context()
			seedStore(t, db, &oauth.App{ID: "quiet", Name: "Quiet", CreatedAt: t0},
				&oauth.App{ID: "hooked", Name: "Hooked", WebhookURL: "https://hooked.example/h", CreatedAt: t0})
			n := 0
			code := func(app string) *oauth.Code {
				n++
				return &oauth.Code{Hash: oauth.Hash(fmt.Sprint("code", n)), AppID: app, StoreID: "s", UserID: "u",
					CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
			}
			stored := func(app string) *oauth.Code {
				c := code(app)
				noErr(t, db.CreateCode(ctx, c))
				return c
			}
			grant := func(id, app string, created time.Time, scopes ...string) (*oauth.Grant, []*oauth.Token) {
				g := &oauth.Grant{ID: id, AppID: app, StoreID: "s", UserID: "u", Scopes: oauth.NewScopes(scopes...),
					Generation: 1, CreatedAt: created}
				var toks []*oauth.Token
				for _, kind := range []oauth.TokenKind{oauth.KindAccess, oauth.KindRefresh} {
					toks = append(toks, &oauth.Token{Hash: oauth.Hash(id + string(kind)), Kind: kind, GrantID: id, AppID: app,
						StoreID: "s", UserID: "u", Scopes: g.Scopes, Generation: 1, CreatedAt: created})
				}
				return g, toks
			}
			// written reports whether the grant and each of its tokens exist.
			written := func(g *oauth.Grant, toks []*oauth.Token) (grant bool, tokens int) {
				t.Helper()
				_, err := db.Grant(ctx, g.ID)
				if err != nil && !errors.Is(err, oauth.ErrNotFound) {
					t.Fatal(err)
				}
				for _, tok := range toks {
					if _, err := db.TokenInfo(ctx, tok.Hash); err == nil {
						tokens++
					} else if !errors.Is(err, oauth.ErrNotFound) {
						t.Fatal(err)
					}
				}
				return err == nil, tokens
			}
			quick := func(what string, c *oauth.Code, g *oauth.Grant, toks []*oauth.Token) {
				t.Helper()
				if err := db.RedeemQuick(ctx, c, t0, g, toks); err != nil {
					t.Fatalf("%s: %v, want the quick path", what, err)
				}
				if gw, tw := written(g, toks); !gw || tw != len(toks) {
					t.Fatalf("%s: grant written %v, %d of %d tokens", what, gw, tw, len(toks))
				}
				if got, err := db.Code(ctx, c.Hash); err != nil || got.GrantID != g.ID || got.UsedAt.IsZero() {
					t.Fatalf("%s: the code after = %+v, %v: want used by %s", what, got, err, g.ID)
				}
			}
			// refused checks that nothing was written: the code, if wasStored,
			// is as it was (used by wasGrant, or unused if that is ""), and
			// otherwise still unknown.
			refused := func(what string, c *oauth.Code, g *oauth.Grant, toks []*oauth.Token, wasStored bool, wasGrant string) {
				t.Helper()
				if err := db.RedeemQuick(ctx, c, t0, g, toks); !errors.Is(err, store.ErrNotQuick) {
					t.Fatalf("%s: %v, want ErrNotQuick", what, err)
				}
				if gw, tw := written(g, toks); gw || tw != 0 {
					t.Fatalf("%s: refused, yet grant written %v and %d tokens", what, gw, tw)
				}
				got, err := db.Code(ctx, c.Hash)
				if !wasStored {
					if !errors.Is(err, oauth.ErrNotFound) {
						t.Fatalf("%s: the unstored code is now %+v, %v", what, got, err)
					}
					return
				}
				noErr(t, err)
				if got.GrantID != wasGrant || got.UsedAt.IsZero() != (wasGrant == "") {
					t.Fatalf("%s: refused, yet the code changed: %+v", what, got)
				}
			}

			// An app without a webhook: quick, whatever the scopes.
			c1 := code("quiet")
			g1, t1 := grant("g1", "quiet", t0, "read_products")
			quick("a first installation", c1, g1, t1)
			g2, t2 := grant("g2", "quiet", t0.Add(time.Second), "write_orders")
			quick("other scopes, no webhook", code("quiet"), g2, t2)
			// A used code: refused.
			g3, t3 := grant("g3", "quiet", t0.Add(2*time.Second), "read_products")
			refused("a used code", c1, g3, t3, true, "g1")
			// A merchant no longer owner or admin of the store: refused, for
			// a sealed code and for a stored one.
			cs := stored("quiet")
			noErr(t, db.AddMember(ctx, "s", "u", oauth.RoleStaff))
			refused("a demoted merchant", code("quiet"), g3, t3, false, "")
			refused("a stored code of a demoted merchant", cs, g3, t3, true, "")
			noErr(t, db.AddMember(ctx, "s", "u", oauth.RoleOwner))
			// A stored code, shown to the merchant to type: quick, once.
			gs, ts := grant("gs", "quiet", t0.Add(2*time.Second), "read_products")
			quick("a stored code", cs, gs, ts)
			refused("a used stored code", cs, g3, t3, true, "gs")

			// An app with a webhook: quick for a first installation and for
			// the same scopes again, refused for a change of scopes.
			h1, ht1 := grant("h1", "hooked", t0, "read_products")
			quick("a first installation with a webhook", code("hooked"), h1, ht1)
			h2, ht2 := grant("h2", "hooked", t0.Add(time.Second), "read_products")
			quick("the same scopes again", code("hooked"), h2, ht2)
			ch := code("hooked")
			h3, ht3 := grant("h3", "hooked", t0.Add(2*time.Second), "read_products", "write_orders")
			refused("a change of scopes with a webhook", ch, h3, ht3, false, "")
			// The general path then redeems it and enqueues the change.
			noErr(t, db.RedeemCode(ctx, ch, t0, h3, ht3))
			if gw, tw := written(h3, ht3); !gw || tw != 2 {
				t.Fatalf("the general path: grant written %v, %d tokens", gw, tw)
			}
			ds, err := db.Deliveries(ctx, "hooked", 10)
			noErr(t, err)
			if len(ds) != 1 || ds[0].Event != oauth.WebhookScopesChanged {
				t.Fatalf("deliveries after the change = %+v, want one grant.scopes_changed", ds)
			}
			// The newest active grant is the one compared: h3's scopes again
			// are no change, although h1 and h2 hold others.
			h5, ht5 := grant("h5", "hooked", t0.Add(3*time.Second), "read_products", "write_orders")
			quick("the newest grant's scopes again", code("hooked"), h5, ht5)
			// Only active grants count: with every grant revoked, a new
			// installation is quick again.
			for _, id := range []string{"h1", "h2", "h3", "h5"} {
				noErr(t, db.RevokeGrant(ctx, id, t0.Add(time.Hour)))
			}
			h4, ht4 := grant("h4", "hooked", t0.Add(4*time.Second), "read_customers")
			quick("a reinstallation after revocation", code("hooked"), h4, ht4)
		})
	}
}
