package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
	"github.com/storekey/storekey/internal/profile"
)

// minPartnerPassword is the shortest password a partner account takes.
const minPartnerPassword = 10

type partnerSignin struct {
	base
	Email  string
	Next   string
	Error  string
	Notice string
}

type partnerSignup struct {
	base
	Email, Name, Company string
	Errors               map[string]string
	MinPassword          int
}

type partnerHomeView struct {
	base
	CSRF string
	Apps []appRow
}

type appRow struct {
	App           *oauth.App
	Logo          string
	Installations int
}

// partnerHome lists the signed-in partner's apps, or invites a visitor to
// sign in or sign up.
func (h *Handler) partnerHome(w http.ResponseWriter, r *http.Request) {
	p, _, cookie, err := h.partnerSession(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if p == nil {
		h.render(w, r, http.StatusOK, "partner_welcome", h.base(r, nil))
		return
	}
	apps, err := h.st.Apps(r.Context(), p.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	v := partnerHomeView{base: h.partnerBase(r, p), CSRF: csrfToken(cookie)}
	for _, a := range apps {
		ins, err := h.opts.Portal.Partners.Installations(r.Context(), oauth.InstallationFilter{AppID: a.ID})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		v.Apps = append(v.Apps, appRow{App: a, Logo: h.logoURL(r.Context(), a), Installations: len(ins)})
	}
	h.render(w, r, http.StatusOK, "partner_apps", v)
}

func (h *Handler) partnerSignupPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "partner_signup", partnerSignup{base: h.base(r, nil), MinPassword: minPartnerPassword})
}

// partnerSignup creates a partner account and signs it in. Sign-ups are
// throttled per client address like sign-ins.
func (h *Handler) partnerSignup(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	f := r.PostForm
	v := partnerSignup{
		base: h.base(r, nil), Email: strings.TrimSpace(f.Get("email")), Name: strings.TrimSpace(f.Get("name")),
		Company: strings.TrimSpace(f.Get("company")), Errors: map[string]string{}, MinPassword: minPartnerPassword,
	}
	pw := f.Get("password")
	switch {
	case len(v.Email) > maxEmail || !strings.Contains(v.Email, "@") || strings.ContainsAny(v.Email, " \t\r\n"):
		v.Errors["email"] = "Enter an email address."
	}
	if v.Name == "" || len(v.Name) > 100 {
		v.Errors["name"] = "Enter your name (at most 100 characters)."
	}
	if v.Company == "" || len(v.Company) > 100 {
		v.Errors["company"] = "Enter the name merchants will see as your apps' developer (at most 100 characters)."
	}
	if len(pw) < minPartnerPassword || len(pw) > 256 {
		v.Errors["password"] = fmt.Sprintf("Choose a password of at least %d characters.", minPartnerPassword)
	} else if pw != f.Get("password2") {
		v.Errors["password2"] = "The two passwords differ."
	}
	ctx := r.Context()
	retry, err := h.throttle(ctx, "partner-signup:ip:"+h.opts.ClientIP(r))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if retry > 0 {
		h.tooMany(w, r, retry, partnerPath+"/signup")
		return
	}
	if len(v.Errors) > 0 {
		h.render(w, r, http.StatusBadRequest, "partner_signup", v)
		return
	}
	hash, err := password.Hash(pw)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	p := &oauth.Partner{ID: oauth.RandomID("par_"), Email: v.Email, Name: v.Name, Company: v.Company, PasswordHash: hash, CreatedAt: h.now()}
	if err := h.opts.Portal.Partners.CreatePartner(ctx, p); errors.Is(err, oauth.ErrConflict) {
		v.Errors["email"] = "A partner account with this email exists already. Sign in instead."
		h.render(w, r, http.StatusConflict, "partner_signup", v)
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	if err := h.startPartnerSession(ctx, w, r, p); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(ctx, h.actor(r, oauth.ActorPartner, p.ID), oauth.AuditRecord{Action: oauth.AuditSignUp, PartnerID: p.ID, Detail: p.Email})
	h.redirect(w, r, partnerPath+"/")
}

func (h *Handler) partnerLoginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if !strings.HasPrefix(next, partnerPath+"/") {
		next = ""
	}
	if p, _, _, err := h.partnerSession(r); err == nil && p != nil {
		h.redirect(w, r, cmp.Or(next, partnerPath+"/"))
		return
	}
	h.render(w, r, http.StatusOK, "partner_signin", partnerSignin{base: h.base(r, nil), Next: next})
}

