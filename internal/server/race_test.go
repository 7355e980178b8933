package server_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

const racers = 50

// TestConcurrentCodeExchange: 50 requests exchanging one code at the same
// moment win exactly once; the rest get invalid_grant, and (as replays) the
// winner's grant ends revoked.
func TestConcurrentCodeExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		browser := e.browser()
		e.signIn(browser)
		code := e.code(browser, e.authQuery())
		statuses := race(func() (int, map[string]any) { return e.exchange(code) })
		won := 0
		for _, r := range statuses {
			switch {
			case r.status == http.StatusOK:
				won++
			case r.status == http.StatusBadRequest && r.body["error"] == "invalid_grant":
			default:
				t.Errorf("unexpected answer %d %v", r.status, r.body)
			}
		}
		if won != 1 {
			t.Fatalf("%d exchanges won, want exactly 1", won)
		}
		grants, err := e.db.Grants(context.Background(), oauth.GrantFilter{AppID: e.app.ID, IncludeRevoked: true})
		must(t, err)
		if len(grants) != 1 {
			t.Fatalf("%d grants created, want 1", len(grants))
		}
	})
}

// TestConcurrentRefresh: 50 requests presenting one refresh token at the
// same moment all receive the identical new pair, and the database records
// exactly one rotation. A retry after that, before the new tokens are used,
// gets the same pair again; once the new access token is used, the old
// refresh token revokes the grant.
func TestConcurrentRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnv(t, b, nil)
		tok := e.grantTokens()
		rt := tok["refresh_token"].(string)
		results := race(func() (int, map[string]any) { return e.refresh(rt) })
		var access, refresh string
		for _, r := range results {
			if r.status != http.StatusOK {
				t.Fatalf("refresh: %d %v", r.status, r.body)
			}
			a, f := r.body["access_token"].(string), r.body["refresh_token"].(string)
			if access == "" {
				access, refresh = a, f
			}
			if a != access || f != refresh {
				t.Fatalf("concurrent refreshes got different pairs")
			}
			if r.body["scope"] != "read_orders read_products" || r.body["expires_in"] == nil {
				t.Fatalf("incomplete response %v", r.body)
			}
		}
		if access == tok["access_token"] || refresh == rt {
			t.Fatal("no rotation")
		}
		grants, err := e.db.Grants(context.Background(), oauth.GrantFilter{AppID: e.app.ID})
		must(t, err)
		if len(grants) != 1 || grants[0].Generation != 2 {
			t.Fatalf("grants %+v: want one grant at generation 2 (exactly one rotation)", grants)
		}

		// A lost response: the retry gets the same pair.
		if st, body := e.refresh(rt); st != http.StatusOK || body["access_token"] != access || body["refresh_token"] != refresh {
			t.Fatalf("retry within the window: %d %v", st, body)
		}
		// The new access token is used: the window closes.
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != http.StatusOK {
			t.Fatalf("new access token: %d", st)
		}
		if st, body := e.refresh(rt); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("reuse after the successor was used: %d %v", st, body)
		}
		if st, _, _ := e.api(http.MethodGet, "/api/v1/products", access, ""); st != http.StatusUnauthorized {
			t.Fatalf("reuse must revoke the grant: %d", st)
		}
		if st, body := e.refresh(refresh); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("successor after revocation: %d %v", st, body)
		}
	})
}

type answer struct {
	status int
	body   map[string]any
}

// race runs fn from racers goroutines released at the same moment.
func race(fn func() (int, map[string]any)) []answer {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]answer, racers)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, body := fn()
			out[i] = answer{st, body}
		}()
	}
	close(start)
	wg.Wait()
	return out
}
