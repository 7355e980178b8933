package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/resource"
)

// Prefix is the path under which the API lives. New's handler expects full
// paths, so mount it at Prefix (or any pattern above it, such as "/api/")
// without stripping it; paths it does not know get a JSON 404.
const Prefix = "/api/v1/"

// Options configures the API. Zero values take the defaults given.
type Options struct {
	// Realm is the realm of the WWW-Authenticate challenges; default
	// resource.DefaultRealm.
	Realm string
	// TokenHeaders are request headers that may carry the token besides
	// Authorization, such as X-Access-Token for HubRise clients.
	TokenHeaders []string
	// Logger logs failures; default slog.Default().
	Logger *slog.Logger
	// Now is the clock that dates created records; default time.Now.
	Now func() time.Time
}

// Limits of the list and create requests.
const (
	DefaultLimit = 50       // records a list returns unless ?limit= says otherwise
	MaxLimit     = 100      // the largest ?limit= accepted
	MaxBodyBytes = 64 << 10 // the largest request body accepted
)

type api struct {
	data oauth.SampleData
	log  *slog.Logger
	now  func() time.Time
}

// route is one endpoint: the scope its token needs ("" for none) and whether
// the token must be bound to a store.
type route struct {
	method, path string
	scope        string
	store        bool
	handle       http.HandlerFunc
}

// New returns the API's handler, which serves full paths under Prefix
// (GET /api/v1/products and so on). Tokens are checked by v; the records are
// read from and written to data, always those of the token's store.
func New(data oauth.SampleData, v resource.Validator, opts Options) http.Handler {
	mux := http.NewServeMux()
	routes := Routes(data, v, opts)
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	mux.Handle("/", routes[Fallback])
	return mux
}

// Fallback is the pattern of the answer to every /api/ path no route
// matches: a JSON 404, or a 405 with Allow for a known path.
const Fallback = "/api/"

// Routes returns the API's handlers by ServeMux pattern, for a server that
// routes them in its own mux (one lookup per request, and its metrics by
// route): "GET /api/v1/products" and the others, and Fallback.
func Routes(data oauth.SampleData, v resource.Validator, opts Options) map[string]http.Handler {
	a := &api{data: data, log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	ropts := []resource.Option{resource.WithLogger(a.log)}
	if opts.Realm != "" {
		ropts = append(ropts, resource.WithRealm(opts.Realm))
	}
	for _, h := range opts.TokenHeaders {
		ropts = append(ropts, resource.WithHeader(h))
	}
	authenticate := resource.Middleware(v, ropts...)

	routes := []route{
		{"GET", "/api/v1/products", "read_products", true, a.listProducts},
		{"POST", "/api/v1/products", "write_products", true, a.createProduct},
		{"GET", "/api/v1/customers", "read_customers", true, a.listCustomers},
		{"POST", "/api/v1/customers", "write_customers", true, a.createCustomer},
		{"GET", "/api/v1/orders", "read_orders", true, a.listOrders},
		{"POST", "/api/v1/orders", "write_orders", true, a.createOrder},
		{"GET", "/api/v1/store", "", true, a.store},
		{"GET", "/api/v1/me", "", false, a.me},
	}
	handlers := make(map[string]http.Handler, len(routes)+1)
	allowed := map[string][]string{} // path → methods, for 405
	for _, rt := range routes {
		var h http.Handler = rt.handle
		if rt.store {
			h = resource.RequireStore()(h)
		}
		if rt.scope != "" {
			h = resource.RequireScope(rt.scope)(h)
		}
		handlers[rt.method+" "+rt.path] = authenticate(h)
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodGet {
			allowed[rt.path] = append(allowed[rt.path], http.MethodHead)
		}
	}
	allow := make(map[string]string, len(allowed))
	for path, methods := range allowed {
		slices.Sort(methods)
		allow[path] = strings.Join(methods, ", ")
	}
	// Whatever no route matched gets a JSON answer, not the mux's text one,
	// wherever the handler is mounted.
	handlers[Fallback] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if methods, ok := allow[r.URL.Path]; ok {
			w.Header().Set("Allow", methods)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here")
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "there is no such endpoint")
	})
	return handlers
}

// envelope is the body of every successful answer. It is generic so that
// the encoder knows the data's type ahead, rather than looking it up behind
// an interface on every answer.
type envelope[T any] struct {
	Data T `json:"data"`
}

// errorBody is the body of every error answer, in the shape of RFC 6749 §5.2.
// Scope, set by package resource on insufficient_scope, names the scope the
// request needs.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

func writeData[T any](w http.ResponseWriter, status int, v T) {
	writeJSON(w, status, envelope[T]{Data: v})
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, errorBody{Error: code, Description: description})
}

// The headers of every answer, set as shared values: net/http only reads
// them, and Header.Set would allocate each anew.
var (
	jsonType = []string{"application/json"}
	noStore  = []string{"no-store"} // answers depend on the token
	noSniff  = []string{"nosniff"}
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do
}

// fail answers an error. An *oauth.Error of code invalid_request is the
// client's fault (400); the storage sentinels mean a conflict (409) or a
// reference to a record that does not exist (400); anything else is logged
// and answered with a generic server_error naming a request id.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *oauth.Error
	switch {
	case errors.As(err, &e) && e.Code == oauth.ErrInvalidRequest:
		writeError(w, http.StatusBadRequest, string(e.Code), e.Description)
	case errors.Is(err, oauth.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "the record conflicts with an existing one")
	case errors.Is(err, oauth.ErrNotFound):
		writeError(w, http.StatusBadRequest, string(oauth.ErrInvalidRequest), "the request refers to a record that does not exist")
	default:
		id := w.Header().Get("X-Request-Id") // the server's middleware sets it
		if id == "" {
			id = oauth.RandomID("req_")
		}
		a.log.ErrorContext(r.Context(), "sample API request failed",
			"request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, string(oauth.ErrServerError),
			"the server could not complete the request (request id "+id+")")
	}
}

// principal returns the token's principal, which the middleware put there.
func principal(r *http.Request) *resource.Principal {
	p, _ := resource.FromContext(r.Context())
	return p
}

// limit parses the ?limit= query parameter: 1 to MaxLimit, DefaultLimit when
// absent.
func limit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, oauth.Errorf(oauth.ErrInvalidRequest, "limit must be a whole number from 1 to %d", MaxLimit)
	}
	return n, nil
}

// created returns the id and creation time of a new record.
func (a *api) created(prefix string) (string, time.Time) {
	return oauth.RandomID(prefix), a.now().UTC().Truncate(time.Microsecond)
}
