package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
	"github.com/storekey/storekey/resource"
)

// backend is one implementation of oauth.SampleData the tests run against.
type backend struct {
	name string
	open func(testing.TB) oauth.SampleData // a fresh, empty one
}

// backends returns the real databases, migrated: SQLite and PostgreSQL.
func backends() []backend {
	var out []backend
	for _, b := range dbtest.Backends() {
		out = append(out, backend{b.Name, func(t testing.TB) oauth.SampleData { return b.Open(t) }})
	}
	return out
}

// forEachBackend runs f on every backend, seeded.
func forEachBackend(t *testing.T, f func(t *testing.T, data oauth.SampleData)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			data := b.open(t)
			seed(t, data)
			f(t, data)
		})
	}
}

const (
	storeA = "st_a"
	storeB = "st_b"
)

var (
	t0  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now = time.Date(2026, 3, 2, 10, 30, 0, 123456789, time.UTC)

	prodA1 = oauth.Product{ID: "prd_a1", StoreID: storeA, Name: "Espresso beans", SKU: "ESP-1", PriceCents: 1250, Currency: "EUR", CreatedAt: t0}
	prodA2 = oauth.Product{ID: "prd_a2", StoreID: storeA, Name: "Milk jug", PriceCents: 899, Currency: "EUR", CreatedAt: t0.Add(time.Minute)}
	prodB1 = oauth.Product{ID: "prd_b1", StoreID: storeB, Name: "Tea", SKU: "T-1", PriceCents: 400, Currency: "GBP", CreatedAt: t0.Add(2 * time.Minute)}
	custA1 = oauth.Customer{ID: "cus_a1", StoreID: storeA, Name: "Ada Lovelace", Email: "ada@example.com", CreatedAt: t0}
	custB1 = oauth.Customer{ID: "cus_b1", StoreID: storeB, Name: "Alan Turing", Email: "alan@example.com", CreatedAt: t0}
	ordA1  = oauth.Order{ID: "ord_a1", StoreID: storeA, CustomerID: "cus_a1", Status: "paid", TotalCents: 2149, Currency: "EUR", CreatedAt: t0.Add(time.Hour)}
)

