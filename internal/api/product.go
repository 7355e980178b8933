package api

import (
	"context"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/resource"
)

// productInput is the body of POST /api/v1/products.
type productInput struct {
	Name       *string `json:"name"`
	SKU        *string `json:"sku"`
	PriceCents *int64  `json:"price_cents"`
	Currency   *string `json:"currency"`
}

// product checks the input and returns the product it describes, without
// its id, store and creation time.
func (in *productInput) product() (*oauth.Product, error) {
	var p oauth.Product
	var err error
	if p.Name, err = text("name", in.Name, 200, true); err != nil {
		return nil, err
	}
	if p.SKU, err = text("sku", in.SKU, 64, false); err != nil {
		return nil, err
	}
	if p.PriceCents, err = amount("price_cents", in.PriceCents); err != nil {
		return nil, err
	}
	if p.Currency, err = currency(in.Currency); err != nil {
		return nil, err
	}
	return &p, nil
}

// listProducts answers GET /api/v1/products: the token's store's products,
// oldest first.
func (a *api) listProducts(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	n, err := limit(c)
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	list, err := a.data.Products(ctx, p.StoreID, n)
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	if list == nil {
		list = []oauth.Product{}
	}
	writeData(c, fasthttp.StatusOK, list)
}

// createProduct answers POST /api/v1/products: it creates a product in the
// token's store and answers 201 with it.
func (a *api) createProduct(ctx context.Context, c *fasthttp.RequestCtx, p *resource.Principal) {
	var in productInput
	if !decode(c, &in) {
		return
	}
	prd, err := in.product()
	if err != nil {
		a.fail(ctx, c, err)
		return
	}
	prd.ID, prd.CreatedAt = a.created("prd_")
	prd.StoreID = p.StoreID
	if err := a.data.CreateProduct(ctx, prd); err != nil {
		a.fail(ctx, c, err)
		return
	}
	writeData(c, fasthttp.StatusCreated, prd)
}
