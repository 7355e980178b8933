package store_test

import (
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
)

// t0 is the tests' clock.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seedStore stores the merchant "u", owner of the store "s", and the apps.
func seedStore(t *testing.T, db *store.DB, apps ...*oauth.App) {
	t.Helper()
	for _, a := range apps {
		noErr(t, db.CreateApp(t.Context(), a))
	}
	noErr(t, db.CreateUser(t.Context(), &oauth.User{ID: "u", Email: "u@example.com", CreatedAt: t0}))
	noErr(t, db.CreateStore(t.Context(), &oauth.Store{ID: "s", Name: "S", Slug: "s", CreatedAt: t0}, "u"))
}

// noErr fails the test at once if err is not nil.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
