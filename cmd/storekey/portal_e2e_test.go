package main

// End to end: the partner dashboard, the merchant's app pages and webhooks
// in real headless Chromium, and the outbox across a killed process.
//
//	mkdir -p /tmp/storekey-e2e
//	go test -run 'TestBrowserPartner|TestOutbox' -v -artifacts -outputdir /tmp/storekey-e2e ./cmd/storekey/

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/oauth2"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
	"github.com/storekey/storekey/internal/webhook"
)

// hook is one webhook request a receiver got.
type hook struct {
	header http.Header
	body   []byte
}

// partnerSite is a partner's servers, started by the test: the OAuth
// redirect target and the webhook receiver.
type partnerSite struct {
	srv   *httptest.Server
	mu    sync.Mutex
	hooks []hook
}

func newPartnerSite(t *testing.T) *partnerSite {
	s := &partnerSite{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>Partner</title><h1>Partner app callback</h1></html>`)
	})
	mux.HandleFunc("POST /hooks", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.hooks = append(s.hooks, hook{header: r.Header.Clone(), body: body})
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *partnerSite) received() []hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hook(nil), s.hooks...)
}

// waitHooks waits until the site got n webhooks matching event, or fails.
func (s *partnerSite) waitHooks(t *testing.T, event string, n int, within time.Duration) []hook {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var got []hook
		for _, h := range s.received() {
			if h.header.Get(webhook.EventHeader) == event {
				got = append(got, h)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook receiver got %d %s events within %s, want %d", len(got), event, within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startPortal runs the demo's server with the webhook worker, as serve
// does, and returns the issuer URL.
func startPortal(t *testing.T) (string, *instance) {
	t.Helper()
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := defaultConfig()
	cfg.Database = filepath.Join(t.TempDir(), "portal.db")
	cfg.Listen, cfg.Issuer, cfg.AccessLog = addr, "http://"+addr, false
	cfg.RateLimit = RateLimit{}
	cfg.Login.MaxFailures = 1000
	cfg.Webhooks = Webhooks{Deliver: true, AllowPrivate: true}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: logs}
	in, err := open(ctx, e, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = in.Close() })
	mounts, links, err := seedDemo(ctx, e, in)
	if err != nil {
		t.Fatalf("seedDemo: %v", err)
	}
	bg, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { in.svc.WatchRevocations(bg, 100*time.Millisecond) })
	wg.Go(func() { in.webhookWorker().Run(bg) })
	t.Cleanup(func() { stop(); wg.Wait() })
	serveOn(t, ln, in.handler(mounts, links))
	return cfg.Issuer, in
}

func writeLogo(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: 31, G: uint8(95 + x%64), B: 191, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "logo.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func byButton(label string) string { return `//button[normalize-space()='` + label + `']` }
func byLink(label string) string   { return `//a[normalize-space()='` + label + `']` }

// TestBrowserPartnerMerchant is the whole story in Chromium: a partner
// signs up, registers an app with a logo and copies the secret; a merchant
// authorizes it; the partner sees the installation; the merchant revokes
// it; the partner's receiver gets a signed app.uninstalled; the token is
// refused by the sample API.
func TestBrowserPartnerMerchant(t *testing.T) {
	browser := newBrowser(t)
	issuer, in := startPortal(t)
	site := newPartnerSite(t)
	ctx := t.Context()

	// The partner signs up and registers an app.
	partner := newPage(t, browser, 60*time.Second)
	partner.do("open the dashboard", chromedp.Navigate(issuer+"/partners/"), chromedp.WaitVisible(byLink("Create a partner account")))
	partner.screenshot("10-partner-welcome")
	partner.do("sign up",
		chromedp.Click(byLink("Create a partner account")),
		chromedp.WaitVisible(chromedp.ID("company")),
		chromedp.SendKeys(chromedp.ID("email"), "dev@acme.example"),
		chromedp.SendKeys(chromedp.ID("name"), "Ada Dev"),
		chromedp.SendKeys(chromedp.ID("company"), "Acme Software"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.SendKeys(chromedp.ID("password2"), "correct horse battery"),
	)
	partner.screenshot("11-partner-signup")
	partner.do("create the account", chromedp.Click(byButton("Create account")), chromedp.WaitVisible(`//h1[normalize-space()='My apps']`))
	partner.wantText("apps list", "You have no apps yet", "Partner: dev@acme.example")
	partner.screenshot("12-partner-apps-empty")

	partner.do("open Add app", chromedp.Click(`//main//a[normalize-space()='Add app']`), chromedp.WaitVisible(chromedp.ID("redirect_uris")))
	partner.do("fill the app form",
		chromedp.SendKeys(chromedp.ID("name"), "Acme Stock Sync"),
		chromedp.SetUploadFiles(chromedp.ID("logo"), []string{writeLogo(t, 400, 400)}),
		chromedp.SendKeys(chromedp.ID("redirect_uris"), site.srv.URL+"/cb"),
		chromedp.SendKeys(chromedp.ID("webhook_url"), site.srv.URL+"/hooks"),
		chromedp.Click(chromedp.CSS(`input[name=scopes][value=read_products]`)),
		chromedp.Click(chromedp.CSS(`input[name=scopes][value=read_orders]`)),
	)
	partner.screenshot("13-partner-add-app")
	partner.do("register", chromedp.Click(byButton("Register app")), chromedp.WaitVisible(chromedp.ID("client-secret")))
	clientID, err := chromedp.Run(partner.ctx, chromedp.Value(chromedp.ID("client-id")))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(partner.ctx, chromedp.Value(chromedp.ID("client-secret")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, oauth.PrefixSecret) || !strings.HasPrefix(clientID, "app_") {
		t.Fatalf("client id %q, secret %q", clientID, secret)
	}
	partner.wantText("secret page", "Copy the secret now: it is shown only this once")
	partner.screenshot("14-partner-secret")
	partner.do("continue", chromedp.Click(byLink("Continue to the app")), chromedp.WaitVisible(`//h2[normalize-space()='Installations']`))
	partner.wantText("app page", clientID, "No store has installed this app yet", "View your products")
	if strings.Contains(partner.html(), secret) {
		t.Error("the app page shows the secret")
	}
	partner.screenshot("15-partner-app")

	// The merchant authorizes the app through the consent page.
	conf := &oauth2.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURL: site.srv.URL + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/oauth/authorize", TokenURL: issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"read_products", "read_orders"},
	}
	verifier := oauth2.GenerateVerifier()
	merchant := newPage(t, browser, 60*time.Second)
	merchant.do("start the authorization", chromedp.Navigate(conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(chromedp.ID("email")))
	merchant.do("sign in",
		chromedp.SendKeys(chromedp.ID("email"), demoEmail),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(signInButton),
		chromedp.WaitVisible(allowButton),
	)
	merchant.wantText("consent", "Acme Stock Sync", "Developed by Acme Software")
	merchant.screenshot("20-merchant-consent")
	merchant.do("allow", chromedp.Click(allowButton), chromedp.WaitVisible(`//h1[normalize-space()='Partner app callback']`))
	cb, err := url.Parse(merchant.location())
	if err != nil || cb.Query().Get("state") != "st-1" || cb.Query().Get("code") == "" {
		t.Fatalf("callback %s", merchant.location())
	}
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	api := conf.Client(ctx, tok)
	if status := getStatus(t, api, issuer+"/api/v1/products"); status != http.StatusOK {
		t.Fatalf("the sample API answered %d to the new token", status)
	}

	// The partner sees the installation.
	partner.do("reload the app page", chromedp.Reload(), chromedp.WaitVisible(`//h2[normalize-space()='Installations']`))
	partner.wantText("installations", "Demo Store", "read_orders read_products")
	partner.screenshot("16-partner-installation")

	// The merchant sees the app, and revokes it after a confirmation.
	merchant.do("open connected apps", chromedp.Navigate(issuer+"/account/"), chromedp.WaitVisible(`//h1[normalize-space()='Connected apps']`))
	merchant.wantText("connected apps", "Demo Store", "Acme Stock Sync", "Developed by Acme Software", "View your products, variants, categories and prices", "Installed on")
	logoOK, err := chromedp.Run(merchant.ctx, chromedp.Evaluate[bool](`(i => !!i && i.complete && i.naturalWidth === 256)(document.querySelector("img[src^='/logos/']"))`))
	if err != nil || !logoOK {
		t.Errorf("the app's logo is not shown at 256 px (err %v)", err)
	}
	merchant.screenshot("21-merchant-connected-apps")
	merchant.do("click Revoke access", chromedp.Click(`//a[starts-with(normalize-space(), 'Revoke access')]`), chromedp.WaitVisible(byButton("Revoke access")))
	merchant.wantText("confirmation", "Revoke Acme Stock Sync's access to Demo Store?")
	merchant.screenshot("22-merchant-confirm-revoke")
	// Keyboard: Tab reaches the confirming button, which shows its focus,
	// and Enter presses it.
	merchant.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	var path []string
	for range 12 {
		merchant.do("press Tab", chromedp.KeyEvent(kb.Tab))
		active, err := chromedp.Run(merchant.ctx, chromedp.Evaluate[string](`(e => e ? e.tagName.toLowerCase() + ":" + e.textContent.trim() : "")(document.activeElement)`))
		if err != nil {
			t.Fatal(err)
		}
		path = append(path, active)
		if active == "button:Revoke access" {
			break
		}
	}
	if path[len(path)-1] != "button:Revoke access" {
		t.Fatalf("Tab never reached the Revoke access button: %q", path)
	}
	visible, err := chromedp.Run(merchant.ctx, chromedp.Evaluate[bool](`getComputedStyle(document.activeElement).outlineStyle !== "none"`))
	if err != nil || !visible {
		t.Errorf("the focused button shows no outline (err %v)", err)
	}
	merchant.screenshot("22b-merchant-confirm-focused")
	merchant.do("confirm with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`//h1[normalize-space()='Connected apps']`))
	merchant.wantText("after revoking", "No app is connected to this store.")
	merchant.screenshot("23-merchant-revoked")

	// The token stops working at once.
	if status := getStatus(t, api, issuer+"/api/v1/products"); status != http.StatusUnauthorized {
		t.Errorf("the sample API answered %d to the revoked token, want 401", status)
	}

	// The partner's receiver gets app.uninstalled, signed with the secret.
	h := site.waitHooks(t, "app.uninstalled", 1, 15*time.Second)[0]
	if err := webhook.Verify(h.header.Get(webhook.SignatureHeader), h.body, []byte(secret), time.Now(), 0); err != nil {
		t.Errorf("the app.uninstalled signature: %v", err)
	}
	var payload struct {
		ID, Event, Timestamp, AppID string
		Store                       struct{ ID, Slug, Name string }
		Data                        map[string]string
	}
	if err := json.Unmarshal(h.body, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.Event != "app.uninstalled" || payload.Store.Name != "Demo Store" || payload.Data["by"] != "merchant" ||
		payload.ID != h.header.Get(webhook.DeliveryHeader) || payload.Timestamp == "" {
		t.Errorf("payload %s", h.body)
	}

	// Activity and deliveries, as each of them sees it.
	if err := in.audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	merchant.do("open activity", chromedp.Click(byLink("Activity")), chromedp.WaitVisible(`//h1[normalize-space()='Activity']`))
	merchant.wantText("activity", "Signed in", "App authorized", "Token issued", "Access revoked", "Acme Stock Sync")
	merchant.screenshot("24-merchant-activity")

	partner.do("send a test event", chromedp.Click(byButton("Send test event")), chromedp.WaitVisible(`//p[contains(., 'test event was queued')]`))
	site.waitHooks(t, "test", 1, 15*time.Second)
	time.Sleep(300 * time.Millisecond) // the worker records the outcome after the answer
	partner.do("reload", chromedp.Navigate(issuer+"/partners/apps/"+clientID+"#deliveries"), chromedp.WaitVisible(`//h2[normalize-space()='Webhook deliveries']`))
	partner.wantText("deliveries", "app.uninstalled", "delivered", "HTTP 204", "Webhook delivered", "Access revoked")
	partner.screenshot("17-partner-deliveries")
	dark := []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
	if _, err := chromedp.Call(partner.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: dark}); err != nil {
		t.Fatalf("emulate dark mode: %v", err)
	}
	partner.screenshot("18-partner-app-dark")

	// On a phone's width the pages reflow to one column.
	phone := emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 844, DeviceScaleFactor: 1, Mobile: true}
	if _, err := chromedp.Call(merchant.ctx, emulation.SetDeviceMetricsOverride, phone); err != nil {
		t.Fatalf("emulate a phone: %v", err)
	}
	merchant.do("open activity on a phone", chromedp.Reload(), chromedp.WaitVisible(`//h1[normalize-space()='Activity']`))
	wide, err := chromedp.Run(merchant.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || wide {
		t.Errorf("the activity page scrolls sideways on a phone (err %v)", err)
	}
	merchant.screenshot("25-merchant-activity-phone")
	partner.checkConsole()
	merchant.checkConsole()
}

func getStatus(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// TestOutboxHelperServe is not a test: TestOutboxSurvivesKill runs the
// test binary again with it to get a server process it can kill.
func TestOutboxHelperServe(t *testing.T) {
	if os.Getenv("STOREKEY_HELPER_SERVE") == "" {
		t.Skip("a helper process of TestOutboxSurvivesKill")
	}
	err := run(context.Background(), []string{"serve"}, os.Getenv, os.Stdout, os.Stderr)
	t.Fatalf("serve returned: %v", err)
}

// TestOutboxSurvivesKill stops a server process between the commit of a
// revocation (and of its webhook, in the same transaction) and the
// webhook's delivery, with SIGKILL, starts another, and checks that the
// delivery arrives, exactly once; on SQLite and on PostgreSQL.
func TestOutboxSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	for _, d := range dbtest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) { outboxSurvivesKill(t, d.DSN) })
	}
}

func outboxSurvivesKill(t *testing.T, dbPath string) {
	ctx := t.Context()
	site := newPartnerSite(t)
	const key = "a-server-key-of-at-least-32-characters-for-the-test"
	environ := []string{
		"STOREKEY_HELPER_SERVE=1", "STOREKEY_DATABASE=" + dbPath, "STOREKEY_KEYS=" + key,
		"STOREKEY_ACCESS_LOG=false", "STOREKEY_WEBHOOKS_ALLOW_PRIVATE=true",
	}

	// The records: a merchant's store with the app installed.
	cfg := defaultConfig()
	cfg.Database, cfg.Keys = dbPath, []string{key}
	secret := seedKillTest(t, cfg, site.srv.URL+"/hooks", true)

	start := func(deliver bool) (*exec.Cmd, string) {
		t.Helper()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxHelperServe$", "-test.v=false")
		cmd.Env = append(os.Environ(), environ...)
		cmd.Env = append(cmd.Env, "STOREKEY_LISTEN="+addr, "STOREKEY_ISSUER=http://"+addr, fmt.Sprintf("STOREKEY_WEBHOOKS_DELIVER=%v", deliver))
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("server %s log:\n%s", addr, logs)
			}
		})
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
				_ = res.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server at %s did not start:\n%s", addr, logs)
			}
		}
		return cmd, "http://" + addr
	}

	// First process: it does not deliver, so the kill falls after the
	// commit and before the delivery.
	first, base := start(false)
	revokeAsMerchant(t, base, killStoreID, killAppID)
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds, err := db.Deliveries(ctx, killAppID, 10)
	if err != nil || len(ds) != 1 || ds[0].Status != oauth.DeliveryPending {
		t.Fatalf("after the revocation: %+v, %v", ds, err)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if n := len(site.received()); n != 0 {
		t.Fatalf("%d deliveries before the restart", n)
	}

	// Second process: it delivers what the first left.
	start(true)
	got := site.waitHooks(t, "app.uninstalled", 1, 20*time.Second)
	time.Sleep(1500 * time.Millisecond) // a duplicate would show up by now
	if all := site.received(); len(all) != 1 {
		t.Fatalf("the receiver got %d requests, want exactly 1", len(all))
	}
	if err := webhook.Verify(got[0].header.Get(webhook.SignatureHeader), got[0].body, []byte(secret), time.Now(), 0); err != nil {
		t.Errorf("signature: %v", err)
	}
	if id := got[0].header.Get(webhook.DeliveryHeader); id != ds[0].ID {
		t.Errorf("delivery id %s, want %s", id, ds[0].ID)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ds, err = db.Deliveries(ctx, killAppID, 10)
		if err == nil && ds[0].Status == oauth.DeliveryDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery is %+v, %v; want delivered", ds, err)
		}
	}
	if ds[0].Attempts != 1 {
		t.Errorf("%d attempts, want 1", ds[0].Attempts)
	}
}

