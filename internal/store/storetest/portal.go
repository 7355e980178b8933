package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// Portal is what the partner dashboard, the merchant pages, the audit trail
// and the webhook outbox need of a backend, beside oauth.Storage.
type Portal interface {
	oauth.Storage
	oauth.PartnerStorage
	oauth.AuditLog
	oauth.Outbox
}

// RunPortal runs the suite of the Portal interfaces. open must return a
// fresh, migrated, empty store each time, as for Run.
func RunPortal(t *testing.T, open func(t *testing.T) Portal) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Portal)
	}{
		{"Partner", testPartner},
		{"Logo", testLogo},
		{"Installations", testInstallations},
		{"AuditAppendOnlyOrder", testAudit},
		{"AuditLargeBatch", testAuditLargeBatch},
		{"OutboxUninstallInRevokeTransaction", testOutboxUninstall},
		{"OutboxDeleteApp", testOutboxDeleteApp},
		{"OutboxScopeChange", testOutboxScopeChange},
		{"OutboxClaimLease", testOutboxClaimLease},
		{"OutboxClaimConcurrent", testOutboxClaimConcurrent},
		{"SigningSecret", testSigningSecret},
		{"PruneDeliveries", testPruneDeliveries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func testPartner(t *testing.T, s Portal) {
	ctx := t.Context()
	p := &oauth.Partner{ID: "par_1", Email: "Dev@Partner.example", Name: "Dev", Company: "Partner Labs", PasswordHash: passwordHash, CreatedAt: t0}
	noErr(t, "CreatePartner", s.CreatePartner(ctx, p))
	got, err := s.Partner(ctx, p.ID)
	noErr(t, "Partner", err)
	diff(t, "Partner", got, p)
	got, err = s.PartnerByEmail(ctx, "dev@PARTNER.example")
	noErr(t, "PartnerByEmail", err)
	diff(t, "PartnerByEmail", got, p)
	wantErr(t, "CreatePartner same email", s.CreatePartner(ctx, &oauth.Partner{ID: "par_2", Email: "dev@partner.EXAMPLE", PasswordHash: "x", CreatedAt: t0}), oauth.ErrConflict)
	_, err = s.Partner(ctx, "nobody")
	wantErr(t, "Partner unknown", err, oauth.ErrNotFound)
	// A partner is not a merchant: the two never share an account.
	_, err = s.UserByEmail(ctx, p.Email)
	wantErr(t, "UserByEmail of a partner", err, oauth.ErrNotFound)
}

func testLogo(t *testing.T, s Portal) {
	ctx := t.Context()
	f := newFixture(t, s)
	_, err := s.Logo(ctx, f.app.ID)
	wantErr(t, "Logo before upload", err, oauth.ErrNotFound)
	l := &oauth.Logo{AppID: f.app.ID, ContentType: "image/png", Data: []byte("\x89PNG..."), Width: 64, Height: 64, UpdatedAt: t0}
	noErr(t, "SetLogo", s.SetLogo(ctx, l))
	l2 := &oauth.Logo{AppID: f.app.ID, ContentType: "image/jpeg", Data: []byte{0xff, 0xd8}, Width: 110, Height: 110, UpdatedAt: t0.Add(time.Second)}
	noErr(t, "SetLogo again", s.SetLogo(ctx, l2))
	got, err := s.Logo(ctx, f.app.ID)
	noErr(t, "Logo", err)
	diff(t, "Logo", got, l2)
	wantErr(t, "SetLogo of a missing app", s.SetLogo(ctx, &oauth.Logo{AppID: "nope", ContentType: "image/png", Data: []byte{1}, UpdatedAt: t0}), oauth.ErrNotFound)
	noErr(t, "DeleteApp", s.DeleteApp(ctx, f.app.ID, t0))
	_, err = s.Logo(ctx, f.app.ID)
	wantErr(t, "Logo of a deleted app", err, oauth.ErrNotFound)
}

func testInstallations(t *testing.T, s Portal) {
	ctx := t.Context()
	f := newFixture(t, s)
	other := &oauth.Store{ID: "s0", Name: "Another Shop", Slug: "another", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, other, f.user.ID))
	g1, _ := f.redeem(t, "g1")
	c := f.newCode(t, "second")
	g2 := f.grant("g2")
	g2.Scopes, g2.CreatedAt = oauth.NewScopes("write_orders"), t0.Add(time.Hour)
	noErr(t, "RedeemCode", s.RedeemCode(ctx, c, t0, g2, f.tokens(g2, 1, "", t0)))
	noErr(t, "MarkGrantUsed", s.MarkGrantUsed(ctx, g2.ID, 1, t0.Add(2*time.Hour)))
	c3 := f.newCode(t, "third")
	g3 := f.grant("g3")
	g3.StoreID = other.ID
	noErr(t, "RedeemCode", s.RedeemCode(ctx, c3, t0, g3, f.tokens(g3, 1, "", t0)))
	c4 := f.newCode(t, "revoked")
	g4 := f.grant("g4")
	g4.Scopes = oauth.NewScopes("read_customers")
	noErr(t, "RedeemCode", s.RedeemCode(ctx, c4, t0, g4, f.tokens(g4, 1, "", t0)))
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g4.ID, t0))

	got, err := s.Installations(ctx, oauth.InstallationFilter{AppID: f.app.ID})
	noErr(t, "Installations", err)
	want := []oauth.Installation{
		{AppID: f.app.ID, AppName: f.app.Name, StoreID: f.store.ID, StoreName: f.store.Name, StoreSlug: f.store.Slug,
			Scopes: oauth.NewScopes("read_products", "write_orders"), Grants: 2, InstalledAt: g1.CreatedAt, LastUsedAt: t0.Add(2 * time.Hour)},
		{AppID: f.app.ID, AppName: f.app.Name, StoreID: other.ID, StoreName: other.Name, StoreSlug: other.Slug,
			Scopes: oauth.NewScopes("read_products"), Grants: 1, InstalledAt: t0},
	}
	diff(t, "Installations by app", got, want)
	got, err = s.Installations(ctx, oauth.InstallationFilter{StoreID: f.store.ID})
	noErr(t, "Installations", err)
	diff(t, "Installations by store", got, want[:1])
	if _, err := s.Installations(ctx, oauth.InstallationFilter{}); err == nil {
		t.Error("Installations with an empty filter: no error")
	}
}

