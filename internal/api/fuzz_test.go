package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// FuzzCreateProduct checks that any body sent to POST /api/v1/products is
// either refused with 400 or 413, or stored as a product that obeys the
// rules, in the token's store; never a 500.
func FuzzCreateProduct(f *testing.F) {
	for _, s := range []string{
		`{"name":"Espresso beans","sku":"ESP-1","price_cents":1250,"currency":"EUR"}`, // fine
		`{"name":" x ","price_cents":0,"currency":"eur"}`,                             // trimmed, upper-cased
		`{"name":"a","price_cents":-1,"currency":"EUR"}`,                              // negative
		`{"name":"a","price_cents":1.5,"currency":"EUR"}`,                             // fractional
		`{"name":"a","price_cents":1,"currency":"EUR","store_id":"st_b"}`,             // unknown member
		`{"name":"\u0000","price_cents":1,"currency":"EUR"}`,                          // control character
		`{"name":"a","price_cents":1,"currency":"EUR"} {}`,                            // trailing data
		`[]`, `null`, `"x"`, `{`, ``,
	} {
		f.Add(s)
	}
	h, _ := newAPI(f, dbtest.OpenSQLite(f))
	f.Fuzz(func(t *testing.T, body string) {
		w := serve(h, request{method: "POST", path: "/api/v1/products", token: "tok_write_a", ctype: "application/json", body: body})
		switch w.Code {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			return
		case http.StatusCreated:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		var got struct{ Data oauth.Product }
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		p := got.Data
		switch {
		case p.StoreID != storeA:
			t.Errorf("stored in %q", p.StoreID)
		case p.Name == "" || p.Name != strings.TrimSpace(p.Name) || utf8.RuneCountInString(p.Name) > 200:
			t.Errorf("name %q", p.Name)
		case strings.ContainsFunc(p.Name+p.SKU, unicode.IsControl):
			t.Errorf("control characters in %q, %q", p.Name, p.SKU)
		case p.PriceCents < 0 || p.PriceCents > maxAmount:
			t.Errorf("price %d", p.PriceCents)
		case len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency:
			t.Errorf("currency %q", p.Currency)
		}
	})
}
