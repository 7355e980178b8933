package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// TestTokenEndpointBadRequests sends every kind of bad request to the token,
// introspection and revocation endpoints and checks the exact status and
// error code: never a 500.
func TestTokenEndpointBadRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		browser := e.browser()
		e.signIn(browser)
		other, otherSecret := e.newApp(false, "read_products")
		verifier := oauth2.GenerateVerifier()
		pkceQuery := e.authQuery("code_challenge", oauth2.S256ChallengeFromVerifier(verifier), "code_challenge_method", "S256")
		base := func(kv ...string) string {
			f := url.Values{"grant_type": {"authorization_code"}, "client_id": {e.app.ID}, "client_secret": {e.secret}, "redirect_uri": {redirectURI}}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] == "-" {
					f.Del(kv[i])
				} else {
					f.Set(kv[i], kv[i+1])
				}
			}
			return f.Encode()
		}
		tests := []struct {
			name   string
			method string
			path   string
			ctype  string
			body   func() string
			basic  []string
			header map[string]string
			status int
			code   string
		}{
			{name: "GET token", method: http.MethodGet, path: "/oauth/token", status: 405, code: "invalid_request"},
			{name: "JSON body", ctype: "application/json", body: func() string { return `{"grant_type":"client_credentials"}` }, status: 400, code: "invalid_request"},
			{name: "no content type", ctype: "-", body: func() string { return base() }, status: 400, code: "invalid_request"},
			{name: "malformed form", body: func() string { return "grant_type=%zz&code=1" }, status: 400, code: "invalid_request"},
			{name: "oversized body", body: func() string { return base("code", strings.Repeat("a", 70<<10)) }, status: 400, code: "invalid_request"},
			{name: "parameters in query", path: "/oauth/token?code=x", body: func() string { return base("code", "x") }, status: 400, code: "invalid_request"},
			{name: "repeated parameter", body: func() string { return base("code", "x") + "&code=y" }, status: 400, code: "invalid_request"},
			{name: "missing grant_type", body: func() string { return base("grant_type", "-", "code", "x") }, status: 400, code: "invalid_request"},
			{name: "unsupported grant_type", body: func() string { return base("grant_type", "password") }, status: 400, code: "unsupported_grant_type"},
			{name: "no client auth", body: func() string { return base("client_id", "-", "client_secret", "-", "code", "x") }, status: 401, code: "invalid_client"},
			{name: "unknown client", body: func() string { return base("client_id", "app_nope", "code", "x") }, status: 401, code: "invalid_client"},
			{name: "wrong secret", body: func() string { return base("client_secret", "sks_wrong", "code", "x") }, status: 401, code: "invalid_client"},
			{name: "missing secret", body: func() string { return base("client_secret", "-", "code", "x") }, status: 401, code: "invalid_client"},
			{name: "two auth methods", body: func() string { return base("code", "x") }, basic: []string{e.app.ID, e.secret}, status: 400, code: "invalid_request"},
			{name: "basic for another client", body: func() string { return base("client_secret", "-", "code", "x") }, basic: []string{other.ID, otherSecret}, status: 401, code: "invalid_client"},
			{name: "malformed basic", body: func() string { return base("client_id", "-", "client_secret", "-") }, header: map[string]string{"Authorization": "Basic !!!"}, status: 401, code: "invalid_client"},
			{name: "bearer instead of basic", body: func() string { return base("client_id", "-", "client_secret", "-") }, header: map[string]string{"Authorization": "Bearer x"}, status: 401, code: "invalid_client"},
			{name: "missing code", body: func() string { return base() }, status: 400, code: "invalid_request"},
			{name: "unknown code", body: func() string { return base("code", "skc_nope") }, status: 400, code: "invalid_grant"},
			{name: "forged code", body: func() string {
				c := []byte(e.code(browser, e.authQuery()))
				if c[len(c)/2] == 'A' { // another base64url letter
					c[len(c)/2] = 'B'
				} else {
					c[len(c)/2] = 'A'
				}
				return base("code", string(c))
			}, status: 400, code: "invalid_grant"},
			{name: "code of another client", body: func() string {
				return base("client_id", other.ID, "client_secret", otherSecret, "code", e.code(browser, e.authQuery()))
			}, status: 400, code: "invalid_grant"},
			{name: "wrong redirect_uri", body: func() string {
				return base("code", e.code(browser, e.authQuery()), "redirect_uri", "https://partner.example/other")
			}, status: 400, code: "invalid_grant"},
			{name: "missing redirect_uri that was sent", body: func() string {
				return base("code", e.code(browser, e.authQuery()), "redirect_uri", "-")
			}, status: 400, code: "invalid_grant"},
			{name: "PKCE mismatch", body: func() string {
				return base("code", e.code(browser, pkceQuery), "code_verifier", oauth2.GenerateVerifier())
			}, status: 400, code: "invalid_grant"},
			{name: "PKCE verifier missing", body: func() string { return base("code", e.code(browser, pkceQuery)) }, status: 400, code: "invalid_grant"},
			{name: "PKCE downgrade", body: func() string {
				return base("code", e.code(browser, e.authQuery()), "code_verifier", verifier)
			}, status: 400, code: "invalid_grant"},
			{name: "refresh: missing token", body: func() string { return base("grant_type", "refresh_token") }, status: 400, code: "invalid_request"},
			{name: "refresh: unknown token", body: func() string { return base("grant_type", "refresh_token", "refresh_token", "skr_nope") }, status: 400, code: "invalid_grant"},
			{name: "refresh: access token given", body: func() string {
				_, tok := e.exchange(e.code(browser, e.authQuery()))
				return base("grant_type", "refresh_token", "refresh_token", tok["access_token"].(string))
			}, status: 400, code: "invalid_grant"},
			{name: "refresh: scope escalation", body: func() string {
				_, tok := e.exchange(e.code(browser, e.authQuery()))
				return base("grant_type", "refresh_token", "refresh_token", tok["refresh_token"].(string), "scope", "read_products write_orders")
			}, status: 400, code: "invalid_scope"},
			{name: "refresh: another client's token", body: func() string {
				_, tok := e.exchange(e.code(browser, e.authQuery()))
				return base("grant_type", "refresh_token", "refresh_token", tok["refresh_token"].(string), "client_id", other.ID, "client_secret", otherSecret)
			}, status: 400, code: "invalid_grant"},
			{name: "client_credentials: scope escalation", body: func() string { return base("grant_type", "client_credentials", "scope", "write_products") }, status: 400, code: "invalid_scope"},
			{name: "introspect: no auth", path: "/oauth/introspect", body: func() string { return "token=ska_x" }, status: 401, code: "invalid_client"},
			{name: "introspect: missing token", path: "/oauth/introspect", body: func() string { return "" }, basic: []string{e.app.ID, e.secret}, status: 400, code: "invalid_request"},
			{name: "revoke: no auth", path: "/oauth/revoke", body: func() string { return "token=ska_x" }, status: 401, code: "invalid_client"},
			{name: "revoke: missing token", path: "/oauth/revoke", body: func() string { return "" }, basic: []string{e.app.ID, e.secret}, status: 400, code: "invalid_request"},
			{name: "revoke: GET", method: http.MethodGet, path: "/oauth/revoke", status: 405, code: "invalid_request"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				method, path := tt.method, tt.path
				if method == "" {
					method = http.MethodPost
				}
				if path == "" {
					path = "/oauth/token"
				}
				var body string
				if tt.body != nil {
					body = tt.body()
				}
				req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
				switch tt.ctype {
				case "":
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				case "-":
				default:
					req.Header.Set("Content-Type", tt.ctype)
				}
				if tt.basic != nil {
					req.SetBasicAuth(tt.basic[0], tt.basic[1])
				}
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				st, m, h := e.do(req)
				if st != tt.status || m["error"] != tt.code {
					t.Fatalf("got %d %v, want %d %s", st, m, tt.status, tt.code)
				}
				if m["error_description"] == nil || m["error_description"] == "" {
					t.Errorf("no error_description: %v", m)
				}
				if st == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("401 without WWW-Authenticate: %v", h)
				}
				if st != 405 && h.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control = %q", h.Get("Cache-Control"))
				}
			})
		}
	})
}

