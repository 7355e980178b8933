package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
	"github.com/storekey/storekey/internal/store"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// withDB opens and migrates the configured database for one command.
func withDB(cmd *cobra.Command, e *env, fn func(ctx context.Context, cfg Config, db *store.DB) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return fn(ctx, cfg, db)
}

// appJSON is an app as the CLI prints it. It never holds the secret's hash.
type appJSON struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Name         string   `json:"name"`
	Developer    string   `json:"developer,omitempty"`
	LogoURL      string   `json:"logo_url,omitempty"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	Public       bool     `json:"public"`
	Profile      string   `json:"profile"`
	AccessTTL    string   `json:"access_ttl,omitempty"`
	RefreshTTL   string   `json:"refresh_ttl,omitempty"`
	NoRefresh    bool     `json:"no_refresh,omitempty"`
	CreatedAt    string   `json:"created_at"`
}

func toAppJSON(a *oauth.App, secret string) appJSON {
	out := appJSON{
		ClientID: a.ID, ClientSecret: secret, Name: a.Name, Developer: a.Developer, LogoURL: a.LogoURL,
		RedirectURIs: a.RedirectURIs, Scopes: a.Scopes, Public: a.Public, Profile: a.Profile,
		NoRefresh: a.NoRefresh, CreatedAt: a.CreatedAt.Format(time.RFC3339),
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if a.AccessTTL != 0 {
		out.AccessTTL = Duration(a.AccessTTL).String()
	}
	if a.RefreshTTL != 0 {
		out.RefreshTTL = Duration(a.RefreshTTL).String()
	}
	return out
}

// appSpec is what `app create` reads from its flags.
type appSpec struct {
	name, developer, logo, profile string
	logoFile                       string
	redirects                      []string
	scopes                         string
	public, noRefresh              bool
	accessTTL, refreshTTL          string
}

// newApp validates a spec against its profile (the server's catalog for
// the standard one) and returns the app with a fresh client id and, for
// confidential apps, its secret.
func newApp(spec appSpec, catalog oauth.ScopeCatalog, now time.Time) (*oauth.App, string, error) {
	if strings.TrimSpace(spec.name) == "" {
		return nil, "", errors.New("--name is required")
	}
	spec.profile = cmp.Or(spec.profile, profile.Standard)
	prof, err := profile.Get(spec.profile)
	if err != nil {
		return nil, "", err
	}
	if c := prof.Dialect.Catalog; c != nil {
		catalog = c
	}
	if spec.logoFile != "" {
		data, err := os.ReadFile(spec.logoFile)
		if err != nil {
			return nil, "", fmt.Errorf("--logo: %w", err)
		}
		check := prof.Logo
		if check == nil {
			check = func(b []byte) error { _, _, err := profile.CheckLogo(b); return err }
		}
		if err := check(data); err != nil {
			return nil, "", fmt.Errorf("--logo %s: %w", spec.logoFile, err)
		}
		spec.logo = "data:" + http.DetectContentType(data) + ";base64," + base64.StdEncoding.EncodeToString(data)
	} else if prof.Logo != nil && spec.logo == "" {
		return nil, "", fmt.Errorf("%s apps need a logo: --logo FILE", prof.Title)
	}
	if len(spec.redirects) == 0 {
		return nil, "", errors.New("at least one --redirect-uri is required")
	}
	for _, r := range spec.redirects {
		if err := oauth.ValidateRedirectURI(r, spec.public || prof.OOB); err != nil {
			return nil, "", errors.New(oauth.AsError(err).Description)
		}
	}
	scopes := oauth.ParseScopes(spec.scopes)
	if unknown := catalog.Unknown(scopes); len(unknown) > 0 {
		return nil, "", fmt.Errorf("unknown scope %q (known: %s)", unknown[0], strings.Join(catalog.Names(), ", "))
	}
	a := &oauth.App{
		ID:           oauth.RandomID("app_"),
		Name:         strings.TrimSpace(spec.name),
		Developer:    spec.developer,
		LogoURL:      spec.logo,
		RedirectURIs: spec.redirects,
		Scopes:       scopes,
		Public:       spec.public,
		Profile:      spec.profile,
		NoRefresh:    spec.noRefresh,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	for _, ttl := range []struct {
		raw string
		dst *time.Duration
	}{{spec.accessTTL, &a.AccessTTL}, {spec.refreshTTL, &a.RefreshTTL}} {
		if ttl.raw == "" {
			continue
		}
		var d Duration
		if err := d.set(ttl.raw); err != nil {
			return nil, "", err
		}
		*ttl.dst = time.Duration(d)
	}
	var secret string
	if !a.Public {
		secret = oauth.RandomSecret(oauth.PrefixSecret)
		a.SecretHash = oauth.Hash(secret)
	}
	return a, secret, nil
}

func appCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "app", Short: "Register and manage partner apps (OAuth clients)"}

	var spec appSpec
	create := &cobra.Command{
		Use:   "create",
		Short: "Register an app; prints its client id and secret (the secret is shown only now)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, e, func(ctx context.Context, cfg Config, db *store.DB) error {
				a, secret, err := newApp(spec, cfg.oauthConfig().Defaults().Scopes, now())
				if err != nil {
					return err
				}
				if err := db.CreateApp(ctx, a); err != nil {
					return err
				}
				if secret != "" {
					if err := sealSigningSecret(ctx, cfg, db, a.ID, secret, false, 0); err != nil {
						return err
					}
				}
				if e.json {
					return printJSON(e.stdout, toAppJSON(a, secret))
				}
				fmt.Fprintf(e.stdout, "client_id:     %s\n", a.ID)
				if secret != "" {
					fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
					fmt.Fprintln(e.stdout, "Store the secret now: only its hash is kept, it cannot be shown again.")
				}
				return nil
			})
		},
	}
	f := create.Flags()
	f.StringVar(&spec.name, "name", "", "the app's name, shown to merchants")
	f.StringVar(&spec.developer, "developer", "", "the developer's name, shown to merchants")
	f.StringVar(&spec.logo, "logo-url", "", "URL of the app's logo")
	f.StringArrayVar(&spec.redirects, "redirect-uri", nil, "a redirect URI (repeat for several)")
	f.StringVar(&spec.scopes, "scopes", "", "the scopes the app may request, space- or comma-separated")
	f.BoolVar(&spec.public, "public", false, "a public client (no secret; PKCE required)")
	f.StringVar(&spec.profile, "profile", "standard", "the dialect of the app's integration: "+strings.Join(profile.Names(), ", "))
	f.StringVar(&spec.logoFile, "logo", "", "a PNG or JPEG logo file (HyperSKU apps: exactly 110 x 110 px)")
	f.StringVar(&spec.accessTTL, "access-ttl", "", "access token lifetime (e.g. 1h, or never); default from config")
	f.StringVar(&spec.refreshTTL, "refresh-ttl", "", "refresh token lifetime (e.g. 720h, or never); default from config")
	f.BoolVar(&spec.noRefresh, "no-refresh", false, "issue no refresh tokens")

	list := &cobra.Command{
		Use:   "list",
		Short: "List apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, e, func(ctx context.Context, _ Config, db *store.DB) error {
				apps, err := db.Apps(ctx, "")
				if err != nil {
					return err
				}
				if e.json {
					out := make([]appJSON, len(apps))
					for i, a := range apps {
						out[i] = toAppJSON(a, "")
					}
					return printJSON(e.stdout, out)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CLIENT ID\tNAME\tPROFILE\tTYPE\tSCOPES")
				for _, a := range apps {
					kind := "confidential"
					if a.Public {
						kind = "public"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.Profile, kind, a.Scopes)
				}
				return tw.Flush()
			})
		},
	}

	show := &cobra.Command{
		Use:   "show CLIENT_ID",
		Short: "Show an app",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, e, func(ctx context.Context, _ Config, db *store.DB) error {
				a, err := findApp(ctx, db, args[0])
				if err != nil {
					return err
				}
				j := toAppJSON(a, "")
				if e.json {
					return printJSON(e.stdout, j)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "client_id:\t%s\nname:\t%s\ndeveloper:\t%s\nprofile:\t%s\npublic:\t%v\nscopes:\t%s\nredirect_uris:\t%s\ncreated_at:\t%s\n",
					j.ClientID, j.Name, j.Developer, j.Profile, j.Public, strings.Join(j.Scopes, " "), strings.Join(j.RedirectURIs, " "), j.CreatedAt)
				return tw.Flush()
			})
		},
	}

	var grace time.Duration
	rotate := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Issue a new client secret; the previous one stays valid for --grace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, e, func(ctx context.Context, cfg Config, db *store.DB) error {
				a, err := findApp(ctx, db, args[0])
				if err != nil {
					return err
				}
				if a.Public {
					return errors.New("public apps have no secret")
				}
				g := grace
				if !cmd.Flags().Changed("grace") {
					g = time.Duration(cfg.SecretGrace)
				}
				secret := a.RotateSecret(now(), g)
				if err := db.UpdateApp(ctx, a); err != nil {
					return err
				}
				if err := sealSigningSecret(ctx, cfg, db, a.ID, secret, true, g); err != nil {
					return err
				}
				if e.json {
					return printJSON(e.stdout, map[string]string{"client_id": a.ID, "client_secret": secret, "previous_secret_valid_until": a.PrevExpires.Format(time.RFC3339)})
				}
				fmt.Fprintf(e.stdout, "client_id:     %s\nclient_secret: %s\nThe previous secret stays valid until %s.\n", a.ID, secret, a.PrevExpires.Format(time.RFC3339))
				return nil
			})
		},
	}
	rotate.Flags().DurationVar(&grace, "grace", 24*time.Hour, "how long the previous secret stays valid (default from config secret_grace)")

	del := &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete an app and revoke every grant and token it holds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, e, func(ctx context.Context, _ Config, db *store.DB) error {
				if err := db.DeleteApp(ctx, args[0], now()); err != nil {
					if errors.Is(err, oauth.ErrNotFound) {
						return fmt.Errorf("no app with client id %q", args[0])
					}
					return err
				}
				if e.json {
					return printJSON(e.stdout, map[string]string{"client_id": args[0], "status": "deleted"})
				}
				_, err := fmt.Fprintln(e.stdout, "deleted", args[0])
				return err
			})
		},
	}
	c.AddCommand(create, list, show, rotate, del)
	return c
}

// sealSigningSecret keeps a sealed copy of a new client secret, which signs
// the app's webhooks; rotated, the previous one signs beside it for grace.
func sealSigningSecret(ctx context.Context, cfg Config, db *store.DB, appID, secret string, rotated bool, grace time.Duration) error {
	keys, err := serverKeys(ctx, cfg, db)
	if err != nil {
		return err
	}
	sealer, err := oauth.NewSealer(keys)
	if err != nil {
		return err
	}
	var prev *oauth.SigningSecret
	if rotated {
		if prev, err = db.SigningSecret(ctx, appID); errors.Is(err, oauth.ErrNotFound) {
			prev, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	return db.SetSigningSecret(ctx, oauth.NewSigningSecret(sealer, appID, secret, prev, grace, now()))
}

func findApp(ctx context.Context, db *store.DB, id string) (*oauth.App, error) {
	a, err := db.App(ctx, id)
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, fmt.Errorf("no app with client id %q", id)
	}
	return a, err
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
