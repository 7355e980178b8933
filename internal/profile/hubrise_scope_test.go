package profile

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storekey/storekey/internal/oauth"
)

// allHubRisePerms is every permission HubRise defines, in canonical order.
var allHubRisePerms = []HubRisePerm{
	{"all_catalogs", "read"}, {"all_catalogs", "write"},
	{"all_customer_lists", "read"}, {"all_customer_lists", "write"},
	{"catalog", "read"}, {"catalog", "write"},
	{"customer_list", "read"}, {"customer_list", "write"},
	{"orders", "read"}, {"orders", "write"},
}

// validHubRiseScopes are scopes ParseHubRiseScope must accept, with the value
// and the canonical form they parse to.
var validHubRiseScopes = []struct {
	name, in string
	want     HubRiseScope
	canon    string
}{
	// HubRise's own examples (hubrise.txt §2 and its authorize URLs).
	{"doc profile_with_email", "profile_with_email",
		HubRiseScope{ProfileWithEmail: true}, "profile_with_email"},
	{"doc location", "location[orders.write,customer_list.write]",
		HubRiseScope{Level: "location", Perms: []HubRisePerm{{"customer_list", "write"}, {"orders", "write"}}},
		"location[customer_list.write,orders.write]"},
	{"doc empty account and profile", "account[],profile",
		HubRiseScope{Level: "account", Profile: true}, "account[],profile"},
	{"doc authorize URL trailing comma", "location[orders.write,customer_list.write,]",
		HubRiseScope{Level: "location", Perms: []HubRisePerm{{"customer_list", "write"}, {"orders", "write"}}},
		"location[customer_list.write,orders.write]"},

	{"profile", "profile", HubRiseScope{Profile: true}, "profile"},
	{"both general permissions", "profile_with_email,profile",
		HubRiseScope{Profile: true, ProfileWithEmail: true}, "profile,profile_with_email"},
	{"repeated general permission", "profile,profile", HubRiseScope{Profile: true}, "profile"},
	{"empty account alone", "account[]", HubRiseScope{Level: "account"}, "account[]"},
	{"only commas in brackets", "location[,,]", HubRiseScope{Level: "location"}, "location[]"},
	{"level after general permission", "profile,location[orders.read]",
		HubRiseScope{Level: "location", Perms: []HubRisePerm{{"orders", "read"}}, Profile: true},
		"location[orders.read],profile"},
	{"spaces around items", "  location[ orders.read , catalog.write ] , profile\t",
		HubRiseScope{Level: "location", Perms: []HubRisePerm{{"catalog", "write"}, {"orders", "read"}}, Profile: true},
		"location[catalog.write,orders.read],profile"},
	{"space after closing bracket", "account[orders.read] ,profile",
		HubRiseScope{Level: "account", Perms: []HubRisePerm{{"orders", "read"}}, Profile: true},
		"account[orders.read],profile"},
	{"empty and trailing commas", ",,profile,, ,",
		HubRiseScope{Profile: true}, "profile"},
	{"repeated permission", "account[orders.read,orders.read]",
		HubRiseScope{Level: "account", Perms: []HubRisePerm{{"orders", "read"}}}, "account[orders.read]"},
	{"read and write both kept", "account[orders.write,orders.read]",
		HubRiseScope{Level: "account", Perms: []HubRisePerm{{"orders", "read"}, {"orders", "write"}}},
		"account[orders.read,orders.write]"},
	{"all-resource permissions", "location[all_customer_lists.write,all_catalogs.read]",
		HubRiseScope{Level: "location", Perms: []HubRisePerm{{"all_catalogs", "read"}, {"all_customer_lists", "write"}}},
		"location[all_catalogs.read,all_customer_lists.write]"},
	{"every permission", "account[orders.write,orders.read,customer_list.write,customer_list.read," +
		"all_customer_lists.write,all_customer_lists.read,catalog.write,catalog.read,all_catalogs.write,all_catalogs.read]," +
		"profile_with_email,profile",
		HubRiseScope{Level: "account", Perms: allHubRisePerms, Profile: true, ProfileWithEmail: true},
		"account[all_catalogs.read,all_catalogs.write,all_customer_lists.read,all_customer_lists.write," +
			"catalog.read,catalog.write,customer_list.read,customer_list.write,orders.read,orders.write]," +
			"profile,profile_with_email"},
	{"exactly 1000 bytes", "profile" + strings.Repeat(",", 993), HubRiseScope{Profile: true}, "profile"},
}

