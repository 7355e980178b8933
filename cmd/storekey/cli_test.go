package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"gopkg.in/yaml.v3"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
	"github.com/storekey/storekey/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the CLI's output")

func noEnv(string) string { return "" }

// runCLI runs the command line as main does and returns what it printed. A
// panic fails the test: every failure must be an error.
func runCLI(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("storekey %s panicked: %v", strings.Join(args, " "), r)
			}
		}()
		err = run(t.Context(), args, getenv, &out, &errOut)
	}()
	return out.String(), errOut.String(), err
}

// cli runs commands against one SQLite database in a temporary folder.
type cli struct {
	t  *testing.T
	db string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, db: filepath.Join(t.TempDir(), "storekey.db")}
}

func (c *cli) run(args ...string) (string, error) {
	c.t.Helper()
	out, _, err := runCLI(c.t, noEnv, append(args, "--database", c.db)...)
	return out, err
}

// ok runs a command that must succeed and returns its output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("storekey %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// json runs a command with --json and decodes its output into v, which must
// hold every field printed.
func (c *cli) json(v any, args ...string) string {
	c.t.Helper()
	out := c.ok(append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		c.t.Fatalf("storekey %s --json: %v in\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// withStdin makes os.Stdin, which run reads, give input. Tests that use it
// must not run in parallel.
func withStdin(t *testing.T, input string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString(input); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() {
		os.Stdin = old
		_ = r.Close()
	})
}

type userJSON struct{ ID, Email, Name string }

type storeJSON struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Slug      string              `json:"slug"`
	Owner     string              `json:"owner"`
	Locations []map[string]string `json:"locations"`
}

type rotateJSON struct {
	ClientID   string `json:"client_id"`
	Secret     string `json:"client_secret"`
	ValidUntil string `json:"previous_secret_valid_until"`
}

func TestCLIVersionAndMigrate(t *testing.T) {
	c := newCLI(t)
	if got := c.ok("version"); got != "storekey dev\n" {
		t.Errorf("version printed %q", got)
	}
	var v map[string]string
	c.json(&v, "version")
	if diff := cmp.Diff(map[string]string{"version": "dev"}, v); diff != "" {
		t.Errorf("version --json (-want +got):\n%s", diff)
	}
	if got, want := c.ok("migrate"), "migrated "+c.db+"\n"; got != want {
		t.Errorf("migrate printed %q, want %q", got, want)
	}
	var m map[string]string
	c.json(&m, "migrate") // a second time: nothing to do, no error
	if diff := cmp.Diff(map[string]string{"status": "migrated", "database": c.db}, m); diff != "" {
		t.Errorf("migrate --json (-want +got):\n%s", diff)
	}
}

func TestCLIUsersAndStores(t *testing.T) {
	c := newCLI(t)
	var u userJSON
	c.json(&u, "user", "create", "--email", "owner@example.com", "--name", " Olive Owner ", "--password", "correct horse")
	if !strings.HasPrefix(u.ID, "usr_") || u.Email != "owner@example.com" || u.Name != "Olive Owner" {
		t.Errorf("user create --json printed %+v", u)
	}
	if out := c.ok("user", "create", "--email", "clerk@example.com", "--password", "battery staple"); !strings.HasPrefix(out, "created user clerk@example.com (usr_") {
		t.Errorf("user create printed %q", out)
	}

	// --password-stdin reads one line; the newline is not part of the password.
	withStdin(t, "from standard input\r\n")
	var piped userJSON
	c.json(&piped, "user", "create", "--email", "piped@example.com", "--password-stdin")
	db, err := store.Open(t.Context(), c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored, err := db.UserByEmail(t.Context(), "piped@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify("from standard input", stored.PasswordHash); !ok || err != nil {
		t.Errorf("the password read from standard input does not verify (ok %v, err %v)", ok, err)
	}
	if stored.PasswordHash == "from standard input" {
		t.Error("the password is stored raw")
	}

	var s storeJSON
	c.json(&s, "store", "create", "--name", "Corner Shop", "--owner", "owner@example.com", "--location", "A", "--location", "B")
	if !strings.HasPrefix(s.ID, "sto_") || s.Name != "Corner Shop" || s.Slug != "corner-shop" || s.Owner != "owner@example.com" {
		t.Errorf("store create --json printed %+v", s)
	}
	var names []string
	for _, l := range s.Locations {
		if !strings.HasPrefix(l["id"], "loc_") {
			t.Errorf("location %v has no loc_ id", l)
		}
		names = append(names, l["name"])
	}
	if diff := cmp.Diff([]string{"A", "B"}, names); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}
	ms, err := db.Memberships(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Store.ID != s.ID || !ms[0].Role.CanAuthorize() {
		t.Errorf("the owner's memberships are %+v, want the store with a role that may connect apps", ms)
	}
	if out := c.ok("store", "create", "--name", "Ünïcode Café!", "--owner", "owner@example.com"); !strings.Contains(out, "created store Ünïcode Café!") {
		t.Errorf("store create printed %q", out)
	}
}

func TestCLIPasswordStdinEmpty(t *testing.T) {
	c := newCLI(t)
	withStdin(t, "")
	_, err := c.run("user", "create", "--email", "a@example.com", "--password-stdin")
	if err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("user create --password-stdin with nothing to read: err %v, want one about standard input", err)
	}
}

func TestCLIApps(t *testing.T) {
	c := newCLI(t)
	var a appJSON
	out := c.json(&a, "app", "create", "--name", "X", "--redirect-uri", "https://x.example/cb", "--scopes", "write_orders,read_products")
	if !strings.HasPrefix(a.ClientID, "app_") {
		t.Errorf("client_id %q has no app_ prefix", a.ClientID)
	}
	if !strings.HasPrefix(a.ClientSecret, oauth.PrefixSecret) || len(a.ClientSecret) < 40 {
		t.Errorf("client_secret %q is not an sks_ secret", a.ClientSecret)
	}
	want := appJSON{
		ClientID: a.ClientID, ClientSecret: a.ClientSecret, Name: "X",
		RedirectURIs: []string{"https://x.example/cb"}, Scopes: []string{"read_products", "write_orders"},
		Profile: "standard", CreatedAt: a.CreatedAt,
	}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("app create --json (-want +got):\n%s", diff)
	}
	if _, err := time.Parse(time.RFC3339, a.CreatedAt); err != nil {
		t.Errorf("created_at: %v", err)
	}
	if strings.Contains(out, "hash") {
		t.Errorf("app create --json prints a hash:\n%s", out)
	}

	human := c.ok("app", "create", "--name", "Y", "--redirect-uri", "https://y.example/cb")
	if !regexp.MustCompile(`(?m)^client_id: +app_\S+\nclient_secret: sks_\S+\nStore the secret now`).MatchString(human) {
		t.Errorf("app create printed:\n%s", human)
	}

	var pub appJSON
	c.json(&pub, "app", "create", "--name", "Native", "--public", "--redirect-uri", "http://127.0.0.1:7777/cb",
		"--redirect-uri", "com.example.native:/cb", "--access-ttl", "never", "--refresh-ttl", "720h", "--no-refresh")
	if pub.ClientSecret != "" || !pub.Public || pub.AccessTTL != "never" || pub.RefreshTTL != "720h0m0s" || !pub.NoRefresh {
		t.Errorf("public app create --json printed %+v", pub)
	}

	// Nothing but create prints a secret.
	noSecret := func(what, out string) {
		t.Helper()
		if strings.Contains(out, "client_secret") || strings.Contains(out, oauth.PrefixSecret) {
			t.Errorf("%s prints a secret:\n%s", what, out)
		}
	}
	var list []appJSON
	noSecret("app list --json", c.json(&list, "app", "list"))
	var ids []string
	for _, l := range list {
		ids = append(ids, l.ClientID)
	}
	if len(ids) != 3 || ids[0] != a.ClientID || ids[2] != pub.ClientID {
		t.Errorf("app list --json has %q, want the three apps in creation order", ids)
	}
	noSecret("app list", c.ok("app", "list"))

	var shown appJSON
	noSecret("app show --json", c.json(&shown, "app", "show", a.ClientID))
	want.ClientSecret = ""
	if diff := cmp.Diff(want, shown); diff != "" {
		t.Errorf("app show --json (-want +got):\n%s", diff)
	}
	noSecret("app show", c.ok("app", "show", a.ClientID))

	var r1, r2 rotateJSON
	before := time.Now()
	c.json(&r1, "app", "rotate-secret", a.ClientID)
	c.json(&r2, "app", "rotate-secret", a.ClientID, "--grace", "1h")
	if r1.ClientID != a.ClientID || !strings.HasPrefix(r1.Secret, oauth.PrefixSecret) {
		t.Errorf("rotate-secret --json printed %+v", r1)
	}
	if r1.Secret == a.ClientSecret || r2.Secret == r1.Secret {
		t.Error("rotate-secret printed a secret it had printed before")
	}
	for _, c := range []struct {
		r     rotateJSON
		grace time.Duration
	}{{r1, 24 * time.Hour}, {r2, time.Hour}} { // config secret_grace, then --grace
		until, err := time.Parse(time.RFC3339, c.r.ValidUntil)
		if err != nil {
			t.Fatal(err)
		}
		if d := until.Sub(before); d < c.grace-time.Minute || d > c.grace+time.Minute {
			t.Errorf("previous secret valid until %s, want about %s from now", c.r.ValidUntil, c.grace)
		}
	}

	if out := c.ok("app", "delete", a.ClientID); out != "deleted "+a.ClientID+"\n" {
		t.Errorf("app delete printed %q", out)
	}
	if _, err := c.run("app", "show", a.ClientID); err == nil {
		t.Error("app show of a deleted app succeeded")
	}
	var del map[string]string
	c.json(&del, "app", "delete", pub.ClientID)
	if diff := cmp.Diff(map[string]string{"client_id": pub.ClientID, "status": "deleted"}, del); diff != "" {
		t.Errorf("app delete --json (-want +got):\n%s", diff)
	}
}

