package profile

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/storekey/storekey/internal/oauth"
)

// maxHubRiseScopeLen bounds the scope parameter ParseHubRiseScope accepts.
// The longest meaningful HubRise scope (every permission once, both general
// permissions) is under 250 bytes.
const maxHubRiseScopeLen = 1000

// HubRise access levels: the keyword before the brackets of an access-level
// set, naming what the user picks on the consent page.
const (
	hubRiseLocation = "location"
	hubRiseAccount  = "account"
)

// hubRiseResources are the resources a HubRise permission may name, in the
// order error messages list them.
var hubRiseResources = []string{"orders", "customer_list", "all_customer_lists", "catalog", "all_catalogs"}

// HubRiseScope is a parsed HubRise scope parameter: at most one access-level
// set (location[...] or account[...]) and the general permissions.
type HubRiseScope struct {
	Level            string        // "location", "account", or "" when no access-level set was given
	Perms            []HubRisePerm // sorted, de-duplicated; nil when empty
	Profile          bool
	ProfileWithEmail bool
}

// HubRisePerm is one permission of an access-level set, e.g.
// {"orders", "write"} for orders.write.
type HubRisePerm struct{ Resource, Access string }

// String returns the permission as HubRise writes it: resource.access.
func (p HubRisePerm) String() string { return p.Resource + "." + p.Access }

func compareHubRisePerm(a, b HubRisePerm) int {
	return cmp.Or(strings.Compare(a.Resource, b.Resource), strings.Compare(a.Access, b.Access))
}

// ParseHubRiseScope parses a HubRise scope parameter: a comma-separated list
// of at most one access-level set and any general permissions (profile,
// profile_with_email). An access-level set is location[...] or account[...]
// holding a comma-separated list of resource.access permissions, where
// resource is orders, customer_list, all_customer_lists, catalog or
// all_catalogs and access is read or write; account[] (no permissions) is
// valid.
//
// It is lenient only where no meaning can change: empty items and trailing
// commas (inside the brackets and out) are skipped, spaces and tabs around
// items are ignored, and a repeated permission counts once. Everything else
// is case-sensitive and exact.
//
// Every error is an *oauth.Error with Code oauth.ErrInvalidScope (RFC 6749
// §4.1.2.1) whose Description says what is wrong and where (byte offsets are
// 0-based). A scope longer than 1000 bytes, or one that asks for nothing, is
// refused.
func ParseHubRiseScope(s string) (HubRiseScope, error) {
	if len(s) > maxHubRiseScopeLen {
		return HubRiseScope{}, hubRiseErrorf("scope is %d bytes long: at most %d are allowed", len(s), maxHubRiseScopeLen)
	}
	var h HubRiseScope
	for start := 0; start <= len(s); {
		end, err := h.parseItem(s, start)
		if err != nil {
			return HubRiseScope{}, err
		}
		start = end + 1
	}
	if h.Level == "" && !h.Profile && !h.ProfileWithEmail {
		return HubRiseScope{}, hubRiseErrorf("empty scope: ask for location[...], account[...], profile or profile_with_email")
	}
	slices.SortFunc(h.Perms, compareHubRisePerm)
	h.Perms = slices.Compact(h.Perms)
	return h, nil
}

