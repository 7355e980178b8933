package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
)

// appToken is an app-level access token of app, named by value.
func appToken(value, app string) *oauth.Token {
	return &oauth.Token{Hash: oauth.Hash(value), Kind: oauth.KindAccess, AppID: app, Scopes: oauth.Scopes{"read_products"},
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
}

// countTokens counts the stored tokens among values.
func countTokens(t *testing.T, db *store.DB, values ...string) int {
	t.Helper()
	n := 0
	for _, v := range values {
		_, err := db.TokenInfo(t.Context(), oauth.Hash(v))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, oauth.ErrNotFound):
			t.Fatalf("TokenInfo(%s): %v", v, err)
		}
	}
	return n
}

// Concurrent app-level token inserts share batches (on PostgreSQL, the
// step batcher; on SQLite, the group commit), yet each succeeds or fails
// alone: a taken hash is a conflict, a missing app is not found, and every
// other insert is stored once.
func TestConcurrentTokenInserts(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			ctx := t.Context()
			seedStore(t, db, &oauth.App{ID: "a", Name: "A", CreatedAt: t0})
			noErr(t, db.CreateToken(ctx, appToken("taken", "a")))

			const n = 40
			var (
				wg                      sync.WaitGroup
				mu                      sync.Mutex
				good, conflict, missing int
				fresh                   []string
			)
			for i := range 3 * n {
				value, app, kind := fmt.Sprintf("t%d", i), "a", i%3
				switch kind {
				case 1:
					value = "taken"
				case 2:
					app = "no-such-app"
				}
				if kind == 0 {
					fresh = append(fresh, value)
				}
				wg.Go(func() {
					err := db.CreateToken(ctx, appToken(value, app))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case kind == 0 && err == nil:
						good++
					case kind == 1 && errors.Is(err, oauth.ErrConflict):
						conflict++
					case kind == 2 && errors.Is(err, oauth.ErrNotFound):
						missing++
					default:
						t.Errorf("CreateToken(%s, app %s) = %v", value, app, err)
					}
				})
			}
			wg.Wait()
			if good != n || conflict != n || missing != n {
				t.Fatalf("stored %d, conflicts %d, missing apps %d; want %d each", good, conflict, missing, n)
			}
			if got := countTokens(t, db, fresh...); got != n {
				t.Fatalf("%d of the %d fresh tokens are stored", got, n)
			}
			if got := countTokens(t, db, "taken"); got != 1 {
				t.Fatalf("the taken token is stored %d times", got)
			}
		})
	}
}

// A batch of PostgreSQL's step batcher in which one insert fails is rolled
// back whole and each insert runs again alone: the failing one fails, the
// others are stored once, and one that matched nothing (a missing app)
// reports it.
func TestStepBatchFailure(t *testing.T) {
	db, err := store.Open(t.Context(), dbtest.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	noErr(t, db.Migrate(t.Context()))
	seedStore(t, db, &oauth.App{ID: "a", Name: "A", CreatedAt: t0})
	noErr(t, db.CreateToken(t.Context(), appToken("taken", "a")))

	// A clean batch lands in one commit.
	for i, err := range db.CreateTokensInOneBatch([]*oauth.Token{appToken("b0", "a"), appToken("b1", "a"), appToken("b2", "gone")}) {
		want := error(nil)
		if i == 2 {
			want = oauth.ErrNotFound
		}
		if !errors.Is(err, want) {
			t.Fatalf("clean batch, insert %d: %v, want %v", i, err, want)
		}
	}
	if got := countTokens(t, db, "b0", "b1", "b2"); got != 2 {
		t.Fatalf("clean batch: %d tokens stored, want 2", got)
	}

	errs := db.CreateTokensInOneBatch([]*oauth.Token{
		appToken("f0", "a"), appToken("taken", "a"), appToken("f2", "gone"), appToken("f3", "a"), appToken("f0", "a"),
	})
	want := []error{nil, oauth.ErrConflict, oauth.ErrNotFound, nil, oauth.ErrConflict}
	for i := range want {
		if !errors.Is(errs[i], want[i]) {
			t.Errorf("failed batch, insert %d: %v, want %v", i, errs[i], want[i])
		}
	}
	if got := countTokens(t, db, "f0", "f2", "f3"); got != 2 {
		t.Fatalf("failed batch: %d tokens stored, want 2 (f0 and f3)", got)
	}
	// A caller that gave up before its batch started has nothing written;
	// the others of the batch are stored.
	gaveUp, cancel := context.WithCancel(t.Context())
	cancel()
	errs = db.CreateTokensInOneBatch([]*oauth.Token{appToken("c0", "a"), appToken("c1", "a")}, gaveUp)
	if !errors.Is(errs[0], context.Canceled) || errs[1] != nil {
		t.Fatalf("batch with a caller gone: %v, %v; want context.Canceled, nil", errs[0], errs[1])
	}
	if got := countTokens(t, db, "c0", "c1"); got != 1 {
		t.Fatalf("batch with a caller gone: %d tokens stored, want 1 (c1)", got)
	}

	// The connection the batch failed on went back to the pool outside any
	// transaction: what runs next on the pool is committed.
	for i := range 20 {
		noErr(t, db.CreateToken(t.Context(), appToken(fmt.Sprintf("after%d", i), "a")))
	}
}