// TestCLIErrors checks that each mistake is an error that names the problem,
// printed nowhere else and never a panic.
func TestCLIErrors(t *testing.T) {
	c := newCLI(t)
	c.ok("user", "create", "--email", "owner@example.com", "--password", "long enough")
	c.ok("store", "create", "--name", "Corner Shop", "--owner", "owner@example.com")
	var pub appJSON
	c.json(&pub, "app", "create", "--name", "Native", "--public", "--redirect-uri", "http://localhost:9000/cb")

	const cb = "https://x.example/cb"
	tests := []struct {
		name string
		args []string
		want string // in the error's text
	}{
		{"unknown scope", []string{"app", "create", "--name", "X", "--redirect-uri", cb, "--scopes", "read_products,fly_rockets"}, `unknown scope "fly_rockets"`},
		{"http redirect", []string{"app", "create", "--name", "X", "--redirect-uri", "http://x.example/cb"}, "must use https"},
		{"redirect with fragment", []string{"app", "create", "--name", "X", "--redirect-uri", cb + "#top"}, "fragment"},
		{"javascript redirect", []string{"app", "create", "--name", "X", "--redirect-uri", "javascript:alert(1)"}, "forbidden scheme"},
		{"relative redirect", []string{"app", "create", "--name", "X", "--redirect-uri", "/cb"}, "not an absolute URI"},
		{"out of band for a confidential app", []string{"app", "create", "--name", "X", "--redirect-uri", oauth.OOBRedirectURI}, "out-of-band"},
		{"no redirect", []string{"app", "create", "--name", "X"}, "--redirect-uri is required"},
		{"no app name", []string{"app", "create", "--name", "  ", "--redirect-uri", cb}, "--name is required"},
		{"bad access ttl", []string{"app", "create", "--name", "X", "--redirect-uri", cb, "--access-ttl", "soon"}, `invalid duration "soon"`},
		{"duplicate email", []string{"user", "create", "--email", "owner@example.com", "--password", "long enough"}, `a user with email "owner@example.com" already exists`},
		{"bad email", []string{"user", "create", "--email", "owner", "--password", "long enough"}, `"owner" is not an email address`},
		{"short password", []string{"user", "create", "--email", "new@example.com", "--password", "short"}, "at least 8 characters"},
		{"unknown owner", []string{"store", "create", "--name", "Shop", "--owner", "nobody@example.com"}, `no user with email "nobody@example.com"`},
		{"no store name", []string{"store", "create", "--owner", "owner@example.com"}, "--name is required"},
		{"bad slug", []string{"store", "create", "--name", "Shop", "--slug", "Bad_Slug", "--owner", "owner@example.com"}, `--slug "Bad_Slug"`},
		{"name without letters", []string{"store", "create", "--name", "!!!", "--owner", "owner@example.com"}, `--slug ""`},
		{"duplicate slug", []string{"store", "create", "--name", "Corner shop", "--owner", "owner@example.com"}, `slug "corner-shop" already exists`},
		{"show unknown app", []string{"app", "show", "app_nope"}, `no app with client id "app_nope"`},
		{"rotate unknown app", []string{"app", "rotate-secret", "app_nope"}, `no app with client id "app_nope"`},
		{"delete unknown app", []string{"app", "delete", "app_nope"}, `no app with client id "app_nope"`},
		{"rotate public app", []string{"app", "rotate-secret", pub.ClientID}, "public apps have no secret"},
		{"revoke nothing", []string{"token", "revoke"}, "give exactly one of"},
		{"revoke app without store", []string{"token", "revoke", "--app", pub.ClientID}, "give exactly one of"},
		{"revoke token and grant", []string{"token", "revoke", "--token", "a", "--grant", "b"}, "give exactly one of"},
		{"revoke unknown token", []string{"token", "revoke", "--token", "ska_nope"}, "no such token"},
		{"revoke unknown grant", []string{"token", "revoke", "--grant", "grt_nope"}, `no grant "grt_nope"`},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"app", "list", "--colour"}, "unknown flag: --colour"},
		{"missing argument", []string{"app", "show"}, "accepts 1 arg(s), received 0"},
		{"extra argument", []string{"migrate", "now"}, `unknown command "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{t: t, db: c.db}
			out, err := c.run(tt.args...)
			if err == nil {
				t.Fatalf("storekey %s succeeded, printing %q", strings.Join(tt.args, " "), out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("storekey %s: error %q, want it to say %q", strings.Join(tt.args, " "), err, tt.want)
			}
			if out != "" {
				t.Errorf("storekey %s failed but printed %q", strings.Join(tt.args, " "), out)
			}
		})
	}
}

// idRE matches the random ids the CLI prints (oauth.RandomID: a prefix and
// 16 characters).
var (
	idRE   = regexp.MustCompile(`\b(app|usr|sto|loc|grt)_[A-Za-z0-9_-]{16}`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)`)
)

