package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// RebindGrant redeems c for the existing grant g (redeemCodeStep) and
// rebinds g and its tokens to g's scopes and bound resources, in one
// transaction, logging a revocation entry for g so that validation caches
// drop their copies. Another caller having redeemed the code first gives
// oauth.ErrConflict, and a code whose user may no longer connect apps to
// its store oauth.ErrNotFound; either writes nothing.
func (db *DB) RebindGrant(ctx context.Context, c *oauth.Code, now time.Time, g *oauth.Grant) error {
	err := db.tx(ctx, func(tx handle) error {
		redeem := redeemCodeStep(c, now, g.ID, "")
		res, err := tx.ExecContext(ctx, redeem.query, redeem.args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errCodeRefused
		}
		if err := mustAffect(tx.ExecContext(ctx, `UPDATE grants SET scopes = $2, user_id = $3,
			location_id = $4, catalog_id = $5, customer_list_id = $6, device_id = $7
			WHERE id = $1 AND revoked_at IS NULL`,
			g.ID, g.Scopes.String(), g.UserID, g.Bound.LocationID, g.Bound.CatalogID, g.Bound.CustomerListID, g.Bound.DeviceID)); err != nil {
			return fmt.Errorf("grant revoked meanwhile: %w", oauth.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET scopes = $2 WHERE grant_id = $1 AND kind = 'access'`,
			g.ID, g.Scopes.String()); err != nil {
			return err
		}
		return db.logRevocation(ctx, tx, oauth.Revocation{GrantID: g.ID, At: now})
	})
	if errors.Is(err, errCodeRefused) {
		err = db.codeRefused(ctx, c.Hash)
	}
	return fail("rebind grant "+g.ID, err)
}
