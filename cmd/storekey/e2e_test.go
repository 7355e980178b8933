package main

// End to end: the demo (server, seeded merchant and example partner app) on
// a real listener, driven by Debian's headless Chromium through chromedp.
//
// Screenshots of every page go to t.ArtifactDir(): a temporary folder that
// is removed after the test, unless go test runs with -artifacts, which
// keeps them under -outputdir (a folder that must exist; default: where go
// test runs). With -v, each subtest prints its folder on an "=== ARTIFACTS"
// line, and the test logs each file:
//
//	mkdir -p /tmp/storekey-e2e
//	go test -run TestBrowser -v -artifacts -outputdir /tmp/storekey-e2e ./cmd/storekey/
//
// Go 1.26's testing package means to use _artifacts/<package>/<test>/<random>
// but, through golang/go#77763, makes every folder _artifacts/<random>, so
// the file names say which page each is.

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/storekey/storekey/internal/profile"
	"github.com/storekey/storekey/internal/server"
)

// chromiumPath is Debian's chromium package; the tests never download a
// browser.
const chromiumPath = "/usr/bin/chromium"

// requireChromium returns the browser's path. Without it the test is
// skipped, except under CI, where it fails.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing (%v): CI must install Debian's chromium package", chromiumPath, err)
		}
		t.Skipf("%s is missing (%v): install Debian's chromium package to run the browser tests", chromiumPath, err)
	}
	return chromiumPath
}

// syncBuffer is a bytes.Buffer that the server's goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDemo runs what `storekey demo` runs, in process, on a fresh SQLite
// database, and returns the issuer URL. Everything stops at the end of the
// test; the server's log is shown if the test failed.
func startDemo(t *testing.T) string {
	t.Helper()
	return bootDemo(t).issuer
}

// demoRun is a demo started by bootDemo.
type demoRun struct {
	issuer string
	e      *env
	in     *instance
	stdout *syncBuffer // what the demo printed
}

// bootDemo is startDemo, returning the running demo's parts.
func bootDemo(t *testing.T) *demoRun {
	t.Helper()
	ctx := t.Context()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := defaultConfig()
	cfg.Database = filepath.Join(t.TempDir(), "demo.db")
	cfg.Listen = addr
	cfg.Issuer = "http://" + addr
	cfg.AccessLog = false
	cfg.RateLimit = RateLimit{} // 0 disables the limit
	cfg.Login.MaxFailures = 1000
	cfg = demoProfiles(cfg)

	logs, stdout := &syncBuffer{}, &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	e := &env{getenv: func(string) string { return "" }, stdout: stdout, stderr: logs}
	in, err := open(ctx, e, cfg)
	if err != nil {
		_ = ln.Close()
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := in.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
	mounts, links, err := seedDemo(ctx, e, in)
	if err != nil {
		_ = ln.Close()
		t.Fatalf("seedDemo: %v", err)
	}

	watch, stopWatch := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		in.svc.WatchRevocations(watch, 100*time.Millisecond)
	}()
	t.Cleanup(func() { stopWatch(); <-watching })

	serveOn(t, ln, in.handler(mounts, links))
	return &demoRun{issuer: cfg.Issuer, e: e, in: in, stdout: stdout}
}

// serveOn runs s on ln with the HTTP server of `storekey serve` until the
// test ends.
func serveOn(t testing.TB, ln net.Listener, s *server.Server) {
	t.Helper()
	srv := s.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(shutdown); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// newBrowser starts one headless Chromium for the whole test. Each tab made
// from the returned context with chromedp.WithNewBrowserContext has cookies
// of its own.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(requireChromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// The network here is closed: keep Chromium from calling home.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("force-color-profile", "srgb"),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// The first Do starts the browser, which lives as long as the context
	// it was given: so no timeout on it, but a watchdog.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v", chromiumPath, err)
		}
	case <-time.After(30 * time.Second):
		cancelBrowser()
		<-started
		t.Fatalf("%s did not start within 30 s", chromiumPath)
	}
	return browser
}

