package api

import (
	"context"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/resource"
)

// customerInput is the body of POST /api/v1/customers.
type customerInput struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

// customer checks the input and returns the customer it describes, without
// its id, store and creation time.
func (in *customerInput) customer() (*oauth.Customer, error) {
	var c oauth.Customer
	var err error
	if c.Name, err = text("name", in.Name, 200, true); err != nil {
		return nil, err
	}
	if c.Email, err = email(in.Email); err != nil {
		return nil, err
	}
	return &c, nil
}

// listCustomers answers GET /api/v1/customers: the token's store's
// customers, oldest first.
func (a *api) listCustomers(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	n, err := limit(c)
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	list, err := a.data.Customers(ctx, p.StoreID, n)
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	if list == nil {
		list = []oauth.Customer{}
	}
	writeData(c, fasthttp.StatusOK, list)
}

// createCustomer answers POST /api/v1/customers: it creates a customer in
// the token's store and answers 201 with it.
func (a *api) createCustomer(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	var in customerInput
	if !decode(c, &in) {
		return
	}
	cus, err := in.customer()
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	cus.ID, cus.CreatedAt = a.created("cus_")
	cus.StoreID = p.StoreID
	if err := a.data.CreateCustomer(ctx, cus); err != nil {
		a.fail(ctx, c, err)
		return
	}
	writeData(c, fasthttp.StatusCreated, cus)
}
