package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/storekey/storekey/internal/oauth"
)

// ParseAuthorize reads an authorization request (RFC 6749 §4.1.1) from the
// query. Every parameter that appears more than once is listed in Repeated,
// sorted, since §3.1 forbids repeating any; ValidateAuthorize decides what
// that means.
func ParseAuthorize(q url.Values) oauth.AuthorizeRequest {
	r := oauth.AuthorizeRequest{
		ResponseType:        q.Get("response_type"),
		ClientID:            q.Get("client_id"),
		RedirectURI:         q.Get("redirect_uri"),
		Scope:               q.Get("scope"),
		State:               q.Get("state"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
	}
	for k, v := range q {
		if len(v) > 1 {
			r.Repeated = append(r.Repeated, k)
		}
	}
	slices.Sort(r.Repeated)
	return r
}

// authorize is the authorization endpoint (RFC 6749 §3.1): it validates the
// request, asks the merchant to sign in, and shows the consent page (or
// approves at once when consent was already given).
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	a, ok := h.validate(w, r, r.URL.RawQuery)
	if !ok {
		return
	}
	u, cookie, err := h.session(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if u == nil {
		h.render(w, r, http.StatusOK, "signin", signin{
			base: h.base(r, nil),
			Next: "/oauth/authorize?" + r.URL.RawQuery,
			App:  a.App,
		})
		return
	}
	stores, err := h.authorizableStores(r.Context(), u.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if len(stores) == 1 {
		skip, err := h.svc.CanSkipConsent(r.Context(), a, stores[0].ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if skip {
			h.approve(w, r, a, u, stores[0])
			return
		}
	}
	h.consent(w, r, http.StatusOK, consentView{
		base: h.base(r, u), Query: r.URL.RawQuery, CSRF: csrfToken(cookie), Stores: stores,
	}, a)
}

// decide receives the consent form. The original request comes back in q
// and is validated again: nothing the form says is trusted beyond what the
// merchant chose, and the store is checked against their memberships.
func (h *Handler) decide(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	raw := r.PostForm.Get("q")
	a, ok := h.validate(w, r, raw)
	if !ok {
		return
	}
	u, cookie, err := h.session(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if u == nil {
		h.render(w, r, http.StatusUnauthorized, "signin", signin{
			base:  h.base(r, nil),
			Next:  "/oauth/authorize?" + raw,
			App:   a.App,
			Error: "Your session has ended. Sign in again to continue.",
		})
		return
	}
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
		stores, err := h.authorizableStores(r.Context(), u.ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		id := r.PostForm.Get("store_id")
		if id == "" && len(stores) > 0 {
			v := consentView{
				base: h.base(r, u), Query: raw, CSRF: csrfToken(cookie), Stores: stores,
				Error: "Choose the store to connect.",
			}
			v.Path = "/oauth/authorize?" + raw
			h.consent(w, r, http.StatusBadRequest, v, a)
			return
		}
		i := slices.IndexFunc(stores, func(s oauth.Store) bool { return s.ID == id })
		if i < 0 {
			h.forbiddenStore(w, r, u)
			return
		}
		h.approve(w, r, a, u, stores[i])
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
func (h *Handler) validate(w http.ResponseWriter, r *http.Request, raw string) (*oauth.Authorization, bool) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		h.message(w, r, http.StatusBadRequest, message{
			Heading: "Invalid authorization request",
			Text:    "The request's parameters are not properly encoded.",
			Code:    oauth.ErrInvalidRequest,
		})
		return nil, false
	}
	a, err := h.svc.ValidateAuthorize(r.Context(), ParseAuthorize(q))
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
	var out []oauth.Store
	for _, m := range ms {
		if m.Role.CanAuthorize() {
			out = append(out, m.Store)
		}
	}
	return out, nil
}

// approve issues the code and sends it to the app, or shows it when the
// app asked for it out of band.
func (h *Handler) approve(w http.ResponseWriter, r *http.Request, a *oauth.Authorization, u *oauth.User, s oauth.Store) {
	code, err := h.svc.Approve(r.Context(), a, u.ID, s.ID, oauth.Bound{})
	if err != nil {
		if oauth.AsError(err).Code == oauth.ErrAccessDenied {
			// The membership changed between the check and the approval.
			h.forbiddenStore(w, r, u)
			return
		}
		h.serverError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "app authorized", "app_id", a.App.ID, "store_id", s.ID, "user_id", u.ID)
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
	h.log.InfoContext(r.Context(), "app denied", "app_id", a.App.ID, "user_id", u.ID)
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
	Logo         string // the app's logo, if it is an https URL
	Scopes       []oauth.ScopeInfo
	Stores       []oauth.Store
	RedirectHost string // where the answer goes; "" when out of band
	Error        string
}

func (h *Handler) consent(w http.ResponseWriter, r *http.Request, status int, v consentView, a *oauth.Authorization) {
	v.App = a.App
	if strings.HasPrefix(a.App.LogoURL, "https://") {
		v.Logo = a.App.LogoURL
	}
	catalog := h.svc.Config().Scopes
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
