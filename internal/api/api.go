package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/resource"
)

// Prefix is the path under which the API lives. Its routes take full paths:
// a server hands it every path under /api/ without stripping anything, and
// paths it does not know get a JSON 404.
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

// handler serves one authenticated request: p is its token's principal,
// checked for the route's scope and store.
type handler func(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal)

// route is one endpoint: the scope its token needs ("" for none) and whether
// the token must be bound to a store.
type route struct {
	method, path string
	scope        string
	store        bool
	handle       handler
}

// API is the sample API's router, native to fasthttp: Storekey's server
// hands it every path under /api/. It is safe for concurrent use.
type API struct {
	paths    map[string]*endpoint
	fallback fasthttp.RequestHandler
}

// endpoint is one path's routes: GET (which also answers HEAD) and POST.
type endpoint struct {
	get, post *bound
}

// bound is a route with its pattern, as metrics name it ("GET
// /api/v1/products"), and its handler behind the token checks.
type bound struct {
	pattern string
	serve   fasthttp.RequestHandler
}

// New returns the API. Tokens are checked by v; the records are read from
// and written to data, always those of the token's store.
func New(data oauth.SampleData, v resource.Validator, opts Options) *API {
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
	auth := resource.NewAuthenticator(v, ropts...)

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
	x := &API{paths: map[string]*endpoint{}}
	allowed := map[string][]string{} // path → methods, for 405
	for _, rt := range routes {
		ep := x.paths[rt.path]
		if ep == nil {
			ep = &endpoint{}
			x.paths[rt.path] = ep
		}
		b := &bound{pattern: rt.method + " " + rt.path, serve: guard(auth, rt)}
		switch rt.method {
		case fasthttp.MethodGet:
			ep.get = b
			allowed[rt.path] = append(allowed[rt.path], fasthttp.MethodGet, fasthttp.MethodHead)
		case fasthttp.MethodPost:
			ep.post = b
			allowed[rt.path] = append(allowed[rt.path], fasthttp.MethodPost)
		}
	}
	allow := make(map[string]string, len(allowed))
	for path, methods := range allowed {
		slices.Sort(methods)
		allow[path] = strings.Join(methods, ", ")
	}
	// Whatever no route matched gets a JSON answer.
	x.fallback = func(c *fasthttp.RequestCtx) {
		if methods, ok := allow[string(c.Path())]; ok {
			c.Response.Header.Set("Allow", methods)
			writeError(c, fasthttp.StatusMethodNotAllowed, "method_not_allowed", string(c.Method())+" is not allowed here")
			return
		}
		writeError(c, fasthttp.StatusNotFound, "not_found", "there is no such endpoint")
	}
	return x
}

// Fallback is the pattern Route names for every /api/ path no route
// matches: a JSON 404, or a 405 with Allow for a known path.
const Fallback = "/api/"

// Route returns the handler of a request to method and path (a path under
// /api/) and the route's pattern, for a server that counts requests by
// route: "GET /api/v1/products" and the others, or Fallback.
func (x *API) Route(method, path []byte) (pattern string, h fasthttp.RequestHandler) {
	if ep := x.paths[string(path)]; ep != nil {
		var b *bound
		switch string(method) {
		case fasthttp.MethodGet, fasthttp.MethodHead:
			b = ep.get
		case fasthttp.MethodPost:
			b = ep.post
		}
		if b != nil {
			return b.pattern, b.serve
		}
	}
	return Fallback, x.fallback
}

// Handler serves every request: for a fasthttp server of its own, or a
// test.
func (x *API) Handler(c *fasthttp.RequestCtx) {
	_, h := x.Route(c.Method(), c.Path())
	h(c)
}

