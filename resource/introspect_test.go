package resource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testClientID     = "rs:orders"   // a colon must be form-encoded before Basic
	testClientSecret = "s3cret&more" // so must an ampersand
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// authServer is a fake introspection endpoint (RFC 7662 §2): respond gives
// the status and body for a token. It checks the request's form and
// credentials, and counts the requests.
type authServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newAuthServer(t *testing.T, respond func(token string) (int, string)) *authServer {
	t.Helper()
	as := &authServer{}
	as.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		as.hits.Add(1)
		id, secret, ok := r.BasicAuth()
		if ok {
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
		}
		switch {
		case r.Method != http.MethodPost:
			t.Errorf("method = %s", r.Method)
		case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		case !ok || id != testClientID || secret != testClientSecret:
			t.Errorf("credentials = %q, %q, %v", id, secret, ok)
		case r.PostFormValue("token_type_hint") != "access_token":
			t.Errorf("token_type_hint = %q", r.PostFormValue("token_type_hint"))
		}
		status, body := respond(r.PostFormValue("token"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(as.Close)
	return as
}

func newTestIntrospector(as *authServer, c *clock, cfg IntrospectorConfig) *Introspector {
	cfg.Endpoint = as.URL
	cfg.ClientID = testClientID
	cfg.ClientSecret = testClientSecret
	cfg.HTTPClient = as.Client()
	cfg.Now = c.Now
	return NewIntrospector(cfg)
}

// standard answers like Storekey's introspection endpoint does.
func standard(token string) (int, string) {
	switch token {
	case "ska_store":
		return 200, fmt.Sprintf(`{"active":true,"scope":"read_orders write_products","client_id":"app_1",
			"token_type":"Bearer","exp":%d,"iat":%d,"sub":"usr_1","jti":"tok_1","store_id":"st_1","grant_id":"gr_1",
			"location_id":"loc_1","catalog_id":"cat_1","customer_list_id":"cl_1","aud":["x"],"future_member":{"a":1}}`,
			epoch.Add(time.Hour).Unix(), epoch.Unix())
	case "ska_short":
		return 200, fmt.Sprintf(`{"active":true,"scope":"read_orders","client_id":"app_1","exp":%d}`, epoch.Add(time.Second).Unix())
	case "ska_app":
		return 200, `{"active":true,"scope":"read_products","client_id":"app_2"}`
	case "skr_refresh":
		return 200, `{"active":true,"scope":"read_orders","client_id":"app_1","token_type":"refresh_token"}`
	case "bad_500":
		return 500, `oops`
	case "bad_401":
		return 401, `{"error":"invalid_client","error_description":"who are you"}`
	case "bad_html":
		return 200, `<html>login</html>`
	case "bad_noactive":
		return 200, `{"scope":"read_orders"}`
	case "bad_activestring":
		return 200, `{"active":"true"}`
	case "bad_scopearray":
		return 200, `{"active":true,"scope":["read_orders"]}`
	case "bad_expstring":
		return 200, `{"active":true,"exp":"soon"}`
	case "bad_null":
		return 200, `null`
	case "bad_huge":
		return 200, `{"active":true,"scope":"` + strings.Repeat("a", maxIntrospectionResponse) + `"}`
	}
	return 200, `{"active":false}`
}

func TestIntrospectorParses(t *testing.T) {
	as := newAuthServer(t, standard)
	in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})
	tests := []struct {
		token string
		want  *Principal
	}{
		{
			token: "ska_store",
			want: &Principal{
				Active: true, TokenID: "tok_1", AppID: "app_1", StoreID: "st_1", UserID: "usr_1", GrantID: "gr_1",
				Scopes: []string{"read_orders", "write_products"}, ExpiresAt: time.Unix(epoch.Add(time.Hour).Unix(), 0),
				LocationID: "loc_1", CatalogID: "cat_1", CustomerListID: "cl_1",
			},
		},
		{
			token: "ska_app",
			want:  &Principal{Active: true, AppID: "app_2", Scopes: []string{"read_products"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			got, err := in.Validate(context.Background(), tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIntrospectorErrors(t *testing.T) {
	tests := []struct {
		token   string
		invalid bool // the error is ErrInvalidToken, else another error
	}{
		{"ska_unknown", true},
		{"skr_refresh", true},
		{"bad_500", false},
		{"bad_401", false},
		{"bad_html", false},
		{"bad_noactive", false},
		{"bad_activestring", false},
		{"bad_scopearray", false},
		{"bad_expstring", false},
		{"bad_null", false},
		{"bad_huge", false},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			as := newAuthServer(t, standard)
			in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})
			p, err := in.Validate(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("Validate = %+v, want an error", p)
			}
			if got := errors.Is(err, ErrInvalidToken); got != tt.invalid {
				t.Errorf("errors.Is(%v, ErrInvalidToken) = %v, want %v", err, got, tt.invalid)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
			// Failures are not cached; refusals are.
			_, _ = in.Validate(context.Background(), tt.token)
			wantHits := int64(2)
			if tt.invalid {
				wantHits = 1
			}
			if got := as.hits.Load(); got != wantHits {
				t.Errorf("endpoint hit %d times, want %d", got, wantHits)
			}
		})
	}
}

func TestIntrospectorEmptyToken(t *testing.T) {
	as := newAuthServer(t, standard)
	in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})
	if _, err := in.Validate(context.Background(), ""); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("err = %v, want ErrInvalidToken", err)
	}
	if as.hits.Load() != 0 {
		t.Error("an empty token was sent to the endpoint")
	}
}

