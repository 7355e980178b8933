package example

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/storekey/storekey/internal/oauth"
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
	tokenExtra  string // further members of the token response's JSON object
	apiStatus   int
	apiBody     string // the answer of /products
	meBody      string // the answer of /me

	mu         sync.Mutex
	authorize  url.Values // the authorization request's query
	tokenForm  url.Values // the token request's form
	tokenCalls int
	verifierOK bool   // the code_verifier matched the code_challenge
	apiAuth    string // the Authorization header of the API call
	apiHeader  string // the header that carried the token to the API
}

func newAuthServer(t *testing.T) *authServer {
	as := &authServer{t: t, apiStatus: http.StatusOK, meBody: `{"data":{"app_id":"app_example","scopes":["read_orders","read_products"],"store_id":"st_1","expires_at":"2026-03-01T10:00:00Z","note":"<b>hi</b>","n":3}}`, apiBody: `{"data":[
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
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600,"refresh_token":%q,"scope":"read_products read_orders"%s}`,
				accessToken, refreshToken, as.tokenExtra)
		}
	})
	api := func(body func() string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			header, token := "Authorization", r.Header.Get("Authorization")
			if x := r.Header.Get("X-Access-Token"); x != "" {
				header, token = "X-Access-Token", "Bearer "+x
			}
			as.mu.Lock()
			as.apiAuth = r.Header.Get("Authorization")
			as.apiHeader = header
			as.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			if token != "Bearer "+accessToken {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error":"invalid_token"}`)
				return
			}
			w.WriteHeader(as.apiStatus)
			fmt.Fprint(w, body())
		}
	}
	mux.HandleFunc("GET /api/v1/products", api(func() string { return as.apiBody }))
	mux.HandleFunc("GET /api/v1/me", api(func() string { return as.meBody }))
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

// reply is what the tests read of a response whose body get has read and
// closed.
type reply struct {
	StatusCode int
	Header     http.Header
}

// browse follows the flow from /example/start as a browser would, and
// returns the last page.
func browse(t *testing.T, app *httptest.Server) (reply, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	return get(t, browser, app.URL+"/example/start")
}

