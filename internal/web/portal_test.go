package web

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/audit"
	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
)

const partnerPass = "partner password 1"

// portalEnv is an env with the portal on, and browsers of its own.
type portalEnv struct {
	*env
	rec *audit.Recorder
}

func newPortalEnv(t *testing.T, db *store.DB) *portalEnv {
	t.Helper()
	sealer, err := oauth.NewSealer([]oauth.Key{{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}})
	must(t, err)
	e := newEnv(t, db, envConfig{opts: Options{Profiles: profile.All(), Portal: &Portal{Partners: db, Audit: db, Outbox: db, Sealer: sealer}}})
	rec := audit.New(db, db, nil)
	t.Cleanup(rec.Close)
	e.svc.SetRecorder(rec)
	return &portalEnv{env: e, rec: rec}
}

// browser is one person's browser: cookies of its own, no redirects
// followed.
type browser struct {
	e      *portalEnv
	client *http.Client
}

func (e *portalEnv) browser() *browser {
	jar, err := cookiejar.New(nil)
	must(e.t, err)
	return &browser{e: e, client: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	res, err := b.client.Do(req)
	must(b.e.t, err)
	body, err := io.ReadAll(res.Body)
	must(b.e.t, errors.Join(err, res.Body.Close()))
	return response{res, string(body)}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	must(b.e.t, err)
	req.Header.Set("Sec-Fetch-Site", "none")
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	must(b.e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// postMultipart posts fields and, if logo is not nil, a logo file.
func (b *browser) postMultipart(path string, form url.Values, logo []byte) response {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			must(b.e.t, mw.WriteField(k, v))
		}
	}
	if logo != nil {
		fw, err := mw.CreateFormFile("logo", "logo.png")
		must(b.e.t, err)
		_, err = fw.Write(logo)
		must(b.e.t, err)
	}
	must(b.e.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &body)
	must(b.e.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token of a page's form.
func (b *browser) csrf(path string) string {
	b.e.t.Helper()
	res := b.get(path)
	m := csrfRE.FindStringSubmatch(res.body)
	if m == nil {
		b.e.t.Fatalf("GET %s (%d) has no CSRF token:\n%s", path, res.StatusCode, res.body)
	}
	return m[1]
}

func (e *portalEnv) partner(email, company string) *browser {
	e.t.Helper()
	b := e.browser()
	res := b.post("/partners/signup", url.Values{"email": {email}, "name": {"Pat"}, "company": {company},
		"password": {partnerPass}, "password2": {partnerPass}})
	if got := location(e.t, res).Path; got != "/partners/" {
		e.t.Fatalf("sign-up went to %s", got)
	}
	return b
}

func (e *portalEnv) merchant(email string) *browser {
	e.t.Helper()
	b := e.browser()
	res := b.post("/login", url.Values{"email": {email}, "password": {merchantPass}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("merchant sign-in: %d", res.StatusCode)
	}
	return b
}

func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	must(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	must(t, jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h)), nil))
	return buf.Bytes()
}

var secretRE = regexp.MustCompile(`id="client-secret" type="text" value="(sks_[A-Za-z0-9_-]+)"`)
var clientIDRE = regexp.MustCompile(`id="client-id" type="text" value="(app_[A-Za-z0-9_-]+)"`)

func newAppFields(csrf string) url.Values {
	return url.Values{
		"csrf": {csrf}, "name": {"Stock Sync"}, "developer": {""},
		"redirect_uris": {"https://sync.example/cb\nhttp://127.0.0.1:9000/cb"},
		"webhook_url":   {"https://sync.example/hooks"},
		"scopes":        {"read_products", "write_inventory"}, "profile": {"standard"}, "client_type": {"confidential"},
	}
}

// createApp registers an app through the form and returns its id and
// secret.
func (b *browser) createApp(form url.Values, logo []byte) (id, secret string) {
	b.e.t.Helper()
	res := b.postMultipart("/partners/apps", form, logo)
	wantStatus(b.e.t, res, http.StatusOK)
	id = clientIDRE.FindStringSubmatch(res.body)[1]
	if m := secretRE.FindStringSubmatch(res.body); m != nil {
		secret = m[1]
	}
	return id, secret
}

func TestPartnerApps(t *testing.T) {
	for _, bk := range dbtest.Backends() {
		t.Run(bk.Name, func(t *testing.T) {
			db := bk.Open(t)
			e := newPortalEnv(t, db)
			ctx := context.Background()
			p := e.partner("dev@partner.example", "Partner Labs")

			// The partner cookie is its own, scoped to the dashboard.
			u, _ := url.Parse(e.srv.URL + "/partners/")
			if cs := p.client.Jar.Cookies(u); len(cs) != 1 || cs[0].Name != partnerCookie {
				t.Fatalf("partner cookies %v", cs)
			}
			if cs := p.client.Jar.Cookies(must1(url.Parse(e.srv.URL + "/account/"))); len(cs) != 0 {
				t.Errorf("the partner cookie is sent to /account/: %v", cs)
			}

			csrf := p.csrf("/partners/apps/new")
			id, secret := p.createApp(newAppFields(csrf), pngOf(t, 600, 300))
			if !strings.HasPrefix(secret, oauth.PrefixSecret) {
				t.Fatalf("no secret shown")
			}
			a, err := db.App(ctx, id)
			must(t, err)
			p1, err := db.PartnerByEmail(ctx, "dev@partner.example")
			must(t, err)
			if a.PartnerID != p1.ID || a.Developer != "Partner Labs" || a.Public || !oauth.EqualHash(secret, a.SecretHash) ||
				a.Scopes.String() != "read_products write_inventory" || a.WebhookURL != "https://sync.example/hooks" || len(a.RedirectURIs) != 2 ||
				!strings.HasPrefix(a.LogoURL, "/logos/"+id+"?v=") {
				t.Errorf("app %+v", a)
			}
			// The logo was scaled down to 256 px wide, kept as PNG, and is served.
			l, err := db.Logo(ctx, id)
			must(t, err)
			if l.Width != 256 || l.Height != 128 || l.ContentType != "image/png" {
				t.Errorf("logo %dx%d %s", l.Width, l.Height, l.ContentType)
			}
			res := e.browser().get("/logos/" + id)
			wantStatus(t, res, http.StatusOK)
			if res.Header.Get("Content-Type") != "image/png" || !bytes.Equal([]byte(res.body), l.Data) {
				t.Errorf("GET /logos/%s: %s, %d bytes", id, res.Header.Get("Content-Type"), len(res.body))
			}
			// The signing secret is sealed, not stored in the clear.
			ss, err := db.SigningSecret(ctx, id)
			must(t, err)
			if bytes.Contains(ss.Current.Data, []byte(secret)) {
				t.Error("the signing secret is stored in the clear")
			}

			// The app page shows the client id, never the secret.
			page := p.get("/partners/apps/" + id)
			wantStatus(t, page, http.StatusOK)
			if !strings.Contains(page.body, id) || strings.Contains(page.body, secret) || !button(page.body, "Send test event") {
				t.Errorf("app page:\n%s", page.body)
			}
			if list := p.get("/partners/"); !strings.Contains(list.body, "Stock Sync") {
				t.Errorf("apps list lacks the app")
			}

			// Rotation: a new secret, shown once; the old one keeps working
			// for the grace period, then stops.
			csrf = p.csrf("/partners/apps/" + id + "/rotate")
			res = p.post("/partners/apps/"+id+"/rotate", url.Values{"csrf": {csrf}})
			wantStatus(t, res, http.StatusOK)
			next := secretRE.FindStringSubmatch(res.body)[1]
			for _, s := range []string{secret, next} {
				if _, err := e.svc.AuthenticateClient(ctx, oauth.ClientCredentials{ID: id, Secret: s}); err != nil {
					t.Errorf("secret after rotation: %v", err)
				}
			}
			e.clock.Add(25 * time.Hour)
			if _, err := e.svc.AuthenticateClient(ctx, oauth.ClientCredentials{ID: id, Secret: secret}); err == nil {
				t.Error("the old secret works after the grace period")
			}
			ss2, err := db.SigningSecret(ctx, id)
			must(t, err)
			if !bytes.Equal(ss2.Previous.Data, ss.Current.Data) {
				t.Error("the previous signing secret was not kept for the grace period")
			}
			// The session is now 25 hours old... and expired (12 h): sign in again.
			res = p.post("/partners/login", url.Values{"email": {"dev@partner.example"}, "password": {partnerPass}})
			location(t, res)

			// Edit: scopes and redirect URIs; the webhook URL is validated.
			form := newAppFields(p.csrf("/partners/apps/" + id + "/edit"))
			form.Set("webhook_url", "http://hooks.example/x")
			res = p.post("/partners/apps/"+id, form)
			wantStatus(t, res, http.StatusBadRequest)
			form.Set("webhook_url", "https://sync.example/v2/hooks")
			form["scopes"] = []string{"read_products"}
			if got := location(t, p.post("/partners/apps/"+id, form)); got.Query().Get("done") != "updated" {
				t.Errorf("edit went to %s", got)
			}
			a, _ = db.App(ctx, id)
			if a.WebhookURL != "https://sync.example/v2/hooks" || a.Scopes.String() != "read_products" {
				t.Errorf("after edit: %+v", a)
			}

			// Test event: queued in the outbox.
			location(t, p.post("/partners/apps/"+id+"/test", url.Values{"csrf": {p.csrf("/partners/apps/" + id)}}))
			ds, err := db.Deliveries(ctx, id, 10)
			must(t, err)
			if len(ds) != 1 || ds[0].Event != oauth.WebhookTest || ds[0].URL != a.WebhookURL {
				t.Errorf("deliveries %+v", ds)
			}

			// Delete after confirmation: grants revoked, uninstall queued.
			grantFor(t, e.env, id)
			res = p.get("/partners/apps/" + id + "/delete")
			if !strings.Contains(res.body, "installed on 1 store") || !button(res.body, "Delete app") {
				t.Errorf("delete confirmation:\n%s", res.body)
			}
			res = p.post("/partners/apps/"+id+"/delete", url.Values{"csrf": {p.csrf("/partners/apps/" + id)}})
			wantStatus(t, res, http.StatusOK)
			if _, err := db.App(ctx, id); !errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("app after delete: %v", err)
			}
			ds, _ = db.Deliveries(ctx, id, 10)
			if len(ds) != 2 || !slices.ContainsFunc(ds, func(d oauth.Delivery) bool { return d.Event == oauth.WebhookUninstalled && d.StoreID == e.store.ID }) {
				t.Errorf("deliveries after delete %+v", ds)
			}

			must(t, e.rec.Flush(ctx))
			recs, err := db.AuditRecords(ctx, oauth.AuditFilter{PartnerID: p1.ID, Oldest: true})
			must(t, err)
			var actions []string
			for _, r := range recs {
				actions = append(actions, r.Action)
			}
			for _, want := range []string{oauth.AuditSignUp, oauth.AuditAppCreated, oauth.AuditSecretRotated, oauth.AuditSignIn, oauth.AuditAppUpdated, oauth.AuditWebhookTest, oauth.AuditAppDeleted} {
				if !strings.Contains(strings.Join(actions, " "), want) {
					t.Errorf("audit lacks %s: %v", want, actions)
				}
			}
		})
	}
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// grantFor connects app to the merchant's store, as a consent would, and
// returns the access token.
func grantFor(t *testing.T, e *env, appID string) string {
	t.Helper()
	ctx := context.Background()
	a, err := e.svc.ValidateAuthorize(ctx, oauth.AuthorizeRequest{ResponseType: "code", ClientID: appID,
		RedirectURI: must1(e.db.App(ctx, appID)).RedirectURIs[0], CodeChallenge: strings.Repeat("a", 43), CodeChallengeMethod: "S256"})
	must(t, err)
	now := e.clock.Now()
	sess := &oauth.Session{Hash: oauth.Hash(oauth.RandomSecret(oauth.PrefixSession)), UserID: e.user.ID,
		Kind: oauth.SessionMerchant, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, e.db.CreateSession(ctx, sess))
	code, err := e.svc.Approve(ctx, a, sess, e.store.ID, oauth.Bound{})
	must(t, err)
	c := &oauth.Code{Hash: oauth.Hash(code), AppID: appID, StoreID: e.store.ID, UserID: e.user.ID, Scopes: a.Scopes,
		CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Minute)}
	g := &oauth.Grant{ID: oauth.RandomID("grt_"), AppID: appID, StoreID: e.store.ID, UserID: e.user.ID, Scopes: c.Scopes, Generation: 1, CreatedAt: e.clock.Now()}
	tok := oauth.RandomSecret(oauth.PrefixAccess)
	must(t, e.db.RedeemCode(ctx, c, e.clock.Now(), g, []*oauth.Token{{Hash: oauth.Hash(tok), Kind: oauth.KindAccess, GrantID: g.ID, AppID: appID,
		StoreID: e.store.ID, UserID: e.user.ID, Scopes: c.Scopes, Generation: 1, CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Hour)}}))
	return tok
}