// guard puts a route behind the token checks: the token (resource's
// Authenticator, as its Middleware would), then the scope, then the store.
func guard(auth *resource.Authenticator, rt route) fasthttp.RequestHandler {
	return func(c *fasthttp.RequestCtx) {
		// The data calls get a context of their own: a *RequestCtx would
		// make the database drivers watch it from a goroutine per query.
		ctx := context.Background()
		rq := resource.Request{Method: rt.method, Path: rt.path, Header: header{&c.Request.Header}}
		if q := c.URI().QueryString(); len(q) > 0 {
			rq.Query = string(q)
		}
		p, refusal := auth.Authenticate(ctx, rq)
		if refusal == nil && rt.scope != "" {
			refusal = auth.CheckScope(p, rt.scope)
		}
		if refusal == nil && rt.store {
			refusal = auth.CheckStore(p)
		}
		if refusal != nil {
			writeRefusal(c, refusal)
			return
		}
		rt.handle(ctx, c, p)
	}
}

// header is a fasthttp request's headers as package resource reads them.
type header struct{ h *fasthttp.RequestHeader }

func (h header) Values(name string) []string {
	vs := h.h.PeekAll(name)
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
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

func writeData[T any](c *fasthttp.RequestCtx, status int, v T) {
	writeJSON(c, status, envelope[T]{Data: v})
}

func writeError(c *fasthttp.RequestCtx, status int, code, description string) {
	writeJSON(c, status, errorBody{Error: code, Description: description})
}

// jsonHeaders sets the status and the headers of every answer. Answers
// depend on the token: nothing may cache them.
func jsonHeaders(c *fasthttp.RequestCtx, status int) {
	h := &c.Response.Header
	h.SetContentType("application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.SetStatusCode(status)
}

func writeJSON(c *fasthttp.RequestCtx, status int, v any) {
	jsonHeaders(c, status)
	_ = json.NewEncoder(c).Encode(v) // appends to the buffered body; our types always encode
}

// writeRefusal sends the token checks' refusal, with its challenge.
func writeRefusal(c *fasthttp.RequestCtx, f *resource.Refusal) {
	if f.Challenge != "" {
		c.Response.Header.Set("WWW-Authenticate", f.Challenge)
	}
	if f.RetryAfter != "" {
		c.Response.Header.Set("Retry-After", f.RetryAfter)
	}
	jsonHeaders(c, f.Status)
	_, _ = c.Write(f.Body())
}

// RequestIDHeader is the answer's header that names the request; Storekey's
// server sets it before the API runs.
const RequestIDHeader = "X-Request-Id"

// fail answers an error. An *oauth.Error of code invalid_request is the
// client's fault (400); the storage sentinels mean a conflict (409) or a
// reference to a record that does not exist (400); anything else is logged
// and answered with a generic server_error naming a request id.
func (a *api) fail(ctx context.Context, c *fasthttp.RequestCtx, err error) {
	var e *oauth.Error
	switch {
	case errors.As(err, &e) && e.Code == oauth.ErrInvalidRequest:
		writeError(c, fasthttp.StatusBadRequest, string(e.Code), e.Description)
	case errors.Is(err, oauth.ErrConflict):
		writeError(c, fasthttp.StatusConflict, "conflict", "the record conflicts with an existing one")
	case errors.Is(err, oauth.ErrNotFound):
		writeError(c, fasthttp.StatusBadRequest, string(oauth.ErrInvalidRequest), "the request refers to a record that does not exist")
	default:
		id := string(c.Response.Header.Peek(RequestIDHeader))
		if id == "" {
			id = oauth.RandomID("req_")
		}
		a.log.ErrorContext(ctx, "sample API request failed",
			"request_id", id, "method", string(c.Method()), "path", string(c.Path()), "err", err)
		writeError(c, fasthttp.StatusInternalServerError, string(oauth.ErrServerError),
			"the server could not complete the request (request id "+id+")")
	}
}

// limit parses the ?limit= query parameter: 1 to MaxLimit, DefaultLimit when
// absent.
func limit(c *fasthttp.RequestCtx) (int, error) {
	s := c.QueryArgs().Peek("limit")
	if len(s) == 0 {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(string(s))
	if err != nil || n < 1 || n > MaxLimit {
		return 0, oauth.Errorf(oauth.ErrInvalidRequest, "limit must be a whole number from 1 to %d", MaxLimit)
	}
	return n, nil
}

// created returns the id and creation time of a new record.
func (a *api) created(prefix string) (string, time.Time) {
	return oauth.RandomID(prefix), a.now().UTC().Truncate(time.Microsecond)
}