func testAudit(t *testing.T, s Portal) {
	ctx := t.Context()
	recs := []oauth.AuditRecord{
		{At: t0, Action: oauth.AuditSignIn, ActorKind: oauth.ActorMerchant, ActorID: "u1", UserID: "u1", IP: "192.0.2.1", UserAgent: "Test/1"},
		{At: t0.Add(time.Second), Action: string(oauth.EventAuthorized), ActorKind: oauth.ActorMerchant, ActorID: "u1", UserID: "u1", StoreID: "s1", AppID: "a1", PartnerID: "p1"},
		{At: t0.Add(2 * time.Second), Action: oauth.AuditSignIn, ActorKind: oauth.ActorMerchant, ActorID: "u2", UserID: "u2"},
		{At: t0.Add(3 * time.Second), Action: oauth.AuditAppUpdated, ActorKind: oauth.ActorPartner, ActorID: "p2", PartnerID: "p2", AppID: "a2"},
		{At: t0.Add(4 * time.Second), Action: string(oauth.EventTokenIssued), ActorKind: oauth.ActorApp, ActorID: "a1", StoreID: "s2", AppID: "a1", PartnerID: "p1", GrantID: "g1"},
	}
	noErr(t, "AppendAudit", s.AppendAudit(ctx, recs[:2]))
	noErr(t, "AppendAudit", s.AppendAudit(ctx, recs[2:]))
	all, err := s.AuditRecords(ctx, oauth.AuditFilter{Oldest: true})
	noErr(t, "AuditRecords", err)
	if len(all) != len(recs) {
		t.Fatalf("got %d records, want %d", len(all), len(recs))
	}
	for i := range all {
		if i > 0 && all[i].Seq <= all[i-1].Seq {
			t.Errorf("seq not increasing: %d after %d", all[i].Seq, all[i-1].Seq)
		}
		recs[i].Seq = all[i].Seq
	}
	diff(t, "AuditRecords", all, recs)

	seqs := func(f oauth.AuditFilter) []int64 {
		t.Helper()
		got, err := s.AuditRecords(ctx, f)
		noErr(t, "AuditRecords", err)
		var out []int64
		for _, r := range got {
			out = append(out, r.Seq)
		}
		return out
	}
	sq := func(i ...int) []int64 {
		var out []int64
		for _, j := range i {
			out = append(out, recs[j].Seq)
		}
		return out
	}
	diff(t, "merchant u1 of s1", seqs(oauth.AuditFilter{StoreIDs: []string{"s1"}, UserID: "u1"}), sq(1, 0))
	diff(t, "partner p1", seqs(oauth.AuditFilter{PartnerID: "p1"}), sq(4, 1))
	diff(t, "partner p1, app a1, limit 1", seqs(oauth.AuditFilter{PartnerID: "p1", AppID: "a1", Limit: 1}), sq(4))
	diff(t, "since", seqs(oauth.AuditFilter{Since: t0.Add(3 * time.Second)}), sq(4, 3))
	diff(t, "before", seqs(oauth.AuditFilter{Before: recs[2].Seq}), sq(1, 0))
	diff(t, "nobody's", seqs(oauth.AuditFilter{StoreIDs: []string{"s9"}, UserID: "u9"}), []int64(nil))
}

