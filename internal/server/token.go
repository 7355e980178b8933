package server

import (
	"net/http"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// TokenJSON is the standard token response body (RFC 6749 §5.1).
type TokenJSON struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// StandardToken renders a token response in the RFC 6749 §5.1 shape. A
// token that never expires has no expires_in (§5.1 makes it optional).
func StandardToken(resp *oauth.TokenResponse, now time.Time) any {
	return TokenJSON{
		AccessToken:  resp.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    resp.ExpiresIn(now),
		RefreshToken: resp.RefreshToken,
		Scope:        resp.Scopes.String(),
	}
}

// token serves POST /oauth/token (RFC 6749 §3.2).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := clientCredentials(r, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.allow(r, "token:"+client.ID) {
		s.writeError(w, r, oauth.Errorf(oauth.ErrSlowDown, "too many token requests; slow down"))
		return
	}
	req := oauth.TokenRequest{
		GrantType:    f.get("grant_type"),
		Client:       client,
		Code:         f.get("code"),
		RedirectURI:  f.get("redirect_uri"),
		CodeVerifier: f.get("code_verifier"),
		RefreshToken: f.get("refresh_token"),
		Scope:        f.get("scope"),
		ScopeSent:    f.has("scope"),
	}
	resp, err := s.svc.Token(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.tokensIssued.WithLabelValues(req.GrantType).Inc()
	render := s.opts.TokenRenderers[resp.App.Profile]
	if render == nil {
		render = StandardToken
	}
	writeJSON(w, http.StatusOK, render(resp, s.svc.Now()))
}

// revoke serves POST /oauth/revoke (RFC 7009 §2.1). The answer is 200
// whether or not the token was known (§2.2).
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := clientCredentials(r, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.allow(r, "revoke:"+client.ID) {
		s.writeError(w, r, oauth.Errorf(oauth.ErrSlowDown, "too many requests; slow down"))
		return
	}
	if err := s.svc.Revoke(r.Context(), client, f.get("token")); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.tokensRevoked.Inc()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// IntrospectionJSON is the introspection response (RFC 7662 §2.2) with
// Storekey's extensions naming what the token is bound to.
type IntrospectionJSON struct {
	Active         bool   `json:"active"`
	Scope          string `json:"scope,omitempty"`
	ClientID       string `json:"client_id,omitempty"`
	TokenType      string `json:"token_type,omitempty"`
	Exp            int64  `json:"exp,omitempty"`
	Iat            int64  `json:"iat,omitempty"`
	Sub            string `json:"sub,omitempty"`
	Iss            string `json:"iss,omitempty"`
	StoreID        string `json:"store_id,omitempty"`
	GrantID        string `json:"grant_id,omitempty"`
	LocationID     string `json:"location_id,omitempty"`
	CatalogID      string `json:"catalog_id,omitempty"`
	CustomerListID string `json:"customer_list_id,omitempty"`
}

// introspect serves POST /oauth/introspect (RFC 7662 §2.1).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := clientCredentials(r, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.Introspect(r.Context(), client, f.get("token"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !res.Active {
		writeJSON(w, http.StatusOK, IntrospectionJSON{})
		return
	}
	writeJSON(w, http.StatusOK, introspection(res.Info, s.svc.Config().Issuer))
}

func introspection(t *oauth.TokenInfo, iss string) IntrospectionJSON {
	out := IntrospectionJSON{
		Active:    true,
		Scope:     t.Scopes.String(),
		ClientID:  t.AppID,
		TokenType: "Bearer",
		Iat:       t.CreatedAt.Unix(),
		Sub:       t.UserID,
		Iss:       iss,
		StoreID:   t.StoreID,
		GrantID:   t.GrantID,
	}
	if t.Kind == oauth.KindRefresh {
		out.TokenType = "refresh_token"
	}
	if !t.ExpiresAt.IsZero() {
		out.Exp = t.ExpiresAt.Unix()
	}
	if out.Sub == "" {
		out.Sub = t.AppID
	}
	if t.Grant != nil {
		out.LocationID = t.Grant.Bound.LocationID
		out.CatalogID = t.Grant.Bound.CatalogID
		out.CustomerListID = t.Grant.Bound.CustomerListID
	}
	return out
}
