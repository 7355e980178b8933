package oauth

import "time"

// Dialect is what a platform's published flow changes in the protocol
// itself, looked up by an app's Profile. Everything about names and shapes
// on the wire (parameter names, JSON field names, paths, headers) belongs
// to the HTTP layers; a Dialect holds only the rules. The zero Dialect is
// plain RFC 6749 with RFC 9700's advice.
type Dialect struct {
	Authorize AuthorizeRules
	// Catalog is the scopes the dialect's apps may ask for; nil: the
	// server's catalog.
	Catalog ScopeCatalog
	// RedirectURIOptional lets a token request omit redirect_uri even when
	// the authorization request carried one: some platforms' published
	// token requests do. The code stays bound to the URI it was sent to.
	RedirectURIOptional bool
	// DefaultGrantType is assumed when a token request has no grant_type.
	DefaultGrantType string
	// AccessTTL, RefreshTTL and NoRefresh are the defaults of the dialect's
	// apps (an app's own settings win; NoExpiry: never expires).
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	NoRefresh  bool
	// ReuseGrant makes a new authorization of an app on the same store,
	// location and device return the grant (and so the token) the app
	// already holds there, rebound to what the merchant picked this time,
	// instead of issuing a new one (HubRise's connection reuse).
	ReuseGrant bool
}

// SetDialects installs the dialects by profile name. Call it before serving.
func (s *Service) SetDialects(d map[string]Dialect) { s.dialects = d }

// DialectOf returns the dialect of an app's profile.
func (s *Service) DialectOf(a *App) Dialect { return s.dialects[a.Profile] }

// CatalogOf returns the scope catalog an app's scopes come from.
func (s *Service) CatalogOf(a *App) ScopeCatalog {
	if c := s.dialects[a.Profile].Catalog; c != nil {
		return c
	}
	return s.cfg.Scopes
}
