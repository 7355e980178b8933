package oauth_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// readCounter is the real store, counting the scope reads of remembered
// consent.
type readCounter struct {
	oauth.Storage
	reads atomic.Int64
}

func (r *readCounter) GrantedScopes(ctx context.Context, appID, storeID string, limit int) ([]oauth.Scopes, error) {
	r.reads.Add(1)
	return r.Storage.GrantedScopes(ctx, appID, storeID, limit)
}

// TestRememberedConsent runs two services on one database, as two server
// processes: remembered consent is answered from memory once known, and
// ends with the grant behind it, at once in the process that revoked it
// and, in the other, as soon as that one has followed the revocation log.
// A grant made elsewhere is still found.
func TestRememberedConsent(t *testing.T) {
	for _, be := range dbtest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := t.Context()
			db := be.Open(t)
			t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
			now := func() time.Time { return t0 }
			keys := []oauth.Key{{ID: "k", Secret: bytes.Repeat([]byte{9}, 32)}}
			cfg := oauth.Config{Issuer: "http://test", SkipKnownConsent: true}
			counted := &readCounter{Storage: db}
			a, err := oauth.NewService(cfg, counted, keys, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := oauth.NewService(cfg, db, keys, nil)
			if err != nil {
				t.Fatal(err)
			}
			a.Now, b.Now = now, now

			user := &oauth.User{ID: "usr_c", Email: "c@example.com", Name: "C", PasswordHash: "x", CreatedAt: t0}
			store := &oauth.Store{ID: "sto_c", Name: "C", Slug: "c", CreatedAt: t0}
			app := &oauth.App{ID: "app_c", Name: "C", RedirectURIs: []string{"https://c.example/cb"},
				Scopes:     oauth.NewScopes("read_products", "read_orders", "write_inventory"),
				SecretHash: oauth.Hash("secret"), CreatedAt: t0, UpdatedAt: t0}
			sess := &oauth.Session{Hash: oauth.Hash("session"), UserID: user.ID, Kind: "merchant", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			for _, err := range []error{db.CreateUser(ctx, user), db.CreateStore(ctx, store, user.ID), db.CreateApp(ctx, app), db.CreateSession(ctx, sess)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			request := func(s *oauth.Service, scope string) *oauth.Authorization {
				t.Helper()
				az, err := s.ValidateAuthorize(ctx, oauth.AuthorizeRequest{ResponseType: "code", ClientID: app.ID,
					RedirectURI: app.RedirectURIs[0], Scope: scope})
				if err != nil {
					t.Fatal(err)
				}
				return az
			}
			// grant approves and redeems a code through s: a new grant.
			grant := func(s *oauth.Service, scope string) string {
				t.Helper()
				code, err := s.Approve(ctx, request(s, scope), sess, store.ID, oauth.Bound{})
				if err != nil {
					t.Fatal(err)
				}
				resp, err := s.Token(ctx, oauth.TokenRequest{GrantType: oauth.GrantAuthorizationCode,
					Client: oauth.ClientCredentials{ID: app.ID, Secret: "secret"}, Code: code, RedirectURI: app.RedirectURIs[0]})
				if err != nil {
					t.Fatal(err)
				}
				return resp.Grant.ID
			}
			// check asks s whether consent to scope is remembered, and
			// checks the answer and how many reads it took.
			check := func(name string, s *oauth.Service, scope string, want bool, reads int64) {
				t.Helper()
				before := counted.reads.Load()
				got, err := s.CanSkipConsent(ctx, request(s, scope), store.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n := counted.reads.Load() - before; got != want || (s == a && n != reads) {
					t.Errorf("%s: CanSkipConsent(%q) = %v with %d reads, want %v with %d", name, scope, got, n, want, reads)
				}
			}

			check("no grant", a, "read_products read_orders", false, 1)
			check("no grant, again: nothing remembered", a, "read_products read_orders", false, 1)
			g1 := grant(a, "read_products read_orders")
			check("granted", a, "read_products read_orders", true, 1)
			check("granted, again", a, "read_products read_orders", true, 0)
			check("a subset", a, "read_products", true, 0)
			check("wider", a, "read_products write_inventory", false, 1)

			// Revoked in the other process: this one answers from memory
			// until it follows the revocation log, then reads again.
			if err := b.RevokeGrant(ctx, g1); err != nil {
				t.Fatal(err)
			}
			check("revoked elsewhere, log not followed", a, "read_products read_orders", true, 0)
			if err := a.FollowRevocations(ctx); err != nil {
				t.Fatal(err)
			}
			check("revoked elsewhere, log followed", a, "read_products read_orders", false, 1)
			check("revoked elsewhere, in the other process", b, "read_products read_orders", false, 0)

			// Revoked in this process: at once.
			g2 := grant(a, "read_products read_orders")
			check("granted again", a, "read_products read_orders", true, 1)
			if err := a.RevokeGrant(ctx, g2); err != nil {
				t.Fatal(err)
			}
			check("revoked here", a, "read_products read_orders", false, 1)

			// A grant made in the other process, which this one has not
			// seen: its remembered sets do not cover it, so it reads.
			grant(a, "read_products")
			check("granted a subset", a, "read_products", true, 1)
			grant(b, "write_inventory")
			check("granted elsewhere", a, "write_inventory", true, 1)
			check("granted elsewhere, again", a, "write_inventory", true, 0)
			// A grant made here joins what is remembered.
			grant(a, "read_orders")
			check("granted here", a, "read_orders", true, 0)

			// Uninstalling revokes every grant, here at once.
			if _, err := a.Uninstall(ctx, app.ID, store.ID); err != nil {
				t.Fatal(err)
			}
			check("uninstalled", a, "read_products", false, 1)
		})
	}
}
