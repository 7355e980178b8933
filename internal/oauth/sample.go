package oauth

import (
	"context"
	"time"
)

// Product is a record of the sample commerce API, the resource-server half
// that Storekey ships so that a platform (and the demo) can see a token at
// work, with Customer and Order. Money is in minor units.
type Product struct {
	ID         string    `json:"id"`
	StoreID    string    `json:"store_id"`
	Name       string    `json:"name"`
	SKU        string    `json:"sku"`
	PriceCents int64     `json:"price_cents"`
	Currency   string    `json:"currency"`
	CreatedAt  time.Time `json:"created_at"`
}

// Customer is a store's customer.
type Customer struct {
	ID        string    `json:"id"`
	StoreID   string    `json:"store_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

// Order is a store's order.
type Order struct {
	ID         string    `json:"id"`
	StoreID    string    `json:"store_id"`
	CustomerID string    `json:"customer_id,omitempty"`
	Status     string    `json:"status"`
	TotalCents int64     `json:"total_cents"`
	Currency   string    `json:"currency"`
	CreatedAt  time.Time `json:"created_at"`
}

// SampleData is the persistence of the sample API. Lists are oldest first and
// hold at most limit records.
type SampleData interface {
	Products(ctx context.Context, storeID string, limit int) ([]Product, error)
	CreateProduct(ctx context.Context, p *Product) error
	Customers(ctx context.Context, storeID string, limit int) ([]Customer, error)
	CreateCustomer(ctx context.Context, c *Customer) error
	Orders(ctx context.Context, storeID string, limit int) ([]Order, error)
	CreateOrder(ctx context.Context, o *Order) error
}