// invalidHubRiseScopes are scopes ParseHubRiseScope must refuse with
// invalid_scope.
var invalidHubRiseScopes = []struct{ name, in string }{
	{"empty", ""},
	{"only spaces", "   "},
	{"only commas", ",, ,"},
	{"1001 bytes", "profile" + strings.Repeat(",", 994)},
	{"far too long", strings.Repeat("profile,", 1000)},

	{"unknown general permission", "profile_with_mail"},
	{"general permission in capitals", "Profile"},
	{"space-separated", "profile profile_with_email"},
	{"semicolon-separated", "profile;profile_with_email"},
	{"level without brackets", "location"},
	{"account without brackets", "account,profile"},
	{"permission outside brackets", "orders.read"},
	{"Storekey scope name", "read_orders"},

	{"unknown resource", "location[order.read]"},
	{"unknown access", "location[orders.delete]"},
	{"permission without access", "location[orders]"},
	{"permission with two dots", "location[orders.read.write]"},
	{"permission in capitals", "location[ORDERS.READ]"},
	{"space inside permission", "location[orders .read]"},
	{"space after dot", "location[orders. read]"},
	{"newline is not a space", "location[orders.read\n]"},
	{"general permission in brackets", "location[profile]"},
	{"empty resource", "location[.read]"},
	{"empty access", "location[orders.]"},
	{"unicode access", "location[orders.réad]"},
	{"NUL byte", "prof\x00ile"},
	{"invalid UTF-8", "\xff"},

	{"two levels", "location[orders.read],account[]"},
	{"same level twice", "location[],location[]"},
	{"account then location", "account[orders.read],location[]"},
	{"unknown level", "store[orders.read]"},
	{"level in capitals", "Location[orders.read]"},
	{"space before bracket", "location [orders.read]"},
	{"missing level", "[orders.read]"},

	{"unclosed bracket", "location["},
	{"unclosed with permission", "location[orders.read"},
	{"unclosed before general permission", "location[orders.read,profile"},
	{"lone closing bracket", "]"},
	{"closing bracket after general permission", "profile]"},
	{"extra closing bracket", "location[orders.read]]"},
	{"nested brackets", "location[[orders.read]]"},
	{"nested set", "location[orders.read,[catalog.read]]"},
	{"nested level", "account[location[orders.read]]"},
	{"missing comma after set", "location[orders.read]profile"},
	{"junk after set", "location[]x"},
	{"second set without comma", "location[]account[]"},
}

func TestParseHubRiseScope(t *testing.T) {
	for _, tt := range validHubRiseScopes {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHubRiseScope(tt.in)
			if err != nil {
				t.Fatalf("ParseHubRiseScope(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseHubRiseScope(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if s := got.String(); s != tt.canon {
				t.Errorf("String() = %q, want %q", s, tt.canon)
			}
		})
	}
}

