package store

import (
	"context"
	"database/sql"

	"github.com/storekey/storekey/internal/oauth"
)

// list runs a query of a store's sample records, oldest first, at most limit
// of them, scanning each row with scan.
func list[T any](ctx context.Context, db *DB, what, q, storeID string, limit int, scan func(*sql.Rows, *T) error) ([]T, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.rd.QueryContext(ctx, q+` WHERE store_id = $1 ORDER BY created_at, id LIMIT $2`, storeID, limit)
	out, err := collect(rows, err, scan)
	if err != nil {
		return nil, fail(what, err)
	}
	return out, nil
}

// Products lists a store's products, oldest first, at most limit of them.
func (db *DB) Products(ctx context.Context, storeID string, limit int) ([]oauth.Product, error) {
	return list(ctx, db, "products", `SELECT id, store_id, name, sku, price_cents, currency, created_at FROM products`,
		storeID, limit, func(r *sql.Rows, p *oauth.Product) error {
			return r.Scan(&p.ID, &p.StoreID, &p.Name, &p.SKU, &p.PriceCents, &p.Currency, at(&p.CreatedAt))
		})
}

// CreateProduct stores a product; oauth.ErrConflict if the id is taken.
func (db *DB) CreateProduct(ctx context.Context, p *oauth.Product) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO products (id, store_id, name, sku, price_cents, currency, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			p.ID, p.StoreID, p.Name, p.SKU, p.PriceCents, p.Currency, unixMicro(p.CreatedAt))
		return err
	})
	return fail("create product "+p.ID, err)
}

// Customers lists a store's customers, oldest first, at most limit of them.
func (db *DB) Customers(ctx context.Context, storeID string, limit int) ([]oauth.Customer, error) {
	return list(ctx, db, "customers", `SELECT id, store_id, name, email, created_at FROM customers`,
		storeID, limit, func(r *sql.Rows, c *oauth.Customer) error {
			return r.Scan(&c.ID, &c.StoreID, &c.Name, &c.Email, at(&c.CreatedAt))
		})
}

// CreateCustomer stores a customer; oauth.ErrConflict if the id is taken.
func (db *DB) CreateCustomer(ctx context.Context, c *oauth.Customer) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO customers (id, store_id, name, email, created_at)
		VALUES ($1, $2, $3, $4, $5)`,
			c.ID, c.StoreID, c.Name, c.Email, unixMicro(c.CreatedAt))
		return err
	})
	return fail("create customer "+c.ID, err)
}

// Orders lists a store's orders, oldest first, at most limit of them.
func (db *DB) Orders(ctx context.Context, storeID string, limit int) ([]oauth.Order, error) {
	return list(ctx, db, "orders", `SELECT id, store_id, customer_id, status, total_cents, currency, created_at FROM orders`,
		storeID, limit, func(r *sql.Rows, o *oauth.Order) error {
			return r.Scan(&o.ID, &o.StoreID, &o.CustomerID, &o.Status, &o.TotalCents, &o.Currency, at(&o.CreatedAt))
		})
}

// CreateOrder stores an order; oauth.ErrConflict if the id is taken.
func (db *DB) CreateOrder(ctx context.Context, o *oauth.Order) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `INSERT INTO orders (id, store_id, customer_id, status, total_cents, currency, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			o.ID, o.StoreID, o.CustomerID, o.Status, o.TotalCents, o.Currency, unixMicro(o.CreatedAt))
		return err
	})
	return fail("create order "+o.ID, err)
}
