package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/api"
	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
	"github.com/storekey/storekey/internal/profile"
	"github.com/storekey/storekey/internal/server"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
	"github.com/storekey/storekey/internal/web"
)

const (
	testEmail    = "owner@shop.example"
	testPassword = "correct horse battery"
	redirectURI  = "https://partner.example/callback"
)

// secretRE matches Storekey's secrets: codes, tokens, client secrets and
// session cookies.
var secretRE = regexp.MustCompile(`sk[acrsb]_[A-Za-z0-9_-]{20,}`)

// lockedBuffer is a log sink for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is a whole Storekey on a real database behind a real listener.
type env struct {
	t      testing.TB
	db     *store.DB
	svc    *oauth.Service
	srv    *liveServer
	app    *oauth.App
	secret string
	user   *oauth.User
	store  *oauth.Store
}

func forEachBackend(t *testing.T, fn func(t *testing.T, b dbtest.Backend)) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

func newEnv(t testing.TB, b dbtest.Backend, mod func(*oauth.Config)) *env {
	t.Helper()
	ctx := context.Background()
	db := b.Open(t)
	e := &env{t: t, db: db}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth.Config{Issuer: "http://" + ln.Addr().String(), SkipKnownConsent: true}
	if mod != nil {
		mod(&cfg)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	// Every log line of every test here is checked for secrets at the end.
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if m := secretRE.FindString(logs.String()); m != "" {
			t.Errorf("a secret reached the logs: %s…", m[:12])
		}
	})
	svc, err := oauth.NewService(cfg, db, []oauth.Key{{ID: "k1", Secret: key}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.srv = serve(t, ln, newServer(svc, db, logger, true))

	hash, err := password.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	e.user = &oauth.User{ID: oauth.RandomID("usr_"), Email: testEmail, PasswordHash: hash, CreatedAt: now}
	must(t, db.CreateUser(ctx, e.user))
	e.store = &oauth.Store{ID: oauth.RandomID("sto_"), Name: "Corner Shop", Slug: "corner-shop", CreatedAt: now}
	must(t, db.CreateStore(ctx, e.store, e.user.ID))
	must(t, db.CreateProduct(ctx, &oauth.Product{ID: "prd_1", StoreID: e.store.ID, Name: "Mug", SKU: "MUG", PriceCents: 1200, Currency: "EUR", CreatedAt: now}))
	e.app, e.secret = e.newApp(false, "read_products", "read_orders", "write_orders")
	return e
}

// liveServer is the server answering on a real listener, with the HTTP
// server `storekey serve` runs.
type liveServer struct {
	URL string
	*server.Server
}

// serve runs s on ln until the test ends.
func serve(t testing.TB, ln net.Listener, s *server.Server) *liveServer {
	t.Helper()
	hs := s.HTTPServer()
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		if err := hs.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &liveServer{URL: "http://" + ln.Addr().String(), Server: s}
}

// newServer is the whole server, every dialect enabled (standard apps must
// not notice), with the pages and the sample API.
func newServer(svc *oauth.Service, db *store.DB, logger *slog.Logger, accessLog bool) *server.Server {
	profiles := profile.All()
	svc.SetDialects(profile.Dialects(profiles))
	pages := web.New(svc, db, web.Options{Profiles: profiles, Logger: logger})
	return server.New(svc, db, server.Options{
		Logger:    logger,
		AccessLog: accessLog,
		Web:       pages,
		API:       api.New(db, server.NewValidator(svc), api.Options{TokenHeaders: []string{"X-Access-Token"}, Logger: logger}),
		Profiles:  profiles,
	})
}

func (e *env) newApp(public bool, scopes ...string) (*oauth.App, string) {
	e.t.Helper()
	return e.newProfileApp(profile.Standard, public, []string{redirectURI}, scopes...)
}

func (e *env) newProfileApp(prof string, public bool, redirects []string, scopes ...string) (*oauth.App, string) {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := &oauth.App{
		ID: oauth.RandomID("app_"), Name: "Acme Sync", Developer: "Acme", RedirectURIs: redirects,
		Scopes: oauth.NewScopes(scopes...), Public: public, Profile: prof, CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	if !public {
		secret = oauth.RandomSecret(oauth.PrefixSecret)
		a.SecretHash = oauth.Hash(secret)
	}
	must(e.t, e.db.CreateApp(context.Background(), a))
	return a, secret
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// browser is a merchant's user agent: it keeps cookies and does not follow
// redirects, so that tests see each one.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) signIn(c *http.Client) {
	e.t.Helper()
	res, err := c.PostForm(e.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "next": {"/"}})
	must(e.t, err)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		e.t.Fatalf("sign in: status %d", res.StatusCode)
	}
}

