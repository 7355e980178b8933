package server_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// Each test here follows one platform's published guide (../shared/seeds)
// literally, as a partner developer who read only that guide would.

// postRaw sends a body with a content type to a path, optionally on another
// Host, and decodes the JSON answer.
func (e *env) postRaw(host, path, ctype, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if host != "" {
		req.Host = host
	}
	st, m, _ := e.do(req)
	return st, m
}

// uninstall is the merchant revoking the app on their store.
func (e *env) uninstall(appID string) {
	e.t.Helper()
	n, err := e.svc.Uninstall(context.Background(), appID, e.store.ID)
	must(e.t, err)
	if n == 0 {
		e.t.Fatal("uninstall revoked nothing")
	}
}

func TestHikeGuide(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		app, secret := e.newProfileApp("hike", false, []string{redirectURI}, "read_products", "write_orders")
		browser := e.browser()
		e.signIn(browser)
		// Step 2: response_type=code, client_id, scope=all, redirect_uri; state optional.
		q := url.Values{"response_type": {"code"}, "client_id": {app.ID}, "redirect_uri": {redirectURI}, "scope": {"all"}}
		back := e.authorizeAt(browser, "/oauth/authorize", q.Encode(), "allow", nil)
		code := back.Query().Get("code")
		if code == "" || back.Query().Has("state") {
			t.Fatalf("authorization response %s", back)
		}
		// Step 3: form-urlencoded client_id, client_secret, code, redirect_uri, grant_type.
		tokenForm := url.Values{"client_id": {app.ID}, "client_secret": {secret}, "code": {code}, "redirect_uri": {redirectURI}, "grant_type": {"authorization_code"}}
		st, tok := e.postRaw("", "/oauth/token", "application/x-www-form-urlencoded", tokenForm.Encode())
		if st != 200 || tok["token_type"] != "Bearer" || tok["refresh_token"] == nil || tok["scope"] != "read_products write_orders" {
			t.Fatalf("token: %d %v", st, tok)
		}
		expires, _ := tok["expires"].(float64)
		expiresIn, _ := tok["expires_in"].(float64)
		if math.Abs(expires-float64(time.Now().Unix())-expiresIn) > 5 {
			t.Fatalf("expires %v is not now + expires_in %v", expires, expiresIn)
		}
		// Codes work once.
		if st, body := e.postRaw("", "/oauth/token", "application/x-www-form-urlencoded", tokenForm.Encode()); st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("replayed code: %d %v", st, body)
		}
		// The replay revoked what the code issued: start again.
		back = e.authorizeAt(browser, "/oauth/authorize", q.Encode(), "allow", nil)
		tokenForm.Set("code", back.Query().Get("code"))
		_, tok = e.postRaw("", "/oauth/token", "application/x-www-form-urlencoded", tokenForm.Encode())
		// Step 4: refresh with client_id, client_secret, refresh_token, grant_type.
		refresh := url.Values{"client_id": {app.ID}, "client_secret": {secret}, "refresh_token": {tok["refresh_token"].(string)}, "grant_type": {"refresh_token"}}
		st, fresh := e.postRaw("", "/oauth/token", "application/x-www-form-urlencoded", refresh.Encode())
		if st != 200 || fresh["access_token"] == tok["access_token"] || fresh["refresh_token"] == tok["refresh_token"] || fresh["expires"] == nil {
			t.Fatalf("refresh: %d %v", st, fresh)
		}
		access := fresh["access_token"].(string)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != 200 {
			t.Fatalf("API: %d", st)
		}
		e.uninstall(app.ID)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != 401 {
			t.Fatalf("API after uninstall: %d", st)
		}
		// Failure cases: denied, expired code, wrong redirect, unknown scope.
		if u := e.authorizeAt(browser, "/oauth/authorize", q.Encode(), "deny", nil); u.Query().Get("error") != "access_denied" {
			t.Fatalf("denied: %s", u)
		}
		back = e.authorizeAt(browser, "/oauth/authorize", q.Encode(), "allow", nil)
		tokenForm.Set("code", back.Query().Get("code"))
		e.svc.Now = func() time.Time { return time.Now().Add(10*time.Minute + time.Second) }
		st, body := e.postRaw("", "/oauth/token", "application/x-www-form-urlencoded", tokenForm.Encode())
		e.svc.Now = time.Now
		if st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("expired code: %d %v", st, body)
		}
		res, err := browser.Get(e.srv.URL + "/oauth/authorize?" + strings.Replace(q.Encode(), "partner.example", "evil.example", 1))
		must(t, err)
		_ = res.Body.Close()
		if res.StatusCode != 400 || res.Header.Get("Location") != "" {
			t.Fatalf("wrong redirect_uri: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		q.Set("scope", "all read_everything")
		if u := e.authorizeAt(browser, "/oauth/authorize", q.Encode(), "allow", nil); u.Query().Get("error") != "invalid_scope" {
			t.Fatalf("unknown scope: %s", u)
		}
	})
}

