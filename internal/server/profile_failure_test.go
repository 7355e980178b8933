package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// dialectCase is how one platform's guide spells an authorization request
// and a token request.
type dialectCase struct {
	profile      string
	allowed      []string // the app's scopes
	path         string   // authorization path
	names        [4]string
	scope, bad   string // a valid scope parameter and one outside the dialect
	tokenPath    string
	json         bool
	picks        bool // HubRise: the consent must pick a location
	responseType bool
}

var dialectCases = []dialectCase{
	{profile: "hike", allowed: []string{"read_products"}, path: "/oauth/authorize", names: [4]string{"client_id", "redirect_uri", "scope", "state"},
		scope: "all", bad: "all write_everything", tokenPath: "/oauth/token", responseType: true},
	{profile: "storehippo", allowed: []string{"read_orders"}, path: "/stores/corner-shop/admin/oauth/authorization", names: [4]string{"client_id", "redirect_uri", "scope", "state"},
		scope: "read_orders", bad: "read_orders,read_reports", tokenPath: "/stores/corner-shop/admin/oauth/token"},
	{profile: "hubrise", allowed: []string{"write_orders"}, path: "/oauth2/v1/authorize", names: [4]string{"client_id", "redirect_uri", "scope", "state"},
		scope: "location[orders.write]", bad: "location[orders.delete]", tokenPath: "/oauth2/v1/token", picks: true},
	{profile: "hiboutik", allowed: []string{"read_sales"}, path: "/oauth/authorize", names: [4]string{"client_id", "redirect_uri", "scope", "state"},
		scope: "read_sales", bad: "read_orders", tokenPath: "/oauth/token", responseType: true},
	{profile: "hypersku", allowed: []string{"oms"}, path: "/application/auth", names: [4]string{"clientId", "redirectUri", "scope", "state"},
		scope: "oms", bad: "oms wms", tokenPath: "/api/auth/admin/token/access_token", json: true},
}

// TestGuideFailureCases runs each guide's failure cases in its own dialect:
// denied access, an expired code, a replayed code, a wrong redirect URI and
// an unknown scope.
func TestGuideFailureCases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		browser := e.browser()
		e.signIn(browser)
		loc := oauth.Location{ID: "loc_1", StoreID: e.store.ID, Name: "Downtown"}
		must(t, e.db.CreateLocation(t.Context(), &loc))
		for _, dc := range dialectCases {
			t.Run(dc.profile, func(t *testing.T) {
				app, secret := e.newProfileApp(dc.profile, false, []string{redirectURI}, dc.allowed...)
				query := func(scope string, redirect string) string {
					q := url.Values{dc.names[0]: {app.ID}, dc.names[1]: {redirect}, dc.names[2]: {scope}, dc.names[3]: {"st"}}
					if dc.responseType {
						q.Set("response_type", "code")
					}
					return q.Encode()
				}
				var picks url.Values
				if dc.picks {
					picks = url.Values{"location_id": {loc.ID}}
				}
				code := func() string {
					u := e.authorizeAt(browser, dc.path, query(dc.scope, redirectURI), "allow", picks)
					if u.Query().Get("code") == "" {
						t.Fatalf("no code: %s", u)
					}
					return u.Query().Get("code")
				}
				exchange := func(c string) (int, map[string]any) {
					if dc.json {
						body, _ := json.Marshal(map[string]string{"clientId": app.ID, "clientSecret": secret, "code": c, "grantType": "authorization_code"})
						return e.postRaw("", dc.tokenPath, "application/json", string(body))
					}
					f := url.Values{"grant_type": {"authorization_code"}, "code": {c}, "client_id": {app.ID}, "client_secret": {secret}, "redirect_uri": {redirectURI}}
					return e.postRaw("", dc.tokenPath, "application/x-www-form-urlencoded", f.Encode())
				}

				if u := e.authorizeAt(browser, dc.path, query(dc.scope, redirectURI), "deny", picks); u.Query().Get("error") != "access_denied" || u.Query().Get("state") != "st" {
					t.Errorf("denied access: %s", u)
				}
				c := code()
				if st, body := exchange(c); st != 200 {
					t.Fatalf("exchange: %d %v", st, body)
				}
				if st, body := exchange(c); st != 400 || body["error"] != "invalid_grant" {
					t.Errorf("replayed code: %d %v", st, body)
				}
				c = code()
				e.svc.Now = func() time.Time { return time.Now().Add(10*time.Minute + time.Second) }
				st, body := exchange(c)
				e.svc.Now = time.Now
				if st != 400 || body["error"] != "invalid_grant" {
					t.Errorf("expired code: %d %v", st, body)
				}
				res, err := browser.Get(e.srv.URL + dc.path + "?" + query(dc.scope, "https://evil.example/callback"))
				must(t, err)
				_ = res.Body.Close()
				if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
					t.Errorf("wrong redirect URI: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
				}
				res, err = browser.Get(e.srv.URL + dc.path + "?" + query(dc.bad, redirectURI))
				must(t, err)
				_ = res.Body.Close()
				if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || !strings.HasPrefix(loc.String(), redirectURI) || loc.Query().Get("error") != "invalid_scope" {
					t.Errorf("unknown scope: %d %s", res.StatusCode, res.Header.Get("Location"))
				}
			})
		}
	})
}