func TestParseHubRiseScopeInvalid(t *testing.T) {
	for _, tt := range invalidHubRiseScopes {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHubRiseScope(tt.in)
			if err == nil {
				t.Fatalf("ParseHubRiseScope(%q) = %+v, want an error", tt.in, got)
			}
			checkHubRiseScopeError(t, tt.in, err)
			if diff := cmp.Diff(HubRiseScope{}, got); diff != "" {
				t.Errorf("ParseHubRiseScope(%q) returned a value with its error (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// checkHubRiseScopeError checks the contract of every error
// ParseHubRiseScope returns: an *oauth.Error with code invalid_scope and a
// description of printable ASCII (RFC 6749 §4.1.2.1), safe to send.
func checkHubRiseScopeError(t *testing.T, in string, err error) {
	t.Helper()
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		t.Fatalf("ParseHubRiseScope(%q) error %v (%T) is not an *oauth.Error", in, err, err)
	}
	if oe.Code != oauth.ErrInvalidScope {
		t.Errorf("ParseHubRiseScope(%q) error code = %q, want %q", in, oe.Code, oauth.ErrInvalidScope)
	}
	if oe.Description == "" {
		t.Errorf("ParseHubRiseScope(%q) error has no description", in)
	}
	for i := range len(oe.Description) {
		if c := oe.Description[i]; c < 0x20 || c > 0x7e {
			t.Errorf("ParseHubRiseScope(%q) description %q has byte %#x at %d, outside printable ASCII", in, oe.Description, c, i)
			break
		}
	}
}

func TestHubRiseScopeString(t *testing.T) {
	tests := []struct {
		name string
		h    HubRiseScope
		want string
	}{
		{"zero", HubRiseScope{}, ""},
		{"perms without level are not written", HubRiseScope{Perms: []HubRisePerm{{"orders", "read"}}, Profile: true}, "profile"},
		{"empty level set", HubRiseScope{Level: "location"}, "location[]"},
		{"everything", HubRiseScope{Level: "location", Perms: []HubRisePerm{{"orders", "read"}}, Profile: true, ProfileWithEmail: true},
			"location[orders.read],profile,profile_with_email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHubRiseScopeScopes(t *testing.T) {
	tests := []struct {
		in   string
		want oauth.Scopes
	}{
		{"profile", oauth.Scopes{"profile"}},
		{"profile_with_email", oauth.Scopes{"profile_with_email"}},
		{"profile,profile_with_email", oauth.Scopes{"profile", "profile_with_email"}},
		{"account[]", oauth.Scopes{}},
		{"account[],profile", oauth.Scopes{"profile"}},
		{"location[orders.read]", oauth.Scopes{"read_orders"}},
		{"location[orders.write]", oauth.Scopes{"write_orders"}},
		{"location[orders.write,customer_list.write]", oauth.Scopes{"write_customers", "write_orders"}},
		{"location[customer_list.read]", oauth.Scopes{"read_customers"}},
		{"location[all_customer_lists.read]", oauth.Scopes{"read_customers"}},
		{"location[all_customer_lists.write]", oauth.Scopes{"write_customers"}},
		{"location[customer_list.read,all_customer_lists.read]", oauth.Scopes{"read_customers"}},
		{"location[catalog.read]", oauth.Scopes{"read_products"}},
		{"location[catalog.write]", oauth.Scopes{"write_products"}},
		{"location[all_catalogs.read]", oauth.Scopes{"read_products"}},
		{"location[all_catalogs.write]", oauth.Scopes{"write_products"}},
		{"account[orders.read,orders.write],profile_with_email", oauth.Scopes{"profile_with_email", "read_orders", "write_orders"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := ParseHubRiseScope(tt.in)
			if err != nil {
				t.Fatalf("ParseHubRiseScope(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, h.Scopes()); diff != "" {
				t.Errorf("Scopes() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHubRiseScopeNeeds(t *testing.T) {
	type needs struct{ Location, Catalog, CustomerList bool }
	tests := []struct {
		in   string
		want needs
	}{
		{"profile", needs{}},
		{"account[]", needs{}},
		{"location[]", needs{Location: true}},
		{"location[orders.write]", needs{Location: true}},
		{"location[orders.write,customer_list.write]", needs{Location: true, CustomerList: true}},
		{"location[all_customer_lists.read]", needs{Location: true}},
		{"account[customer_list.read]", needs{CustomerList: true}},
		{"account[catalog.read]", needs{Catalog: true}},
		{"account[all_catalogs.write]", needs{}},
		{"account[catalog.read,all_catalogs.read]", needs{Catalog: true}},
		{"location[catalog.write,customer_list.read],profile", needs{Location: true, Catalog: true, CustomerList: true}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := ParseHubRiseScope(tt.in)
			if err != nil {
				t.Fatalf("ParseHubRiseScope(%q): %v", tt.in, err)
			}
			var got needs
			got.Location, got.Catalog, got.CustomerList = h.Needs()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Needs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHubRiseCatalog(t *testing.T) {
	c := HubRiseCatalog()
	want := []string{"read_orders", "write_orders", "read_customers", "write_customers",
		"read_products", "write_products", "profile", "profile_with_email"}
	if diff := cmp.Diff(want, c.Names()); diff != "" {
		t.Errorf("HubRiseCatalog().Names() mismatch (-want +got):\n%s", diff)
	}
	for _, s := range c {
		if s.Description == "" {
			t.Errorf("scope %q has no description", s.Name)
		}
	}
	// Every scope a HubRise scope can grant has a consent-page description.
	all := HubRiseScope{Level: "account", Perms: allHubRisePerms, Profile: true, ProfileWithEmail: true}
	if unknown := c.Unknown(all.Scopes()); len(unknown) != 0 {
		t.Errorf("Scopes() returns names missing from HubRiseCatalog: %v", unknown)
	}
}

// hubRiseFuzzCorpus seeds FuzzParseHubRiseScope beyond the test tables.
var hubRiseFuzzCorpus = []string{
	// Brackets in every wrong place.
	"[",
	"]",
	"[]",
	"][",
	"location[",
	"location]",
	"location][",
	"location[[]]",
	"location[]]",
	"location[[]",
	"location[orders.read,[catalog.read]],profile",
	"location[orders.read]],[",
	"account[orders.read],location[]",
	"account[],account[]",
	// Separators and spaces at the edges of every token.
	",",
	" , , ",
	"location[ , ]",
	"location[orders.read,,catalog.read,]",
	"\tlocation[\torders.read\t]\t,\tprofile\t",
	"location[orders.read] x",
	"location[orders..read]",
	"location[.]",
	"location[orders.read.]",
	// Near misses of every keyword.
	"profil",
	"profile_with_emails",
	"locations[orders.read]",
	"accounts[orders.read]",
	"location[order.read]",
	"location[orders.Read]",
	"location[customer_lists.read]",
	"location[all_catalog.read]",
	// Unicode and bytes that are not text.
	"location[orders.réad]",
	"ｌｏｃａｔｉｏｎ[orders.read]",
	"location［orders.read］",
	"profile\u00a0",
	"profile\u200b",
	"location[orders.read\x00]",
	"\xff\xfe",
	"location[\xc3]",
	// Long inputs around the length bound.
	strings.Repeat("location[", 200),
	strings.Repeat("]", 1000),
	"location[" + strings.Repeat("orders.read,", 82) + "]",
	"location[" + strings.Repeat("orders.read,", 83) + "]",
	strings.Repeat("x", 100),
}

// FuzzParseHubRiseScope checks ParseHubRiseScope's properties on any input:
// it never panics; every error is an invalid_scope *oauth.Error with a
// printable ASCII description; every success round-trips through its
// canonical form, which is a fixed point, and grants only scopes that
// HubRiseCatalog describes.
func FuzzParseHubRiseScope(f *testing.F) {
	for _, tt := range validHubRiseScopes {
		f.Add(tt.in)
	}
	for _, tt := range invalidHubRiseScopes {
		f.Add(tt.in)
	}
	for _, s := range hubRiseFuzzCorpus {
		f.Add(s)
	}
	catalog := HubRiseCatalog()
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHubRiseScope(s)
		if err != nil {
			checkHubRiseScopeError(t, s, err)
			return
		}
		if len(s) > maxHubRiseScopeLen {
			t.Errorf("ParseHubRiseScope accepted %d bytes, more than %d", len(s), maxHubRiseScopeLen)
		}
		canon := h.String()
		h2, err := ParseHubRiseScope(canon)
		if err != nil {
			t.Fatalf("ParseHubRiseScope(%q) = %+v, but its String() %q does not parse: %v", s, h, canon, err)
		}
		if diff := cmp.Diff(h, h2); diff != "" {
			t.Errorf("round trip of %q through %q changed the value (-first +second):\n%s", s, canon, diff)
		}
		if again := h2.String(); again != canon {
			t.Errorf("String() is not a fixed point: %q, then %q", canon, again)
		}
		if unknown := catalog.Unknown(h.Scopes()); len(unknown) != 0 {
			t.Errorf("ParseHubRiseScope(%q).Scopes() has names missing from HubRiseCatalog: %v", s, unknown)
		}
	})
}