// browserTab is one browser tab of a subtest, with what it needs to report.
type browserTab struct {
	t   *testing.T
	ctx context.Context
	dir string // where screenshots go

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newPage opens a tab with a browser context (cookies, storage) of its own,
// collecting the console's messages.
func newPage(t *testing.T, browser context.Context, timeout time.Duration) *browserTab {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		t.Fatalf("open a tab: %v", err)
	}
	p := &browserTab{t: t, dir: t.ArtifactDir()}
	messages := chromedp.Console(tab)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	ctx, cancel := context.WithTimeout(tab, timeout)
	p.ctx = ctx
	t.Cleanup(func() {
		if t.Failed() {
			p.screenshot("failure")
		}
		cancel()
		cancelTab()
		<-done
	})
	return p
}

// do runs steps, failing the test with what it was doing.
func (p *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// text is the page's visible text.
func (p *browserTab) text() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		p.t.Fatalf("read the page's text: %v", err)
	}
	return s
}

// html is the page's whole markup.
func (p *browserTab) html() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		p.t.Fatalf("read the page's HTML: %v", err)
	}
	return s
}

func (p *browserTab) location() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatalf("read the location: %v", err)
	}
	return s
}

// screenshot saves a full-page PNG as name.png in the subtest's artifact
// folder.
func (p *browserTab) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(p.dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p.t.Logf("screenshot: %s", file)
}

// wantText fails the test for each string the visible text lacks.
func (p *browserTab) wantText(where string, want ...string) {
	p.t.Helper()
	text := p.text()
	for _, w := range want {
		if !strings.Contains(text, w) {
			p.t.Errorf("%s: the page does not say %q; it says:\n%s", where, w, text)
		}
	}
}

// checkConsole fails the test for uncaught exceptions and for anything the
// Content Security Policy blocked; other messages are logged.
func (p *browserTab) checkConsole() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.console {
		switch {
		case m.IsException(), strings.Contains(m.Text, "Content Security Policy"):
			p.t.Errorf("browser console: %s (%s:%d)", m, m.URL, m.Line+1)
		case strings.HasSuffix(m.URL, "/favicon.ico"):
			// No page declares an icon; the browser's guess may 404.
		default:
			p.t.Logf("browser console: %s (%s)", m, m.URL)
		}
	}
}

// Selectors by role and visible text, as a person finds them.
const (
	connectLink  = `//a[normalize-space()='Connect to Storekey']`
	signInButton = `//button[normalize-space()='Sign in']`
	allowButton  = `//button[normalize-space()='Allow']`
	denyButton   = `//button[normalize-space()='Deny']`
	connectedH1  = `//h1[normalize-space()='The store is connected']`
	deniedH1     = `//h1[normalize-space()='The merchant did not connect the app']`
)

// secretRE matches a Storekey access or refresh token or client secret with
// more characters than the example app's mask shows (the prefix and four).
var secretRE = regexp.MustCompile(`sk[ars]_[A-Za-z0-9_-]{5,}`)

// maskedRE is a masked access token as the example app shows it.
var maskedRE = regexp.MustCompile(`ska_[A-Za-z0-9_-]{4}…`)

