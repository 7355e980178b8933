package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

const deliveryColumns = `id, app_id, partner_id, store_id, event, url, payload, status, attempts,
	created_at, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at`

func scanDelivery(r row, d *oauth.Delivery) error {
	return r.Scan(&d.ID, &d.AppID, &d.PartnerID, &d.StoreID, &d.Event, &d.URL, &d.Payload, &d.Status,
		&d.Attempts, at(&d.CreatedAt), at(&d.NextAttemptAt), at(&d.LastAttemptAt), &d.LastStatus,
		&d.LastError, at(&d.DeliveredAt))
}

func insertDelivery(ctx context.Context, h handle, d *oauth.Delivery) error {
	_, err := h.ExecContext(ctx, `INSERT INTO webhook_outbox (id, app_id, partner_id, store_id, event, url,
		payload, status, attempts, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		d.ID, d.AppID, d.PartnerID, d.StoreID, string(d.Event), d.URL, d.Payload, string(d.Status),
		d.Attempts, unixMicro(d.CreatedAt), unixMicro(d.NextAttemptAt))
	return err
}

// EnqueueDelivery adds a pending delivery; oauth.ErrConflict if its id is
// taken.
func (db *DB) EnqueueDelivery(ctx context.Context, d *oauth.Delivery) error {
	return fail("enqueue delivery "+d.ID, db.write(ctx, func(h handle) error { return insertDelivery(ctx, h, d) }))
}

// Deliveries lists an app's deliveries, newest first, at most limit.
func (db *DB) Deliveries(ctx context.Context, appID string, limit int) ([]oauth.Delivery, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.rd.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_outbox
		WHERE app_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, appID, limit)
	ds, err := collect(rows, err, func(r *sql.Rows, d *oauth.Delivery) error { return scanDelivery(r, d) })
	if err != nil {
		return nil, fail("deliveries", err)
	}
	return ds, nil
}

// ClaimDeliveries leases up to limit due, unleased pending deliveries to
// worker until now+lease, in one statement. On PostgreSQL the candidate
// rows are locked with FOR UPDATE SKIP LOCKED, so concurrent claimers from
// several processes pass over each other's rows instead of queueing on
// them; a row another claimer committed in between is re-checked against
// the lease condition and dropped. SQLite runs one write at a time, so
// there the conditional update alone is the claim. A lease that ends
// without FinishAttempt (the worker died) makes the delivery claimable
// again.
func (db *DB) ClaimDeliveries(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]oauth.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []oauth.Delivery
	err := db.write(ctx, func(h handle) error {
		rows, err := h.QueryContext(ctx, `UPDATE webhook_outbox SET lease_until = $3, leased_by = $2
			WHERE id IN (SELECT id FROM webhook_outbox
				WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
				ORDER BY next_attempt_at, id LIMIT $4`+lock+`)
			RETURNING `+deliveryColumns, now.UnixMicro(), worker, now.Add(lease).UnixMicro(), limit)
		out, err = collect(rows, err, func(r *sql.Rows, d *oauth.Delivery) error { return scanDelivery(r, d) })
		return err
	})
	if err != nil {
		return nil, fail("claim deliveries", err)
	}
	return out, nil
}

// FinishAttempt records an attempt's outcome and releases the lease, if
// worker still holds it; oauth.ErrConflict if it does not.
func (db *DB) FinishAttempt(ctx context.Context, id, worker string, r oauth.AttemptResult) error {
	status, next, delivered := oauth.DeliveryPending, unixMicro(r.Next), any(nil)
	switch {
	case r.Delivered:
		status, next, delivered = oauth.DeliveryDelivered, nil, r.At.UnixMicro()
	case r.Next.IsZero():
		status = oauth.DeliveryFailed
	}
	return fail("finish attempt of "+id, db.write(ctx, func(h handle) error {
		res, err := h.ExecContext(ctx, `UPDATE webhook_outbox SET attempts = attempts + 1,
			last_attempt_at = $3, last_status = $4, last_error = $5, status = $6, next_attempt_at = $7,
			delivered_at = $8, lease_until = NULL, leased_by = ''
			WHERE id = $1 AND leased_by = $2 AND status = 'pending'`,
			id, worker, r.At.UnixMicro(), r.Status, clip(r.Error, 300), string(status), next, delivered)
		if err := mustAffect(res, err); errors.Is(err, oauth.ErrNotFound) {
			return fmt.Errorf("lease lost: %w", oauth.ErrConflict)
		} else if err != nil {
			return err
		}
		return nil
	}))
}

// PruneDeliveries deletes deliveries that ended before the time, and the
// signing secrets of deleted apps that no pending delivery needs.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) error {
	return fail("prune deliveries", db.tx(ctx, func(tx handle) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_outbox
			WHERE status <> 'pending' AND coalesce(delivered_at, last_attempt_at, created_at) < $1`,
			before.UnixMicro()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM webhook_secrets
			WHERE NOT EXISTS (SELECT 1 FROM apps WHERE apps.id = webhook_secrets.app_id)
			AND NOT EXISTS (SELECT 1 FROM webhook_outbox o
				WHERE o.app_id = webhook_secrets.app_id AND o.status = 'pending')`)
		return err
	}))
}

// SetSigningSecret stores an app's sealed signing secret, replacing any.
func (db *DB) SetSigningSecret(ctx context.Context, s *oauth.SigningSecret) error {
	err := db.write(ctx, func(h handle) error {
		var prev []byte
		if len(s.Previous.Data) > 0 {
			prev = s.Previous.Data
		}
		_, err := h.ExecContext(ctx, `INSERT INTO webhook_secrets
		(app_id, key_id, sealed, prev_key_id, prev_sealed, prev_expires, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (app_id) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed,
			prev_key_id = excluded.prev_key_id, prev_sealed = excluded.prev_sealed,
			prev_expires = excluded.prev_expires, updated_at = excluded.updated_at`,
			s.AppID, s.Current.KeyID, s.Current.Data, s.Previous.KeyID, prev, unixMicro(s.PrevExpires),
			unixMicro(s.UpdatedAt))
		return err
	})
	return fail("set signing secret of "+s.AppID, err)
}

// SigningSecret returns an app's signing secret; oauth.ErrNotFound.
func (db *DB) SigningSecret(ctx context.Context, appID string) (*oauth.SigningSecret, error) {
	s := oauth.SigningSecret{AppID: appID}
	err := db.rd.QueryRowContext(ctx, `SELECT key_id, sealed, prev_key_id, prev_sealed, prev_expires, updated_at
		FROM webhook_secrets WHERE app_id = $1`, appID).Scan(&s.Current.KeyID, &s.Current.Data,
		&s.Previous.KeyID, &s.Previous.Data, at(&s.PrevExpires), at(&s.UpdatedAt))
	if err != nil {
		return nil, fail("signing secret of "+appID, err)
	}
	return &s, nil
}

// scopeChange is the read behind grant.scopes_changed: the scopes of the
// newest other active grant of a new grant's app on its store, if the app
// has a webhook at all.
type scopeChange struct {
	step *step
	prev oauth.Scopes
}

// scopeChangeStep reads, within RedeemCode's transaction, what
// enqueueScopeChange compares. The webhook test is a constant subquery,
// evaluated once, so that an app without one reads no grant; the order
// follows the (app_id, store_id, created_at) index.
func scopeChangeStep(g *oauth.Grant) *scopeChange {
	c := &scopeChange{}
	c.step = &step{query: `SELECT scopes FROM grants
		WHERE app_id = $1 AND store_id = $2 AND id <> $3 AND revoked_at IS NULL
			AND EXISTS (SELECT 1 FROM apps WHERE id = $1 AND webhook_url <> '')
		ORDER BY created_at DESC LIMIT 1`, args: []any{g.AppID, g.StoreID, g.ID}, dest: []any{scopes(&c.prev)}}
	return c
}

// enqueueScopeChange enqueues grant.scopes_changed within tx if the read
// found an earlier grant whose scopes differ from the new one's.
func (db *DB) enqueueScopeChange(ctx context.Context, tx handle, g *oauth.Grant, c *scopeChange, now time.Time) error {
	if c.step.n == 0 || c.prev.String() == g.Scopes.String() {
		return nil // a first installation, an app without a webhook, or no change
	}
	return db.enqueueFor(ctx, tx, oauth.WebhookScopesChanged, g.AppID, g.StoreID, map[string]any{
		"grant_id": g.ID, "scopes": g.Scopes.String(), "previous_scopes": c.prev.String(),
	}, now)
}

// enqueueUninstalled enqueues app.uninstalled within tx if the app has a
// webhook URL and no active grant left on the store. reason says why
// ("revoked", "uninstalled", "app_deleted"); who did it comes from the
// actor in ctx, when there is one.
func (db *DB) enqueueUninstalled(ctx context.Context, tx handle, appID, storeID, reason string, now time.Time) error {
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM grants
		WHERE app_id = $1 AND store_id = $2 AND revoked_at IS NULL`, appID, storeID).Scan(&left); err != nil {
		return err
	}
	if left > 0 {
		return nil
	}
	data := map[string]any{"reason": reason}
	if a, ok := oauth.ActorFrom(ctx); ok && a.Kind != "" {
		data["by"] = a.Kind
	}
	return db.enqueueFor(ctx, tx, oauth.WebhookUninstalled, appID, storeID, data, now)
}

// enqueueFor enqueues an event about a store to the app's webhook URL,
// within tx; nothing if the app has none.
func (db *DB) enqueueFor(ctx context.Context, tx handle, ev oauth.WebhookEvent, appID, storeID string, data map[string]any, now time.Time) error {
	app := oauth.App{ID: appID}
	err := tx.QueryRowContext(ctx, `SELECT webhook_url, partner_id FROM apps WHERE id = $1`, appID).
		Scan(&app.WebhookURL, &app.PartnerID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && app.WebhookURL == "") {
		return nil
	}
	if err != nil {
		return err
	}
	st := &oauth.WebhookStore{ID: storeID}
	err = tx.QueryRowContext(ctx, `SELECT name, slug FROM stores WHERE id = $1`, storeID).Scan(&st.Name, &st.Slug)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return insertDelivery(ctx, tx, oauth.NewDelivery(ev, &app, st, data, now))
}

// grantRevoked is RevokeGrant's hook, within its transaction: app.uninstalled
// if the grant was its app's last active one on the store.
func (db *DB) grantRevoked(ctx context.Context, tx handle, grantID string, now time.Time) error {
	var appID, storeID string
	err := tx.QueryRowContext(ctx, `SELECT app_id, store_id FROM grants WHERE id = $1`, grantID).Scan(&appID, &storeID)
	if err != nil {
		return err
	}
	return db.enqueueUninstalled(ctx, tx, appID, storeID, "revoked", now)
}

// appDeleting is DeleteApp's hook, within its transaction and before the
// delete: app.uninstalled to every store the app has an active grant on.
func (db *DB) appDeleting(ctx context.Context, tx handle, appID string, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT store_id FROM grants
		WHERE app_id = $1 AND revoked_at IS NULL ORDER BY store_id`, appID)
	stores, err := collect(rows, err, func(r *sql.Rows, id *string) error { return r.Scan(id) })
	if err != nil {
		return err
	}
	for _, s := range stores {
		if err := db.enqueueFor(ctx, tx, oauth.WebhookUninstalled, appID, s, map[string]any{"reason": "app_deleted"}, now); err != nil {
			return err
		}
	}
	return nil
}
