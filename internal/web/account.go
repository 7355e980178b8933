package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

type connectedView struct {
	base
	CSRF   string
	Stores []storeApps
}

type storeApps struct {
	Store oauth.Store
	Apps  []connectedApp
}

type connectedApp struct {
	App         *oauth.App
	Logo        string
	Developer   string
	Scopes      []oauth.ScopeInfo
	InstalledAt time.Time
	LastUsedAt  time.Time
	RevokeURL   string
}

// adminStores returns the stores u owns or administers: the only ones whose
// apps and activity they may see and change.
func (h *Handler) adminStores(ctx context.Context, userID string) ([]oauth.Store, error) {
	return h.authorizableStores(ctx, userID)
}

// connectedApps lists, for each store the merchant administers, the apps
// connected to it.
func (h *Handler) connectedApps(w http.ResponseWriter, r *http.Request, mc *merchantCtx) {
	ctx := r.Context()
	stores, err := h.adminStores(ctx, mc.user.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	v := connectedView{base: h.base(r, mc.user), CSRF: mc.csrf}
	for _, s := range stores {
		ins, err := h.opts.Portal.Partners.Installations(ctx, oauth.InstallationFilter{StoreID: s.ID})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		sa := storeApps{Store: s}
		for _, in := range ins {
			a, err := h.st.App(ctx, in.AppID)
			if errors.Is(err, oauth.ErrNotFound) {
				continue // deleted since
			}
			if err != nil {
				h.serverError(w, r, err)
				return
			}
			sa.Apps = append(sa.Apps, connectedApp{
				App: a, Logo: h.logoURL(ctx, a), Developer: a.Developer, Scopes: h.scopeWords(in.Scopes),
				InstalledAt: in.InstalledAt, LastUsedAt: in.LastUsedAt,
				RevokeURL: "/account/stores/" + url.PathEscape(s.ID) + "/apps/" + url.PathEscape(a.ID) + "/revoke",
			})
		}
		v.Stores = append(v.Stores, sa)
	}
	h.render(w, r, http.StatusOK, "account_apps", v)
}

// installed finds the app installed on a store the merchant administers;
// ok is false (and the page answered, 404) when the store is not theirs,
// or the app not installed there: the same answer, so that neither can be
// probed.
func (h *Handler) installed(w http.ResponseWriter, r *http.Request, mc *merchantCtx) (oauth.Store, *oauth.App, bool) {
	ctx := r.Context()
	storeID, appID := r.PathValue("store"), r.PathValue("app")
	notFound := func() {
		h.message(w, r, http.StatusNotFound, message{base: h.base(r, mc.user), Heading: "Not found",
			Text: "This app is not connected to any store you administer.", Back: "/account/"})
	}
	stores, err := h.adminStores(ctx, mc.user.ID)
	if err != nil {
		h.serverError(w, r, err)
		return oauth.Store{}, nil, false
	}
	var store *oauth.Store
	for i := range stores {
		if stores[i].ID == storeID {
			store = &stores[i]
		}
	}
	if store == nil {
		notFound()
		return oauth.Store{}, nil, false
	}
	a, err := h.st.App(ctx, appID)
	if errors.Is(err, oauth.ErrNotFound) {
		notFound()
		return oauth.Store{}, nil, false
	}
	if err != nil {
		h.serverError(w, r, err)
		return oauth.Store{}, nil, false
	}
	return *store, a, true
}

func (h *Handler) confirmRevoke(w http.ResponseWriter, r *http.Request, mc *merchantCtx) {
	s, a, ok := h.installed(w, r, mc)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, "confirm", confirmView{
		base: h.base(r, mc.user), CSRF: mc.csrf, Heading: "Revoke " + a.Name + "'s access to " + s.Name + "?",
		Text: []string{
			a.Name + " stops working with " + s.Name + " at once: every token it holds for the store is revoked.",
			"To use it again, you will have to connect it again from the app.",
		},
		Action: r.URL.Path, Button: "Revoke access", Danger: true, Back: "/account/",
	})
}