// seed gives store A two products, a customer and an order, and store B a
// product and a customer.
func seed(t *testing.T, data oauth.SampleData) {
	t.Helper()
	ctx := t.Context()
	for _, p := range []oauth.Product{prodA1, prodA2, prodB1} {
		must(t, data.CreateProduct(ctx, &p))
	}
	for _, c := range []oauth.Customer{custA1, custB1} {
		must(t, data.CreateCustomer(ctx, &c))
	}
	must(t, data.CreateOrder(ctx, &ordA1))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The tokens the fake validator knows; the authorization server is a true
// external of this package.
var principals = map[string]*resource.Principal{
	"tok_read_a":  {Active: true, AppID: "app_1", StoreID: storeA, UserID: "usr_1", GrantID: "gr_1", Scopes: []string{"read_products", "read_customers", "read_orders"}},
	"tok_write_a": {Active: true, AppID: "app_1", StoreID: storeA, UserID: "usr_1", GrantID: "gr_2", Scopes: []string{"write_products", "write_customers", "write_orders"}},
	"tok_b":       {Active: true, AppID: "app_1", StoreID: storeB, UserID: "usr_1", GrantID: "gr_3", Scopes: []string{"write_products", "read_customers", "read_orders"}},
	"tok_none_a":  {Active: true, AppID: "app_1", StoreID: storeA, UserID: "usr_1", GrantID: "gr_4", Scopes: []string{"profile"}},
	"tok_app":     {Active: true, AppID: "app_2", Scopes: []string{"write_orders", "read_products"}},
	"tok_loc": {
		Active: true, AppID: "app_3", StoreID: storeA, UserID: "usr_1", GrantID: "gr_5",
		Scopes: []string{"write_orders", "read_catalog"}, ExpiresAt: t0.Add(24 * time.Hour),
		LocationID: "loc_1", CatalogID: "cat_1", CustomerListID: "cl_1",
	},
}

var validator = resource.ValidatorFunc(func(_ context.Context, token string) (*resource.Principal, error) {
	if p, ok := principals[token]; ok {
		return p, nil
	}
	return nil, resource.ErrInvalidToken
})

func newAPI(t testing.TB, data oauth.SampleData) (fasthttp.RequestHandler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	return New(data, validator, Options{
		TokenHeaders: []string{"X-Access-Token"},
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		Now:          func() time.Time { return now },
	}).Handler, &logs
}

// request is one request to the API. The content type defaults to
// application/json when there is a body; "-" sends none.
type request struct {
	method, path, token string
	ctype, body         string
	header              http.Header
}

// serve sends rq to h in process, as fasthttp's server would hand it over,
// and records the answer as httptest does.
func serve(h fasthttp.RequestHandler, rq request) *httptest.ResponseRecorder {
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(rq.path)
	req.Header.SetHost("example.com")
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	switch {
	case rq.ctype == "-": // none at all
	case rq.ctype != "":
		req.Header.SetContentType(rq.ctype)
	case rq.body != "":
		req.Header.SetContentType("application/json")
	}
	for k, vs := range rq.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.SetBodyString(rq.body)
	var c fasthttp.RequestCtx
	c.Init(&req, nil, nil)
	h(&c)

	w := httptest.NewRecorder()
	for k, v := range c.Response.Header.All() {
		w.Header().Add(string(k), string(v))
	}
	w.WriteHeader(c.Response.StatusCode())
	_, _ = w.Write(c.Response.Body())
	return w
}

func decodeBody[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var v T
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
	return v
}

type dataOf[T any] struct {
	Data T `json:"data"`
}

func TestAuthorization(t *testing.T) {
	h, _ := newAPI(t, dbtest.OpenSQLite(t))
	const challenge = `Bearer realm="storekey"`
	tests := []struct {
		name   string
		rq     request
		status int
		code   string // the body's error; "" for success
		www    string
	}{
		{
			name: "no token", rq: request{path: "/api/v1/products"},
			status: 401, code: "invalid_request", www: challenge,
		},
		{
			name: "unknown token", rq: request{path: "/api/v1/products", token: "tok_nope"},
			status: 401, code: "invalid_token",
			www: challenge + `, error="invalid_token", error_description="the access token is invalid, expired or revoked"`,
		},
		{
			name: "token in the query", rq: request{path: "/api/v1/products?access_token=tok_read_a"},
			status: 400, code: "invalid_request",
			www: challenge + `, error="invalid_request", error_description="access tokens are not accepted in the query string; send an Authorization: Bearer header"`,
		},
		{
			name: "X-Access-Token header", rq: request{path: "/api/v1/products", header: http.Header{"X-Access-Token": {"tok_read_a"}}},
			status: 200,
		},
		{
			name: "read scope cannot write", rq: request{method: "POST", path: "/api/v1/products", token: "tok_read_a", body: `{}`},
			status: 403, code: "insufficient_scope",
			www: challenge + `, error="insufficient_scope", error_description="this request needs the write_products scope", scope="write_products"`,
		},
		{
			name: "no scope for customers", rq: request{path: "/api/v1/customers", token: "tok_none_a"},
			status: 403, code: "insufficient_scope",
			www: challenge + `, error="insufficient_scope", error_description="this request needs the read_customers scope", scope="read_customers"`,
		},
		{
			name: "write implies read", rq: request{path: "/api/v1/orders", token: "tok_write_a"},
			status: 200,
		},
		{
			name: "app-level token has no store", rq: request{path: "/api/v1/products", token: "tok_app"},
			status: 403, code: "insufficient_scope",
			www: challenge + `, error="insufficient_scope", error_description="this request needs a token bound to a store; app-level (client_credentials) tokens have none"`,
		},
		{
			name: "app-level token, store endpoint", rq: request{path: "/api/v1/store", token: "tok_app"},
			status: 403, code: "insufficient_scope",
			www: challenge + `, error="insufficient_scope", error_description="this request needs a token bound to a store; app-level (client_credentials) tokens have none"`,
		},
		{
			name: "app-level token, me", rq: request{path: "/api/v1/me", token: "tok_app"},
			status: 200,
		},
		{
			name: "any store token reads the store", rq: request{path: "/api/v1/store", token: "tok_none_a"},
			status: 200,
		},
		{
			name: "unknown path", rq: request{path: "/api/v1/refunds", token: "tok_read_a"},
			status: 404, code: "not_found",
		},
		{
			name: "unknown path, no token", rq: request{path: "/api/v1/"},
			status: 404, code: "not_found",
		},
		{
			name: "another version", rq: request{path: "/api/v2/products", token: "tok_read_a"},
			status: 404, code: "not_found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(h, tt.rq)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.www)
			}
			if tt.code != "" {
				if got := decodeBody[errorBody](t, w); got.Error != tt.code {
					t.Errorf("error = %q, want %q", got.Error, tt.code)
				}
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h, _ := newAPI(t, dbtest.OpenSQLite(t))
	tests := []struct {
		method, path, allow string
	}{
		{"DELETE", "/api/v1/products", "GET, HEAD, POST"},
		{"PUT", "/api/v1/orders", "GET, HEAD, POST"},
		{"POST", "/api/v1/store", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := serve(h, request{method: tt.method, path: tt.path, token: "tok_write_a"})
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("status = %d, want 405", w.Code)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if got := decodeBody[errorBody](t, w); got.Error != "method_not_allowed" {
				t.Errorf("error = %q", got.Error)
			}
		})
	}
}

func TestList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, data oauth.SampleData) {
		h, _ := newAPI(t, data)
		tests := []struct {
			path, token string
			want        any // a pointer to the expected data, whose type is decoded
		}{
			{"/api/v1/products", "tok_read_a", &[]oauth.Product{prodA1, prodA2}},
			{"/api/v1/products", "tok_write_a", &[]oauth.Product{prodA1, prodA2}},
			{"/api/v1/products?limit=1", "tok_read_a", &[]oauth.Product{prodA1}},
			{"/api/v1/products?limit=100", "tok_read_a", &[]oauth.Product{prodA1, prodA2}},
			{"/api/v1/products", "tok_b", &[]oauth.Product{prodB1}},
			{"/api/v1/customers", "tok_read_a", &[]oauth.Customer{custA1}},
			{"/api/v1/customers", "tok_b", &[]oauth.Customer{custB1}},
			{"/api/v1/orders", "tok_read_a", &[]oauth.Order{ordA1}},
			{"/api/v1/orders", "tok_b", &[]oauth.Order{}},
		}
		for _, tt := range tests {
			t.Run(tt.path+" "+tt.token, func(t *testing.T) {
				w := serve(h, request{path: tt.path, token: tt.token})
				if w.Code != http.StatusOK {
					t.Fatalf("status = %d; body %s", w.Code, w.Body)
				}
				raw := w.Body.String()
				var got any
				switch tt.want.(type) {
				case *[]oauth.Product:
					d := decodeBody[dataOf[[]oauth.Product]](t, w).Data
					got = &d
				case *[]oauth.Customer:
					d := decodeBody[dataOf[[]oauth.Customer]](t, w).Data
					got = &d
				case *[]oauth.Order:
					d := decodeBody[dataOf[[]oauth.Order]](t, w).Data
					got = &d
				}
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("data (-want +got):\n%s", diff)
				}
				if strings.Contains(raw, "null") {
					t.Errorf("body has a null: %s", raw)
				}
			})
		}
	})
}