var inputRE = regexp.MustCompile(`<input[^>]*type="(?:hidden|radio)"[^>]*>`)
var attrRE = regexp.MustCompile(`(name|value)="([^"]*)"`)

// formFields returns the hidden and radio inputs of a page.
func formFields(page string) url.Values {
	v := url.Values{}
	for _, in := range inputRE.FindAllString(page, -1) {
		var name, value string
		for _, m := range attrRE.FindAllStringSubmatch(in, -1) {
			if m[1] == "name" {
				name = html.UnescapeString(m[2])
			} else {
				value = html.UnescapeString(m[2])
			}
		}
		if name != "" && !v.Has(name) {
			v.Set(name, value)
		}
	}
	return v
}

// authorize runs the browser half of the flow for a signed-in merchant:
// the authorization request, the consent page if shown, and the decision.
// It returns the redirect the merchant is sent to.
func (e *env) authorize(c *http.Client, q url.Values, decision string) *url.URL {
	e.t.Helper()
	return e.authorizeAt(c, "/oauth/authorize", q.Encode(), decision, nil)
}

// consentPage holds the last consent page authorizeAt saw.
var consentPage string

// authorizeAt runs the browser half at a dialect's path with a raw query;
// form, when not nil, sets further consent fields (the picked resources).
func (e *env) authorizeAt(c *http.Client, path, rawQuery, decision string, form url.Values) *url.URL {
	e.t.Helper()
	res, err := c.Get(e.srv.URL + path + "?" + rawQuery)
	must(e.t, err)
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode == http.StatusOK {
		consentPage = string(body)
		f := formFields(string(body))
		if !f.Has("q") {
			e.t.Fatalf("authorize: no consent form in page:\n%s", body)
		}
		for k, v := range form {
			f[k] = v
		}
		f.Set("decision", decision)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.srv.URL)
		res, err = c.Do(req)
		must(e.t, err)
		body, _ = io.ReadAll(res.Body)
		_ = res.Body.Close()
	}
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize: status %d, want a redirect:\n%s", res.StatusCode, body)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	must(e.t, err)
	return u
}

// code runs the browser half and returns the code.
func (e *env) code(c *http.Client, q url.Values) string {
	e.t.Helper()
	u := e.authorize(c, q, "allow")
	code := u.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in redirect %s", u)
	}
	return code
}

// grantTokens signs the merchant in, authorizes the app with the default
// query and exchanges the code: the token response of a fresh grant.
func (e *env) grantTokens() map[string]any {
	e.t.Helper()
	browser := e.browser()
	e.signIn(browser)
	st, tok := e.exchange(e.code(browser, e.authQuery()))
	if st != http.StatusOK {
		e.t.Fatalf("exchange: %d %v", st, tok)
	}
	return tok
}

func (e *env) authQuery(extra ...string) url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {e.app.ID}, "redirect_uri": {redirectURI},
		"scope": {"read_products read_orders"}, "state": {"xyz-state"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// post sends a form to a machine endpoint and decodes the JSON answer.
func (e *env) post(path string, form url.Values, basic ...string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) (int, map[string]any, http.Header) {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			m = map[string]any{"raw": string(body)}
		}
	}
	return res.StatusCode, m, res.Header
}

// exchange swaps a code for tokens with client_secret_post.
func (e *env) exchange(code string, extra ...string) (int, map[string]any) {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {e.app.ID}, "client_secret": {e.secret}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	st, m, _ := e.post("/oauth/token", f)
	return st, m
}

func (e *env) refresh(rt string) (int, map[string]any) {
	st, m, _ := e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, e.app.ID, e.secret)
	return st, m
}

// api calls the sample API with a bearer token.
func (e *env) api(method, path, token, body string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(req)
}