// partnerLogin checks the email and password, throttled per email and per
// address as the merchant sign-in is, and starts a partner session.
func (h *Handler) partnerLogin(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	email := strings.TrimSpace(r.PostForm.Get("email"))
	next := localPath(r.PostForm.Get("next"))
	if !strings.HasPrefix(next, partnerPath+"/") {
		next = partnerPath + "/"
	}
	emailKey := "partner-login:email:" + strings.ToLower(truncateString(email, maxEmail))
	a := h.actor(r, oauth.ActorPartner, "")
	retry, err := h.throttle(ctx, emailKey, "partner-login:ip:"+h.opts.ClientIP(r))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if retry > 0 {
		h.audit(ctx, a, oauth.AuditRecord{Action: oauth.AuditSignInThrottled, Detail: "partner sign-in as " + truncateString(email, maxEmail)})
		h.tooMany(w, r, retry, partnerPath+"/login")
		return
	}
	p, err := h.authenticatePartner(ctx, email, r.PostForm.Get("password"))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if p == nil {
		h.audit(ctx, a, oauth.AuditRecord{Action: oauth.AuditSignInFailed, Detail: "partner sign-in as " + truncateString(email, maxEmail)})
		h.render(w, r, http.StatusUnauthorized, "partner_signin", partnerSignin{
			base: h.base(r, nil), Email: email, Next: next, Error: "The email or password is not right.",
		})
		return
	}
	if err := h.st.ResetAttempts(ctx, emailKey); err != nil {
		h.log.WarnContext(ctx, "reset sign-in attempts", "err", err)
	}
	if err := h.startPartnerSession(ctx, w, r, p); err != nil {
		h.serverError(w, r, err)
		return
	}
	a.ID = p.ID
	h.audit(ctx, a, oauth.AuditRecord{Action: oauth.AuditSignIn, PartnerID: p.ID, Detail: "partner sign-in as " + p.Email})
	h.redirect(w, r, next)
}

func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, retry time.Duration, back string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	h.message(w, r, http.StatusTooManyRequests, message{
		Heading: "Too many attempts",
		Text:    fmt.Sprintf("There were too many attempts. Try again in %s.", roundUpMinutes(retry)),
		Back:    back,
	})
}

// authenticatePartner returns the partner whose email and password these
// are, or nil, taking as long for an unknown email as for a known one.
func (h *Handler) authenticatePartner(ctx context.Context, email, pw string) (*oauth.Partner, error) {
	return checkPassword(ctx, email, pw, h.opts.Portal.Partners.PartnerByEmail, func(p *oauth.Partner) (string, string) { return p.ID, p.PasswordHash })
}

// startPartnerSession signs p in with a session of the partner kind, in a
// cookie of its own that the browser sends to /partners/ only.
func (h *Handler) startPartnerSession(ctx context.Context, w http.ResponseWriter, r *http.Request, p *oauth.Partner) error {
	now := h.now()
	value := oauth.RandomSecret(oauth.PrefixSession)
	s := &oauth.Session{Hash: oauth.Hash(value), UserID: p.ID, Kind: oauth.SessionPartner, CreatedAt: now, ExpiresAt: now.Add(h.opts.SessionTTL)}
	if err := h.st.CreateSession(ctx, s); err != nil {
		return fmt.Errorf("create partner session: %w", err)
	}
	if old, err := r.Cookie(partnerCookie); err == nil && validCookie(old.Value) {
		if err := h.st.DeleteSession(ctx, oauth.Hash(old.Value)); err != nil {
			h.log.WarnContext(ctx, "end previous partner session", "err", err)
		}
	}
	http.SetCookie(w, h.partnerCookie(value, int(h.opts.SessionTTL.Seconds())))
	return nil
}

