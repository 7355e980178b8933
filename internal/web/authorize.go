package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
)

// ParseAuthorize reads an authorization request (RFC 6749 §4.1.1) from the
// query. Every parameter that appears more than once is listed in Repeated,
// sorted, since §3.1 forbids repeating any; ValidateAuthorize decides what
// that means.
func ParseAuthorize(q url.Values) oauth.AuthorizeRequest {
	std, _ := profile.Get(profile.Standard)
	return ParseAuthorizeIn(q, std)
}

// ParseAuthorizeIn reads an authorization request in a profile's dialect:
// its parameter names (the RFC 6749 names are accepted too), its device
// and sign-up parameters.
func ParseAuthorizeIn(q url.Values, p *profile.Profile) oauth.AuthorizeRequest {
	get := func(name, rfc string) string {
		if name != "" && q.Has(name) {
			return q.Get(name)
		}
		return q.Get(rfc)
	}
	n := p.Params
	r := oauth.AuthorizeRequest{
		ResponseType:        get(n.ResponseType, "response_type"),
		ClientID:            get(n.ClientID, "client_id"),
		RedirectURI:         get(n.RedirectURI, "redirect_uri"),
		Scope:               get(n.Scope, "scope"),
		State:               get(n.State, "state"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
	}
	if p.DeviceParam != "" {
		r.DeviceID = q.Get(p.DeviceParam)
	}
	for _, k := range p.Prefill {
		if v := q.Get(k); v != "" {
			if r.Prefill == nil {
				r.Prefill = map[string]string{}
			}
			r.Prefill[k] = v
		}
	}
	for k, v := range q {
		if len(v) > 1 {
			r.Repeated = append(r.Repeated, k)
		}
	}
	slices.Sort(r.Repeated)
	return r
}

// mountAuthorize serves the authorization endpoint at /oauth/authorize and
// at each profile's own paths, in that profile's parameter names.
func (h *Handler) mountAuthorize(mux *http.ServeMux) {
	for _, p := range h.opts.Profiles {
		paths := p.AuthorizePaths
		if p.Name == profile.Standard {
			paths = []string{"/oauth/authorize"}
		}
		for _, path := range paths {
			mux.HandleFunc("GET "+path, h.authorize(p))
			mux.HandleFunc("POST "+path, h.decide(p))
			if p.StorePaths {
				mux.HandleFunc("GET /stores/{store}"+path, h.authorize(p))
				mux.HandleFunc("POST /stores/{store}"+path, h.decide(p))
			}
		}
	}
}

// appProfile returns the profile of an app (standard if it is not enabled).
func (h *Handler) appProfile(a *oauth.App) *profile.Profile {
	if p := h.profiles[a.Profile]; p != nil {
		return p
	}
	return h.profiles[profile.Standard]
}

// authorize is the authorization endpoint (RFC 6749 §3.1): it validates the
// request, asks the merchant to sign in, and shows the consent page (or
// approves at once when consent was already given).
func (h *Handler) authorize(p *profile.Profile) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h.authorizeIn(w, r, p) }
}

func (h *Handler) authorizeIn(w http.ResponseWriter, r *http.Request, p *profile.Profile) {
	a, ok := h.validate(w, r, r.URL.RawQuery, p)
	if !ok {
		return
	}
	m, err := h.signedIn(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if m == nil {
		h.render(w, r, http.StatusOK, "signin", h.signinFor(r, a, r.URL.Path+"?"+r.URL.RawQuery))
		return
	}
	u, cookie, stores := m.user, m.cookie, storesFor(m.memberships, a.StoreSlug)
	// Consent is skipped only when there is nothing to choose: one store,
	// and no location, catalog or customer list to pick within it.
	if len(stores) == 1 && len(h.resourceKinds(a)) == 0 {
		skip, err := h.svc.CanSkipConsent(r.Context(), a, stores[0].ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if skip {
			h.approve(w, r, a, u, m.session, stores[0])
			return
		}
	}
	h.consent(w, r, http.StatusOK, consentView{
		base: h.base(r, u), Query: r.URL.RawQuery, CSRF: csrfToken(cookie), Stores: stores,
	}, a)
}

// storesFor returns the stores a merchant with these memberships may
// connect apps to: those they own or administer, limited to the one with
// the slug, if one is given (a request that names its store).
func storesFor(ms []oauth.Membership, slug string) []oauth.Store {
	var out []oauth.Store
	for _, m := range ms {
		if m.Role.CanAuthorize() && (slug == "" || m.Store.Slug == slug) {
			out = append(out, m.Store)
		}
	}
	return out
}

// decide receives the consent form. The original request comes back in q
// and is validated again: nothing the form says is trusted beyond what the
// merchant chose, and the store is checked against their memberships.
func (h *Handler) decide(p *profile.Profile) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h.decideIn(w, r, p) }
}

