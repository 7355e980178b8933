package resource

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBearerToken checks that whatever the Authorization and X-Access-Token
// headers hold, bearerToken either finds a well-formed token that one of
// them carries or refuses with 400 or 401, and never panics.
func FuzzBearerToken(f *testing.F) {
	for _, seed := range [][2]string{
		{"Bearer ska_abc", ""},            // the usual
		{"bearer   ska_abc  ", ""},        // any case, extra spaces
		{"Basic dXNlcjpwYXNz", "ska_abc"}, // another scheme, token elsewhere
		{"Bearer a", "b"},                 // two tokens
		{"Bearer ", ""},                   // no token
		{"Bearer a b", ""},                // a space inside
		{"Bearer ===", ""},                // padding only
		{"", "tok=="},                     // padded, in the extra header
		{"Bearer \x00", "\xff"},           // bytes that are no token
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, auth, extra string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{auth}
		r.Header["X-Access-Token"] = []string{extra}
		token, refusal := bearerToken(r.Header, r.URL.RawQuery, []string{"X-Access-Token"}, "storekey")
		if refusal != nil {
			if token != "" {
				t.Errorf("a refusal with a token %q", token)
			}
			if refusal.Status != http.StatusBadRequest && refusal.Status != http.StatusUnauthorized {
				t.Errorf("status %d", refusal.Status)
			}
			return
		}
		if !validToken(token) {
			t.Errorf("token %q is not a b64token", token)
		}
		if !strings.Contains(auth, token) && !strings.Contains(extra, token) {
			t.Errorf("token %q comes from neither header", token)
		}
	})
}

// FuzzQuotable checks that quotable leaves only what a quoted-string of a
// challenge may hold (RFC 6750 §3), keeps everything it may, and is
// idempotent.
func FuzzQuotable(f *testing.F) {
	for _, s := range []string{"storekey", `a "quoted" realm`, `back\\slash`, "tab\there", "ünïcode", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := quotable(s)
		for i := 0; i < len(q); i++ {
			if c := q[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				t.Fatalf("quotable(%q) = %q keeps %q", s, q, c)
			}
		}
		if quotable(q) != q {
			t.Errorf("quotable is not idempotent on %q", s)
		}
		if len(q) > len(s) {
			t.Errorf("quotable(%q) = %q grew", s, q)
		}
	})
}

// FuzzParseIntrospection checks that any response body yields either an
// active principal or an error, never both and never a panic.
func FuzzParseIntrospection(f *testing.F) {
	for _, s := range []string{
		`{"active":true,"scope":"read_orders write_products","client_id":"app_1","exp":1900000000,"store_id":"st_1"}`,
		`{"active":false}`,
		`{"active":true,"token_type":"refresh_token"}`,
		`{"active":true,"exp":1e308}`,
		`{"active":true,"exp":-1}`,
		`{"active":"yes"}`,
		`{"scope":"x"}`,
		`null`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseIntrospection(body)
		switch {
		case err == nil && (p == nil || !p.Active):
			t.Errorf("no error, principal %+v", p)
		case err != nil && p != nil:
			t.Errorf("error %v with principal %+v", err, p)
		case err != nil && !errors.Is(err, ErrInvalidToken) && !strings.HasPrefix(err.Error(), "introspect: "):
			t.Errorf("error %q does not say where it comes from", err)
		}
		if p != nil && !p.ExpiresAt.IsZero() && p.ExpiresAt.Unix() > maxUnixTime {
			t.Errorf("exp beyond year 9999: %v", p.ExpiresAt)
		}
	})
}