// TestCodeReplayAndExpiry: a code works once; a second use fails and
// revokes what the first issued; an expired code fails.
func TestCodeReplayAndExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		browser := e.browser()
		e.signIn(browser)
		code := e.code(browser, e.authQuery())
		st, tok := e.exchange(code)
		if st != http.StatusOK {
			t.Fatalf("exchange: %d %v", st, tok)
		}
		if st, body := e.exchange(code); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("replay: %d %v", st, body)
		}
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", tok["access_token"].(string), ""); st != http.StatusUnauthorized {
			t.Fatalf("tokens from a replayed code must be revoked: %d", st)
		}
		if st, body := e.refresh(tok["refresh_token"].(string)); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("refresh from a replayed code: %d %v", st, body)
		}

		// A replay is one however it is presented: with a wrong
		// redirect_uri, it still revokes what the code issued.
		code = e.code(browser, e.authQuery())
		if st, tok = e.exchange(code); st != http.StatusOK {
			t.Fatalf("exchange: %d %v", st, tok)
		}
		if st, body := e.exchange(code, "redirect_uri", "https://partner.example/other"); st != http.StatusBadRequest || body["error"] != "invalid_grant" ||
			!strings.Contains(body["error_description"].(string), "already been used") {
			t.Fatalf("replay with a wrong redirect_uri: %d %v", st, body)
		}
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", tok["access_token"].(string), ""); st != http.StatusUnauthorized {
			t.Fatalf("tokens from a code replayed with a wrong redirect_uri must be revoked: %d", st)
		}

		code = e.code(browser, e.authQuery())
		e.svc.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
		defer func() { e.svc.Now = time.Now }()
		if st, body := e.exchange(code); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("expired code: %d %v", st, body)
		}
	})
}

