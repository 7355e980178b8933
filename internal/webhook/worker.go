package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// Apps finds an app, to check that its sealed signing secret is still its
// client secret. oauth.Storage satisfies it.
type Apps interface {
	App(ctx context.Context, id string) (*oauth.App, error)
}

// Options configure a Worker. The zero value of a field means its default.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Audit, when set, receives one record per attempt's outcome.
	Audit oauth.AuditLog
	// Client sends the deliveries; default: a client with Timeout, no
	// redirects followed, and the private-address guard.
	Client  *http.Client
	Timeout time.Duration // per attempt; default 10 s
	// AllowPrivate lets deliveries go to loopback and private addresses
	// (development, tests). Off, the default client refuses to connect to
	// them, whatever the URL's host resolves to.
	AllowPrivate bool
	Lease        time.Duration // how long a claim lasts; default 1 minute, more than Timeout
	Poll         time.Duration // how often the outbox is read; default 500 ms
	Batch        int           // deliveries claimed at once; default 16
	Concurrency  int           // deliveries sent at once; default 4
	Window       time.Duration // how long a delivery is retried; default 48 hours
	BaseDelay    time.Duration // the first retry's delay; default 30 s, doubling
	MaxDelay     time.Duration // the longest delay between attempts; default 6 hours
	Retention    time.Duration // how long ended deliveries are kept; default 30 days
}

// Worker delivers the outbox's webhooks. Create it with New and call Run.
type Worker struct {
	out    oauth.Outbox
	apps   Apps
	sealer *oauth.Sealer
	opts   Options
	log    *slog.Logger
	id     string
	client *http.Client
	pruned time.Time
}

// New returns a worker on the outbox; sealer opens the signing secrets.
func New(out oauth.Outbox, apps Apps, sealer *oauth.Sealer, opts Options) *Worker {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Lease < 2*opts.Timeout {
		// A claim must outlive the attempt it covers.
		opts.Lease = 2 * opts.Timeout
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Window <= 0 {
		opts.Window = 48 * time.Hour
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = 30 * time.Second
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 6 * time.Hour
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	w := &Worker{out: out, apps: apps, sealer: sealer, opts: opts, log: opts.Logger, id: workerID()}
	w.client = opts.Client
	if w.client == nil {
		w.client = newClient(opts.Timeout, opts.AllowPrivate)
	}
	return w
}

// workerID names this worker in leases: host, process and a random part.
func workerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// newClient is the default HTTP client: a timeout per attempt, redirects
// not followed (a 3xx is a failed attempt), and, unless allowPrivate, a
// dialer that refuses non-public addresses after name resolution, so that
// a webhook URL cannot reach the server's own network.
func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return err
			}
			if !publicAddr(ip.Unmap()) {
				return fmt.Errorf("webhook: refusing to connect to non-public address %s", ip)
			}
			return nil
		}
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func publicAddr(ip netip.Addr) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT
}

// Run delivers until ctx ends: it polls the outbox, sends what is due and
// records each outcome, and prunes old deliveries once an hour.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Poll)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "webhook worker", "err", err)
			}
			// A full batch means more may be due: go on at once.
			if err != nil || n < w.opts.Batch {
				break
			}
		}
		if now := w.opts.Now(); now.Sub(w.pruned) > time.Hour {
			w.pruned = now
			if err := w.out.PruneDeliveries(ctx, now.Add(-w.opts.Retention)); err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "pruning webhook deliveries", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due deliveries, sends them and records the
// outcomes; it returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	now := w.now()
	ds, err := w.out.ClaimDeliveries(ctx, w.id, now, w.opts.Lease, w.opts.Batch)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range ds {
		sem <- struct{}{}
		wg.Add(1)
		go func(d *oauth.Delivery) {
			defer func() { <-sem; wg.Done() }()
			w.deliver(context.WithoutCancel(ctx), d)
		}(&ds[i])
	}
	wg.Wait()
	return len(ds), nil
}

func (w *Worker) now() time.Time { return w.opts.Now().UTC().Truncate(time.Microsecond) }

