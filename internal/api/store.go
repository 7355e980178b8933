package api

import (
	"context"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/resource"
)

// tokenView is the body of GET /api/v1/store and GET /api/v1/me: what the token
// is bound to and what it grants.
type tokenView struct {
	StoreID        string   `json:"store_id,omitempty"`
	AppID          string   `json:"app_id"`
	UserID         string   `json:"user_id,omitempty"`
	GrantID        string   `json:"grant_id,omitempty"`
	Scopes         []string `json:"scopes"`
	ExpiresAt      string   `json:"expires_at,omitempty"` // RFC 3339, UTC
	LocationID     string   `json:"location_id,omitempty"`
	CatalogID      string   `json:"catalog_id,omitempty"`
	CustomerListID string   `json:"customer_list_id,omitempty"`
}

func viewOf(p *resource.Principal) tokenView {
	g := tokenView{
		StoreID:        p.StoreID,
		AppID:          p.AppID,
		UserID:         p.UserID,
		GrantID:        p.GrantID,
		Scopes:         p.Scopes,
		LocationID:     p.LocationID,
		CatalogID:      p.CatalogID,
		CustomerListID: p.CustomerListID,
	}
	if !slices.IsSorted(g.Scopes) {
		g.Scopes = slices.Sorted(slices.Values(g.Scopes))
	}
	if g.Scopes == nil {
		g.Scopes = []string{}
	}
	if !p.ExpiresAt.IsZero() {
		g.ExpiresAt = p.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return g
}

// store answers GET /api/v1/store: the store a store-bound token is bound
// to, its granted scopes and bound resources.
func (a *api) store(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	writeData(c, fasthttp.StatusOK, viewOf(p))
}

// me answers GET /api/v1/me for any valid token, app-level ones included.
func (a *api) me(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	writeData(c, fasthttp.StatusOK, viewOf(p))
}
