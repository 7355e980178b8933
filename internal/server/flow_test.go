package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/storekey/storekey/internal/store/dbtest"

	"github.com/storekey/storekey/internal/oauth"
)

// TestOAuth2ClientFlow drives the whole flow with golang.org/x/oauth2 as a
// partner app would, against a real listener: code + PKCE, the sample API
// with the right and the wrong scope, refresh rotation, introspection,
// revocation.
func TestOAuth2ClientFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		ctx := context.Background()
		cfg := &oauth2.Config{
			ClientID: e.app.ID, ClientSecret: e.secret, RedirectURL: redirectURI,
			Scopes:   []string{"read_products", "read_orders"},
			Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		}
		verifier := oauth2.GenerateVerifier()
		authURL, _ := url.Parse(cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)))

		browser := e.browser()
		e.signIn(browser)
		back := e.authorize(browser, authURL.Query(), "allow")
		if got := back.Scheme + "://" + back.Host + back.Path; got != redirectURI {
			t.Fatalf("redirected to %s", back)
		}
		q := back.Query()
		if q.Get("state") != "st4te" || q.Get("iss") != e.svc.Config().Issuer || !strings.HasPrefix(q.Get("code"), oauth.PrefixCode) {
			t.Fatalf("authorization response %v", q)
		}

		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if !strings.HasPrefix(tok.AccessToken, oauth.PrefixAccess) || !strings.HasPrefix(tok.RefreshToken, oauth.PrefixRefresh) || tok.TokenType != "Bearer" {
			t.Fatalf("token %+v", tok)
		}
		if s, _ := tok.Extra("scope").(string); s != "read_orders read_products" {
			t.Fatalf("scope = %q", s)
		}
		if tok.Expiry.IsZero() {
			t.Fatal("no expiry")
		}

		// The sample API: read works, write needs write_products.
		st, body, _ := e.api(http.MethodGet, "/api/v1/products", tok.AccessToken, "")
		if st != http.StatusOK || len(body["data"].([]any)) != 1 {
			t.Fatalf("GET products: %d %v", st, body)
		}
		st, body, h := e.api(http.MethodPost, "/api/v1/products", tok.AccessToken, `{"name":"Kettle","sku":"KET","price_cents":100,"currency":"EUR"}`)
		if st != http.StatusForbidden || body["error"] != "insufficient_scope" || !strings.Contains(h.Get("WWW-Authenticate"), `scope="write_products"`) {
			t.Fatalf("POST products with read scope: %d %v %v", st, body, h)
		}
		client := cfg.Client(ctx, tok)
		res, err := client.Get(e.srv.URL + "/api/v1/orders")
		must(t, err)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET orders through oauth2 client: %d", res.StatusCode)
		}

		// Refresh: a new pair; the old refresh token then revokes the grant.
		newTok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if newTok.AccessToken == tok.AccessToken || newTok.RefreshToken == tok.RefreshToken {
			t.Fatal("refresh did not rotate")
		}
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", newTok.AccessToken, ""); st != http.StatusOK {
			t.Fatalf("new access token: %d", st)
		}
		// Introspection of the new token, as the app itself.
		st, body, _ = e.post("/oauth/introspect", url.Values{"token": {newTok.AccessToken}}, e.app.ID, e.secret)
		if st != http.StatusOK || body["active"] != true || body["store_id"] != e.store.ID || body["client_id"] != e.app.ID || body["scope"] != "read_orders read_products" {
			t.Fatalf("introspect: %d %v", st, body)
		}
		// The old refresh token, after its successor was used: reuse.
		if st, body := e.refresh(tok.RefreshToken); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v", st, body)
		}
		st, body, h = e.api(http.MethodGet, "/api/v1/products", newTok.AccessToken, "")
		if st != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("after reuse detection the grant must be revoked: %d %v", st, body)
		}
		st, body, _ = e.post("/oauth/introspect", url.Values{"token": {newTok.AccessToken}}, e.app.ID, e.secret)
		if st != http.StatusOK || body["active"] != false || len(body) != 1 {
			t.Fatalf("introspect revoked: %d %v", st, body)
		}
	})
}