func TestAppFormValidation(t *testing.T) {
	e := newPortalEnv(t, dbtest.OpenSQLite(t))
	p := e.partner("dev@partner.example", "Partner Labs")
	csrf := p.csrf("/partners/apps/new")
	tests := []struct {
		name  string
		edit  func(url.Values)
		logo  []byte
		field string
		says  string
	}{
		{"no name", func(f url.Values) { f.Set("name", " ") }, nil, "name", "Enter the app"},
		{"relative redirect", func(f url.Values) { f.Set("redirect_uris", "/cb") }, nil, "redirect_uris", "not an absolute URI"},
		{"http redirect", func(f url.Values) { f.Set("redirect_uris", "http://sync.example/cb") }, nil, "redirect_uris", "must use https"},
		{"fragment", func(f url.Values) { f.Set("redirect_uris", "https://sync.example/cb#x") }, nil, "redirect_uris", "fragment"},
		{"no redirect", func(f url.Values) { f.Set("redirect_uris", "\n") }, nil, "redirect_uris", "at least one"},
		{"unknown scope", func(f url.Values) { f["scopes"] = []string{"read_everything"} }, nil, "scopes", "Unknown scope"},
		{"no scope", func(f url.Values) { f.Del("scopes") }, nil, "scopes", "at least one scope"},
		{"webhook http", func(f url.Values) { f.Set("webhook_url", "http://sync.example/h") }, nil, "webhook_url", "https"},
		{"webhook on a public app", func(f url.Values) { f.Set("client_type", "public") }, nil, "webhook_url", "Public apps"},
		{"logo not an image", nil, []byte("GIF89a not really"), "logo", "PNG or JPEG"},
		{"hypersku logo size", func(f url.Values) { f.Set("profile", "hypersku") }, pngOf(t, 100, 100), "logo", "exactly 110 x 110"},
		{"hypersku without logo", func(f url.Values) { f.Set("profile", "hypersku") }, nil, "logo", "need a logo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAppFields(csrf)
			if tt.edit != nil {
				tt.edit(f)
			}
			res := p.postMultipart("/partners/apps", f, tt.logo)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", res.StatusCode)
			}
			if !strings.Contains(res.body, `class="error"`) || !strings.Contains(res.body, tt.says) {
				t.Errorf("the form does not say %q:\n%s", tt.says, res.body)
			}
			if strings.Contains(res.body, "sks_") {
				t.Error("a refused form shows a secret")
			}
		})
	}
	// HyperSKU's exact size is accepted and kept as is (JPEG stays JPEG).
	f := newAppFields(csrf)
	f.Set("profile", "hypersku")
	id, _ := p.createApp(f, jpegOf(t, 110, 110))
	l, err := e.db.Logo(context.Background(), id)
	must(t, err)
	if l.Width != 110 || l.Height != 110 || l.ContentType != "image/jpeg" {
		t.Errorf("HyperSKU logo %dx%d %s", l.Width, l.Height, l.ContentType)
	}
	apps, _ := e.db.Apps(context.Background(), "")
	if n := len(apps); n != 4 { // the env's three and this one
		t.Errorf("%d apps after the refused forms, want 4", n)
	}
}

