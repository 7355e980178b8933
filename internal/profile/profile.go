package profile

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// Profile is one platform's dialect.
type Profile struct {
	Name  string // as in configuration and `app create --profile`
	Title string // the platform, as people know it
	// Dialect is what the profile changes in the protocol's rules.
	Dialect oauth.Dialect

	// AuthorizePaths and TokenPaths are mounted beside /oauth/authorize
	// and /oauth/token, which serve every profile.
	AuthorizePaths []string
	TokenPaths     []string
	// StorePaths mounts the profile's paths under /stores/{store}/ as well,
	// and on {store}.<issuer host>: the platform names the store in the URL.
	StorePaths bool
	// Params are the names of the authorization request's parameters on
	// the profile's own paths.
	Params Params
	// JSONToken lets the profile's token paths take a JSON body, whose
	// fields use Params' names or the RFC 6749 ones.
	JSONToken bool
	// Token shapes the token response of the profile's apps.
	Token func(r TokenResult) any
	// TokenHeaders are further request headers that carry an access token
	// to the API (beside Authorization: Bearer).
	TokenHeaders []string

	// AllowLabel names the consent page's button that grants access.
	AllowLabel string
	// SignUp offers a person without an account a sign-up form on the
	// sign-in page, prefilled from the request's Prefill parameters.
	SignUp bool
	// Prefill names the authorization request's parameters that prefill
	// the sign-up form, and DeviceParam the one naming the device.
	Prefill     []string
	DeviceParam string
	// OOB lets the profile's apps register the out-of-band redirect URI.
	OOB bool
	// Logo checks an app's logo at registration; nil: any or none.
	Logo func(data []byte) error
	// ScopeHelp describes the scope syntax for people registering an app.
	ScopeHelp string
	// Picks, when set, tells from the scope parameter which resources
	// within the store the consent page must ask the merchant to pick.
	Picks func(scope string) Picks
}

// Picks are the resources a consent binds a grant to.
type Picks struct{ Location, Catalog, CustomerList bool }

// Params names an authorization request's parameters.
type Params struct {
	ResponseType, ClientID, RedirectURI, Scope, State string
	ClientSecret, Code, GrantType, RefreshToken       string
}

// rfc6749 are the standard names.
var rfc6749 = Params{
	ResponseType: "response_type", ClientID: "client_id", RedirectURI: "redirect_uri", Scope: "scope", State: "state",
	ClientSecret: "client_secret", Code: "code", GrantType: "grant_type", RefreshToken: "refresh_token",
}

// TokenResult is what a profile's Token hook shapes: the issued tokens
// and, for profiles that return them, the names of what the grant is bound
// to.
type TokenResult struct {
	Resp  *oauth.TokenResponse
	Now   time.Time
	Names BoundNames
}

// BoundNames are the ids and names of the store and resources a grant is
// bound to.
type BoundNames struct {
	StoreID, StoreName               string
	LocationID, LocationName         string
	CatalogID, CatalogName           string
	CustomerListID, CustomerListName string
}

// NeedsNames reports whether the profile's token response names the bound
// resources (so the server must look them up).
func (p *Profile) NeedsNames() bool { return p.Name == HubRise }

// Names of the profiles.
const (
	Standard   = "standard"
	Hike       = "hike"
	StoreHippo = "storehippo"
	HubRise    = "hubrise"
	Hiboutik   = "hiboutik"
	HyperSKU   = "hypersku"
)

// All returns every profile, standard first.
func All() []*Profile {
	return []*Profile{standard(), hike(), storehippo(), hubrise(), hiboutik(), hypersku()}
}

// Names returns every profile's name.
func Names() []string {
	out := []string{}
	for _, p := range All() {
		out = append(out, p.Name)
	}
	return out
}

