package resource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// ErrInvalidToken is what a Validator returns for a token that is unknown,
// expired or revoked. Middleware answers it with 401 invalid_token (RFC 6750
// §3.1); any other error means the validator itself failed.
var ErrInvalidToken = errors.New("resource: invalid access token")

// Validator checks an access token. It returns the token's Principal, or an
// error wrapping ErrInvalidToken when the token is not (or no longer) valid.
// Any other error means the token could not be checked; Middleware answers it
// with 503 and logs it, so implementations must not put the token in it.
type Validator interface {
	Validate(ctx context.Context, token string) (*Principal, error)
}

// ValidatorFunc adapts a function to the Validator interface.
type ValidatorFunc func(ctx context.Context, token string) (*Principal, error)

// Validate calls f(ctx, token).
func (f ValidatorFunc) Validate(ctx context.Context, token string) (*Principal, error) {
	return f(ctx, token)
}

// DefaultRealm is the realm of the challenges Middleware sends unless
// WithRealm names another.
const DefaultRealm = "storekey"

// maxTokenLen bounds the token Middleware accepts; longer values are refused
// before they reach a Validator.
const maxTokenLen = 8192

// An Option configures Middleware.
type Option func(*options)

type options struct {
	realm   string
	headers []string
	log     *slog.Logger
}

// WithRealm sets the realm attribute of the WWW-Authenticate challenges
// (RFC 6750 §3). Characters that cannot appear in a quoted-string are dropped.
func WithRealm(realm string) Option {
	return func(o *options) { o.realm = realm }
}

// WithHeader makes Middleware also read the token from the named request
// header, whose whole value is the token (HubRise clients, for one, send
// X-Access-Token). It may be given several times.
func WithHeader(name string) Option {
	return func(o *options) {
		if name = http.CanonicalHeaderKey(strings.TrimSpace(name)); name != "" && name != "Authorization" {
			o.headers = append(o.headers, name)
		}
	}
}

// WithLogger sets the logger for validator failures. The default is
// slog.Default(). Tokens are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// Authenticator is the core of Middleware, RequireScope and RequireStore,
// apart from net/http: it finds a request's bearer token, has a Validator
// check it, and checks the principal's scope and store. A server built on
// another HTTP stack (fasthttp, say) uses it to answer exactly as Middleware
// does. It is safe for concurrent use.
type Authenticator struct {
	v     Validator
	o     options
	realm string
}

// NewAuthenticator returns an Authenticator that checks tokens with v.
func NewAuthenticator(v Validator, opts ...Option) *Authenticator {
	o := options{realm: DefaultRealm}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	return &Authenticator{v: v, o: o, realm: quotable(o.realm)}
}

// Header is the request's headers, as Authenticate reads them. http.Header
// is one.
type Header interface {
	// Values returns every value of the named header, in canonical form
	// ("Authorization").
	Values(name string) []string
}

// Request is what Authenticate reads of a request.
type Request struct {
	Method, Path string // named in the log line of a validator failure
	Query        string // the raw query string, where a token is refused
	Header       Header
}

// Authenticate finds the request's one bearer token and checks it. It
// returns the token's principal, or the refusal to answer with:
//
//   - no token: 401 with a challenge that carries no error code (§3.1);
//   - a malformed Authorization header, a header repeated, two different
//     tokens, or a token in the access_token query parameter (§2.3, which is
//     not supported): 400 invalid_request;
//   - a token the validator refuses with ErrInvalidToken: 401 invalid_token;
//   - any other error of the validator: 503 temporarily_unavailable, logged
//     (without the token).
func (a *Authenticator) Authenticate(ctx context.Context, r Request) (*Principal, *Refusal) {
	token, refusal := bearerToken(r.Header, r.Query, a.o.headers, a.realm)
	if refusal != nil {
		return nil, refusal
	}
	p, err := a.v.Validate(ctx, token)
	switch {
	case errors.Is(err, ErrInvalidToken), err == nil && p != nil && !p.Active:
		return nil, refuse(http.StatusUnauthorized, a.realm, "invalid_token", "", "the access token is invalid, expired or revoked", "")
	case err != nil:
		level := slog.LevelError
		if ctx.Err() != nil {
			level = slog.LevelDebug // the client went away
		}
		a.o.log.Log(ctx, level, "access token validation failed", "method", r.Method, "path", r.Path, "err", err)
		return nil, &Refusal{
			Status:      http.StatusServiceUnavailable,
			RetryAfter:  "1",
			Error:       "temporarily_unavailable",
			Description: "the access token could not be checked; try again shortly",
		}
	case p == nil:
		a.o.log.ErrorContext(ctx, "access token validator returned neither a principal nor an error",
			"method", r.Method, "path", r.Path)
		return nil, &Refusal{
			Status:      http.StatusInternalServerError,
			Error:       "server_error",
			Description: "the server could not check the access token",
		}
	}
	return p, nil
}

// CheckScope returns nil if p was granted scope (a write_x scope implies
// read_x), and otherwise the 403 insufficient_scope refusal naming the scope
// in the challenge and in the body (RFC 6750 §3.1).
func (a *Authenticator) CheckScope(p *Principal, scope string) *Refusal {
	return checkScope(p, scope, a.realm)
}