// signInAndConsent goes from the example app's landing page to the consent
// page, checking and photographing each page on the way.
func signInAndConsent(t *testing.T, p *browserTab, issuer string, shots bool) {
	t.Helper()
	p.do("open the example app", chromedp.Navigate(issuer+"/example/"), chromedp.WaitVisible(connectLink))
	p.wantText("example landing", "Example Partner App", "read_products")
	if shots {
		p.screenshot("01-example-landing")
	}

	p.do("click Connect", chromedp.Click(connectLink), chromedp.WaitVisible(chromedp.ID("email")))
	if loc := p.location(); !strings.HasPrefix(loc, issuer+"/oauth/authorize?") {
		t.Errorf("after Connect the browser is at %s, want the authorization endpoint", loc)
	}
	p.wantText("sign-in", "Sign in", "Example Partner App")
	if shots {
		p.screenshot("02-sign-in")
	}

	p.do("sign in",
		chromedp.SendKeys(chromedp.ID("email"), demoEmail),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(signInButton),
		chromedp.WaitVisible(allowButton),
	)
	p.wantText("consent",
		"Connect Example Partner App to your store",
		"Developed by Storekey demo",
		"Example Partner App will be able to",
		"View your products, variants, categories and prices",
		"View your orders, fulfilments and refunds",
		"View your customers and their addresses",
		"Demo Store",
		"you will be sent back to "+strings.TrimPrefix(issuer, "http://"),
		"Signed in as "+demoEmail,
	)
	checked, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.querySelector("input[name=store_id]").checked`))
	if err != nil || !checked {
		t.Errorf("the merchant's only store is not preselected (checked %v, err %v)", checked, err)
	}
	if shots {
		p.screenshot("03-consent")
	}
}

// focusedAfterTabs presses Tab until the Allow button has the focus and
// returns what had it on the way.
func focusedAfterTabs(t *testing.T, p *browserTab) (path []string, reached bool) {
	t.Helper()
	p.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	for range 15 {
		p.do("press Tab", chromedp.KeyEvent(kb.Tab))
		active, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](
			`(e => e ? e.tagName.toLowerCase() + ":" + (e.textContent || e.value || "").trim().replace(/\s+/g, " ") : "")(document.activeElement)`))
		if err != nil {
			t.Fatalf("read the focused element: %v", err)
		}
		path = append(path, active)
		if active == "button:Allow" {
			return path, true
		}
	}
	return path, false
}

// TestBrowserConsent is the demo as a merchant sees it: the example partner
// app, Storekey's sign-in and consent pages, and the app's callback page,
// with Allow and with Deny.
func TestBrowserConsent(t *testing.T) {
	browser := newBrowser(t)

	t.Run("allow", func(t *testing.T) {
		issuer := startDemo(t)
		p := newPage(t, browser, 25*time.Second)
		signInAndConsent(t, p, issuer, true)

		// Keyboard: the Allow button is in the tab order and shows its focus.
		path, ok := focusedAfterTabs(t, p)
		if !ok {
			t.Fatalf("Tab never reached the Allow button; the focus went through %q", path)
		}
		visible, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](
			`document.activeElement.matches(":focus-visible") && getComputedStyle(document.activeElement).outlineStyle !== "none"`))
		if err != nil || !visible {
			t.Errorf("the focused Allow button shows no focus outline (err %v)", err)
		}
		t.Logf("tab order to Allow: %q", path)
		p.screenshot("03b-consent-allow-focused")

		// The pages follow the system's dark mode: photograph it too.
		dark := []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
		if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: dark}); err != nil {
			t.Fatalf("emulate dark mode: %v", err)
		}
		p.screenshot("03c-consent-dark")
		if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
			t.Fatalf("end dark mode: %v", err)
		}

		p.do("click Allow", chromedp.Click(allowButton), chromedp.WaitVisible(connectedH1))
		if loc := p.location(); !strings.HasPrefix(loc, issuer+"/example/callback?") {
			t.Errorf("after Allow the browser is at %s, want the example app's callback", loc)
		}
		p.wantText("callback",
			"Espresso beans 1kg", "ESP-1KG", "24.90 EUR",
			"Ceramic mug", "Pour-over kettle", "Paper filters (100)", "Gift card",
			"read_customers read_orders read_products",
			"Bearer",
		)
		p.screenshot("04-callback")
		text, html := p.text(), p.html()
		if !maskedRE.MatchString(text) {
			t.Errorf("the callback page shows no masked access token (%s); it says:\n%s", maskedRE, text)
		}
		for where, s := range map[string]string{"text": text, "HTML": html} {
			if leak := secretRE.FindString(s); leak != "" {
				t.Errorf("the callback page's %s holds a token beyond its mask: %q", where, leak)
			}
		}

		// Consent once given is remembered (skip_known_consent): connecting
		// again goes straight back to the app.
		p.do("connect again", chromedp.Navigate(issuer+"/example/start"), chromedp.WaitVisible(connectedH1))
		p.wantText("second callback", "Espresso beans 1kg")
		p.checkConsole()
	})

	// The dialects' example apps where a browser sees more than HTTP:
	// HubRise's pickers (the browser's own default choice of each list) and
	// HyperSKU's logo, a data URL under the pages' Content Security Policy.
	t.Run("profiles", func(t *testing.T) {
		issuer := startDemo(t)
		for _, tc := range []struct {
			profile, button string
			consent, result []string
		}{
			{
				profile: profile.HubRise, button: "Allow",
				consent: []string{"Connect HubRise Example App to your store", "Location", "Catalog", "Customer list", "Airport kiosk", "Loyalty club"},
				result:  []string{"location_name", "catalog_name", "customer_list_name", "Demo Store", "X-Access-Token", "Espresso beans 1kg"},
			},
			{
				profile: profile.HyperSKU, button: "Allow",
				consent: []string{"Connect HyperSKU Example App to your store", "Manage your orders, products, inventory and fulfilment in the OMS"},
				result:  []string{"oms", "userId", "The API's answer", "app_demo_hypersku"},
			},
			{
				profile: profile.StoreHippo, button: "Install",
				consent: []string{"Connect StoreHippo Example App to your store", "View your orders and transactions"},
				result:  []string{"read_orders read_products", "Ceramic mug"},
			},
		} {
			t.Run(tc.profile, func(t *testing.T) {
				p := newPage(t, browser, 25*time.Second)
				button := `//button[normalize-space()='` + tc.button + `']`
				p.do("open the example app", chromedp.Navigate(issuer+"/example/"+tc.profile+"/"), chromedp.WaitVisible(connectLink))
				p.do("click Connect", chromedp.Click(connectLink), chromedp.WaitVisible(chromedp.ID("email")))
				p.do("sign in",
					chromedp.SendKeys(chromedp.ID("email"), demoEmail),
					chromedp.SendKeys(chromedp.ID("password"), demoPassword),
					chromedp.Click(signInButton),
					chromedp.WaitVisible(button),
				)
				p.wantText("consent", tc.consent...)
				if tc.profile == profile.HyperSKU {
					width, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`(i => i && i.complete ? i.naturalWidth : 0)(document.querySelector(".consent img"))`))
					if err != nil || width != 110 {
						t.Errorf("the app's logo did not load at 110 px (width %d, err %v)", width, err)
					}
				}
				p.screenshot(tc.profile + "-consent")
				p.do("click "+tc.button, chromedp.Click(button), chromedp.WaitVisible(connectedH1))
				if loc := p.location(); !strings.HasPrefix(loc, issuer+"/example/"+tc.profile+"/callback?") {
					t.Errorf("after %s the browser is at %s, want the example app's callback", tc.button, loc)
				}
				p.wantText("callback", tc.result...)
				p.screenshot(tc.profile + "-callback")
				if leak := secretRE.FindString(p.html()); leak != "" {
					t.Errorf("the callback page holds a token beyond its mask: %q", leak)
				}
				p.checkConsole()
			})
		}
	})

	t.Run("deny", func(t *testing.T) {
		issuer := startDemo(t)
		p := newPage(t, browser, 25*time.Second)
		signInAndConsent(t, p, issuer, false)
		p.do("click Deny", chromedp.Click(denyButton), chromedp.WaitVisible(deniedH1))
		loc := p.location()
		if !strings.HasPrefix(loc, issuer+"/example/callback?") || !strings.Contains(loc, "error=access_denied") {
			t.Errorf("after Deny the browser is at %s, want the callback with error=access_denied", loc)
		}
		p.wantText("denied", "access_denied", "the merchant denied access", "Start again")
		if strings.Contains(p.text(), "Espresso beans") {
			t.Error("the denied page lists the store's products")
		}
		p.screenshot("05-denied")

		// Nothing was granted: connecting again asks again.
		p.do("connect again", chromedp.Click(`//a[normalize-space()='Start again']`), chromedp.WaitVisible(allowButton))
		p.checkConsole()
	})
}
