package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

const userColumns = `id, email, name, password_hash, created_at`

func scanUser(r row) (*oauth.User, error) {
	var u oauth.User
	if err := r.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, at(&u.CreatedAt)); err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser stores a merchant; oauth.ErrConflict if the id or the email
// (compared case-insensitively) is taken. The email is kept as given.
func (db *DB) CreateUser(ctx context.Context, u *oauth.User) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			u.ID, u.Email, u.Name, u.PasswordHash, unixMicro(u.CreatedAt))
		return err
	})
	return fail("create user "+u.ID, err)
}

// User returns a merchant by id; oauth.ErrNotFound.
func (db *DB) User(ctx context.Context, id string) (*oauth.User, error) {
	u, err := scanUser(db.rd.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fail("user "+id, err)
	}
	return u, nil
}

// UserByEmail returns a merchant by email, compared case-insensitively (ASCII
// case folding, on both dialects); oauth.ErrNotFound.
func (db *DB) UserByEmail(ctx context.Context, email string) (*oauth.User, error) {
	u, err := scanUser(db.rd.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return nil, fail("user by email", err)
	}
	return u, nil
}

const storeColumns = `id, name, slug, created_at`

// CreateStore stores a store and makes ownerID its owner, in one
// transaction; oauth.ErrConflict if the id or the slug is taken,
// oauth.ErrNotFound if there is no such user.
func (db *DB) CreateStore(ctx context.Context, s *oauth.Store, ownerID string) error {
	return fail("create store "+s.ID, db.tx(ctx, func(tx handle) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO stores (`+storeColumns+`) VALUES ($1, $2, $3, $4)`,
			s.ID, s.Name, s.Slug, unixMicro(s.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO members (user_id, store_id, role) VALUES ($1, $2, $3)`,
			ownerID, s.ID, string(oauth.RoleOwner))
		return err
	}))
}

func scanStore(r row) (*oauth.Store, error) {
	var s oauth.Store
	if err := r.Scan(&s.ID, &s.Name, &s.Slug, at(&s.CreatedAt)); err != nil {
		return nil, err
	}
	return &s, nil
}

// Store returns a store by id; oauth.ErrNotFound.
func (db *DB) Store(ctx context.Context, id string) (*oauth.Store, error) {
	s, err := scanStore(db.rd.QueryRowContext(ctx, `SELECT `+storeColumns+` FROM stores WHERE id = $1`, id))
	if err != nil {
		return nil, fail("store "+id, err)
	}
	return s, nil
}

// StoreBySlug returns a store by slug, compared exactly; oauth.ErrNotFound.
func (db *DB) StoreBySlug(ctx context.Context, slug string) (*oauth.Store, error) {
	s, err := scanStore(db.rd.QueryRowContext(ctx, `SELECT `+storeColumns+` FROM stores WHERE slug = $1`, slug))
	if err != nil {
		return nil, fail("store by slug "+slug, err)
	}
	return s, nil
}

// AddMember gives a user a role in a store, replacing any earlier role;
// oauth.ErrNotFound if the store or the user does not exist.
func (db *DB) AddMember(ctx context.Context, storeID, userID string, role oauth.Role) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO members (user_id, store_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, store_id) DO UPDATE SET role = excluded.role`,
			userID, storeID, string(role))
		return err
	})
	return fail("add member", err)
}

// Memberships lists the stores a user belongs to, by store name (ASCII
// case-insensitively, then bytewise).
func (db *DB) Memberships(ctx context.Context, userID string) ([]oauth.Membership, error) {
	rows, err := db.rd.QueryContext(ctx, `SELECT s.id, s.name, s.slug, s.created_at, m.role
		FROM members m JOIN stores s ON s.id = m.store_id
		WHERE m.user_id = $1
		ORDER BY lower(s.name), s.name, s.id`, userID)
	ms, err := collect(rows, err, func(r *sql.Rows, m *oauth.Membership) error {
		return r.Scan(&m.Store.ID, &m.Store.Name, &m.Store.Slug, at(&m.Store.CreatedAt), &m.Role)
	})
	if err != nil {
		return nil, fail("memberships", err)
	}
	return ms, nil
}

// CreateLocation stores a location of a store; oauth.ErrConflict if the id
// is taken, oauth.ErrNotFound if the store does not exist.
func (db *DB) CreateLocation(ctx context.Context, l *oauth.Location) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO locations (id, store_id, name) VALUES ($1, $2, $3)`,
			l.ID, l.StoreID, l.Name)
		return err
	})
	return fail("create location "+l.ID, err)
}

