package oauth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   string
		want Scopes
	}{
		{"", Scopes{}},
		{"read_products", Scopes{"read_products"}},
		{"read_products write_orders", Scopes{"read_products", "write_orders"}},
		{"write_orders,read_customers", Scopes{"read_customers", "write_orders"}},
		{" a ,, b  a ", Scopes{"a", "b"}},
	}
	for _, tt := range tests {
		if got := ParseScopes(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("ParseScopes(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestScopesHas(t *testing.T) {
	s := NewScopes("write_products", "read_orders")
	for name, want := range map[string]bool{
		"write_products": true, "read_products": true, "read_orders": true,
		"write_orders": false, "read_customers": false, "products": false, "read_": false,
	} {
		if got := s.Has(name); got != want {
			t.Errorf("%v.Has(%q) = %v, want %v", s, name, got, want)
		}
	}
	if !s.Covers(NewScopes("read_products", "read_orders")) {
		t.Error("Covers: write_products must imply read_products")
	}
	if s.Covers(NewScopes("write_orders")) {
		t.Error("Covers: read_orders must not imply write_orders")
	}
	if diff := cmp.Diff(Scopes{"write_orders"}, s.Missing(NewScopes("read_products", "write_orders"))); diff != "" {
		t.Errorf("Missing: %s", diff)
	}
}

func TestDefaultCatalog(t *testing.T) {
	c := DefaultCatalog()
	for _, area := range []string{"products", "customers", "orders", "sales", "inventory", "reports", "settings"} {
		for _, p := range []string{"read_", "write_"} {
			info, ok := c.Lookup(p + area)
			if !ok || info.Description == "" {
				t.Errorf("catalog lacks %s%s with a description", p, area)
			}
		}
	}
	if u := c.Unknown(NewScopes("read_products", "fly")); !cmp.Equal(u, Scopes{"fly"}) {
		t.Errorf("Unknown = %v", u)
	}
}

// FuzzParseScopes checks that parsing is a normalisation: the result is
// sorted and unique, holds no separators, and parsing its string form gives
// it back.
func FuzzParseScopes(f *testing.F) {
	for _, seed := range []string{
		"",                           // nothing
		"read_products",              // one
		"read_products write_orders", // RFC 6749 spaces
		"write_orders,read_customers",
		"a,,b  a", // empties and repeats
		"location[orders.write,customer_list.read],profile", // HubRise grammar, split naively
		"\x00,\t ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := ParseScopes(in)
		for i, n := range s {
			if n == "" || strings.ContainsAny(n, " ,") {
				t.Fatalf("scope %q holds a separator", n)
			}
			if i > 0 && s[i-1] >= n {
				t.Fatalf("not sorted and unique: %q", s)
			}
			if !s.Has(n) {
				t.Fatalf("%v does not have its own %q", s, n)
			}
		}
		if again := ParseScopes(s.String()); !cmp.Equal(again, s, cmp.Comparer(func(a, b Scopes) bool { return strings.Join(a, " ") == strings.Join(b, " ") })) {
			t.Fatalf("round trip: %q -> %q", s, again)
		}
	})
}
