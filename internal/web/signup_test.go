package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/storekey/storekey/internal/profile"
)

func TestSignUp(t *testing.T) {
	hubrise, err := profile.Get(profile.HubRise)
	must(t, err)
	form := func() url.Values {
		return url.Values{"email": {"chef@bistro.example"}, "password": {"long enough"}, "account_name": {"Bistro"},
			"location_name": {"Lyon"}, "country": {"fr"}, "next": {"/oauth/authorize?x=1"}}
	}
	t.Run("not offered", func(t *testing.T) {
		eachBackend(t, envConfig{}, func(t *testing.T, e *env) {
			wantStatus(t, e.post("/signup", form()), http.StatusNotFound)
		})
	})
	eachBackend(t, envConfig{opts: Options{Profiles: []*profile.Profile{hubrise}}}, func(t *testing.T, e *env) {
		for _, bad := range []struct{ field, value string }{
			{"email", "not-an-email"}, {"password", "short"}, {"account_name", ""}, {"location_name", ""}, {"country", "France"},
		} {
			f := form()
			f.Set(bad.field, bad.value)
			wantStatus(t, e.post("/signup", f), http.StatusBadRequest)
		}
		res := e.post("/signup", form())
		wantStatus(t, res, http.StatusSeeOther)
		if got := location(t, res).String(); got != "/oauth/authorize?x=1" {
			t.Fatalf("sign-up sent to %q", got)
		}
		u, err := e.db.UserByEmail(t.Context(), "chef@bistro.example")
		must(t, err)
		ms, err := e.db.Memberships(t.Context(), u.ID)
		must(t, err)
		if len(ms) != 1 || ms[0].Store.Name != "Bistro" || !ms[0].Role.CanAuthorize() {
			t.Fatalf("memberships %+v", ms)
		}
		locs, err := e.db.Locations(t.Context(), ms[0].Store.ID)
		must(t, err)
		if len(locs) != 1 || locs[0].Name != "Lyon" {
			t.Fatalf("locations %+v", locs)
		}
		// Signed in: the session cookie came with the redirect.
		if cur, ok := e.h.CurrentUser(mustRequest(t, e)); !ok || cur.ID != u.ID {
			t.Fatal("the new merchant is not signed in")
		}
		wantStatus(t, e.post("/signup", form()), http.StatusConflict)
	})
}

// mustRequest is a request to the test server carrying the client's cookies.
func mustRequest(t *testing.T, e *env) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
	must(t, err)
	u, _ := url.Parse(e.srv.URL)
	for _, c := range e.client.Jar.Cookies(u) {
		r.AddCookie(c)
	}
	return r
}