func (h *Handler) partnerCookie(value string, maxAge int) *http.Cookie {
	c := h.cookie(value, maxAge) //nolint:gosec // G124: HttpOnly, SameSite=Strict; Secure follows Options.SecureCookies as the merchant cookie does
	c.Name, c.Path = partnerCookie, partnerPath
	// Strict: nothing on another site links into the dashboard with a
	// reason to carry the session.
	c.SameSite = http.SameSiteStrictMode
	return c
}

func (h *Handler) partnerLogout(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	if c, err := r.Cookie(partnerCookie); err == nil && validCookie(c.Value) {
		if err := h.st.DeleteSession(r.Context(), oauth.Hash(c.Value)); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	http.SetCookie(w, h.partnerCookie("", -1))
	h.redirect(w, r, partnerPath+"/")
}

// appForm is the add and edit form.
type appForm struct {
	base
	CSRF         string
	App          *oauth.App // nil when adding
	Name         string
	Developer    string
	RedirectURIs string
	WebhookURL   string
	Scopes       []scopeChoice
	Profiles     []profileChoice
	Public       bool
	Errors       map[string]string
}

type scopeChoice struct {
	oauth.ScopeInfo
	Checked bool
}

type profileChoice struct {
	Name, Title string
	Selected    bool
}

func (h *Handler) newAppForm(r *http.Request, pc *partnerCtx) appForm {
	return appForm{base: h.partnerBase(r, pc.partner), CSRF: pc.csrf, Developer: pc.partner.Company, Errors: map[string]string{}}
}

// choices fills the scope and profile lists, marking what is chosen.
func (h *Handler) choices(v *appForm, scopes oauth.Scopes, prof string) {
	for _, s := range h.svc.Config().Scopes {
		v.Scopes = append(v.Scopes, scopeChoice{ScopeInfo: s, Checked: slices.Contains(scopes, s.Name)})
	}
	prof = cmp.Or(prof, profile.Standard)
	for _, p := range h.opts.Profiles {
		v.Profiles = append(v.Profiles, profileChoice{Name: p.Name, Title: p.Title, Selected: p.Name == prof})
	}
}

func (h *Handler) newAppPage(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	v := h.newAppForm(r, pc)
	h.choices(&v, nil, "")
	h.render(w, r, http.StatusOK, "partner_app_form", v)
}

// readAppForm reads and checks the fields an app's form shares between
// adding and editing, recording problems in v.Errors.
func (h *Handler) readAppForm(r *http.Request, v *appForm, prof string, public bool) (redirects []string, scopes oauth.Scopes) {
	f := r.Form
	v.Name = strings.TrimSpace(f.Get("name"))
	v.Developer = strings.TrimSpace(f.Get("developer"))
	v.RedirectURIs = f.Get("redirect_uris")
	v.WebhookURL = strings.TrimSpace(f.Get("webhook_url"))
	if v.Name == "" || len(v.Name) > 80 {
		v.Errors["name"] = "Enter the app's name (at most 80 characters)."
	}
	if len(v.Developer) > 100 {
		v.Errors["developer"] = "At most 100 characters."
	}
	p := h.profiles[prof]
	for line := range strings.SplitSeq(v.RedirectURIs, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			redirects = append(redirects, line)
		}
	}
	switch {
	case len(redirects) == 0:
		v.Errors["redirect_uris"] = "Enter at least one redirect URI."
	case len(redirects) > 20:
		v.Errors["redirect_uris"] = "At most 20 redirect URIs."
	}
	for _, u := range redirects {
		if err := oauth.ValidateRedirectURI(u, p != nil && p.OOB); err != nil {
			v.Errors["redirect_uris"] = oauth.AsError(err).Description + "."
			break
		}
	}
	if v.WebhookURL != "" {
		if public {
			v.Errors["webhook_url"] = "Public apps have no secret to sign webhooks with: make the app confidential to receive them."
		} else if err := oauth.ValidateWebhookURL(v.WebhookURL); err != nil || len(v.WebhookURL) > 2000 {
			v.Errors["webhook_url"] = "Enter an https URL without a fragment (http only for localhost)."
		}
	}
	scopes = oauth.NewScopes(f["scopes"]...)
	if unknown := h.svc.Config().Scopes.Unknown(scopes); len(unknown) > 0 {
		v.Errors["scopes"] = fmt.Sprintf("Unknown scope %q.", truncateString(unknown[0], 64))
	} else if len(scopes) == 0 {
		v.Errors["scopes"] = "Choose at least one scope."
	}
	return redirects, scopes
}