const (
	killAppID    = "app_kill"
	killStoreID  = "sto_kill"
	killEmail    = "owner@kill.example"
	killPassword = "kill-test-password"
)

// seedKillTest creates a merchant, a store, an app with a webhook URL and
// its sealed signing secret, and a grant, and returns the app's secret.
func seedKillTest(t *testing.T, cfg Config, hookURL string, withGrant bool) string {
	t.Helper()
	ctx := t.Context()
	e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
	in, err := open(ctx, e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	db, now := in.db, time.Now().UTC().Truncate(time.Microsecond)
	u, err := newUser(killEmail, "Owner", killPassword)
	if err != nil {
		t.Fatal(err)
	}
	secret := oauth.RandomSecret(oauth.PrefixSecret)
	app := &oauth.App{ID: killAppID, Name: "Kill Test App", RedirectURIs: []string{"https://kill.example/cb"}, Scopes: oauth.NewScopes("read_products"),
		SecretHash: oauth.Hash(secret), WebhookURL: hookURL, Profile: "standard", CreatedAt: now, UpdatedAt: now}
	g := &oauth.Grant{ID: "grt_kill", AppID: app.ID, StoreID: killStoreID, UserID: u.ID, Scopes: app.Scopes, Generation: 1, CreatedAt: now}
	code := &oauth.Code{Hash: oauth.Hash("skc_kill"), AppID: app.ID, StoreID: killStoreID, UserID: u.ID, Scopes: app.Scopes, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	errs := []error{
		db.CreateUser(ctx, u),
		db.CreateStore(ctx, &oauth.Store{ID: killStoreID, Name: "Kill Store", Slug: "kill", CreatedAt: now}, u.ID),
		db.CreateApp(ctx, app),
		db.SetSigningSecret(ctx, &oauth.SigningSecret{AppID: app.ID, Current: in.sealer.Seal([]byte(secret), oauth.SigningLabel(app.ID)), UpdatedAt: now}),
	}
	if withGrant {
		errs = append(errs, db.CreateCode(ctx, code), db.RedeemCode(ctx, code, now, g, nil))
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return secret
}

var csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// revokeAsMerchant signs in and revokes the app through the merchant pages,
// as a browser without JavaScript would.
func revokeAsMerchant(t *testing.T, base, storeID, appID string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		return res.StatusCode, string(b)
	}
	if status, _ := send(http.MethodPost, "/login", url.Values{"email": {killEmail}, "password": {killPassword}}); status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", status)
	}
	path := "/account/stores/" + storeID + "/apps/" + appID + "/revoke"
	status, page := send(http.MethodGet, path, nil)
	m := csrfFieldRE.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %d\n%s", path, status, page)
	}
	if status, page := send(http.MethodPost, path, url.Values{"csrf": {m[1]}}); status != http.StatusSeeOther {
		t.Fatalf("POST %s: %d\n%s", path, status, page)
	}
}