func TestMerchantConnectedApps(t *testing.T) {
	for _, bk := range dbtest.Backends() {
		t.Run(bk.Name, func(t *testing.T) {
			db := bk.Open(t)
			e := newPortalEnv(t, db)
			ctx := context.Background()
			p := e.partner("dev@partner.example", "Partner Labs")
			id, _ := p.createApp(newAppFields(p.csrf("/partners/apps/new")), pngOf(t, 64, 64))
			token := grantFor(t, e.env, id)
			if _, err := e.svc.Validate(ctx, token); err != nil {
				t.Fatal(err)
			}

			m := e.merchant(merchantMail)
			page := m.get("/account/")
			wantStatus(t, page, http.StatusOK)
			for _, want := range []string{"Demo Store", "Stock Sync", "Developed by Partner Labs", "View your products, variants, categories and prices",
				`src="/logos/` + id, "Revoke access"} {
				if !strings.Contains(page.body, want) {
					t.Errorf("connected apps page lacks %q", want)
				}
			}
			// The partner sees the installation.
			if res := p.get("/partners/apps/" + id); !strings.Contains(res.body, "Demo Store") {
				t.Error("the partner's app page does not list the installation")
			}

			path := "/account/stores/" + e.store.ID + "/apps/" + id + "/revoke"
			confirm := m.get(path)
			if !button(confirm.body, "Revoke access") {
				t.Fatalf("confirmation:\n%s", confirm.body)
			}
			res := m.post(path, url.Values{"csrf": {csrfRE.FindStringSubmatch(confirm.body)[1]}})
			if got := location(t, res).Path; got != "/account/" {
				t.Errorf("revoke went to %s", got)
			}
			// The token stops working at once; the app is told.
			if _, err := e.svc.Validate(ctx, token); err == nil {
				t.Error("the app's token still works")
			}
			ds, err := db.Deliveries(ctx, id, 10)
			must(t, err)
			if len(ds) != 1 || ds[0].Event != oauth.WebhookUninstalled || ds[0].StoreID != e.store.ID ||
				!strings.Contains(string(ds[0].Payload), `"by":"merchant"`) {
				t.Errorf("deliveries %+v", ds)
			}
			if page := m.get("/account/"); strings.Contains(page.body, "Stock Sync") {
				t.Error("the revoked app is still listed")
			}

			must(t, e.rec.Flush(ctx))
			act := m.get("/account/activity")
			wantStatus(t, act, http.StatusOK)
			for _, want := range []string{"Signed in", "App authorized", "Access revoked", "Stock Sync", "Merchant"} {
				if !strings.Contains(act.body, want) {
					t.Errorf("activity lacks %q:\n%s", want, act.body)
				}
			}
			must(t, db.AppendAudit(ctx, []oauth.AuditRecord{{At: e.clock.Now(), Action: oauth.AuditWebhookSent, StoreID: e.store.ID, AppID: id, Detail: "to https://sync.example/hooks"}}))
			if act := m.get("/account/activity"); strings.Contains(act.body, "sync.example/hooks") {
				t.Error("the merchant's activity shows the partner's webhook endpoint")
			}
			recs, _ := db.AuditRecords(ctx, oauth.AuditFilter{StoreIDs: []string{e.store.ID}})
			var revoked *oauth.AuditRecord
			for i := range recs {
				if recs[i].Action == string(oauth.EventGrantRevoked) {
					revoked = &recs[i]
				}
			}
			if revoked == nil || revoked.ActorKind != oauth.ActorMerchant || revoked.ActorID != e.user.ID || revoked.IP == "" || revoked.PartnerID == "" {
				t.Errorf("revocation record %+v", revoked)
			}
		})
	}
}

