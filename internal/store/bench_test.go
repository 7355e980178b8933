package store_test

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// The token path: what every API call (TokenInfo) and every token request
// (RedeemCode, RotateGrant, CreateToken) costs in the database.
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/store/

var benchT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchHash(prefix byte, i int64) []byte {
	h := make([]byte, 32)
	h[0] = prefix
	binary.BigEndian.PutUint64(h[24:], uint64(i))
	return h
}

// benchDB opens a database with an app, a store and a merchant.
func benchDB(b *testing.B, open func(testing.TB) *store.DB) *store.DB {
	db := open(b)
	ctx := b.Context()
	must(b, db.CreateApp(ctx, &oauth.App{ID: "app", Name: "App", CreatedAt: benchT0}))
	must(b, db.CreateUser(ctx, &oauth.User{ID: "u", Email: "u@example.com", CreatedAt: benchT0}))
	must(b, db.CreateStore(ctx, &oauth.Store{ID: "s", Name: "S", Slug: "s", CreatedAt: benchT0}, "u"))
	return db
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

func benchGrant(id string) *oauth.Grant {
	return &oauth.Grant{ID: id, AppID: "app", StoreID: "s", UserID: "u", Scopes: oauth.NewScopes("read_products", "write_orders"),
		Generation: 1, KeyID: "k", RotatedAt: benchT0, CreatedAt: benchT0}
}

func benchTokens(g *oauth.Grant, gen, i int64) []*oauth.Token {
	return []*oauth.Token{
		{Hash: benchHash('a', i), Kind: oauth.KindAccess, GrantID: g.ID, AppID: g.AppID, StoreID: g.StoreID, UserID: g.UserID,
			Scopes: g.Scopes, Generation: gen, CreatedAt: benchT0, ExpiresAt: benchT0.Add(time.Hour)},
		{Hash: benchHash('r', i), Kind: oauth.KindRefresh, GrantID: g.ID, AppID: g.AppID, StoreID: g.StoreID, UserID: g.UserID,
			Scopes: g.Scopes, Generation: gen, CreatedAt: benchT0},
	}
}

func eachBackend(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	for _, be := range dbtest.Backends() {
		b.Run(be.Name, func(b *testing.B) { fn(b, benchDB(b, be.Open)) })
	}
}

// BenchmarkTokenInfo looks up tokens of 1000 grants, from parallel callers,
// as resource servers validating requests do.
func BenchmarkTokenInfo(b *testing.B) {
	eachBackend(b, func(b *testing.B, db *store.DB) {
		ctx := b.Context()
		const grants = 1000
		for i := range int64(grants) {
			c := &oauth.Code{Hash: benchHash('c', i), AppID: "app", StoreID: "s", UserID: "u", CreatedAt: benchT0, ExpiresAt: benchT0.Add(time.Minute)}
			must(b, db.CreateCode(ctx, c))
			g := benchGrant(fmt.Sprint("g", i))
			must(b, db.RedeemCode(ctx, c, benchT0, g, benchTokens(g, 1, i)))
		}
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ti, err := db.TokenInfo(ctx, benchHash('a', n.Add(1)%grants))
				if err != nil || ti.Grant == nil {
					b.Errorf("TokenInfo: %v", err)
					return
				}
			}
		})
	})
}

// BenchmarkRedeemCode redeems a fresh sealed code per iteration: one
// transaction that inserts the code, used, a grant and two tokens.
func BenchmarkRedeemCode(b *testing.B) {
	eachBackend(b, func(b *testing.B, db *store.DB) {
		ctx := b.Context()
		codes := make([]*oauth.Code, b.N)
		for i := range codes {
			codes[i] = &oauth.Code{Hash: benchHash('c', int64(i)), AppID: "app", StoreID: "s", UserID: "u",
				CreatedAt: benchT0, ExpiresAt: benchT0.Add(time.Minute)}
		}
		b.ResetTimer()
		for i := range b.N {
			g := benchGrant(fmt.Sprint("g", i))
			must(b, db.RedeemCode(ctx, codes[i], benchT0, g, benchTokens(g, 1, int64(i))))
		}
	})
}

// BenchmarkRotateGrant rotates one grant once per iteration, storing the new
// generation's two tokens.
func BenchmarkRotateGrant(b *testing.B) {
	eachBackend(b, func(b *testing.B, db *store.DB) {
		ctx := b.Context()
		c := &oauth.Code{Hash: benchHash('c', 0), AppID: "app", StoreID: "s", UserID: "u", CreatedAt: benchT0, ExpiresAt: benchT0.Add(time.Minute)}
		must(b, db.CreateCode(ctx, c))
		g := benchGrant("g")
		must(b, db.RedeemCode(ctx, c, benchT0, g, nil))
		b.ResetTimer()
		for i := range int64(b.N) {
			must(b, db.RotateGrant(ctx, g.ID, 1+i, benchT0, "k", benchTokens(g, 2+i, i)))
		}
	})
}

// BenchmarkCreateToken stores app-level tokens (client_credentials), one
// statement outside a transaction, from parallel callers.
func BenchmarkCreateToken(b *testing.B) {
	eachBackend(b, func(b *testing.B, db *store.DB) {
		ctx := b.Context()
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tok := &oauth.Token{Hash: benchHash('t', n.Add(1)), Kind: oauth.KindAccess, AppID: "app",
					Scopes: oauth.NewScopes("read_products"), CreatedAt: benchT0, ExpiresAt: benchT0.Add(time.Hour)}
				if err := db.CreateToken(ctx, tok); err != nil {
					b.Errorf("CreateToken: %v", err)
					return
				}
			}
		})
	})
}
