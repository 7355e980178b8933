package server

import (
	"context"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
)

// token serves POST /oauth/token (RFC 6749 §3.2) and each profile's token
// paths: the request is parsed once, in the dialect of the path it came to
// (p), and the response shaped in the dialect of the app it authenticated.
func (s *Server) token(p *profile.Profile) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := s.parseToken(w, r, p)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !s.allow(r, "token:"+req.Client.ID) {
			s.writeError(w, r, oauth.Errorf(oauth.ErrSlowDown, "too many token requests; slow down"))
			return
		}
		resp, err := s.svc.Token(r.Context(), req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.metrics.tokensIssued.WithLabelValues(req.GrantType).Inc()
		writeJSON(w, http.StatusOK, s.renderToken(r, resp))
	}
}

// parseToken reads a token request: a form (RFC 6749 §3.2), or, where the
// profile takes one, a JSON object with the profile's field names or the
// RFC's.
func (s *Server) parseToken(w http.ResponseWriter, r *http.Request, p *profile.Profile) (oauth.TokenRequest, error) {
	var f form
	var err error
	if p.JSONToken && isJSON(r) {
		f, err = readJSONForm(w, r, p.Params)
	} else if f, err = readForm(w, r); err == nil {
		f, err = renamed(f.values, p.Params)
	}
	if err != nil {
		return oauth.TokenRequest{}, err
	}
	client, err := clientCredentials(r.Header.Get("Authorization"), f)
	if err != nil {
		return oauth.TokenRequest{}, err
	}
	return oauth.TokenRequest{
		GrantType:    f.get("grant_type"),
		Client:       client,
		Code:         f.get("code"),
		RedirectURI:  f.get("redirect_uri"),
		CodeVerifier: f.get("code_verifier"),
		RefreshToken: f.get("refresh_token"),
		Scope:        f.get("scope"),
		ScopeSent:    f.has("scope"),
		StoreSlug:    storeSlug(r),
	}, nil
}

// renderToken shapes the response in the dialect of the app's profile.
func (s *Server) renderToken(r *http.Request, resp *oauth.TokenResponse) any {
	p := s.profiles[resp.App.Profile]
	if p == nil || p.Token == nil {
		p = s.profiles[profile.Standard]
	}
	res := profile.TokenResult{Resp: resp, Now: s.svc.Now()}
	if p.NeedsNames() && resp.Grant != nil {
		res.Names = s.boundNames(r, resp.Grant)
	}
	return p.Token(res)
}

// boundNames looks up the names of what a grant is bound to. A name that
// cannot be read is left out: the ids are what matter.
func (s *Server) boundNames(r *http.Request, g *oauth.Grant) profile.BoundNames {
	ctx := r.Context()
	n := profile.BoundNames{StoreID: g.StoreID, LocationID: g.Bound.LocationID, CatalogID: g.Bound.CatalogID, CustomerListID: g.Bound.CustomerListID}
	if st, err := s.st.Store(ctx, g.StoreID); err == nil {
		n.StoreName = st.Name
	}
	find := func(list func(context.Context, string) ([]oauth.Resource, error), id string) string {
		if id == "" {
			return ""
		}
		rs, err := list(ctx, g.StoreID)
		if err != nil {
			return ""
		}
		for _, r := range rs {
			if r.ID == id {
				return r.Name
			}
		}
		return ""
	}
	n.CatalogName = find(s.st.Catalogs, g.Bound.CatalogID)
	n.CustomerListName = find(s.st.CustomerLists, g.Bound.CustomerListID)
	n.LocationName = find(func(ctx context.Context, id string) ([]oauth.Resource, error) {
		ls, err := s.st.Locations(ctx, id)
		rs := make([]oauth.Resource, len(ls))
		for i, l := range ls {
			rs[i] = oauth.Resource(l)
		}
		return rs, err
	}, g.Bound.LocationID)
	return n
}

// revoke serves POST /oauth/revoke (RFC 7009 §2.1). The answer is 200
// whether or not the token was known (§2.2).
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	client, err := clientCredentials(r.Header.Get("Authorization"), f)
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

// introspect serves POST /oauth/introspect (RFC 7662 §2.1), natively on
// fasthttp: with the sample API it is the validation path.
func (s *Server) introspect(c *fasthttp.RequestCtx) {
	const pattern = "POST /oauth/introspect"
	// The service's calls get a context of their own: a *RequestCtx would
	// make the database drivers watch it from a goroutine per query.
	ctx := context.Background()
	f, err := readFastForm(c)
	if err != nil {
		s.writeFastError(ctx, c, pattern, err)
		return
	}
	client, err := clientCredentials(string(c.Request.Header.Peek("Authorization")), f)
	if err != nil {
		s.writeFastError(ctx, c, pattern, err)
		return
	}
	if s.limit != nil && !s.limit.allow("introspect:"+client.ID+"|"+c.RemoteIP().String(), time.Now()) {
		s.writeFastError(ctx, c, pattern, oauth.Errorf(oauth.ErrSlowDown, "too many introspection requests; slow down"))
		return
	}
	res, err := s.svc.Introspect(ctx, client, f.get("token"))
	if err != nil {
		s.writeFastError(ctx, c, pattern, err)
		return
	}
	if !res.Active {
		writeFastJSON(c, http.StatusOK, IntrospectionJSON{})
		return
	}
	writeFastJSON(c, http.StatusOK, introspection(res.Info, s.svc.Config().Issuer))
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
