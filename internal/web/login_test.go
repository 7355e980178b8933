package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
	"github.com/storekey/storekey/internal/store/dbtest"
)

func TestLogin(t *testing.T) {
	eachBackend(t, envConfig{opts: Options{SecureCookies: true}}, func(t *testing.T, e *env) {
		tests := []struct {
			name, email, password string
		}{
			{"wrong password", merchantMail, "wrong"},
			{"unknown email", "nobody@example.com", merchantPass},
			{"empty", "", ""},
			{"too long", strings.Repeat("a", 300) + "@example.com", merchantPass},
		}
		for _, tc := range tests {
			res := e.post("/login", url.Values{"email": {tc.email}, "password": {tc.password}, "next": {"/oauth/authorize?x=1"}})
			wantStatus(t, res, http.StatusUnauthorized)
			if len(res.Cookies()) != 0 {
				t.Errorf("%s: a failed sign-in set a cookie", tc.name)
			}
			if f := hiddenFields(t, res.body); f.Get("next") != "/oauth/authorize?x=1" {
				t.Errorf("%s: next = %q, want it kept", tc.name, f.Get("next"))
			}
			if tc.email != "" && len(tc.email) < 100 && !strings.Contains(res.body, `value="`+tc.email+`"`) {
				t.Errorf("%s: the email was not kept in the form", tc.name)
			}
		}

		// Email case does not matter; next is followed.
		res := e.post("/login", url.Values{"email": {strings.ToUpper(merchantMail)}, "password": {merchantPass}, "next": {"/oauth/authorize?x=1"}})
		if got := location(t, res).String(); got != "/oauth/authorize?x=1" {
			t.Errorf("redirect to %q, want next", got)
		}
		cookies := res.Cookies()
		if len(cookies) != 1 {
			t.Fatalf("got %d cookies, want 1", len(cookies))
		}
		c := cookies[0]
		if c.Name != cookieName || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("cookie %+v: want %s, HttpOnly, Secure, SameSite=Lax, Path=/", c, cookieName)
		}
		if !strings.HasPrefix(c.Value, oauth.PrefixSession) {
			t.Errorf("cookie value %q lacks the session prefix", c.Value)
		}
		// Only the hash is stored, and it names a merchant session.
		s, err := e.db.Session(context.Background(), oauth.Hash(c.Value), e.clock.Now())
		must(t, err)
		if s.UserID != e.user.ID || s.Kind != "merchant" || !s.ExpiresAt.Equal(e.clock.Now().Add(12*60*60e9)) {
			t.Errorf("session %+v: want the merchant's, kind merchant, 12 hours", s)
		}

		// The login page sends a signed-in merchant on.
		if got := location(t, e.get("/login?next=/somewhere")).String(); got != "/somewhere" {
			t.Errorf("GET /login signed in: redirect to %q, want /somewhere", got)
		}
	})
}

func TestDummyHashMatchesDefault(t *testing.T) {
	if password.NeedsRehash(dummyHash) {
		t.Error("dummyHash was not made with password.Default: unknown emails would answer at another speed; make a new one")
	}
}

func TestLoginNextIsLocal(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "evil", "javascript:alert(1)"} {
		res := e.post("/login", url.Values{"email": {merchantMail}, "password": {merchantPass}, "next": {next}})
		if got := location(t, res).String(); got != "/" {
			t.Errorf("next %q: redirect to %q, want /", next, got)
		}
	}
}

func TestLogout(t *testing.T) {
	eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
		e.signIn()
		u, _ := url.Parse(e.srv.URL)
		value := e.client.Jar.Cookies(u)[0].Value
		res := e.post("/logout", url.Values{"next": {authorizePath(authorizeQuery())}})
		if got := location(t, res).String(); got != authorizePath(authorizeQuery()) {
			t.Errorf("logout went to %q, want next", got)
		}
		if _, err := e.db.Session(context.Background(), oauth.Hash(value), e.clock.Now()); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("session after logout: %v, want not found", err)
		}
		if len(e.client.Jar.Cookies(u)) != 0 {
			t.Error("the cookie was not cleared")
		}
		// The old cookie no longer signs anyone in.
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+authorizePath(authorizeQuery()), nil)
		req.Header.Set("Cookie", cookieName+"="+value)
		res = e.do(req)
		wantStatus(t, res, http.StatusOK)
		if !strings.Contains(res.body, `action="/login"`) {
			t.Error("an ended session still passes as signed in")
		}
		if r := e.get("/logout"); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /logout: %d, want 405", r.StatusCode)
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	eachBackend(t, envConfig{opts: Options{LoginLimit: 3}}, func(t *testing.T, e *env) {
		wrong := url.Values{"email": {merchantMail}, "password": {"wrong"}}
		for range 3 {
			wantStatus(t, e.post("/login", wrong), http.StatusUnauthorized)
		}
		res := e.post("/login", wrong)
		wantStatus(t, res, http.StatusTooManyRequests)
		// The window is 15 minutes, aligned: 09:30:00 is its start.
		if got := res.Header.Get("Retry-After"); got != strconv.Itoa(15*60) {
			t.Errorf("Retry-After = %q, want 900", got)
		}
		// Past the limit even the right password is refused.
		wantStatus(t, e.post("/login", url.Values{"email": {merchantMail}, "password": {merchantPass}}), http.StatusTooManyRequests)

		// The next window starts afresh.
		e.clock.Add(15 * 60e9)
		e.signIn()
	})
}