// revokeApp uninstalls the app from the store: every grant is revoked,
// every token stops working on every server process, and the app is told
// by its app.uninstalled webhook, written in the same transaction.
func (h *Handler) revokeApp(w http.ResponseWriter, r *http.Request, mc *merchantCtx) {
	s, a, ok := h.installed(w, r, mc)
	if !ok {
		return
	}
	ctx := oauth.WithActor(r.Context(), mc.actor)
	if _, err := h.svc.Uninstall(ctx, a.ID, s.ID); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "app revoked by the merchant", "app_id", a.ID, "store_id", s.ID, "user_id", mc.user.ID)
	h.redirect(w, r, "/account/")
}

type activityView struct {
	base
	Rows []activityRow
}

type activityRow struct {
	At     time.Time
	What   string
	Who    string
	App    string
	Detail string
	From   string
}

// activity shows the audit records of the stores the merchant administers
// and of the merchant's own sign-ins.
func (h *Handler) activity(w http.ResponseWriter, r *http.Request, mc *merchantCtx) {
	ctx := r.Context()
	stores, err := h.adminStores(ctx, mc.user.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	f := oauth.AuditFilter{UserID: mc.user.ID, Limit: 200}
	for _, s := range stores {
		f.StoreIDs = append(f.StoreIDs, s.ID)
	}
	all, err := h.opts.Portal.Audit.AuditRecords(ctx, f)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// Webhook outcomes concern the partner (and name its endpoints): the
	// merchant sees what happened to the store, not how the app was told.
	var recs []oauth.AuditRecord
	for _, rec := range all {
		if !strings.HasPrefix(rec.Action, "webhook.") && len(recs) < 100 {
			recs = append(recs, rec)
		}
	}
	h.render(w, r, http.StatusOK, "account_activity", activityView{base: h.base(r, mc.user), Rows: h.activityRows(ctx, recs)})
}

// actionWords says what an audit action means.
var actionWords = map[string]string{
	oauth.AuditSignIn:                 "Signed in",
	oauth.AuditSignInFailed:           "Sign-in failed",
	oauth.AuditSignInThrottled:        "Sign-in refused (too many attempts)",
	oauth.AuditSignUp:                 "Partner account created",
	oauth.AuditAppCreated:             "App registered",
	oauth.AuditAppUpdated:             "App changed",
	oauth.AuditAppDeleted:             "App deleted",
	oauth.AuditLogoChanged:            "Logo changed",
	oauth.AuditSecretRotated:          "Client secret rotated",
	oauth.AuditAppRevoked:             "Access revoked",
	oauth.AuditWebhookSent:            "Webhook delivered",
	oauth.AuditWebhookFailed:          "Webhook attempt failed",
	oauth.AuditWebhookGaveUp:          "Webhook failed",
	oauth.AuditWebhookTest:            "Test webhook requested",
	string(oauth.EventAuthorized):     "App authorized",
	string(oauth.EventDenied):         "App denied",
	string(oauth.EventTokenIssued):    "Token issued",
	string(oauth.EventTokenRefreshed): "Token refreshed",
	string(oauth.EventGrantRevoked):   "Access revoked",
	string(oauth.EventCodeReplayed):   "Code reused: access revoked",
	string(oauth.EventRefreshReused):  "Refresh token reused: access revoked",
}

func (h *Handler) activityRows(ctx context.Context, recs []oauth.AuditRecord) []activityRow {
	names := map[string]string{}
	appName := func(id string) string {
		if id == "" {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := id
		if a, err := h.st.App(ctx, id); err == nil {
			n = a.Name
		}
		names[id] = n
		return n
	}
	out := make([]activityRow, 0, len(recs))
	for _, rec := range recs {
		row := activityRow{At: rec.At, What: actionWords[rec.Action], App: appName(rec.AppID), Detail: rec.Detail, From: rec.IP}
		if row.What == "" {
			row.What = rec.Action
		}
		switch rec.ActorKind {
		case oauth.ActorMerchant:
			row.Who = "Merchant"
		case oauth.ActorPartner:
			row.Who = "Partner"
		case oauth.ActorApp:
			row.Who = "App"
		case oauth.ActorOperator:
			row.Who = "Operator"
		default:
			row.Who = "Storekey"
		}
		out = append(out, row)
	}
	return out
}