// CheckStore returns nil if p's token is bound to a store, and otherwise the
// 403 insufficient_scope refusal of an app-level (client_credentials) token.
func (a *Authenticator) CheckStore(p *Principal) *Refusal {
	return checkStore(p, a.realm)
}

func checkScope(p *Principal, scope, realm string) *Refusal {
	if p.Has(scope) {
		return nil
	}
	return refuse(http.StatusForbidden, realm, "insufficient_scope", "",
		fmt.Sprintf("this request needs the %s scope", scope), scope)
}

func checkStore(p *Principal, realm string) *Refusal {
	if p.StoreBound() {
		return nil
	}
	return refuse(http.StatusForbidden, realm, "insufficient_scope", "",
		"this request needs a token bound to a store; app-level (client_credentials) tokens have none", "")
}

// Middleware authenticates every request with a bearer token checked by v and
// stores the resulting Principal in the request context (see FromContext).
//
// The token is read from "Authorization: Bearer <token>", the scheme compared
// case-insensitively (RFC 6750 §2.1), and from the headers named with
// WithHeader. The refusals are Authenticator.Authenticate's. Each carries a
// WWW-Authenticate: Bearer challenge (§3) and a JSON body
// {"error": ..., "error_description": ...}.
func Middleware(v Validator, opts ...Option) func(http.Handler) http.Handler {
	a := NewAuthenticator(v, opts...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, refusal := a.Authenticate(r.Context(), Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header})
			if refusal != nil {
				refusal.Write(w)
				return
			}
			ctx := context.WithValue(r.Context(), ctxKey{}, ctxValue{p: p, realm: a.realm})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// misconfigured is the answer of RequireScope and RequireStore without a
// principal in the context.
var misconfigured = Refusal{Status: http.StatusInternalServerError, Error: "server_error", Description: "the server is misconfigured"}

// RequireScope returns middleware that lets a request through only if the
// principal Middleware stored has scope (a write_x scope implies read_x), and
// otherwise answers 403 insufficient_scope naming the scope in the challenge
// and in the JSON body (RFC 6750 §3.1). It must sit behind Middleware; without
// a principal in the context it answers 500.
func RequireScope(scope string) func(http.Handler) http.Handler {
	return require(func(p *Principal, realm string) *Refusal { return checkScope(p, scope, realm) })
}

// RequireStore returns middleware that lets a request through only if the
// principal's token is bound to a store, and answers app-level tokens (from
// the client_credentials grant) with 403 insufficient_scope. It must sit
// behind Middleware; without a principal in the context it answers 500.
func RequireStore() func(http.Handler) http.Handler {
	return require(checkStore)
}

func require(check func(p *Principal, realm string) *Refusal) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				misconfigured.Write(w)
				return
			}
			if refusal := check(p, realmFromContext(r.Context())); refusal != nil {
				refusal.Write(w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bearerToken finds the one token of a request, or the refusal to answer it
// with.
func bearerToken(h Header, query string, headers []string, realm string) (string, *Refusal) {
	invalidRequest := func(description string) *Refusal {
		return refuse(http.StatusBadRequest, realm, "invalid_request", "", description, "")
	}
	if strings.Contains(query, "access_token") {
		if q, _ := url.ParseQuery(query); q.Has("access_token") {
			return "", invalidRequest("access tokens are not accepted in the query string; send an Authorization: Bearer header")
		}
	}
	var token string
	switch vs := h.Values("Authorization"); len(vs) {
	case 0:
	case 1:
		scheme, rest, _ := strings.Cut(strings.TrimSpace(vs[0]), " ")
		if strings.EqualFold(scheme, "Bearer") {
			token = strings.TrimLeft(rest, " ")
			if !validToken(token) {
				return "", invalidRequest("the Authorization header must be of the form Bearer <token>")
			}
		}
		// Another scheme (Basic, say) carries no bearer token.
	default:
		return "", invalidRequest("the request has more than one Authorization header")
	}
	for _, name := range headers {
		vs := h.Values(name)
		if len(vs) > 1 {
			return "", invalidRequest("the request has more than one " + name + " header")
		}
		if len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			continue
		}
		t := strings.TrimSpace(vs[0])
		if !validToken(t) {
			return "", invalidRequest("the " + name + " header does not hold a well-formed access token")
		}
		if token != "" && t != token {
			return "", invalidRequest("the request carries two different access tokens")
		}
		token = t
	}
	if token == "" {
		return "", refuse(http.StatusUnauthorized, realm, "", "invalid_request",
			"this request needs an access token: send an Authorization: Bearer <token> header", "")
	}
	return token, nil
}

// validToken reports whether t matches the b64token syntax of RFC 6750 §2.1:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func validToken(t string) bool {
	if t == "" || len(t) > maxTokenLen {
		return false
	}
	end := len(strings.TrimRight(t, "="))
	if end == 0 {
		return false
	}
	for i := range end {
		c := t[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