// testAuditLargeBatch: a batch that takes several multi-row statements
// keeps every record, in order.
func testAuditLargeBatch(t *testing.T, s Portal) {
	ctx := t.Context()
	const n = 87 // 64 + 16 + 4 + 1 + 1 + 1
	recs := make([]oauth.AuditRecord, n)
	for i := range recs {
		recs[i] = oauth.AuditRecord{At: t0.Add(time.Duration(i) * time.Second), Action: string(oauth.EventTokenIssued),
			ActorKind: oauth.ActorApp, ActorID: "a1", AppID: "a1", Detail: fmt.Sprint("record ", i)}
	}
	noErr(t, "AppendAudit", s.AppendAudit(ctx, recs))
	got, err := s.AuditRecords(ctx, oauth.AuditFilter{Oldest: true, Limit: 1000})
	noErr(t, "AuditRecords", err)
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	for i := range got {
		recs[i].Seq = got[i].Seq
	}
	diff(t, "AuditRecords", got, recs)
}

// revokedFixture is a fixture whose app has a webhook URL and a grant on
// the store.
func webhookFixture(t *testing.T, s Portal) (*fixture, *oauth.Grant) {
	t.Helper()
	f := newFixture(t, s)
	f.app.WebhookURL, f.app.PartnerID = "https://app1.example/hooks", "par_1"
	noErr(t, "UpdateApp", s.UpdateApp(t.Context(), f.app))
	g, _ := f.redeem(t, "g1")
	return f, g
}

func pending(t *testing.T, s Portal, appID string) []oauth.Delivery {
	t.Helper()
	ds, err := s.Deliveries(t.Context(), appID, 100)
	noErr(t, "Deliveries", err)
	return ds
}

func testOutboxUninstall(t *testing.T, s Portal) {
	ctx := t.Context()
	f, g1 := webhookFixture(t, s)
	c := f.newCode(t, "second")
	g2 := f.grant("g2")
	noErr(t, "RedeemCode", s.RedeemCode(ctx, c, t0, g2, f.tokens(g2, 1, "", t0)))

	// Revoking one of two grants leaves the app installed: no webhook.
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g1.ID, t0.Add(time.Minute)))
	if ds := pending(t, s, f.app.ID); len(ds) != 0 {
		t.Fatalf("after revoking one of two grants: %d deliveries, want none", len(ds))
	}
	// Revoking the last one uninstalls it.
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g2.ID, t0.Add(2*time.Minute)))
	ds := pending(t, s, f.app.ID)
	if len(ds) != 1 {
		t.Fatalf("after revoking the last grant: %d deliveries, want 1", len(ds))
	}
	d := ds[0]
	if d.Event != oauth.WebhookUninstalled || d.StoreID != f.store.ID || d.PartnerID != "par_1" || d.URL != f.app.WebhookURL ||
		d.Status != oauth.DeliveryPending || !d.NextAttemptAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("delivery %+v", d)
	}
	want := fmt.Sprintf(`{"id":%q,"event":"app.uninstalled","timestamp":"2026-03-14T15:11:26Z","app_id":"app1","store":{"id":"s1","slug":"adas-shop","name":"Ada's Shop"},"data":{"reason":"revoked"}}`, d.ID)
	diff(t, "payload", string(d.Payload), want)
	// Revoking again changes nothing.
	noErr(t, "RevokeGrant again", s.RevokeGrant(ctx, g2.ID, t0.Add(3*time.Minute)))
	noErr(t, "RevokeGrants with none left", func() error { _, err := s.RevokeGrants(ctx, f.app.ID, f.store.ID, t0); return err }())
	if n := len(pending(t, s, f.app.ID)); n != 1 {
		t.Errorf("after revoking revoked grants: %d deliveries, want 1", n)
	}

	// An uninstall through RevokeGrants enqueues one webhook for the store.
	c3 := f.newCode(t, "third")
	g3 := f.grant("g3")
	noErr(t, "RedeemCode", s.RedeemCode(ctx, c3, t0, g3, f.tokens(g3, 1, "", t0)))
	n, err := s.RevokeGrants(ctx, f.app.ID, f.store.ID, t0.Add(time.Hour))
	noErr(t, "RevokeGrants", err)
	if n != 1 {
		t.Errorf("RevokeGrants = %d, want 1", n)
	}
	ds = pending(t, s, f.app.ID)
	if len(ds) != 2 || ds[0].Event != oauth.WebhookUninstalled {
		t.Fatalf("after RevokeGrants: %+v", ds)
	}
}

