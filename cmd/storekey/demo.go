package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/example"
	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/web"
)

// The demo's fixed merchant. The demo listens on loopback by default and
// keeps its data apart from `serve`'s.
const (
	demoEmail    = "merchant@demo.storekey.test"
	demoPassword = "storekey-demo"
	demoAppID    = "app_demo_example"
)

func demoCmd(e *env) *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the server with a seeded demo merchant, store and example partner app",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			if e.database == "" && e.getenv("STOREKEY_DATABASE") == "" && e.configPath == "" {
				cfg.Database = filepath.Join("storekey-data", "demo.db")
			}
			if listen != "" {
				cfg = withListen(cfg, listen, e.getenv)
			}
			return serve(cmd.Context(), e, cfg, func(ctx context.Context, in *instance) (map[string]http.Handler, []web.Link, error) {
				return seedDemo(ctx, e, in)
			})
		},
	}
	c.Flags().StringVar(&listen, "listen", "", "address to listen on (overrides the config)")
	return c
}

// seedDemo creates the demo records if they are missing and returns the
// example app's handler. The example app's secret is drawn anew at every
// start: only its hash is stored, so the running process is the only holder.
func seedDemo(ctx context.Context, e *env, in *instance) (map[string]http.Handler, []web.Link, error) {
	db, t := in.db, now()
	u, err := db.UserByEmail(ctx, demoEmail)
	if errors.Is(err, oauth.ErrNotFound) {
		if u, err = newUser(demoEmail, "Demo Merchant", demoPassword); err != nil {
			return nil, nil, err
		}
		if err = db.CreateUser(ctx, u); err != nil {
			return nil, nil, err
		}
		s, _, err := createStore(ctx, db, "Demo Store", "demo-store", u.ID, []string{"Downtown", "Airport"})
		if err != nil {
			return nil, nil, err
		}
		if err := seedSampleData(ctx, in, s.ID, t); err != nil {
			return nil, nil, err
		}
	}
	if err != nil {
		return nil, nil, err
	}

	iss := in.cfg.Issuer
	redirect := iss + "/example/callback"
	secret := oauth.RandomSecret(oauth.PrefixSecret)
	app, err := db.App(ctx, demoAppID)
	switch {
	case errors.Is(err, oauth.ErrNotFound):
		app = &oauth.App{
			ID: demoAppID, Name: "Example Partner App", Developer: "Storekey demo",
			RedirectURIs: []string{redirect},
			Scopes:       oauth.NewScopes("read_products", "read_orders", "read_customers"),
			Profile:      "standard", CreatedAt: t, UpdatedAt: t, SecretHash: oauth.Hash(secret),
		}
		err = db.CreateApp(ctx, app)
	case err == nil:
		app.RedirectURIs, app.SecretHash, app.UpdatedAt = []string{redirect}, oauth.Hash(secret), t
		err = db.UpdateApp(ctx, app)
	}
	if err != nil {
		return nil, nil, err
	}

	ex := example.New(example.Config{
		BasePath:     "/example",
		Title:        app.Name,
		Issuer:       iss,
		ClientID:     app.ID,
		ClientSecret: secret,
		AuthURL:      iss + "/oauth/authorize",
		TokenURL:     iss + "/oauth/token",
		APIBase:      iss + "/api/v1",
		RedirectURL:  redirect,
		Scopes:       app.Scopes,
		HTTPClient:   &http.Client{Timeout: 10 * time.Second},
	})
	fmt.Fprintf(e.stdout, "\nStorekey demo at %s\n  1. Open %s/example/ and click Connect.\n  2. Sign in as %s with password %s\n  3. Allow, and the example app shows the store's products.\n\n",
		iss, iss, demoEmail, demoPassword)
	links := []web.Link{{Title: "Example partner app", URL: "/example/", Description: "Connect a sample app to the Demo Store and call the API with its token."}}
	return map[string]http.Handler{"/example/": ex}, links, nil
}

func seedSampleData(ctx context.Context, in *instance, storeID string, t time.Time) error {
	db := in.db
	products := []struct {
		name, sku string
		price     int64
	}{{"Espresso beans 1kg", "ESP-1KG", 2490}, {"Ceramic mug", "MUG-01", 1200}, {"Pour-over kettle", "KET-PO", 5400}, {"Paper filters (100)", "FLT-100", 650}, {"Gift card", "GIFT-25", 2500}}
	for i, p := range products {
		if err := db.CreateProduct(ctx, &oauth.Product{ID: oauth.RandomID("prd_"), StoreID: storeID, Name: p.name, SKU: p.sku, PriceCents: p.price, Currency: "EUR", CreatedAt: t.Add(time.Duration(i) * time.Second)}); err != nil {
			return err
		}
	}
	customers := []struct{ name, email string }{{"Ada Lovelace", "ada@example.com"}, {"Alan Turing", "alan@example.com"}, {"Grace Hopper", "grace@example.com"}}
	for i, c := range customers {
		cu := &oauth.Customer{ID: oauth.RandomID("cus_"), StoreID: storeID, Name: c.name, Email: c.email, CreatedAt: t.Add(time.Duration(i) * time.Second)}
		if err := db.CreateCustomer(ctx, cu); err != nil {
			return err
		}
		if err := db.CreateOrder(ctx, &oauth.Order{ID: oauth.RandomID("ord_"), StoreID: storeID, CustomerID: cu.ID, Status: "paid", TotalCents: int64(1200 * (i + 1)), Currency: "EUR", CreatedAt: t.Add(time.Duration(i) * time.Second)}); err != nil {
			return err
		}
	}
	return nil
}
