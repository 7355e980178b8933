package resource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeValidator knows a few tokens; it is the authorization server, a true
// external of this package.
type fakeValidator map[string]*Principal

func (f fakeValidator) Validate(_ context.Context, token string) (*Principal, error) {
	switch token {
	case "broken":
		return nil, errors.New("database is down")
	case "nothing":
		return nil, nil
	}
	p, ok := f[token]
	if !ok {
		return nil, ErrInvalidToken
	}
	return p, nil
}

var (
	storeToken = &Principal{
		Active:    true,
		AppID:     "app_1",
		StoreID:   "st_1",
		UserID:    "usr_1",
		GrantID:   "gr_1",
		Scopes:    []string{"read_orders", "write_products"},
		ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	appToken      = &Principal{Active: true, AppID: "app_2", Scopes: []string{"read_products"}}
	inactiveToken = &Principal{Active: false, AppID: "app_1"}
	validator     = fakeValidator{"good": storeToken, "good2": storeToken, "app": appToken, "off": inactiveToken}
)

// seen is a handler that records the principal it was given.
type seen struct{ p *Principal }

func (s *seen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.p, _ = FromContext(r.Context())
	w.WriteHeader(http.StatusNoContent)
}

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		header   http.Header
		opts     []Option
		status   int
		www      string // the WWW-Authenticate challenge
		body     *errorBody
		want     *Principal
		logsWant string // a substring of the log
	}{
		{
			name:   "bearer",
			header: http.Header{"Authorization": {"Bearer good"}},
			status: http.StatusNoContent,
			want:   storeToken,
		},
		{
			name:   "scheme is case-insensitive",
			header: http.Header{"Authorization": {"bEARer good"}},
			status: http.StatusNoContent,
			want:   storeToken,
		},
		{
			name:   "extra spaces",
			header: http.Header{"Authorization": {"Bearer   good  "}},
			status: http.StatusNoContent,
			want:   storeToken,
		},
		{
			name:   "no token",
			status: http.StatusUnauthorized,
			www:    `Bearer realm="storekey"`,
			body:   &errorBody{Error: "invalid_request", Description: "this request needs an access token: send an Authorization: Bearer <token> header"},
		},
		{
			name:   "no token, realm set",
			opts:   []Option{WithRealm(`shop "api"`)},
			status: http.StatusUnauthorized,
			www:    `Bearer realm="shop api"`,
			body:   &errorBody{Error: "invalid_request", Description: "this request needs an access token: send an Authorization: Bearer <token> header"},
		},
		{
			name:   "basic credentials are no bearer token",
			header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}},
			status: http.StatusUnauthorized,
			www:    `Bearer realm="storekey"`,
			body:   &errorBody{Error: "invalid_request", Description: "this request needs an access token: send an Authorization: Bearer <token> header"},
		},
		{
			name:   "unknown token",
			header: http.Header{"Authorization": {"Bearer nope"}},
			status: http.StatusUnauthorized,
			www:    `Bearer realm="storekey", error="invalid_token", error_description="the access token is invalid, expired or revoked"`,
			body:   &errorBody{Error: "invalid_token", Description: "the access token is invalid, expired or revoked"},
		},
		{
			name:   "inactive principal",
			header: http.Header{"Authorization": {"Bearer off"}},
			status: http.StatusUnauthorized,
			www:    `Bearer realm="storekey", error="invalid_token", error_description="the access token is invalid, expired or revoked"`,
			body:   &errorBody{Error: "invalid_token", Description: "the access token is invalid, expired or revoked"},
		},
		{
			name:   "bearer without token",
			header: http.Header{"Authorization": {"Bearer"}},
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="the Authorization header must be of the form Bearer <token>"`,
			body:   &errorBody{Error: "invalid_request", Description: "the Authorization header must be of the form Bearer <token>"},
		},
		{
			name:   "token with a space",
			header: http.Header{"Authorization": {"Bearer go od"}},
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="the Authorization header must be of the form Bearer <token>"`,
			body:   &errorBody{Error: "invalid_request", Description: "the Authorization header must be of the form Bearer <token>"},
		},
		{
			name:   "token too long",
			header: http.Header{"Authorization": {"Bearer " + strings.Repeat("a", maxTokenLen+1)}},
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="the Authorization header must be of the form Bearer <token>"`,
			body:   &errorBody{Error: "invalid_request", Description: "the Authorization header must be of the form Bearer <token>"},
		},
		{
			name:   "two Authorization headers",
			header: http.Header{"Authorization": {"Bearer good", "Bearer good"}},
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="the request has more than one Authorization header"`,
			body:   &errorBody{Error: "invalid_request", Description: "the request has more than one Authorization header"},
		},
		{
			name:   "token in the query string",
			target: "/orders?access_token=good",
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="access tokens are not accepted in the query string; send an Authorization: Bearer header"`,
			body:   &errorBody{Error: "invalid_request", Description: "access tokens are not accepted in the query string; send an Authorization: Bearer header"},
		},
		{
			name:   "extra header ignored unless configured",
			header: http.Header{"X-Access-Token": {"good"}},
			status: http.StatusUnauthorized,
			www:    `Bearer realm="storekey"`,
			body:   &errorBody{Error: "invalid_request", Description: "this request needs an access token: send an Authorization: Bearer <token> header"},
		},
		{
			name:   "extra header",
			header: http.Header{"X-Access-Token": {"good"}},
			opts:   []Option{WithHeader("x-access-token")},
			status: http.StatusNoContent,
			want:   storeToken,
		},
		{
			name:   "same token in both places",
			header: http.Header{"X-Access-Token": {"good"}, "Authorization": {"Bearer good"}},
			opts:   []Option{WithHeader("X-Access-Token")},
			status: http.StatusNoContent,
			want:   storeToken,
		},
		{
			name:   "two different tokens",
			header: http.Header{"X-Access-Token": {"good2"}, "Authorization": {"Bearer good"}},
			opts:   []Option{WithHeader("X-Access-Token")},
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="the request carries two different access tokens"`,
			body:   &errorBody{Error: "invalid_request", Description: "the request carries two different access tokens"},
		},
		{
			name:   "two different extra headers",
			header: http.Header{"X-Access-Token": {"good"}, "X-Shop-Token": {"good2"}},
			opts:   []Option{WithHeader("X-Access-Token"), WithHeader("X-Shop-Token")},
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="the request carries two different access tokens"`,
			body:   &errorBody{Error: "invalid_request", Description: "the request carries two different access tokens"},
		},
		{
			name:   "repeated extra header",
			header: http.Header{"X-Access-Token": {"good", "good"}},
			opts:   []Option{WithHeader("X-Access-Token")},
			status: http.StatusBadRequest,
			www:    `Bearer realm="storekey", error="invalid_request", error_description="the request has more than one X-Access-Token header"`,
			body:   &errorBody{Error: "invalid_request", Description: "the request has more than one X-Access-Token header"},
		},
		{
			name:   "empty extra header is absent",
			header: http.Header{"X-Access-Token": {" "}, "Authorization": {"Bearer good"}},
			opts:   []Option{WithHeader("X-Access-Token")},
			status: http.StatusNoContent,
			want:   storeToken,
		},
		{
			name:     "validator fails",
			header:   http.Header{"Authorization": {"Bearer broken"}},
			status:   http.StatusServiceUnavailable,
			body:     &errorBody{Error: "temporarily_unavailable", Description: "the access token could not be checked; try again shortly"},
			logsWant: "database is down",
		},
		{
			name:     "validator returns nothing",
			header:   http.Header{"Authorization": {"Bearer nothing"}},
			status:   http.StatusInternalServerError,
			body:     &errorBody{Error: "server_error", Description: "the server could not check the access token"},
			logsWant: "neither a principal nor an error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := append([]Option{WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}, tt.opts...)
			next := &seen{}
			h := Middleware(validator, opts...)(next)
			target := tt.target
			if target == "" {
				target = "/orders"
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			for k, vs := range tt.header {
				r.Header[k] = vs
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.www)
			}
			if diff := cmp.Diff(tt.want, next.p); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
			if tt.body != nil {
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				var got errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatalf("body %q: %v", w.Body, err)
				}
				if diff := cmp.Diff(*tt.body, got); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
			// The core, through a header type of another stack, answers the
			// same.
			a := NewAuthenticator(validator, opts...)
			p, refusal := a.Authenticate(t.Context(), Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: foreignHeader(tt.header)})
			if refusal == nil {
				if tt.want == nil || p != tt.want {
					t.Errorf("Authenticate let the request through with %v", p)
				}
			} else {
				if p != nil || refusal.Status != w.Code || refusal.Challenge != w.Header().Get("WWW-Authenticate") ||
					refusal.RetryAfter != w.Header().Get("Retry-After") || string(refusal.Body()) != w.Body.String() {
					t.Errorf("Authenticate refused with %+v, body %s; Middleware answered %d %q, body %s",
						refusal, refusal.Body(), w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
				}
			}
			if tt.logsWant != "" && !strings.Contains(logs.String(), tt.logsWant) {
				t.Errorf("log %q does not mention %q", logs.String(), tt.logsWant)
			}
			for _, tok := range []string{"good", "broken", "nothing"} {
				if strings.Contains(logs.String(), "Bearer "+tok) || strings.Contains(logs.String(), "token="+tok) {
					t.Errorf("log %q leaks the token", logs.String())
				}
			}
		})
	}
}

// foreignHeader is a request's headers as another HTTP stack keeps them:
// names as they came, looked up without regard to case.
type foreignHeader map[string][]string

func (h foreignHeader) Values(name string) []string {
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

func TestRequireScope(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		scope  string
		status int
		www    string
		body   *errorBody
	}{
		{name: "granted", token: "good", scope: "read_orders", status: http.StatusNoContent},
		{name: "write implies read", token: "good", scope: "read_products", status: http.StatusNoContent},
		{name: "exact write", token: "good", scope: "write_products", status: http.StatusNoContent},
		{
			name: "read does not imply write", token: "good", scope: "write_orders",
			status: http.StatusForbidden,
			www:    `Bearer realm="shop", error="insufficient_scope", error_description="this request needs the write_orders scope", scope="write_orders"`,
			body:   &errorBody{Error: "insufficient_scope", Description: "this request needs the write_orders scope", Scope: "write_orders"},
		},
		{
			name: "missing", token: "app", scope: "read_customers",
			status: http.StatusForbidden,
			www:    `Bearer realm="shop", error="insufficient_scope", error_description="this request needs the read_customers scope", scope="read_customers"`,
			body:   &errorBody{Error: "insufficient_scope", Description: "this request needs the read_customers scope", Scope: "read_customers"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Middleware(validator, WithRealm("shop"))(RequireScope(tt.scope)(&seen{}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tt.token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.www)
			}
			if tt.body != nil {
				var got errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatalf("body %q: %v", w.Body, err)
				}
				if diff := cmp.Diff(*tt.body, got); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRequireStore(t *testing.T) {
	tests := []struct {
		token  string
		status int
		www    string
	}{
		{token: "good", status: http.StatusNoContent},
		{
			token:  "app",
			status: http.StatusForbidden,
			www:    `Bearer realm="storekey", error="insufficient_scope", error_description="this request needs a token bound to a store; app-level (client_credentials) tokens have none"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			h := Middleware(validator)(RequireStore()(&seen{}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tt.token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.www)
			}
		})
	}
}

