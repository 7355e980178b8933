package oauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/url"
	"strings"
)

// AuthorizeRequest is an authorization request (RFC 6749 §4.1.1), parsed
// once from the query or form by the web layer, whatever names the dialect
// gives its parameters.
type AuthorizeRequest struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	Scope               string
	State               string
	CodeChallenge       string
	CodeChallengeMethod string
	// Repeated names the parameters that appeared more than once, which
	// RFC 6749 §3.1 forbids.
	Repeated []string
	// StoreSlug names the store when the dialect takes it from the host or
	// path (StoreHippo); the merchant can then connect only that store.
	StoreSlug string
	// DeviceID distinguishes installations of one app on one location
	// (HubRise's connection reuse).
	DeviceID string
	// Prefill carries sign-up suggestions (HubRise: country, account_name,
	// location_name).
	Prefill map[string]string
}

// AuthorizeRules are the places where a platform's published flow departs
// from RFC 6749 at the authorization endpoint.
type AuthorizeRules struct {
	ResponseTypeOptional bool // a missing response_type means code
	StateRequired        bool
	// ParseScope, when set, replaces ParseScopes for this dialect's syntax;
	// its errors should be invalid_scope.
	ParseScope func(string) (Scopes, error)
	// ExpandScope, when set, rewrites requested scopes (e.g. "all") against
	// what the app may be granted.
	ExpandScope func(requested, allowed Scopes) Scopes
}

// Authorization is a validated authorization request: what the consent page
// shows and what Approve needs.
type Authorization struct {
	App             *App
	RedirectURI     string // the registered URI the response goes to
	SentRedirectURI string // redirect_uri as sent; "" if it was omitted
	Scopes          Scopes
	State           string
	Challenge       string
	ChallengeMethod string
	RawScope        string // the scope parameter as sent, for dialects whose consent reads its structure
	StoreSlug       string // the store the request is limited to; "" for any the merchant administers
	DeviceID        string
	Prefill         map[string]string
}

// OOB reports whether the code is to be shown in the browser rather than
// sent to a redirect URI.
func (a *Authorization) OOB() bool { return a.RedirectURI == OOBRedirectURI }

// ValidateAuthorize checks an authorization request. When the client or the
// redirect URI cannot be trusted it returns a nil Authorization and an
// *Error to be shown to the user, never redirected (RFC 6749 §4.1.2.1,
// RFC 9700 §4.11). When they can, any other problem comes back as an
// *Error together with an Authorization whose RedirectURI and State carry
// the error response (ErrorRedirect builds it).
func (s *Service) ValidateAuthorize(ctx context.Context, r AuthorizeRequest) (*Authorization, error) {
	for _, p := range r.Repeated {
		if p == "client_id" || p == "redirect_uri" {
			return nil, Errorf(ErrInvalidRequest, "the %s parameter must not be repeated", p)
		}
	}
	if r.ClientID == "" {
		return nil, Errorf(ErrInvalidRequest, "the client_id parameter is missing")
	}
	app, err := s.app(ctx, r.ClientID)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidClient, "no app is registered with client_id %q", truncate(r.ClientID, 64))
	}
	if err != nil {
		return nil, err
	}
	redirect, ok := app.MatchRedirectURI(r.RedirectURI)
	if !ok {
		if r.RedirectURI == "" {
			return nil, Errorf(ErrInvalidRequest, "the redirect_uri parameter is required because the app has several redirect URIs")
		}
		return nil, Errorf(ErrInvalidRequest, "the redirect_uri %q is not registered for this app", truncate(r.RedirectURI, 200))
	}
	a := &Authorization{App: app, RedirectURI: redirect, SentRedirectURI: r.RedirectURI, State: r.State,
		RawScope: r.Scope, StoreSlug: r.StoreSlug, DeviceID: r.DeviceID, Prefill: r.Prefill}
	rules := s.DialectOf(app).Authorize
	if len(r.Repeated) > 0 {
		return a, Errorf(ErrInvalidRequest, "the %s parameter must not be repeated", r.Repeated[0])
	}
	switch {
	case r.ResponseType == "code":
	case r.ResponseType == "" && rules.ResponseTypeOptional:
	case r.ResponseType == "":
		return a, Errorf(ErrInvalidRequest, "the response_type parameter is missing")
	default:
		return a, Errorf(ErrUnsupportedResponseType, "only response_type=code is supported")
	}
	if r.State == "" && rules.StateRequired {
		return a, Errorf(ErrInvalidRequest, "the state parameter is required")
	}
	if a.Scopes, err = s.requestedScopes(app, r.Scope, rules); err != nil {
		return a, err
	}
	if r.CodeChallenge != "" {
		method := r.CodeChallengeMethod
		if method == "" {
			method = PKCEPlain // RFC 7636 §4.3
		}
		switch {
		case method == PKCES256:
		case method == PKCEPlain && s.cfg.AllowPlainPKCE:
		default:
			return a, Errorf(ErrInvalidRequest, "code_challenge_method %q is not supported; use S256", truncate(method, 32))
		}
		if !ValidPKCEValue(r.CodeChallenge) {
			return a, Errorf(ErrInvalidRequest, "the code_challenge must be 43 to 128 unreserved characters")
		}
		a.Challenge, a.ChallengeMethod = r.CodeChallenge, method
	} else if r.CodeChallengeMethod != "" {
		return a, Errorf(ErrInvalidRequest, "code_challenge_method was sent without code_challenge")
	} else if app.Public {
		return a, Errorf(ErrInvalidRequest, "public clients must use PKCE: code_challenge is required")
	}
	return a, nil
}