// normalize replaces ids, in order of appearance, and times with fixed
// values of the same length, so that columns stay aligned.
func normalize(s string) string {
	seen := map[string]string{}
	s = idRE.ReplaceAllStringFunc(s, func(id string) string {
		if n, ok := seen[id]; ok {
			return n
		}
		prefix, rest, _ := strings.Cut(id, "_")
		n := fmt.Sprintf("%s_%0*d", prefix, len(rest), len(seen)+1)
		seen[id] = n
		return n
	})
	return timeRE.ReplaceAllString(s, "2006-01-02T15:04:05Z")
}

// golden compares got with testdata/name.golden, or rewrites the file with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is meant, run go test ./cmd/storekey -update:\n%s", path, diff)
	}
}

// TestCLIGolden pins the human output of app list and app show.
func TestCLIGolden(t *testing.T) {
	c := newCLI(t)
	var a appJSON
	c.json(&a, "app", "create", "--name", "Corner Analytics", "--developer", "Acme Ltd",
		"--redirect-uri", "https://analytics.example/oauth/callback", "--redirect-uri", "https://analytics.example/alt",
		"--scopes", "read_orders read_products")
	c.ok("app", "create", "--name", "Stock Counter", "--public", "--redirect-uri", "http://127.0.0.1:7777/cb",
		"--scopes", "read_inventory,write_inventory")
	c.ok("app", "create", "--name", "Bare", "--redirect-uri", "https://bare.example/cb")

	golden(t, "app_list", normalize(c.ok("app", "list")))
	golden(t, "app_show", normalize(c.ok("app", "show", a.ClientID)))
}