// Get returns the profile with the name.
func Get(name string) (*Profile, error) {
	for _, p := range All() {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("unknown profile %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Enabled returns the profiles with the given names, and standard always.
func Enabled(names []string) ([]*Profile, error) {
	out := []*Profile{standard()}
	for _, n := range names {
		if n == Standard {
			continue
		}
		p, err := Get(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Dialects returns the oauth rules of the profiles by name.
func Dialects(ps []*Profile) map[string]oauth.Dialect {
	m := make(map[string]oauth.Dialect, len(ps))
	for _, p := range ps {
		m[p.Name] = p.Dialect
	}
	return m
}

// standardToken is the RFC 6749 §5.1 response.
type standardToken struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// StandardToken renders the RFC 6749 §5.1 response. A token that never
// expires has no expires_in (§5.1 makes it optional).
func StandardToken(r TokenResult) any {
	return standardToken{
		AccessToken:  r.Resp.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    r.Resp.ExpiresIn(r.Now),
		RefreshToken: r.Resp.RefreshToken,
		Scope:        r.Resp.Scopes.String(),
	}
}

func standard() *Profile {
	return &Profile{
		Name: Standard, Title: "Standard OAuth 2.0 (RFC 6749, RFC 9700)",
		Params: rfc6749, Token: StandardToken, AllowLabel: "Allow",
		ScopeHelp: "space- or comma-separated read_x/write_x scopes",
	}
}

// hike: Hike's POS. Its only scope today is `all`, which grants every
// scope the app may have; its token response adds `expires`, the absolute
// Unix time of expiry.
func hike() *Profile {
	p := standard()
	p.Name, p.Title = Hike, "Hike"
	p.Dialect.Authorize.ExpandScope = expandAll
	p.Token = func(r TokenResult) any {
		type hikeToken struct {
			AccessToken  string `json:"access_token"`
			TokenType    string `json:"token_type"`
			Expires      int64  `json:"expires,omitempty"`
			ExpiresIn    int64  `json:"expires_in,omitempty"`
			RefreshToken string `json:"refresh_token,omitempty"`
			Scope        string `json:"scope"`
		}
		t := hikeToken{AccessToken: r.Resp.AccessToken, TokenType: "Bearer", ExpiresIn: r.Resp.ExpiresIn(r.Now),
			RefreshToken: r.Resp.RefreshToken, Scope: r.Resp.Scopes.String()}
		if !r.Resp.ExpiresAt.IsZero() {
			t.Expires = r.Resp.ExpiresAt.Unix()
		}
		return t
	}
	p.ScopeHelp = "space-separated; `all` grants every scope the app is registered for"
	return p
}

// expandAll replaces `all` with every scope the app may be granted.
func expandAll(requested, allowed oauth.Scopes) oauth.Scopes {
	if !slices.Contains(requested, "all") {
		return requested
	}
	rest := slices.DeleteFunc(slices.Clone(requested), func(s string) bool { return s == "all" })
	return allowed.Union(rest)
}

// storehippo: an online-store builder. The store is in the host (or a
// /stores/{store} prefix), response_type may be left out, scopes are
// comma-separated from its catalog, the consent button reads Install, and
// the token lasts as long as the app stays installed.
func storehippo() *Profile {
	p := standard()
	p.Name, p.Title = StoreHippo, "StoreHippo"
	p.AuthorizePaths = []string{"/admin/oauth/authorization"}
	p.TokenPaths = []string{"/admin/oauth/token"}
	p.StorePaths = true
	p.Dialect = oauth.Dialect{
		Authorize:           oauth.AuthorizeRules{ResponseTypeOptional: true},
		Catalog:             pairs("orders and transactions", "customers", "products, categories, collections and brands", "blogs, pages and redirects", "script tags", "startup controllers", "checkouts"),
		RedirectURIOptional: true, // its published curl sends none
		AccessTTL:           oauth.NoExpiry,
		NoRefresh:           true,
	}
	p.AllowLabel = "Install"
	p.ScopeHelp = "comma-separated: read_/write_ orders, customers, products, content, script_tags, controllers, checkouts"
	return p
}

// pairs builds a read/write catalog from StoreHippo's areas, in order.
func pairs(what ...string) oauth.ScopeCatalog {
	areas := []string{"orders", "customers", "products", "content", "script_tags", "controllers", "checkouts"}
	var c oauth.ScopeCatalog
	for i, a := range areas {
		c = append(c,
			oauth.ScopeInfo{Name: "read_" + a, Description: "View your " + what[i]},
			oauth.ScopeInfo{Name: "write_" + a, Description: "View and change your " + what[i]})
	}
	return c
}

// hubrise: a restaurant order hub. A structured scope grammar, a consent
// that picks the location, catalog and customer list, sign-up for people
// without an account, tokens that never expire and are given back when the
// same app connects the same location again, and X-Access-Token.
func hubrise() *Profile {
	p := standard()
	p.Name, p.Title = HubRise, "HubRise"
	p.AuthorizePaths = []string{"/oauth2/v1/authorize"}
	p.TokenPaths = []string{"/oauth2/v1/token"}
	p.Dialect = oauth.Dialect{
		Authorize: oauth.AuthorizeRules{
			ResponseTypeOptional: true,
			ParseScope: func(s string) (oauth.Scopes, error) {
				h, err := ParseHubRiseScope(s)
				if err != nil {
					return nil, err
				}
				return h.Scopes(), nil
			},
		},
		Catalog: HubRiseCatalog(),
		// Its published token request carries the code, client id and
		// secret only.
		DefaultGrantType:    oauth.GrantAuthorizationCode,
		RedirectURIOptional: true,
		AccessTTL:           oauth.NoExpiry,
		NoRefresh:           true,
		ReuseGrant:          true,
	}
	p.Token = func(r TokenResult) any {
		type hubriseToken struct {
			AccessToken      string `json:"access_token"`
			AccountID        string `json:"account_id"`
			LocationID       string `json:"location_id,omitempty"`
			CatalogID        string `json:"catalog_id,omitempty"`
			CustomerListID   string `json:"customer_list_id,omitempty"`
			AccountName      string `json:"account_name"`
			LocationName     string `json:"location_name,omitempty"`
			CatalogName      string `json:"catalog_name,omitempty"`
			CustomerListName string `json:"customer_list_name,omitempty"`
		}
		n := r.Names
		return hubriseToken{
			AccessToken: r.Resp.AccessToken, AccountID: n.StoreID, AccountName: n.StoreName,
			LocationID: n.LocationID, LocationName: n.LocationName, CatalogID: n.CatalogID, CatalogName: n.CatalogName,
			CustomerListID: n.CustomerListID, CustomerListName: n.CustomerListName,
		}
	}
	p.TokenHeaders = []string{"X-Access-Token"}
	p.Picks = func(scope string) Picks {
		h, err := ParseHubRiseScope(scope)
		if err != nil {
			return Picks{}
		}
		l, c, cl := h.Needs()
		return Picks{Location: l, Catalog: c, CustomerList: cl}
	}
	p.SignUp = true
	p.Prefill = []string{"country", "account_name", "location_name"}
	p.DeviceParam = "device_id"
	p.OOB = true
	p.ScopeHelp = "HubRise grammar: location[orders.write,customer_list.read],profile (at most one access level)"
	return p
}

// hiboutik: a retail POS with ten read/write scope pairs; access tokens
// last 365 days with a refresh token, and its token request may leave out
// grant_type and redirect_uri.
func hiboutik() *Profile {
	p := standard()
	p.Name, p.Title = Hiboutik, "Hiboutik"
	areas := []struct{ name, what string }{
		{"products", "products, price rules, variants, categories, suppliers, brands, tags and modifiers"},
		{"customers", "customers, customer addresses, lists and tags"},
		{"store_credit", "customer store credit"},
		{"sales", "sales, payments and fulfillments"},
		{"reports", "sales data, Z reports, accounting exports and cash counts"},
		{"inventory", "inventory levels, stock orders, transfers, counts and reorder points"},
		{"calendar_events", "calendar events"},
		{"time_tracking", "time tracking"},
		{"kitchen_screen", "the kitchen display system"},
		{"settings", "users, stores, warehouses, payment types, taxes and resources"},
	}
	var c oauth.ScopeCatalog
	for _, a := range areas {
		c = append(c,
			oauth.ScopeInfo{Name: "read_" + a.name, Description: "View " + a.what},
			oauth.ScopeInfo{Name: "write_" + a.name, Description: "View and change " + a.what})
	}
	p.Dialect = oauth.Dialect{
		Catalog:             c,
		RedirectURIOptional: true,
		DefaultGrantType:    oauth.GrantAuthorizationCode,
		AccessTTL:           365 * 24 * time.Hour,
	}
	p.ScopeHelp = "space- or comma-separated read_/write_ pairs of Hiboutik's ten areas"
	return p
}

// hypersku: an order management system with camelCase parameters, a JSON
// token request and a camelCase response, the one scope `oms`, a required
// state, and a 110 x 110 px logo at registration.
func hypersku() *Profile {
	p := standard()
	p.Name, p.Title = HyperSKU, "HyperSKU"
	p.AuthorizePaths = []string{"/application/auth"}
	p.TokenPaths = []string{"/api/auth/admin/token/access_token"}
	p.Params = Params{
		ResponseType: "responseType", ClientID: "clientId", RedirectURI: "redirectUri", Scope: "scope", State: "state",
		ClientSecret: "clientSecret", Code: "code", GrantType: "grantType", RefreshToken: "refreshToken",
	}
	p.JSONToken = true
	p.Dialect = oauth.Dialect{
		Authorize:           oauth.AuthorizeRules{ResponseTypeOptional: true, StateRequired: true},
		Catalog:             oauth.ScopeCatalog{{Name: "oms", Description: "Manage your orders, products, inventory and fulfilment in the OMS"}},
		RedirectURIOptional: true,
		DefaultGrantType:    oauth.GrantAuthorizationCode,
	}
	p.Token = func(r TokenResult) any {
		type hyperskuToken struct {
			AccessToken          string `json:"accessToken"`
			ExpiresIn            int64  `json:"expiresIn"`
			RefreshToken         string `json:"refreshToken,omitempty"`
			RefreshTokenExpireIn int64  `json:"refreshTokenExpireIn"`
			Scope                string `json:"scope"`
			UserID               string `json:"userId"`
		}
		t := hyperskuToken{AccessToken: r.Resp.AccessToken, ExpiresIn: r.Resp.ExpiresIn(r.Now),
			RefreshToken: r.Resp.RefreshToken, Scope: r.Resp.Scopes.String()}
		if !r.Resp.RefreshExpiresAt.IsZero() {
			t.RefreshTokenExpireIn = int64(r.Resp.RefreshExpiresAt.Sub(r.Now).Round(time.Second) / time.Second)
		}
		if r.Resp.Grant != nil {
			t.UserID = r.Resp.Grant.UserID
		}
		return t
	}
	p.Logo = CheckHyperSKULogo
	p.ScopeHelp = "`oms`"
	return p
}