// requestedScopes parses the scope parameter and checks it against the
// catalog and the app's allowed scopes (RFC 6749 §3.3). An omitted scope
// means every scope the app may be granted.
func (s *Service) requestedScopes(app *App, raw string, rules AuthorizeRules) (Scopes, error) {
	var want Scopes
	if rules.ParseScope != nil {
		var err error
		if want, err = rules.ParseScope(raw); err != nil {
			return nil, err
		}
	} else {
		want = ParseScopes(raw)
	}
	if rules.ExpandScope != nil {
		want = rules.ExpandScope(want, app.Scopes)
	}
	if len(want) == 0 && strings.TrimSpace(raw) != "" {
		// A scope that parses to nothing (HubRise's bare "account[]") asks
		// for nothing: it must not fall back to every scope of the app.
		return nil, Errorf(ErrInvalidScope, "the scope %q grants no permission", truncate(raw, 64))
	}
	if len(want) == 0 {
		if len(app.Scopes) == 0 {
			return nil, Errorf(ErrInvalidScope, "no scope was requested and the app has no default scopes")
		}
		return app.Scopes, nil
	}
	if rules.ParseScope == nil {
		if unknown := s.CatalogOf(app).Unknown(want); len(unknown) > 0 {
			return nil, Errorf(ErrInvalidScope, "unknown scope %q", truncate(unknown[0], 64))
		}
	}
	if missing := app.Scopes.Missing(want); len(missing) > 0 {
		return nil, Errorf(ErrInvalidScope, "the app is not allowed the scope %q", missing[0])
	}
	return want, nil
}

// CanSkipConsent reports whether the merchant already granted this app,
// on this store, every scope now requested, so that consent need not be
// asked again (when the server is configured to skip it).
func (s *Service) CanSkipConsent(ctx context.Context, a *Authorization, storeID string) (bool, error) {
	if !s.cfg.SkipKnownConsent {
		return false, nil
	}
	now := s.now()
	ok, seq := s.consent.covers(a.App.ID, storeID, a.Scopes, now)
	if ok {
		return true, nil
	}
	// The newest grants are the ones that matter: an app that keeps
	// authorizing (one grant per authorization) must not make this slower.
	// Only their scopes are read, each set once: one short row where a
	// merchant keeps granting the same scopes.
	granted, err := s.st.GrantedScopes(ctx, a.App.ID, storeID, maxConsentSets)
	if err != nil {
		return false, err
	}
	s.consent.put(a.App.ID, storeID, granted, now, seq)
	for _, sc := range granted {
		if sc.Covers(a.Scopes) {
			return true, nil
		}
	}
	return false, nil
}