func testOutboxDeleteApp(t *testing.T, s Portal) {
	ctx := t.Context()
	f, _ := webhookFixture(t, s)
	other := &oauth.Store{ID: "s2", Name: "Other", Slug: "other", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, other, f.user.ID))
	c := f.newCode(t, "other")
	g := f.grant("g-other")
	g.StoreID = other.ID
	noErr(t, "RedeemCode", s.RedeemCode(ctx, c, t0, g, f.tokens(g, 1, "", t0)))
	noErr(t, "DeleteApp", s.DeleteApp(ctx, f.app.ID, t0.Add(time.Minute)))
	ds := pending(t, s, f.app.ID)
	if len(ds) != 2 {
		t.Fatalf("after deleting the app: %d deliveries, want one per store", len(ds))
	}
	stores := map[string]bool{}
	for _, d := range ds {
		stores[d.StoreID] = true
		if d.Event != oauth.WebhookUninstalled || d.URL != f.app.WebhookURL {
			t.Errorf("delivery %+v", d)
		}
	}
	if !stores[f.store.ID] || !stores[other.ID] {
		t.Errorf("deliveries went to stores %v", stores)
	}
	// An app without a webhook URL enqueues nothing.
	f2 := f.newApp(t, "quiet")
	f.app = f2
	f.redeem(t, "g-quiet")
	noErr(t, "DeleteApp", s.DeleteApp(ctx, f2.ID, t0))
	if n := len(pending(t, s, f2.ID)); n != 0 {
		t.Errorf("an app without a webhook URL: %d deliveries", n)
	}
}

func testOutboxScopeChange(t *testing.T, s Portal) {
	ctx := t.Context()
	f, _ := webhookFixture(t, s)
	// The first grant is an installation, not a change.
	if n := len(pending(t, s, f.app.ID)); n != 0 {
		t.Fatalf("first grant: %d deliveries", n)
	}
	same := f.newCode(t, "same")
	g2 := f.grant("g2")
	g2.CreatedAt = t0.Add(time.Minute)
	noErr(t, "RedeemCode", s.RedeemCode(ctx, same, t0, g2, f.tokens(g2, 1, "", t0)))
	if n := len(pending(t, s, f.app.ID)); n != 0 {
		t.Fatalf("same scopes: %d deliveries", n)
	}
	more := f.newCode(t, "more")
	g3 := f.grant("g3")
	g3.Scopes, g3.CreatedAt = oauth.NewScopes("read_products", "write_orders"), t0.Add(2*time.Minute)
	// RedeemCode itself enqueues the change, in its own transaction.
	noErr(t, "RedeemCode", s.RedeemCode(ctx, more, t0.Add(2*time.Minute), g3, f.tokens(g3, 1, "", t0)))
	ds := pending(t, s, f.app.ID)
	if len(ds) != 1 || ds[0].Event != oauth.WebhookScopesChanged {
		t.Fatalf("scopes changed: %+v", ds)
	}
	want := fmt.Sprintf(`{"id":%q,"event":"grant.scopes_changed","timestamp":"2026-03-14T15:11:26Z","app_id":"app1","store":{"id":"s1","slug":"adas-shop","name":"Ada's Shop"},"data":{"grant_id":"g3","previous_scopes":"read_products","scopes":"read_products write_orders"}}`, ds[0].ID)
	diff(t, "payload", string(ds[0].Payload), want)
}

