package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

//nolint:gosec // G101: the columns of the tokens table, not a credential.
const tokenColumns = `hash, kind, grant_id, app_id, store_id, user_id, scopes, generation,
	created_at, expires_at, revoked_at`

// tokenSteps are the statements that store tokens: an access and a
// refresh token, the usual pair, in one statement; any other number one by
// one.
func tokenSteps(tokens []*oauth.Token) []*step {
	if len(tokens) != 2 {
		steps := make([]*step, 0, len(tokens))
		for _, t := range tokens {
			steps = append(steps, tokenStep(t))
		}
		return steps
	}
	a, r := tokens[0], tokens[1]
	return []*step{{query: `INSERT INTO tokens (` + tokenColumns + `) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11),
		($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		args: []any{a.Hash, string(a.Kind), optional(a.GrantID), a.AppID, optional(a.StoreID), a.UserID, a.Scopes.String(),
			a.Generation, unixMicro(a.CreatedAt), unixMicro(a.ExpiresAt), unixMicro(a.RevokedAt),
			r.Hash, string(r.Kind), optional(r.GrantID), r.AppID, optional(r.StoreID), r.UserID, r.Scopes.String(),
			r.Generation, unixMicro(r.CreatedAt), unixMicro(r.ExpiresAt), unixMicro(r.RevokedAt)}}}
}

func tokenStep(t *oauth.Token) *step {
	return tokenStepIf(t, `EXISTS (SELECT 1 FROM apps WHERE id = $4)`)
}

// tokenStepIf stores one token if cond, SQL over the token's parameters
// ($3 its grant, $4 its app), holds.
func tokenStepIf(t *oauth.Token, cond string) *step {
	return &step{query: `INSERT INTO tokens (` + tokenColumns + `)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE ` + cond,
		args: []any{t.Hash, string(t.Kind), optional(t.GrantID), t.AppID, optional(t.StoreID), t.UserID, t.Scopes.String(),
			t.Generation, unixMicro(t.CreatedAt), unixMicro(t.ExpiresAt), unixMicro(t.RevokedAt)}}
}

// CreateToken stores a token outside any rotation (app-level tokens);
// oauth.ErrConflict if the hash is taken, oauth.ErrNotFound if its app or
// grant does not exist.
func (db *DB) CreateToken(ctx context.Context, t *oauth.Token) error {
	s := tokenStep(t)
	return tokenCreated(t, s, db.writeStep(ctx, s))
}

// tokenCreated is CreateToken's answer once s, t's insert, ran with err.
func tokenCreated(t *oauth.Token, s *step, err error) error {
	if err == nil && s.n == 0 {
		err = fmt.Errorf("no app %q: %w", t.AppID, oauth.ErrNotFound)
	}
	return fail("create token", err)
}

// TokenInfo returns a token by hash joined with its grant, in one statement;
// oauth.ErrNotFound.
func (db *DB) TokenInfo(ctx context.Context, hash []byte) (*oauth.TokenInfo, error) {
	var (
		ti       oauth.TokenInfo
		t        = &ti.Token
		g        oauth.Grant
		gen      sql.NullInt64
		succUsed sql.NullBool
	)
	err := db.rd.QueryRowContext(ctx, `SELECT
		t.hash, t.kind, t.grant_id, t.app_id, t.store_id, t.user_id, t.scopes, t.generation,
		t.created_at, t.expires_at, t.revoked_at,
		g.id, g.app_id, g.store_id, g.user_id, g.scopes, g.location_id, g.catalog_id,
		g.customer_list_id, g.device_id, g.generation, g.key_id, g.rotated_at, g.successor_used,
		g.created_at, g.last_used_at, g.revoked_at
		FROM tokens t JOIN apps a ON a.id = t.app_id LEFT JOIN grants g ON g.id = t.grant_id
		WHERE t.hash = $1`, hash).Scan(
		&t.Hash, &t.Kind, text(&t.GrantID), &t.AppID, text(&t.StoreID), &t.UserID, scopes(&t.Scopes), &t.Generation,
		at(&t.CreatedAt), at(&t.ExpiresAt), at(&t.RevokedAt),
		text(&g.ID), text(&g.AppID), text(&g.StoreID), text(&g.UserID), scopes(&g.Scopes), text(&g.Bound.LocationID),
		text(&g.Bound.CatalogID), text(&g.Bound.CustomerListID), text(&g.Bound.DeviceID), &gen, text(&g.KeyID),
		at(&g.RotatedAt), &succUsed, at(&g.CreatedAt), at(&g.LastUsedAt), at(&g.RevokedAt))
	if err != nil {
		return nil, fail("token", err)
	}
	if g.ID != "" {
		g.Generation, g.SuccessorUsed = gen.Int64, succUsed.Bool
		ti.Grant = &g
	}
	return &ti, nil
}

// RevokeToken revokes one token and logs the revocation, in one
// transaction. Revoking a revoked token is not an error and logs nothing;
// oauth.ErrNotFound if there is no such token.
func (db *DB) RevokeToken(ctx context.Context, hash []byte, now time.Time) error {
	return fail("revoke token", db.tx(ctx, func(tx handle) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = $2
			WHERE hash = $1 AND revoked_at IS NULL`, hash, now.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var one int
			return tx.QueryRowContext(ctx, `SELECT 1 FROM tokens WHERE hash = $1`, hash).Scan(&one)
		}
		return db.logRevocation(ctx, tx, oauth.Revocation{TokenHash: hash, At: now})
	}))
}