func TestRequireWithoutMiddleware(t *testing.T) {
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"RequireScope": RequireScope("read_orders"),
		"RequireStore": RequireStore(),
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			mw(&seen{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", w.Code)
			}
		})
	}
}

func TestPrincipalHas(t *testing.T) {
	p := &Principal{Scopes: []string{"write_products", "read_orders", "profile"}}
	tests := []struct {
		scope string
		want  bool
	}{
		{"write_products", true},
		{"read_products", true},
		{"read_orders", true},
		{"write_orders", false},
		{"profile", true},
		{"read_profile", false},
		{"", false},
		{"read_", false},
	}
	for _, tt := range tests {
		if got := p.Has(tt.scope); got != tt.want {
			t.Errorf("Has(%q) = %v, want %v", tt.scope, got, tt.want)
		}
	}
	var nilP *Principal
	if nilP.Has("read_orders") {
		t.Error("a nil principal has a scope")
	}
}

func TestNewContext(t *testing.T) {
	ctx := NewContext(context.Background(), storeToken)
	got, ok := FromContext(ctx)
	if !ok || got != storeToken {
		t.Errorf("FromContext = %v, %v", got, ok)
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Error("FromContext found a principal in an empty context")
	}
}

func TestValidToken(t *testing.T) {
	tests := []struct {
		token string
		want  bool
	}{
		{"ska_abc-DEF_123", true},
		{"a.b.c", true},
		{"abc+/==", true},
		{"abc=d", false},
		{"==", false},
		{"", false},
		{"a b", false},
		{"tökën", false},
		{"a\"b", false},
	}
	for _, tt := range tests {
		if got := validToken(tt.token); got != tt.want {
			t.Errorf("validToken(%q) = %v, want %v", tt.token, got, tt.want)
		}
	}
}