func testOutboxClaimLease(t *testing.T, s Portal) {
	ctx := t.Context()
	app := &oauth.App{ID: "a1", WebhookURL: "https://a.example/h"}
	d1 := oauth.NewDelivery(oauth.WebhookTest, app, nil, nil, t0)
	d2 := oauth.NewDelivery(oauth.WebhookTest, app, nil, nil, t0.Add(time.Minute))
	noErr(t, "EnqueueDelivery", s.EnqueueDelivery(ctx, d1))
	noErr(t, "EnqueueDelivery", s.EnqueueDelivery(ctx, d2))

	got, err := s.ClaimDeliveries(ctx, "w1", t0, time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	if len(got) != 1 || got[0].ID != d1.ID {
		t.Fatalf("claim at t0: %+v, want only the due one", got)
	}
	// Leased: nobody else gets it until the lease ends.
	got, err = s.ClaimDeliveries(ctx, "w2", t0.Add(30*time.Second), time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	if len(got) != 0 {
		t.Fatalf("claim during the lease: %+v", got)
	}
	// The lease ends (the worker died): w2 takes both.
	got, err = s.ClaimDeliveries(ctx, "w2", t0.Add(time.Minute), time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	if len(got) != 2 {
		t.Fatalf("claim after the lease: %d deliveries, want 2", len(got))
	}
	// w1 comes back too late: its outcome is refused.
	err = s.FinishAttempt(ctx, d1.ID, "w1", oauth.AttemptResult{At: t0, Delivered: true, Status: 200})
	wantErr(t, "FinishAttempt after losing the lease", err, oauth.ErrConflict)

	now := t0.Add(61 * time.Second)
	noErr(t, "FinishAttempt failure", s.FinishAttempt(ctx, d1.ID, "w2", oauth.AttemptResult{At: now, Status: 503, Error: "HTTP 503", Next: now.Add(time.Hour)}))
	noErr(t, "FinishAttempt success", s.FinishAttempt(ctx, d2.ID, "w2", oauth.AttemptResult{At: now, Status: 204, Delivered: true}))
	wantErr(t, "FinishAttempt twice", s.FinishAttempt(ctx, d2.ID, "w2", oauth.AttemptResult{At: now, Delivered: true}), oauth.ErrConflict)
	ds := pending(t, s, "a1")
	byID := map[string]oauth.Delivery{ds[0].ID: ds[0], ds[1].ID: ds[1]}
	if d := byID[d1.ID]; d.Status != oauth.DeliveryPending || d.Attempts != 1 || d.LastStatus != 503 || d.LastError != "HTTP 503" || !d.NextAttemptAt.Equal(now.Add(time.Hour)) {
		t.Errorf("failed delivery: %+v", d)
	}
	if d := byID[d2.ID]; d.Status != oauth.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != 204 || !d.DeliveredAt.Equal(now) || !d.NextAttemptAt.IsZero() {
		t.Errorf("delivered delivery: %+v", d)
	}
	// Not due before its next attempt; given up for good, never again.
	got, err = s.ClaimDeliveries(ctx, "w3", now.Add(time.Minute), time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	if len(got) != 0 {
		t.Fatalf("claim before the next attempt: %+v", got)
	}
	got, err = s.ClaimDeliveries(ctx, "w3", now.Add(time.Hour), time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("claim at the next attempt: %+v", got)
	}
	noErr(t, "FinishAttempt give up", s.FinishAttempt(ctx, d1.ID, "w3", oauth.AttemptResult{At: now.Add(time.Hour), Error: "refused"}))
	got, err = s.ClaimDeliveries(ctx, "w3", now.Add(100*time.Hour), time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	if len(got) != 0 {
		t.Fatalf("claim after giving up: %+v", got)
	}
	if d := pending(t, s, "a1")[1]; d.ID != d1.ID || d.Status != oauth.DeliveryFailed || d.Attempts != 2 {
		t.Errorf("given-up delivery: %+v", d)
	}
}

// Many workers claiming at once, as several processes do: each delivery is
// claimed exactly once.
func testOutboxClaimConcurrent(t *testing.T, s Portal) {
	ctx := t.Context()
	app := &oauth.App{ID: "a1", WebhookURL: "https://a.example/h"}
	const n = 60
	for i := range n {
		noErr(t, "EnqueueDelivery", s.EnqueueDelivery(ctx, oauth.NewDelivery(oauth.WebhookTest, app, nil, nil, t0.Add(time.Duration(i)*time.Millisecond))))
	}
	var (
		mu     sync.Mutex
		claims = map[string]int{}
		wg     sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := s.ClaimDeliveries(ctx, fmt.Sprint("w", w), t0.Add(time.Second), time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range got {
					claims[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claims) != n {
		t.Errorf("%d deliveries claimed, want %d", len(claims), n)
	}
	for id, c := range claims {
		if c != 1 {
			t.Errorf("delivery %s claimed %d times", id, c)
		}
	}
}

func testSigningSecret(t *testing.T, s Portal) {
	ctx := t.Context()
	_, err := s.SigningSecret(ctx, "a1")
	wantErr(t, "SigningSecret before", err, oauth.ErrNotFound)
	v1 := &oauth.SigningSecret{AppID: "a1", Current: oauth.Sealed{KeyID: "k1", Data: []byte("one")}, UpdatedAt: t0}
	noErr(t, "SetSigningSecret", s.SetSigningSecret(ctx, v1))
	got, err := s.SigningSecret(ctx, "a1")
	noErr(t, "SigningSecret", err)
	diff(t, "SigningSecret", got, v1)
	v2 := &oauth.SigningSecret{AppID: "a1", Current: oauth.Sealed{KeyID: "k2", Data: []byte("two")},
		Previous: v1.Current, PrevExpires: t0.Add(24 * time.Hour), UpdatedAt: t0.Add(time.Hour)}
	noErr(t, "SetSigningSecret rotated", s.SetSigningSecret(ctx, v2))
	got, err = s.SigningSecret(ctx, "a1")
	noErr(t, "SigningSecret", err)
	diff(t, "SigningSecret rotated", got, v2)
}

func testPruneDeliveries(t *testing.T, s Portal) {
	ctx := t.Context()
	f, _ := webhookFixture(t, s)
	noErr(t, "SetSigningSecret", s.SetSigningSecret(ctx, &oauth.SigningSecret{AppID: f.app.ID, Current: oauth.Sealed{KeyID: "k", Data: []byte("x")}, UpdatedAt: t0}))
	old := oauth.NewDelivery(oauth.WebhookTest, f.app, nil, nil, t0)
	noErr(t, "EnqueueDelivery", s.EnqueueDelivery(ctx, old))
	_, err := s.ClaimDeliveries(ctx, "w", t0, time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	noErr(t, "FinishAttempt", s.FinishAttempt(ctx, old.ID, "w", oauth.AttemptResult{At: t0, Delivered: true, Status: 200}))
	noErr(t, "DeleteApp", s.DeleteApp(ctx, f.app.ID, t0.Add(time.Hour))) // enqueues app.uninstalled
	noErr(t, "PruneDeliveries", s.PruneDeliveries(ctx, t0.Add(time.Minute)))
	ds := pending(t, s, f.app.ID)
	if len(ds) != 1 || ds[0].Event != oauth.WebhookUninstalled {
		t.Fatalf("after pruning: %+v, want only the pending uninstall", ds)
	}
	// The deleted app's secret is kept while its uninstall is pending.
	_, err = s.SigningSecret(ctx, f.app.ID)
	noErr(t, "SigningSecret while pending", err)
	_, err = s.ClaimDeliveries(ctx, "w", t0.Add(2*time.Hour), time.Minute, 10)
	noErr(t, "ClaimDeliveries", err)
	noErr(t, "FinishAttempt", s.FinishAttempt(ctx, ds[0].ID, "w", oauth.AttemptResult{At: t0.Add(2 * time.Hour), Delivered: true, Status: 200}))
	noErr(t, "PruneDeliveries", s.PruneDeliveries(ctx, t0.Add(3*time.Hour)))
	if n := len(pending(t, s, f.app.ID)); n != 0 {
		t.Errorf("after pruning everything: %d deliveries", n)
	}
	_, err = s.SigningSecret(ctx, f.app.ID)
	if !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("the deleted app's secret survived pruning: %v", err)
	}
}
