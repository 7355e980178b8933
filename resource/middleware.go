package resource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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

// Middleware authenticates every request with a bearer token checked by v and
// stores the resulting Principal in the request context (see FromContext).
//
// The token is read from "Authorization: Bearer <token>", the scheme compared
// case-insensitively (RFC 6750 §2.1), and from the headers named with
// WithHeader. It answers:
//
//   - no token: 401 with a challenge that carries no error code (§3.1);
//   - a malformed Authorization header, a header repeated, two different
//     tokens, or a token in the access_token query parameter (§2.3, which is
//     not supported): 400 invalid_request;
//   - a token v refuses with ErrInvalidToken: 401 invalid_token;
//   - any other error of v: 503 temporarily_unavailable, logged.
//
// Each refusal carries a WWW-Authenticate: Bearer challenge (§3) and a JSON
// body {"error": ..., "error_description": ...}.
func Middleware(v Validator, opts ...Option) func(http.Handler) http.Handler {
	o := options{realm: DefaultRealm}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	realm := quotable(o.realm)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, refusal := bearerToken(r, o.headers)
			if refusal != nil {
				refusal.write(w, realm)
				return
			}
			p, err := v.Validate(r.Context(), token)
			switch {
			case errors.Is(err, ErrInvalidToken), err == nil && p != nil && !p.Active:
				(&refusal401).write(w, realm)
				return
			case err != nil:
				level := slog.LevelError
				if r.Context().Err() != nil {
					level = slog.LevelDebug // the client went away
				}
				o.log.Log(r.Context(), level, "access token validation failed",
					"method", r.Method, "path", r.URL.Path, "err", err)
				w.Header().Set("Retry-After", "1")
				writeJSON(w, http.StatusServiceUnavailable, errorBody{
					Error:       "temporarily_unavailable",
					Description: "the access token could not be checked; try again shortly",
				})
				return
			case p == nil:
				o.log.ErrorContext(r.Context(), "access token validator returned neither a principal nor an error",
					"method", r.Method, "path", r.URL.Path)
				writeJSON(w, http.StatusInternalServerError, errorBody{
					Error:       "server_error",
					Description: "the server could not check the access token",
				})
				return
			}
			ctx := context.WithValue(r.Context(), ctxKey{}, ctxValue{p: p, realm: realm})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

var refusal401 = refusal{
	status:      http.StatusUnauthorized,
	code:        "invalid_token",
	description: "the access token is invalid, expired or revoked",
}

// RequireScope returns middleware that lets a request through only if the
// principal Middleware stored has scope (a write_x scope implies read_x), and
// otherwise answers 403 insufficient_scope naming the scope in the challenge
// and in the JSON body (RFC 6750 §3.1). It must sit behind Middleware; without
// a principal in the context it answers 500.
func RequireScope(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: "server_error", Description: "the server is misconfigured"})
				return
			}
			if !p.Has(scope) {
				(&refusal{
					status:      http.StatusForbidden,
					code:        "insufficient_scope",
					description: fmt.Sprintf("this request needs the %s scope", scope),
					scope:       scope,
				}).write(w, realmFromContext(r.Context()))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireStore returns middleware that lets a request through only if the
// principal's token is bound to a store, and answers app-level tokens (from
// the client_credentials grant) with 403 insufficient_scope. It must sit
// behind Middleware; without a principal in the context it answers 500.
func RequireStore() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: "server_error", Description: "the server is misconfigured"})
				return
			}
			if !p.StoreBound() {
				(&refusal{
					status:      http.StatusForbidden,
					code:        "insufficient_scope",
					description: "this request needs a token bound to a store; app-level (client_credentials) tokens have none",
				}).write(w, realmFromContext(r.Context()))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bearerToken finds the one token of a request, or the refusal to answer it
// with.
func bearerToken(r *http.Request, headers []string) (string, *refusal) {
	if strings.Contains(r.URL.RawQuery, "access_token") && r.URL.Query().Has("access_token") {
		return "", invalidRequest("access tokens are not accepted in the query string; send an Authorization: Bearer header")
	}
	var token string
	switch vs := r.Header.Values("Authorization"); len(vs) {
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
	for _, h := range headers {
		vs := r.Header.Values(h)
		if len(vs) > 1 {
			return "", invalidRequest("the request has more than one " + h + " header")
		}
		if len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			continue
		}
		t := strings.TrimSpace(vs[0])
		if !validToken(t) {
			return "", invalidRequest("the " + h + " header does not hold a well-formed access token")
		}
		if token != "" && t != token {
			return "", invalidRequest("the request carries two different access tokens")
		}
		token = t
	}
	if token == "" {
		return "", &refusal{
			status:      http.StatusUnauthorized,
			bodyCode:    "invalid_request",
			description: "this request needs an access token: send an Authorization: Bearer <token> header",
		}
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

func invalidRequest(description string) *refusal {
	return &refusal{status: http.StatusBadRequest, code: "invalid_request", description: description}
}