// maxLogoForm bounds the add form and the logo form: the logo and a few
// fields.
const maxLogoForm = profile.MaxLogoBytes + 64<<10

// createApp registers an app and shows its secret, once.
func (h *Handler) createApp(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	v := h.newAppForm(r, pc)
	prof := r.FormValue("profile")
	if h.profiles[prof] == nil {
		prof = profile.Standard
	}
	v.Public = r.FormValue("client_type") == "public"
	redirects, scopes := h.readAppForm(r, &v, prof, v.Public)
	logo, logoErr := h.formLogo(r, prof)
	if logoErr != "" {
		v.Errors["logo"] = logoErr
	} else if logo == nil && h.profiles[prof].Logo != nil {
		v.Errors["logo"] = h.profiles[prof].Title + " apps need a logo."
	}
	if len(v.Errors) > 0 {
		h.choices(&v, scopes, prof)
		h.render(w, r, http.StatusBadRequest, "partner_app_form", v)
		return
	}
	ctx := oauth.WithActor(r.Context(), pc.actor)
	now := h.now()
	a := &oauth.App{
		ID: oauth.RandomID("app_"), Name: v.Name, Developer: cmp.Or(v.Developer, pc.partner.Company),
		RedirectURIs: redirects, Scopes: scopes, Public: v.Public, Profile: prof, PartnerID: pc.partner.ID,
		WebhookURL: v.WebhookURL, CreatedAt: now, UpdatedAt: now,
	}
	if logo != nil {
		a.LogoURL = logoPath(a.ID, logo.UpdatedAt)
	}
	var secret string
	if !a.Public {
		secret = oauth.RandomSecret(oauth.PrefixSecret)
		a.SecretHash = oauth.Hash(secret)
	}
	if err := h.st.CreateApp(ctx, a); err != nil {
		h.serverError(w, r, err)
		return
	}
	if secret != "" {
		if err := h.sealSecret(ctx, a.ID, secret, nil, now); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	if logo != nil {
		logo.AppID = a.ID
		if err := h.opts.Portal.Partners.SetLogo(ctx, logo); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	h.audit(ctx, pc.actor, oauth.AuditRecord{Action: oauth.AuditAppCreated, PartnerID: pc.partner.ID, AppID: a.ID,
		Detail: fmt.Sprintf("%s (%s, %s); scopes: %s", a.Name, clientType(a), a.Profile, a.Scopes)})
	h.showSecret(w, r, pc, a, secret, "App registered", time.Time{})
}

func clientType(a *oauth.App) string {
	if a.Public {
		return "public"
	}
	return "confidential"
}

// sealSecret stores the sealed client secret that signs the app's
// webhooks; prev is the secret being retired, if any.
func (h *Handler) sealSecret(ctx context.Context, appID, secret string, prev *oauth.SigningSecret, now time.Time) error {
	p := h.opts.Portal
	return p.Outbox.SetSigningSecret(ctx, oauth.NewSigningSecret(p.Sealer, appID, secret, prev, p.SecretGrace, now))
}

type secretView struct {
	base
	Heading     string
	App         *oauth.App
	Secret      string
	PrevExpires time.Time
}

// showSecret renders the page that shows a client secret, the only time
// it is shown: it is in no URL, and the page is not cached.
func (h *Handler) showSecret(w http.ResponseWriter, r *http.Request, pc *partnerCtx, a *oauth.App, secret, heading string, prevExpires time.Time) {
	h.render(w, r, http.StatusOK, "partner_secret", secretView{base: h.partnerBase(r, pc.partner), Heading: heading, App: a, Secret: secret, PrevExpires: prevExpires})
}

type appView struct {
	base
	CSRF          string
	App           *oauth.App
	Logo          string
	Profile       string
	Scopes        []oauth.ScopeInfo
	Installations []oauth.Installation
	Deliveries    []oauth.Delivery
	Activity      []activityRow
	Notice        string
	Now           time.Time
}

// appPage shows one app: its settings, installations, webhook deliveries
// and recent activity.
func (h *Handler) appPage(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	ctx := r.Context()
	a := pc.app
	v := appView{base: h.partnerBase(r, pc.partner), CSRF: pc.csrf, App: a, Logo: h.logoURL(ctx, a), Scopes: h.scopeWords(a.Scopes), Now: h.now()}
	if p := h.profiles[a.Profile]; p != nil {
		v.Profile = p.Title
	}
	switch r.URL.Query().Get("done") {
	case "test":
		v.Notice = "A test event was queued; it appears below once sent."
	case "updated":
		v.Notice = "Changes saved."
	case "logo":
		v.Notice = "Logo saved."
	}
	var err error
	if v.Installations, err = h.opts.Portal.Partners.Installations(ctx, oauth.InstallationFilter{AppID: a.ID}); err != nil {
		h.serverError(w, r, err)
		return
	}
	if v.Deliveries, err = h.opts.Portal.Outbox.Deliveries(ctx, a.ID, 20); err != nil {
		h.serverError(w, r, err)
		return
	}
	recs, err := h.opts.Portal.Audit.AuditRecords(ctx, oauth.AuditFilter{PartnerID: pc.partner.ID, AppID: a.ID, Limit: 20})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	v.Activity = h.activityRows(ctx, recs)
	h.render(w, r, http.StatusOK, "partner_app", v)
}

func (h *Handler) editAppPage(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	a := pc.app
	v := h.newAppForm(r, pc)
	v.App, v.Name, v.Developer, v.WebhookURL, v.Public = a, a.Name, a.Developer, a.WebhookURL, a.Public
	v.RedirectURIs = strings.Join(a.RedirectURIs, "\n")
	h.choices(&v, a.Scopes, a.Profile)
	h.render(w, r, http.StatusOK, "partner_app_form", v)
}

// updateApp saves the edit form: name, developer, redirect URIs, scopes
// and webhook URL. The profile and the client type stay.
func (h *Handler) updateApp(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	a := *pc.app
	v := h.newAppForm(r, pc)
	v.App, v.Public = pc.app, a.Public
	redirects, scopes := h.readAppForm(r, &v, a.Profile, a.Public)
	if len(v.Errors) > 0 {
		h.choices(&v, scopes, a.Profile)
		h.render(w, r, http.StatusBadRequest, "partner_app_form", v)
		return
	}
	var changed []string
	if a.Name != v.Name {
		changed = append(changed, "name")
	}
	if !slices.Equal(a.RedirectURIs, redirects) {
		changed = append(changed, "redirect URIs")
	}
	if a.Scopes.String() != scopes.String() {
		changed = append(changed, fmt.Sprintf("scopes (%s → %s)", a.Scopes, scopes))
	}
	if a.WebhookURL != v.WebhookURL {
		changed = append(changed, "webhook URL")
	}
	if a.Developer != cmp.Or(v.Developer, pc.partner.Company) {
		changed = append(changed, "developer")
	}
	a.Name, a.Developer, a.RedirectURIs, a.Scopes, a.WebhookURL = v.Name, cmp.Or(v.Developer, pc.partner.Company), redirects, scopes, v.WebhookURL
	a.UpdatedAt = h.now()
	ctx := oauth.WithActor(r.Context(), pc.actor)
	if err := h.st.UpdateApp(ctx, &a); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.svc.ForgetApp(a.ID)
	if len(changed) > 0 {
		h.audit(ctx, pc.actor, oauth.AuditRecord{Action: oauth.AuditAppUpdated, PartnerID: pc.partner.ID, AppID: a.ID,
			Detail: "changed " + strings.Join(changed, ", ")})
	}
	h.redirect(w, r, partnerPath+"/apps/"+url.PathEscape(a.ID)+"?done=updated")
}

// uploadLogo replaces the app's logo.
func (h *Handler) uploadLogo(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	a := pc.app
	logo, problem := h.formLogo(r, a.Profile)
	if problem == "" && logo == nil {
		problem = "Choose a PNG or JPEG file."
	}
	if problem != "" {
		v := h.newAppForm(r, pc)
		v.App, v.Name, v.Developer, v.WebhookURL, v.Public = a, a.Name, a.Developer, a.WebhookURL, a.Public
		v.RedirectURIs = strings.Join(a.RedirectURIs, "\n")
		v.Errors["logo"] = problem
		h.choices(&v, a.Scopes, a.Profile)
		h.render(w, r, http.StatusBadRequest, "partner_app_form", v)
		return
	}
	logo.AppID = a.ID
	if err := h.opts.Portal.Partners.SetLogo(r.Context(), logo); err != nil {
		h.serverError(w, r, err)
		return
	}
	updated := *a
	updated.LogoURL, updated.UpdatedAt = logoPath(a.ID, logo.UpdatedAt), h.now()
	if err := h.st.UpdateApp(r.Context(), &updated); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.svc.ForgetApp(a.ID)
	h.audit(r.Context(), pc.actor, oauth.AuditRecord{Action: oauth.AuditLogoChanged, PartnerID: pc.partner.ID, AppID: a.ID,
		Detail: fmt.Sprintf("%s, %d x %d px", logo.ContentType, logo.Width, logo.Height)})
	h.redirect(w, r, partnerPath+"/apps/"+url.PathEscape(a.ID)+"?done=logo")
}

type confirmView struct {
	base
	CSRF    string
	Heading string
	Text    []string
	Action  string // where the form posts
	Button  string // the confirming button's text
	Danger  bool
	Back    string
}

func (h *Handler) confirmRotate(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	if pc.app.Public {
		h.message(w, r, http.StatusBadRequest, message{base: h.partnerBase(r, pc.partner), Heading: "No secret",
			Text: "Public apps have no client secret.", Back: partnerPath + "/apps/" + pc.app.ID})
		return
	}
	h.render(w, r, http.StatusOK, "confirm", confirmView{
		base: h.partnerBase(r, pc.partner), CSRF: pc.csrf, Heading: "Rotate the client secret of " + pc.app.Name + "?",
		Text: []string{
			"A new secret is issued and shown once.",
			fmt.Sprintf("The current secret keeps working for %s, so that you can deploy the new one without downtime; webhooks are signed with both meanwhile.", humanDuration(h.opts.Portal.SecretGrace)),
		},
		Action: partnerPath + "/apps/" + pc.app.ID + "/rotate", Button: "Rotate secret", Back: partnerPath + "/apps/" + pc.app.ID,
	})
}

// rotateSecret issues a new client secret, keeping the previous one valid
// for the grace period, and shows the new one once.
func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	a := *pc.app
	if a.Public {
		h.message(w, r, http.StatusBadRequest, message{base: h.partnerBase(r, pc.partner), Heading: "No secret", Text: "Public apps have no client secret."})
		return
	}
	ctx := oauth.WithActor(r.Context(), pc.actor)
	now := h.now()
	secret := a.RotateSecret(now, h.opts.Portal.SecretGrace)
	prev, err := h.opts.Portal.Outbox.SigningSecret(ctx, a.ID)
	if err != nil && !errors.Is(err, oauth.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	if err := h.st.UpdateApp(ctx, &a); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.svc.ForgetApp(a.ID)
	if err := h.sealSecret(ctx, a.ID, secret, prev, now); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(ctx, pc.actor, oauth.AuditRecord{Action: oauth.AuditSecretRotated, PartnerID: pc.partner.ID, AppID: a.ID,
		Detail: "the previous secret stays valid until " + a.PrevExpires.Format(time.RFC3339)})
	h.showSecret(w, r, pc, &a, secret, "New client secret", a.PrevExpires)
}

func (h *Handler) confirmDelete(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	ins, err := h.opts.Portal.Partners.Installations(r.Context(), oauth.InstallationFilter{AppID: pc.app.ID})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	text := []string{"The app's client id stops working at once: every token it holds is revoked."}
	switch len(ins) {
	case 0:
		text = append(text, "No store has it installed.")
	case 1:
		text = append(text, "It is installed on 1 store, which loses access; its app.uninstalled webhook is sent.")
	default:
		text = append(text, fmt.Sprintf("It is installed on %d stores, which lose access; an app.uninstalled webhook is sent for each.", len(ins)))
	}
	text = append(text, "This cannot be undone.")
	h.render(w, r, http.StatusOK, "confirm", confirmView{
		base: h.partnerBase(r, pc.partner), CSRF: pc.csrf, Heading: "Delete " + pc.app.Name + "?", Text: text,
		Action: partnerPath + "/apps/" + pc.app.ID + "/delete", Button: "Delete app", Danger: true, Back: partnerPath + "/apps/" + pc.app.ID,
	})
}

// deleteApp deletes the app, revoking every grant and token, with the
// app.uninstalled webhooks in the same transaction.
func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	ctx := oauth.WithActor(r.Context(), pc.actor)
	if err := h.st.DeleteApp(ctx, pc.app.ID, h.now()); err != nil && !errors.Is(err, oauth.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	h.svc.ForgetApp(pc.app.ID)
	h.audit(ctx, pc.actor, oauth.AuditRecord{Action: oauth.AuditAppDeleted, PartnerID: pc.partner.ID, AppID: pc.app.ID, Detail: pc.app.Name})
	h.message(w, r, http.StatusOK, message{base: h.partnerBase(r, pc.partner), Heading: "App deleted",
		Text: pc.app.Name + " was deleted and every store's access to it revoked.", Back: partnerPath + "/"})
}

// sendTest queues a test event to the app's webhook URL.
func (h *Handler) sendTest(w http.ResponseWriter, r *http.Request, pc *partnerCtx) {
	a := pc.app
	if a.WebhookURL == "" {
		h.message(w, r, http.StatusBadRequest, message{base: h.partnerBase(r, pc.partner), Heading: "No webhook URL",
			Text: "Set the app's webhook URL first.", Back: partnerPath + "/apps/" + a.ID + "/edit"})
		return
	}
	d := oauth.NewDelivery(oauth.WebhookTest, a, nil, map[string]any{"message": "A test event sent from the partner dashboard."}, h.now())
	if err := h.opts.Portal.Outbox.EnqueueDelivery(r.Context(), d); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.audit(r.Context(), pc.actor, oauth.AuditRecord{Action: oauth.AuditWebhookTest, PartnerID: pc.partner.ID, AppID: a.ID, Detail: d.ID})
	h.redirect(w, r, partnerPath+"/apps/"+url.PathEscape(a.ID)+"?done=test#deliveries")
}

// scopeWords describes scopes from the catalog.
func (h *Handler) scopeWords(s oauth.Scopes) []oauth.ScopeInfo {
	catalog := h.svc.Config().Scopes
	out := make([]oauth.ScopeInfo, 0, len(s))
	for _, n := range s {
		info, ok := catalog.Lookup(n)
		if !ok || info.Description == "" {
			info = oauth.ScopeInfo{Name: n, Description: n}
		}
		out = append(out, info)
	}
	return out
}

func humanDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d >= 24*time.Hour:
		if n := int(d / (24 * time.Hour)); n != 1 {
			return strconv.Itoa(n) + " days"
		}
		return "24 hours"
	case d%time.Hour == 0:
		if n := int(d / time.Hour); n != 1 {
			return strconv.Itoa(n) + " hours"
		}
		return "1 hour"
	default:
		return d.String()
	}
}
