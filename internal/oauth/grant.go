package oauth

import "time"

// Code is an authorization code (RFC 6749 §4.1.2): single use, short lived,
// bound to the client, the redirect URI, the store, the scopes and the PKCE
// challenge. Only the SHA-256 hash of its value is stored.
type Code struct {
	Hash            []byte
	AppID           string
	StoreID         string
	UserID          string
	RedirectURI     string // the redirect_uri sent with the authorization request; "" if none was sent
	Scopes          Scopes
	Challenge       string // PKCE code_challenge (RFC 7636 §4.2); "" if none
	ChallengeMethod string // "S256" or "plain"
	Bound           Bound  // profile-specific resources the merchant picked
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          time.Time // zero until redeemed
	GrantID         string    // the grant the redemption created; "" until redeemed
	// SessionHash is, for a sealed code, the hash of the merchant session
	// that approved it: the redemption requires that session to still
	// exist, so that a server key alone, without the database, cannot make
	// a code that redeems. Not stored; nil for a stored code.
	SessionHash []byte
}

// Bound names the resources within a store that a grant is limited to, for
// platforms whose consent picks more than a store (HubRise picks a location,
// a catalog and a customer list). All fields are optional.
type Bound struct {
	LocationID     string
	CatalogID      string
	CustomerListID string
	DeviceID       string
}

// Grant is one authorization: an app's access to a store with a set of scopes,
// the family of tokens issued from one authorization code (RFC 9700 §4.14.2).
// Generation counts refresh-token rotations; the current tokens are those of
// the current generation.
type Grant struct {
	ID            string
	AppID         string
	StoreID       string
	UserID        string
	Scopes        Scopes // the ceiling: what the merchant granted
	Bound         Bound
	Generation    int64
	KeyID         string    // the server key the current generation's tokens derive from
	RotatedAt     time.Time // when Generation last advanced
	SuccessorUsed bool      // a token of the current generation has been used
	CreatedAt     time.Time
	LastUsedAt    time.Time // zero if never used
	RevokedAt     time.Time // zero while active
}

// Active reports whether the grant has not been revoked.
func (g *Grant) Active() bool { return g.RevokedAt.IsZero() }

// GrantFilter selects grants to list. Empty fields match everything.
type GrantFilter struct {
	AppID          string
	StoreID        string
	IncludeRevoked bool
	Limit          int // at most this many, newest first; 0: all
}

// TokenKind tells access tokens from refresh tokens.
type TokenKind string

// Token kinds.
const (
	KindAccess  TokenKind = "access"
	KindRefresh TokenKind = "refresh"
)

// Token is an issued access or refresh token. Only the SHA-256 hash of its
// value is stored.
type Token struct {
	Hash       []byte
	Kind       TokenKind
	GrantID    string // "" for app-level tokens (client_credentials)
	AppID      string
	StoreID    string // "" for app-level tokens
	UserID     string
	Scopes     Scopes
	Generation int64
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never expires
	RevokedAt  time.Time // zero while not revoked on its own
}

// TokenInfo is a token joined with the state of its grant: what validation,
// introspection and refresh need, read in one statement.
type TokenInfo struct {
	Token
	Grant *Grant // nil for app-level tokens
}

// Active reports whether the token may be used at now: not expired, not
// revoked on its own, and its grant (if any) not revoked.
func (t *TokenInfo) Active(now time.Time) bool {
	if !t.RevokedAt.IsZero() {
		return false
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return false
	}
	return t.Grant == nil || t.Grant.Active()
}

// Revocation is one entry of the revocation log: every revocation appends
// one, so that server processes holding validation caches can drop what was
// revoked by another process. Exactly one of the fields other than Seq and At
// names what was revoked.
type Revocation struct {
	Seq       int64
	GrantID   string
	AppID     string // every grant and token of the app
	TokenHash []byte
	At        time.Time
}

// Key is a server secret from which token values are derived with HMAC.
type Key struct {
	ID        string
	Secret    []byte
	CreatedAt time.Time
}
