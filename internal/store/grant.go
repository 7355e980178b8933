package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

const codeColumns = `hash, app_id, store_id, user_id, redirect_uri, scopes, challenge,
	challenge_method, location_id, catalog_id, customer_list_id, device_id,
	created_at, expires_at, used_at, grant_id`

// CreateCode stores an unused authorization code (the out-of-band kind:
// sealed codes are stored when redeemed) if its user is an owner or admin
// of its store; oauth.ErrConflict if the hash is taken, oauth.ErrNotFound if
// the app does not exist or the user may not connect apps to the store.
func (db *DB) CreateCode(ctx context.Context, c *oauth.Code) error {
	// The membership check and the insert are one statement: a merchant
	// removed from the store, or demoted, a moment before cannot slip a
	// code in between a check and the write.
	err := db.write(ctx, func(h handle) error {
		res, err := h.ExecContext(ctx, `INSERT INTO codes (`+codeColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
		WHERE EXISTS (SELECT 1 FROM members WHERE user_id = $4 AND store_id = $3 AND role IN ($17, $18))
			AND EXISTS (SELECT 1 FROM apps WHERE id = $2)`,
			codeArgs(c, unixMicro(c.UsedAt), optional(c.GrantID))...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("no such app, or the user may not connect apps to the store: %w", oauth.ErrNotFound)
		}
		return nil
	})
	return fail("create code", err)
}

// codeArgs are the parameters of an insert of c with codeColumns ($1-$16,
// with usedAt and grantID as the last two) and the roles that may connect
// apps to a store ($17, $18).
func codeArgs(c *oauth.Code, usedAt, grantID any) []any {
	return []any{c.Hash, c.AppID, c.StoreID, c.UserID, c.RedirectURI, c.Scopes.String(), c.Challenge,
		c.ChallengeMethod, c.Bound.LocationID, c.Bound.CatalogID, c.Bound.CustomerListID, c.Bound.DeviceID,
		unixMicro(c.CreatedAt), unixMicro(c.ExpiresAt), usedAt, grantID,
		string(oauth.RoleOwner), string(oauth.RoleAdmin)}
}

// Code returns a stored code by hash, used or not; oauth.ErrNotFound.
func (db *DB) Code(ctx context.Context, hash []byte) (*oauth.Code, error) {
	var c oauth.Code
	err := db.rd.QueryRowContext(ctx, `SELECT `+codeColumns+` FROM codes WHERE hash = $1`, hash).Scan(
		&c.Hash, &c.AppID, &c.StoreID, &c.UserID, &c.RedirectURI, scopes(&c.Scopes), &c.Challenge,
		&c.ChallengeMethod, &c.Bound.LocationID, &c.Bound.CatalogID, &c.Bound.CustomerListID, &c.Bound.DeviceID,
		at(&c.CreatedAt), at(&c.ExpiresAt), at(&c.UsedAt), text(&c.GrantID))
	if err != nil {
		return nil, fail("code", err)
	}
	return &c, nil
}

// RedeemCode stores c as used at now by g, and stores g and its tokens, in
// one transaction. The code's redemption is the first statement
// (redeemCodeStep): concurrent redeemers queue on the code's primary key (or
// on SQLite's write lock) and all but the first find it used. They get
// oauth.ErrConflict and write nothing; so, with oauth.ErrNotFound, does a
// code whose approval no longer holds (redeemCodeStep). RedeemCode does
// not check the code's expiry or bindings; the caller has checked them.
//
// On PostgreSQL it first tries redeemSteps, which does all of that in one
// round trip when SQL alone can decide it; SQLite, in process, has no
// round trips to save.
func (db *DB) RedeemCode(ctx context.Context, c *oauth.Code, now time.Time, g *oauth.Grant, tokens []*oauth.Token) error {
	if db.dialect == Postgres {
		err := db.pipelineTx(ctx, redeemSteps(c, now, g, tokens), nil)
		if !errors.Is(err, errNotQuick) {
			return fail("redeem code", err)
		}
	}
	// The step's orFail rolls back the grant and tokens queued behind it.
	steps := []*step{redeemCodeStep(c, now, g.ID, ""), grantStep(g)}
	steps = append(steps, tokenSteps(tokens)...)
	// The app's partner hears of a change of scopes on the store in the
	// same transaction (grant.scopes_changed), so that no crash loses it.
	change := scopeChangeStep(g)
	steps = append(steps, change.step)
	err := db.pipelineTx(ctx, steps, func(tx handle) error {
		return db.enqueueScopeChange(ctx, tx, g, change, now)
	})
	if errors.Is(err, errCodeRefused) {
		err = db.codeRefused(ctx, c.Hash)
	}
	return fail("redeem code", err)
}

// errCodeRefused is redeemCodeStep's orFail: the code was redeemed before,
// or its user may no longer connect apps to its store; codeRefused tells
// which.
var errCodeRefused = errors.New("store: code not redeemed")

// redeemCodeStep stores c as used by grantID: it inserts the code (a sealed
// one, which the database sees for the first time) or marks the stored one
// (out of band) used, if the code's user is still an owner or admin of its
// store, its app exists, the session that approved a sealed code still
// exists, and cond holds: SQL in which %[1]d stands for the number of the
// first of the extra parameters. It affects no row when the code was
// redeemed before: its primary key lets one redemption win.
func redeemCodeStep(c *oauth.Code, now time.Time, grantID, cond string, extra ...any) *step {
	args := codeArgs(c, now.UnixMicro(), grantID)
	var also string
	if c.SessionHash != nil {
		args = append(args, c.SessionHash)
		also = fmt.Sprintf(" AND EXISTS (SELECT 1 FROM sessions WHERE hash = $%d AND user_id = $4)", len(args))
	}
	if cond != "" {
		also += " AND " + fmt.Sprintf(cond, len(args)+1)
		args = append(args, extra...)
	}
	return &step{
		query: `INSERT INTO codes (` + codeColumns + `)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
		WHERE EXISTS (SELECT 1 FROM members WHERE user_id = $4 AND store_id = $3 AND role IN ($17, $18))
			AND EXISTS (SELECT 1 FROM apps WHERE id = $2)` + also + `
		ON CONFLICT (hash) DO UPDATE SET used_at = excluded.used_at, grant_id = excluded.grant_id
			WHERE codes.used_at IS NULL`,
		args:   args,
		orFail: errCodeRefused,
	}
}

// codeRefused tells why a code's redemption matched nothing:
// oauth.ErrConflict if it was redeemed before, else oauth.ErrNotFound (its
// user may no longer connect apps to its store or signed out of the session
// that approved it, or its app is gone).
func (db *DB) codeRefused(ctx context.Context, hash []byte) error {
	c, err := db.Code(ctx, hash)
	switch {
	case err == nil && !c.UsedAt.IsZero():
		return fmt.Errorf("code already used: %w", oauth.ErrConflict)
	case err == nil || errors.Is(err, oauth.ErrNotFound):
		return fmt.Errorf("the code's approval no longer holds, or its app is gone: %w", oauth.ErrNotFound)
	}
	return err
}

// errNotQuick is redeemSteps' answer when its first step matched nothing:
// the code was redeemed before, or its user may no longer connect apps to
// its store, or the redemption changes the scopes an app with a webhook
// holds on the store. RedeemCode then takes its general path, which tells
// them apart.
var errNotQuick = errors.New("store: not a quick redemption")

// redeemSteps is RedeemCode in one round trip to PostgreSQL: BEGIN, the
// steps and COMMIT in one batch, where the general path needs a second
// round trip for COMMIT, because Go must first see whether the code was
// redeemed (and otherwise roll back the grant and tokens queued behind it)
// and whether grant.scopes_changed is due. Here SQL decides both:
//
//   - the code's redemption also requires that no scopes_changed is due:
//     the app has no webhook URL, or no active grant on the store, or the
//     same scopes in its newest one (what scopeChangeStep reads, taken
//     before the new grant exists rather than after, within the same
//     transaction);
//   - the grant is inserted only if the code now names it, and each token
//     only if its grant exists, so that when the redemption matched nothing
//     COMMIT commits nothing, and RedeemCode goes on to its general path.
//
// Two redemptions of one code at once: the second's insert waits for the
// first's transaction on the code's primary key, then finds the code used
// and matches nothing; its grant and tokens are skipped, and its general
// path answers ErrConflict.
func redeemSteps(c *oauth.Code, now time.Time, g *oauth.Grant, tokens []*oauth.Token) []*step {
	redeem := redeemCodeStep(c, now, g.ID, `NOT EXISTS (SELECT 1 FROM apps a WHERE a.id = $2 AND a.webhook_url <> ''
				AND (SELECT p.scopes FROM grants p
					WHERE p.app_id = $2 AND p.store_id = $3 AND p.revoked_at IS NULL
					ORDER BY p.created_at DESC LIMIT 1) <> $%[1]d)`, g.Scopes.String())
	redeem.orFail, redeem.guarded = errNotQuick, true
	steps := []*step{redeem}
	gs := grantStep(g)
	gs.query = `INSERT INTO grants (` + grantColumns + `)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
		WHERE EXISTS (SELECT 1 FROM codes WHERE hash = $17 AND grant_id = $1)`
	gs.args = append(gs.args, c.Hash)
	steps = append(steps, gs)
	for _, t := range tokens {
		steps = append(steps, tokenStepIf(t, `EXISTS (SELECT 1 FROM grants WHERE id = $3)`))
	}
	return steps
}

const grantColumns = `id, app_id, store_id, user_id, scopes, location_id, catalog_id,
	customer_list_id, device_id, generation, key_id, rotated_at, successor_used,
	created_at, last_used_at, revoked_at`

func grantStep(g *oauth.Grant) *step {
	return &step{query: `INSERT INTO grants (` + grantColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		args: []any{g.ID, g.AppID, g.StoreID, g.UserID, g.Scopes.String(), g.Bound.LocationID, g.Bound.CatalogID,
			g.Bound.CustomerListID, g.Bound.DeviceID, g.Generation, g.KeyID, unixMicro(g.RotatedAt), g.SuccessorUsed,
			unixMicro(g.CreatedAt), unixMicro(g.LastUsedAt), unixMicro(g.RevokedAt)}}
}

func scanGrant(r row) (*oauth.Grant, error) {
	var g oauth.Grant
	err := r.Scan(&g.ID, &g.AppID, &g.StoreID, &g.UserID, scopes(&g.Scopes), &g.Bound.LocationID,
		&g.Bound.CatalogID, &g.Bound.CustomerListID, &g.Bound.DeviceID, &g.Generation, &g.KeyID,
		at(&g.RotatedAt), &g.SuccessorUsed, at(&g.CreatedAt), at(&g.LastUsedAt), at(&g.RevokedAt))
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// Grant returns a grant by id; oauth.ErrNotFound.
func (db *DB) Grant(ctx context.Context, id string) (*oauth.Grant, error) {
	g, err := scanGrant(db.rd.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id))
	if err != nil {
		return nil, fail("grant "+id, err)
	}
	return g, nil
}

// Grants lists grants matching the filter, newest first.
func (db *DB) Grants(ctx context.Context, f oauth.GrantFilter) ([]*oauth.Grant, error) {
	// The conditions are added only when set, rather than written as
	// ($1 = '' OR app_id = $1), so that SQLite's planner, which plans before
	// it sees the parameters, can use the indexes.
	var (
		where []string
		args  []any
	)
	if f.AppID != "" {
		args = append(args, f.AppID)
		where = append(where, fmt.Sprintf("app_id = $%d", len(args)))
	}
	if f.StoreID != "" {
		args = append(args, f.StoreID)
		where = append(where, fmt.Sprintf("store_id = $%d", len(args)))
	}
	if !f.IncludeRevoked {
		where = append(where, "revoked_at IS NULL")
	}
	q := `SELECT ` + grantColumns + ` FROM grants`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		// A constant, not a parameter: PostgreSQL plans a prepared
		// statement once for all parameters after a few runs, and a
		// parameter's LIMIT may be any size, which can make it prefer a
		// sort of every matching grant to the index's order.
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.rd.QueryContext(ctx, q, args...)
	grants, err := collect(rows, err, func(r *sql.Rows, g **oauth.Grant) (err error) {
		*g, err = scanGrant(r)
		return err
	})
	if err != nil {
		return nil, fail("grants", err)
	}
	return grants, nil
}

// GrantedScopes returns the distinct scope sets of the app's newest active
// grants on the store, at most limit grants read (none if limit is not
// positive). Each set comes once, in no particular order: a merchant who
// keeps granting the same scopes costs one short row, not limit wide ones.
func (db *DB) GrantedScopes(ctx context.Context, appID, storeID string, limit int) ([]oauth.Scopes, error) {
	if limit <= 0 {
		return nil, nil
	}
	// The limit is a constant for the reason Grants gives; the inner query
	// walks the (app_id, store_id, created_at) index backwards.
	rows, err := db.rd.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT scopes FROM (
		SELECT scopes FROM grants WHERE app_id = $1 AND store_id = $2 AND revoked_at IS NULL
		ORDER BY created_at DESC, id DESC LIMIT %d) AS newest`, limit), appID, storeID)
	sets, err := collect(rows, err, func(r *sql.Rows, sc *oauth.Scopes) error { return r.Scan(scopes(sc)) })
	if err != nil {
		return nil, fail("granted scopes", err)
	}
	return sets, nil
}

// RotateGrant advances the grant's generation from `from` to from+1,
// records now as its rotation time and keyID as its key, clears
// SuccessorUsed, and stores the new generation's tokens, in one transaction.
// The conditional update comes first, so only one of concurrent rotations
// from the same generation can win; if the grant is revoked, missing, or no
// longer at generation `from`, RotateGrant returns oauth.ErrConflict and
// writes nothing. The tokens of earlier generations are kept, so that a
// replayed refresh token can be recognised.
func (db *DB) RotateGrant(ctx context.Context, grantID string, from int64, now time.Time, keyID string, tokens []*oauth.Token) error {
	// The tokens are queued behind the update in one round trip. A loser
	// of concurrent rotations finds the generation moved on (orFail), or,
	// on PostgreSQL, where the batch goes on, finds the same derived token
	// hashes already stored: oauth.ErrConflict either way, nothing written.
	steps := append([]*step{{
		query: `UPDATE grants
			SET generation = generation + 1, rotated_at = $3, key_id = $4, successor_used = FALSE
			WHERE id = $1 AND generation = $2 AND revoked_at IS NULL`,
		args:   []any{grantID, from, now.UnixMicro(), keyID},
		orFail: fmt.Errorf("grant revoked or not at generation %d: %w", from, oauth.ErrConflict),
	}}, tokenSteps(tokens)...)
	return fail("rotate grant "+grantID, db.pipelineTx(ctx, steps, nil))
}

// MarkGrantUsed records that a token of generation gen was used at now: it
// moves LastUsedAt forward to now (never back, so late writers cannot undo
// a later use), and sets SuccessorUsed if gen is still current;
// oauth.ErrNotFound if there is no such grant.
func (db *DB) MarkGrantUsed(ctx context.Context, grantID string, gen int64, now time.Time) error {
	return fail("mark grant used "+grantID, db.write(ctx, func(h handle) error {
		return mustAffect(h.ExecContext(ctx, `UPDATE grants SET
		last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $3 THEN $3 ELSE last_used_at END,
		successor_used = CASE WHEN generation = $2 THEN TRUE ELSE successor_used END
		WHERE id = $1`, grantID, gen, now.UnixMicro()))
	}))
}

// RevokeGrant revokes a grant, and so every token issued under it, and logs
// the revocation, in one transaction, with the app.uninstalled webhook if
// it was the app's last active grant on the store. Revoking a revoked grant is not an
// error and logs nothing; oauth.ErrNotFound if there is no such grant.
func (db *DB) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	return fail("revoke grant "+id, db.tx(ctx, func(tx handle) error {
		res, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = $2
			WHERE id = $1 AND revoked_at IS NULL`, id, now.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var one int
			return tx.QueryRowContext(ctx, `SELECT 1 FROM grants WHERE id = $1`, id).Scan(&one)
		}
		if err := db.grantRevoked(ctx, tx, id, now); err != nil {
			return err
		}
		return db.logRevocation(ctx, tx, oauth.Revocation{GrantID: id, At: now})
	}))
}

// RevokeGrants revokes every active grant of an app on a store (an
// uninstall), logging each and enqueueing the app.uninstalled webhook, in
// one transaction, and returns how many it revoked.
func (db *DB) RevokeGrants(ctx context.Context, appID, storeID string, now time.Time) (int, error) {
	var n int
	err := db.tx(ctx, func(tx handle) error {
		rows, err := tx.QueryContext(ctx, `UPDATE grants SET revoked_at = $3
			WHERE app_id = $1 AND store_id = $2 AND revoked_at IS NULL
			RETURNING id`, appID, storeID, now.UnixMicro())
		ids, err := collect(rows, err, func(r *sql.Rows, id *string) error { return r.Scan(id) })
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			if err := db.enqueueUninstalled(ctx, tx, appID, storeID, "uninstalled", now); err != nil {
				return err
			}
		}
		// Log in id order, so that the log reads the same on every run.
		slices.Sort(ids)
		for _, id := range ids {
			if err := db.logRevocation(ctx, tx, oauth.Revocation{GrantID: id, At: now}); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fail("revoke grants", err)
	}
	return n, nil
}