func TestStoreHippoGuide(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		app, secret := e.newProfileApp("storehippo", false, []string{redirectURI}, "write_orders", "read_customers")
		browser := e.browser()
		e.signIn(browser)
		// Step 2: {store}/admin/oauth/authorization?client_id&scope&redirect_uri&state, no response_type.
		raw := "client_id=" + app.ID + "&scope=write_orders,read_customers&redirect_uri=" + url.QueryEscape(redirectURI) + "&state=n0nce"
		path := "/stores/" + e.store.Slug + "/admin/oauth/authorization"
		back := e.authorizeAt(browser, path, raw, "allow", nil)
		if !strings.Contains(consentPage, ">Install</button>") {
			t.Fatal("the consent button must read Install")
		}
		code := back.Query().Get("code")
		if code == "" || back.Query().Get("state") != "n0nce" {
			t.Fatalf("authorization response %s", back)
		}
		// Step 3, the guide's curl, on the store's own host:
		// curl https://{store}/admin/oauth/token -d 'grant_type=authorization_code&code=..&client_id=..&client_secret=..' -X POST
		host := e.store.Slug + "." + strings.TrimPrefix(e.srv.URL, "http://")
		st, tok := e.postRaw(host, "/admin/oauth/token", "application/x-www-form-urlencoded",
			"grant_type=authorization_code&code="+code+"&client_id="+app.ID+"&client_secret="+secret)
		if st != 200 || tok["access_token"] == nil || tok["refresh_token"] != nil || tok["expires_in"] != nil {
			t.Fatalf("token: %d %v (a permanent token, no refresh token)", st, tok)
		}
		access := tok["access_token"].(string)
		// Step 4: Authorization: Bearer.
		if st, _, _ := e.api(http.MethodGet, "/api/v1/orders", access, ""); st != 200 {
			t.Fatalf("API: %d", st)
		}
		// The host form of step 2 works as well, and a code is bound to its store.
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin/oauth/authorization?"+raw, nil)
		req.Host = host
		res, err := browser.Do(req)
		must(t, err)
		_ = res.Body.Close()
		if res.StatusCode != 200 && res.StatusCode != 303 {
			t.Fatalf("authorize on the store host: %d", res.StatusCode)
		}
		back = e.authorizeAt(browser, path, raw, "allow", nil)
		if st, body := e.postRaw("other-store."+strings.TrimPrefix(e.srv.URL, "http://"), "/admin/oauth/token", "application/x-www-form-urlencoded",
			"grant_type=authorization_code&code="+back.Query().Get("code")+"&client_id="+app.ID+"&client_secret="+secret); st != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("code on another store's host: %d %v", st, body)
		}
		// Tokens end on uninstall.
		e.uninstall(app.ID)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/orders", access, ""); st != 401 {
			t.Fatalf("API after uninstall: %d", st)
		}
		if u := e.authorizeAt(browser, path, raw, "deny", nil); u.Query().Get("error") != "access_denied" {
			t.Fatalf("denied: %s", u)
		}
		if u := e.authorizeAt(browser, path, strings.Replace(raw, "read_customers", "read_reports", 1), "allow", nil); u.Query().Get("error") != "invalid_scope" {
			t.Fatalf("scope outside StoreHippo's catalog: %s", u)
		}
	})
}

