package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/storekey/storekey/internal/example"
	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
	"github.com/storekey/storekey/internal/web"
)

// The demo's fixed merchant. The demo listens on loopback by default and
// keeps its data apart from `serve`'s.
const (
	demoEmail     = "merchant@demo.storekey.test"
	demoPassword  = "storekey-demo"
	demoStoreSlug = "demo-store"
	// demoAppID is the standard profile's example app; each other
	// profile's is "app_demo_" + its name.
	demoAppID = "app_demo_example"
)

func demoCmd(e *env) *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the server with a seeded demo merchant, store and one example partner app per profile",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			if e.database == "" && e.getenv("STOREKEY_DATABASE") == "" && e.configPath == "" {
				cfg.Database = filepath.Join("storekey-data", "demo.db")
			}
			if listen != "" {
				cfg = withListen(cfg, listen, e.getenv)
			}
			cfg = demoProfiles(cfg)
			return serve(cmd.Context(), e, cfg, func(ctx context.Context, in *instance) (map[string]http.Handler, []web.Link, error) {
				return seedDemo(ctx, e, in)
			})
		},
	}
	c.Flags().StringVar(&listen, "listen", "", "address to listen on (overrides the config)")
	return c
}

// demoProfiles enables every profile, unless the configuration (file or
// STOREKEY_PROFILES) names the ones it wants.
func demoProfiles(cfg Config) Config {
	if cfg.Profiles == nil {
		cfg.Profiles = slices.DeleteFunc(profile.Names(), func(n string) bool { return n == profile.Standard })
	}
	return cfg
}

// demoApp is the example partner app of one profile: what it is allowed
// and what it asks for, in that platform's words, at that platform's paths.
type demoApp struct {
	profile string
	name    string
	// allowed are the scopes the app may be granted, as Storekey names
	// them; ask is the scope parameter, as the platform's guide writes it.
	allowed []string
	ask     []string
	// describe words ask on the example's landing page, for scopes the
	// profile's catalog does not name as such.
	describe map[string]string
	// authorizeAt and exchangeAt are the paths of the authorization and
	// token endpoints on the issuer.
	authorizeAt, exchangeAt string
	// apiPath is the API request the app makes; "" for /products.
	apiPath string
	// fields are the further fields of the token response it shows.
	fields []string
	// link is what the home page says of it.
	link web.Link
}

// id is the app's fixed client id.
func (d demoApp) id() string {
	if d.profile == profile.Standard {
		return demoAppID
	}
	return "app_demo_" + d.profile
}

// base is where the app is mounted.
func (d demoApp) base() string {
	if d.profile == profile.Standard {
		return "/example"
	}
	return "/example/" + d.profile
}

// demoApps are the example apps, standard first, then in the order of
// profile.All.
func demoApps() []demoApp {
	store := "/stores/" + demoStoreSlug
	hubrise := "location[orders.read,catalog.read,customer_list.read]"
	return []demoApp{
		{
			profile:     profile.Standard,
			name:        "Example Partner App",
			allowed:     []string{"read_products", "read_orders", "read_customers"},
			ask:         []string{"read_products", "read_orders", "read_customers"},
			authorizeAt: "/oauth/authorize",
			exchangeAt:  "/oauth/token",
			link: web.Link{Title: "Example partner app",
				Description: "standard OAuth 2.0 with PKCE: connect a sample app to the Demo Store and list its products through the API."},
		},
		{
			profile:     profile.Hike,
			name:        "Hike Example App",
			allowed:     []string{"read_products", "read_orders", "read_customers"},
			ask:         []string{"all"},
			describe:    map[string]string{"all": "Every scope the app is registered for: here read_products, read_orders and read_customers"},
			authorizeAt: "/oauth/authorize",
			exchangeAt:  "/oauth/token",
			fields:      []string{"expires"},
			link: web.Link{Title: "Hike example app",
				Description: "scope all, a token response with expires and expires_in, and a refresh token."},
		},
		{
			profile:     profile.StoreHippo,
			name:        "StoreHippo Example App",
			allowed:     []string{"read_products", "read_orders"},
			ask:         []string{"read_products,read_orders"},
			authorizeAt: store + "/admin/oauth/authorization",
			exchangeAt:  store + "/admin/oauth/token",
			link: web.Link{Title: "StoreHippo example app",
				Description: "the store in the URL (/stores/demo-store/admin/oauth/...), comma-separated scopes, an Install button, and a token that lasts while the app is installed."},
		},
		{
			profile:     profile.HubRise,
			name:        "HubRise Example App",
			allowed:     []string{"read_orders", "read_products", "read_customers"},
			ask:         []string{hubrise},
			describe:    map[string]string{hubrise: "View the orders, the catalog and the customer list of the location you pick"},
			authorizeAt: "/oauth2/v1/authorize",
			exchangeAt:  "/oauth2/v1/token",
			fields: []string{"account_id", "account_name", "location_id", "location_name",
				"catalog_id", "catalog_name", "customer_list_id", "customer_list_name"},
			link: web.Link{Title: "HubRise example app",
				Description: "a location[...] scope; pick a location, a catalog and a customer list; a token that never expires, named with what it is bound to, sent as X-Access-Token."},
		},
		{
			profile:     profile.Hiboutik,
			name:        "Hiboutik Example App",
			allowed:     []string{"read_products", "read_sales"},
			ask:         []string{"read_products", "read_sales"},
			authorizeAt: "/oauth/authorize",
			exchangeAt:  "/oauth/token",
			link: web.Link{Title: "Hiboutik example app",
				Description: "read_/write_ scopes of Hiboutik's ten areas, a 365-day access token and a refresh token."},
		},
		{
			profile:     profile.HyperSKU,
			name:        "HyperSKU Example App",
			allowed:     []string{"oms"},
			ask:         []string{"oms"},
			authorizeAt: "/application/auth",
			exchangeAt:  "/api/auth/admin/token/access_token",
			apiPath:     "/me",
			fields:      []string{"userId", "refreshTokenExpireIn"},
			link: web.Link{Title: "HyperSKU example app",
				Description: "camelCase parameters, a required state, a JSON token request with a camelCase answer, the one scope oms, and a 110 x 110 px logo."},
		},
	}
}