// TestIntrospectorCache walks a clock through the lifetimes of cached
// answers and counts the requests that reach the endpoint.
func TestIntrospectorCache(t *testing.T) {
	type step struct {
		advance  time.Duration // before validating
		token    string
		wantHits int64 // total so far
	}
	tests := []struct {
		name  string
		cfg   IntrospectorConfig
		steps []step
	}{
		{
			name: "active answer reused for TTL",
			cfg:  IntrospectorConfig{TTL: 5 * time.Second},
			steps: []step{
				{0, "ska_store", 1},
				{4 * time.Second, "ska_store", 1},
				{time.Second, "ska_store", 2},
				{time.Second, "ska_store", 2},
			},
		},
		{
			name: "never past exp",
			cfg:  IntrospectorConfig{TTL: time.Minute},
			steps: []step{
				{0, "ska_short", 1},
				{500 * time.Millisecond, "ska_short", 1},
				{500 * time.Millisecond, "ska_short", 2}, // exp reached
			},
		},
		{
			name: "negative answer reused for NegativeTTL",
			cfg:  IntrospectorConfig{NegativeTTL: 2 * time.Second},
			steps: []step{
				{0, "ska_unknown", 1},
				{time.Second, "ska_unknown", 1},
				{time.Second, "ska_unknown", 2},
			},
		},
		{
			name: "caching disabled",
			cfg:  IntrospectorConfig{TTL: -1, NegativeTTL: -1},
			steps: []step{
				{0, "ska_store", 1},
				{0, "ska_store", 2},
				{0, "ska_unknown", 3},
				{0, "ska_unknown", 4},
			},
		},
		{
			name: "bounded, least recently used evicted",
			cfg:  IntrospectorConfig{MaxEntries: 2},
			steps: []step{
				{0, "ska_store", 1},
				{0, "ska_app", 2},
				{0, "ska_store", 2}, // ska_app is now least recently used
				{0, "ska_unknown", 3},
				{0, "ska_store", 3},
				{0, "ska_app", 4},
			},
		},
		{
			name: "tokens cached separately",
			steps: []step{
				{0, "ska_store", 1},
				{0, "ska_app", 2},
				{0, "ska_store", 2},
				{0, "ska_app", 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newAuthServer(t, standard)
			c := &clock{t: epoch}
			in := newTestIntrospector(as, c, tt.cfg)
			for i, s := range tt.steps {
				c.Add(s.advance)
				_, err := in.Validate(context.Background(), s.token)
				if err != nil && !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("step %d: %v", i, err)
				}
				if got := as.hits.Load(); got != s.wantHits {
					t.Errorf("step %d (%s): endpoint hit %d times, want %d", i, s.token, got, s.wantHits)
				}
			}
		})
	}
}

