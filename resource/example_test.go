package resource_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/storekey/storekey/resource"
)

// A platform's orders service protects its API with tokens issued by
// Storekey: Middleware finds the token, an Introspector asks Storekey about
// it, and RequireScope guards each route.
func Example() {
	// Storekey's introspection endpoint, faked here so the example runs.
	storekey := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("token") == "ska_example" {
			io.WriteString(w, `{"active":true,"client_id":"app_1","store_id":"st_42","scope":"read_orders"}`)
			return
		}
		io.WriteString(w, `{"active":false}`)
	}))
	defer storekey.Close()

	// The service.
	validator := resource.NewIntrospector(resource.IntrospectorConfig{
		Endpoint:     storekey.URL, // e.g. https://auth.example.com/oauth/introspect
		ClientID:     "orders-service",
		ClientSecret: "its secret",
	})
	mux := http.NewServeMux()
	mux.Handle("GET /orders", resource.RequireScope("read_orders")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			p, _ := resource.FromContext(r.Context())
			fmt.Fprintf(w, "the orders of store %s", p.StoreID)
		})))
	mux.Handle("POST /orders", resource.RequireScope("write_orders")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })))
	service := httptest.NewServer(resource.Middleware(validator,
		resource.WithRealm("orders"),
		resource.WithHeader("X-Access-Token"), // for clients that send the token there
	)(mux))
	defer service.Close()

	// Its clients.
	for _, c := range []struct{ method, token string }{
		{"GET", "ska_example"},
		{"POST", "ska_example"},
		{"GET", "ska_revoked"},
		{"GET", ""},
	} {
		req, _ := http.NewRequest(c.method, service.URL+"/orders", strings.NewReader(""))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %q: %d %s", c.method, c.token, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))))
		if resp.StatusCode == http.StatusOK {
			fmt.Printf("  %s\n", body)
		}
	}
	// Output:
	// GET "ska_example": 200
	//   the orders of store st_42
	// POST "ska_example": 403 Bearer realm="orders", error="insufficient_scope", error_description="this request needs the write_orders scope", scope="write_orders"
	// GET "ska_revoked": 401 Bearer realm="orders", error="invalid_token", error_description="the access token is invalid, expired or revoked"
	// GET "": 401 Bearer realm="orders"
}

// Handlers behind Middleware can be tested without a token: NewContext puts
// a principal in the request's context as Middleware would.
func ExampleNewContext() {
	handler := resource.RequireScope("read_orders")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			p, _ := resource.FromContext(r.Context())
			fmt.Fprintf(w, "store %s", p.StoreID)
		}))

	p := &resource.Principal{Active: true, StoreID: "st_42", Scopes: []string{"write_orders"}}
	r := httptest.NewRequest("GET", "/orders", nil)
	r = r.WithContext(resource.NewContext(context.Background(), p))
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)
	// Output: 200 store st_42
}
