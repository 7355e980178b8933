package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// Portal is what the partner dashboard and the merchant's app pages need
// beside oauth.Storage. Set it in Options to serve them.
type Portal struct {
	Partners oauth.PartnerStorage
	Audit    oauth.AuditLog
	Outbox   oauth.Outbox
	// Sealer seals the client secrets that sign webhooks.
	Sealer *oauth.Sealer
	// SecretGrace is how long a rotated client secret stays valid; default
	// 24 hours.
	SecretGrace time.Duration
	// FreshFor is how recent a sign-in must be for a page that changes
	// something (an app, a secret, a revocation); older sessions are asked
	// to sign in again first. Default 1 hour.
	FreshFor time.Duration
}

const (
	partnerCookie = "storekey_partner"
	// partnerPath scopes the partner cookie: the browser never sends it
	// to the merchant's pages, nor the authorization endpoint.
	partnerPath = "/partners"
)

// mountPortal registers the portal's routes when one is configured.
func (h *Handler) mountPortal(mux *http.ServeMux) {
	p := h.opts.Portal
	if p == nil {
		return
	}
	if p.SecretGrace <= 0 {
		p.SecretGrace = 24 * time.Hour
	}
	if p.FreshFor <= 0 {
		p.FreshFor = time.Hour
	}
	mux.HandleFunc("GET /logos/{app}", h.logo)

	mux.HandleFunc("GET /partners/{$}", h.partnerHome)
	mux.HandleFunc("GET /partners/signup", h.partnerSignupPage)
	mux.HandleFunc("POST /partners/signup", h.partnerSignup)
	mux.HandleFunc("GET /partners/login", h.partnerLoginPage)
	mux.HandleFunc("POST /partners/login", h.partnerLogin)
	mux.HandleFunc("POST /partners/logout", h.partnerLogout)
	mux.HandleFunc("GET /partners/apps/new", h.partnerOnly(h.newAppPage))
	mux.HandleFunc("POST /partners/apps", h.partnerChange(h.createApp))
	mux.HandleFunc("GET /partners/apps/{app}", h.partnerApp(h.appPage))
	mux.HandleFunc("GET /partners/apps/{app}/edit", h.partnerApp(h.editAppPage))
	mux.HandleFunc("POST /partners/apps/{app}", h.partnerAppChange(h.updateApp))
	mux.HandleFunc("POST /partners/apps/{app}/logo", h.partnerAppChange(h.uploadLogo))
	mux.HandleFunc("GET /partners/apps/{app}/rotate", h.partnerApp(h.confirmRotate))
	mux.HandleFunc("POST /partners/apps/{app}/rotate", h.partnerAppChange(h.rotateSecret))
	mux.HandleFunc("GET /partners/apps/{app}/delete", h.partnerApp(h.confirmDelete))
	mux.HandleFunc("POST /partners/apps/{app}/delete", h.partnerAppChange(h.deleteApp))
	mux.HandleFunc("POST /partners/apps/{app}/test", h.partnerAppChange(h.sendTest))

	mux.HandleFunc("GET /account/{$}", h.merchantOnly(h.connectedApps))
	mux.HandleFunc("GET /account/stores/{store}/apps/{app}/revoke", h.merchantOnly(h.confirmRevoke))
	mux.HandleFunc("POST /account/stores/{store}/apps/{app}/revoke", h.merchantChange(h.revokeApp))
	mux.HandleFunc("GET /account/activity", h.merchantOnly(h.activity))
}

// requestActor puts the client's address and browser in every request's
// context, so that what the service records while serving it (a consent,
// a denial) says where it came from; the audit recorder completes who from
// the event. Handlers that know the person replace it (WithActor).
func (h *Handler) requestActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := oauth.Actor{IP: h.opts.ClientIP(r), UserAgent: r.UserAgent()}
		next.ServeHTTP(w, r.WithContext(oauth.WithActor(r.Context(), a)))
	})
}

// actor is who makes r, for the audit trail.
func (h *Handler) actor(r *http.Request, kind, id string) oauth.Actor {
	return oauth.Actor{Kind: kind, ID: id, IP: h.opts.ClientIP(r), UserAgent: r.UserAgent()}
}

