package main

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storekey/storekey/internal/profile"
)

// demoBrowser is a merchant's user agent over plain HTTP: it keeps cookies
// and lets the test follow each redirect itself.
type demoBrowser struct {
	t      *testing.T
	issuer string
	c      *http.Client
}

func newDemoBrowser(t *testing.T, issuer string) *demoBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &demoBrowser{t: t, issuer: issuer, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a GET, or a form POST when form is not nil, to a URL or a path
// on the issuer, and returns the status, the Location and the body.
func (b *demoBrowser) do(target string, form url.Values) (int, *url.URL, string) {
	b.t.Helper()
	u, err := url.Parse(b.issuer + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	if u, err = u.Parse(target); err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u.String(), nil)
	if form != nil {
		req, err = http.NewRequestWithContext(b.t.Context(), http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", b.issuer)
		}
	}
	if err != nil {
		b.t.Fatal(err)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	loc, err := resp.Location()
	if err != nil && !errors.Is(err, http.ErrNoLocation) {
		b.t.Fatalf("%s %s: Location: %v", req.Method, u, err)
	}
	return resp.StatusCode, loc, string(body)
}

// redirected fails the test unless status is a redirect.
func redirected(t *testing.T, what string, status int, loc *url.URL, body string) *url.URL {
	t.Helper()
	if (status != http.StatusFound && status != http.StatusSeeOther) || loc == nil {
		t.Fatalf("%s: status %d, want a redirect:\n%s", what, status, body)
	}
	return loc
}

var (
	formRE   = regexp.MustCompile(`(?s)<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`<input[^>]*>`)
	selectRE = regexp.MustCompile(`(?s)<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	optionRE = regexp.MustCompile(`<option value="([^"]*)"[^>]*>([^<]*)`)
	attrRE   = regexp.MustCompile(`\b(name|value|type)="([^"]*)"`)
)

// pageForm is one form of a page, filled in as a person who accepts every
// default (and picks each list's first option) would submit it.
type pageForm struct {
	action string
	values url.Values
	picked map[string]string // select name → the picked option's text
}

// formWith returns the page's form that has a field of the name.
func formWith(t *testing.T, page, field string) pageForm {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(page, -1) {
		f := pageForm{action: html.UnescapeString(m[1]), values: url.Values{}, picked: map[string]string{}}
		for _, in := range inputRE.FindAllString(m[2], -1) {
			attrs := map[string]string{}
			for _, a := range attrRE.FindAllStringSubmatch(in, -1) {
				attrs[a[1]] = html.UnescapeString(a[2])
			}
			switch attrs["type"] {
			case "hidden":
				f.values.Set(attrs["name"], attrs["value"])
			case "radio":
				if strings.Contains(in, " checked") || !f.values.Has(attrs["name"]) {
					f.values.Set(attrs["name"], attrs["value"])
				}
			}
		}
		for _, s := range selectRE.FindAllStringSubmatch(m[2], -1) {
			if o := optionRE.FindStringSubmatch(s[2]); o != nil {
				f.values.Set(s[1], html.UnescapeString(o[1]))
				f.picked[s[1]] = strings.TrimSpace(html.UnescapeString(o[2]))
			}
		}
		if f.values.Has(field) {
			return f
		}
	}
	t.Fatalf("no form with a %s field in the page:\n%s", field, page)
	return pageForm{}
}

// TestDemoProfiles runs each profile's example partner app of the demo
// over HTTP, as a merchant's browser would: the app's start, Storekey's
// sign-in and consent pages (picking what HubRise asks to pick), and the
// app's callback page with the token masked and the API's answer.
func TestDemoProfiles(t *testing.T) {
	run := bootDemo(t)
	iss := run.issuer

	apps := demoApps()
	if len(apps) != len(profile.All()) {
		t.Fatalf("%d example apps for %d profiles", len(apps), len(profile.All()))
	}
	var names []string
	for _, d := range apps {
		names = append(names, d.profile)
	}
	if diff := cmp.Diff(profile.Names(), names); diff != "" {
		t.Errorf("example apps' profiles (-want +got):\n%s", diff)
	}

	t.Run("home page and console", func(t *testing.T) {
		b := newDemoBrowser(t, iss)
		status, _, home := b.do("/", nil)
		if status != http.StatusOK {
			t.Fatalf("GET /: %d", status)
		}
		last := -1
		for _, d := range apps {
			link := `<a href="` + d.base() + `/">` + d.link.Title + `</a>`
			i := strings.Index(home, link)
			if i < 0 {
				t.Errorf("the home page lacks %s:\n%s", link, home)
				continue
			}
			if i < last {
				t.Errorf("the home page lists %s out of order", d.profile)
			}
			last = i
			if printed := run.stdout.String(); !strings.Contains(printed, iss+d.base()+"/\n") {
				t.Errorf("the demo did not print %s/:\n%s", iss+d.base(), printed)
			}
		}
		if !strings.HasPrefix(apps[0].link.Title, "Example partner app") || apps[0].base() != "/example" {
			t.Errorf("standard's example is not first at /example/")
		}
	})

	// What each profile's flow shows beyond a connected store and a masked
	// token.
	want := map[string]struct {
		consent []string // on the consent page
		result  []string // on the app's callback page
		absent  []string // not on the callback page
	}{
		profile.Standard: {
			result: []string{"<code>read_customers read_orders read_products</code>", "<td>Espresso beans 1kg</td>", "<dt>Token type</dt><dd>Bearer</dd>", "Refresh token"},
		},
		profile.Hike: {
			consent: []string{"View your products, variants, categories and prices", "View your customers and their addresses"},
			result: []string{
				"<code>read_customers read_orders read_products</code>", "<dt><code>expires</code></dt><dd><code>1", "seconds)",
				"Refresh token", "<td>Espresso beans 1kg</td>",
			},
		},
		profile.StoreHippo: {
			consent: []string{">Install</button>", "View your products, categories, collections and brands"},
			result:  []string{"<code>read_orders read_products</code>", "<dt>Expires</dt><dd>never</dd>", "<td>Ceramic mug</td>"},
			absent:  []string{"Refresh token"},
		},
		profile.HubRise: {
			consent: []string{`name="location_id"`, `name="catalog_id"`, `name="customer_list_id"`, "Shop catalog", "Loyalty club"},
			result: []string{
				"<dt><code>account_name</code></dt><dd><code>Demo Store</code></dd>", "<dt><code>location_id</code></dt><dd><code>loc_",
				"<dt><code>catalog_id</code></dt><dd><code>cat_", "<dt><code>customer_list_id</code></dt><dd><code>cls_",
				"<dt>Token type</dt><dd>not given</dd>", "<dt>Expires</dt><dd>never</dd>",
				"with <code>X-Access-Token</code>", "<td>Pour-over kettle</td>",
			},
			absent: []string{"Refresh token"},
		},
		profile.Hiboutik: {
			consent: []string{"View sales, payments and fulfillments"},
			result:  []string{"<code>read_products read_sales</code>", "Refresh token", "<td>Gift card</td>"},
		},
		profile.HyperSKU: {
			consent: []string{`<img src="data:image/png;base64,`, "Manage your orders, products, inventory and fulfilment in the OMS"},
			result: []string{
				"<code>oms</code>", "<dt><code>userId</code></dt><dd><code>usr_", "<dt><code>refreshTokenExpireIn</code></dt><dd><code>",
				"Refresh token", "<h2 id=\"api\">The API's answer</h2>", "/api/v1/me</code>",
				"<dt><code>app_id</code></dt><dd><code>app_demo_hypersku</code></dd>", "<dt><code>scopes</code></dt><dd><code>oms</code></dd>",
			},
			absent: []string{"Products of the connected store", "insufficient_scope"},
		},
	}

	for _, d := range apps {
		t.Run(d.profile, func(t *testing.T) {
			w := want[d.profile]
			b := newDemoBrowser(t, iss)

			status, _, landing := b.do(d.base()+"/", nil)
			if status != http.StatusOK || !strings.Contains(landing, d.name) || !strings.Contains(landing, "Connect to Storekey") {
				t.Fatalf("GET %s/: %d\n%s", d.base(), status, landing)
			}
			status, loc, body := b.do(d.base()+"/start", nil)
			authz := redirected(t, "start", status, loc, body)
			if got := authz.Scheme + "://" + authz.Host + authz.Path; got != iss+d.authorizeAt {
				t.Errorf("the app sent the browser to %s, want %s", got, iss+d.authorizeAt)
			}
			q := authz.Query()
			clientID := q.Get("client_id")
			if d.profile == profile.HyperSKU {
				clientID = q.Get("clientId")
				if q.Has("client_id") || q.Get("redirectUri") != iss+d.base()+"/callback" || q.Get("state") == "" {
					t.Errorf("HyperSKU's authorization request is not in its names: %v", q)
				}
			}
			if clientID != d.id() || q.Get("scope") != strings.Join(d.ask, " ") {
				t.Errorf("authorization request %v: want client %s and scope %q", q, d.id(), strings.Join(d.ask, " "))
			}

			// Not signed in: the sign-in page, which comes back here.
			status, _, page := b.do(authz.String(), nil)
			if status != http.StatusOK || !strings.Contains(page, d.name) {
				t.Fatalf("authorize: %d\n%s", status, page)
			}
			login := formWith(t, page, "next")
			login.values.Set("email", demoEmail)
			login.values.Set("password", demoPassword)
			status, loc, body = b.do(login.action, login.values)
			next := redirected(t, "sign in", status, loc, body)
			if next.Path != authz.Path {
				t.Errorf("after signing in the browser goes to %s, want %s", next, authz.Path)
			}

			status, _, page = b.do(next.String(), nil)
			if status != http.StatusOK {
				t.Fatalf("consent: %d\n%s", status, page)
			}
			for _, s := range append([]string{"Connect " + d.name + " to your store", "Demo Store"}, w.consent...) {
				if !strings.Contains(page, s) {
					t.Errorf("the consent page lacks %q:\n%s", s, page)
				}
			}
			consent := formWith(t, page, "q")
			consent.values.Set("decision", "allow")
			status, loc, body = b.do(consent.action, consent.values)
			back := redirected(t, "allow", status, loc, body)
			if got := back.Scheme + "://" + back.Host + back.Path; got != iss+d.base()+"/callback" {
				t.Fatalf("Allow sent the browser to %s, want the app's callback", back)
			}

			status, _, result := b.do(back.String(), nil)
			if status != http.StatusOK {
				t.Fatalf("callback: %d\n%s", status, result)
			}
			for _, s := range append([]string{"<h1>The store is connected</h1>"}, w.result...) {
				if !strings.Contains(result, s) {
					t.Errorf("the callback page lacks %q:\n%s", s, result)
				}
			}
			for _, s := range w.absent {
				if strings.Contains(result, s) {
					t.Errorf("the callback page shows %q:\n%s", s, result)
				}
			}
			for field, name := range consent.picked {
				row := "<dt><code>" + strings.TrimSuffix(field, "_id") + "_name</code></dt><dd><code>" + html.EscapeString(name) + "</code></dd>"
				if !strings.Contains(result, row) {
					t.Errorf("the token response does not name the picked %s %q:\n%s", field, name, result)
				}
			}
			if d.profile == profile.HubRise && len(consent.picked) != 3 {
				t.Errorf("picked %v, want a location, a catalog and a customer list", consent.picked)
			}
			if !maskedRE.MatchString(result) {
				t.Errorf("the callback page shows no masked access token:\n%s", result)
			}
			if leak := secretRE.FindString(result); leak != "" {
				t.Errorf("the callback page holds a token beyond its mask: %q", leak)
			}
		})
	}

	t.Run("seeded again", func(t *testing.T) {
		ctx := t.Context()
		db := run.in.db
		// A restart on the same database: the same records, no duplicates.
		if _, _, err := seedDemo(ctx, run.e, run.in); err != nil {
			t.Fatal(err)
		}
		all, err := db.Apps(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		var ids, wantIDs []string
		for _, a := range all {
			ids = append(ids, a.ID)
		}
		for _, d := range apps {
			wantIDs = append(wantIDs, d.id())
		}
		slices.Sort(ids)
		slices.Sort(wantIDs)
		if diff := cmp.Diff(wantIDs, ids); diff != "" {
			t.Errorf("apps after a second seeding (-want +got):\n%s", diff)
		}
		for _, a := range all {
			if (a.LogoURL != "") != (a.Profile == profile.HyperSKU) {
				t.Errorf("app %s (%s) has logo %.40q", a.ID, a.Profile, a.LogoURL)
			}
		}
		s, err := db.StoreBySlug(ctx, demoStoreSlug)
		if err != nil {
			t.Fatal(err)
		}
		cats, err := db.Catalogs(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		lists, err := db.CustomerLists(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		products, err := db.Products(ctx, s.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(cats) != 2 || len(lists) != 2 || len(products) != 5 {
			t.Errorf("after a second seeding: %d catalogs, %d customer lists, %d products; want 2, 2, 5", len(cats), len(lists), len(products))
		}
	})
}

// TestDemoProfilesConfigured: a configuration that names its profiles
// keeps them; one that does not gets every profile.
func TestDemoProfilesConfigured(t *testing.T) {
	for _, tt := range []struct {
		configured, want []string
	}{
		{nil, []string{profile.Hike, profile.StoreHippo, profile.HubRise, profile.Hiboutik, profile.HyperSKU}},
		{[]string{}, []string{}},
		{[]string{profile.HubRise}, []string{profile.HubRise}},
	} {
		cfg := defaultConfig()
		cfg.Profiles = tt.configured
		if diff := cmp.Diff(tt.want, demoProfiles(cfg).Profiles); diff != "" {
			t.Errorf("demoProfiles(%q) (-want +got):\n%s", tt.configured, diff)
		}
	}
}