// serveInstance serves an instance on a loopback port, following the
// revocation log as serve does, until the test ends.
func serveInstance(t *testing.T, in *instance) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bg, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); in.svc.WatchRevocations(bg, 100*time.Millisecond) }()
	t.Cleanup(func() { stop(); <-done }) // after the server stops: cleanups run last first
	serveOn(t, ln, in.handler(nil, nil))
	return "http://" + ln.Addr().String()
}

// TestRevokeReachesEveryProcess: a merchant revokes an app through one
// server process; the app's token, which another process has validated
// (and cached), stops working there too, within its revocation-log poll.
func TestRevokeReachesEveryProcess(t *testing.T) {
	for _, d := range dbtest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := t.Context()
			cfg := defaultConfig()
			cfg.Database, cfg.Keys, cfg.AccessLog = d.DSN, []string{"a-server-key-of-at-least-32-characters-for-the-test"}, false
			secret := seedKillTest(t, cfg, "", false)
			e := &env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard}
			var procs [2]*instance
			for i := range procs {
				in, err := open(ctx, e, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = in.Close() })
				procs[i] = in
			}
			a, b := serveInstance(t, procs[0]), serveInstance(t, procs[1])

			// The app gets a token through process A.
			u, err := procs[0].db.UserByEmail(ctx, killEmail)
			if err != nil {
				t.Fatal(err)
			}
			verifier := oauth2.GenerateVerifier()
			authz, err := procs[0].svc.ValidateAuthorize(ctx, oauth.AuthorizeRequest{ResponseType: "code", ClientID: killAppID,
				RedirectURI: "https://kill.example/cb", CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier), CodeChallengeMethod: "S256"})
			if err != nil {
				t.Fatal(err)
			}
			code, err := procs[0].svc.Approve(ctx, authz, merchantSession(t, procs[0].db, u.ID), killStoreID, oauth.Bound{})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := procs[0].svc.Token(ctx, oauth.TokenRequest{GrantType: oauth.GrantAuthorizationCode, Client: oauth.ClientCredentials{ID: killAppID, Secret: secret},
				Code: code, RedirectURI: "https://kill.example/cb", CodeVerifier: verifier})
			if err != nil {
				t.Fatal(err)
			}
			api := func() int {
				req, _ := http.NewRequest(http.MethodGet, b+"/api/v1/store", nil)
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = res.Body.Close()
				return res.StatusCode
			}
			if got := api(); got != http.StatusOK {
				t.Fatalf("process B's API: %d before the revocation", got)
			}

			// The merchant revokes it through process A's pages.
			revokeAsMerchant(t, a, killStoreID, killAppID)
			start := time.Now()
			for api() != http.StatusUnauthorized {
				if time.Since(start) > 2*time.Second {
					t.Fatal("process B still accepts the token 2 s after the revocation")
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("process B refused the token %s after the revocation", time.Since(start).Round(time.Millisecond))
		})
	}
}

// merchantSession stores a merchant session for userID, as a sign-in would,
// for calling Service.Approve directly.
func merchantSession(t *testing.T, st oauth.Storage, userID string) *oauth.Session {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	s := &oauth.Session{Hash: oauth.Hash(oauth.RandomSecret(oauth.PrefixSession)), UserID: userID,
		Kind: oauth.SessionMerchant, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateSession(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	return s
}
