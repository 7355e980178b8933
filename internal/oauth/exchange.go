package oauth

import (
	"context"
	"errors"
	"time"
)

// Grant types (RFC 6749 §4.1.3, §4.4.2, §6).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// TokenRequest is a token endpoint request (RFC 6749 §4.1.3, §4.4.2, §6),
// parsed once by the server from whichever encoding the dialect uses.
type TokenRequest struct {
	GrantType    string
	Client       ClientCredentials
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Scope        string
	ScopeSent    bool // the scope parameter was present
	// ParseScope, when set, parses Scope in the dialect's syntax.
	ParseScope func(string) (Scopes, error)
	// StoreSlug, when the dialect names the store in the host or path,
	// limits the request to codes issued for that store.
	StoreSlug string
}

// TokenResponse is what the token endpoint issued (RFC 6749 §5.1). The
// server renders it in the client's dialect.
type TokenResponse struct {
	AccessToken      string
	RefreshToken     string // "" when none was issued
	ExpiresAt        time.Time
	RefreshExpiresAt time.Time
	Scopes           Scopes
	App              *App
	Grant            *Grant // nil for client_credentials
}

// ExpiresIn returns the access token's lifetime in whole seconds from now,
// or 0 when it never expires.
func (r *TokenResponse) ExpiresIn(now time.Time) int64 {
	if r.ExpiresAt.IsZero() {
		return 0
	}
	return int64(r.ExpiresAt.Sub(now).Round(time.Second) / time.Second)
}

// Token runs a token request: it authenticates the client, then the grant.
// Errors are *Error with the RFC 6749 §5.2 codes.
func (s *Service) Token(ctx context.Context, r TokenRequest) (*TokenResponse, error) {
	app, err := s.AuthenticateClient(ctx, r.Client)
	if err != nil {
		return nil, err
	}
	d := s.DialectOf(app)
	if r.GrantType == "" {
		r.GrantType = d.DefaultGrantType
	}
	if r.ParseScope == nil {
		r.ParseScope = d.Authorize.ParseScope
	}
	switch r.GrantType {
	case GrantAuthorizationCode:
		return s.exchangeCode(ctx, app, r)
	case GrantRefreshToken:
		if !s.issuesRefresh(app) {
			return nil, Errorf(ErrUnauthorizedClient, "this app is not issued refresh tokens")
		}
		return s.refresh(ctx, app, r)
	case GrantClientCredentials:
		return s.clientCredentials(ctx, app, r)
	case "":
		return nil, Errorf(ErrInvalidRequest, "the grant_type parameter is missing")
	default:
		return nil, Errorf(ErrUnsupportedGrantType, "grant_type %q is not supported", truncate(r.GrantType, 64))
	}
}

// exchangeCode runs the authorization code grant (RFC 6749 §4.1.3). A code
// presented a second time fails and revokes every token issued from it
// (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
func (s *Service) exchangeCode(ctx context.Context, app *App, r TokenRequest) (*TokenResponse, error) {
	if r.Code == "" {
		return nil, Errorf(ErrInvalidRequest, "the code parameter is missing")
	}
	now := s.now()
	code, err := s.openCode(r.Code)
	sealed := err == nil
	if errors.Is(err, errNotSealed) {
		// A code shown to the merchant out of band, stored when issued (or
		// not a code at all).
		code, err = s.st.Code(ctx, Hash(r.Code))
	}
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidGrant, "the authorization code is invalid")
	}
	if err != nil {
		return nil, err
	}
	if code.AppID != app.ID {
		return nil, Errorf(ErrInvalidGrant, "the authorization code was issued to another client")
	}
	if !code.UsedAt.IsZero() {
		return nil, s.codeReplayed(ctx, code.GrantID)
	}
	if err := s.checkCode(ctx, app, code, r, now); err != nil {
		if sealed {
			// A sealed code does not say whether it was redeemed: one that
			// was is a replay however it is presented, as a stored one is.
			if used, uerr := s.st.Code(ctx, code.Hash); uerr == nil && !used.UsedAt.IsZero() {
				return nil, s.codeReplayed(ctx, used.GrantID)
			} else if uerr != nil && !errors.Is(uerr, ErrNotFound) {
				return nil, uerr
			}
		}
		return nil, err
	}

	if s.DialectOf(app).ReuseGrant {
		if resp, err := s.reuseGrant(ctx, app, code, now); resp != nil || err != nil {
			return resp, err
		}
	}
	keyID, key := s.currentKey()
	g := &Grant{
		ID:         RandomID("grt_"),
		AppID:      app.ID,
		StoreID:    code.StoreID,
		UserID:     code.UserID,
		Scopes:     code.Scopes,
		Bound:      code.Bound,
		Generation: 1,
		KeyID:      keyID,
		RotatedAt:  now,
		CreatedAt:  now,
	}
	resp, tokens := s.issue(app, g, key, code.Scopes, now)
	seq := s.consent.currentSeq()
	if err := s.st.RedeemCode(ctx, code, now, g, tokens); err != nil {
		return nil, s.redeemFailed(ctx, code, err)
	}
	s.consent.granted(app.ID, g.StoreID, g.Scopes, seq)
	s.record(ctx, Event{Kind: EventTokenIssued, AppID: app.ID, StoreID: g.StoreID, UserID: g.UserID, GrantID: g.ID, Scopes: g.Scopes, Detail: GrantAuthorizationCode})
	return resp, nil
}

