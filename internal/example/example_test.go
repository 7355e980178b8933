package example

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	clientID     = "app_example"
	clientSecret = "sks_secret:with&odd=chars"
	accessToken  = "ska_AbCdEfGh1234567890secretpart"
	refreshToken = "skr_ZyXwVuTs0987654321secretpart"
	theCode      = "skc_thecode"
	issuer       = "https://storekey.example"
)

// authServer is a fake Storekey: authorization endpoint, token endpoint and
// the products endpoint of the API. The knobs set how it answers; the
// records say what it was sent.
type authServer struct {
	*httptest.Server
	t *testing.T

	// knobs
	deny        bool   // the merchant refuses
	tamperState bool   // the redirect carries another state
	iss         string // the iss parameter of the redirect; "" for none
	tokenError  string // the token endpoint refuses with this error
	apiStatus   int
	apiBody     string

	mu         sync.Mutex
	authorize  url.Values // the authorization request's query
	tokenForm  url.Values // the token request's form
	tokenCalls int
	verifierOK bool   // the code_verifier matched the code_challenge
	apiAuth    string // the Authorization header of the API call
}

func newAuthServer(t *testing.T) *authServer {
	as := &authServer{t: t, apiStatus: http.StatusOK, apiBody: `{"data":[
		{"id":"prd_1","store_id":"st_1","name":"Espresso beans","sku":"ESP-1","price_cents":1250,"currency":"EUR","created_at":"2026-03-01T09:00:00Z"},
		{"id":"prd_2","store_id":"st_1","name":"<script>alert(1)</script>","sku":"","price_cents":5,"currency":"EUR","created_at":"2026-03-01T09:00:00Z"}]}`}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		as.mu.Lock()
		as.authorize = q
		as.mu.Unlock()
		back := url.Values{"state": {q.Get("state")}}
		if as.tamperState {
			back.Set("state", "forged")
		}
		if as.iss != "" {
			back.Set("iss", as.iss)
		}
		if as.deny {
			back.Set("error", "access_denied")
			back.Set("error_description", "The merchant said <no>")
		} else {
			back.Set("code", theCode)
		}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		_ = r.ParseForm()
		as.mu.Lock()
		as.tokenCalls++
		as.tokenForm = r.PostForm
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		as.verifierOK = as.authorize != nil &&
			base64.RawURLEncoding.EncodeToString(sum[:]) == as.authorize.Get("code_challenge")
		as.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case id != clientID || secret != clientSecret:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
		case as.tokenError != "":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":%q,"error_description":"The code has expired"}`, as.tokenError)
		default:
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600,"refresh_token":%q,"scope":"read_products read_orders"}`,
				accessToken, refreshToken)
		}
	})
	mux.HandleFunc("GET /api/v1/products", func(w http.ResponseWriter, r *http.Request) {
		as.mu.Lock()
		as.apiAuth = r.Header.Get("Authorization")
		as.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_token"}`)
			return
		}
		w.WriteHeader(as.apiStatus)
		fmt.Fprint(w, as.apiBody)
	})
	as.Server = httptest.NewServer(mux)
	t.Cleanup(as.Close)
	return as
}

func (as *authServer) calls() int {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.tokenCalls
}

// newApp serves the example app, configured against as, at /example.
func newApp(t *testing.T, as *authServer, change func(*Config)) *httptest.Server {
	var h http.Handler
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(app.Close)
	cfg := Config{
		BasePath:     "/example",
		ClientID:     clientID,
		ClientSecret: clientSecret,
		AuthURL:      as.URL + "/oauth/authorize",
		TokenURL:     as.URL + "/oauth/token",
		APIBase:      as.URL + "/api/v1",
		RedirectURL:  CallbackURL(app.URL, "/example"),
		Scopes:       []string{"read_products", "read_orders"},
		HTTPClient:   as.Client(),
		Title:        "Test app",
		Logger:       slog.New(slog.DiscardHandler),
	}
	if change != nil {
		change(&cfg)
	}
	h = New(cfg)
	return app
}

