package webhook

import (
	"context"

	"github.com/storekey/storekey/internal/oauth"
)

// Notifier is the oauth.Recorder that turns the service's events into the
// webhooks that no storage transaction enqueues itself: when a code is
// exchanged for a new grant, grant.scopes_changed if the app already held
// other scopes on the store.
//
// It runs after the grant's commit, so a crash in between loses that one
// notification; enqueueing it inside RedeemCode's transaction would close
// the gap.
type Notifier struct {
	Outbox oauth.Outbox
}

// Record implements oauth.Recorder.
func (n Notifier) Record(ctx context.Context, e oauth.Event) error {
	if e.Kind != oauth.EventTokenIssued || e.Detail != oauth.GrantAuthorizationCode || e.GrantID == "" {
		return nil
	}
	return n.Outbox.EnqueueScopeChange(ctx, e.GrantID, e.At)
}
