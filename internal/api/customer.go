package api

import (
	"net/http"

	"github.com/storekey/storekey/internal/oauth"
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
func (a *api) listCustomers(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	list, err := a.data.Customers(r.Context(), principal(r).StoreID, n)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if list == nil {
		list = []oauth.Customer{}
	}
	writeData(w, http.StatusOK, list)
}

// createCustomer answers POST /api/v1/customers: it creates a customer in
// the token's store and answers 201 with it.
func (a *api) createCustomer(w http.ResponseWriter, r *http.Request) {
	var in customerInput
	if !decode(w, r, &in) {
		return
	}
	c, err := in.customer()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	c.ID, c.CreatedAt = a.created("cus_")
	c.StoreID = principal(r).StoreID
	if err := a.data.CreateCustomer(r.Context(), c); err != nil {
		a.fail(w, r, err)
		return
	}
	writeData(w, http.StatusCreated, c)
}