// checkCode checks a code's expiry and bindings against the token request:
// redirect_uri, the store a request names, and PKCE.
func (s *Service) checkCode(ctx context.Context, app *App, code *Code, r TokenRequest, now time.Time) error {
	if !now.Before(code.ExpiresAt) {
		return Errorf(ErrInvalidGrant, "the authorization code has expired")
	}
	// RFC 6749 §4.1.3: redirect_uri must be identical to the one sent with
	// the authorization request, if one was sent.
	if code.RedirectURI != "" && r.RedirectURI != code.RedirectURI && (r.RedirectURI != "" || !s.DialectOf(app).RedirectURIOptional) {
		return Errorf(ErrInvalidGrant, "redirect_uri does not match the authorization request")
	}
	if code.RedirectURI == "" && r.RedirectURI != "" {
		if _, ok := app.MatchRedirectURI(r.RedirectURI); !ok {
			return Errorf(ErrInvalidGrant, "redirect_uri is not registered for this client")
		}
	}
	if r.StoreSlug != "" {
		st, err := s.st.StoreBySlug(ctx, r.StoreSlug)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err != nil || st.ID != code.StoreID {
			return Errorf(ErrInvalidGrant, "the authorization code was issued for another store")
		}
	}
	switch {
	case code.Challenge != "" && r.CodeVerifier == "":
		return Errorf(ErrInvalidGrant, "code_verifier is required")
	case code.Challenge != "" && !VerifyPKCE(code.ChallengeMethod, code.Challenge, r.CodeVerifier):
		return Errorf(ErrInvalidGrant, "code_verifier does not match the code_challenge")
	case code.Challenge == "" && r.CodeVerifier != "":
		// RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
		return Errorf(ErrInvalidGrant, "code_verifier was sent but the authorization request had no code_challenge")
	}
	return nil
}

// reuseGrant gives back the grant, and so the token, that the app already
// holds on the code's store, location and device, rebound to the catalog,
// customer list and scopes picked this time. It returns nil, nil when there
// is no such grant (or its key is gone), and a new grant is then issued.
func (s *Service) reuseGrant(ctx context.Context, app *App, code *Code, now time.Time) (*TokenResponse, error) {
	grants, err := s.st.Grants(ctx, GrantFilter{AppID: app.ID, StoreID: code.StoreID, Limit: 200})
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if !g.Active() || g.Bound.LocationID != code.Bound.LocationID || g.Bound.DeviceID != code.Bound.DeviceID {
			continue
		}
		key, ok := s.key(g.KeyID)
		if !ok {
			return nil, nil
		}
		next := *g
		next.Scopes, next.Bound, next.UserID = code.Scopes, code.Bound, code.UserID
		if err := s.st.RebindGrant(ctx, code, now, &next); err != nil {
			return nil, s.redeemFailed(ctx, code, err)
		}
		if err := s.syncRevocations(ctx); err != nil {
			return nil, err
		}
		info, err := s.st.TokenInfo(ctx, Hash(DeriveToken(key, KindAccess, g.ID, g.Generation)))
		if err != nil {
			return nil, err
		}
		resp := &TokenResponse{AccessToken: DeriveToken(key, KindAccess, g.ID, g.Generation), ExpiresAt: info.ExpiresAt, Scopes: next.Scopes, App: app, Grant: &next}
		if s.issuesRefresh(app) {
			resp.RefreshToken = DeriveToken(key, KindRefresh, g.ID, g.Generation)
		}
		s.record(ctx, Event{Kind: EventTokenIssued, AppID: app.ID, StoreID: g.StoreID, UserID: code.UserID, GrantID: g.ID, Scopes: next.Scopes, Detail: "connection reused"})
		return resp, nil
	}
	return nil, nil
}

