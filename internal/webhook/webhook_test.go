package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/store/dbtest"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("sks_secret")
	body := []byte(`{"id":"whd_1","event":"test"}`)
	at := time.Unix(1767225600, 0)
	got := Signature(at, body, secret)
	if !strings.HasPrefix(got, "t=1767225600,v1=") || len(got) != len("t=1767225600,v1=")+64 {
		t.Fatalf("Signature = %q", got)
	}
	tests := []struct {
		name   string
		header string
		body   []byte
		secret []byte
		now    time.Time
		want   error
	}{
		{"valid", got, body, secret, at, nil},
		{"valid within tolerance", got, body, secret, at.Add(4 * time.Minute), nil},
		{"second of two signatures", Signature(at, body, []byte("other"), secret), body, secret, at, nil},
		{"replayed later", got, body, secret, at.Add(6 * time.Minute), ErrStale},
		{"from the future", got, body, secret, at.Add(-6 * time.Minute), ErrStale},
		{"body changed", got, []byte(`{"id":"whd_2","event":"test"}`), secret, at, ErrBadSignature},
		{"wrong secret", got, body, []byte("sks_other"), at, ErrBadSignature},
		{"timestamp changed", strings.Replace(got, "t=1767225600", "t=1767225601", 1), body, secret, at, ErrBadSignature},
		{"empty", "", body, secret, at, ErrNoSignature},
		{"no v1", "t=1767225600", body, secret, at, ErrNoSignature},
		{"no t", strings.TrimPrefix(got, "t=1767225600,"), body, secret, at, ErrNoSignature},
		{"two t", "t=1,t=2,v1=00", body, secret, at, ErrNoSignature},
		{"garbage", "t=x,v1=zz", body, secret, at, ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.header, tt.body, tt.secret, tt.now, 0); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// The vector of docs/webhooks.md, computed independently with Python's
// hmac module: the documented snippets and Sign agree.
func TestSignKnownVector(t *testing.T) {
	got := Sign([]byte("sks_example"), time.Unix(1767225600, 0), []byte(`{"event":"test"}`))
	const want = "6549eb01819d1d0e6f51dcbeecfacd8745f5f4cfd89a2c01e4b99081b503cce0"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// receiver is a webhook endpoint that verifies and counts what it gets.
type receiver struct {
	t       *testing.T
	secret  []byte
	mu      sync.Mutex
	got     map[string]int // delivery id → times received
	bodies  []map[string]any
	headers []http.Header
	status  int // answer; 0: 204
	now     func() time.Time
	srv     *httptest.Server
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t, secret: []byte(secret), got: map[string]int{}, now: time.Now}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		now := r.now()
		r.mu.Unlock()
		if err := Verify(req.Header.Get(SignatureHeader), body, r.secret, now, 0); err != nil {
			t.Errorf("receiver: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("receiver: body %q: %v", body, err)
		}
		r.mu.Lock()
		r.got[req.Header.Get(DeliveryHeader)]++
		r.bodies = append(r.bodies, m)
		r.headers = append(r.headers, req.Header.Clone())
		status := r.status
		r.mu.Unlock()
		if status == 0 {
			status = http.StatusNoContent
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setStatus(s int) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

func (r *receiver) count() (total int, ids map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids = map[string]int{}
	for k, v := range r.got {
		ids[k] = v
		total += v
	}
	return total, ids
}

type fixture struct {
	db     *store.DB
	sealer *oauth.Sealer
	app    *oauth.App
	secret string
	audit  *memAudit
}

type memAudit struct {
	mu   sync.Mutex
	recs []oauth.AuditRecord
}

func (m *memAudit) AppendAudit(_ context.Context, recs []oauth.AuditRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, recs...)
	return nil
}

func (m *memAudit) AuditRecords(context.Context, oauth.AuditFilter) ([]oauth.AuditRecord, error) {
	return nil, nil
}

func newFixture(t *testing.T, db *store.DB, url string) *fixture {
	t.Helper()
	sealer, err := oauth.NewSealer([]oauth.Key{{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	secret := oauth.RandomSecret(oauth.PrefixSecret)
	now := time.Now().UTC().Truncate(time.Microsecond)
	app := &oauth.App{ID: "app_1", Name: "Hooked", SecretHash: oauth.Hash(secret), WebhookURL: url, PartnerID: "par_1", CreatedAt: now}
	ctx := t.Context()
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSigningSecret(ctx, &oauth.SigningSecret{AppID: app.ID, Current: sealer.Seal([]byte(secret), oauth.SigningLabel(app.ID)), UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, sealer: sealer, app: app, secret: secret, audit: &memAudit{}}
}

func (f *fixture) worker(opts Options) *Worker {
	opts.AllowPrivate = true
	opts.Audit = f.audit
	return New(f.db, f.db, f.sealer, opts)
}

func (f *fixture) enqueue(t *testing.T, n int) []*oauth.Delivery {
	t.Helper()
	var out []*oauth.Delivery
	for range n {
		d := oauth.NewDelivery(oauth.WebhookTest, f.app, nil, map[string]any{"hello": "world"}, time.Now().UTC().Truncate(time.Microsecond))
		if err := f.db.EnqueueDelivery(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestDeliver(t *testing.T) {
	for _, b := range dbtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rcv := newReceiver(t, "")
			f := newFixture(t, b.Open(t), rcv.srv.URL+"/hooks")
			rcv.secret = []byte(f.secret)
			d := f.enqueue(t, 1)[0]
			w := f.worker(Options{})
			n, err := w.RunOnce(t.Context())
			if err != nil || n != 1 {
				t.Fatalf("RunOnce = %d, %v", n, err)
			}
			total, ids := rcv.count()
			if total != 1 || ids[d.ID] != 1 {
				t.Fatalf("received %v", ids)
			}
			h := rcv.headers[0]
			if h.Get("Content-Type") != "application/json" || h.Get(EventHeader) != "test" || h.Get(DeliveryHeader) != d.ID {
				t.Errorf("headers %v", h)
			}
			if body := rcv.bodies[0]; body["id"] != d.ID || body["event"] != "test" || body["app_id"] != f.app.ID || body["timestamp"] == "" {
				t.Errorf("body %v", body)
			}
			ds, err := f.db.Deliveries(t.Context(), f.app.ID, 10)
			if err != nil || len(ds) != 1 || ds[0].Status != oauth.DeliveryDelivered || ds[0].LastStatus != 204 || ds[0].Attempts != 1 {
				t.Fatalf("deliveries %+v, %v", ds, err)
			}
			if n, _ := w.RunOnce(t.Context()); n != 0 {
				t.Errorf("a delivered delivery was claimed again")
			}
			if len(f.audit.recs) != 1 || f.audit.recs[0].Action != oauth.AuditWebhookSent || f.audit.recs[0].PartnerID != "par_1" {
				t.Errorf("audit %+v", f.audit.recs)
			}
		})
	}
}

// A failing receiver is retried later, with exponential backoff and jitter,
// until the window ends.
func TestRetrySchedule(t *testing.T) {
	db := dbtest.OpenSQLite(t)
	rcv := newReceiver(t, "")
	f := newFixture(t, db, rcv.srv.URL)
	rcv.secret = []byte(f.secret)
	rcv.setStatus(http.StatusServiceUnavailable)
	d := f.enqueue(t, 1)[0]
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	rcv.mu.Lock()
	rcv.now = now
	rcv.mu.Unlock()
	w := f.worker(Options{Now: now, BaseDelay: time.Minute, MaxDelay: time.Hour, Window: 5 * time.Hour})

	var delays []time.Duration
	for attempt := 1; attempt <= 20; attempt++ {
		if _, err := w.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		ds, err := db.Deliveries(t.Context(), f.app.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := ds[0]
		if got.Attempts != attempt || got.LastStatus != 503 || got.LastError != "HTTP 503" {
			t.Fatalf("attempt %d: %+v", attempt, got)
		}
		if got.Status == oauth.DeliveryFailed {
			if clock.Before(d.CreatedAt.Add(4 * time.Hour)) {
				t.Errorf("gave up at %s, before the window's end", clock.Sub(d.CreatedAt))
			}
			break
		}
		delay := got.NextAttemptAt.Sub(now().UTC().Truncate(time.Microsecond))
		delays = append(delays, delay)
		mu.Lock()
		clock = got.NextAttemptAt
		mu.Unlock()
	}
	if len(delays) < 5 {
		t.Fatalf("delays %v", delays)
	}
	for i, d := range delays {
		base := time.Minute << i
		if base > time.Hour {
			base = time.Hour
		}
		if d < base/2 || d > base {
			t.Errorf("delay %d = %s, want between %s and %s", i+1, d, base/2, base)
		}
	}
	last := f.audit.recs[len(f.audit.recs)-1]
	if last.Action != oauth.AuditWebhookGaveUp {
		t.Errorf("last audit record %+v, want %s", last, oauth.AuditWebhookGaveUp)
	}
	// Retries stopped: the receiver saw one request per attempt.
	total, _ := rcv.count()
	if total != len(delays)+1 {
		t.Errorf("receiver got %d requests, want %d", total, len(delays)+1)
	}
}

// Several workers on one database, each with a connection pool of its own
// as separate processes have: each delivery arrives once.
func TestWorkersDeliverOnce(t *testing.T) {
	for _, d := range dbtest.DSNs(t) {
		t.Run(d.Name, func(t *testing.T) {
			var dbs []*store.DB
			for i := range 4 {
				db, err := store.Open(t.Context(), d.DSN)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				if i == 0 {
					if err := db.Migrate(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				dbs = append(dbs, db)
			}
			rcv := newReceiver(t, "")
			f := newFixture(t, dbs[0], rcv.srv.URL)
			rcv.secret = []byte(f.secret)
			const n = 40
			f.enqueue(t, n)
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			for _, db := range dbs {
				w := New(db, db, f.sealer, Options{Poll: 10 * time.Millisecond, Batch: 3, AllowPrivate: true})
				wg.Go(func() { w.Run(ctx) })
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				if total, _ := rcv.count(); total >= n || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // let a duplicate show up, if any
			cancel()
			wg.Wait()
			total, ids := rcv.count()
			if total != n || len(ids) != n {
				t.Fatalf("received %d requests for %d deliveries, want %d each once", total, len(ids), n)
			}
		})
	}
}

// The default client refuses private and loopback addresses.
func TestPrivateAddressRefused(t *testing.T) {
	db := dbtest.OpenSQLite(t)
	rcv := newReceiver(t, "")
	f := newFixture(t, db, rcv.srv.URL)
	f.enqueue(t, 1)
	w := New(db, db, f.sealer, Options{})
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if total, _ := rcv.count(); total != 0 {
		t.Fatal("a delivery reached a loopback address")
	}
	ds, _ := db.Deliveries(t.Context(), f.app.ID, 1)
	if !strings.Contains(ds[0].LastError, "non-public address") || ds[0].Status != oauth.DeliveryPending {
		t.Errorf("delivery %+v", ds[0])
	}
}

// After a rotation, deliveries carry a signature for each secret still
// valid; a secret rotated outside the dashboard is not used.
func TestRotatedSecrets(t *testing.T) {
	db := dbtest.OpenSQLite(t)
	rcv := newReceiver(t, "")
	f := newFixture(t, db, rcv.srv.URL)
	ctx := t.Context()
	old := f.secret
	next := oauth.RandomSecret(oauth.PrefixSecret)
	now := time.Now().UTC().Truncate(time.Microsecond)
	f.app.PrevSecret, f.app.PrevExpires, f.app.SecretHash = f.app.SecretHash, now.Add(time.Hour), oauth.Hash(next)
	if err := db.UpdateApp(ctx, f.app); err != nil {
		t.Fatal(err)
	}
	label := oauth.SigningLabel(f.app.ID)
	if err := db.SetSigningSecret(ctx, &oauth.SigningSecret{AppID: f.app.ID, Current: f.sealer.Seal([]byte(next), label),
		Previous: f.sealer.Seal([]byte(old), label), PrevExpires: now.Add(time.Hour), UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rcv.secret = []byte(old) // a receiver not yet redeployed
	f.enqueue(t, 1)
	w := f.worker(Options{})
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if total, _ := rcv.count(); total != 1 {
		t.Fatal("the receiver with the previous secret did not accept the delivery")
	}
	if sig := rcv.headers[0].Get(SignatureHeader); strings.Count(sig, "v1=") != 2 {
		t.Errorf("signature %q, want two v1 during the grace period", sig)
	}

	// The CLI rotates again without telling the dashboard: the sealed
	// secret is stale and is not used.
	f.app.SecretHash = oauth.Hash(oauth.RandomSecret(oauth.PrefixSecret))
	if err := db.UpdateApp(ctx, f.app); err != nil {
		t.Fatal(err)
	}
	d := f.enqueue(t, 1)[0]
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	ds, _ := db.Deliveries(ctx, f.app.ID, 1)
	if ds[0].ID != d.ID || !strings.Contains(ds[0].LastError, "no signing secret") {
		t.Errorf("delivery with a stale secret: %+v", ds[0])
	}
}

// A slow receiver costs a delivery its timeout, nothing more.
func TestSlowReceiver(t *testing.T) {
	db := dbtest.OpenSQLite(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	f := newFixture(t, db, slow.URL)
	f.enqueue(t, 1)
	w := f.worker(Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("an attempt on a slow receiver took %s", d)
	}
	ds, _ := db.Deliveries(t.Context(), f.app.ID, 1)
	if !strings.Contains(ds[0].LastError, "no answer within") || ds[0].NextAttemptAt.IsZero() {
		t.Errorf("delivery %+v", ds[0])
	}
}
