package audit

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store/dbtest"
)

func TestRecorder(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			ctx := context.Background()
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			app := &oauth.App{ID: "app_1", Name: "A", PartnerID: "par_1", CreatedAt: t0}
			if err := db.CreateApp(ctx, app); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateUser(ctx, &oauth.User{ID: "usr_1", Email: "m@example.com", CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateStore(ctx, &oauth.Store{ID: "sto_1", Name: "S", Slug: "s", CreatedAt: t0}, "usr_1"); err != nil {
				t.Fatal(err)
			}
			code := &oauth.Code{Hash: oauth.Hash("skc_1"), AppID: app.ID, StoreID: "sto_1", UserID: "usr_1", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
			g := &oauth.Grant{ID: "grt_1", AppID: app.ID, StoreID: "sto_1", UserID: "usr_1", Generation: 1, CreatedAt: t0}
			if err := db.CreateCode(ctx, code); err != nil {
				t.Fatal(err)
			}
			if err := db.RedeemCode(ctx, code, t0, g, nil); err != nil {
				t.Fatal(err)
			}
			r := New(db, db, nil)
			merchant := oauth.WithActor(ctx, oauth.Actor{Kind: oauth.ActorMerchant, ID: "usr_1", IP: "192.0.2.7", UserAgent: "Test/1"})
			address := oauth.WithActor(ctx, oauth.Actor{IP: "192.0.2.8", UserAgent: "Test/2"})
			for _, ev := range []struct {
				ctx context.Context
				e   oauth.Event
			}{
				{address, oauth.Event{Kind: oauth.EventAuthorized, At: t0, AppID: app.ID, StoreID: "sto_1", UserID: "usr_1", Scopes: oauth.NewScopes("read_products")}},
				{ctx, oauth.Event{Kind: oauth.EventTokenIssued, At: t0, AppID: app.ID, StoreID: "sto_1", UserID: "usr_1", GrantID: g.ID, Detail: "authorization_code"}},
				{ctx, oauth.Event{Kind: oauth.EventCodeReplayed, At: t0, GrantID: g.ID, Detail: "an authorization code was presented twice"}},
				{merchant, oauth.Event{Kind: oauth.EventGrantRevoked, At: t0, AppID: app.ID, StoreID: "sto_1"}},
			} {
				if err := r.Record(ev.ctx, ev.e); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			r.Close()
			if err := r.Record(ctx, oauth.Event{Kind: oauth.EventDenied}); err == nil {
				t.Error("Record after Close: no error")
			}
			got, err := db.AuditRecords(ctx, oauth.AuditFilter{Oldest: true})
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].Seq = 0
			}
			want := []oauth.AuditRecord{
				{At: t0, Action: "authorization.granted", ActorKind: "merchant", ActorID: "usr_1", PartnerID: "par_1", AppID: app.ID, StoreID: "sto_1", UserID: "usr_1", IP: "192.0.2.8", UserAgent: "Test/2", Detail: "scopes: read_products"},
				{At: t0, Action: "token.issued", ActorKind: "app", ActorID: app.ID, PartnerID: "par_1", AppID: app.ID, StoreID: "sto_1", UserID: "usr_1", GrantID: g.ID, Detail: "authorization_code"},
				{At: t0, Action: "code.replayed", ActorKind: "system", PartnerID: "par_1", AppID: app.ID, StoreID: "sto_1", UserID: "usr_1", GrantID: g.ID, Detail: "an authorization code was presented twice"},
				{At: t0, Action: "grant.revoked", ActorKind: "merchant", ActorID: "usr_1", PartnerID: "par_1", AppID: app.ID, StoreID: "sto_1", IP: "192.0.2.7", UserAgent: "Test/1"},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
		})
	}
}

// Close writes what is queued.
func TestCloseFlushes(t *testing.T) {
	db := dbtest.OpenSQLite(t)
	r := New(db, db, nil)
	for i := range 1000 {
		if err := r.Record(context.Background(), oauth.Event{Kind: oauth.EventTokenRefreshed, At: time.Unix(int64(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	got, err := db.AuditRecords(context.Background(), oauth.AuditFilter{})
	if err != nil || len(got) != 1000 {
		t.Fatalf("%d records, %v; want 1000", len(got), err)
	}
}
