package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

func TestParseAuthorize(t *testing.T) {
	q, err := url.ParseQuery("response_type=code&client_id=c&redirect_uri=https%3A%2F%2Fa%2Fcb&scope=read_orders+read_products" +
		"&state=s&code_challenge=ch&code_challenge_method=S256&state=t&x=1&x=2&y=1")
	must(t, err)
	got := ParseAuthorize(q)
	want := oauth.AuthorizeRequest{
		ResponseType: "code", ClientID: "c", RedirectURI: "https://a/cb", Scope: "read_orders read_products",
		State: "s", CodeChallenge: "ch", CodeChallengeMethod: "S256", Repeated: []string{"state", "x"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseAuthorize (-want +got):\n%s", diff)
	}
	if got := ParseAuthorize(url.Values{}); got.Repeated != nil || got.ClientID != "" {
		t.Errorf("ParseAuthorize(empty) = %+v, want the zero request", got)
	}
}

// TestAuthorizeErrorPage covers requests whose client or redirect URI
// cannot be trusted: they are explained on a page and never redirected.
func TestAuthorizeErrorPage(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		tests := []struct {
			name string
			edit func(url.Values)
			code oauth.ErrorCode
		}{
			{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }, oauth.ErrInvalidClient},
			{"missing client", func(q url.Values) { q.Del("client_id") }, oauth.ErrInvalidRequest},
			{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }, oauth.ErrInvalidRequest},
			{"redirect_uri by prefix", func(q url.Values) { q.Set("redirect_uri", appRedirect+"/more") }, oauth.ErrInvalidRequest},
			{"repeated client_id", func(q url.Values) { q.Add("client_id", appID) }, oauth.ErrInvalidRequest},
			{"repeated redirect_uri", func(q url.Values) { q.Add("redirect_uri", appRedirect) }, oauth.ErrInvalidRequest},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				q := authorizeQuery()
				tc.edit(q)
				res := e.get(authorizePath(q))
				wantStatus(t, res, http.StatusBadRequest)
				if !strings.Contains(res.body, "<code>"+string(tc.code)+"</code>") {
					t.Errorf("the page does not show the error code %s:\n%s", tc.code, res.body)
				}
			})
		}
		q := authorizeQuery()
		q.Set("client_id", "nobody")
		golden(t, "error", e.get(authorizePath(q)).body)
	})
}

// TestAuthorizeErrorRedirect covers the errors that go back to a trusted
// redirect URI (RFC 6749 §4.1.2.1) with state and iss (RFC 9207).
func TestAuthorizeErrorRedirect(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		tests := []struct {
			name string
			q    url.Values
			code oauth.ErrorCode
		}{
			{"bad response_type", with(authorizeQuery(), "response_type", "token"), oauth.ErrUnsupportedResponseType},
			{"missing response_type", with(authorizeQuery(), "response_type", ""), oauth.ErrInvalidRequest},
			{"unknown scope", with(authorizeQuery(), "scope", "read_secrets"), oauth.ErrInvalidScope},
			{"scope not allowed", with(authorizeQuery(), "scope", "write_orders"), oauth.ErrInvalidScope},
			{"repeated state", func() url.Values { q := authorizeQuery(); q.Add("state", "x"); return q }(), oauth.ErrInvalidRequest},
			{"public client without PKCE", url.Values{
				"response_type": {"code"}, "client_id": {publicAppID}, "state": {"st-123"},
			}, oauth.ErrInvalidRequest},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// Signed in or not, the error goes back before anything is asked.
				u := location(t, e.get(authorizePath(tc.q)))
				q := u.Query()
				if got := q.Get("error"); got != string(tc.code) {
					t.Errorf("error = %q, want %s", got, tc.code)
				}
				if q.Get("state") != "st-123" || q.Get("iss") != issuer {
					t.Errorf("state %q, iss %q: want st-123 and %s", q.Get("state"), q.Get("iss"), issuer)
				}
				if q.Has("code") {
					t.Error("an error response carries a code")
				}
			})
		}
	})
}

func with(q url.Values, k, v string) url.Values {
	q.Set(k, v)
	return q
}