func TestNormalize(t *testing.T) {
	in := "app_AbCdEfGhIjKlMn-_ x app_zzzzzzzzzzzzzzzz app_AbCdEfGhIjKlMn-_ 2026-11-22T16:39:09Z"
	want := "app_0000000000000001 x app_0000000000000002 app_0000000000000001 2006-01-02T15:04:05Z"
	if got := normalize(in); got != want {
		t.Errorf("normalize(%q) = %q, want %q", in, got, want)
	}
}

// TestCLITokenRevoke issues tokens through the service on the CLI's
// database, revokes them with the CLI, and checks that a running service
// (another process, in production) stops accepting them.
func TestCLITokenRevoke(t *testing.T) {
	c := newCLI(t)
	var u userJSON
	c.json(&u, "user", "create", "--email", "owner@example.com", "--password", "long enough")
	var s storeJSON
	c.json(&s, "store", "create", "--name", "Corner Shop", "--owner", "owner@example.com")
	const redirect = "https://x.example/cb"
	var a appJSON
	c.json(&a, "app", "create", "--name", "X", "--redirect-uri", redirect, "--scopes", "read_products,write_orders")

	ctx := t.Context()
	cfg := defaultConfig()
	cfg.Database = c.db
	in, err := open(ctx, &env{getenv: noEnv, stdout: io.Discard, stderr: io.Discard}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	watch, stop := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() { defer close(watching); in.svc.WatchRevocations(watch, 20*time.Millisecond) }()
	defer func() { stop(); <-watching }()

	secret := a.ClientSecret
	issue := func() *oauth.TokenResponse {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		az, err := in.svc.ValidateAuthorize(ctx, oauth.AuthorizeRequest{
			ResponseType: "code", ClientID: a.ClientID, RedirectURI: redirect, Scope: "read_products", State: "st",
			CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier), CodeChallengeMethod: oauth.PKCES256,
		})
		if err != nil {
			t.Fatalf("authorize: %v", err)
		}
		code, err := in.svc.Approve(ctx, az, merchantSession(t, in.db, u.ID), s.ID, oauth.Bound{})
		if err != nil {
			t.Fatalf("approve: %v", err)
		}
		tok, err := in.svc.Token(ctx, oauth.TokenRequest{
			GrantType: oauth.GrantAuthorizationCode, Client: oauth.ClientCredentials{ID: a.ClientID, Secret: secret, Basic: true},
			Code: code, RedirectURI: redirect, CodeVerifier: verifier,
		})
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		if _, err := in.svc.Validate(ctx, tok.AccessToken); err != nil {
			t.Fatalf("a new access token is not valid: %v", err)
		}
		return tok
	}
	// rejected waits until the service refuses the token, as it must once it
	// has followed the revocation log.
	rejected := func(what, token string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			_, err := in.svc.Validate(ctx, token)
			if err != nil {
				if code := oauth.AsError(err).Code; code != oauth.ErrInvalidToken {
					t.Errorf("%s: the token is refused with %s, want %s", what, code, oauth.ErrInvalidToken)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: the service still accepts the token 3 s later", what)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var n map[string]int

	t1, t2 := issue(), issue()
	c.json(&n, "token", "revoke", "--app", a.ClientID, "--store", s.ID)
	if n["revoked_grants"] != 2 {
		t.Errorf("token revoke --app --store revoked %v, want 2 grants", n)
	}
	rejected("revoke --app --store", t1.AccessToken)
	rejected("revoke --app --store", t2.AccessToken)
	c.json(&n, "token", "revoke", "--app", a.ClientID, "--store", s.ID)
	if n["revoked_grants"] != 0 {
		t.Errorf("a second token revoke --app --store revoked %v, want 0", n)
	}

	t3 := issue()
	c.json(&n, "token", "revoke", "--token", t3.AccessToken)
	if n["revoked_grants"] != 1 {
		t.Errorf("token revoke --token revoked %v, want 1 grant", n)
	}
	rejected("revoke --token access", t3.AccessToken)

	t4 := issue()
	if t4.RefreshToken == "" {
		t.Fatal("no refresh token issued")
	}
	if out := c.ok("token", "revoke", "--token", t4.RefreshToken); out != "revoked 1 grant(s)\n" {
		t.Errorf("token revoke --token printed %q", out)
	}
	rejected("revoke --token refresh", t4.AccessToken)

	t5 := issue()
	c.json(&n, "token", "revoke", "--grant", t5.Grant.ID)
	rejected("revoke --grant", t5.AccessToken)

	// rotate-secret: the previous secret works for --grace, then not.
	var r rotateJSON
	c.json(&r, "app", "rotate-secret", a.ClientID, "--grace", "1h")
	for _, sec := range []string{a.ClientSecret, r.Secret} {
		if _, err := in.svc.AuthenticateClient(ctx, oauth.ClientCredentials{ID: a.ClientID, Secret: sec, Basic: true}); err != nil {
			t.Errorf("after rotate-secret --grace 1h, a secret is refused: %v", err)
		}
	}
	secret = r.Secret
	t6 := issue()
	c.json(&r, "app", "rotate-secret", a.ClientID, "--grace", "0s")
	// A running service keeps apps cached for 5 s and honours a new secret
	// at once, but an old one until the entry expires: forget it, as a
	// process that has not cached the app yet would.
	in.svc.ForgetApp(a.ClientID)
	for _, sec := range []string{a.ClientSecret, secret} {
		if _, err := in.svc.AuthenticateClient(ctx, oauth.ClientCredentials{ID: a.ClientID, Secret: sec, Basic: true}); err == nil {
			t.Error("after rotate-secret --grace 0s, an older secret is still accepted")
		}
	}

	// Deleting the app revokes what it holds.
	c.ok("app", "delete", a.ClientID)
	rejected("app delete", t6.AccessToken)
	// The deletion reaches a running service through the revocation log,
	// within its poll interval.
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := in.svc.AuthenticateClient(ctx, oauth.ClientCredentials{ID: a.ClientID, Secret: r.Secret, Basic: true})
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Error("a deleted app still authenticates")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// yamlKeys lists the dotted YAML paths of a struct type's fields, recursing
// into nested structs.
func yamlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, yamlKeys(f.Type, prefix+tag+".")...)
			continue
		}
		keys = append(keys, prefix+tag)
	}
	return keys
}

