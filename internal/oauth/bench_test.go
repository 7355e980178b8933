package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// benchService is a Service on a fresh database of each kind, with one
// confidential app.
func benchServices(b *testing.B) []struct {
	name   string
	svc    *oauth.Service
	app    *oauth.App
	secret string
} {
	var out []struct {
		name   string
		svc    *oauth.Service
		app    *oauth.App
		secret string
	}
	for _, be := range dbtest.Backends() {
		db := be.Open(b)
		svc, app, secret := newBenchService(b, db)
		out = append(out, struct {
			name   string
			svc    *oauth.Service
			app    *oauth.App
			secret string
		}{be.Name, svc, app, secret})
	}
	return out
}

func newBenchService(b *testing.B, db *store.DB) (*oauth.Service, *oauth.App, string) {
	svc, err := oauth.NewService(oauth.Config{Issuer: "http://bench"}, db, []oauth.Key{{ID: "k", Secret: make([]byte, 32)}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	secret := oauth.RandomSecret(oauth.PrefixSecret)
	now := time.Now().UTC().Truncate(time.Microsecond)
	app := &oauth.App{ID: oauth.RandomID("app_"), Name: "bench", RedirectURIs: []string{"https://b.example/cb"},
		Scopes: oauth.NewScopes("read_products"), SecretHash: oauth.Hash(secret), CreatedAt: now, UpdatedAt: now}
	if err := db.CreateApp(context.Background(), app); err != nil {
		b.Fatal(err)
	}
	return svc, app, secret
}

// BenchmarkIssueToken measures the token endpoint's work for the client
// credentials grant: client authentication and one durable insert.
func BenchmarkIssueToken(b *testing.B) {
	for _, s := range benchServices(b) {
		b.Run(s.name, func(b *testing.B) {
			req := oauth.TokenRequest{GrantType: oauth.GrantClientCredentials, Client: oauth.ClientCredentials{ID: s.app.ID, Secret: s.secret}}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.svc.Token(context.Background(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkValidate measures access token validation as the sample API and
// resource servers do it, from the in-memory cache once warm.
func BenchmarkValidate(b *testing.B) {
	for _, s := range benchServices(b) {
		b.Run(s.name, func(b *testing.B) {
			tok := issue(b, s.svc, s.app, s.secret)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.svc.Validate(context.Background(), tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkIntrospect measures RFC 7662 introspection: client
// authentication and the token's record.
func BenchmarkIntrospect(b *testing.B) {
	for _, s := range benchServices(b) {
		b.Run(s.name, func(b *testing.B) {
			tok := issue(b, s.svc, s.app, s.secret)
			c := oauth.ClientCredentials{ID: s.app.ID, Secret: s.secret}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := s.svc.Introspect(context.Background(), c, tok)
					if err != nil || !res.Active {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func issue(b *testing.B, svc *oauth.Service, app *oauth.App, secret string) string {
	resp, err := svc.Token(context.Background(), oauth.TokenRequest{GrantType: oauth.GrantClientCredentials, Client: oauth.ClientCredentials{ID: app.ID, Secret: secret}})
	if err != nil {
		b.Fatal(err)
	}
	return resp.AccessToken
}