// audit appends a record, completed with the actor's address; a failure is
// logged, never shown: the change it records has been made.
func (h *Handler) audit(ctx context.Context, a oauth.Actor, rec oauth.AuditRecord) {
	if rec.At.IsZero() {
		rec.At = h.now()
	}
	rec.ActorKind, rec.ActorID, rec.IP, rec.UserAgent = a.Kind, a.ID, a.IP, a.UserAgent
	if err := h.opts.Portal.Audit.AppendAudit(ctx, []oauth.AuditRecord{rec}); err != nil {
		h.log.ErrorContext(ctx, "audit", "action", rec.Action, "err", err)
	}
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// auditSignIn records the merchant sign-in's outcome, read from the answer
// of the sign-in handler it wraps: 303 with a session is a success, 401 a
// wrong email or password, 429 a throttled attempt.
func (h *Handler) auditSignIn(next http.Handler) http.Handler {
	if h.opts.Portal == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		email := truncateString(strings.TrimSpace(r.PostForm.Get("email")), maxEmail)
		var action string
		switch rec.status {
		case http.StatusSeeOther:
			action = oauth.AuditSignIn
		case http.StatusUnauthorized:
			action = oauth.AuditSignInFailed
		case http.StatusTooManyRequests:
			action = oauth.AuditSignInThrottled
		default:
			return
		}
		ctx := context.WithoutCancel(r.Context())
		a := h.actor(r, oauth.ActorMerchant, "")
		ar := oauth.AuditRecord{Action: action, Detail: "merchant sign-in as " + email}
		if email != "" {
			if u, err := h.st.UserByEmail(ctx, email); err == nil {
				a.ID, ar.UserID = u.ID, u.ID
			}
		}
		h.audit(ctx, a, ar)
	})
}

// partnerSession returns the signed-in partner, the session and the
// cookie's value, or nil when there is none. A merchant session is no one
// here, as a partner session is no one on the merchant's pages.
func (h *Handler) partnerSession(r *http.Request) (*oauth.Partner, *oauth.Session, string, error) {
	c, err := r.Cookie(partnerCookie)
	if err != nil || !validCookie(c.Value) {
		return nil, nil, "", nil
	}
	s, err := h.st.Session(r.Context(), oauth.Hash(c.Value), h.now())
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, nil, "", nil
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("partner session: %w", err)
	}
	if s.Kind != oauth.SessionPartner {
		return nil, nil, "", nil
	}
	p, err := h.opts.Portal.Partners.Partner(r.Context(), s.UserID)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, nil, "", nil
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("session partner: %w", err)
	}
	return p, s, c.Value, nil
}

// fresh reports whether the session began recently enough to change
// things.
func (h *Handler) fresh(s *oauth.Session) bool {
	return h.now().Sub(s.CreatedAt) <= h.opts.Portal.FreshFor
}

// partnerCtx is what the partner handlers get.
type partnerCtx struct {
	partner *oauth.Partner
	csrf    string
	actor   oauth.Actor
	app     *oauth.App // for the handlers of one app
}