func TestHiboutikGuide(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		app, secret := e.newProfileApp("hiboutik", false, []string{redirectURI}, "read_products", "write_sales", "read_kitchen_screen")
		browser := e.browser()
		e.signIn(browser)
		q := url.Values{"response_type": {"code"}, "client_id": {app.ID}, "redirect_uri": {redirectURI}, "scope": {"read_products write_sales read_kitchen_screen"}, "state": {"s"}}
		back := e.authorizeAt(browser, "/oauth/authorize", q.Encode(), "allow", nil)
		// The scopes are shown, in words, before granting.
		for _, words := range []string{"View products, price rules", "View and change sales, payments and fulfillments", "View the kitchen display system"} {
			if !strings.Contains(consentPage, words) {
				t.Errorf("consent page lacks %q", words)
			}
		}
		// Token request with client_id, client_secret and code only.
		st, tok := e.postRaw("", "/oauth/token", "application/x-www-form-urlencoded",
			url.Values{"client_id": {app.ID}, "client_secret": {secret}, "code": {back.Query().Get("code")}}.Encode())
		if st != 200 || tok["scope"] != "read_kitchen_screen read_products write_sales" || tok["refresh_token"] == nil {
			t.Fatalf("token: %d %v", st, tok)
		}
		if d := tok["expires_in"].(float64) - 365*24*3600; math.Abs(d) > 5 {
			t.Fatalf("access token must last 365 days: expires_in %v", tok["expires_in"])
		}
		st, fresh := e.postRaw("", "/oauth/token", "application/x-www-form-urlencoded",
			url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ID}, "client_secret": {secret}, "refresh_token": {tok["refresh_token"].(string)}}.Encode())
		if st != 200 || fresh["refresh_token"] == nil {
			t.Fatalf("refresh: %d %v", st, fresh)
		}
		access := fresh["access_token"].(string)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != 200 {
			t.Fatalf("API: %d", st)
		}
		e.uninstall(app.ID)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != 401 {
			t.Fatalf("API after uninstall: %d", st)
		}
		q.Set("scope", "read_products read_orders")
		if u := e.authorizeAt(browser, "/oauth/authorize", q.Encode(), "allow", nil); u.Query().Get("error") != "invalid_scope" {
			t.Fatalf("scope outside Hiboutik's catalog: %s", u)
		}
	})
}

func TestHyperSKUGuide(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		app, secret := e.newProfileApp("hypersku", false, []string{redirectURI}, "oms")
		browser := e.browser()
		e.signIn(browser)
		// Step 2: /application/auth?clientId&scope=oms&redirectUri&state (required).
		raw := "clientId=" + app.ID + "&scope=oms&redirectUri=" + url.QueryEscape(redirectURI) + "&state=GENERATED_RANDOM_STRING"
		back := e.authorizeAt(browser, "/application/auth", raw, "allow", nil)
		if back.Query().Get("state") != "GENERATED_RANDOM_STRING" || back.Query().Get("code") == "" {
			t.Fatalf("authorization response %s", back)
		}
		// Step 3: a JSON token request, camelCase.
		body, _ := json.Marshal(map[string]string{"clientId": app.ID, "clientSecret": secret, "code": back.Query().Get("code"), "grantType": "authorization_code", "redirectUri": redirectURI})
		st, tok := e.postRaw("", "/api/auth/admin/token/access_token", "application/json", string(body))
		if st != 200 || tok["accessToken"] == nil || tok["refreshToken"] == nil || tok["scope"] != "oms" || tok["userId"] != e.user.ID ||
			tok["expiresIn"].(float64) <= 0 || tok["refreshTokenExpireIn"].(float64) <= 0 || tok["access_token"] != nil {
			t.Fatalf("token: %d %v", st, tok)
		}
		// snake_case is accepted too, here for the refresh.
		body, _ = json.Marshal(map[string]string{"client_id": app.ID, "client_secret": secret, "grant_type": "refresh_token", "refresh_token": tok["refreshToken"].(string)})
		st, fresh := e.postRaw("", "/api/auth/admin/token/access_token", "application/json", string(body))
		if st != 200 || fresh["accessToken"] == tok["accessToken"] {
			t.Fatalf("refresh: %d %v", st, fresh)
		}
		access := fresh["accessToken"].(string)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/me", access, ""); st != 200 {
			t.Fatalf("API: %d", st)
		}
		e.uninstall(app.ID)
		if st, _, _ := e.api(http.MethodGet, "/api/v1/me", access, ""); st != 401 {
			t.Fatalf("API after uninstall: %d", st)
		}
		// state is required.
		if u := e.authorizeAt(browser, "/application/auth", strings.Replace(raw, "&state=GENERATED_RANDOM_STRING", "", 1), "allow", nil); u.Query().Get("error") != "invalid_request" {
			t.Fatalf("missing state: %s", u)
		}
		// Bad JSON bodies get the RFC error, never a 500.
		for _, bad := range []string{`{`, `[]`, `{"code": 5}`, `{"clientId":"a","client_id":"b"}`} {
			if st, m := e.postRaw("", "/api/auth/admin/token/access_token", "application/json", bad); st != 400 || m["error"] != "invalid_request" {
				t.Errorf("body %s: %d %v", bad, st, m)
			}
		}
	})
}

