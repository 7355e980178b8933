package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

const appColumns = `id, name, logo_url, developer, redirect_uris, scopes, public,
	secret_hash, prev_secret, prev_expires, profile, access_ttl, refresh_ttl,
	no_refresh, partner_id, webhook_url, created_at, updated_at`

func scanApp(r row) (*oauth.App, error) {
	var (
		a        oauth.App
		uris     uriList
		acc, ref int64
	)
	err := r.Scan(&a.ID, &a.Name, &a.LogoURL, &a.Developer, &uris, scopes(&a.Scopes), &a.Public,
		&a.SecretHash, &a.PrevSecret, at(&a.PrevExpires), &a.Profile, &acc, &ref,
		&a.NoRefresh, &a.PartnerID, &a.WebhookURL, at(&a.CreatedAt), at(&a.UpdatedAt))
	if err != nil {
		return nil, err
	}
	a.RedirectURIs = uris
	a.AccessTTL, a.RefreshTTL = time.Duration(acc), time.Duration(ref)
	return &a, nil
}

// CreateApp stores a new app; oauth.ErrConflict if the id is taken.
func (db *DB) CreateApp(ctx context.Context, a *oauth.App) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO apps (`+appColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			a.ID, a.Name, a.LogoURL, a.Developer, uriList(a.RedirectURIs), a.Scopes.String(), a.Public,
			a.SecretHash, a.PrevSecret, unixMicro(a.PrevExpires), a.Profile, int64(a.AccessTTL), int64(a.RefreshTTL),
			a.NoRefresh, a.PartnerID, a.WebhookURL, unixMicro(a.CreatedAt), unixMicro(a.UpdatedAt))
		return err
	})
	return fail("create app "+a.ID, err)
}

// App returns the app with the id; oauth.ErrNotFound if there is none.
func (db *DB) App(ctx context.Context, id string) (*oauth.App, error) {
	a, err := scanApp(db.rd.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, id))
	if err != nil {
		return nil, fail("app "+id, err)
	}
	return a, nil
}

// Apps lists apps, those of one partner when partnerID is not empty, oldest
// first.
func (db *DB) Apps(ctx context.Context, partnerID string) ([]*oauth.App, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if partnerID == "" {
		rows, err = db.rd.QueryContext(ctx, `SELECT `+appColumns+` FROM apps ORDER BY created_at, id`)
	} else {
		rows, err = db.rd.QueryContext(ctx, `SELECT `+appColumns+` FROM apps
			WHERE partner_id = $1 ORDER BY created_at, id`, partnerID)
	}
	apps, err := collect(rows, err, func(r *sql.Rows, a **oauth.App) (err error) {
		*a, err = scanApp(r)
		return err
	})
	if err != nil {
		return nil, fail("apps", err)
	}
	return apps, nil
}

// UpdateApp overwrites an app's fields, all but its id and creation time,
// and logs an entry for the app in the revocation log in the same
// transaction, so that every process drops its cached copy (a retired
// secret stops working at once); oauth.ErrNotFound if it does not exist.
func (db *DB) UpdateApp(ctx context.Context, a *oauth.App) error {
	return fail("update app "+a.ID, db.tx(ctx, func(tx handle) error {
		err := mustAffect(tx.ExecContext(ctx, `UPDATE apps SET
		name = $2, logo_url = $3, developer = $4, redirect_uris = $5, scopes = $6, public = $7,
		secret_hash = $8, prev_secret = $9, prev_expires = $10, profile = $11, access_ttl = $12,
		refresh_ttl = $13, no_refresh = $14, partner_id = $15, webhook_url = $16, updated_at = $17
		WHERE id = $1`,
			a.ID, a.Name, a.LogoURL, a.Developer, uriList(a.RedirectURIs), a.Scopes.String(), a.Public,
			a.SecretHash, a.PrevSecret, unixMicro(a.PrevExpires), a.Profile, int64(a.AccessTTL), int64(a.RefreshTTL),
			a.NoRefresh, a.PartnerID, a.WebhookURL, unixMicro(a.UpdatedAt)))
		if err != nil {
			return err
		}
		at := a.UpdatedAt
		if at.IsZero() {
			at = time.Now().UTC().Truncate(time.Microsecond)
		}
		return db.logRevocation(ctx, tx, oauth.Revocation{AppID: a.ID, At: at})
	}))
}

// DeleteApp deletes an app with its codes, grants and tokens (the foreign
// keys cascade), and logs a revocation of the app, in one transaction with
// the app.uninstalled webhooks to every store it was installed on;
// oauth.ErrNotFound if it does not exist.
func (db *DB) DeleteApp(ctx context.Context, id string, now time.Time) error {
	return fail("delete app "+id, db.tx(ctx, func(tx handle) error {
		if err := db.appDeleting(ctx, tx, id, now); err != nil {
			return err
		}
		// On PostgreSQL no foreign key cascades from the app (migration
		// 00006): its codes, grants (and with them their tokens) and
		// app-level tokens go here.
		for _, q := range []string{
			`DELETE FROM tokens WHERE app_id = $1`,
			`DELETE FROM grants WHERE app_id = $1`,
			`DELETE FROM codes WHERE app_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if err := mustAffect(tx.ExecContext(ctx, `DELETE FROM apps WHERE id = $1`, id)); err != nil {
			return err
		}
		return db.logRevocation(ctx, tx, oauth.Revocation{AppID: id, At: now})
	}))
}