func TestIntrospectorCachedPrincipalIsACopy(t *testing.T) {
	as := newAuthServer(t, standard)
	in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})
	p, err := in.Validate(context.Background(), "ska_store")
	if err != nil {
		t.Fatal(err)
	}
	p.Scopes[0] = "write_everything"
	p.StoreID = "st_other"
	again, err := in.Validate(context.Background(), "ska_store")
	if err != nil {
		t.Fatal(err)
	}
	if again.StoreID != "st_1" || again.Scopes[0] != "read_orders" {
		t.Errorf("the cache kept a caller's change: %+v", again)
	}
}

func TestIntrospectorSharesConcurrentLookups(t *testing.T) {
	release := make(chan struct{})
	as := newAuthServer(t, func(token string) (int, string) {
		<-release
		return standard(token)
	})
	in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})

	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			p, err := in.Validate(context.Background(), "ska_store")
			if err == nil && p.StoreID != "st_1" {
				err = fmt.Errorf("store = %q", p.StoreID)
			}
			errs <- err
		})
	}
	// Wait until the one request is in flight and every caller waits on it.
	for as.hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := as.hits.Load(); got != 1 {
		t.Errorf("endpoint hit %d times, want 1", got)
	}
}

func TestIntrospectorCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	as := newAuthServer(t, func(token string) (int, string) {
		<-release
		return standard(token)
	})
	in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})

	// The first caller gives up; a second one, waiting on the same lookup,
	// still gets the answer.
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := in.Validate(ctx, "ska_store")
		first <- err
	}()
	for as.hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() {
		_, err := in.Validate(context.Background(), "ska_store")
		second <- err
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: err = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Errorf("second caller: %v", err)
	}
	if got := as.hits.Load(); got != 1 {
		t.Errorf("endpoint hit %d times, want 1", got)
	}
}

func TestIntrospectorUnreachable(t *testing.T) {
	as := newAuthServer(t, standard)
	in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})
	as.Close()
	_, err := in.Validate(context.Background(), "ska_store")
	if err == nil || errors.Is(err, ErrInvalidToken) {
		t.Errorf("err = %v, want a failure that is not ErrInvalidToken", err)
	}
}

func TestIntrospectorDoesNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fmt.Fprint(w, `{"active":true}`)
	}))
	defer other.Close()
	as := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusTemporaryRedirect))
	defer as.Close()
	in := NewIntrospector(IntrospectorConfig{Endpoint: as.URL, ClientID: "a", ClientSecret: "b"})
	if _, err := in.Validate(context.Background(), "ska_store"); err == nil {
		t.Error("a redirect was taken for an answer")
	}
	if elsewhere.Load() != 0 {
		t.Error("the token was sent to the redirect target")
	}
}

// TestIntrospectorWithMiddleware runs the two together as a platform would.
func TestIntrospectorWithMiddleware(t *testing.T) {
	as := newAuthServer(t, standard)
	in := newTestIntrospector(as, &clock{t: epoch}, IntrospectorConfig{})
	h := Middleware(in, WithLogger(slog.New(slog.DiscardHandler)))(RequireScope("read_products")(&seen{}))
	tests := []struct {
		token  string
		status int
	}{
		{"ska_store", http.StatusNoContent}, // write_products implies read_products
		{"ska_short", http.StatusForbidden},
		{"ska_unknown", http.StatusUnauthorized},
		{"bad_500", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/products", nil)
		r.Header.Set("Authorization", "Bearer "+tt.token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s: status = %d, want %d", tt.token, w.Code, tt.status)
		}
	}
}