func TestListLimit(t *testing.T) {
	h, _ := newAPI(t, dbtest.OpenSQLite(t))
	for _, q := range []string{"0", "-1", "101", "ten", "1.5", ""} {
		t.Run(q, func(t *testing.T) {
			w := serve(h, request{path: "/api/v1/products?limit=" + q, token: "tok_read_a"})
			want := http.StatusBadRequest
			if q == "" {
				want = http.StatusOK
			}
			if w.Code != want {
				t.Errorf("status = %d, want %d", w.Code, want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	created := now.Truncate(time.Microsecond)
	forEachBackend(t, func(t *testing.T, data oauth.SampleData) {
		h, _ := newAPI(t, data)
		tests := []struct {
			name   string
			rq     request
			want   any    // the created record, its ID ignored
			prefix string // of its ID
		}{
			{
				name: "product",
				rq: request{method: "POST", path: "/api/v1/products", token: "tok_write_a",
					body: `{"name":"  Filter papers ","sku":"FP-100","price_cents":0,"currency":"eur"}`},
				want:   &oauth.Product{StoreID: storeA, Name: "Filter papers", SKU: "FP-100", PriceCents: 0, Currency: "EUR", CreatedAt: created},
				prefix: "prd_",
			},
			{
				name: "product in the token's store only",
				rq: request{method: "POST", path: "/api/v1/products", token: "tok_b",
					ctype: "application/json; charset=utf-8",
					body:  `{"name":"Matcha – 抹茶","price_cents":1999,"currency":"GBP"}`},
				want:   &oauth.Product{StoreID: storeB, Name: "Matcha – 抹茶", PriceCents: 1999, Currency: "GBP", CreatedAt: created},
				prefix: "prd_",
			},
			{
				name: "customer",
				rq: request{method: "POST", path: "/api/v1/customers", token: "tok_write_a",
					body: `{"name":"Grace Hopper","email":"grace@example.com"}`},
				want:   &oauth.Customer{StoreID: storeA, Name: "Grace Hopper", Email: "grace@example.com", CreatedAt: created},
				prefix: "cus_",
			},
			{
				name: "order, pending by default",
				rq: request{method: "POST", path: "/api/v1/orders", token: "tok_write_a",
					body: `{"customer_id":"cus_a1","total_cents":2500,"currency":"EUR"}`},
				want:   &oauth.Order{StoreID: storeA, CustomerID: "cus_a1", Status: "pending", TotalCents: 2500, Currency: "EUR", CreatedAt: created},
				prefix: "ord_",
			},
			{
				name: "order with a status, no customer",
				rq: request{method: "POST", path: "/api/v1/orders", token: "tok_write_a",
					body: `{"status":"fulfilled","total_cents":0,"currency":"USD"}`},
				want:   &oauth.Order{StoreID: storeA, Status: "fulfilled", Currency: "USD", CreatedAt: created},
				prefix: "ord_",
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := serve(h, tt.rq)
				if w.Code != http.StatusCreated {
					t.Fatalf("status = %d; body %s", w.Code, w.Body)
				}
				// The answer holds the record, and the store's list now has
				// it.
				list := serve(h, request{path: tt.rq.path + "?limit=100", token: "tok_write_a"})
				if tt.rq.token == "tok_b" {
					list = serve(h, request{path: tt.rq.path + "?limit=100", token: "tok_b"})
				}
				var got, listed any
				var id string
				switch tt.want.(type) {
				case *oauth.Product:
					p := decodeBody[dataOf[oauth.Product]](t, w).Data
					l := decodeBody[dataOf[[]oauth.Product]](t, list).Data
					got, listed, id = &p, find(l, func(v oauth.Product) bool { return v.ID == p.ID }), p.ID
				case *oauth.Customer:
					c := decodeBody[dataOf[oauth.Customer]](t, w).Data
					l := decodeBody[dataOf[[]oauth.Customer]](t, list).Data
					got, listed, id = &c, find(l, func(v oauth.Customer) bool { return v.ID == c.ID }), c.ID
				case *oauth.Order:
					o := decodeBody[dataOf[oauth.Order]](t, w).Data
					l := decodeBody[dataOf[[]oauth.Order]](t, list).Data
					got, listed, id = &o, find(l, func(v oauth.Order) bool { return v.ID == o.ID }), o.ID
				}
				opts := cmp.Options{
					cmpopts.IgnoreFields(oauth.Product{}, "ID"),
					cmpopts.IgnoreFields(oauth.Customer{}, "ID"),
					cmpopts.IgnoreFields(oauth.Order{}, "ID"),
				}
				if diff := cmp.Diff(tt.want, got, opts); diff != "" {
					t.Errorf("created (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(got, listed); diff != "" {
					t.Errorf("in the list (-answered +listed):\n%s", diff)
				}
				if !strings.HasPrefix(id, tt.prefix) || len(id) < len(tt.prefix)+8 {
					t.Errorf("id = %q, want a random id with prefix %q", id, tt.prefix)
				}
			})
		}

		// Store A's products did not gain store B's.
		w := serve(h, request{path: "/api/v1/products?limit=100", token: "tok_read_a"})
		for _, p := range decodeBody[dataOf[[]oauth.Product]](t, w).Data {
			if p.StoreID != storeA {
				t.Errorf("store A lists %+v", p)
			}
		}
	})
}

// find returns a pointer to the element of list that matches, or nil.
func find[T any](list []T, match func(T) bool) *T {
	for i := range list {
		if match(list[i]) {
			return &list[i]
		}
	}
	return nil
}

func TestCreateRefused(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		path   string
		ctype  string
		body   string
		status int
	}{
		{"missing name", "products", "", `{"price_cents":100,"currency":"EUR"}`, 400},
		{"blank name", "products", "", `{"name":"   ","price_cents":100,"currency":"EUR"}`, 400},
		{"null name", "products", "", `{"name":null,"price_cents":100,"currency":"EUR"}`, 400},
		{"name too long", "products", "", `{"name":"` + long(201) + `","price_cents":100,"currency":"EUR"}`, 400},
		{"name with a control character", "products", "", `{"name":"a\u0007b","price_cents":100,"currency":"EUR"}`, 400},
		{"name not a string", "products", "", `{"name":7,"price_cents":100,"currency":"EUR"}`, 400},
		{"sku too long", "products", "", `{"name":"a","sku":"` + long(65) + `","price_cents":100,"currency":"EUR"}`, 400},
		{"negative price", "products", "", `{"name":"a","price_cents":-1,"currency":"EUR"}`, 400},
		{"fractional price", "products", "", `{"name":"a","price_cents":12.5,"currency":"EUR"}`, 400},
		{"price as a string", "products", "", `{"name":"a","price_cents":"12","currency":"EUR"}`, 400},
		{"price overflows", "products", "", `{"name":"a","price_cents":1e30,"currency":"EUR"}`, 400},
		{"price too large", "products", "", `{"name":"a","price_cents":1000000000001,"currency":"EUR"}`, 400},
		{"missing price", "products", "", `{"name":"a","currency":"EUR"}`, 400},
		{"missing currency", "products", "", `{"name":"a","price_cents":1}`, 400},
		{"currency too long", "products", "", `{"name":"a","price_cents":1,"currency":"EURO"}`, 400},
		{"currency not letters", "products", "", `{"name":"a","price_cents":1,"currency":"E1R"}`, 400},
		{"unknown member", "products", "", `{"name":"a","price_cents":1,"currency":"EUR","store_id":"st_b"}`, 400},
		{"an array", "products", "", `[{"name":"a","price_cents":1,"currency":"EUR"}]`, 400},
		{"a string", "products", "", `"hello"`, 400},
		{"null", "products", "", `null`, 400},
		{"empty body", "products", "application/json", ``, 400},
		{"cut short", "products", "", `{"name":"a","price_cents":`, 400},
		{"syntax error", "products", "", `{"name":'a'}`, 400},
		{"two objects", "products", "", `{"name":"a","price_cents":1,"currency":"EUR"}{"name":"b","price_cents":1,"currency":"EUR"}`, 400},
		{"trailing garbage", "products", "", `{"name":"a","price_cents":1,"currency":"EUR"} x`, 400},
		{"too large", "products", "", `{"name":"a","price_cents":1,"currency":"EUR","sku":"` + long(MaxBodyBytes) + `"}`, 413},
		{"too large after the object", "products", "", `{"name":"a","price_cents":1,"currency":"EUR"}` + strings.Repeat(" ", MaxBodyBytes), 413},
		{"text/plain", "products", "text/plain", `{"name":"a","price_cents":1,"currency":"EUR"}`, 415},
		{"form", "products", "application/x-www-form-urlencoded", `name=a`, 415},
		{"no content type", "products", "-", `{"name":"a","price_cents":1,"currency":"EUR"}`, 415},
		{"malformed content type", "products", "application/json; charset", `{"name":"a","price_cents":1,"currency":"EUR"}`, 415},
		{"missing email", "customers", "", `{"name":"Ada"}`, 400},
		{"not an email", "customers", "", `{"name":"Ada","email":"ada"}`, 400},
		{"email with a display name", "customers", "", `{"name":"Ada","email":"Ada <ada@example.com>"}`, 400},
		{"email too long", "customers", "", `{"name":"Ada","email":"` + long(250) + `@example.com"}`, 400},
		{"unknown status", "orders", "", `{"status":"shipped","total_cents":1,"currency":"EUR"}`, 400},
		{"negative total", "orders", "", `{"total_cents":-5,"currency":"EUR"}`, 400},
		{"customer id too long", "orders", "", `{"customer_id":"` + long(65) + `","total_cents":1,"currency":"EUR"}`, 400},
	}
	forEachBackend(t, func(t *testing.T, data oauth.SampleData) {
		h, logs := newAPI(t, data)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				rq := request{method: "POST", path: "/api/v1/" + tt.path, token: "tok_write_a", ctype: tt.ctype, body: tt.body}
				w := serve(h, rq)
				if w.Code != tt.status {
					t.Errorf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
				}
				got := decodeBody[errorBody](t, w)
				if got.Error != "invalid_request" || got.Description == "" {
					t.Errorf("body = %+v, want invalid_request with a description", got)
				}
			})
		}
		// Nothing was created.
		for path, want := range map[string]int{"products": 2, "customers": 1, "orders": 1} {
			w := serve(h, request{path: "/api/v1/" + path + "?limit=100", token: "tok_read_a"})
			if got := len(decodeBody[dataOf[[]json.RawMessage]](t, w).Data); got != want {
				t.Errorf("%s: %d records, want %d", path, got, want)
			}
		}
		if logs.Len() != 0 {
			t.Errorf("refusals were logged as failures:\n%s", logs)
		}
	})
}

func TestTokenEndpoints(t *testing.T) {
	h, _ := newAPI(t, dbtest.OpenSQLite(t))
	expires := t0.Add(24 * time.Hour).UTC().Format(time.RFC3339Nano)
	tests := []struct {
		path, token string
		want        tokenView
	}{
		{
			path: "/api/v1/store", token: "tok_loc",
			want: tokenView{
				StoreID: storeA, AppID: "app_3", UserID: "usr_1", GrantID: "gr_5",
				Scopes: []string{"read_catalog", "write_orders"}, ExpiresAt: expires,
				LocationID: "loc_1", CatalogID: "cat_1", CustomerListID: "cl_1",
			},
		},
		{
			path: "/api/v1/store", token: "tok_none_a",
			want: tokenView{StoreID: storeA, AppID: "app_1", UserID: "usr_1", GrantID: "gr_4", Scopes: []string{"profile"}},
		},
		{
			path: "/api/v1/me", token: "tok_app",
			want: tokenView{AppID: "app_2", Scopes: []string{"read_products", "write_orders"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.token, func(t *testing.T) {
			w := serve(h, request{path: tt.path, token: tt.token})
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d; body %s", w.Code, w.Body)
			}
			if diff := cmp.Diff(tt.want, decodeBody[dataOf[tokenView]](t, w).Data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

// failingData fails every call with err.
type failingData struct{ err error }

func (f failingData) Products(context.Context, string, int) ([]oauth.Product, error) {
	return nil, f.err
}
func (f failingData) CreateProduct(context.Context, *oauth.Product) error { return f.err }
func (f failingData) Customers(context.Context, string, int) ([]oauth.Customer, error) {
	return nil, f.err
}
func (f failingData) CreateCustomer(context.Context, *oauth.Customer) error { return f.err }
func (f failingData) Orders(context.Context, string, int) ([]oauth.Order, error) {
	return nil, f.err
}
func (f failingData) CreateOrder(context.Context, *oauth.Order) error { return f.err }

func TestDataFailures(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.5:5432: connection refused")
	tests := []struct {
		name   string
		err    error
		rq     request
		status int
		code   string
		logged bool
	}{
		{"list fails", secret, request{path: "/api/v1/orders", token: "tok_read_a"}, 500, "server_error", true},
		{"create fails", fmt.Errorf("create: %w", secret),
			request{method: "POST", path: "/api/v1/customers", token: "tok_write_a", body: `{"name":"A","email":"a@example.com"}`},
			500, "server_error", true},
		{"conflict", fmt.Errorf("create product: %w", oauth.ErrConflict),
			request{method: "POST", path: "/api/v1/products", token: "tok_write_a", body: `{"name":"A","price_cents":1,"currency":"EUR"}`},
			409, "conflict", false},
		{"missing reference", fmt.Errorf("create order: %w", oauth.ErrNotFound),
			request{method: "POST", path: "/api/v1/orders", token: "tok_write_a", body: `{"customer_id":"cus_zz","total_cents":1,"currency":"EUR"}`},
			400, "invalid_request", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newAPI(t, failingData{tt.err})
			w := serve(h, tt.rq)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			body := w.Body.String()
			if strings.Contains(body, "10.0.0.5") {
				t.Errorf("body leaks the cause: %s", body)
			}
			got := decodeBody[errorBody](t, w)
			if got.Error != tt.code {
				t.Errorf("error = %q, want %q", got.Error, tt.code)
			}
			if tt.logged {
				if !strings.Contains(logs.String(), "10.0.0.5") {
					t.Errorf("the cause was not logged: %q", logs)
				}
				// The request id in the answer is the one in the log.
				_, id, _ := strings.Cut(got.Description, "request id ")
				id = strings.TrimSuffix(id, ")")
				if id == "" || !strings.Contains(logs.String(), "request_id="+id) {
					t.Errorf("request id %q of %q not in the log %q", id, got.Description, logs)
				}
			}
		})
	}
	t.Run("the server's request id", func(t *testing.T) {
		// Behind Storekey's server, the id named is the X-Request-Id its
		// middleware set on the answer.
		h, logs := newAPI(t, failingData{secret})
		w := serve(func(c *fasthttp.RequestCtx) {
			c.Response.Header.Set("X-Request-Id", "9c68df6dbab44e8a")
			h(c)
		}, request{path: "/api/v1/orders", token: "tok_read_a"})
		if got := decodeBody[errorBody](t, w); !strings.Contains(got.Description, "(request id 9c68df6dbab44e8a)") ||
			!strings.Contains(logs.String(), "request_id=9c68df6dbab44e8a") {
			t.Errorf("answer %q, log %q: want the server's request id", got.Description, logs)
		}
	})
}