// get fetches u and returns the status, the headers and the body.
func get(t *testing.T, c *http.Client, u string) (reply, string) {
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
	return reply{resp.StatusCode, resp.Header}, string(body)
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
			name: "further token fields",
			server: func(as *authServer) {
				as.tokenExtra = `,"expires":1780000000,"location_name":"Paris <Nord>","bound":{"a":1}`
			},
			config: func(c *Config) { c.TokenFields = []string{"expires", "location_name", "bound", "absent"} },
			status: http.StatusOK,
			contains: []string{
				"<dt><code>expires</code></dt><dd><code>1780000000</code></dd>",
				"<dt><code>location_name</code></dt><dd><code>Paris &lt;Nord&gt;</code></dd>",
				`<dt><code>bound</code></dt><dd><code>{&#34;a&#34;:1}</code></dd>`,
			},
			excludes:  []string{"absent", "1.78e+09"},
			exchanged: true,
		},
		{
			name:   "another API path",
			config: func(c *Config) { c.APIPath = "/me" },
			status: http.StatusOK,
			contains: []string{
				"<h2 id=\"api\">The API's answer</h2>",
				"<code>GET " + "http://", "/api/v1/me</code> with <code>Authorization: Bearer</code>",
				"<dt><code>app_id</code></dt><dd><code>app_example</code></dd>",
				"<dt><code>expires_at</code></dt><dd><code>2026-03-01T10:00:00Z</code></dd>",
				"<dt><code>n</code></dt><dd><code>3</code></dd>",
				"<dt><code>note</code></dt><dd><code>&lt;b&gt;hi&lt;/b&gt;</code></dd>",
				"<dt><code>scopes</code></dt><dd><code>read_orders read_products</code></dd>",
			},
			excludes:  []string{"Products of the connected store", "<b>hi</b>", accessToken},
			exchanged: true,
		},
		{
			name:      "another API path answers no object",
			server:    func(as *authServer) { as.meBody = `[1,2]` },
			config:    func(c *Config) { c.APIPath = "me" },
			status:    http.StatusOK,
			contains:  []string{"/api/v1/me</code>", "The API&#39;s answer is not a JSON object."},
			exchanged: true,
		},
		{
			name:      "another API path answers an object without data",
			server:    func(as *authServer) { as.meBody = `{"data":{"a":"b"},"next":"x"}` },
			config:    func(c *Config) { c.APIPath = "/me" },
			status:    http.StatusOK,
			contains:  []string{`<dt><code>data</code></dt><dd><code>{&#34;a&#34;:&#34;b&#34;}</code></dd>`, "<dt><code>next</code></dt><dd><code>x</code></dd>"},
			exchanged: true,
		},
		{
			name:      "token in another header",
			config:    func(c *Config) { c.TokenHeader = "X-Access-Token" },
			status:    http.StatusOK,
			contains:  []string{"with <code>X-Access-Token</code> and the access token", "<td>Espresso beans</td>"},
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
			wantHeader := "Authorization"
			if tt.name == "token in another header" {
				wantHeader = "X-Access-Token"
			}
			if as.apiHeader != "" && (as.apiHeader != wantHeader || (wantHeader != "Authorization" && as.apiAuth != "")) {
				t.Errorf("the API got the token in %s (Authorization %q), want %s only", as.apiHeader, as.apiAuth, wantHeader)
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
		HTTPOnly, Secure bool
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
				"/api/v1/products</code> with <code>Authorization: Bearer</code>",
				"and lists the products.",
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

// TestExchangeHook: an Exchange hook replaces golang.org/x/oauth2's token
// request; what it returns is shown like oauth2's answer, its refusals too.
func TestExchangeHook(t *testing.T) {
	tok := (&oauth2.Token{AccessToken: accessToken, RefreshToken: refreshToken, ExpiresIn: 7200}).
		WithExtra(map[string]any{"scope": "oms", "userId": "usr_1", "refreshTokenExpireIn": int64(2592000)})
	tests := []struct {
		name     string
		answer   func() (*oauth2.Token, error)
		status   int
		contains []string
		excludes []string
		apiCall  bool
	}{
		{
			name:   "token",
			answer: func() (*oauth2.Token, error) { return tok, nil },
			status: http.StatusOK,
			contains: []string{
				"<h1>The store is connected</h1>", "<code>ska_AbCd…</code>", "<code>skr_ZyXw…</code>",
				"<dt>Token type</dt><dd>not given</dd>", "<code>oms</code>",
				"<dt><code>userId</code></dt><dd><code>usr_1</code></dd>",
				"<dt><code>refreshTokenExpireIn</code></dt><dd><code>2592000</code></dd>",
				"<dt><code>app_id</code></dt><dd><code>app_example</code></dd>",
			},
			excludes: []string{accessToken, refreshToken},
			apiCall:  true,
		},
		{
			name: "refused",
			answer: func() (*oauth2.Token, error) {
				return nil, &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "the code was used"}
			},
			status:   http.StatusBadGateway,
			contains: []string{"The token endpoint refused the code", "<code>invalid_grant</code>", "the code was used"},
		},
		{
			name:     "failed",
			answer:   func() (*oauth2.Token, error) { return nil, errors.New("connection refused") },
			status:   http.StatusBadGateway,
			contains: []string{"The token endpoint could not be used"},
			excludes: []string{"connection refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t)
			var gotCode, gotVerifier string
			calls := 0
			app := newApp(t, as, func(c *Config) {
				c.APIPath = "/me"
				c.TokenFields = []string{"userId", "refreshTokenExpireIn"}
				c.Exchange = func(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
					if ctx == nil {
						t.Error("the hook got no context")
					}
					as.mu.Lock()
					defer as.mu.Unlock()
					calls++
					gotCode, gotVerifier = code, verifier
					return tt.answer()
				}
			})
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
			if as.calls() != 0 {
				t.Errorf("oauth2 made %d token requests beside the hook", as.calls())
			}
			as.mu.Lock()
			defer as.mu.Unlock()
			sum := sha256.Sum256([]byte(gotVerifier))
			if calls != 1 || gotCode != theCode || base64.RawURLEncoding.EncodeToString(sum[:]) != as.authorize.Get("code_challenge") {
				t.Errorf("the hook got %d calls, code %q and verifier %q (challenge %q)", calls, gotCode, gotVerifier, as.authorize.Get("code_challenge"))
			}
			if (as.apiHeader != "") != tt.apiCall {
				t.Errorf("API called: %v, want %v", as.apiHeader != "", tt.apiCall)
			}
		})
	}
}

// TestAuthParams: a platform's own names for the authorization request's
// parameters replace the RFC's.
func TestAuthParams(t *testing.T) {
	h := New(Config{
		BasePath: "/example/hypersku", ClientID: clientID, AuthURL: "https://storekey.example/application/auth?x=1",
		RedirectURL: "https://partner.example/example/hypersku/callback", Scopes: []string{"oms"},
		AuthParams: map[string]string{"client_id": "clientId", "redirect_uri": "redirectUri", "response_type": "responseType", "absent": "x"},
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/example/hypersku/start", nil))
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil || w.Code != http.StatusFound {
		t.Fatalf("status %d, Location %q: %v", w.Code, w.Header().Get("Location"), err)
	}
	if loc.Path != "/application/auth" {
		t.Errorf("path = %s", loc.Path)
	}
	q := loc.Query()
	var names []string
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	want := []string{"clientId", "code_challenge", "code_challenge_method", "redirectUri", "responseType", "scope", "state", "x"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
	if q.Get("clientId") != clientID || q.Get("redirectUri") != "https://partner.example/example/hypersku/callback" || q.Get("responseType") != "code" {
		t.Errorf("query %v", q)
	}
}

// TestNestedApps: two apps, one mounted inside the other's path, share a
// browser. Each callback finds its own flow among the cookies it is sent.
func TestNestedApps(t *testing.T) {
	as := newAuthServer(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, base := range []string{"/example", "/example/hike"} {
		mux.Handle(base+"/", New(Config{
			BasePath: base, ClientID: clientID, ClientSecret: clientSecret,
			AuthURL: as.URL + "/oauth/authorize", TokenURL: as.URL + "/oauth/token", APIBase: as.URL + "/api/v1",
			RedirectURL: CallbackURL(srv.URL, base), HTTPClient: as.Client(), Title: "App at " + base,
			Logger: slog.New(slog.DiscardHandler),
		}))
	}
	jar, _ := cookiejar.New(nil)
	stop := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := &http.Client{Jar: jar}

	// The outer app's flow starts and waits at the authorization server.
	resp, _ := get(t, stop, srv.URL+"/example/start")
	outer := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || outer == "" {
		t.Fatalf("outer start: %d %q", resp.StatusCode, outer)
	}
	// The inner app's flow runs to the end with both cookies around.
	resp, body := get(t, follow, srv.URL+"/example/hike/start")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The store is connected") || !strings.Contains(body, "App at /example/hike") {
		t.Fatalf("inner flow: %d\n%s", resp.StatusCode, body)
	}
	// The outer one finishes as well.
	resp, body = get(t, follow, outer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The store is connected") || !strings.Contains(body, "App at /example<") {
		t.Fatalf("outer flow: %d\n%s", resp.StatusCode, body)
	}
	if n := as.calls(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

// TestLandingDialect: the landing page describes the scopes from the
// configured catalog and names the API request the app will make.
func TestLandingDialect(t *testing.T) {
	as := newAuthServer(t)
	app := newApp(t, as, func(c *Config) {
		c.Scopes = []string{"all"}
		c.Catalog = oauth.ScopeCatalog{{Name: "all", Description: "Every scope the app is registered for"}}
		c.APIPath = "/me"
		c.TokenHeader = "X-Access-Token"
	})
	_, body := get(t, app.Client(), app.URL+"/example/")
	for _, want := range []string{
		"<code>all</code>: Every scope the app is registered for",
		"/api/v1/me</code> with <code>X-Access-Token</code>",
		"and shows what it answers.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
}