// browse follows the flow from /example/start as a browser would, and
// returns the last page.
func browse(t *testing.T, app *httptest.Server) (*http.Response, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	return get(t, browser, app.URL+"/example/start")
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestFlow(t *testing.T) {
	tests := []struct {
		name      string
		server    func(*authServer)
		config    func(*Config)
		status    int
		contains  []string
		excludes  []string
		exchanged bool // a token request was made
	}{
		{
			name:   "success",
			status: http.StatusOK,
			contains: []string{
				"<h1>The store is connected</h1>",
				"<code>ska_AbCd…</code>", "<code>skr_ZyXw…</code>",
				"<code>read_products read_orders</code>", "(in 3600 seconds)",
				"<td>Espresso beans</td><td>ESP-1</td><td class=\"num\">12.50 EUR</td>",
				"&lt;script&gt;alert(1)&lt;/script&gt;", "0.05 EUR",
			},
			excludes:  []string{accessToken, refreshToken, "AbCdEfGh1", "<script>"},
			exchanged: true,
		},
		{
			name:      "denied",
			server:    func(as *authServer) { as.deny = true },
			status:    http.StatusOK,
			contains:  []string{"The merchant did not connect the app", "<code>access_denied</code>", "The merchant said &lt;no&gt;"},
			excludes:  []string{"ska_"},
			exchanged: false,
		},
		{
			name:      "state mismatch",
			server:    func(as *authServer) { as.tamperState = true },
			status:    http.StatusBadRequest,
			contains:  []string{"The state does not match"},
			exchanged: false,
		},
		{
			name:      "issuer checked",
			server:    func(as *authServer) { as.iss = issuer },
			config:    func(c *Config) { c.Issuer = issuer },
			status:    http.StatusOK,
			contains:  []string{"The store is connected"},
			exchanged: true,
		},
		{
			name:      "issuer missing",
			config:    func(c *Config) { c.Issuer = issuer },
			status:    http.StatusBadRequest,
			contains:  []string{"unexpected issuer"},
			exchanged: false,
		},
		{
			name:      "issuer wrong",
			server:    func(as *authServer) { as.iss = "https://evil.example" },
			config:    func(c *Config) { c.Issuer = issuer },
			status:    http.StatusBadRequest,
			contains:  []string{"unexpected issuer", "https://evil.example"},
			exchanged: false,
		},
		{
			name:      "issuer ignored when none is configured",
			server:    func(as *authServer) { as.iss = "https://other.example" },
			status:    http.StatusOK,
			exchanged: true,
		},
		{
			name:      "token endpoint refuses",
			server:    func(as *authServer) { as.tokenError = "invalid_grant" },
			status:    http.StatusBadGateway,
			contains:  []string{"The token endpoint refused the code", "<code>invalid_grant</code>", "The code has expired"},
			exchanged: true,
		},
		{
			name:      "wrong client secret",
			config:    func(c *Config) { c.ClientSecret = "sks_wrong" },
			status:    http.StatusBadGateway,
			contains:  []string{"<code>invalid_client</code>"},
			exchanged: true,
		},
		{
			name: "API refuses",
			server: func(as *authServer) {
				as.apiStatus = http.StatusForbidden
				as.apiBody = `{"error":"insufficient_scope","error_description":"this request needs the read_products scope"}`
			},
			status: http.StatusOK,
			contains: []string{
				"<code>ska_AbCd…</code>",
				"The API answered 403 Forbidden: insufficient_scope (this request needs the read_products scope).",
			},
			excludes:  []string{accessToken},
			exchanged: true,
		},
		{
			name:      "API answers garbage",
			server:    func(as *authServer) { as.apiBody = `<html>` },
			status:    http.StatusOK,
			contains:  []string{"The API&#39;s answer is not the expected JSON."},
			exchanged: true,
		},
		{
			name:      "API has no products",
			server:    func(as *authServer) { as.apiBody = `{"data":[]}` },
			status:    http.StatusOK,
			contains:  []string{"The store has no products yet."},
			exchanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t)
			if tt.server != nil {
				tt.server(as)
			}
			app := newApp(t, as, tt.config)
			resp, body := browse(t, app)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d; page:\n%s", resp.StatusCode, tt.status, body)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q:\n%s", s, body)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(body, s) {
					t.Errorf("the page shows %q", s)
				}
			}
			if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy = %q", got)
			}

			as.mu.Lock()
			defer as.mu.Unlock()
			if got := as.tokenCalls > 0; got != tt.exchanged {
				t.Fatalf("token requested: %v, want %v", got, tt.exchanged)
			}
			if !tt.exchanged {
				return
			}
			if as.tokenCalls != 1 {
				t.Errorf("the code was presented %d times", as.tokenCalls)
			}
			if !as.verifierOK {
				t.Errorf("the code_verifier %q does not match the code_challenge %q",
					as.tokenForm.Get("code_verifier"), as.authorize.Get("code_challenge"))
			}
			want := url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {theCode},
				"redirect_uri":  {app.URL + "/example/callback"},
				"code_verifier": {as.tokenForm.Get("code_verifier")},
			}
			if diff := cmp.Diff(want, as.tokenForm); diff != "" {
				t.Errorf("token request form (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthorizationRequest(t *testing.T) {
	as := newAuthServer(t)
	h := New(Config{
		BasePath: "/example/", ClientID: clientID, AuthURL: as.URL + "/oauth/authorize",
		RedirectURL: "https://partner.example/example/callback", Scopes: []string{"read_products", "read_orders"},
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/example/start", nil))
	if w.Code != http.StatusFound {
		t.Fatalf("status = %d", w.Code)
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v", cookies)
	}
	c := cookies[0]
	state, verifier, _ := strings.Cut(c.Value, ".")
	sum := sha256.Sum256([]byte(verifier))

	want := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {"https://partner.example/example/callback"},
		"scope":                 {"read_products read_orders"},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("authorization request (-want +got):\n%s", diff)
	}
	if len(state) < 43 || len(verifier) < 43 {
		t.Errorf("state %q or verifier %q too short", state, verifier)
	}
	type attrs struct {
		Name, Path       string
		MaxAge           int
		HttpOnly, Secure bool
		SameSite         http.SameSite
	}
	gotAttrs := attrs{c.Name, c.Path, c.MaxAge, c.HttpOnly, c.Secure, c.SameSite}
	wantAttrs := attrs{flowCookie, "/example", int(flowMaxAge / time.Second), true, true, http.SameSiteLaxMode}
	if diff := cmp.Diff(wantAttrs, gotAttrs); diff != "" {
		t.Errorf("cookie (-want +got):\n%s", diff)
	}

	// A second start draws another state and verifier.
	w2 := httptest.NewRecorder()
	h.ServeHTTP(w2, httptest.NewRequest("GET", "/example/start", nil))
	if c2 := w2.Result().Cookies()[0]; c2.Value == c.Value {
		t.Error("two starts drew the same state and verifier")
	}
}

func TestCallbackWithoutCookie(t *testing.T) {
	as := newAuthServer(t)
	app := newApp(t, as, nil)
	resp, body := get(t, app.Client(), app.URL+"/example/callback?code="+theCode+"&state=anything")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
	if !strings.Contains(body, "This connection attempt has expired") {
		t.Errorf("page:\n%s", body)
	}
	if as.calls() != 0 {
		t.Error("the code was exchanged")
	}
}

func TestCallbackIsSingleUse(t *testing.T) {
	as := newAuthServer(t)
	app := newApp(t, as, nil)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	var callback string
	browser.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/example/callback" {
			callback = r.URL.String()
		}
		return nil
	}
	if resp, _ := get(t, browser, app.URL+"/example/start"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	// Replaying the callback (the back button, or an attacker with the URL)
	// finds no flow to finish.
	resp, _ := get(t, browser, callback)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replay: status = %d, want 400", resp.StatusCode)
	}
	if n := as.calls(); n != 1 {
		t.Errorf("the code was presented %d times", n)
	}
}

