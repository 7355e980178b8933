package server_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekey/storekey/internal/server"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// TestMetadata: the RFC 8414 document names every endpoint and what they
// support.
func TestMetadata(t *testing.T) {
	e := newEnv(t, dbtest.Backends()[0], nil)
	res, err := http.Get(e.srv.URL + "/.well-known/oauth-authorization-server")
	must(t, err)
	defer res.Body.Close()
	var m map[string]any
	must(t, json.NewDecoder(res.Body).Decode(&m))
	iss := e.svc.Config().Issuer
	for k, want := range map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/oauth/authorize", "token_endpoint": iss + "/oauth/token",
		"revocation_endpoint": iss + "/oauth/revoke", "introspection_endpoint": iss + "/oauth/introspect",
		"authorization_response_iss_parameter_supported": true,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	for k, want := range map[string]string{
		"grant_types_supported": "authorization_code refresh_token client_credentials", "response_types_supported": "code",
		"code_challenge_methods_supported": "S256", "token_endpoint_auth_methods_supported": "client_secret_basic client_secret_post none",
	} {
		var got []string
		for _, v := range m[k].([]any) {
			got = append(got, v.(string))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s = %v, want %s", k, got, want)
		}
	}
	if scopes, _ := m["scopes_supported"].([]any); len(scopes) != 14 {
		t.Errorf("scopes_supported = %v", m["scopes_supported"])
	}
}

// TestHealthAndMetrics: liveness, readiness, and the Prometheus series by
// route and status, tokens issued, and OAuth errors by code.
func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, dbtest.Backends()[0], nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(e.srv.URL + p)
		must(t, err)
		_ = res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, e.app.ID, e.secret)
	e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, e.app.ID, "sks_wrong")
	e.api(http.MethodGet, "/api/v1/products", "", "")
	e.api(http.MethodGet, "/api/v1/nothing", "", "")
	e.post("/oauth/introspect", url.Values{"token": {"ska_unknown"}}, e.app.ID, e.secret)
	e.post("/oauth/introspect", url.Values{"token": {"ska_unknown"}}, e.app.ID, "sks_wrong")
	res, err := http.Get(e.srv.URL + "/metrics")
	must(t, err)
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	for _, want := range []string{
		`storekey_http_requests_total{code="200",endpoint="POST /oauth/token"} 1`,
		`storekey_http_requests_total{code="401",endpoint="POST /oauth/token"} 1`,
		`storekey_http_request_duration_seconds_count{endpoint="POST /oauth/token"} 2`,
		`storekey_tokens_issued_total{grant_type="client_credentials"} 1`,
		`storekey_oauth_errors_total{endpoint="POST /oauth/token",error="invalid_client"} 1`,
		`storekey_tokens_revoked_total 0`,
		// The sample API's routes are counted one by one.
		`storekey_http_requests_total{code="401",endpoint="GET /api/v1/products"} 1`,
		`storekey_http_requests_total{code="404",endpoint="/api/"} 1`,
		// So is introspection, served natively like the API.
		`storekey_http_requests_total{code="200",endpoint="POST /oauth/introspect"} 1`,
		`storekey_http_requests_total{code="401",endpoint="POST /oauth/introspect"} 1`,
		`storekey_oauth_errors_total{endpoint="POST /oauth/introspect",error="invalid_client"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), e.secret) {
		t.Error("/metrics shows a secret")
	}
}

// TestRequestIDs: every answer names its request, on the routes served
// natively and on those bridged to net/http, each id its own.
func TestRequestIDs(t *testing.T) {
	e := newEnv(t, dbtest.Backends()[0], nil)
	seen := map[string]bool{}
	for _, rq := range []struct{ method, path, body string }{
		{"GET", "/healthz", ""},
		{"POST", "/oauth/introspect", "token=x"},
		{"GET", "/api/v1/store", ""},
		{"GET", "/no/such/page", ""},
	} {
		req, err := http.NewRequest(rq.method, e.srv.URL+rq.path, strings.NewReader(rq.body))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		must(t, err)
		_ = res.Body.Close()
		id := res.Header.Get("X-Request-Id")
		if len(id) != 16 || seen[id] {
			t.Errorf("%s %s: X-Request-Id %q", rq.method, rq.path, id)
		}
		seen[id] = true
	}
}

// TestProtocolErrors: a request too large to read is refused in JSON, with
// the status that says why, and the server goes on answering.
func TestProtocolErrors(t *testing.T) {
	e := newEnv(t, dbtest.Backends()[0], nil)
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"headers too large", func() *http.Request {
			req, _ := http.NewRequest("GET", e.srv.URL+"/healthz", nil)
			req.Header.Set("X-Filler", strings.Repeat("a", 40<<10))
			return req
		}, http.StatusRequestHeaderFieldsTooLarge},
		{"body too large", func() *http.Request {
			req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", strings.NewReader(strings.Repeat("a", 2<<20)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := http.DefaultClient.Do(tt.req())
			must(t, err)
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode != tt.status || res.Header.Get("Content-Type") != "application/json;charset=UTF-8" ||
				!strings.Contains(string(body), `"error":"invalid_request"`) {
				t.Errorf("%d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
			}
		})
	}
	res, err := http.Get(e.srv.URL + "/healthz")
	must(t, err)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("after: /healthz %d", res.StatusCode)
	}
}

// TestRateLimit: past its burst, a client at one address gets 429
// slow_down with Retry-After at the token, revocation and introspection
// endpoints, each counted apart.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, dbtest.Backends()[0], nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	limited := serve(t, ln, server.New(e.svc, e.db, server.Options{RateLimit: 0.001, RateBurst: 2}))
	for _, rq := range []struct {
		path string
		form url.Values
	}{
		{"/oauth/token", url.Values{"grant_type": {"client_credentials"}}},
		{"/oauth/introspect", url.Values{"token": {"ska_unknown"}}},
		{"/oauth/revoke", url.Values{"token": {"ska_unknown"}}},
	} {
		for i := range 3 {
			req, _ := http.NewRequest(http.MethodPost, limited.URL+rq.path, strings.NewReader(rq.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(e.app.ID, e.secret)
			res, err := http.DefaultClient.Do(req)
			must(t, err)
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			switch {
			case i < 2 && res.StatusCode != http.StatusOK:
				t.Errorf("%s #%d: %d %s, want 200", rq.path, i+1, res.StatusCode, body)
			case i == 2 && (res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "1" ||
				!strings.Contains(string(body), `"error":"slow_down"`)):
				t.Errorf("%s #%d: %d %q %s, want 429 slow_down", rq.path, i+1, res.StatusCode, res.Header.Get("Retry-After"), body)
			}
		}
	}
}
