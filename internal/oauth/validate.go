package oauth

import (
	"context"
	"errors"
	"slices"
	"time"
)

// usedEvery bounds how often validation records a grant's last use.
const usedEvery = time.Minute

// Validate returns the access token's record if it is active, or
// invalid_token (RFC 6750 §3.1). It records the grant's use: the first use
// of a rotation's access token ends that rotation's retry window, and last
// use is kept to the minute for the merchant's pages.
func (s *Service) Validate(ctx context.Context, token string) (*TokenInfo, error) {
	if kind, ok := KindOf(token); !ok || kind != KindAccess {
		return nil, Errorf(ErrInvalidToken, "the access token is invalid")
	}
	info, err := s.st.TokenInfo(ctx, Hash(token))
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidToken, "the access token is invalid")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !info.Active(now) {
		return nil, Errorf(ErrInvalidToken, "the access token has expired or been revoked")
	}
	if err := s.markUsed(ctx, info, now); err != nil {
		return nil, err
	}
	return info, nil
}

// markUsed records a grant's use when it changes something: the first use
// of the current generation, or the first use in a minute.
func (s *Service) markUsed(ctx context.Context, info *TokenInfo, now time.Time) error {
	g := info.Grant
	if g == nil {
		return nil
	}
	firstOfGeneration := info.Generation == g.Generation && !g.SuccessorUsed
	if !firstOfGeneration && now.Sub(g.LastUsedAt) < usedEvery {
		return nil
	}
	if err := s.st.MarkGrantUsed(ctx, g.ID, info.Generation, now); err != nil {
		return err
	}
	if firstOfGeneration {
		g.SuccessorUsed = true
	}
	g.LastUsedAt = now
	return nil
}

// Introspection is the answer of the introspection endpoint (RFC 7662 §2.2).
type Introspection struct {
	Active bool
	Info   *TokenInfo // nil when not active
}

// Introspect authenticates the calling client and describes the token
// (RFC 7662). Clients listed as resource servers may introspect any token;
// any other client only its own. A token that is unknown, expired, revoked or
// not the caller's is simply inactive.
func (s *Service) Introspect(ctx context.Context, c ClientCredentials, token string) (*Introspection, error) {
	caller, err := s.AuthenticateClient(ctx, c)
	if err != nil {
		return nil, err
	}
	if caller.Public {
		return nil, Errorf(ErrInvalidClient, "public clients cannot introspect tokens")
	}
	if token == "" {
		return nil, Errorf(ErrInvalidRequest, "the token parameter is missing")
	}
	if _, ok := KindOf(token); !ok {
		return &Introspection{}, nil
	}
	info, err := s.st.TokenInfo(ctx, Hash(token))
	if errors.Is(err, ErrNotFound) {
		return &Introspection{}, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !info.Active(now) || (info.AppID != caller.ID && !slices.Contains(s.cfg.ResourceServers, caller.ID)) {
		return &Introspection{}, nil
	}
	if info.Kind == KindAccess {
		if err := s.markUsed(ctx, info, now); err != nil {
			return nil, err
		}
	}
	return &Introspection{Active: true, Info: info}, nil
}

// Revoke authenticates the client and revokes the token (RFC 7009). A token
// issued under a grant revokes the whole grant: the app is disconnected from
// the store and every token of that authorization stops working. Unknown
// tokens and other clients' tokens are ignored, as §2.2 requires, so that
// the answer tells nothing.
func (s *Service) Revoke(ctx context.Context, c ClientCredentials, token string) error {
	app, err := s.AuthenticateClient(ctx, c)
	if err != nil {
		return err
	}
	if token == "" {
		return Errorf(ErrInvalidRequest, "the token parameter is missing")
	}
	if _, ok := KindOf(token); !ok {
		return nil
	}
	info, err := s.st.TokenInfo(ctx, Hash(token))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.AppID != app.ID {
		return nil
	}
	now := s.now()
	if info.Grant != nil {
		err = s.st.RevokeGrant(ctx, info.Grant.ID, now)
	} else {
		err = s.st.RevokeToken(ctx, info.Hash, now)
	}
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
