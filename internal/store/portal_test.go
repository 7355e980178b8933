package store_test

import (
	"testing"

	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
	"github.com/storekey/storekey/internal/store/storetest"
)

func TestPortal(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if b.Name == store.Postgres {
				dbtest.RequirePostgres(t)
			}
			storetest.RunPortal(t, func(t *testing.T) storetest.Portal { return b.Open(t) })
		})
	}
}
