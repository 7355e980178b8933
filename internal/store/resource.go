package store

import (
	"context"
	"database/sql"

	"github.com/storekey/storekey/internal/oauth"
)

// CreateCatalog stores a catalog of a store.
func (db *DB) CreateCatalog(ctx context.Context, r *oauth.Resource) error {
	return fail("create catalog "+r.ID, db.createResource(ctx, `INSERT INTO catalogs (id, store_id, name) VALUES ($1, $2, $3)`, r))
}

// Catalogs lists a store's catalogs by name.
func (db *DB) Catalogs(ctx context.Context, storeID string) ([]oauth.Resource, error) {
	rs, err := db.resources(ctx, `SELECT id, store_id, name FROM catalogs WHERE store_id = $1 ORDER BY lower(name), name, id`, storeID)
	return rs, fail("catalogs", err)
}

// CreateCustomerList stores a customer list of a store.
func (db *DB) CreateCustomerList(ctx context.Context, r *oauth.Resource) error {
	return fail("create customer list "+r.ID, db.createResource(ctx, `INSERT INTO customer_lists (id, store_id, name) VALUES ($1, $2, $3)`, r))
}

// CustomerLists lists a store's customer lists by name.
func (db *DB) CustomerLists(ctx context.Context, storeID string) ([]oauth.Resource, error) {
	rs, err := db.resources(ctx, `SELECT id, store_id, name FROM customer_lists WHERE store_id = $1 ORDER BY lower(name), name, id`, storeID)
	return rs, fail("customer lists", err)
}

func (db *DB) createResource(ctx context.Context, query string, r *oauth.Resource) error {
	return db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, query, r.ID, r.StoreID, r.Name)
		return err
	})
}

func (db *DB) resources(ctx context.Context, query, storeID string) ([]oauth.Resource, error) {
	rows, err := db.rd.QueryContext(ctx, query, storeID)
	return collect(rows, err, func(r *sql.Rows, v *oauth.Resource) error {
		return r.Scan(&v.ID, &v.StoreID, &v.Name)
	})
}
