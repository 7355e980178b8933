package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SessionCookie is the name of the merchant's session cookie.
const SessionCookie = "storekey_session"

// prepareFlow signs the merchant in and goes through consent once, so that
// the measured flows are the ones a returning merchant makes: authorize
// (consent skipped, RFC 6749 §4.1.1) then the code exchange (§4.1.3).
func (d *Driver) prepareFlow(ctx context.Context, _ int) (func(int, *Conn) Op, error) {
	if err := d.ensureConsent(ctx); err != nil {
		return nil, err
	}
	return func(_ int, c *Conn) Op {
		return func(ctx context.Context, rec *Recorder) error {
			_, err := d.flow(ctx, c, rec)
			return err
		}
	}, nil
}

// ensureConsent signs the merchant in, unless already signed in, and runs
// one flow, through the consent page if the server shows it.
func (d *Driver) ensureConsent(ctx context.Context) error {
	if d.signedIn {
		return nil
	}
	fmt.Fprintf(d.o.Log, "signing in as %s and granting consent once\n", d.t.Email)
	if err := d.signIn(ctx); err != nil {
		return err
	}
	c := d.wire.Conn()
	defer c.Close()
	if _, err := d.flow(ctx, c, nil); err != nil {
		return setupError("first authorization flow", err)
	}
	d.signedIn = true
	return nil
}

// signIn posts the sign-in form with the fields the page gives (a CSRF
// token, say) and the merchant's email and password, through net/http and
// its cookie jar, then hands the session cookie to the driver's Wire, which
// sends it with every later request.
func (d *Driver) signIn(ctx context.Context) error {
	c := newHTTPClient(1, d.jar)
	defer c.CloseIdleConnections()
	var buf bytes.Buffer
	loginURL := d.base + "/login"
	fields, action := url.Values{}, loginURL
	r, err := get(ctx, c, loginURL+"?next=%2F", "", "login", &buf)
	if err != nil {
		return setupError("sign in", err)
	}
	if r.status == http.StatusOK {
		if f, ok := findForm(parseForms(r.body), "/login"); ok {
			fields = f.Fields
			action = resolve(loginURL, f.Action)
		}
	}
	fields.Set("email", d.t.Email)
	fields.Set("password", d.t.Password)
	if !fields.Has("next") {
		fields.Set("next", "/")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(fields.Encode()))
	if err != nil {
		return setupError("sign in", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.base)
	r, err = do(c, req, "login", &buf)
	if err != nil {
		return setupError("sign in", err)
	}
	if r.status/100 != 3 {
		return fmt.Errorf("sign in as %s: the server answered %d, not a redirect (wrong password, or sign-in throttled?)", d.t.Email, r.status)
	}
	u, _ := url.Parse(d.base)
	for _, ck := range d.jar.Cookies(u) {
		if ck.Name == SessionCookie {
			d.wire.cookie = ck.String()
			return nil
		}
	}
	return fmt.Errorf("sign in as %s: no %s cookie was set (a Secure cookie on a plain-http URL?)", d.t.Email, SessionCookie)
}

// resolve returns ref resolved against base; base when ref is empty or bad.
func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil || ref == "" {
		return base
	}
	r, err := url.Parse(ref)
	if err != nil {
		return base
	}
	return b.ResolveReference(r).String()
}

// flow runs one authorization code flow with PKCE (RFC 7636) as the
// signed-in merchant and returns the access token. It times the authorize
// request, the consent post when the server asks for consent, and the code
// exchange as steps of rec.
func (d *Driver) flow(ctx context.Context, c *Conn, rec *Recorder) (string, error) {
	verifier, challenge := newPKCE()
	state := randomString(16)
	authorizePath := "/oauth/authorize?" + url.Values{
		"response_type":         {"code"},
		"client_id":             {d.t.ClientID},
		"redirect_uri":          {d.t.RedirectURI},
		"scope":                 {d.t.Scope},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}.Encode()

	t0 := time.Now()
	r, err := c.Get(ctx, authorizePath, "", "authorize")
	if err != nil {
		return "", err
	}
	rec.Step("authorize", time.Since(t0))
	if r.status == http.StatusOK {
		t1 := time.Now()
		if r, err = d.consent(ctx, c, authorizePath, r.body); err != nil {
			return "", err
		}
		rec.Step("consent", time.Since(t1))
	}
	code, err := d.codeFrom(r, state)
	if err != nil {
		return "", err
	}

	t2 := time.Now()
	body := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {d.t.RedirectURI},
		"code_verifier": {verifier},
	}.Encode()
	r, err = c.PostForm(ctx, "/oauth/token", d.auth, body, "token")
	if err != nil {
		return "", err
	}
	t, err := readToken("token", r)
	if err != nil {
		return "", err
	}
	rec.Step("token", time.Since(t2))
	return t.AccessToken, nil
}

// consent answers the consent page: it posts the page's form back with its
// hidden fields (the original request among them), the bench store, and
// decision=allow.
func (d *Driver) consent(ctx context.Context, c *Conn, pagePath string, page []byte) (response, error) {
	f, ok := findForm(parseForms(page), "/oauth/authorize")
	if !ok {
		return response{}, unexpected("consent", "the authorize page has no consent form: %s", truncate(string(page), 200))
	}
	if d.t.StoreID != "" {
		f.Fields.Set("store_id", d.t.StoreID)
	}
	f.Fields.Set("decision", "allow")
	r, err := c.Do(ctx, "POST", resolve(d.base+pagePath, f.Action), "", d.base, f.Fields.Encode(), "consent")
	if err != nil {
		return response{}, err
	}
	if r.status/100 != 3 {
		return response{}, statusError("consent", r)
	}
	return r, nil
}

// codeFrom reads the authorization response (RFC 6749 §4.1.2): a redirect
// to the app's redirect URI with code and state, or with error.
func (d *Driver) codeFrom(r response, state string) (string, error) {
	if r.status/100 != 3 {
		return "", statusError("authorize", r)
	}
	loc, err := url.Parse(r.location)
	if err != nil {
		return "", unexpected("authorize", "bad Location %q", truncate(r.location, 120))
	}
	if !strings.HasPrefix(r.location, d.t.RedirectURI) {
		if strings.Contains(loc.Path, "/login") {
			return "", &Error{Step: "authorize", Status: r.status, Code: "login_required", Detail: "sent to the sign-in page: the session was lost"}
		}
		return "", unexpected("authorize", "redirected to %q, not the redirect URI", truncate(r.location, 120))
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", &Error{Step: "authorize", Status: r.status, Code: e, Detail: q.Get("error_description")}
	}
	if q.Get("state") != state {
		return "", unexpected("authorize", "the state came back changed")
	}
	code := q.Get("code")
	if code == "" {
		return "", unexpected("authorize", "no code in the redirect")
	}
	return code, nil
}

// newPKCE returns a code_verifier of 43 characters and its S256
// code_challenge (RFC 7636 §4.1, §4.2).
func newPKCE() (verifier, challenge string) {
	verifier = randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
