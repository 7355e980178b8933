package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeStorekey is a hand-made stand-in for the real server's HTTP surface,
// enough for the driver: sign-in with a CSRF field, a consent page that is
// shown once and then remembered, the token endpoint (client_credentials
// and authorization_code with PKCE), introspection and the API.
type fakeStorekey struct {
	t Target

	mu        sync.Mutex
	consented bool
	codes     map[string]fakeCode // code → its binding
	tokens    map[string]bool     // access token → store-bound
	logins    atomic.Int64        // successful sign-ins
	consents  atomic.Int64        // consent forms posted
}

type fakeCode struct {
	challenge, redirect string
	used                bool
}

const fakeCSRF = "csrf-123&<x>"

var consentPage = template.Must(template.New("").Parse(`<!doctype html>
<html><body>
<h1>Connect the app?</h1>
<form method="post" action="/oauth/authorize">
  <input type="hidden" name="q" value="{{.Q}}">
  <input type="hidden" name="csrf" value="{{.CSRF}}">
  <label><input type="radio" name="store_id" value="{{.Store}}"> Bench store</label>
  <label><input type=checkbox name=remember checked> remember</label>
  <button type="submit" name="decision" value="deny">Deny</button>
  <button type="submit" name="decision" value="allow">Allow</button>
</form>
<form method="post" action="/logout"><button>Sign out</button></form>
</body></html>`))

var loginPage = template.Must(template.New("").Parse(`<form method="POST" action="/login">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="next" value="{{.Next}}">
<input type="email" name="email"><input type="password" name="password"><input type="submit" value="Sign in">
</form>`))