func TestAuthorizeSignIn(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	path := authorizePath(authorizeQuery())
	res := e.get(path)
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, `action="/login"`) || !strings.Contains(res.body, `name="password"`) {
		t.Fatalf("not signed in: want the sign-in form, got:\n%s", res.body)
	}
	if got := hiddenFields(t, res.body).Get("next"); got != path {
		t.Errorf("next = %q, want %q", got, path)
	}
	golden(t, "signin", res.body)

	// Signing in from that form comes back to the request.
	form := hiddenFields(t, res.body)
	form.Set("email", merchantMail)
	form.Set("password", merchantPass)
	if got := location(t, e.post("/login", form)).String(); got != path {
		t.Errorf("after sign-in: redirect to %q, want %q", got, path)
	}
	wantStatus(t, e.post("/login", url.Values{"email": {merchantMail}, "password": {"wrong"}, "next": {path}}), http.StatusUnauthorized)
}

func TestConsentAllow(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		e.signIn()
		res := e.get(authorizePath(authorizeQuery()))
		wantStatus(t, res, http.StatusOK)
		for _, want := range []string{
			"Inventory Sync", "Partner Labs", `alt="Inventory Sync logo"`,
			"View your products, variants, categories and prices",
			"View, create and change your stock levels, transfers and counts",
			"partner.example", "Demo Store", " checked",
		} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the consent page lacks %q", want)
			}
		}
		if !button(res.body, "Allow") || !button(res.body, "Deny") {
			t.Errorf("the consent page lacks the Allow and Deny buttons")
		}
		golden(t, "consent", strings.ReplaceAll(res.body, hiddenFields(t, res.body).Get("csrf"), "CSRF"))

		form := hiddenFields(t, res.body)
		form.Set("store_id", e.store.ID)
		form.Set("decision", "allow")
		u := location(t, e.post("/oauth/authorize", form))
		q := u.Query()
		if got := u.Scheme + "://" + u.Host + u.Path; got != appRedirect {
			t.Errorf("redirected to %s, want %s", got, appRedirect)
		}
		if q.Get("state") != "st-123" || q.Get("iss") != issuer || q.Has("error") {
			t.Errorf("response %v: want state st-123, iss %s and no error", q, issuer)
		}
		tok, err := e.svc.Token(context.Background(), oauth.TokenRequest{
			GrantType:   oauth.GrantAuthorizationCode,
			Client:      oauth.ClientCredentials{ID: appID, Secret: appSecret},
			Code:        q.Get("code"),
			RedirectURI: appRedirect,
		})
		if err != nil {
			t.Fatalf("exchange the code: %v", err)
		}
		if tok.Grant.StoreID != e.store.ID || tok.Grant.UserID != e.user.ID || tok.Scopes.String() != "read_products write_inventory" {
			t.Errorf("grant %+v, scopes %q: want the store, the merchant and the requested scopes", tok.Grant, tok.Scopes)
		}
	})
}

func TestConsentDeny(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		e.signIn()
		form := hiddenFields(t, e.get(authorizePath(authorizeQuery())).body)
		form.Set("decision", "deny") // no store chosen: Deny needs none
		q := location(t, e.post("/oauth/authorize", form)).Query()
		if q.Get("error") != string(oauth.ErrAccessDenied) || q.Get("state") != "st-123" || q.Get("iss") != issuer || q.Has("code") {
			t.Errorf("deny answered %v; want access_denied with state and iss", q)
		}
	})
}

func TestSkipConsent(t *testing.T) {
	eachBackend(t, envConfig{cfg: oauth.Config{SkipKnownConsent: true}}, func(t *testing.T, e *env) {
		e.signIn()
		// First time: consent is asked.
		res := e.get(authorizePath(authorizeQuery()))
		if !button(res.body, "Allow") {
			t.Fatalf("first request: want the consent page, got %d:\n%s", res.StatusCode, res.body)
		}
		form := hiddenFields(t, res.body)
		form.Set("store_id", e.store.ID)
		form.Set("decision", "allow")
		code := location(t, e.post("/oauth/authorize", form)).Query().Get("code")
		if _, err := e.svc.Token(context.Background(), oauth.TokenRequest{
			GrantType: oauth.GrantAuthorizationCode, Client: oauth.ClientCredentials{ID: appID, Secret: appSecret},
			Code: code, RedirectURI: appRedirect,
		}); err != nil {
			t.Fatal(err)
		}
		// Again, for a subset of what was granted: approved at once.
		q := authorizeQuery()
		q.Set("scope", "read_products")
		got := location(t, e.get(authorizePath(q))).Query()
		if got.Get("code") == "" || got.Get("state") != "st-123" || got.Get("iss") != issuer {
			t.Errorf("known consent: response %v, want a code with state and iss", got)
		}
		// More than was granted: asked again.
		q.Set("scope", "read_products read_orders")
		if res := e.get(authorizePath(q)); !button(res.body, "Allow") {
			t.Errorf("wider scope: want the consent page, got %d", res.StatusCode)
		}
	})
}

