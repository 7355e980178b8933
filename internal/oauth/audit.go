package oauth

import (
	"context"
	"time"
)

// The audit actions that are not service events (those use their EventKind
// as the action).
const (
	AuditSignIn          = "signin.succeeded"  // a merchant or partner signed in
	AuditSignInFailed    = "signin.failed"     // wrong email or password
	AuditSignInThrottled = "signin.throttled"  // refused: too many attempts
	AuditSignUp          = "partner.signed_up" // a partner account was created
	AuditAppCreated      = "app.created"
	AuditAppUpdated      = "app.updated"
	AuditAppDeleted      = "app.deleted"
	AuditLogoChanged     = "app.logo_changed"
	AuditSecretRotated   = "app.secret_rotated" //nolint:gosec // G101: an action's name, not a credential
	AuditAppRevoked      = "app.revoked"        // a merchant revoked an app's access to a store
	AuditWebhookSent     = "webhook.delivered"
	AuditWebhookFailed   = "webhook.attempt_failed" // one attempt failed; another is scheduled
	AuditWebhookGaveUp   = "webhook.failed"         // retried for the whole window without success
	AuditWebhookTest     = "webhook.test_requested"
)

// Actor kinds: who did something.
const (
	ActorMerchant = "merchant"
	ActorPartner  = "partner"
	ActorApp      = "app"
	ActorOperator = "operator"
	ActorSystem   = "system"
)

// Actor is who made a request, with where it came from. The web layer puts
// it in the request's context (WithActor) so that the events the Service
// reports while serving the request name the person behind them.
type Actor struct {
	Kind      string // ActorMerchant, ActorPartner, ...
	ID        string // the user's, partner's or app's id
	IP        string
	UserAgent string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// AuditRecord is one entry of the audit trail: append-only, never holding a
// secret (grant ids, never token values). Empty fields do not apply.
type AuditRecord struct {
	Seq       int64 // assigned by storage, increasing
	At        time.Time
	Action    string // an Audit* constant or an EventKind
	ActorKind string
	ActorID   string
	PartnerID string // the partner the record concerns (the app's owner)
	AppID     string
	StoreID   string
	UserID    string // the merchant the record concerns
	GrantID   string
	IP        string
	UserAgent string
	Detail    string // a short, safe explanation
}

// AuditFilter selects audit records, newest first. A record matches when it
// is at or after Since and matches every scope field that is set; StoreIDs
// and UserID together match records of any of the stores OR of the user
// (what a merchant may see).
type AuditFilter struct {
	Since     time.Time
	Before    int64 // only records with Seq < Before; 0: no bound
	PartnerID string
	StoreIDs  []string
	UserID    string
	AppID     string
	Limit     int // 0: no limit
	Oldest    bool
}

// AuditLog is the persistence of the audit trail.
type AuditLog interface {
	// AppendAudit appends records in order, in one transaction.
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	// AuditRecords returns the records matching f, newest first (oldest
	// first when f.Oldest is set).
	AuditRecords(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
}
