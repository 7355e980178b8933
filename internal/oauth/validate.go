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
	now := s.now()
	info, err := s.tokenInfo(ctx, Hash(token), now)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidToken, "the access token is invalid")
	}
	if err != nil {
		return nil, err
	}
	if !info.Active(now) {
		return nil, Errorf(ErrInvalidToken, "the access token has expired or been revoked")
	}
	return s.markUsed(ctx, info, now)
}

// tokenInfo reads a token, from the cache when it holds it.
func (s *Service) tokenInfo(ctx context.Context, hash []byte, now time.Time) (*TokenInfo, error) {
	if info, ok := s.cache.get(hash, now); ok {
		return info, nil
	}
	seq := s.cache.currentSeq()
	info, err := s.st.TokenInfo(ctx, hash)
	if err != nil {
		return nil, err
	}
	if info.Kind == KindAccess && info.Active(now) {
		s.cache.put(info, now, seq)
	}
	return info, nil
}

// markUsed records a grant's use when it changes something: the first use
// of the current generation, or the first use in a minute. It returns the
// token's record as it stands after that; snapshots are never changed in
// place, since the cache shares them between requests.
func (s *Service) markUsed(ctx context.Context, info *TokenInfo, now time.Time) (*TokenInfo, error) {
	g := info.Grant
	if g == nil {
		return info, nil
	}
	firstOfGeneration := info.Generation == g.Generation && !g.SuccessorUsed
	if !firstOfGeneration && now.Sub(g.LastUsedAt) < usedEvery {
		return info, nil
	}
	if err := s.st.MarkGrantUsed(ctx, g.ID, info.Generation, now); err != nil {
		return nil, err
	}
	g2 := *g
	if firstOfGeneration {
		g2.SuccessorUsed = true
	}
	g2.LastUsedAt = now
	info2 := *info
	info2.Grant = &g2
	s.cache.replace(&info2)
	return &info2, nil
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
	now := s.now()
	info, err := s.tokenInfo(ctx, Hash(token), now)
	if errors.Is(err, ErrNotFound) {
		return &Introspection{}, nil
	}
	if err != nil {
		return nil, err
	}
	if !info.Active(now) || (info.AppID != caller.ID && !slices.Contains(s.cfg.ResourceServers, caller.ID)) {
		return &Introspection{}, nil
	}
	if info.Kind == KindAccess {
		if info, err = s.markUsed(ctx, info, now); err != nil {
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
		if err == nil {
			s.record(ctx, Event{Kind: EventGrantRevoked, AppID: app.ID, StoreID: info.StoreID, UserID: info.UserID, GrantID: info.Grant.ID, Detail: "revoked by the app (RFC 7009)"})
		}
	} else {
		err = s.st.RevokeToken(ctx, info.Hash, now)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return s.syncRevocations(ctx)
}

// RevokeGrant revokes a grant for a merchant or an operator; the revocation
// takes effect in this process's cache before it returns.
func (s *Service) RevokeGrant(ctx context.Context, id string) error {
	if err := s.st.RevokeGrant(ctx, id, s.now()); err != nil {
		return err
	}
	s.record(ctx, Event{Kind: EventGrantRevoked, GrantID: id, Detail: "revoked by the merchant or an operator"})
	return s.syncRevocations(ctx)
}

// Uninstall revokes every grant of an app on a store and returns how many
// there were.
func (s *Service) Uninstall(ctx context.Context, appID, storeID string) (int, error) {
	n, err := s.st.RevokeGrants(ctx, appID, storeID, s.now())
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.record(ctx, Event{Kind: EventGrantRevoked, AppID: appID, StoreID: storeID, Detail: "the merchant uninstalled the app"})
	}
	return n, s.syncRevocations(ctx)
}