// seedDemo creates the demo merchant, store and sample data if they are
// missing, and the example partner app of each enabled profile, and returns
// the apps' handlers and the home page's links to them. It may run again on
// the same database: it keeps what it finds and resets the apps. Each
// app's secret is drawn anew at every start: only its hash is stored, so
// the running process is the only holder.
func seedDemo(ctx context.Context, e *env, in *instance) (map[string]http.Handler, []web.Link, error) {
	t := now()
	if _, err := in.db.UserByEmail(ctx, demoEmail); errors.Is(err, oauth.ErrNotFound) {
		if err := seedMerchant(ctx, in, t); err != nil {
			return nil, nil, err
		}
	} else if err != nil {
		return nil, nil, err
	}
	// Catalogs and customer lists came after the first demos: a database
	// from then gets them now.
	if err := seedResources(ctx, in); err != nil {
		return nil, nil, err
	}

	enabled := map[string]*profile.Profile{}
	for _, p := range in.profiles {
		enabled[p.Name] = p
	}
	iss := in.cfg.Issuer
	mounts := map[string]http.Handler{}
	var links []web.Link
	var list strings.Builder
	for _, d := range demoApps() {
		p := enabled[d.profile]
		if p == nil {
			continue
		}
		h, err := seedExample(ctx, in, p, d, t)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: %s example app: %w", p.Title, err)
		}
		mounts[d.base()+"/"] = h
		l := d.link
		l.URL = d.base() + "/"
		links = append(links, l)
		fmt.Fprintf(&list, "     %-10s %s%s/\n", d.profile, iss, d.base())
	}
	fmt.Fprintf(e.stdout, "\nStorekey demo at %s\n"+
		"  1. Open an example partner app, one per profile (%s/ lists them too), and click Connect:\n%s"+
		"  2. Sign in as %s with password %s\n"+
		"  3. Allow, and the example app shows its token and what the API answers to it.\n\n",
		iss, iss, list.String(), demoEmail, demoPassword)
	return mounts, links, nil
}

// seedMerchant creates the demo merchant and their store, with two
// locations and sample data.
func seedMerchant(ctx context.Context, in *instance, t time.Time) error {
	u, err := newUser(demoEmail, "Demo Merchant", demoPassword)
	if err != nil {
		return err
	}
	if err := in.db.CreateUser(ctx, u); err != nil {
		return err
	}
	s, _, err := createStore(ctx, in.db, "Demo Store", demoStoreSlug, u.ID, []string{"Downtown", "Airport"})
	if err != nil {
		return err
	}
	return seedSampleData(ctx, in, s.ID, t)
}

