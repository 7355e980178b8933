package resource

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Principal is what a valid access token stands for: the app that holds it,
// the store (and, on some platforms, the location, catalog and customer list)
// it is bound to, the merchant who granted it and the scopes it carries.
//
// App-level tokens, issued with the client_credentials grant, have an empty
// StoreID, GrantID and UserID.
type Principal struct {
	Active         bool      // always true for a principal a Validator returns
	TokenID        string    // jti, when the authorization server sends one
	AppID          string    // client_id of the app the token was issued to
	StoreID        string    // the store the token is bound to; "" for app-level tokens
	UserID         string    // sub: the merchant who authorized the app
	GrantID        string    // the grant the token belongs to
	Scopes         []string  // the granted scopes
	ExpiresAt      time.Time // zero when the token never expires
	LocationID     string    // bound location, on platforms whose consent picks one
	CatalogID      string    // bound catalog, likewise
	CustomerListID string    // bound customer list, likewise
}

// Has reports whether the principal was granted scope. A write_x scope
// implies read_x, as Storekey's scope catalog defines.
func (p *Principal) Has(scope string) bool {
	if p == nil || scope == "" {
		return false
	}
	if slices.Contains(p.Scopes, scope) {
		return true
	}
	if rest, ok := strings.CutPrefix(scope, "read_"); ok {
		return slices.Contains(p.Scopes, "write_"+rest)
	}
	return false
}

// StoreBound reports whether the token is bound to a store, as tokens from
// the authorization code grant are and app-level tokens are not.
func (p *Principal) StoreBound() bool { return p != nil && p.StoreID != "" }

func (p *Principal) clone() *Principal {
	c := *p
	c.Scopes = slices.Clone(p.Scopes)
	return &c
}

type ctxKey struct{}

// ctxValue is what Middleware stores in the request context: the principal
// and the realm, so that RequireScope can name the same realm.
type ctxValue struct {
	p     *Principal
	realm string
}

// NewContext returns a copy of ctx that carries p, as Middleware does. Tests
// of handlers that sit behind Middleware use it to fake an authenticated
// request.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, ctxValue{p: p})
}

// FromContext returns the principal Middleware stored in ctx; ok is false if
// there is none.
func FromContext(ctx context.Context) (p *Principal, ok bool) {
	v, ok := ctx.Value(ctxKey{}).(ctxValue)
	if !ok || v.p == nil {
		return nil, false
	}
	return v.p, true
}

func realmFromContext(ctx context.Context) string {
	v, _ := ctx.Value(ctxKey{}).(ctxValue)
	return v.realm
}
