package oauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// TestRunPruner runs the pruner against each database: it deletes a token
// that expired more than the retention ago, keeps one that expired within
// it, and stops when its context ends.
func TestRunPruner(t *testing.T) {
	for _, be := range dbtest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			db := be.Open(t)
			svc, err := oauth.NewService(oauth.Config{Issuer: "http://test"}, db, []oauth.Key{{ID: "k", Secret: make([]byte, 32)}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
			svc.Now = func() time.Time { return t0 }
			ctx := t.Context()
			app := &oauth.App{ID: "app_p", Name: "P", RedirectURIs: []string{"https://p.example/cb"}, CreatedAt: t0, UpdatedAt: t0}
			if err := db.CreateApp(ctx, app); err != nil {
				t.Fatal(err)
			}
			for name, exp := range map[string]time.Time{"old": t0.Add(-2 * time.Hour), "recent": t0.Add(-30 * time.Minute)} {
				if err := db.CreateToken(ctx, &oauth.Token{Hash: oauth.Hash(name), Kind: oauth.KindAccess, AppID: app.ID,
					CreatedAt: exp.Add(-time.Hour), ExpiresAt: exp}); err != nil {
					t.Fatal(err)
				}
			}

			run, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); svc.RunPruner(run, 10*time.Millisecond, time.Hour) }()
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, err := db.TokenInfo(ctx, oauth.Hash("old"))
				if errors.Is(err, oauth.ErrNotFound) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the expired token is still there after 10 s of pruning every 10 ms (%v)", err)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if _, err := db.TokenInfo(ctx, oauth.Hash("recent")); err != nil {
				t.Errorf("the token that expired within the retention is gone: %v", err)
			}
			stop()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("RunPruner did not return after its context ended")
			}
		})
	}
}