// mapKeys lists the dotted paths of a decoded YAML document's leaves.
func mapKeys(m map[string]any, prefix string) []string {
	var keys []string
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			keys = append(keys, mapKeys(sub, prefix+k+".")...)
			continue
		}
		keys = append(keys, prefix+k)
	}
	return keys
}

func TestLoadConfigFile(t *testing.T) {
	const path = "testdata/config.yaml"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	have, all := mapKeys(doc, ""), yamlKeys(reflect.TypeFor[Config](), "")
	slices.Sort(have)
	slices.Sort(all)
	if diff := cmp.Diff(all, have); diff != "" {
		t.Errorf("%s must set every key of Config (-missing +unknown):\n%s", path, diff)
	}

	got, err := loadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen:             "0.0.0.0:9090",
		Issuer:             "https://auth.example.com",
		Database:           "postgres://storekey:secret@db.internal:5432/storekey",
		LogLevel:           "debug",
		LogJSON:            true,
		AccessLog:          false,
		DebugListen:        "127.0.0.1:6060",
		Keys:               []string{"an-old-server-key-of-at-least-32-characters", "the-current-server-key-of-at-least-32-characters"},
		CodeTTL:            Duration(2 * time.Minute),
		AccessTTL:          Duration(30 * time.Minute),
		RefreshTTL:         Duration(oauth.NoExpiry),
		RefreshRetryWindow: Duration(15 * time.Second),
		AllowPlainPKCE:     true,
		SkipKnownConsent:   false,
		ResourceServers:    []string{"https://api.example.com", "https://reports.example.com"},
		SessionTTL:         Duration(8 * time.Hour),
		SecretGrace:        Duration(90 * time.Minute),
		RateLimit:          RateLimit{TokenPerSecond: 12.5, TokenBurst: 40},
		Login:              Login{MaxFailures: 5, Window: Duration(10 * time.Minute)},
		Scopes: []oauth.ScopeInfo{
			{Name: "read_products", Description: "View your products"},
			{Name: "write_products", Description: "Change your products"},
		},
		Profiles: []string{"hike", "hubrise"},
		Webhooks: Webhooks{Deliver: false, AllowPrivate: true},
		Prune:    Prune{Interval: Duration(time.Hour), Retention: Duration(72 * time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loadConfig(%s) (-want +got):\n%s", path, diff)
	}

	// What the file says reaches the protocol's configuration.
	oc := got.oauthConfig()
	if oc.Issuer != want.Issuer || oc.RefreshTTL != oauth.NoExpiry || !oc.AllowPlainPKCE || oc.SkipKnownConsent ||
		len(oc.Scopes) != 2 || !slices.Equal(oc.ResourceServers, want.ResourceServers) {
		t.Errorf("oauthConfig() = %+v", oc)
	}

	// Written back, it reads the same (Duration's MarshalYAML).
	back, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(t.TempDir(), "again.yaml")
	if err := os.WriteFile(again, back, 0o600); err != nil {
		t.Fatal(err)
	}
	reread, err := loadConfig(again, noEnv)
	if err != nil {
		t.Fatalf("loadConfig of the marshalled config: %v\n%s", err, back)
	}
	if diff := cmp.Diff(got, reread); diff != "" {
		t.Errorf("marshal and load again (-first +second):\n%s", diff)
	}
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigEnv(t *testing.T) {
	tests := []struct {
		name string
		file string // YAML; "" for no file
		env  map[string]string
		want func(*Config)
	}{
		{name: "defaults", want: func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }},
		{
			name: "every kind of field",
			env: map[string]string{
				"STOREKEY_DATABASE":                    "/var/lib/storekey/db.sqlite",
				"STOREKEY_RATE_LIMIT_TOKEN_PER_SECOND": "7.5",
				"STOREKEY_RATE_LIMIT_TOKEN_BURST":      "9",
				"STOREKEY_RESOURCE_SERVERS":            "a, b,,",
				"STOREKEY_ACCESS_TTL":                  "never",
				"STOREKEY_LOGIN_WINDOW":                "1m",
				"STOREKEY_LOG_JSON":                    "true",
				"STOREKEY_SKIP_KNOWN_CONSENT":          "false",
				"STOREKEY_LISTEN":                      "127.0.0.1:9999",
			},
			want: func(c *Config) {
				c.Database = "/var/lib/storekey/db.sqlite"
				c.RateLimit = RateLimit{TokenPerSecond: 7.5, TokenBurst: 9}
				c.ResourceServers = []string{"a", "b"}
				c.AccessTTL = Duration(oauth.NoExpiry)
				c.Login.Window = Duration(time.Minute)
				c.LogJSON = true
				c.SkipKnownConsent = false
				c.Listen = "127.0.0.1:9999"
				c.Issuer = "http://127.0.0.1:9999" // follows listen
			},
		},
		{
			name: "environment over file",
			file: "database: from-file.db\naccess_ttl: 5m\nissuer: https://file.example/\n",
			env:  map[string]string{"STOREKEY_DATABASE": "from-env.db", "STOREKEY_ISSUER": "https://env.example"},
			want: func(c *Config) {
				c.Database = "from-env.db"
				c.AccessTTL = Duration(5 * time.Minute)
				c.Issuer = "https://env.example"
			},
		},
		{name: "empty file", file: "# nothing\n", want: func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "storekey.yaml")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := loadConfig(path, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			want := defaultConfig()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("loadConfig (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // YAML; "" for no file
		env  map[string]string
		want string // in the error's text
	}{
		{name: "unknown key", file: "databse: x.db\n", want: "field databse not found"},
		{name: "unknown nested key", file: "rate_limit:\n  per_second: 3\n", want: "field per_second not found"},
		{name: "bad duration in file", file: "code_ttl: 5 minutes\n", want: `invalid duration "5 minutes"`},
		{name: "duration without unit", file: "access_ttl: 300\n", want: `invalid duration "300"`},
		{name: "wrong type", file: "rate_limit:\n  token_burst: many\n", want: "line 2: cannot unmarshal"},
		{name: "not YAML", file: "listen: [\n", want: "config "},
		{name: "bad duration in env", env: map[string]string{"STOREKEY_SESSION_TTL": "forever"}, want: `STOREKEY_SESSION_TTL: invalid duration "forever"`},
		{name: "bad number in env", env: map[string]string{"STOREKEY_RATE_LIMIT_TOKEN_PER_SECOND": "fast"}, want: `STOREKEY_RATE_LIMIT_TOKEN_PER_SECOND: invalid number "fast"`},
		{name: "bad integer in env", env: map[string]string{"STOREKEY_LOGIN_MAX_FAILURES": "ten"}, want: `STOREKEY_LOGIN_MAX_FAILURES: invalid integer "ten"`},
		{name: "bad boolean in env", env: map[string]string{"STOREKEY_ACCESS_LOG": "sometimes"}, want: `STOREKEY_ACCESS_LOG: invalid boolean "sometimes"`},
		{name: "scopes in env", env: map[string]string{"STOREKEY_SCOPES": "read_x"}, want: "STOREKEY_SCOPES: can only be set in the config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "storekey.yaml")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := loadConfig(path, envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadConfig: error %v, want one that says %q", err, tt.want)
			}
		})
	}
	if _, err := loadConfig(filepath.Join(t.TempDir(), "missing.yaml"), noEnv); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("loadConfig of a missing file: %v, want os.ErrNotExist", err)
	}
}

