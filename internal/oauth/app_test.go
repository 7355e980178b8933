package oauth

import (
	"strings"
	"testing"
	"time"
)

func TestMatchRedirectURI(t *testing.T) {
	one := &App{RedirectURIs: []string{"https://partner.example/cb"}}
	two := &App{RedirectURIs: []string{"https://partner.example/cb", "http://127.0.0.1:9000/cb?x=1"}}
	tests := []struct {
		app  *App
		uri  string
		want string
		ok   bool
	}{
		{one, "https://partner.example/cb", "https://partner.example/cb", true},
		{one, "", "https://partner.example/cb", true},
		{one, "HTTPS://Partner.Example/cb", "https://partner.example/cb", true}, // RFC 3986 §6.2.2.1
		{one, "https://partner.example/CB", "", false},                          // paths are case-sensitive
		{one, "https://partner.example/cb/", "", false},
		{one, "https://partner.example/cb?x=1", "", false},
		{one, "https://partner.example/cb#frag", "", false},
		{one, "https://partner.example.evil/cb", "", false},
		{one, "https://evil.example/https://partner.example/cb", "", false},
		{one, "https://partner.example:443/cb", "", false}, // no port normalisation: exact match
		{two, "", "", false}, // ambiguous
		{two, "http://127.0.0.1:9000/cb?x=1", "http://127.0.0.1:9000/cb?x=1", true},
		{two, "http://127.0.0.1:9001/cb?x=1", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.app.MatchRedirectURI(tt.uri)
		if got != tt.want || ok != tt.ok {
			t.Errorf("MatchRedirectURI(%q) = %q, %v; want %q, %v", tt.uri, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidateRedirectURI(t *testing.T) {
	ok := []string{"https://partner.example/cb", "http://127.0.0.1:8000/cb", "http://localhost/cb", "http://[::1]:9/cb", "com.partner.app:/oauth"}
	bad := []string{"", "http://127.0.0.1.evil.example/cb", "https:///cb", "https://user:pw@partner.example/cb", "http:///cb", "/relative", "partner.example/cb", "http://partner.example/cb", "https://partner.example/cb#x", "javascript:alert(1)", "myapp:/cb", OOBRedirectURI}
	for _, u := range ok {
		if err := ValidateRedirectURI(u, false); err != nil {
			t.Errorf("ValidateRedirectURI(%q) = %v, want ok", u, err)
		}
	}
	for _, u := range bad {
		if err := ValidateRedirectURI(u, false); err == nil {
			t.Errorf("ValidateRedirectURI(%q) = nil, want an error", u)
		}
	}
	if err := ValidateRedirectURI(OOBRedirectURI, true); err != nil {
		t.Errorf("OOB allowed: %v", err)
	}
}

// FuzzMatchRedirectURI checks the matching properties: a URI matches only a
// registered one of the same length, whose path, query and port are equal to
// the letter, and a registered URI always matches itself.
func FuzzMatchRedirectURI(f *testing.F) {
	f.Add("https://partner.example/cb", "https://partner.example/cb")
	f.Add("https://partner.example/cb", "HTTPS://PARTNER.EXAMPLE/cb")
	f.Add("https://partner.example/cb", "https://partner.example/CB")
	f.Add("http://127.0.0.1:9000/cb?x=1", "http://127.0.0.1:9000/cb?x=2")
	f.Add("https://a.example/cb", "https://a.example.evil/cb")
	f.Add("urn:ietf:wg:oauth:2.0:oob", "URN:ietf:wg:oauth:2.0:oob")
	f.Fuzz(func(t *testing.T, registered, got string) {
		if registered == "" {
			return
		}
		app := &App{RedirectURIs: []string{registered}}
		if m, ok := app.MatchRedirectURI(registered); !ok || m != registered {
			t.Fatalf("registered URI %q does not match itself", registered)
		}
		m, ok := app.MatchRedirectURI(got)
		if !ok {
			return
		}
		if got == "" {
			return
		}
		if m != registered || len(got) != len(registered) {
			t.Fatalf("%q matched %q", got, registered)
		}
		_, rrest, _ := splitAuthority(registered)
		_, grest, _ := splitAuthority(got)
		if got != registered && (rrest != grest || !strings.EqualFold(got, registered)) {
			t.Fatalf("%q matched %q with a different path, query or port", got, registered)
		}
	})
}

func TestRotateSecret(t *testing.T) {
	old := RandomSecret(PrefixSecret)
	a := &App{SecretHash: Hash(old)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secret := a.RotateSecret(now, time.Hour)
	if !EqualHash(secret, a.SecretHash) || !EqualHash(old, a.PrevSecret) || !a.PrevExpires.Equal(now.Add(time.Hour)) || !a.UpdatedAt.Equal(now) {
		t.Fatalf("after rotation: %+v", a)
	}
	if secret == old || len(secret) != len(old) {
		t.Fatalf("new secret %q", secret)
	}
}