// seedExample creates or resets the example app of a profile and returns
// its handler.
func seedExample(ctx context.Context, in *instance, p *profile.Profile, d demoApp, t time.Time) (http.Handler, error) {
	iss := in.cfg.Issuer
	redirect := example.CallbackURL(iss, d.base())
	secret := oauth.RandomSecret(oauth.PrefixSecret)
	want := &oauth.App{
		ID: d.id(), Name: d.name, Developer: "Storekey demo",
		RedirectURIs: []string{redirect}, Scopes: oauth.NewScopes(d.allowed...),
		Profile: p.Name, SecretHash: oauth.Hash(secret), CreatedAt: t, UpdatedAt: t,
	}
	if p.Logo != nil {
		// The platform requires a logo at registration (HyperSKU: 110 x
		// 110 px); the demo draws one and holds it to the same check.
		logo, err := demoLogo(110)
		if err != nil {
			return nil, err
		}
		if err := p.Logo(logo); err != nil {
			return nil, fmt.Errorf("logo: %w", err)
		}
		want.LogoURL = "data:image/png;base64," + base64.StdEncoding.EncodeToString(logo)
	}
	app, err := in.db.App(ctx, want.ID)
	switch {
	case errors.Is(err, oauth.ErrNotFound):
		app = want
		err = in.db.CreateApp(ctx, app)
	case err == nil:
		// Reset what the example relies on; the app keeps its grants.
		app.Name, app.Developer, app.LogoURL = want.Name, want.Developer, want.LogoURL
		app.RedirectURIs, app.Scopes, app.Profile = want.RedirectURIs, want.Scopes, want.Profile
		app.SecretHash, app.PrevSecret, app.PrevExpires, app.UpdatedAt = want.SecretHash, nil, time.Time{}, t
		err = in.db.UpdateApp(ctx, app)
	}
	if err != nil {
		return nil, err
	}

	client := &http.Client{Timeout: 10 * time.Second}
	cfg := example.Config{
		BasePath:     d.base(),
		Title:        app.Name,
		Issuer:       iss,
		ClientID:     app.ID,
		ClientSecret: secret,
		AuthURL:      iss + d.authorizeAt,
		TokenURL:     iss + d.exchangeAt,
		APIBase:      iss + "/api/v1",
		APIPath:      d.apiPath,
		RedirectURL:  redirect,
		Scopes:       d.ask,
		HTTPClient:   client,
		Logger:       in.log,
		AuthParams:   authParams(p.Params),
		Catalog:      demoCatalog(p, d),
		TokenFields:  d.fields,
	}
	if len(p.TokenHeaders) > 0 {
		cfg.TokenHeader = p.TokenHeaders[0]
	}
	if p.JSONToken {
		cfg.Exchange = jsonExchange(client, cfg.TokenURL, p.Params, app.ID, secret, redirect)
	}
	return example.New(cfg), nil
}

// authParams maps the RFC 6749 names of the authorization request's
// parameters onto the profile's own, where they differ.
func authParams(n profile.Params) map[string]string {
	m := map[string]string{}
	for rfc, own := range map[string]string{
		"response_type": n.ResponseType, "client_id": n.ClientID, "redirect_uri": n.RedirectURI,
		"scope": n.Scope, "state": n.State,
	} {
		if own != "" && own != rfc {
			m[rfc] = own
		}
	}
	return m
}

// demoCatalog describes what the example app asks for: the profile's
// catalog (the server's default for standard), a comma-separated list
// scope by scope, and the demo's own words for the rest.
func demoCatalog(p *profile.Profile, d demoApp) oauth.ScopeCatalog {
	base := p.Dialect.Catalog
	if base == nil {
		base = oauth.DefaultCatalog()
	}
	c := slices.Clone(base)
	for _, s := range d.ask {
		if _, ok := base.Lookup(s); ok {
			continue
		}
		if words, ok := d.describe[s]; ok {
			c = append(c, oauth.ScopeInfo{Name: s, Description: words})
			continue
		}
		var words []string
		for part := range strings.SplitSeq(s, ",") {
			if info, ok := base.Lookup(part); ok {
				words = append(words, info.Description)
			}
		}
		if len(words) > 0 {
			c = append(c, oauth.ScopeInfo{Name: s, Description: strings.Join(words, "; ")})
		}
	}
	return c
}