func TestHubRiseGuide(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		ctx := context.Background()
		app, secret := e.newProfileApp("hubrise", false, []string{redirectURI, oauth.OOBRedirectURI}, "write_orders", "write_customers", "read_products", "profile")
		scope := "location[orders.write,customer_list.write,]"
		raw := "redirect_uri=" + url.QueryEscape(redirectURI) + "&client_id=" + app.ID + "&scope=" + url.QueryEscape(scope) +
			"&country=FR&account_name=Aux+D%C3%A9lices&location_name=Paris"

		// A person with no account gets a prefilled sign-up form.
		browser := e.browser()
		res, err := browser.Get(e.srv.URL + "/oauth2/v1/authorize?" + raw)
		must(t, err)
		page, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		for _, want := range []string{`value="Aux Délices"`, `value="Paris"`, `value="FR"`, `action="/signup"`} {
			if !strings.Contains(string(page), want) {
				t.Fatalf("sign-up form lacks %s", want)
			}
		}
		f := formFields(string(page))
		signup := url.Values{"email": {"chef@aux-delices.example"}, "password": {"long enough pw"}, "account_name": {"Aux Délices"}, "location_name": {"Paris"}, "country": {"FR"}, "next": {f.Get("next")}}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/signup", strings.NewReader(signup.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err = browser.Do(req)
		must(t, err)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/oauth2/v1/authorize?") {
			t.Fatalf("sign-up: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		u, err := e.db.UserByEmail(ctx, "chef@aux-delices.example")
		must(t, err)
		ms, err := e.db.Memberships(ctx, u.ID)
		must(t, err)
		if len(ms) != 1 || ms[0].Store.Name != "Aux Délices" || ms[0].Role != oauth.RoleOwner {
			t.Fatalf("memberships %+v", ms)
		}
		acct := ms[0].Store
		locs, err := e.db.Locations(ctx, acct.ID)
		must(t, err)
		lists := []oauth.Resource{{ID: "cl_a", StoreID: acct.ID, Name: "Regulars"}, {ID: "cl_b", StoreID: acct.ID, Name: "Newsletter"}}
		for i := range lists {
			must(t, e.db.CreateCustomerList(ctx, &lists[i]))
		}

		// The consent page asks for the location and the customer list.
		pick := url.Values{"location_id": {locs[0].ID}, "customer_list_id": {"cl_a"}}
		back := e.authorizeAt(browser, "/oauth2/v1/authorize", raw, "allow", pick)
		for _, want := range []string{`name="location_id"`, `name="customer_list_id"`, "Paris", "Regulars"} {
			if !strings.Contains(consentPage, want) {
				t.Errorf("consent page lacks %s", want)
			}
		}
		if strings.Contains(consentPage, `name="catalog_id"`) {
			t.Error("no catalog was asked for, yet the page asks to pick one")
		}
		exchange := func(code string) map[string]any {
			t.Helper()
			st, tok := e.postRaw("", "/oauth2/v1/token", "application/x-www-form-urlencoded",
				url.Values{"code": {code}, "client_id": {app.ID}, "client_secret": {secret}}.Encode())
			if st != 200 {
				t.Fatalf("token: %d %v", st, tok)
			}
			return tok
		}
		tok := exchange(back.Query().Get("code"))
		want := map[string]any{"account_id": acct.ID, "account_name": "Aux Délices", "location_id": locs[0].ID, "location_name": "Paris",
			"customer_list_id": "cl_a", "customer_list_name": "Regulars"}
		for k, v := range want {
			if tok[k] != v {
				t.Errorf("token response %s = %v, want %v", k, tok[k], v)
			}
		}
		if tok["expires_in"] != nil || tok["refresh_token"] != nil {
			t.Errorf("HubRise tokens never expire and have no refresh token: %v", tok)
		}
		access := tok["access_token"].(string)
		// X-Access-Token carries the token to the API.
		req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/store", nil)
		req.Header.Set("X-Access-Token", access)
		if st, body, _ := e.do(req); st != 200 {
			t.Fatalf("API with X-Access-Token: %d %v", st, body)
		}

		// Connection reuse: same app, same location → the same token.
		if again := exchange(e.authorizeAt(browser, "/oauth2/v1/authorize", raw, "allow", pick).Query().Get("code")); again["access_token"] != access {
			t.Fatal("re-authorising the same location must return the same token")
		}
		// Another customer list moves the token to it.
		moved := exchange(e.authorizeAt(browser, "/oauth2/v1/authorize", raw, "allow", url.Values{"location_id": {locs[0].ID}, "customer_list_id": {"cl_b"}}).Query().Get("code"))
		if moved["access_token"] != access || moved["customer_list_id"] != "cl_b" {
			t.Fatalf("re-authorising with another customer list: %v", moved)
		}
		st, intro, _ := e.post("/oauth/introspect", url.Values{"token": {access}}, app.ID, secret)
		if st != 200 || intro["customer_list_id"] != "cl_b" {
			t.Fatalf("the token must now be bound to the new list: %v", intro)
		}
		// A new device_id gets a new token; a known one gets its earlier token.
		dev := exchange(e.authorizeAt(browser, "/oauth2/v1/authorize", raw+"&device_id=till-1", "allow", pick).Query().Get("code"))
		if dev["access_token"] == access {
			t.Fatal("a new device_id must get a new token")
		}
		if again := exchange(e.authorizeAt(browser, "/oauth2/v1/authorize", raw+"&device_id=till-1", "allow", pick).Query().Get("code")); again["access_token"] != dev["access_token"] {
			t.Fatal("a known device_id must get its earlier token")
		}

		// The installed-app flow shows the code in the browser.
		oob := strings.Replace(raw, url.QueryEscape(redirectURI), url.QueryEscape(oauth.OOBRedirectURI), 1)
		res, err = browser.Get(e.srv.URL + "/oauth2/v1/authorize?" + oob)
		must(t, err)
		page, _ = io.ReadAll(res.Body)
		_ = res.Body.Close()
		f = formFields(string(page))
		for k, v := range pick {
			f[k] = v
		}
		f.Set("decision", "allow")
		req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/v1/authorize", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err = browser.Do(req)
		must(t, err)
		page, _ = io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(page), oauth.PrefixCode) || !strings.Contains(strings.ToLower(string(page)), "copy") {
			t.Fatalf("out-of-band page: %d\n%s", res.StatusCode, page)
		}

		// Denial: error on the redirect URI.
		if u := e.authorizeAt(browser, "/oauth2/v1/authorize", raw, "deny", nil); u.Query().Get("error") != "access_denied" {
			t.Fatalf("denied: %s", u)
		}
		// A scope outside the grammar: invalid_scope on the redirect URI.
		bad := strings.Replace(raw, url.QueryEscape(scope), url.QueryEscape("location[order.write]"), 1)
		res, err = browser.Get(e.srv.URL + "/oauth2/v1/authorize?" + bad)
		must(t, err)
		_ = res.Body.Close()
		if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_scope" {
			t.Fatalf("bad scope: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		// After the merchant revokes, the token stops working.
		n, err := e.svc.Uninstall(ctx, app.ID, acct.ID)
		must(t, err)
		if n == 0 {
			t.Fatal("nothing revoked")
		}
		req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/store", nil)
		req.Header.Set("X-Access-Token", access)
		if st, _, _ := e.do(req); st != 401 {
			t.Fatalf("API after revocation: %d", st)
		}
	})
}