func newFakeStorekey(t *testing.T, target Target) *httptest.Server {
	f := &fakeStorekey{t: target, codes: map[string]fakeCode{}, tokens: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	fakes.Store(srv.URL, f)
	return srv
}

// fakes finds the fake behind a test server, for the assertions.
var fakes sync.Map

func (f *fakeStorekey) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "GET /healthz":
		_, _ = w.Write([]byte("ok\n"))
	case "GET /login":
		_ = loginPage.Execute(w, map[string]string{"CSRF": fakeCSRF, "Next": r.URL.Query().Get("next")})
	case "POST /login":
		_ = r.ParseForm()
		if r.PostForm.Get("csrf") != fakeCSRF || r.PostForm.Get("email") != f.t.Email || r.PostForm.Get("password") != f.t.Password {
			w.WriteHeader(http.StatusOK) // the form again, as a real sign-in page does
			return
		}
		f.logins.Add(1)
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "sess", Path: "/", HttpOnly: true})
		http.Redirect(w, r, r.PostForm.Get("next"), http.StatusSeeOther)
	case "GET /oauth/authorize":
		if !f.signedIn(r) {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		f.mu.Lock()
		consented := f.consented
		f.mu.Unlock()
		if !consented {
			_ = consentPage.Execute(w, map[string]string{"Q": r.URL.RawQuery, "CSRF": fakeCSRF, "Store": f.t.StoreID})
			return
		}
		f.approve(w, r, r.URL.Query())
	case "POST /oauth/authorize":
		_ = r.ParseForm()
		f.consents.Add(1)
		if !f.signedIn(r) || r.PostForm.Get("csrf") != fakeCSRF || r.PostForm.Get("decision") != "allow" ||
			r.PostForm.Get("store_id") != f.t.StoreID || r.PostForm.Get("remember") != "on" {
			http.Error(w, "bad consent "+r.PostForm.Encode(), http.StatusBadRequest)
			return
		}
		q, err := url.ParseQuery(r.PostForm.Get("q"))
		if err != nil {
			http.Error(w, "bad q", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.consented = true
		f.mu.Unlock()
		f.approve(w, r, q)
	case "POST /oauth/token":
		f.token(w, r)
	case "POST /oauth/introspect":
		_ = r.ParseForm()
		if !f.clientOK(r) {
			writeFakeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		f.mu.Lock()
		_, ok := f.tokens[r.PostForm.Get("token")]
		f.mu.Unlock()
		writeFakeJSON(w, http.StatusOK, map[string]any{"active": ok})
	case "GET /api/v1/store", "GET /api/v1/products":
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		bound := f.tokens[tok]
		f.mu.Unlock()
		if !bound {
			writeFakeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return
		}
		writeFakeJSON(w, http.StatusOK, map[string]any{"data": []string{}})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeStorekey) signedIn(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	return err == nil && c.Value == "sess"
}

func (f *fakeStorekey) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	return ok && id == url.QueryEscape(f.t.ClientID) && secret == url.QueryEscape(f.t.ClientSecret)
}

func (f *fakeStorekey) approve(w http.ResponseWriter, r *http.Request, q url.Values) {
	if q.Get("client_id") != f.t.ClientID || q.Get("redirect_uri") != f.t.RedirectURI || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := randomString(16)
	f.mu.Lock()
	f.codes[code] = fakeCode{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	f.mu.Unlock()
	v := url.Values{"code": {code}, "state": {q.Get("state")}, "iss": {"http://" + r.Host}}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+v.Encode(), http.StatusSeeOther)
}

func (f *fakeStorekey) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if !f.clientOK(r) {
		writeFakeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	tok := randomString(16)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		f.tokens[tok] = false
	case "authorization_code":
		c, ok := f.codes[r.PostForm.Get("code")]
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || c.used || c.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			writeFakeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		c.used = true
		f.codes[r.PostForm.Get("code")] = c
		f.tokens[tok] = true
	default:
		writeFakeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	writeFakeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func writeFakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func benchTarget() Target {
	return Target{
		ClientID: "app_bench", ClientSecret: "sk_secret+/=", RedirectURI: "http://127.0.0.1:1/cb",
		Scope: "read_orders read_products write_products", Email: "bench@bench.storekey.test", Password: "correct horse",
		StoreID: "sto_bench",
	}
}

// TestDriverRunsEveryScenario runs each scenario briefly against the fake
// and checks the setup each needs: one sign-in, consent posted once, the
// token pools, and no failure anywhere.
func TestDriverRunsEveryScenario(t *testing.T) {
	target := benchTarget()
	srv := newFakeStorekey(t, target)
	target.URL = srv.URL + "/"
	var log strings.Builder
	d, err := New(target, Options{Concurrency: 4, Warmup: 50 * time.Millisecond, Duration: 250 * time.Millisecond, Tokens: 40, APITokens: 12, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Check(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range Scenarios() {
		res, err := d.Run(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v\nlog:\n%s", name, err, log.String())
		}
		if res.Requests == 0 || res.Failed() != 0 {
			t.Errorf("%s: requests %d, errors %+v", name, res.Requests, res.Errors)
		}
		if res.Concurrency != 4 || res.Scenario != name {
			t.Errorf("%s: result names %q with %d workers", name, res.Scenario, res.Concurrency)
		}
		var steps []string
		for _, s := range res.Steps {
			steps = append(steps, s.Name)
		}
		want := map[string]string{"client-credentials": "token", "introspect": "introspect", "api": "api", "flow": "flow authorize token"}[name]
		if got := strings.Join(steps, " "); got != want {
			t.Errorf("%s: steps %q, want %q", name, got, want)
		}
	}
	fv, _ := fakes.Load(srv.URL)
	f := fv.(*fakeStorekey)
	if n := f.logins.Load(); n != 1 {
		t.Errorf("%d sign-ins, want 1", n)
	}
	if n := f.consents.Load(); n != 1 {
		t.Errorf("%d consent posts, want 1 (consent is remembered)", n)
	}
	if len(d.ccTokens) != 40 || len(d.apiTokens) != 12 {
		t.Errorf("pools of %d and %d tokens, want 40 and 12", len(d.ccTokens), len(d.apiTokens))
	}
}

func TestDriverCheck(t *testing.T) {
	target := benchTarget()
	srv := newFakeStorekey(t, target)
	for _, tc := range []struct {
		name   string
		mutate func(*Target)
		want   string // in the error; "" for none
	}{
		{"ok", func(*Target) {}, ""},
		{"another database", func(t *Target) { t.ClientSecret = "wrong" }, "does not know the bench app"},
		{"no server", func(t *Target) { t.URL = "http://127.0.0.1:1" }, "no server at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := target
			tg.URL = srv.URL
			tc.mutate(&tg)
			d, err := New(tg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Check(context.Background())
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestDriverSignInFailure(t *testing.T) {
	target := benchTarget()
	srv := newFakeStorekey(t, target)
	target.URL = srv.URL
	target.Password = "wrong"
	d, err := New(target, Options{Concurrency: 1, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Run(context.Background(), "flow"); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("error %v, want a failed sign-in", err)
	}
}

func TestDriverUnknownScenario(t *testing.T) {
	d, err := New(Target{URL: "http://127.0.0.1:1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Run(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), "client-credentials") {
		t.Fatalf("error %v, want the known scenarios listed", err)
	}
}

func TestDefaultConcurrency(t *testing.T) {
	for name, want := range map[string]int{"client-credentials": 16, "flow": 16, "introspect": 64, "api": 64, "all": 0} {
		if got := DefaultConcurrency(name); got != want {
			t.Errorf("DefaultConcurrency(%q) = %d, want %d", name, got, want)
		}
	}
}