// TestRunConfig checks where run takes the configuration from: --config,
// STOREKEY_CONFIG, STOREKEY_DATABASE, and --database over all of them.
func TestRunConfig(t *testing.T) {
	dir := t.TempDir()
	fromFile := filepath.Join(dir, "file.db")
	path := filepath.Join(dir, "storekey.yaml")
	if err := os.WriteFile(path, []byte("database: "+fromFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"--config", nil, []string{"--config", path}, fromFile},
		{"STOREKEY_CONFIG", map[string]string{"STOREKEY_CONFIG": path}, nil, fromFile},
		{"STOREKEY_DATABASE over the file", map[string]string{"STOREKEY_CONFIG": path, "STOREKEY_DATABASE": filepath.Join(dir, "env.db")}, nil, filepath.Join(dir, "env.db")},
		{"--database over all", map[string]string{"STOREKEY_DATABASE": filepath.Join(dir, "env.db")}, []string{"--config", path, "--database", filepath.Join(dir, "flag.db")}, filepath.Join(dir, "flag.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runCLI(t, envOf(tt.env), append([]string{"migrate", "--json"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			if m["database"] != tt.want {
				t.Errorf("migrated %q, want %q", m["database"], tt.want)
			}
			if _, err := os.Stat(tt.want); err != nil {
				t.Errorf("the database file: %v", err)
			}
		})
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("nonsense: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate"}, {"app", "list"}, {"serve", "--listen", "127.0.0.1:0"}, {"demo"}} {
		if _, _, err := runCLI(t, noEnv, append(args, "--config", bad)...); err == nil || !strings.Contains(err.Error(), "nonsense") {
			t.Errorf("storekey %s with an unknown key in the config: error %v", strings.Join(args, " "), err)
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// startRun runs the command line in a goroutine until the test ends or stop
// is called, and waits until base/healthz answers.
func startRun(t *testing.T, base string, args ...string) (stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, noEnv, stdout, stderr) }()
	var once bool
	var result error
	stop = func() error {
		if once {
			return result
		}
		once = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(15 * time.Second):
			result = errors.New("still running 15 s after its context ended")
		}
		return result
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("storekey %s: %v", strings.Join(args, " "), err)
		}
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr)
		}
	})

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stdout, stderr, stop
			}
		}
		select {
		case err := <-done:
			once, result = true, err
			t.Fatalf("storekey %s ended before it answered: %v\n%s", strings.Join(args, " "), err, stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("storekey %s did not answer /healthz within 10 s: %v", strings.Join(args, " "), err)
		}
	}
}

