package web

import (
	"bytes"
	"context"
	"flag"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the rendered pages")

const (
	issuer       = "https://auth.example"
	merchantMail = "merchant@example.com"
	merchantPass = "correct horse battery staple"
	appID        = "app_inventory"
	appSecret    = "sks_test-secret"
	appRedirect  = "https://partner.example/callback"
	oobAppID     = "app_desktop"
	publicAppID  = "app_mobile"
)

// passwordHash is hashed once: argon2id at the default cost is the slowest
// thing in these tests.
var passwordHash = sync.OnceValue(func() string {
	h, err := password.Hash(merchantPass)
	if err != nil {
		panic(err)
	}
	return h
})

// env is a Handler on a real, migrated database, behind a real listener, with
// a browser-like client that keeps cookies and does not follow redirects.
type env struct {
	t      *testing.T
	db     *store.DB
	svc    *oauth.Service
	h      *Handler
	srv    *httptest.Server
	client *http.Client
	clock  *clock
	user   *oauth.User
	store  oauth.Store
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type envConfig struct {
	cfg  oauth.Config
	opts Options
}

// eachBackend runs fn on a fresh env for every database backend.
func eachBackend(t *testing.T, c envConfig, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, newEnv(t, b.Open(t), c))
		})
	}
}

func newEnv(t *testing.T, db *store.DB, c envConfig) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
	c.cfg.Issuer = issuer
	svc, err := oauth.NewService(c.cfg, db, []oauth.Key{{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.Now = clk.Now
	c.opts.Now = clk.Now
	h := New(svc, db, c.opts)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, db: db, svc: svc, h: h, srv: srv, clock: clk,
		client: &http.Client{
			Jar:           jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       30 * time.Second,
		},
	}

	now := clk.Now()
	e.user = e.addUser("usr_merchant", merchantMail)
	e.store = oauth.Store{ID: "sto_demo", Name: "Demo Store", Slug: "demo", CreatedAt: now}
	must(t, db.CreateStore(ctx, &e.store, e.user.ID))
	for _, a := range []*oauth.App{
		{
			ID: appID, Name: "Inventory Sync", Developer: "Partner Labs", LogoURL: "https://partner.example/logo.png",
			RedirectURIs: []string{appRedirect}, Scopes: oauth.NewScopes("read_products", "write_inventory", "read_orders"),
			SecretHash: oauth.Hash(appSecret),
		},
		{
			ID: oobAppID, Name: "Desktop Till", Developer: "Till Co",
			RedirectURIs: []string{oauth.OOBRedirectURI}, Scopes: oauth.NewScopes("read_products"),
			SecretHash: oauth.Hash(appSecret),
		},
		{
			ID: publicAppID, Name: "Pocket", RedirectURIs: []string{"com.example.pocket:/callback"},
			Scopes: oauth.NewScopes("read_orders"), Public: true,
		},
	} {
		a.CreatedAt, a.UpdatedAt = now, now
		must(t, db.CreateApp(ctx, a))
	}
	return e
}

func (e *env) addUser(id, email string) *oauth.User {
	e.t.Helper()
	u := &oauth.User{ID: id, Email: email, Name: "Test " + id, PasswordHash: passwordHash(), CreatedAt: e.clock.Now()}
	must(e.t, e.db.CreateUser(context.Background(), u))
	return u
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	body string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return response{res, string(b)}
}

func (e *env) get(path string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	must(e.t, err)
	req.Header.Set("Sec-Fetch-Site", "none")
	return e.do(req)
}

// post sends a form as a same-origin browser would.
func (e *env) post(path string, form url.Values) response {
	e.t.Helper()
	return e.postWith(path, form, "same-origin")
}

func (e *env) postWith(path string, form url.Values, fetchSite string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	return e.do(req)
}

func (e *env) signIn() {
	e.t.Helper()
	res := e.post("/login", url.Values{"email": {merchantMail}, "password": {merchantPass}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in: status %d, want 303", res.StatusCode)
	}
}

// authorizeQuery is a valid request of the confidential app.
func authorizeQuery() url.Values {
	return url.Values{
		"response_type": {"code"},
		"client_id":     {appID},
		"redirect_uri":  {appRedirect},
		"scope":         {"read_products write_inventory"},
		"state":         {"st-123"},
	}
}

func authorizePath(q url.Values) string { return "/oauth/authorize?" + q.Encode() }

var assetVersionRE = regexp.MustCompile(`\?v=[0-9a-f]+`)

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hiddenFields returns the hidden inputs of a page, as a browser submitting
// its form would send them.
func hiddenFields(t testing.TB, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// button reports whether the page has a button labelled exactly label, as
// a test finding it by role and accessible name would.
func button(page, label string) bool {
	return regexp.MustCompile(`<button[^>]*>` + regexp.QuoteMeta(label) + `</button>`).MatchString(page)
}

// location parses the Location of a redirect, failing unless res is a 303.
func location(t testing.TB, res response) *url.URL {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; body:\n%s", res.StatusCode, res.body)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantStatus(t testing.TB, res response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.body)
	}
	if res.StatusCode != http.StatusSeeOther && res.Header.Get("Location") != "" {
		t.Errorf("unexpected Location %q", res.Header.Get("Location"))
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	bad := authorizeQuery()
	bad.Set("client_id", "nobody")
	for _, path := range []string{"/", "/login", authorizePath(authorizeQuery()), authorizePath(bad), "/assets/style.css", "/nowhere"} {
		res := e.get(path)
		for k, want := range map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"X-Content-Type-Options":  "nosniff",
		} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
		if strings.Contains(res.Header.Get("Content-Security-Policy"), "form-action") {
			t.Errorf("GET %s: the CSP has form-action, which would block the redirect after consent", path)
		}
		if strings.HasPrefix(path, "/oauth/") || path == "/login" {
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("GET %s: Cache-Control = %q, want no-store", path, got)
			}
		}
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	for name, ctype := range map[string]string{"style.css": "text/css; charset=utf-8", "copy.js": "text/javascript; charset=utf-8"} {
		u, err := assetURL(name)
		must(t, err)
		res := e.get(u)
		wantStatus(t, res, http.StatusOK)
		if got := res.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q", name, got, ctype)
		}
		if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("%s at its version: Cache-Control %q, want immutable", name, got)
		}
		if res := e.get("/assets/" + name + "?v=old"); res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s at another version: Cache-Control %q, want no-cache", name, res.Header.Get("Cache-Control"))
		}
	}
	for _, p := range []string{"/assets/nope.css", "/assets/", "/assets/sub/style.css"} {
		if res := e.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestHome(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{opts: Options{Links: []Link{
		{Title: "Example partner app", URL: "/example/", Description: "Connect a sample app."},
	}}})
	res := e.get("/")
	wantStatus(t, res, http.StatusOK)
	for _, want := range []string{`href="/login"`, `href="/.well-known/oauth-authorization-server"`, `href="/example/"`, "Example partner app"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	golden(t, "home", res.body)
}

// TestPageStructure checks what every page needs to be usable: the
// language, a main landmark, a label for every field, and no inline script
// or style (which the CSP would block anyway).
func TestPageStructure(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	check := func(name, page string) {
		t.Helper()
		for _, want := range []string{`<html lang="en">`, `<main id="main">`, "<title>"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s page lacks %s", name, want)
			}
		}
		if inline := regexp.MustCompile(`<script>|<style|\sstyle=|\son[a-z]+=|javascript:`).FindString(page); inline != "" {
			t.Errorf("%s page has inline script or style: %q", name, inline)
		}
		for _, m := range regexp.MustCompile(`<input ([^>]*)>`).FindAllStringSubmatch(page, -1) {
			attrs := m[1]
			if strings.Contains(attrs, `type="hidden"`) {
				continue
			}
			id := regexp.MustCompile(`id="([^"]+)"`).FindStringSubmatch(attrs)
			inLabel := regexp.MustCompile(`<label[^>]*><input ` + regexp.QuoteMeta(attrs) + `>`).MatchString(page)
			if !inLabel && (id == nil || !strings.Contains(page, `<label for="`+id[1]+`">`)) {
				t.Errorf("%s page: input %s has no label", name, attrs)
			}
		}
	}
	check("home", e.get("/").body)
	check("sign-in", e.get("/login").body)
	check("authorize sign-in", e.get(authorizePath(authorizeQuery())).body)
	e.signIn()
	check("consent", e.get(authorizePath(authorizeQuery())).body)
	q := authorizeQuery()
	q.Set("client_id", "nobody")
	check("error", e.get(authorizePath(q)).body)
}

// golden compares a rendered page with testdata/NAME.golden, or rewrites it
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = assetVersionRE.ReplaceAllString(got, "?v=VERSION")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		must(t, os.WriteFile(path, []byte(got), 0o600))
		return
	}
	want, err := fs.ReadFile(os.DirFS("testdata"), name+".golden")
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from %s (-want +got; run go test -update if intended):\n%s", name, path, diff)
	}
}