func (h *Handler) decideIn(w http.ResponseWriter, r *http.Request, p *profile.Profile) {
	if !h.parseForm(w, r) {
		return
	}
	raw := r.PostForm.Get("q")
	a, ok := h.validate(w, r, raw, p)
	if !ok {
		return
	}
	m, err := h.signedIn(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if m == nil {
		v := h.signinFor(r, a, r.URL.Path+"?"+raw)
		v.Error = "Your session has ended. Sign in again to continue."
		h.render(w, r, http.StatusUnauthorized, "signin", v)
		return
	}
	u, cookie := m.user, m.cookie
	if !validCSRF(cookie, r.PostForm.Get("csrf")) {
		h.message(w, r, http.StatusForbidden, message{
			base:    h.base(r, u),
			Heading: "Request refused",
			Text:    "The form has expired. Go back to the app and start again.",
		})
		return
	}
	switch r.PostForm.Get("decision") {
	case "deny":
		h.deny(w, r, a, u)
	case "allow":
		stores := storesFor(m.memberships, a.StoreSlug)
		id := r.PostForm.Get("store_id")
		if id == "" && len(stores) > 0 {
			v := consentView{
				base: h.base(r, u), Query: raw, CSRF: csrfToken(cookie), Stores: stores,
				Error: "Choose the store to connect.",
			}
			v.Path = r.URL.Path + "?" + raw
			h.consent(w, r, http.StatusBadRequest, v, a)
			return
		}
		i := slices.IndexFunc(stores, func(s oauth.Store) bool { return s.ID == id })
		if i < 0 {
			h.forbiddenStore(w, r, u)
			return
		}
		bound, problem, err := h.pickedResources(r, a, stores[i])
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if problem != "" {
			v := consentView{base: h.base(r, u), Query: raw, CSRF: csrfToken(cookie), Stores: stores, Error: problem}
			v.Path = r.URL.Path + "?" + raw
			h.consent(w, r, http.StatusBadRequest, v, a)
			return
		}
		h.approveWith(w, r, a, u, m.session, stores[i], bound)
	default:
		h.message(w, r, http.StatusBadRequest, message{
			base:    h.base(r, u),
			Heading: "Bad request",
			Text:    "Choose Allow or Deny.",
		})
	}
}

// validate parses and validates the authorization request in the raw query
// string. When it cannot go on it has answered: with an error page if the
// client or redirect URI is not to be trusted (RFC 6749 §4.1.2.1, RFC 9700
// §4.11) or the response would go out of band, else with a redirect that
// carries the error to the client.
func (h *Handler) validate(w http.ResponseWriter, r *http.Request, raw string, p *profile.Profile) (*oauth.Authorization, bool) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		h.message(w, r, http.StatusBadRequest, message{
			Heading: "Invalid authorization request",
			Text:    "The request's parameters are not properly encoded.",
			Code:    oauth.ErrInvalidRequest,
		})
		return nil, false
	}
	req := ParseAuthorizeIn(q, p)
	req.StoreSlug = profile.StoreFrom(r.Context())
	if s := r.PathValue("store"); s != "" {
		req.StoreSlug = s
	}
	a, err := h.svc.ValidateAuthorize(r.Context(), req)
	if err == nil {
		return a, true
	}
	e := oauth.AsError(err)
	switch {
	case e.Code == oauth.ErrServerError:
		if a != nil && !a.OOB() {
			h.log.ErrorContext(r.Context(), "validate authorization request", "err", err)
			h.redirect(w, r, h.svc.ErrorRedirect(a, err))
		} else {
			h.serverError(w, r, err)
		}
	case a == nil || a.OOB():
		// Nothing to redirect to: explain here, never redirect.
		h.message(w, r, http.StatusBadRequest, message{
			Heading: "Invalid authorization request",
			Text:    "The app sent an authorization request that cannot be processed: " + e.Description + ".",
			Code:    e.Code,
		})
	default:
		h.redirect(w, r, h.svc.ErrorRedirect(a, err))
	}
	return nil, false
}