func TestConsentRequiresSession(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	e.signIn()
	form := hiddenFields(t, e.get(authorizePath(authorizeQuery())).body)
	form.Set("store_id", e.store.ID)
	form.Set("decision", "allow")
	e.post("/logout", nil)
	res := e.post("/oauth/authorize", form)
	wantStatus(t, res, http.StatusUnauthorized)
	if got := hiddenFields(t, res.body).Get("next"); got != authorizePath(authorizeQuery()) {
		t.Errorf("next = %q, want the original request", got)
	}
}

func TestConsentCSRF(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		e.signIn()
		form := hiddenFields(t, e.get(authorizePath(authorizeQuery())).body)
		form.Set("store_id", e.store.ID)
		form.Set("decision", "allow")

		// A cross-site browser post is refused before anything else.
		wantStatus(t, e.postWith("/oauth/authorize", form, "cross-site"), http.StatusForbidden)
		wantStatus(t, e.postWith("/login", url.Values{"email": {merchantMail}, "password": {merchantPass}}, "cross-site"), http.StatusForbidden)
		wantStatus(t, e.postWith("/logout", nil, "cross-site"), http.StatusForbidden)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		wantStatus(t, e.do(req), http.StatusForbidden)

		// A form without the session's token is refused.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("csrf", "forged")
		wantStatus(t, e.post("/oauth/authorize", bad), http.StatusForbidden)
		bad.Del("csrf")
		wantStatus(t, e.post("/oauth/authorize", bad), http.StatusForbidden)

		// The same form from the same origin goes through.
		location(t, e.post("/oauth/authorize", form))
	})
}

func TestConsentStoreTampering(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		other := e.addUser("usr_other", "other@example.com")
		must(t, e.db.CreateStore(ctx, &oauth.Store{ID: "sto_other", Name: "Other", Slug: "other", CreatedAt: e.clock.Now()}, other.ID))
		must(t, e.db.CreateStore(ctx, &oauth.Store{ID: "sto_staffed", Name: "Staffed", Slug: "staffed", CreatedAt: e.clock.Now()}, other.ID))
		must(t, e.db.AddMember(ctx, "sto_staffed", e.user.ID, oauth.RoleStaff))

		e.signIn()
		form := hiddenFields(t, e.get(authorizePath(authorizeQuery())).body)
		form.Set("decision", "allow")
		for _, id := range []string{"sto_other", "sto_staffed", "sto_missing"} {
			form.Set("store_id", id)
			wantStatus(t, e.post("/oauth/authorize", form), http.StatusForbidden)
		}
		// The request itself is validated again: a swapped redirect_uri is
		// shown, not followed.
		q := authorizeQuery()
		q.Set("redirect_uri", "https://evil.example/callback")
		form.Set("q", q.Encode())
		form.Set("store_id", e.store.ID)
		wantStatus(t, e.post("/oauth/authorize", form), http.StatusBadRequest)
		form.Set("q", "%zz")
		wantStatus(t, e.post("/oauth/authorize", form), http.StatusBadRequest)
	})
}