// TestPortalAccessControl tries every page and action of the dashboard and
// the merchant pages as the wrong partner, the wrong merchant, the other
// kind of account, and signed out.
func TestPortalAccessControl(t *testing.T) {
	db := dbtest.OpenSQLite(t)
	e := newPortalEnv(t, db)
	ctx := context.Background()
	owner := e.partner("owner@partner.example", "Owner Co")
	id, _ := owner.createApp(newAppFields(owner.csrf("/partners/apps/new")), nil)
	grantFor(t, e.env, id)
	intruder := e.partner("intruder@partner.example", "Intruder Co")
	merchant := e.merchant(merchantMail)
	other := e.addUser("usr_other", "other@example.com")
	otherStore := oauth.Store{ID: "sto_other", Name: "Other Store", Slug: "other", CreatedAt: e.clock.Now()}
	must(t, db.CreateStore(ctx, &otherStore, other.ID))
	otherMerchant := e.merchant("other@example.com")
	anon := e.browser()

	appPaths := []string{"/partners/apps/" + id, "/partners/apps/" + id + "/edit", "/partners/apps/" + id + "/rotate", "/partners/apps/" + id + "/delete"}
	appPosts := []string{"/partners/apps/" + id, "/partners/apps/" + id + "/rotate", "/partners/apps/" + id + "/delete", "/partners/apps/" + id + "/test", "/partners/apps/" + id + "/logo"}
	revoke := "/account/stores/" + e.store.ID + "/apps/" + id + "/revoke"

	// Signed out, or with a merchant session: the dashboard asks for a
	// partner sign-in and changes nothing.
	for name, b := range map[string]*browser{"signed out": anon, "merchant": merchant} {
		for _, path := range append(appPaths, "/partners/apps/new") {
			if res := b.get(path); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/partners/login") {
				t.Errorf("%s: GET %s: %d %s, want a redirect to the partner sign-in", name, path, res.StatusCode, res.Header.Get("Location"))
			}
		}
		for _, path := range append(appPosts, "/partners/apps") {
			if res := b.post(path, url.Values{"csrf": {"x"}, "name": {"Hijacked"}}); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: POST %s: %d, want 401", name, path, res.StatusCode)
			}
		}
		if res := b.get("/partners/"); strings.Contains(res.body, "Stock Sync") {
			t.Errorf("%s sees the partner's apps", name)
		}
	}
	// Another partner: the app does not exist for them.
	for _, path := range appPaths {
		if res := intruder.get(path); res.StatusCode != http.StatusNotFound || strings.Contains(res.body, "Stock Sync") {
			t.Errorf("other partner: GET %s: %d", path, res.StatusCode)
		}
	}
	csrf := intruder.csrf("/partners/apps/new")
	for _, path := range appPosts {
		form := newAppFields(csrf)
		if res := intruder.post(path, form); res.StatusCode != http.StatusNotFound {
			t.Errorf("other partner: POST %s: %d, want 404", path, res.StatusCode)
		}
	}
	if res := intruder.get("/partners/"); strings.Contains(res.body, "Stock Sync") {
		t.Error("another partner's list shows the app")
	}
	// The owner with a missing or foreign CSRF token, or from another site.
	for _, path := range appPosts {
		if res := owner.post(path, url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("owner with the intruder's CSRF token: POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/partners/apps/"+id+"/delete", strings.NewReader(url.Values{"csrf": {owner.csrf("/partners/apps/" + id)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := owner.do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site delete: %d, want 403", res.StatusCode)
	}

	// Merchant pages: signed out and partners are sent to the merchant
	// sign-in; another merchant finds nothing.
	for name, b := range map[string]*browser{"signed out": anon, "partner": owner} {
		for _, path := range []string{"/account/", "/account/activity", revoke} {
			if res := b.get(path); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Errorf("%s: GET %s: %d %s", name, path, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if res := b.post(revoke, url.Values{"csrf": {"x"}}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: POST %s: %d, want 401", name, revoke, res.StatusCode)
		}
	}
	if res := otherMerchant.get("/account/"); strings.Contains(res.body, "Demo Store") || strings.Contains(res.body, "Stock Sync") {
		t.Error("another merchant sees the store's apps")
	}
	if res := otherMerchant.get(revoke); res.StatusCode != http.StatusNotFound {
		t.Errorf("another merchant: GET %s: %d, want 404", revoke, res.StatusCode)
	}
	oc := otherMerchant.csrf("/account/stores/" + otherStore.ID + "/apps/" + id + "/revoke")
	if res := otherMerchant.post(revoke, url.Values{"csrf": {oc}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("another merchant: POST %s: %d, want 404", revoke, res.StatusCode)
	}
	must(t, e.rec.Flush(ctx))
	if res := otherMerchant.get("/account/activity"); strings.Contains(res.body, "Stock Sync") || strings.Contains(res.body, e.user.ID) {
		t.Errorf("another merchant's activity shows the store's records:\n%s", res.body)
	}
	// The merchant with the other merchant's CSRF token.
	if res := merchant.post(revoke, url.Values{"csrf": {oc}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("merchant with another's CSRF token: %d, want 403", res.StatusCode)
	}

	// Nothing above changed anything.
	a, err := db.App(ctx, id)
	must(t, err)
	if a.Name != "Stock Sync" {
		t.Errorf("the app was renamed to %q", a.Name)
	}
	if ins, _ := db.Installations(ctx, oauth.InstallationFilter{AppID: id}); len(ins) != 1 {
		t.Errorf("installations %+v", ins)
	}

	// A stale sign-in (older than an hour) must sign in again to change
	// anything, though it may still look.
	e.clock.Add(2 * time.Hour)
	if res := owner.get("/partners/apps/" + id); res.StatusCode != http.StatusOK {
		t.Errorf("stale partner session: GET app page: %d", res.StatusCode)
	}
	if res := owner.post("/partners/apps/"+id+"/delete", url.Values{"csrf": {owner.csrf("/partners/apps/" + id)}}); res.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(res.body, "sign in again") {
		t.Errorf("stale partner session: delete: %d", res.StatusCode)
	}
	if res := merchant.post(revoke, url.Values{"csrf": {merchant.csrf(revoke)}}); res.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(res.body, "sign in again") {
		t.Errorf("stale merchant session: revoke: %d", res.StatusCode)
	}
	if _, err := db.App(ctx, id); err != nil {
		t.Errorf("the stale session deleted the app: %v", err)
	}
}

// Merchant sign-ins, failed and successful, are audited with their address
// and browser.
func TestSignInAudited(t *testing.T) {
	db := dbtest.OpenSQLite(t)
	e := newPortalEnv(t, db)
	b := e.browser()
	b.post("/login", url.Values{"email": {merchantMail}, "password": {"wrong"}})
	e.merchant(merchantMail)
	recs, err := db.AuditRecords(context.Background(), oauth.AuditFilter{UserID: e.user.ID, Oldest: true})
	must(t, err)
	if len(recs) != 2 || recs[0].Action != oauth.AuditSignInFailed || recs[1].Action != oauth.AuditSignIn ||
		recs[1].IP != "127.0.0.1" || recs[1].UserAgent == "" || recs[1].ActorKind != oauth.ActorMerchant {
		t.Errorf("records %+v", recs)
	}
	for _, r := range recs {
		if strings.Contains(r.Detail, merchantPass) || strings.Contains(r.Detail, "wrong") {
			t.Errorf("a password reached the audit trail: %+v", r)
		}
	}
}

func TestPortalPageStructure(t *testing.T) {
	e := newPortalEnv(t, dbtest.OpenSQLite(t))
	p := e.partner("dev@partner.example", "Partner Labs")
	id, _ := p.createApp(newAppFields(p.csrf("/partners/apps/new")), pngOf(t, 64, 64))
	grantFor(t, e.env, id)
	m := e.merchant(merchantMail)
	anon := e.browser()
	pages := map[string]string{
		"partner welcome": anon.get("/partners/").body,
		"partner sign-in": anon.get("/partners/login").body,
		"partner sign-up": anon.get("/partners/signup").body,
		"apps":            p.get("/partners/").body,
		"add app":         p.get("/partners/apps/new").body,
		"app":             p.get("/partners/apps/" + id).body,
		"edit app":        p.get("/partners/apps/" + id + "/edit").body,
		"confirm delete":  p.get("/partners/apps/" + id + "/delete").body,
		"connected apps":  m.get("/account/").body,
		"activity":        m.get("/account/activity").body,
	}
	labelRE := regexp.MustCompile(`<(input|select|textarea) ([^>]*)>`)
	for name, page := range pages {
		if !strings.Contains(page, `<main id="main">`) || !strings.Contains(page, `<html lang="en">`) {
			t.Errorf("%s: no main landmark or language", name)
		}
		if inline := regexp.MustCompile(`<script>|<style|\sstyle=|\son[a-z]+=|javascript:`).FindString(page); inline != "" {
			t.Errorf("%s: inline script or style %q", name, inline)
		}
		for _, m := range labelRE.FindAllStringSubmatch(page, -1) {
			attrs := m[2]
			if strings.Contains(attrs, `type="hidden"`) {
				continue
			}
			idm := regexp.MustCompile(`id="([^"]+)"`).FindStringSubmatch(attrs)
			inLabel := strings.Contains(page, `<label class="choice"><`+m[1]+` `+attrs+`>`)
			if !inLabel && (idm == nil || !strings.Contains(page, `<label for="`+idm[1]+`">`)) {
				t.Errorf("%s: %s %s has no label", name, m[1], attrs)
			}
		}
		for _, b := range regexp.MustCompile(`<button[^>]*>([^<]*)</button>`).FindAllStringSubmatch(page, -1) {
			if strings.TrimSpace(b[1]) == "" {
				t.Errorf("%s: a button without text", name)
			}
		}
	}
}
