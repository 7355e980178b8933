package api

import (
	"context"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/resource"
)

// orderStatuses are the statuses an order may have; a new order without one
// is "pending".
var orderStatuses = []string{"pending", "paid", "fulfilled", "cancelled", "refunded"}

// orderInput is the body of POST /api/v1/orders.
type orderInput struct {
	CustomerID *string `json:"customer_id"`
	Status     *string `json:"status"`
	TotalCents *int64  `json:"total_cents"`
	Currency   *string `json:"currency"`
}

// order checks the input and returns the order it describes, without its
// id, store and creation time.
func (in *orderInput) order() (*oauth.Order, error) {
	var o oauth.Order
	var err error
	if o.CustomerID, err = text("customer_id", in.CustomerID, 64, false); err != nil {
		return nil, err
	}
	if o.Status, err = text("status", in.Status, 32, false); err != nil {
		return nil, err
	}
	if o.Status == "" {
		o.Status = orderStatuses[0]
	}
	if !slices.Contains(orderStatuses, o.Status) {
		return nil, oauth.Errorf(oauth.ErrInvalidRequest, "status must be one of %s", strings.Join(orderStatuses, ", "))
	}
	if o.TotalCents, err = amount("total_cents", in.TotalCents); err != nil {
		return nil, err
	}
	if o.Currency, err = currency(in.Currency); err != nil {
		return nil, err
	}
	return &o, nil
}

// listOrders answers GET /api/v1/orders: the token's store's orders, oldest
// first.
func (a *api) listOrders(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	n, err := limit(c)
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	list, err := a.data.Orders(ctx, p.StoreID, n)
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	if list == nil {
		list = []oauth.Order{}
	}
	writeData(c, fasthttp.StatusOK, list)
}

// createOrder answers POST /api/v1/orders: it creates an order in the
// token's store and answers 201 with it.
func (a *api) createOrder(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	var in orderInput
	if !decode(c, &in) {
		return
	}
	o, err := in.order()
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	o.ID, o.CreatedAt = a.created("ord_")
	o.StoreID = p.StoreID
	if err := a.data.CreateOrder(ctx, o); err != nil {
		a.fail(ctx, c, err)
		return
	}
	writeData(c, fasthttp.StatusCreated, o)
}