func TestConsentStorePicker(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	ctx := context.Background()
	must(t, e.db.CreateStore(ctx, &oauth.Store{ID: "sto_second", Name: "Second Shop", Slug: "second", CreatedAt: e.clock.Now()}, e.user.ID))
	e.signIn()
	res := e.get(authorizePath(authorizeQuery()))
	if strings.Contains(res.body, " checked") {
		t.Error("with two stores, one is preselected")
	}
	if !strings.Contains(res.body, "Second Shop") || !strings.Contains(res.body, "<legend>Store</legend>") {
		t.Error("the store picker lacks a store or its legend")
	}
	form := hiddenFields(t, res.body)
	form.Set("decision", "allow")
	res = e.post("/oauth/authorize", form)
	wantStatus(t, res, http.StatusBadRequest)
	if !button(res.body, "Allow") {
		t.Error("without a store chosen: want the consent page again")
	}
	form.Set("store_id", "sto_second")
	code := location(t, e.post("/oauth/authorize", form)).Query().Get("code")
	tok, err := e.svc.Token(ctx, oauth.TokenRequest{
		GrantType: oauth.GrantAuthorizationCode, Client: oauth.ClientCredentials{ID: appID, Secret: appSecret},
		Code: code, RedirectURI: appRedirect,
	})
	must(t, err)
	if tok.Grant.StoreID != "sto_second" {
		t.Errorf("code for store %s, want sto_second", tok.Grant.StoreID)
	}
}

func TestNoAuthorizableStore(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	ctx := context.Background()
	staff := e.addUser("usr_staff", "staff@example.com")
	must(t, e.db.AddMember(ctx, e.store.ID, staff.ID, oauth.RoleStaff))
	res := e.post("/login", url.Values{"email": {"staff@example.com"}, "password": {merchantPass}})
	location(t, res)
	res = e.get(authorizePath(authorizeQuery()))
	wantStatus(t, res, http.StatusOK)
	if button(res.body, "Allow") || !button(res.body, "Deny") {
		t.Fatalf("a merchant with no store to administer: want only Deny, got:\n%s", res.body)
	}
	form := hiddenFields(t, res.body)
	form.Set("decision", "deny")
	if q := location(t, e.post("/oauth/authorize", form)).Query(); q.Get("error") != string(oauth.ErrAccessDenied) {
		t.Errorf("deny: %v, want access_denied", q)
	}
	form.Set("decision", "allow")
	form.Set("store_id", e.store.ID)
	wantStatus(t, e.post("/oauth/authorize", form), http.StatusForbidden)
}

func TestOutOfBand(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		e.signIn()
		q := url.Values{"response_type": {"code"}, "client_id": {oobAppID}, "redirect_uri": {oauth.OOBRedirectURI}, "scope": {"read_products"}}
		res := e.get(authorizePath(q))
		if !button(res.body, "Allow") {
			t.Fatalf("want the consent page, got %d:\n%s", res.StatusCode, res.body)
		}
		form := hiddenFields(t, res.body)
		form.Set("store_id", e.store.ID)
		form.Set("decision", "allow")
		res = e.post("/oauth/authorize", form)
		wantStatus(t, res, http.StatusOK)
		m := regexpCode.FindStringSubmatch(res.body)
		if m == nil {
			t.Fatalf("the page does not show the code in a read-only field:\n%s", res.body)
		}
		if !strings.Contains(res.body, `<label for="code">`) || !strings.Contains(res.body, "copy.js") {
			t.Error("the code field lacks its label or the copy script")
		}
		if _, err := e.svc.Token(context.Background(), oauth.TokenRequest{
			GrantType: oauth.GrantAuthorizationCode, Client: oauth.ClientCredentials{ID: oobAppID, Secret: appSecret},
			Code: m[1], RedirectURI: oauth.OOBRedirectURI,
		}); err != nil {
			t.Errorf("exchange the shown code: %v", err)
		}

		// Errors and denials are shown, since there is nowhere to send them.
		form.Set("decision", "deny")
		res = e.post("/oauth/authorize", form)
		wantStatus(t, res, http.StatusOK)
		if !strings.Contains(res.body, "<code>access_denied</code>") {
			t.Error("the denial page does not show access_denied")
		}
		q.Set("scope", "write_orders")
		res = e.get(authorizePath(q))
		wantStatus(t, res, http.StatusBadRequest)
		if !strings.Contains(res.body, "<code>invalid_scope</code>") {
			t.Error("the error page does not show invalid_scope")
		}
	})
}

var regexpCode = regexp.MustCompile(`<input id="code" type="text" value="(skc_[A-Za-z0-9_-]+)" readonly`)