func TestRevokeEndsGrant(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		tok := e.grantTokens()
		access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != http.StatusOK {
			t.Fatalf("api: %d", st)
		}
		// Another client cannot revoke it: 200, and nothing happens (RFC 7009 §2.2).
		other, otherSecret := e.newApp(false, "read_products")
		if st, _, _ := e.post("/oauth/revoke", url.Values{"token": {access}}, other.ID, otherSecret); st != http.StatusOK {
			t.Fatalf("revoke by other: %d", st)
		}
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != http.StatusOK {
			t.Fatalf("another client's revocation took effect: %d", st)
		}
		if st, body, _ := e.post("/oauth/revoke", url.Values{"token": {refresh}, "token_type_hint": {"refresh_token"}}, e.app.ID, e.secret); st != http.StatusOK {
			t.Fatalf("revoke: %d %v", st, body)
		}
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != http.StatusUnauthorized {
			t.Fatalf("access token after revoking its grant: %d", st)
		}
		if st, body := e.refresh(refresh); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("refresh after revoke: %d %v", st, body)
		}
		// Unknown tokens: still 200.
		if st, _, _ := e.post("/oauth/revoke", url.Values{"token": {"ska_nope"}}, e.app.ID, e.secret); st != http.StatusOK {
			t.Fatalf("revoke unknown: %d", st)
		}
	})
}

func TestDenyAndConsentSkip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		browser := e.browser()
		e.signIn(browser)
		u := e.authorize(browser, e.authQuery(), "deny")
		if q := u.Query(); q.Get("error") != "access_denied" || q.Get("state") != "xyz-state" || q.Get("iss") == "" || q.Has("code") {
			t.Fatalf("deny: %s", u)
		}
		if st, body := e.exchange(e.code(browser, e.authQuery())); st != http.StatusOK {
			t.Fatalf("exchange: %d %v", st, body)
		}
		// The app holds these scopes on the store: the next request redirects at once.
		res, err := browser.Get(e.srv.URL + "/oauth/authorize?" + e.authQuery().Encode())
		must(t, err)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "code=") {
			t.Fatalf("known consent not skipped: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		// A wider request asks again.
		res, err = browser.Get(e.srv.URL + "/oauth/authorize?" + e.authQuery("scope", "read_products write_orders").Encode())
		must(t, err)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("wider scopes must show consent: %d", res.StatusCode)
		}
	})
}

func TestPublicClientNeedsPKCE(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		pub, _ := e.newApp(true, "read_products")
		browser := e.browser()
		e.signIn(browser)
		q := e.authQuery("client_id", pub.ID, "scope", "read_products")
		u := e.authorize(browser, q, "allow")
		if u.Query().Get("error") != "invalid_request" {
			t.Fatalf("public client without PKCE: %s", u)
		}
		verifier := oauth2.GenerateVerifier()
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		q.Set("code_challenge_method", "S256")
		code := e.code(browser, q)
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "client_id": {pub.ID}, "code_verifier": {verifier}}
		st, body, _ := e.post("/oauth/token", f)
		if st != http.StatusOK || body["access_token"] == nil {
			t.Fatalf("public exchange: %d %v", st, body)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		st, body, _ := e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read_products"}}, e.app.ID, e.secret)
		if st != http.StatusOK || body["scope"] != "read_products" || body["refresh_token"] != nil {
			t.Fatalf("client_credentials: %d %v", st, body)
		}
		tok := body["access_token"].(string)
		// App-level: no store, so no store data.
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", tok, ""); st != http.StatusForbidden {
			t.Fatalf("app-level token on store data: %d", st)
		}
		st, body, _ = e.post("/oauth/introspect", url.Values{"token": {tok}}, e.app.ID, e.secret)
		if body["active"] != true || body["store_id"] != nil {
			t.Fatalf("introspect app token: %d %v", st, body)
		}
	})
}
