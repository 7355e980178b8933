package oauth

import (
	"context"
	"time"
)

// EventKind names something that happened to a grant, a token or an app,
// for the audit trail and for partners' webhooks.
type EventKind string

// The events the service reports.
const (
	EventAuthorized     EventKind = "authorization.granted" // the merchant allowed an app (a code was issued)
	EventDenied         EventKind = "authorization.denied"  // the merchant denied an app
	EventTokenIssued    EventKind = "token.issued"          // a code was exchanged, or client credentials used
	EventTokenRefreshed EventKind = "token.refreshed"       // a refresh token was rotated
	EventGrantRevoked   EventKind = "grant.revoked"         // by the app, the merchant, an operator, or reuse detection
	EventCodeReplayed   EventKind = "code.replayed"         // a code was presented twice; its grant was revoked
	EventRefreshReused  EventKind = "refresh.reused"        // a rotated refresh token came back; its grant was revoked
)

// Event is one thing that happened. It never carries a secret: grant ids
// and token kinds, never token values.
type Event struct {
	Kind    EventKind
	At      time.Time
	AppID   string
	StoreID string
	UserID  string
	GrantID string
	Scopes  Scopes
	Detail  string // a short, safe explanation (why a grant was revoked, which grant type)
}

// Recorder receives the service's events. Record must not block for long:
// it runs on the request path, after the change it reports is committed.
// An error is logged, never returned to the client.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// SetRecorder makes r receive the service's events. Call it before serving.
func (s *Service) SetRecorder(r Recorder) { s.events = r }

func (s *Service) record(ctx context.Context, e Event) {
	if s.events == nil {
		return
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	if err := s.events.Record(ctx, e); err != nil {
		s.log.WarnContext(ctx, "recording an event", "kind", e.Kind, "err", err)
	}
}