// deliver makes one attempt and records its outcome. It runs to the end
// even when the worker is stopping, so that a sent delivery is recorded.
func (w *Worker) deliver(ctx context.Context, d *oauth.Delivery) {
	status, err := w.send(ctx, d)
	res := oauth.AttemptResult{At: w.now(), Status: status}
	if err == nil {
		res.Delivered = true
	} else {
		res.Error = err.Error()
		res.Next = w.nextAttempt(d, res.At)
	}
	if ferr := w.out.FinishAttempt(ctx, d.ID, w.id, res); ferr != nil {
		w.log.WarnContext(ctx, "recording a webhook attempt", "delivery", d.ID, "err", ferr)
		return
	}
	action, detail := oauth.AuditWebhookSent, fmt.Sprintf("%s to %s: HTTP %d", d.Event, d.URL, status)
	switch {
	case res.Delivered:
		w.log.InfoContext(ctx, "webhook delivered", "delivery", d.ID, "event", d.Event, "app_id", d.AppID, "status", status)
	case res.Next.IsZero():
		action, detail = oauth.AuditWebhookGaveUp, fmt.Sprintf("%s to %s: %s; gave up after %d attempts", d.Event, d.URL, res.Error, d.Attempts+1)
		w.log.WarnContext(ctx, "webhook failed for good", "delivery", d.ID, "event", d.Event, "app_id", d.AppID, "err", res.Error)
	default:
		action, detail = oauth.AuditWebhookFailed, fmt.Sprintf("%s to %s: %s; next attempt %s", d.Event, d.URL, res.Error, res.Next.Format(time.RFC3339))
		w.log.InfoContext(ctx, "webhook attempt failed", "delivery", d.ID, "event", d.Event, "app_id", d.AppID, "err", res.Error, "next", res.Next)
	}
	if w.opts.Audit != nil {
		rec := oauth.AuditRecord{
			At: res.At, Action: action, ActorKind: oauth.ActorSystem, ActorID: "webhook",
			PartnerID: d.PartnerID, AppID: d.AppID, StoreID: d.StoreID, Detail: detail,
		}
		if err := w.opts.Audit.AppendAudit(ctx, []oauth.AuditRecord{rec}); err != nil {
			w.log.WarnContext(ctx, "auditing a webhook attempt", "delivery", d.ID, "err", err)
		}
	}
}

// nextAttempt is when to try a delivery that has failed d.Attempts+1 times:
// exponential backoff from BaseDelay, capped at MaxDelay, with jitter (a
// random point in the second half of the delay) so that receivers coming
// back up are not hit by every retry at once. Zero once past the window.
func (w *Worker) nextAttempt(d *oauth.Delivery, now time.Time) time.Time {
	delay := w.opts.BaseDelay << min(d.Attempts, 30)
	if delay <= 0 || delay > w.opts.MaxDelay {
		delay = w.opts.MaxDelay
	}
	delay = delay/2 + mrand.N(delay/2+1) //nolint:gosec // G404: jitter, not a secret
	next := now.Add(delay)
	if next.After(d.CreatedAt.Add(w.opts.Window)) {
		return time.Time{}
	}
	return next
}

// send posts the delivery and returns the status received; an error unless
// it was 2xx.
func (w *Worker) send(ctx context.Context, d *oauth.Delivery) (int, error) {
	secrets, err := w.secrets(ctx, d.AppID)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, fmt.Errorf("bad webhook URL: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Storekey-Webhook/1")
	h.Set(EventHeader, string(d.Event))
	h.Set(DeliveryHeader, d.ID)
	h.Set(SignatureHeader, Signature(w.opts.Now(), d.Payload, secrets...))
	res, err := w.client.Do(req)
	if err != nil {
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return 0, errors.New("no answer within " + w.opts.Timeout.String())
		}
		return 0, fmt.Errorf("request failed: %w", unwrapURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
	_ = res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, errors.New("HTTP " + strconv.Itoa(res.StatusCode))
	}
	return res.StatusCode, nil
}

func unwrapURLError(err error) error {
	if u, ok := errors.AsType[*net.OpError](err); ok {
		return u
	}
	return err
}

// errNoSecret is an attempt's error when the app's secret is unavailable.
var errNoSecret = errors.New("no signing secret: rotate the app's client secret in the partner dashboard")

// secrets returns the secrets to sign with: the current one and, during a
// rotation's grace period, the previous. A sealed secret that no longer
// matches the app's client secret (rotated outside the dashboard) is not
// used. A deleted app's deliveries are signed with its last secret.
func (w *Worker) secrets(ctx context.Context, appID string) ([][]byte, error) {
	s, err := w.out.SigningSecret(ctx, appID)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, errNoSecret
	}
	if err != nil {
		return nil, err
	}
	label := oauth.SigningLabel(appID)
	cur, err := w.sealer.Open(s.Current, label)
	if err != nil {
		return nil, errNoSecret
	}
	out := [][]byte{cur}
	if len(s.Previous.Data) > 0 && w.opts.Now().Before(s.PrevExpires) {
		if prev, err := w.sealer.Open(s.Previous, label); err == nil {
			out = append(out, prev)
		}
	}
	app, err := w.apps.App(ctx, appID)
	switch {
	case errors.Is(err, oauth.ErrNotFound):
		return out, nil
	case err != nil:
		return nil, err
	case !oauth.EqualHash(string(cur), app.SecretHash):
		return nil, errNoSecret
	}
	return out, nil
}