// parseItem parses the item of s that begins at start into h and returns the
// offset of the comma that ends it, or len(s).
func (h *HubRiseScope) parseItem(s string, start int) (int, error) {
	i := start
	for i < len(s) && s[i] != ',' && s[i] != '[' && s[i] != ']' {
		i++
	}
	if i == len(s) || s[i] == ',' {
		item := strings.TrimLeft(s[start:i], " \t")
		return i, h.addGeneral(hubRiseTrim(item), i-len(item))
	}
	if s[i] == ']' {
		return 0, hubRiseErrorf(`unbalanced "]" at offset %d: no "[" opens it`, i)
	}

	// s[i] is the "[" of an access-level set. Only leading space is
	// trimmed: "location [" is a typo worth reporting, not guessing at.
	open := i
	level := strings.TrimLeft(s[start:open], " \t")
	switch {
	case level == "":
		return 0, hubRiseErrorf(`missing access level before "[" at offset %d: use location[...] or account[...]`, open)
	case level != hubRiseLocation && level != hubRiseAccount:
		return 0, hubRiseErrorf("unknown access level %s at offset %d: use location[...] or account[...]", hubRiseQuote(level), open-len(level))
	case h.Level != "":
		return 0, hubRiseErrorf("at most one access level (location[...] or account[...]) may be given: found %s[...] after %s[...]", level, h.Level)
	}
	h.Level = level

	n := strings.IndexAny(s[open+1:], "[]")
	if n < 0 {
		return 0, hubRiseErrorf(`unbalanced "[" at offset %d: %s[...] has no closing "]"`, open, level)
	}
	closing := open + 1 + n
	if s[closing] == '[' {
		return 0, hubRiseErrorf(`nested "[" at offset %d inside %s[...]: permissions cannot contain brackets`, closing, level)
	}
	if err := h.addPerms(s[open+1:closing], level); err != nil {
		return 0, err
	}

	end := closing + 1
	for end < len(s) && s[end] != ',' {
		end++
	}
	if rest := strings.TrimLeft(s[closing+1:end], " \t"); rest != "" {
		at := end - len(rest)
		if rest[0] == ']' {
			return 0, hubRiseErrorf(`unbalanced "]" at offset %d: no "[" opens it`, at)
		}
		return 0, hubRiseErrorf("unexpected %s at offset %d after %s[...]: separate items with commas", hubRiseQuote(hubRiseTrim(rest)), at, level)
	}
	return end, nil
}

// addGeneral records the general permission name, an item found at offset
// at outside any brackets. An empty name (from ",," or a trailing comma) is
// skipped.
func (h *HubRiseScope) addGeneral(name string, at int) error {
	switch name {
	case "":
	case "profile":
		h.Profile = true
	case "profile_with_email":
		h.ProfileWithEmail = true
	case hubRiseLocation, hubRiseAccount:
		return hubRiseErrorf("access level %s at offset %d needs its permissions in brackets, e.g. %s[orders.read], or %s[] for none", name, at, name, name)
	default:
		if _, err := parseHubRisePerm(name, ""); err == nil {
			return hubRiseErrorf("permission %s at offset %d must be inside location[...] or account[...]", hubRiseQuote(name), at)
		}
		if strings.ContainsAny(name, " \t") {
			return hubRiseErrorf("unknown scope %s at offset %d: separate HubRise scopes with commas", hubRiseQuote(name), at)
		}
		return hubRiseErrorf("unknown scope %s at offset %d: use location[...], account[...], profile or profile_with_email", hubRiseQuote(name), at)
	}
	return nil
}

// addPerms records the comma-separated permissions list, the text between
// the brackets of level[...].
func (h *HubRiseScope) addPerms(list, level string) error {
	for item := range strings.SplitSeq(list, ",") {
		item = hubRiseTrim(item)
		if item == "" {
			continue
		}
		p, err := parseHubRisePerm(item, level)
		if err != nil {
			return err
		}
		h.Perms = append(h.Perms, p)
	}
	return nil
}

// parseHubRisePerm parses one resource.access permission found inside
// level[...]; level only words the error.
func parseHubRisePerm(s, level string) (HubRisePerm, error) {
	where := level + "[...]"
	resource, access, ok := strings.Cut(s, ".")
	if !ok {
		if s == "profile" || s == "profile_with_email" {
			return HubRisePerm{}, hubRiseErrorf("%s is a general permission: put it outside %s, e.g. %s[],%s", s, where, level, s)
		}
		return HubRisePerm{}, hubRiseErrorf("permission %s in %s must be resource.access, e.g. orders.read", hubRiseQuote(s), where)
	}
	if !slices.Contains(hubRiseResources, resource) {
		return HubRisePerm{}, hubRiseErrorf("unknown resource %s in %s: use orders, customer_list, all_customer_lists, catalog or all_catalogs", hubRiseQuote(resource), where)
	}
	if access != "read" && access != "write" {
		return HubRisePerm{}, hubRiseErrorf("unknown access %s for %s in %s: use read or write", hubRiseQuote(access), resource, where)
	}
	return HubRisePerm{Resource: resource, Access: access}, nil
}