// Approve records the consent of the merchant signed in with sess: it
// issues an authorization code bound to the request, the merchant, the
// store and the picked resources, and returns its value. The caller has
// checked that the merchant may authorize apps for storeID; the redemption
// checks it again, in the statement that stores the grant, and checks that
// sess still exists.
//
// The code is sealed (code.go), and issuing it writes nothing, except when
// the merchant is shown it to copy (out of band): that one is a short random
// value, stored now.
func (s *Service) Approve(ctx context.Context, a *Authorization, sess *Session, storeID string, bound Bound) (string, error) {
	if sess == nil || len(sess.Hash) != sha256.Size || sess.UserID == "" {
		return "", errors.New("oauth: approve needs the merchant's session")
	}
	userID := sess.UserID
	if a.StoreSlug != "" {
		st, err := s.st.StoreBySlug(ctx, a.StoreSlug)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if err != nil || st.ID != storeID {
			return "", Errorf(ErrAccessDenied, "this authorization request is for the store %q only", a.StoreSlug)
		}
	}
	bound.DeviceID = a.DeviceID
	now := s.now()
	c := &Code{
		AppID:           a.App.ID,
		StoreID:         storeID,
		UserID:          userID,
		RedirectURI:     a.SentRedirectURI,
		Scopes:          a.Scopes,
		Challenge:       a.Challenge,
		ChallengeMethod: a.ChallengeMethod,
		Bound:           bound,
		CreatedAt:       now,
		ExpiresAt:       now.Add(s.cfg.CodeTTL),
	}
	var code string
	if a.OOB() {
		code = RandomSecret(PrefixCode)
		c.Hash = Hash(code)
		// The store checks the membership in the statement that stores the
		// code, so that a role taken away a moment before counts.
		if err := s.st.CreateCode(ctx, c); errors.Is(err, ErrNotFound) {
			return "", Errorf(ErrAccessDenied, "only an owner or admin of the store can connect apps to it")
		} else if err != nil {
			return "", err
		}
	} else {
		c.SessionHash = sess.Hash
		code = s.sealCode(c)
	}
	s.record(ctx, Event{Kind: EventAuthorized, AppID: a.App.ID, StoreID: storeID, UserID: userID, Scopes: a.Scopes})
	return code, nil
}

// Deny records the merchant's refusal and returns the error to send back
// (RFC 6749 §4.1.2.1 access_denied).
func (s *Service) Deny(ctx context.Context, a *Authorization, userID string) error {
	s.record(ctx, Event{Kind: EventDenied, AppID: a.App.ID, UserID: userID, Scopes: a.Scopes})
	return Errorf(ErrAccessDenied, "the merchant denied access")
}

// SuccessRedirect returns the authorization response URI carrying the
// code, the state and the issuer (RFC 6749 §4.1.2, RFC 9207 §2).
func (s *Service) SuccessRedirect(a *Authorization, code string) string {
	q := url.Values{"code": {code}}
	return s.redirect(a, q)
}

// ErrorRedirect returns the error response URI (RFC 6749 §4.1.2.1).
func (s *Service) ErrorRedirect(a *Authorization, err error) string {
	e := AsError(err)
	if e.Code == ErrServerError {
		e = Errorf(ErrServerError, "the server could not complete the request")
	}
	q := url.Values{"error": {string(e.Code)}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	return s.redirect(a, q)
}

func (s *Service) redirect(a *Authorization, q url.Values) string {
	if a.State != "" {
		q.Set("state", a.State)
	}
	if s.cfg.Issuer != "" {
		q.Set("iss", s.cfg.Issuer)
	}
	sep := "?"
	if strings.Contains(a.RedirectURI, "?") {
		sep = "&"
	}
	return a.RedirectURI + sep + q.Encode()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