// logRevocation appends r to the revocation log within tx.
//
// A follower reads the log by seq and remembers the highest seq it has seen,
// so a row must never become visible after a row with a higher seq. SQLite
// runs one write transaction at a time, which guarantees that. PostgreSQL
// hands out identity values when rows are inserted, not when transactions
// commit: two revoking transactions could commit out of seq order and a
// follower could skip the lower seq forever. Locking the table against other
// writers (readers are not blocked) until commit makes seq order commit
// order. Revocations are rare, so serialising them costs nothing that shows.
// The lock is taken last in every transaction that takes it, after the
// transaction's row locks, and nothing is locked after it, so it cannot
// deadlock.
func (db *DB) logRevocation(ctx context.Context, tx handle, r oauth.Revocation) error {
	if db.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE revocations IN EXCLUSIVE MODE`); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO revocations (grant_id, app_id, token_hash, at)
		VALUES ($1, $2, $3, $4)`, optional(r.GrantID), optional(r.AppID), r.TokenHash, unixMicro(r.At))
	return err
}

// Revocations returns the revocation log entries with Seq > after, in
// order, at most limit of them (none if limit is not positive).
func (db *DB) Revocations(ctx context.Context, after int64, limit int) ([]oauth.Revocation, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.rd.QueryContext(ctx, `SELECT seq, grant_id, app_id, token_hash, at
		FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	revs, err := collect(rows, err, func(r *sql.Rows, v *oauth.Revocation) error {
		return r.Scan(&v.Seq, text(&v.GrantID), text(&v.AppID), &v.TokenHash, at(&v.At))
	})
	if err != nil {
		return nil, fail("revocations", err)
	}
	return revs, nil
}

// Keys returns the server keys, oldest first.
func (db *DB) Keys(ctx context.Context) ([]oauth.Key, error) {
	rows, err := db.rd.QueryContext(ctx, `SELECT id, secret, created_at FROM server_keys ORDER BY created_at, id`)
	keys, err := collect(rows, err, func(r *sql.Rows, k *oauth.Key) error {
		return r.Scan(&k.ID, &k.Secret, at(&k.CreatedAt))
	})
	if err != nil {
		return nil, fail("keys", err)
	}
	return keys, nil
}

// AddKey stores a server key; adding an existing id is not an error and
// keeps the stored secret, so that processes starting together can each
// offer a key and all end up with the same one.
func (db *DB) AddKey(ctx context.Context, k oauth.Key) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO server_keys (id, secret, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, k.ID, k.Secret, unixMicro(k.CreatedAt))
		return err
	})
	return fail("add key "+k.ID, err)
}