// jsonExchange returns an example app's Exchange for a profile whose token
// endpoint takes a JSON body in its own names and answers in camelCase
// (HyperSKU), which golang.org/x/oauth2 cannot speak. The body carries the
// client's secret (as HyperSKU's guide does) and PKCE's code_verifier under
// its RFC 7636 name, which the server accepts beside the profile's.
func jsonExchange(client *http.Client, tokenURL string, n profile.Params, clientID, secret, redirect string) func(context.Context, string, string) (*oauth2.Token, error) {
	return func(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
		body, err := json.Marshal(map[string]string{
			n.ClientID: clientID, n.ClientSecret: secret, n.Code: code,
			n.GrantType: "authorization_code", n.RedirectURI: redirect,
			"code_verifier": verifier,
		})
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("token request: %w", err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("token response: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			// Errors keep RFC 6749 §5.2's shape in every dialect.
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			_ = json.Unmarshal(raw, &e)
			return nil, &oauth2.RetrieveError{Response: resp, Body: raw, ErrorCode: e.Error, ErrorDescription: e.Description}
		}
		var ans struct {
			AccessToken          string `json:"accessToken"`
			ExpiresIn            int64  `json:"expiresIn"`
			RefreshToken         string `json:"refreshToken"`
			RefreshTokenExpireIn int64  `json:"refreshTokenExpireIn"`
			Scope                string `json:"scope"`
			UserID               string `json:"userId"`
		}
		if err := json.Unmarshal(raw, &ans); err != nil {
			return nil, fmt.Errorf("token response: %w", err)
		}
		if ans.AccessToken == "" {
			return nil, errors.New("token response: no accessToken")
		}
		tok := &oauth2.Token{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken, ExpiresIn: ans.ExpiresIn}
		if ans.ExpiresIn > 0 {
			tok.Expiry = time.Now().Add(time.Duration(ans.ExpiresIn) * time.Second)
		}
		return tok.WithExtra(map[string]any{
			"scope": ans.Scope, "userId": ans.UserID, "refreshTokenExpireIn": ans.RefreshTokenExpireIn,
		}), nil
	}
}

// demoLogo draws a size x size PNG logo: a white tile on blue.
func demoLogo(size int) ([]byte, error) {
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{
		color.RGBA{R: 0x0b, G: 0x5f, B: 0xff, A: 0xff},
		color.White,
	})
	for y := size / 4; y < size-size/4; y++ {
		for x := size / 4; x < size-size/4; x++ {
			img.SetColorIndex(x, y, 1)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("draw logo: %w", err)
	}
	return buf.Bytes(), nil
}

// seedResources gives the demo store the catalogs and customer lists that
// HubRise's consent page picks from, if it has none.
func seedResources(ctx context.Context, in *instance) error {
	db := in.db
	s, err := db.StoreBySlug(ctx, demoStoreSlug)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil // removed by hand: nothing to add to
	}
	if err != nil {
		return err
	}
	for _, kind := range []struct {
		prefix string
		names  []string
		list   func(context.Context, string) ([]oauth.Resource, error)
		create func(context.Context, *oauth.Resource) error
	}{
		{"cat_", []string{"Shop catalog", "Airport kiosk"}, db.Catalogs, db.CreateCatalog},
		{"cls_", []string{"Loyalty club", "Newsletter"}, db.CustomerLists, db.CreateCustomerList},
	} {
		have, err := kind.list(ctx, s.ID)
		if err != nil {
			return err
		}
		if len(have) > 0 {
			continue
		}
		for _, name := range kind.names {
			if err := kind.create(ctx, &oauth.Resource{ID: oauth.RandomID(kind.prefix), StoreID: s.ID, Name: name}); err != nil {
				return err
			}
		}
	}
	return nil
}

func seedSampleData(ctx context.Context, in *instance, storeID string, t time.Time) error {
	db := in.db
	products := []struct {
		name, sku string
		price     int64
	}{{"Espresso beans 1kg", "ESP-1KG", 2490}, {"Ceramic mug", "MUG-01", 1200}, {"Pour-over kettle", "KET-PO", 5400}, {"Paper filters (100)", "FLT-100", 650}, {"Gift card", "GIFT-25", 2500}}
	for i, p := range products {
		if err := db.CreateProduct(ctx, &oauth.Product{ID: oauth.RandomID("prd_"), StoreID: storeID, Name: p.name, SKU: p.sku, PriceCents: p.price, Currency: "EUR", CreatedAt: t.Add(time.Duration(i) * time.Second)}); err != nil {
			return err
		}
	}
	customers := []struct{ name, email string }{{"Ada Lovelace", "ada@example.com"}, {"Alan Turing", "alan@example.com"}, {"Grace Hopper", "grace@example.com"}}
	for i, c := range customers {
		cu := &oauth.Customer{ID: oauth.RandomID("cus_"), StoreID: storeID, Name: c.name, Email: c.email, CreatedAt: t.Add(time.Duration(i) * time.Second)}
		if err := db.CreateCustomer(ctx, cu); err != nil {
			return err
		}
		if err := db.CreateOrder(ctx, &oauth.Order{ID: oauth.RandomID("ord_"), StoreID: storeID, CustomerID: cu.ID, Status: "paid", TotalCents: int64(1200 * (i + 1)), Currency: "EUR", CreatedAt: t.Add(time.Duration(i) * time.Second)}); err != nil {
			return err
		}
	}
	return nil
}