// TestCodeOfDemotedMerchant: the merchant's right to connect apps to the
// store, and their session, are checked again when the code is redeemed,
// so that a merchant demoted (or removed) after approving, or signed out,
// cannot connect the app.
func TestCodeOfDemotedMerchant(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		browser := e.browser()
		e.signIn(browser)
		code := e.code(browser, e.authQuery())
		if err := e.db.AddMember(t.Context(), e.store.ID, e.user.ID, oauth.RoleStaff); err != nil {
			t.Fatal(err)
		}
		if st, body := e.exchange(code); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("code of a demoted merchant: %d %v", st, body)
		}
		grants, err := e.db.Grants(t.Context(), oauth.GrantFilter{StoreID: e.store.ID, IncludeRevoked: true})
		if err != nil || len(grants) != 0 {
			t.Fatalf("grants after the refused exchange: %v, %v", grants, err)
		}
		// Made an admin again, the same code goes through: nothing of it
		// was used.
		if err := e.db.AddMember(t.Context(), e.store.ID, e.user.ID, oauth.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if st, body := e.exchange(code); st != http.StatusOK {
			t.Fatalf("code after the merchant was made an admin: %d %v", st, body)
		}

		// A merchant who signs out of the session they approved in ends
		// their approvals not yet redeemed.
		code = e.code(browser, e.authQuery())
		res, err := browser.PostForm(e.srv.URL+"/logout", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if st, body := e.exchange(code); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("code after its merchant signed out: %d %v", st, body)
		}
	})
}

// TestAuthorizeBadRequests: problems with the client or redirect URI are
// shown, never redirected; the rest go back to the redirect URI with the
// RFC 6749 §4.1.2.1 code and the state.
func TestAuthorizeBadRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		browser := e.browser()
		e.signIn(browser)
		tests := []struct {
			name   string
			query  string
			status int
			code   string // error in the redirect; "" when shown as a page
		}{
			{"missing client_id", "response_type=code&redirect_uri=" + url.QueryEscape(redirectURI), 400, ""},
			{"unknown client_id", "response_type=code&client_id=app_nope&redirect_uri=" + url.QueryEscape(redirectURI), 400, ""},
			{"unregistered redirect_uri", "response_type=code&client_id=" + e.app.ID + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"), 400, ""},
			{"redirect_uri prefix", "response_type=code&client_id=" + e.app.ID + "&redirect_uri=" + url.QueryEscape(redirectURI+"/x"), 400, ""},
			{"repeated client_id", "response_type=code&client_id=" + e.app.ID + "&client_id=" + e.app.ID, 400, ""},
			{"missing response_type", "client_id=" + e.app.ID + "&state=s", 303, "invalid_request"},
			{"implicit", "response_type=token&client_id=" + e.app.ID + "&state=s", 303, "unsupported_response_type"},
			{"unknown scope", "response_type=code&client_id=" + e.app.ID + "&scope=fly&state=s", 303, "invalid_scope"},
			{"scope not allowed", "response_type=code&client_id=" + e.app.ID + "&scope=write_products&state=s", 303, "invalid_scope"},
			{"scope of separators only", "response_type=code&client_id=" + e.app.ID + "&scope=%2C%20&state=s", 303, "invalid_scope"},
			{"repeated state", "response_type=code&client_id=" + e.app.ID + "&state=s&state=t", 303, "invalid_request"},
			{"plain PKCE", "response_type=code&client_id=" + e.app.ID + "&state=s&code_challenge=" + strings.Repeat("a", 43) + "&code_challenge_method=plain", 303, "invalid_request"},
			{"short challenge", "response_type=code&client_id=" + e.app.ID + "&state=s&code_challenge=abc&code_challenge_method=S256", 303, "invalid_request"},
			{"method without challenge", "response_type=code&client_id=" + e.app.ID + "&state=s&code_challenge_method=S256", 303, "invalid_request"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, err := browser.Get(e.srv.URL + "/oauth/authorize?" + tt.query)
				must(t, err)
				_ = res.Body.Close()
				if res.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
				}
				loc := res.Header.Get("Location")
				if tt.code == "" {
					if loc != "" {
						t.Fatalf("redirected to %q", loc)
					}
					return
				}
				u, _ := url.Parse(loc)
				if !strings.HasPrefix(loc, redirectURI+"?") || u.Query().Get("error") != tt.code || u.Query().Get("state") == "" || u.Query().Get("iss") == "" {
					t.Fatalf("redirect %q, want error=%s with state and iss", loc, tt.code)
				}
			})
		}
	})
}
