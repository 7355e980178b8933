package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
)

// FuzzParseToken feeds token requests, as forms and as JSON, to the
// standard and the HyperSKU (camelCase JSON) parsers. Properties: no panic;
// a refusal is always an *oauth.Error with invalid_request or invalid_client;
// an accepted form means what it says (each RFC parameter comes through
// unchanged).
func FuzzParseToken(f *testing.F) {
	seeds := []struct{ ctype, body string }{
		{"application/x-www-form-urlencoded", "grant_type=authorization_code&code=skc_x&redirect_uri=https%3A%2F%2Fa.example%2Fcb&client_id=app_1&client_secret=s"},
		{"application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=skr_x&scope=read_products"},
		{"application/x-www-form-urlencoded", "code=a&code=b"},  // repeated
		{"application/x-www-form-urlencoded", "grant_type=%zz"}, // bad escape
		{"application/json", `{"clientId":"app_1","clientSecret":"s","code":"c","grantType":"authorization_code"}`},
		{"application/json", `{"client_id":"app_1","clientId":"app_2"}`}, // names disagree
		{"application/json", `{"code":5}`},                               // not a string
		{"application/json", `{"code":null} {}`},                         // two values
		{"application/json", `[1,2]`},
		{"text/plain", "grant_type=client_credentials"},
	}
	for _, s := range seeds {
		f.Add(s.ctype, s.body)
	}
	std, _ := profile.Get(profile.Standard)
	hyper, _ := profile.Get(profile.HyperSKU)
	s := &Server{}
	f.Fuzz(func(t *testing.T, ctype, body string) {
		for _, p := range []*profile.Profile{std, hyper} {
			r := httptest.NewRequest(http.MethodPost, "/t", strings.NewReader(body))
			r.Header.Set("Content-Type", ctype)
			req, err := s.parseToken(httptest.NewRecorder(), r, p)
			if err != nil {
				var e *oauth.Error
				if !errors.As(err, &e) || (e.Code != oauth.ErrInvalidRequest && e.Code != oauth.ErrInvalidClient) {
					t.Fatalf("%s %q: refusal %v is not invalid_request or invalid_client", ctype, body, err)
				}
				continue
			}
			if isJSON(r) && p.JSONToken {
				continue
			}
			v, perr := url.ParseQuery(body)
			if perr != nil {
				t.Fatalf("accepted a body that does not parse: %q", body)
			}
			if req.GrantType != v.Get("grant_type") || req.Code != v.Get("code") || req.RefreshToken != v.Get("refresh_token") ||
				req.RedirectURI != v.Get("redirect_uri") || req.Scope != v.Get("scope") || req.ScopeSent != v.Has("scope") {
				if p == std {
					t.Fatalf("form %q parsed as %+v", body, req)
				}
			}
		}
	})
}