func TestLoginThrottlePerIP(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{opts: Options{LoginLimit: 2}})
	e.addUser("usr_other", "other@example.com")
	// Two accounts, one address: the address runs out first.
	wantStatus(t, e.post("/login", url.Values{"email": {"a@example.com"}, "password": {"x"}}), http.StatusUnauthorized)
	wantStatus(t, e.post("/login", url.Values{"email": {"b@example.com"}, "password": {"x"}}), http.StatusUnauthorized)
	wantStatus(t, e.post("/login", url.Values{"email": {"other@example.com"}, "password": {merchantPass}}), http.StatusTooManyRequests)
}

func TestLoginResetsEmailCount(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{opts: Options{LoginLimit: 3, ClientIP: func(r *http.Request) string {
		return r.Header.Get("X-Test-IP")
	}}})
	from := func(ip string, form url.Values) response {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-IP", ip)
		return e.do(req)
	}
	wrong := url.Values{"email": {merchantMail}, "password": {"wrong"}}
	right := url.Values{"email": {merchantMail}, "password": {merchantPass}}
	wantStatus(t, from("10.0.0.1", wrong), http.StatusUnauthorized)
	wantStatus(t, from("10.0.0.2", wrong), http.StatusUnauthorized)
	wantStatus(t, from("10.0.0.3", right), http.StatusSeeOther)
	// The success cleared the email's count: three more failures are allowed.
	for i, ip := range []string{"10.0.0.4", "10.0.0.5", "10.0.0.6"} {
		if res := from(ip, wrong); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d after a success: status %d, want 401", i+1, res.StatusCode)
		}
	}
	wantStatus(t, from("10.0.0.7", wrong), http.StatusTooManyRequests)
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t), envConfig{})
	big := url.Values{"email": {merchantMail}, "password": {strings.Repeat("x", maxForm)}}
	wantStatus(t, e.post("/login", big), http.StatusRequestEntityTooLarge)
}

func TestRemoteIP(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:5555":             "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:1":       "192.0.2.7",
		"not an address":             "not an address",
		"@":                          "@",
	} {
		if got := remoteIP(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("remoteIP(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                          "/",
		"/oauth/authorize?a=b&c=%2F": "/oauth/authorize?a=b&c=%2F",
		"":                           "",
		"//evil.example":             "",
		"/\\evil.example":            "",
		"/\t/evil.example":           "",
		"/\n/evil.example":           "",
		"https://evil.example/":      "",
		"evil.example":               "",
		"javascript:alert(1)":        "",
		"/%zz":                       "",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzLocalPath checks that whatever localPath accepts stays on this host
// however a browser reads it: after stripping tabs and newlines and turning
// backslashes into slashes (the URL Standard's leniencies), it resolves
// against our origin to our origin.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c", "//x", "/\\x", "/\t/x", "http://x", "/%2F%2Fx", "/.//x", "/@x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://auth.example/login")
	f.Fuzz(func(t *testing.T, s string) {
		got := localPath(s)
		if got == "" {
			return
		}
		if got != s {
			t.Fatalf("localPath(%q) = %q: must return its input or nothing", s, got)
		}
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(s)
		ref, err := url.Parse(browser)
		if err != nil {
			t.Fatalf("accepted %q, which a browser reads as %q, unparsable: %v", s, browser, err)
		}
		if u := base.ResolveReference(ref); u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("accepted %q, which leads to %s", s, u)
		}
	})
}
