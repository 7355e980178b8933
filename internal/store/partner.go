package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/storekey/storekey/internal/oauth"
)

var (
	_ oauth.PartnerStorage = (*DB)(nil)
	_ oauth.AuditLog       = (*DB)(nil)
	_ oauth.Outbox         = (*DB)(nil)
)

const partnerColumns = `id, email, name, company, password_hash, created_at`

func scanPartner(r row) (*oauth.Partner, error) {
	var p oauth.Partner
	if err := r.Scan(&p.ID, &p.Email, &p.Name, &p.Company, &p.PasswordHash, at(&p.CreatedAt)); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreatePartner stores a partner account; oauth.ErrConflict if the id or
// the email (compared case-insensitively) is taken.
func (db *DB) CreatePartner(ctx context.Context, p *oauth.Partner) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO partners (`+partnerColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			p.ID, p.Email, p.Name, p.Company, p.PasswordHash, unixMicro(p.CreatedAt))
		return err
	})
	return fail("create partner "+p.ID, err)
}

// Partner returns a partner by id; oauth.ErrNotFound.
func (db *DB) Partner(ctx context.Context, id string) (*oauth.Partner, error) {
	p, err := scanPartner(db.rd.QueryRowContext(ctx, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id))
	if err != nil {
		return nil, fail("partner "+id, err)
	}
	return p, nil
}

// PartnerByEmail returns a partner by email, compared case-insensitively
// (ASCII case folding, on both dialects); oauth.ErrNotFound.
func (db *DB) PartnerByEmail(ctx context.Context, email string) (*oauth.Partner, error) {
	p, err := scanPartner(db.rd.QueryRowContext(ctx, `SELECT `+partnerColumns+` FROM partners
		WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return nil, fail("partner by email", err)
	}
	return p, nil
}

// Installations lists the active installations matching the filter, by
// store name then app name. The active grants are read joined with their
// store and app and folded per (app, store) here: the scope union has no
// aggregate that both dialects share.
func (db *DB) Installations(ctx context.Context, f oauth.InstallationFilter) ([]oauth.Installation, error) {
	var (
		where []string
		args  []any
	)
	if f.AppID != "" {
		args = append(args, f.AppID)
		where = append(where, fmt.Sprintf("g.app_id = $%d", len(args)))
	}
	if f.StoreID != "" {
		args = append(args, f.StoreID)
		where = append(where, fmt.Sprintf("g.store_id = $%d", len(args)))
	}
	if len(where) == 0 {
		return nil, fail("installations", fmt.Errorf("no app or store given"))
	}
	rows, err := db.rd.QueryContext(ctx, `SELECT g.app_id, a.name, g.store_id, coalesce(s.name, ''),
		coalesce(s.slug, ''), g.scopes, g.created_at, g.last_used_at
		FROM grants g JOIN apps a ON a.id = g.app_id LEFT JOIN stores s ON s.id = g.store_id
		WHERE `+strings.Join(where, " AND ")+` AND g.revoked_at IS NULL`, args...)
	grants, err := collect(rows, err, func(r *sql.Rows, g *oauth.Installation) error {
		return r.Scan(&g.AppID, &g.AppName, &g.StoreID, &g.StoreName, &g.StoreSlug, scopes(&g.Scopes),
			at(&g.InstalledAt), at(&g.LastUsedAt))
	})
	if err != nil {
		return nil, fail("installations", err)
	}
	byKey := map[[2]string]*oauth.Installation{}
	var out []*oauth.Installation
	for _, g := range grants {
		k := [2]string{g.AppID, g.StoreID}
		in, ok := byKey[k]
		if !ok {
			in = &oauth.Installation{AppID: g.AppID, AppName: g.AppName, StoreID: g.StoreID,
				StoreName: g.StoreName, StoreSlug: g.StoreSlug, InstalledAt: g.InstalledAt}
			byKey[k] = in
			out = append(out, in)
		}
		in.Grants++
		in.Scopes = in.Scopes.Union(g.Scopes)
		if g.InstalledAt.Before(in.InstalledAt) {
			in.InstalledAt = g.InstalledAt
		}
		if g.LastUsedAt.After(in.LastUsedAt) {
			in.LastUsedAt = g.LastUsedAt
		}
	}
	slices.SortFunc(out, func(a, b *oauth.Installation) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.StoreName), strings.ToLower(b.StoreName)),
			cmp.Compare(a.StoreID, b.StoreID),
			cmp.Compare(strings.ToLower(a.AppName), strings.ToLower(b.AppName)),
			cmp.Compare(a.AppID, b.AppID))
	})
	res := make([]oauth.Installation, len(out))
	for i, in := range out {
		res[i] = *in
	}
	return res, nil
}

// SetLogo stores or replaces an app's logo; oauth.ErrNotFound if there is
// no such app.
func (db *DB) SetLogo(ctx context.Context, l *oauth.Logo) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO app_logos (app_id, content_type, data, width, height, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (app_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data,
			width = excluded.width, height = excluded.height, updated_at = excluded.updated_at`,
			l.AppID, l.ContentType, l.Data, l.Width, l.Height, unixMicro(l.UpdatedAt))
		return err
	})
	return fail("set logo of "+l.AppID, err)
}

// Logo returns an app's logo; oauth.ErrNotFound if it has none.
func (db *DB) Logo(ctx context.Context, appID string) (*oauth.Logo, error) {
	l := oauth.Logo{AppID: appID}
	err := db.rd.QueryRowContext(ctx, `SELECT content_type, data, width, height, updated_at
		FROM app_logos WHERE app_id = $1`, appID).Scan(&l.ContentType, &l.Data, &l.Width, &l.Height, at(&l.UpdatedAt))
	if err != nil {
		return nil, fail("logo of "+appID, err)
	}
	return &l, nil
}