// authorizableStores returns the stores u may connect apps to.
func (h *Handler) authorizableStores(ctx context.Context, userID string) ([]oauth.Store, error) {
	ms, err := h.st.Memberships(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	return storesFor(ms, ""), nil
}

// approve issues the code and sends it to the app, or shows it when the
// app asked for it out of band.
func (h *Handler) approve(w http.ResponseWriter, r *http.Request, a *oauth.Authorization, u *oauth.User, sess *oauth.Session, s oauth.Store) {
	h.approveWith(w, r, a, u, sess, s, oauth.Bound{})
}

func (h *Handler) approveWith(w http.ResponseWriter, r *http.Request, a *oauth.Authorization, u *oauth.User, sess *oauth.Session, s oauth.Store, bound oauth.Bound) {
	code, err := h.svc.Approve(r.Context(), a, sess, s.ID, bound)
	if err != nil {
		if oauth.AsError(err).Code == oauth.ErrAccessDenied {
			// The membership changed between the check and the approval.
			h.forbiddenStore(w, r, u)
			return
		}
		h.serverError(w, r, err)
		return
	}
	// The audit trail keeps every authorization (authorization.granted);
	// the log, one line per request at most, mentions it at debug level.
	h.log.DebugContext(r.Context(), "app authorized", "app_id", a.App.ID, "store_id", s.ID, "user_id", u.ID)
	if a.OOB() {
		h.render(w, r, http.StatusOK, "code", codeView{
			base:    h.base(r, u),
			App:     a.App,
			Store:   s,
			Code:    code,
			Minutes: int(h.svc.Config().CodeTTL.Minutes()),
		})
		return
	}
	h.redirect(w, r, h.svc.SuccessRedirect(a, code))
}

// deny sends access_denied to the app (RFC 6749 §4.1.2.1).
func (h *Handler) deny(w http.ResponseWriter, r *http.Request, a *oauth.Authorization, u *oauth.User) {
	err := oauth.AsError(h.svc.Deny(r.Context(), a, u.ID))
	h.log.DebugContext(r.Context(), "app denied", "app_id", a.App.ID, "user_id", u.ID)
	if a.OOB() {
		h.message(w, r, http.StatusOK, message{
			base:    h.base(r, u),
			Heading: "Access denied",
			Text:    a.App.Name + " was not given access. You can close this page.",
			Code:    err.Code,
		})
		return
	}
	h.redirect(w, r, h.svc.ErrorRedirect(a, err))
}

func (h *Handler) forbiddenStore(w http.ResponseWriter, r *http.Request, u *oauth.User) {
	h.message(w, r, http.StatusForbidden, message{
		base:    h.base(r, u),
		Heading: "Not allowed",
		Text:    "You can connect apps only to stores where you are an owner or an admin.",
	})
}

// consentView is the consent page, and the page that explains why there is
// nothing to consent to when the merchant administers no store.
type consentView struct {
	base
	Query        string // the original request, posted back as q
	CSRF         string
	App          *oauth.App
	Logo         template.URL // the app's logo: an https URL, or a PNG or JPEG data URL checked at registration
	Scopes       []oauth.ScopeInfo
	Stores       []oauth.Store
	RedirectHost string // where the answer goes; "" when out of band
	Error        string
	Action       string // where the form posts: the path the request came to
	AllowLabel   string // the granting button's label in the app's dialect
	Pickers      []picker
}

func (h *Handler) consent(w http.ResponseWriter, r *http.Request, status int, v consentView, a *oauth.Authorization) {
	v.App = a.App
	if l := a.App.LogoURL; strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "/logos/") || strings.HasPrefix(l, "data:image/png;base64,") || strings.HasPrefix(l, "data:image/jpeg;base64,") {
		v.Logo = template.URL(l) // #nosec G203 -- https, or a data URL of a checked PNG or JPEG image
	}
	v.Action = r.URL.Path
	v.AllowLabel = h.appProfile(a.App).AllowLabel
	if len(v.Stores) > 0 {
		var err error
		if v.Pickers, err = h.pickers(r.Context(), a, v.Stores); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	catalog := h.svc.CatalogOf(a.App)
	for _, name := range a.Scopes {
		info, ok := catalog.Lookup(name)
		if !ok || info.Description == "" {
			info = oauth.ScopeInfo{Name: name, Description: name}
		}
		v.Scopes = append(v.Scopes, info)
	}
	if !a.OOB() {
		v.RedirectHost = a.RedirectURI
		if u, err := url.Parse(a.RedirectURI); err == nil && u.Host != "" {
			v.RedirectHost = u.Host
		}
	}
	page := "consent"
	if len(v.Stores) == 0 {
		page = "nostore"
	}
	h.render(w, r, status, page, v)
}

// codeView shows an authorization code issued out of band.
type codeView struct {
	base
	App     *oauth.App
	Store   oauth.Store
	Code    string
	Minutes int
}
