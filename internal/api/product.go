package api

import (
	"net/http"

	"github.com/storekey/storekey/internal/oauth"
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
func (a *api) listProducts(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	list, err := a.data.Products(r.Context(), principal(r).StoreID, n)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if list == nil {
		list = []oauth.Product{}
	}
	writeData(w, http.StatusOK, list)
}

// createProduct answers POST /api/v1/products: it creates a product in the
// token's store and answers 201 with it.
func (a *api) createProduct(w http.ResponseWriter, r *http.Request) {
	var in productInput
	if !decode(w, r, &in) {
		return
	}
	p, err := in.product()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p.ID, p.CreatedAt = a.created("prd_")
	p.StoreID = principal(r).StoreID
	if err := a.data.CreateProduct(r.Context(), p); err != nil {
		a.fail(w, r, err)
		return
	}
	writeData(w, http.StatusCreated, p)
}