// String returns the canonical form of the scope: the access-level set
// first, its permissions sorted, then profile and profile_with_email; e.g.
// "location[customer_list.write,orders.write],profile". For any h returned
// by ParseHubRiseScope, ParseHubRiseScope(h.String()) returns h. Perms are
// written only when Level is set.
func (h HubRiseScope) String() string {
	var items []string
	if h.Level != "" {
		perms := make([]string, len(h.Perms))
		for i, p := range h.Perms {
			perms[i] = p.String()
		}
		items = append(items, h.Level+"["+strings.Join(perms, ",")+"]")
	}
	if h.Profile {
		items = append(items, "profile")
	}
	if h.ProfileWithEmail {
		items = append(items, "profile_with_email")
	}
	return strings.Join(items, ",")
}

// Scopes returns the Storekey scope names the HubRise scope grants, all in
// HubRiseCatalog: orders.x is x_orders, customer_list.x and
// all_customer_lists.x are x_customers, catalog.x and all_catalogs.x are
// x_products; profile and profile_with_email keep their names.
func (h HubRiseScope) Scopes() oauth.Scopes {
	names := make([]string, 0, len(h.Perms)+2)
	for _, p := range h.Perms {
		var area string
		switch p.Resource {
		case "orders":
			area = "orders"
		case "customer_list", "all_customer_lists":
			area = "customers"
		case "catalog", "all_catalogs":
			area = "products"
		default:
			continue
		}
		switch p.Access {
		case "read", "write":
			names = append(names, p.Access+"_"+area)
		}
	}
	if h.Profile {
		names = append(names, "profile")
	}
	if h.ProfileWithEmail {
		names = append(names, "profile_with_email")
	}
	return oauth.NewScopes(names...)
}

// Needs reports what the consent page must ask the user to pick: a location
// for a location[...] set, a catalog for a catalog.* permission and a
// customer list for a customer_list.* permission. The all_catalogs and
// all_customer_lists permissions cover every one, so they need no pick.
func (h HubRiseScope) Needs() (location, catalog, customerList bool) {
	location = h.Level == hubRiseLocation
	for _, p := range h.Perms {
		switch p.Resource {
		case "catalog":
			catalog = true
		case "customer_list":
			customerList = true
		}
	}
	return location, catalog, customerList
}

// HubRiseCatalog returns the consent-page descriptions of every scope name
// HubRiseScope.Scopes can return.
func HubRiseCatalog() oauth.ScopeCatalog {
	return oauth.ScopeCatalog{
		{Name: "read_orders", Description: "View orders"},
		{Name: "write_orders", Description: "Create and update orders"},
		{Name: "read_customers", Description: "View customers"},
		{Name: "write_customers", Description: "Create and update customers"},
		{Name: "read_products", Description: "View the catalog"},
		{Name: "write_products", Description: "Create and update the catalog"},
		{Name: "profile", Description: "View your name"},
		{Name: "profile_with_email", Description: "View your name and email address"},
	}
}

// hubRiseErrorf returns an invalid_scope *oauth.Error.
func hubRiseErrorf(format string, args ...any) error {
	return oauth.Errorf(oauth.ErrInvalidScope, format, args...)
}

// hubRiseTrim trims the spaces and tabs the grammar allows around items.
func hubRiseTrim(s string) string { return strings.Trim(s, " \t") }

// hubRiseQuote quotes client input for an error description: in ASCII
// (RFC 6749 §4.1.2.1 keeps error_description to printable ASCII) and at most
// 40 bytes of it, cut on a rune boundary.
func hubRiseQuote(s string) string {
	const limit = 40
	if len(s) <= limit {
		return strconv.QuoteToASCII(s)
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.QuoteToASCII(s[:n]) + "..."
}