// redeemFailed answers a redemption that wrote nothing: another request
// redeemed the code first (ErrConflict), which makes this one a replay, or
// the approval no longer holds (ErrNotFound): the merchant may no longer
// connect apps to the store, or signed out of the session they approved in.
func (s *Service) redeemFailed(ctx context.Context, code *Code, err error) error {
	switch {
	case errors.Is(err, ErrConflict):
		won, rerr := s.st.Code(ctx, code.Hash)
		if rerr != nil {
			return rerr
		}
		return s.codeReplayed(ctx, won.GrantID)
	case errors.Is(err, ErrNotFound):
		return Errorf(ErrInvalidGrant, "the merchant's approval no longer holds: they signed out, or may no longer connect apps to this store")
	}
	return err
}

func (s *Service) codeReplayed(ctx context.Context, grantID string) error {
	if grantID != "" {
		if err := s.st.RevokeGrant(ctx, grantID, s.now()); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		s.log.WarnContext(ctx, "authorization code replayed; grant revoked", "grant_id", grantID)
		s.record(ctx, Event{Kind: EventCodeReplayed, GrantID: grantID, Detail: "an authorization code was presented twice"})
		if err := s.syncRevocations(ctx); err != nil {
			return err
		}
	}
	return Errorf(ErrInvalidGrant, "the authorization code has already been used")
}

// issue derives the tokens of the grant's current generation.
func (s *Service) issue(app *App, g *Grant, key []byte, scopes Scopes, now time.Time) (*TokenResponse, []*Token) {
	resp := &TokenResponse{
		AccessToken: DeriveToken(key, KindAccess, g.ID, g.Generation),
		ExpiresAt:   expiry(now, s.accessTTL(app)),
		Scopes:      scopes,
		App:         app,
		Grant:       g,
	}
	tokens := []*Token{{
		Hash: Hash(resp.AccessToken), Kind: KindAccess, GrantID: g.ID, AppID: app.ID, StoreID: g.StoreID,
		UserID: g.UserID, Scopes: scopes, Generation: g.Generation, CreatedAt: now, ExpiresAt: resp.ExpiresAt,
	}}
	if s.issuesRefresh(app) {
		resp.RefreshToken = DeriveToken(key, KindRefresh, g.ID, g.Generation)
		resp.RefreshExpiresAt = expiry(now, s.refreshTTL(app))
		tokens = append(tokens, &Token{
			Hash: Hash(resp.RefreshToken), Kind: KindRefresh, GrantID: g.ID, AppID: app.ID, StoreID: g.StoreID,
			UserID: g.UserID, Scopes: g.Scopes, Generation: g.Generation, CreatedAt: now, ExpiresAt: resp.RefreshExpiresAt,
		})
	}
	return resp, tokens
}

// refresh runs the refresh token grant (RFC 6749 §6) with rotation
// (RFC 9700 §4.14.2). Rotation is safe for clients that run several workers
// or lose a response: every request presenting the current refresh token at
// the same moment, and any retry within the retry window before the new
// tokens are used, receives the identical new pair, while the database
// records exactly one rotation. A refresh token presented after its
// successor was used, or after the window, revokes the grant.
func (s *Service) refresh(ctx context.Context, app *App, r TokenRequest) (*TokenResponse, error) {
	if r.RefreshToken == "" {
		return nil, Errorf(ErrInvalidRequest, "the refresh_token parameter is missing")
	}
	now := s.now()
	info, err := s.st.TokenInfo(ctx, Hash(r.RefreshToken))
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidGrant, "the refresh token is invalid")
	}
	if err != nil {
		return nil, err
	}
	if info.Kind != KindRefresh || info.AppID != app.ID || info.Grant == nil {
		return nil, Errorf(ErrInvalidGrant, "the refresh token is invalid")
	}
	if !info.Active(now) {
		return nil, Errorf(ErrInvalidGrant, "the refresh token has expired or been revoked")
	}
	g := info.Grant
	scopes := g.Scopes
	if r.ScopeSent {
		if scopes, err = s.parseTokenScope(r); err != nil {
			return nil, err
		}
		if missing := g.Scopes.Missing(scopes); len(missing) > 0 {
			return nil, Errorf(ErrInvalidScope, "the scope %q was not granted to this refresh token", missing[0])
		}
		if len(scopes) == 0 {
			scopes = g.Scopes
		}
	}
	for attempt := 0; attempt < 3; attempt++ {
		switch {
		case info.Generation == g.Generation:
			keyID, key := s.currentKey()
			next := *g
			next.Generation, next.KeyID, next.RotatedAt, next.SuccessorUsed = g.Generation+1, keyID, now, false
			resp, tokens := s.issue(app, &next, key, scopes, now)
			err := s.st.RotateGrant(ctx, g.ID, g.Generation, now, keyID, tokens)
			if err == nil {
				s.record(ctx, Event{Kind: EventTokenRefreshed, AppID: app.ID, StoreID: g.StoreID, UserID: g.UserID, GrantID: g.ID, Scopes: scopes})
				return resp, nil
			}
			if !errors.Is(err, ErrConflict) {
				return nil, err
			}
			// Another request rotated first (or the grant was revoked):
			// look again and answer as a retry.
			if g, err = s.st.Grant(ctx, g.ID); err != nil {
				return nil, err
			}
			if !g.Active() {
				return nil, Errorf(ErrInvalidGrant, "the refresh token has been revoked")
			}
		case info.Generation == g.Generation-1 && !g.SuccessorUsed && now.Sub(g.RotatedAt) <= s.cfg.RefreshRetryWindow:
			return s.reissue(ctx, app, g)
		default:
			return nil, s.refreshReused(ctx, g)
		}
	}
	return nil, Errorf(ErrTemporarilyUnavailable, "the refresh token is being rotated; retry")
}

