package oauth

import (
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// App is a partner application registered with Storekey: an OAuth client
// (RFC 6749 §2).
type App struct {
	ID           string
	Name         string
	LogoURL      string
	Developer    string
	RedirectURIs []string
	Scopes       Scopes // the scopes the app may ever be granted
	Public       bool   // a public client has no secret and must use PKCE
	SecretHash   []byte // SHA-256 of the client secret; nil for public clients
	PrevSecret   []byte // hash of the previous secret, valid until PrevExpires
	PrevExpires  time.Time
	Profile      string        // the dialect its partner integration speaks
	AccessTTL    time.Duration // 0: the server default; NoExpiry: never expires
	RefreshTTL   time.Duration // 0: the server default; NoExpiry: never expires
	NoRefresh    bool          // issue no refresh tokens
	PartnerID    string        // the partner account that owns it, if any
	WebhookURL   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NoExpiry as a lifetime means the token never expires.
const NoExpiry time.Duration = -1

// Confidential reports whether the app authenticates with a secret.
func (a *App) Confidential() bool { return !a.Public }

// RotateSecret gives a confidential app a new client secret and returns it;
// the previous secret stays valid until now+grace, so that a partner can
// deploy the new one without downtime. Only hashes are kept.
func (a *App) RotateSecret(now time.Time, grace time.Duration) string {
	secret := RandomSecret(PrefixSecret)
	a.PrevSecret, a.PrevExpires = a.SecretHash, now.Add(grace)
	a.SecretHash, a.UpdatedAt = Hash(secret), now
	return secret
}

// MatchRedirectURI returns the registered redirect URI that uri designates.
// Matching is exact string comparison (RFC 9700 §2.1), except that the scheme
// and host compare case-insensitively as RFC 3986 §6.2.2.1 requires. When uri
// is empty the app's only registered URI is used; with several registered, an
// empty uri is ambiguous and matches nothing.
func (a *App) MatchRedirectURI(uri string) (string, bool) {
	if uri == "" {
		if len(a.RedirectURIs) == 1 {
			return a.RedirectURIs[0], true
		}
		return "", false
	}
	for _, r := range a.RedirectURIs {
		if sameURI(r, uri) {
			return r, true
		}
	}
	return "", false
}

func sameURI(registered, got string) bool {
	if registered == got {
		return true
	}
	if len(registered) != len(got) {
		return false
	}
	rs, rrest, ok1 := splitAuthority(registered)
	gs, grest, ok2 := splitAuthority(got)
	if !ok1 || !ok2 {
		return false
	}
	return strings.EqualFold(rs, gs) && rrest == grest
}

// splitAuthority splits "scheme://host[:port]rest" into "scheme://host" and
// the rest (port, path, query), leaving user info inside the first part.
func splitAuthority(u string) (schemeHost, rest string, ok bool) {
	i := strings.Index(u, "://")
	if i <= 0 {
		return "", "", false
	}
	end := len(u)
	for j := i + 3; j < len(u); j++ {
		if c := u[j]; c == '/' || c == '?' || c == '#' || c == ':' {
			end = j
			break
		}
	}
	return u[:end], u[end:], true
}

// ValidateRedirectURI checks a redirect URI offered for registration: an
// absolute URI without a fragment (RFC 6749 §3.1.2), https unless it points at
// a loopback host (RFC 8252 §7.3) or uses a private-use scheme of a native
// app (RFC 8252 §7.1). The out-of-band URN is accepted when allowOOB is set.
func ValidateRedirectURI(raw string, allowOOB bool) error {
	if raw == OOBRedirectURI {
		if allowOOB {
			return nil
		}
		return Errorf(ErrInvalidRequest, "redirect URI %q is only allowed for apps registered for the out-of-band flow", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return Errorf(ErrInvalidRequest, "redirect URI %q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return Errorf(ErrInvalidRequest, "redirect URI %q must not contain a fragment", raw)
	}
	if u.User != nil {
		return Errorf(ErrInvalidRequest, "redirect URI %q must not contain user information", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		if u.Host == "" {
			return Errorf(ErrInvalidRequest, "redirect URI %q has no host", raw)
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return Errorf(ErrInvalidRequest, "redirect URI %q must use https (http is allowed for loopback hosts only)", raw)
		}
	case "javascript", "data", "file", "vbscript":
		return Errorf(ErrInvalidRequest, "redirect URI %q uses a forbidden scheme", raw)
	default:
		// A private-use scheme of a native app must contain a dot (RFC 8252 §7.1).
		if !strings.Contains(u.Scheme, ".") {
			return Errorf(ErrInvalidRequest, "redirect URI %q must use https, loopback http, or a reverse-domain private scheme", raw)
		}
	}
	if u.Host == "" && u.Opaque == "" && u.Path == "" {
		return Errorf(ErrInvalidRequest, "redirect URI %q has no host", raw)
	}
	return nil
}

// OOBRedirectURI asks the server to show the code in the browser instead of
// redirecting (the installed-app flow).
const OOBRedirectURI = "urn:ietf:wg:oauth:2.0:oob"

// isLoopback reports whether host is localhost or a loopback IP literal;
// names such as 127.0.0.1.evil.example are not.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