func httpGet(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestServe runs `storekey serve` and `storekey demo` as an operator does,
// and stops them as a signal would.
func TestServe(t *testing.T) {
	t.Run("serve", func(t *testing.T) {
		addr := freeAddr(t)
		base := "http://" + addr
		db := filepath.Join(t.TempDir(), "serve.db")
		_, stderr, stop := startRun(t, base, "serve", "--listen", addr, "--database", db)

		for _, path := range []string{"/healthz", "/readyz"} {
			if status, _, body := httpGet(t, base+path); status != http.StatusOK || body != "ok\n" {
				t.Errorf("GET %s: %d %q", path, status, body)
			}
		}
		status, h, body := httpGet(t, base+"/.well-known/oauth-authorization-server")
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("metadata: %d %s", status, h.Get("Content-Type"))
		}
		var md struct {
			Issuer                string   `json:"issuer"`
			AuthorizationEndpoint string   `json:"authorization_endpoint"`
			TokenEndpoint         string   `json:"token_endpoint"`
			RevocationEndpoint    string   `json:"revocation_endpoint"`
			IntrospectionEndpoint string   `json:"introspection_endpoint"`
			ScopesSupported       []string `json:"scopes_supported"`
			CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
			IssParameter          bool     `json:"authorization_response_iss_parameter_supported"`
		}
		if err := json.Unmarshal([]byte(body), &md); err != nil {
			t.Fatal(err)
		}
		// --listen moves the default issuer with it (RFC 8414 §3.3: it must
		// match the URL the document was fetched from).
		if md.Issuer != base || md.AuthorizationEndpoint != base+"/oauth/authorize" || md.TokenEndpoint != base+"/oauth/token" ||
			md.RevocationEndpoint != base+"/oauth/revoke" || md.IntrospectionEndpoint != base+"/oauth/introspect" {
			t.Errorf("metadata endpoints: %+v", md)
		}
		if !slices.Contains(md.ScopesSupported, "read_products") || !slices.Equal(md.CodeChallengeMethods, []string{"S256"}) || !md.IssParameter {
			t.Errorf("metadata: %+v", md)
		}
		if status, _, _ := httpGet(t, base+"/example/"); status != http.StatusNotFound {
			t.Errorf("GET /example/ on serve: %d, want 404 (only the demo mounts it)", status)
		}

		if err := stop(); err != nil {
			t.Fatalf("serve did not stop cleanly: %v", err)
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = conn.Close()
			t.Error("the port still accepts connections after serve returned")
		}
		logs := stderr.String()
		for _, want := range []string{`msg="storekey listening" addr=` + addr, "issuer=" + base, `msg="storekey stopped"`} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		}
	})

	t.Run("demo twice on one database", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "demo.db")
		for i := range 2 { // the second start finds the records and keeps them
			addr := freeAddr(t)
			base := "http://" + addr
			stdout, _, stop := startRun(t, base, "demo", "--listen", addr, "--database", db)
			if !strings.Contains(stdout.String(), "Storekey demo at "+base) || !strings.Contains(stdout.String(), demoPassword) {
				t.Errorf("start %d: the demo printed %q", i+1, stdout)
			}
			status, _, body := httpGet(t, base+"/example/")
			if status != http.StatusOK || !strings.Contains(body, "Connect to Storekey") || !strings.Contains(body, base+"/example/callback") {
				t.Errorf("start %d: GET /example/: %d\n%s", i+1, status, body)
			}
			if err := stop(); err != nil {
				t.Fatalf("start %d: demo did not stop cleanly: %v", i+1, err)
			}
		}
		out, _, err := runCLI(t, noEnv, "app", "list", "--json", "--database", db)
		if err != nil {
			t.Fatal(err)
		}
		var apps []appJSON
		if err := json.Unmarshal([]byte(out), &apps); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range apps {
			ids = append(ids, a.ClientID)
		}
		slices.Sort(ids)
		want := []string{"app_demo_example", "app_demo_hiboutik", "app_demo_hike", "app_demo_hubrise", "app_demo_hypersku", "app_demo_storehippo"}
		if !slices.Equal(ids, want) {
			t.Errorf("after two starts the demo database has apps %v, want one per profile %v", ids, want)
		}
	})
}