// reissue answers a concurrent or retried refresh with the pair the winning
// rotation issued, derived again from the server key.
func (s *Service) reissue(ctx context.Context, app *App, g *Grant) (*TokenResponse, error) {
	key, ok := s.key(g.KeyID)
	if !ok {
		return nil, Errorf(ErrInvalidGrant, "the refresh token has been rotated")
	}
	resp := &TokenResponse{
		AccessToken:  DeriveToken(key, KindAccess, g.ID, g.Generation),
		RefreshToken: DeriveToken(key, KindRefresh, g.ID, g.Generation),
		App:          app,
		Grant:        g,
	}
	acc, err := s.st.TokenInfo(ctx, Hash(resp.AccessToken))
	if err != nil {
		return nil, err
	}
	ref, err := s.st.TokenInfo(ctx, Hash(resp.RefreshToken))
	if err != nil {
		return nil, err
	}
	resp.ExpiresAt, resp.Scopes, resp.RefreshExpiresAt = acc.ExpiresAt, acc.Scopes, ref.ExpiresAt
	return resp, nil
}

func (s *Service) refreshReused(ctx context.Context, g *Grant) error {
	if err := s.st.RevokeGrant(ctx, g.ID, s.now()); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.log.WarnContext(ctx, "rotated refresh token reused; grant revoked", "grant_id", g.ID, "app_id", g.AppID)
	s.record(ctx, Event{Kind: EventRefreshReused, AppID: g.AppID, StoreID: g.StoreID, UserID: g.UserID, GrantID: g.ID, Detail: "a rotated refresh token was presented again"})
	if err := s.syncRevocations(ctx); err != nil {
		return err
	}
	return Errorf(ErrInvalidGrant, "the refresh token has already been used; the grant is revoked")
}

func (s *Service) parseTokenScope(r TokenRequest) (Scopes, error) {
	if r.ParseScope != nil {
		return r.ParseScope(r.Scope)
	}
	return ParseScopes(r.Scope), nil
}

// clientCredentials runs the client credentials grant (RFC 6749 §4.4): an
// app-level token bound to no store, for confidential clients only, with no
// refresh token (§4.4.3).
func (s *Service) clientCredentials(ctx context.Context, app *App, r TokenRequest) (*TokenResponse, error) {
	if app.Public {
		return nil, Errorf(ErrUnauthorizedClient, "public clients cannot use the client_credentials grant")
	}
	scopes := app.Scopes
	if r.ScopeSent && r.Scope != "" {
		var err error
		if scopes, err = s.parseTokenScope(r); err != nil {
			return nil, err
		}
		if missing := app.Scopes.Missing(scopes); len(missing) > 0 {
			return nil, Errorf(ErrInvalidScope, "the app is not allowed the scope %q", missing[0])
		}
	}
	now := s.now()
	value := RandomSecret(PrefixAccess)
	t := &Token{
		Hash: Hash(value), Kind: KindAccess, AppID: app.ID, Scopes: scopes,
		CreatedAt: now, ExpiresAt: expiry(now, s.accessTTL(app)),
	}
	if err := s.st.CreateToken(ctx, t); err != nil {
		return nil, err
	}
	s.record(ctx, Event{Kind: EventTokenIssued, AppID: app.ID, Scopes: scopes, Detail: GrantClientCredentials})
	return &TokenResponse{AccessToken: value, ExpiresAt: t.ExpiresAt, Scopes: scopes, App: app}, nil
}
