package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/storekey/storekey/internal/oauth"
)

// picker is one choice of a resource within the store on the consent page:
// a location, a catalog or a customer list, for dialects whose consent
// binds a grant to them (HubRise).
type picker struct {
	Field   string // the form field: location_id, catalog_id, customer_list_id
	Label   string
	Options []pickOption
}

type pickOption struct {
	ID, Name, StoreName string
}

// resourceKinds lists the kinds a consent can pick, in page order.
func (h *Handler) resourceKinds(a *oauth.Authorization) []resourceKind {
	p := h.appProfile(a.App)
	if p.Picks == nil {
		return nil
	}
	picks := p.Picks(a.RawScope)
	var out []resourceKind
	if picks.Location {
		out = append(out, resourceKind{"location_id", "Location", h.locations})
	}
	if picks.Catalog {
		out = append(out, resourceKind{"catalog_id", "Catalog", h.st.Catalogs})
	}
	if picks.CustomerList {
		out = append(out, resourceKind{"customer_list_id", "Customer list", h.st.CustomerLists})
	}
	return out
}

type resourceKind struct {
	field, label string
	list         func(context.Context, string) ([]oauth.Resource, error)
}

func (h *Handler) locations(ctx context.Context, storeID string) ([]oauth.Resource, error) {
	ls, err := h.st.Locations(ctx, storeID)
	out := make([]oauth.Resource, len(ls))
	for i, l := range ls {
		out[i] = oauth.Resource(l)
	}
	return out, err
}

// pickers returns the consent page's resource choices across the stores.
func (h *Handler) pickers(ctx context.Context, a *oauth.Authorization, stores []oauth.Store) ([]picker, error) {
	var out []picker
	for _, k := range h.resourceKinds(a) {
		p := picker{Field: k.field, Label: k.label}
		for _, s := range stores {
			rs, err := k.list(ctx, s.ID)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k.label, err)
			}
			for _, r := range rs {
				o := pickOption{ID: r.ID, Name: r.Name}
				if len(stores) > 1 {
					o.StoreName = s.Name
				}
				p.Options = append(p.Options, o)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// pickedResources reads the resources the merchant picked and checks each
// belongs to the chosen store. problem, when not empty, is what to tell the
// merchant.
func (h *Handler) pickedResources(r *http.Request, a *oauth.Authorization, s oauth.Store) (b oauth.Bound, problem string, err error) {
	for _, k := range h.resourceKinds(a) {
		id := r.PostForm.Get(k.field)
		if id == "" {
			return b, "Choose a " + lower(k.label) + ".", nil
		}
		rs, err := k.list(r.Context(), s.ID)
		if err != nil {
			return b, "", err
		}
		if !slices.ContainsFunc(rs, func(x oauth.Resource) bool { return x.ID == id }) {
			return b, "The " + lower(k.label) + " you chose is not in " + s.Name + ".", nil
		}
		switch k.field {
		case "location_id":
			b.LocationID = id
		case "catalog_id":
			b.CatalogID = id
		case "customer_list_id":
			b.CustomerListID = id
		}
	}
	return b, "", nil
}

func lower(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
