package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
	"github.com/storekey/storekey/internal/store"
)

func userCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage merchant accounts"}
	var email, name, pw string
	var pwStdin bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a merchant account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pwStdin {
				line, err := bufio.NewReader(e.stdin).ReadString('\n')
				if err != nil && line == "" {
					return errors.New("read password from standard input: nothing there")
				}
				pw = strings.TrimRight(line, "\r\n")
			}
			u, err := newUser(email, name, pw)
			if err != nil {
				return err
			}
			return withDB(cmd, e, func(ctx context.Context, _ Config, db *store.DB) error {
				if err := db.CreateUser(ctx, u); err != nil {
					if errors.Is(err, oauth.ErrConflict) {
						return fmt.Errorf("a user with email %q already exists", u.Email)
					}
					return err
				}
				if e.json {
					return printJSON(e.stdout, map[string]string{"id": u.ID, "email": u.Email, "name": u.Name})
				}
				_, err := fmt.Fprintf(e.stdout, "created user %s (%s)\n", u.Email, u.ID)
				return err
			})
		},
	}
	f := create.Flags()
	f.StringVar(&email, "email", "", "email address (the sign-in name)")
	f.StringVar(&name, "name", "", "display name")
	f.StringVar(&pw, "password", "", "password (prefer --password-stdin: flags show in process lists)")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
	c.AddCommand(create)
	return c
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

func newUser(email, name, pw string) (*oauth.User, error) {
	email = strings.TrimSpace(email)
	if !emailRE.MatchString(email) {
		return nil, fmt.Errorf("--email %q is not an email address", email)
	}
	if len(pw) < 8 {
		return nil, errors.New("the password must be at least 8 characters")
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	return &oauth.User{ID: oauth.RandomID("usr_"), Email: email, Name: strings.TrimSpace(name), PasswordHash: hash, CreatedAt: now()}, nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func storeCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "store", Short: "Manage merchants' stores"}
	var name, slug, owner string
	var locations []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a store owned by a merchant",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--name is required")
			}
			if slug == "" {
				slug = oauth.Slugify(name)
			}
			if !slugRE.MatchString(slug) {
				return fmt.Errorf("--slug %q must be lowercase letters, digits and dashes", slug)
			}
			return withDB(cmd, e, func(ctx context.Context, _ Config, db *store.DB) error {
				u, err := db.UserByEmail(ctx, owner)
				if errors.Is(err, oauth.ErrNotFound) {
					return fmt.Errorf("no user with email %q (create one with `storekey user create`)", owner)
				}
				if err != nil {
					return err
				}
				s, locs, err := createStore(ctx, db, name, slug, u.ID, locations)
				if err != nil {
					return err
				}
				if e.json {
					ls := make([]map[string]string, len(locs))
					for i, l := range locs {
						ls[i] = map[string]string{"id": l.ID, "name": l.Name}
					}
					return printJSON(e.stdout, map[string]any{"id": s.ID, "name": s.Name, "slug": s.Slug, "owner": u.Email, "locations": ls})
				}
				_, err = fmt.Fprintf(e.stdout, "created store %s (%s), owner %s\n", s.Name, s.ID, u.Email)
				return err
			})
		},
	}
	f := create.Flags()
	f.StringVar(&name, "name", "", "the store's name")
	f.StringVar(&slug, "slug", "", "short name for store-scoped URLs (default: from the name)")
	f.StringVar(&owner, "owner", "", "email of the merchant who owns it")
	f.StringArrayVar(&locations, "location", nil, "a location's name (repeat for several)")
	c.AddCommand(create)
	return c
}

func createStore(ctx context.Context, db *store.DB, name, slug, ownerID string, locations []string) (*oauth.Store, []oauth.Location, error) {
	s := &oauth.Store{ID: oauth.RandomID("sto_"), Name: strings.TrimSpace(name), Slug: slug, CreatedAt: now()}
	if err := db.CreateStore(ctx, s, ownerID); err != nil {
		if errors.Is(err, oauth.ErrConflict) {
			return nil, nil, fmt.Errorf("a store with slug %q already exists", slug)
		}
		return nil, nil, err
	}
	var locs []oauth.Location
	for _, ln := range locations {
		l := oauth.Location{ID: oauth.RandomID("loc_"), StoreID: s.ID, Name: ln}
		if err := db.CreateLocation(ctx, &l); err != nil {
			return nil, nil, err
		}
		locs = append(locs, l)
	}
	return s, locs, nil
}

func tokenCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Revoke tokens and grants"}
	var token, grant, app, storeID string
	revoke := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke a token (--token), a grant (--grant), or an app's access to a store (--app with --store)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			given := 0
			for _, v := range []string{token, grant, app} {
				if v != "" {
					given++
				}
			}
			if given != 1 || (app != "") != (storeID != "") {
				return errors.New("give exactly one of --token, --grant, or --app with --store")
			}
			return withDB(cmd, e, func(ctx context.Context, _ Config, db *store.DB) error {
				n, err := revokeTarget(ctx, db, token, grant, app, storeID)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e.stdout, map[string]int{"revoked_grants": n})
				}
				_, err = fmt.Fprintf(e.stdout, "revoked %d grant(s)\n", n)
				return err
			})
		},
	}
	f := revoke.Flags()
	f.StringVar(&token, "token", "", "an access or refresh token value (its whole grant is revoked)")
	f.StringVar(&grant, "grant", "", "a grant id")
	f.StringVar(&app, "app", "", "an app's client id (with --store: uninstall it from the store)")
	f.StringVar(&storeID, "store", "", "a store id")
	c.AddCommand(revoke)
	return c
}

func revokeTarget(ctx context.Context, db *store.DB, token, grant, app, storeID string) (int, error) {
	t := now()
	switch {
	case token != "":
		info, err := db.TokenInfo(ctx, oauth.Hash(token))
		if errors.Is(err, oauth.ErrNotFound) {
			return 0, errors.New("no such token")
		}
		if err != nil {
			return 0, err
		}
		if info.Grant == nil {
			return 0, db.RevokeToken(ctx, info.Hash, t)
		}
		return 1, db.RevokeGrant(ctx, info.Grant.ID, t)
	case grant != "":
		if err := db.RevokeGrant(ctx, grant, t); err != nil {
			if errors.Is(err, oauth.ErrNotFound) {
				return 0, fmt.Errorf("no grant %q", grant)
			}
			return 0, err
		}
		return 1, nil
	default:
		return db.RevokeGrants(ctx, app, storeID, t)
	}
}