// partnerOnly serves next to a signed-in partner, and sends anyone else to
// the partner sign-in page.
func (h *Handler) partnerOnly(next func(http.ResponseWriter, *http.Request, *partnerCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, _, cookie, err := h.partnerSession(r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if p == nil {
			h.partnerSignInFirst(w, r, "")
			return
		}
		next(w, r, &partnerCtx{partner: p, csrf: csrfToken(cookie), actor: h.actor(r, oauth.ActorPartner, p.ID)})
	}
}

// partnerChange serves a form post to a signed-in partner whose sign-in is
// fresh and whose form carries the session's CSRF token.
func (h *Handler) partnerChange(next func(http.ResponseWriter, *http.Request, *partnerCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.parsePortalForm(w, r) {
			return
		}
		p, s, cookie, err := h.partnerSession(r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if p == nil {
			h.partnerSignInFirst(w, r, "Your session has ended. Sign in again, then repeat what you were doing.")
			return
		}
		if !validCSRF(cookie, r.FormValue("csrf")) {
			h.message(w, r, http.StatusForbidden, message{base: h.partnerBase(r, p), Heading: "Request refused",
				Text: "The form has expired. Go back, reload the page and try again.", Back: partnerPath + "/"})
			return
		}
		if !h.fresh(s) {
			h.partnerSignInFirst(w, r, "For your security, sign in again before making this change.")
			return
		}
		next(w, r, &partnerCtx{partner: p, csrf: csrfToken(cookie), actor: h.actor(r, oauth.ActorPartner, p.ID)})
	}
}

// partnerApp is partnerOnly for the pages of one app, which must be the
// partner's own: another partner's app, or no app, is the same 404, so
// that ids cannot be probed.
func (h *Handler) partnerApp(next func(http.ResponseWriter, *http.Request, *partnerCtx)) http.HandlerFunc {
	return h.partnerOnly(h.withApp(next))
}

// partnerAppChange is partnerChange for one of the partner's apps.
func (h *Handler) partnerAppChange(next func(http.ResponseWriter, *http.Request, *partnerCtx)) http.HandlerFunc {
	return h.partnerChange(h.withApp(next))
}

func (h *Handler) withApp(next func(http.ResponseWriter, *http.Request, *partnerCtx)) func(http.ResponseWriter, *http.Request, *partnerCtx) {
	return func(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
		a, err := h.st.App(r.Context(), r.PathValue("app"))
		if errors.Is(err, oauth.ErrNotFound) || (err == nil && a.PartnerID != pc.partner.ID) {
			h.message(w, r, http.StatusNotFound, message{base: h.partnerBase(r, pc.partner), Heading: "No such app",
				Text: "You have no app with this client id.", Back: partnerPath + "/"})
			return
		}
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		pc.app = a
		next(w, r, pc)
	}
}

// partnerSignInFirst sends a visitor to the partner sign-in page, coming
// back to the page they asked for (for a form post, the page it came from).
func (h *Handler) partnerSignInFirst(w http.ResponseWriter, r *http.Request, notice string) {
	next := r.URL.Path
	if r.Method != http.MethodGet {
		next = localPath(r.FormValue("back"))
	}
	if !strings.HasPrefix(next, partnerPath+"/") {
		next = partnerPath + "/"
	}
	status := http.StatusSeeOther
	if r.Method != http.MethodGet {
		status = http.StatusUnauthorized
	}
	if status == http.StatusSeeOther && notice == "" {
		h.redirect(w, r, partnerPath+"/login?"+url.Values{"next": {next}}.Encode())
		return
	}
	h.render(w, r, status, "partner_signin", partnerSignin{base: h.base(r, nil), Next: next, Notice: notice})
}

func (h *Handler) partnerBase(r *http.Request, p *oauth.Partner) base {
	b := h.base(r, nil)
	b.Partner = p
	return b
}

// merchantCtx is what the merchant's app pages get.
type merchantCtx struct {
	user  *oauth.User
	csrf  string
	actor oauth.Actor
}

// merchantOnly serves next to a signed-in merchant and sends anyone else
// to the sign-in page.
func (h *Handler) merchantOnly(next func(http.ResponseWriter, *http.Request, *merchantCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, _, cookie, err := h.merchantSession(r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if u == nil {
			h.redirect(w, r, signinURL(r.URL.RequestURI()))
			return
		}
		next(w, r, &merchantCtx{user: u, csrf: csrfToken(cookie), actor: h.actor(r, oauth.ActorMerchant, u.ID)})
	}
}

// merchantChange serves a form post to a signed-in merchant whose sign-in
// is fresh and whose form carries the session's CSRF token.
func (h *Handler) merchantChange(next func(http.ResponseWriter, *http.Request, *merchantCtx)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.parseForm(w, r) {
			return
		}
		u, s, cookie, err := h.merchantSession(r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		back := localPath(r.PostForm.Get("back"))
		if !strings.HasPrefix(back, "/account/") {
			back = "/account/"
		}
		if u == nil {
			h.render(w, r, http.StatusUnauthorized, "signin", signin{base: h.base(r, nil), Next: back,
				Error: "Your session has ended. Sign in again, then repeat what you were doing."})
			return
		}
		if !validCSRF(cookie, r.PostForm.Get("csrf")) {
			h.message(w, r, http.StatusForbidden, message{base: h.base(r, u), Heading: "Request refused",
				Text: "The form has expired. Go back, reload the page and try again.", Back: "/account/"})
			return
		}
		if !h.fresh(s) {
			h.render(w, r, http.StatusUnauthorized, "signin", signin{base: h.base(r, nil), Next: back, Email: u.Email,
				Error: "For your security, sign in again before making this change."})
			return
		}
		next(w, r, &merchantCtx{user: u, csrf: csrfToken(cookie), actor: h.actor(r, oauth.ActorMerchant, u.ID)})
	}
}

// parsePortalForm reads a posted form, url-encoded or multipart (a logo
// upload), within the size limits, answering itself when it cannot.
func (h *Handler) parsePortalForm(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return h.parseForm(w, r)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoForm)
	err := r.ParseMultipartForm(maxLogoForm) //nolint:gosec // G120: the body is bounded by the MaxBytesReader above
	if err == nil {
		return true
	}
	if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
		h.message(w, r, http.StatusRequestEntityTooLarge, message{Heading: "Upload too large",
			Text: "The logo may be at most 1 MB. Go back and choose a smaller file.", Back: partnerPath + "/"})
		return false
	}
	h.message(w, r, http.StatusBadRequest, message{Heading: "Bad request", Text: "The form sent could not be read."})
	return false
}