// Locations lists a store's locations, by name (ASCII case-insensitively,
// then bytewise).
func (db *DB) Locations(ctx context.Context, storeID string) ([]oauth.Location, error) {
	rows, err := db.rd.QueryContext(ctx, `SELECT id, store_id, name FROM locations
		WHERE store_id = $1 ORDER BY lower(name), name, id`, storeID)
	ls, err := collect(rows, err, func(r *sql.Rows, l *oauth.Location) error {
		return r.Scan(&l.ID, &l.StoreID, &l.Name)
	})
	if err != nil {
		return nil, fail("locations", err)
	}
	return ls, nil
}

// CreateSession stores a browser session; oauth.ErrConflict if the hash is
// taken.
func (db *DB) CreateSession(ctx context.Context, s *oauth.Session) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, kind, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`,
			s.Hash, s.UserID, s.Kind, unixMicro(s.CreatedAt), unixMicro(s.ExpiresAt))
		return err
	})
	return fail("create session", err)
}

// Session returns the session with the hash if it has not expired at now
// (it expires at ExpiresAt); oauth.ErrNotFound otherwise.
func (db *DB) Session(ctx context.Context, hash []byte, now time.Time) (*oauth.Session, error) {
	var s oauth.Session
	err := db.rd.QueryRowContext(ctx, `SELECT hash, user_id, kind, created_at, expires_at
		FROM sessions WHERE hash = $1 AND expires_at > $2`, hash, now.UnixMicro()).
		Scan(&s.Hash, &s.UserID, &s.Kind, at(&s.CreatedAt), at(&s.ExpiresAt))
	if err != nil {
		return nil, fail("session", err)
	}
	return &s, nil
}

// MerchantSession returns an unexpired merchant session, its merchant and
// the merchant's memberships (by store name, as Memberships), in one
// statement; oauth.ErrNotFound if the session is unknown, expired, of
// another kind, or its merchant is gone.
func (db *DB) MerchantSession(ctx context.Context, hash []byte, now time.Time) (*oauth.Session, *oauth.User, []oauth.Membership, error) {
	rows, err := db.rd.QueryContext(ctx, `SELECT s.hash, s.user_id, s.kind, s.created_at, s.expires_at,
			u.id, u.email, u.name, u.password_hash, u.created_at,
			st.id, st.name, st.slug, st.created_at, m.role
		FROM sessions s JOIN users u ON u.id = s.user_id
			LEFT JOIN members m ON m.user_id = u.id
			LEFT JOIN stores st ON st.id = m.store_id
		WHERE s.hash = $1 AND s.expires_at > $2 AND s.kind = $3
		ORDER BY lower(st.name), st.name, st.id`, hash, now.UnixMicro(), oauth.SessionMerchant)
	var (
		sess oauth.Session
		u    oauth.User
	)
	ms, err := collect(rows, err, func(r *sql.Rows, m *oauth.Membership) error {
		var role string
		err := r.Scan(&sess.Hash, &sess.UserID, &sess.Kind, at(&sess.CreatedAt), at(&sess.ExpiresAt),
			&u.ID, &u.Email, &u.Name, &u.PasswordHash, at(&u.CreatedAt),
			text(&m.Store.ID), text(&m.Store.Name), text(&m.Store.Slug), at(&m.Store.CreatedAt), text(&role))
		m.Role = oauth.Role(role)
		return err
	})
	if err != nil {
		return nil, nil, nil, fail("merchant session", err)
	}
	if len(ms) == 0 {
		return nil, nil, nil, fail("merchant session", sql.ErrNoRows)
	}
	if ms[0].Store.ID == "" {
		ms = nil // one row, of a merchant without stores
	}
	return &sess, &u, ms, nil
}

// DeleteSession ends a session; deleting a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
		return err
	})
	return fail("delete session", err)
}
