package oauth

import (
	"slices"
	"strings"
)

// Scopes is a set of scope names, kept sorted and free of duplicates so that
// two equal sets compare equal and serialise identically.
type Scopes []string

// NewScopes returns the sorted, de-duplicated set of names, dropping empty ones.
func NewScopes(names ...string) Scopes {
	out := make(Scopes, 0, len(names))
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ParseScopes splits a scope parameter on spaces and commas (RFC 6749 §3.3
// uses spaces; several commerce platforms use commas) into a set.
func ParseScopes(s string) Scopes {
	return NewScopes(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })...)
}

// String joins the set with single spaces, the RFC 6749 §3.3 form.
func (s Scopes) String() string { return strings.Join(s, " ") }

// Has reports whether the set grants name. A write_x scope implies read_x.
func (s Scopes) Has(name string) bool {
	if _, ok := slices.BinarySearch(s, name); ok {
		return true
	}
	if rest, ok := strings.CutPrefix(name, "read_"); ok {
		_, ok := slices.BinarySearch(s, "write_"+rest)
		return ok
	}
	return false
}

// Covers reports whether every scope in other is granted by s.
func (s Scopes) Covers(other Scopes) bool {
	for _, n := range other {
		if !s.Has(n) {
			return false
		}
	}
	return true
}

// Missing returns the scopes of want that s does not grant.
func (s Scopes) Missing(want Scopes) Scopes {
	var out Scopes
	for _, n := range want {
		if !s.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// Union returns the set of scopes in either s or other.
func (s Scopes) Union(other Scopes) Scopes {
	return NewScopes(append(slices.Clone(s), other...)...)
}

// ScopeInfo describes one scope of a catalog for the consent page and the
// metadata document.
type ScopeInfo struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description"`
}

// ScopeCatalog is the ordered list of scopes a server knows.
type ScopeCatalog []ScopeInfo

// Lookup returns the catalog entry for name.
func (c ScopeCatalog) Lookup(name string) (ScopeInfo, bool) {
	for _, s := range c {
		if s.Name == name {
			return s, true
		}
	}
	return ScopeInfo{}, false
}

// Names returns every scope name in the catalog, in catalog order.
func (c ScopeCatalog) Names() []string {
	out := make([]string, len(c))
	for i, s := range c {
		out[i] = s.Name
	}
	return out
}

// Unknown returns the scopes of s that the catalog does not define.
func (c ScopeCatalog) Unknown(s Scopes) Scopes {
	var out Scopes
	for _, n := range s {
		if _, ok := c.Lookup(n); !ok {
			out = append(out, n)
		}
	}
	return out
}

// DefaultCatalog is the commerce catalog Storekey ships: a read/write pair for
// each area of a store's data.
func DefaultCatalog() ScopeCatalog {
	pairs := []struct{ area, what string }{
		{"products", "products, variants, categories and prices"},
		{"customers", "customers and their addresses"},
		{"orders", "orders, fulfilments and refunds"},
		{"sales", "sales, payments and receipts"},
		{"inventory", "stock levels, transfers and counts"},
		{"reports", "sales reports and accounting exports"},
		{"settings", "store settings, locations, taxes and users"},
	}
	c := make(ScopeCatalog, 0, 2*len(pairs))
	for _, p := range pairs {
		c = append(c,
			ScopeInfo{Name: "read_" + p.area, Description: "View your " + p.what},
			ScopeInfo{Name: "write_" + p.area, Description: "View, create and change your " + p.what},
		)
	}
	return c
}
