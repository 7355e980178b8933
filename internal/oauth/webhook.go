package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// WebhookEvent names what a webhook tells an app.
type WebhookEvent string

// The webhook events.
const (
	// WebhookUninstalled: the app lost its last active grant on a store,
	// because the merchant revoked it, the app was deleted, the app revoked
	// its own token, or a security rule revoked it.
	WebhookUninstalled WebhookEvent = "app.uninstalled"
	// WebhookScopesChanged: the merchant authorized the app again on a store
	// with a different set of scopes.
	WebhookScopesChanged WebhookEvent = "grant.scopes_changed"
	// WebhookTest: the partner pressed "Send test event".
	WebhookTest WebhookEvent = "test"
)

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its first or next attempt
	DeliveryDelivered DeliveryStatus = "delivered" // a 2xx answer was received
	DeliveryFailed    DeliveryStatus = "failed"    // retried for the whole window without success
)

// Delivery is one webhook message in the outbox, with the state of its
// delivery. Payload is fixed when the delivery is enqueued: every attempt
// sends the same bytes (only the signature's timestamp changes).
type Delivery struct {
	ID            string // also the payload's id, for receivers to deduplicate
	AppID         string
	PartnerID     string
	StoreID       string
	Event         WebhookEvent
	URL           string
	Payload       []byte
	Status        DeliveryStatus
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time // zero once delivered or failed
	LastAttemptAt time.Time
	LastStatus    int    // the HTTP status of the last attempt; 0 if none was received
	LastError     string // why the last attempt failed
	DeliveredAt   time.Time
}

// WebhookStore is a store as a webhook payload names it.
type WebhookStore struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// webhookPayload is the JSON body of every webhook.
type webhookPayload struct {
	ID        string         `json:"id"`
	Event     WebhookEvent   `json:"event"`
	Timestamp string         `json:"timestamp"`
	AppID     string         `json:"app_id"`
	Store     *WebhookStore  `json:"store"`
	Data      map[string]any `json:"data"`
}

// NewDelivery returns a pending delivery of event to the app's webhook URL,
// with its payload: {"id", "event", "timestamp", "app_id", "store", "data"}.
// store may be nil (the test event); data may be nil.
func NewDelivery(event WebhookEvent, app *App, store *WebhookStore, data map[string]any, now time.Time) *Delivery {
	d := &Delivery{
		ID:            RandomID("whd_"),
		AppID:         app.ID,
		PartnerID:     app.PartnerID,
		Event:         event,
		URL:           app.WebhookURL,
		Status:        DeliveryPending,
		CreatedAt:     now,
		NextAttemptAt: now,
	}
	if store != nil {
		d.StoreID = store.ID
	}
	if data == nil {
		data = map[string]any{}
	}
	d.Payload, _ = json.Marshal(webhookPayload{ // a map of plain values always marshals
		ID: d.ID, Event: event, Timestamp: now.UTC().Format(time.RFC3339), AppID: app.ID, Store: store, Data: data,
	})
	return d
}

// ValidateWebhookURL checks a webhook URL offered for registration: an
// absolute https URL without user information or fragment; plain http only
// to a loopback host, for development.
func ValidateWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return Errorf(ErrInvalidRequest, "webhook URL %q is not an absolute URL", truncate(raw, 200))
	}
	if u.User != nil {
		return Errorf(ErrInvalidRequest, "webhook URL %q must not contain user information", truncate(raw, 200))
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return Errorf(ErrInvalidRequest, "webhook URL %q must not contain a fragment", truncate(raw, 200))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return Errorf(ErrInvalidRequest, "webhook URL %q must use https (http is allowed for loopback hosts only)", truncate(raw, 200))
		}
	default:
		return Errorf(ErrInvalidRequest, "webhook URL %q must use https", truncate(raw, 200))
	}
	return nil
}

// SigningSecret is the sealed client secret that signs an app's webhooks,
// and the previous one while the rotation's grace period lasts.
type SigningSecret struct {
	AppID       string
	Current     Sealed
	Previous    Sealed // zero when there is none
	PrevExpires time.Time
	UpdatedAt   time.Time
}

// SigningLabel is the label sealed signing secrets are bound to.
func SigningLabel(appID string) string { return "webhook-secret:" + appID }

// NewSigningSecret seals an app's new client secret for signing its
// webhooks; prev, when not nil, is the record being replaced, whose current
// secret keeps signing beside the new one for grace.
func NewSigningSecret(s *Sealer, appID, secret string, prev *SigningSecret, grace time.Duration, now time.Time) *SigningSecret {
	out := &SigningSecret{AppID: appID, Current: s.Seal([]byte(secret), SigningLabel(appID)), UpdatedAt: now}
	if prev != nil {
		out.Previous, out.PrevExpires = prev.Current, now.Add(grace)
	}
	return out
}

// AttemptResult is the outcome of one delivery attempt.
type AttemptResult struct {
	At        time.Time
	Status    int    // HTTP status received; 0 if none
	Error     string // why it failed; "" on success
	Delivered bool
	// Next is when to try again; zero when the delivery failed for good
	// (ignored when Delivered).
	Next time.Time
}

// Outbox is the durable queue of webhook deliveries. Deliveries that
// changes cause are written by the storage in the same transaction as the
// change (RevokeGrant, RevokeGrants, DeleteApp); EnqueueDelivery adds the
// others.
type Outbox interface {
	// EnqueueDelivery adds a pending delivery.
	EnqueueDelivery(ctx context.Context, d *Delivery) error
	// Deliveries lists an app's deliveries, newest first, at most limit.
	Deliveries(ctx context.Context, appID string, limit int) ([]Delivery, error)
	// ClaimDeliveries leases up to limit pending deliveries that are due at
	// now and not leased by a live worker, to worker until now+lease, and
	// returns them. Concurrent claims, from any process, never return the
	// same delivery while its lease lasts.
	ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishAttempt records an attempt's outcome and releases the lease,
	// if worker still holds it; ErrConflict if it does not (the lease
	// expired and another worker took the delivery).
	FinishAttempt(ctx context.Context, id, worker string, r AttemptResult) error
	// PruneDeliveries deletes deliveries that ended before the time, and
	// the signing secrets of deleted apps that no pending delivery needs.
	PruneDeliveries(ctx context.Context, before time.Time) error

	// SetSigningSecret stores an app's sealed signing secret.
	SetSigningSecret(ctx context.Context, s *SigningSecret) error
	// SigningSecret returns an app's signing secret; ErrNotFound.
	SigningSecret(ctx context.Context, appID string) (*SigningSecret, error)
}

// String describes a delivery for logs.
func (d *Delivery) String() string {
	return fmt.Sprintf("%s %s to app %s", d.ID, d.Event, d.AppID)
}