func TestPages(t *testing.T) {
	as := newAuthServer(t)
	app := newApp(t, as, nil)
	tests := []struct {
		path     string
		status   int
		ctype    string
		contains []string
	}{
		{
			path: "/example/", status: 200, ctype: "text/html; charset=utf-8",
			contains: []string{
				`<html lang="en">`, "<title>Test app</title>",
				`<a class="button" href="/example/start">Connect to Storekey</a>`,
				"<code>read_products</code>: View your products, variants, categories and prices",
				"<code>read_orders</code>: View your orders",
				"<code>" + clientID + "</code>",
			},
		},
		{path: "/example", status: 200, ctype: "text/html; charset=utf-8", contains: []string{"Connect to Storekey"}},
		{path: "/example/static/style.css", status: 200, ctype: "text/css; charset=utf-8", contains: []string{".button"}},
		{path: "/example/nope", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, app.Client(), app.URL+tt.path)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q:\n%s", s, body)
				}
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("Content-Security-Policy = %q", got)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"short", "…"},
		{"exactly12chr", "…"},
		{"ska_AbCdEfGh123", "ska_AbCd…"},
		{"ünïcödé_tökèn_välüé", "ünïcödé_…"},
	}
	for _, tt := range tests {
		if got := mask(tt.in); got != tt.want {
			t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrice(t *testing.T) {
	tests := []struct {
		cents    int64
		currency string
		want     string
	}{
		{0, "EUR", "0.00 EUR"},
		{5, "EUR", "0.05 EUR"},
		{1250, "USD", "12.50 USD"},
		{-199, "GBP", "-1.99 GBP"},
	}
	for _, tt := range tests {
		if got := price(tt.cents, tt.currency); got != tt.want {
			t.Errorf("price(%d, %q) = %q, want %q", tt.cents, tt.currency, got, tt.want)
		}
	}
}
