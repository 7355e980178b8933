// Package storetest is the behaviour suite that every implementation of
// oauth.Storage passes: the same named subtests, run against each backend,
// so that the backends cannot drift apart. It checks the contracts written
// on oauth.Storage and oauth.SampleData, above all the atomic single-use and
// rotation rules under concurrency.
//
// It imports oauth and the standard library (and go-cmp), never a backend.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storekey/storekey/internal/oauth"
)

// Run runs the suite. open must return a fresh, migrated, empty store each
// time it is called, and arrange with t.Cleanup to close it; every subtest
// opens its own and runs in parallel with the others.
func Run(t *testing.T, open func(t *testing.T) oauth.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s oauth.Storage)
	}{
		{"Ping", testPing},
		{"AppRoundTrip", testAppRoundTrip},
		{"AppMinimalRoundTrip", testAppMinimalRoundTrip},
		{"TimesTruncatedToMicrosecondsUTC", testTimesTruncated},
		{"AppNotFound", testAppNotFound},
		{"AppConflict", testAppConflict},
		{"Apps", testApps},
		{"UpdateApp", testUpdateApp},
		{"DeleteAppCascades", testDeleteAppCascades},
		{"User", testUser},
		{"UserEmailCaseInsensitive", testUserEmailCaseInsensitive},
		{"Store", testStore},
		{"CreateStoreAtomic", testCreateStoreAtomic},
		{"Memberships", testMemberships},
		{"Locations", testLocations},
		{"CatalogsAndCustomerLists", testResources},
		{"RebindGrant", testRebindGrant},
		{"SessionExpiry", testSessionExpiry},
		{"MerchantSession", testMerchantSession},
		{"Code", testCode},
		{"ReferenceToMissingRecord", testMissingReference},
		{"RedeemCode", testRedeemCode},
		{"RedeemCodeSingleUse", testRedeemCodeSingleUse},
		{"RedeemCodeMembership", testRedeemCodeMembership},
		{"RedeemCodeAtomic", testRedeemCodeAtomic},
		{"Grants", testGrants},
		{"RotateGrant", testRotateGrant},
		{"RotateGrantStale", testRotateGrantStale},
		{"RotateGrantRevoked", testRotateGrantRevoked},
		{"RotateGrantAtomic", testRotateGrantAtomic},
		{"MarkGrantUsed", testMarkGrantUsed},
		{"RevokeGrant", testRevokeGrant},
		{"RevokeGrants", testRevokeGrants},
		{"Token", testToken},
		{"TokenInfoJoin", testTokenInfoJoin},
		{"RevokeToken", testRevokeToken},
		{"PruneExpired", testPruneExpired},
		{"RevocationLog", testRevocationLog},
		{"RevocationLogFollower", testRevocationLogFollower},
		{"Keys", testKeys},
		{"CountAttempt", testCountAttempt},
		{"CountAttemptConcurrent", testCountAttemptConcurrent},
		{"SampleData", testSampleData},
		{"RaceRedeemCode", testRaceRedeemCode},
		{"RaceRedeemUnstoredCode", testRaceRedeemUnstoredCode},
		{"RaceRotateGrant", testRaceRotateGrant},
		{"RaceRevokeAndRotate", testRaceRevokeAndRotate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// passwordHash is what a user record holds; the store never looks inside.
//
//nolint:gosec // G101: a made-up hash of a made-up password, test data.
const passwordHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"

// t0 is the suite's clock: a time with a full microsecond part, in UTC.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// races is how many goroutines the race subtests start.
const races = 50

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// wantUnstored checks that neither the grant g (if not nil) nor any of
// toks is stored: what a refused write must leave.
func wantUnstored(t *testing.T, s oauth.Storage, what string, g *oauth.Grant, toks []*oauth.Token) {
	t.Helper()
	if g != nil {
		_, err := s.Grant(t.Context(), g.ID)
		wantErr(t, "Grant of "+what, err, oauth.ErrNotFound)
	}
	for _, tok := range toks {
		_, err := s.TokenInfo(t.Context(), tok.Hash)
		wantErr(t, "TokenInfo of "+what, err, oauth.ErrNotFound)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", what, d)
	}
}

func hash(s string) []byte { return oauth.Hash(s) }

// fixture is a store with an app, a merchant and a shop, the records that
// codes, grants and tokens refer to.
type fixture struct {
	s     oauth.Storage
	app   *oauth.App
	user  *oauth.User
	store *oauth.Store
}

func newFixture(t *testing.T, s oauth.Storage) *fixture {
	t.Helper()
	f := &fixture{s: s}
	f.app = f.newApp(t, "app1")
	f.user = &oauth.User{ID: "u1", Email: "Ada@Example.com", Name: "Ada", PasswordHash: passwordHash, CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(t.Context(), f.user))
	f.store = &oauth.Store{ID: "s1", Name: "Ada's Shop", Slug: "adas-shop", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(t.Context(), f.store, f.user.ID))
	return f
}

func (f *fixture) newApp(t *testing.T, id string) *oauth.App {
	t.Helper()
	a := &oauth.App{
		ID:           id,
		Name:         "App " + id,
		RedirectURIs: []string{"https://" + id + ".example/cb"},
		Scopes:       oauth.NewScopes("read_products", "write_orders"),
		SecretHash:   hash("sks_" + id),
		Profile:      "standard",
		CreatedAt:    t0,
		UpdatedAt:    t0,
	}
	noErr(t, "CreateApp "+id, f.s.CreateApp(t.Context(), a))
	return a
}

func (f *fixture) code(name string) *oauth.Code {
	return &oauth.Code{
		Hash:            hash("skc_" + name),
		AppID:           f.app.ID,
		StoreID:         f.store.ID,
		UserID:          f.user.ID,
		RedirectURI:     f.app.RedirectURIs[0],
		Scopes:          oauth.NewScopes("read_products"),
		Challenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		ChallengeMethod: oauth.PKCES256,
		Bound:           oauth.Bound{LocationID: "loc1"},
		CreatedAt:       t0,
		ExpiresAt:       t0.Add(time.Minute),
	}
}

func (f *fixture) newCode(t *testing.T, name string) *oauth.Code {
	t.Helper()
	c := f.code(name)
	noErr(t, "CreateCode", f.s.CreateCode(t.Context(), c))
	return c
}

func (f *fixture) grant(id string) *oauth.Grant {
	return &oauth.Grant{
		ID:         id,
		AppID:      f.app.ID,
		StoreID:    f.store.ID,
		UserID:     f.user.ID,
		Scopes:     oauth.NewScopes("read_products"),
		Bound:      oauth.Bound{LocationID: "loc1", CatalogID: "cat1", CustomerListID: "cl1", DeviceID: "dev1"},
		Generation: 1,
		KeyID:      "k1",
		RotatedAt:  t0,
		CreatedAt:  t0,
	}
}

// tokens returns the access and refresh token of a grant's generation, with
// hashes that name tag so that racing callers' tokens can be told apart.
func (f *fixture) tokens(g *oauth.Grant, gen int64, tag string, now time.Time) []*oauth.Token {
	var out []*oauth.Token
	for _, kind := range []oauth.TokenKind{oauth.KindAccess, oauth.KindRefresh} {
		tok := &oauth.Token{
			Hash:       hash(fmt.Sprintf("%s/%s/%d/%s", g.ID, kind, gen, tag)),
			Kind:       kind,
			GrantID:    g.ID,
			AppID:      g.AppID,
			StoreID:    g.StoreID,
			UserID:     g.UserID,
			Scopes:     g.Scopes,
			Generation: gen,
			CreatedAt:  now,
		}
		if kind == oauth.KindAccess {
			tok.ExpiresAt = now.Add(time.Hour)
		}
		out = append(out, tok)
	}
	return out
}

// redeem creates a code and redeems it for a new grant with id, returning
// the grant and its tokens as stored.
func (f *fixture) redeem(t *testing.T, id string) (*oauth.Grant, []*oauth.Token) {
	t.Helper()
	c := f.newCode(t, "for-"+id)
	g := f.grant(id)
	toks := f.tokens(g, 1, "", t0)
	noErr(t, "RedeemCode", f.s.RedeemCode(t.Context(), c, t0, g, toks))
	return g, toks
}

func testPing(t *testing.T, s oauth.Storage) {
	noErr(t, "Ping", s.Ping(t.Context()))
}

func testAppRoundTrip(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	want := &oauth.App{
		ID:           "app-full",
		Name:         "Full App",
		LogoURL:      "https://cdn.example/logo.png",
		Developer:    "Example Ltd",
		RedirectURIs: []string{"https://a.example/cb", "https://a.example/cb 2?x=1&y=\"z\"", "com.example.app:/cb"},
		Scopes:       oauth.NewScopes("read_products", "write_orders", "read_customers"),
		SecretHash:   hash("sks_new"),
		PrevSecret:   hash("sks_old"),
		PrevExpires:  t0.Add(24 * time.Hour),
		Profile:      "hubrise",
		AccessTTL:    90 * time.Minute,
		RefreshTTL:   oauth.NoExpiry,
		NoRefresh:    true,
		PartnerID:    "p1",
		WebhookURL:   "https://a.example/hook",
		CreatedAt:    t0,
		UpdatedAt:    t0.Add(time.Second),
	}
	noErr(t, "CreateApp", s.CreateApp(ctx, want))
	got, err := s.App(ctx, want.ID)
	noErr(t, "App", err)
	diff(t, "App", got, want)
}

// An app with every optional field empty reads back with them empty: nil
// slices, nil hashes, zero times.
func testAppMinimalRoundTrip(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	want := &oauth.App{ID: "app-min", Name: "Min", Public: true, CreatedAt: t0}
	noErr(t, "CreateApp", s.CreateApp(ctx, want))
	got, err := s.App(ctx, want.ID)
	noErr(t, "App", err)
	diff(t, "App", got, want)
}

func testTimesTruncated(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	paris := time.FixedZone("CET", 3600)
	in := time.Date(2026, 3, 14, 16, 9, 26, 535897932, paris)
	noErr(t, "CreateApp", s.CreateApp(ctx, &oauth.App{ID: "a", Name: "A", CreatedAt: in}))
	got, err := s.App(ctx, "a")
	noErr(t, "App", err)
	want := in.UTC().Truncate(time.Microsecond)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v (%v), want %v in UTC", got.CreatedAt, got.CreatedAt.Location(), want)
	}
	if !got.UpdatedAt.IsZero() {
		t.Errorf("UpdatedAt = %v, want the zero time", got.UpdatedAt)
	}
}

func testAppNotFound(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	_, err := s.App(ctx, "missing")
	wantErr(t, "App", err, oauth.ErrNotFound)
	wantErr(t, "UpdateApp", s.UpdateApp(ctx, &oauth.App{ID: "missing", Name: "x", CreatedAt: t0}), oauth.ErrNotFound)
	wantErr(t, "DeleteApp", s.DeleteApp(ctx, "missing", t0), oauth.ErrNotFound)
	revs, err := s.Revocations(ctx, 0, 10)
	noErr(t, "Revocations", err)
	diff(t, "revocations after failed delete", revs, []oauth.Revocation(nil))
}

func testAppConflict(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	a := &oauth.App{ID: "dup", Name: "First", CreatedAt: t0}
	noErr(t, "CreateApp", s.CreateApp(ctx, a))
	wantErr(t, "CreateApp again", s.CreateApp(ctx, &oauth.App{ID: "dup", Name: "Second", CreatedAt: t0}), oauth.ErrConflict)
	got, err := s.App(ctx, "dup")
	noErr(t, "App", err)
	diff(t, "App", got, a)
}

func testApps(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	mk := func(id, partner string, at time.Time) *oauth.App {
		a := &oauth.App{ID: id, Name: id, PartnerID: partner, CreatedAt: at}
		noErr(t, "CreateApp", s.CreateApp(ctx, a))
		return a
	}
	c := mk("c", "p1", t0.Add(2*time.Second))
	a := mk("a", "p2", t0)
	b := mk("b", "p1", t0.Add(time.Second))
	got, err := s.Apps(ctx, "")
	noErr(t, "Apps", err)
	diff(t, "Apps()", got, []*oauth.App{a, b, c})
	got, err = s.Apps(ctx, "p1")
	noErr(t, "Apps(p1)", err)
	diff(t, "Apps(p1)", got, []*oauth.App{b, c})
	got, err = s.Apps(ctx, "nobody")
	noErr(t, "Apps(nobody)", err)
	diff(t, "Apps(nobody)", got, []*oauth.App(nil))
}

func testUpdateApp(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	upd := *f.app
	upd.Name = "Renamed"
	upd.RedirectURIs = []string{"https://new.example/cb", "http://127.0.0.1:8080/cb"}
	upd.Scopes = oauth.NewScopes("read_orders")
	upd.SecretHash, upd.PrevSecret, upd.PrevExpires = hash("sks_rotated"), f.app.SecretHash, t0.Add(time.Hour)
	upd.AccessTTL, upd.RefreshTTL, upd.NoRefresh = oauth.NoExpiry, 30*24*time.Hour, true
	upd.PartnerID, upd.WebhookURL, upd.LogoURL, upd.Developer, upd.Profile = "p9", "https://h", "https://l", "Dev", "hike"
	upd.UpdatedAt = t0.Add(time.Minute)
	upd.CreatedAt = t0.Add(time.Hour) // not updatable
	noErr(t, "UpdateApp", s.UpdateApp(ctx, &upd))
	got, err := s.App(ctx, f.app.ID)
	noErr(t, "App", err)
	want := upd
	want.CreatedAt = f.app.CreatedAt
	diff(t, "App after update", got, &want)
}

func testDeleteAppCascades(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	other := f.newApp(t, "other")
	g, toks := f.redeem(t, "g1")
	unused := f.newCode(t, "unused")
	appTok := &oauth.Token{Hash: hash("ska_app"), Kind: oauth.KindAccess, AppID: f.app.ID, CreatedAt: t0}
	noErr(t, "CreateToken", s.CreateToken(ctx, appTok))
	otherTok := &oauth.Token{Hash: hash("ska_other"), Kind: oauth.KindAccess, AppID: other.ID, CreatedAt: t0}
	noErr(t, "CreateToken", s.CreateToken(ctx, otherTok))

	noErr(t, "DeleteApp", s.DeleteApp(ctx, f.app.ID, t0.Add(time.Hour)))

	_, err := s.App(ctx, f.app.ID)
	wantErr(t, "App", err, oauth.ErrNotFound)
	_, err = s.Code(ctx, unused.Hash)
	wantErr(t, "Code", err, oauth.ErrNotFound)
	_, err = s.Grant(ctx, g.ID)
	wantErr(t, "Grant", err, oauth.ErrNotFound)
	for _, tok := range append(toks, appTok) {
		_, err = s.TokenInfo(ctx, tok.Hash)
		wantErr(t, "TokenInfo of a deleted app's token", err, oauth.ErrNotFound)
	}
	if _, err := s.App(ctx, other.ID); err != nil {
		t.Errorf("other app: %v", err)
	}
	if _, err := s.TokenInfo(ctx, otherTok.Hash); err != nil {
		t.Errorf("other app's token: %v", err)
	}
	if _, err := s.Store(ctx, f.store.ID); err != nil {
		t.Errorf("store: %v", err)
	}
	revs, err := s.Revocations(ctx, 0, 10)
	noErr(t, "Revocations", err)
	if len(revs) != 1 {
		t.Fatalf("revocations = %+v, want one", revs)
	}
	diff(t, "revocation", revs[0], oauth.Revocation{Seq: revs[0].Seq, AppID: f.app.ID, At: t0.Add(time.Hour)})
}

func testUser(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	u := &oauth.User{ID: "u1", Email: "ada@example.com", Name: "Ada Lovelace", PasswordHash: passwordHash, CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(ctx, u))
	got, err := s.User(ctx, u.ID)
	noErr(t, "User", err)
	diff(t, "User", got, u)
	_, err = s.User(ctx, "missing")
	wantErr(t, "User(missing)", err, oauth.ErrNotFound)
	_, err = s.UserByEmail(ctx, "missing@example.com")
	wantErr(t, "UserByEmail(missing)", err, oauth.ErrNotFound)
	wantErr(t, "CreateUser same id", s.CreateUser(ctx, &oauth.User{ID: "u1", Email: "other@example.com", CreatedAt: t0}), oauth.ErrConflict)
}

func testUserEmailCaseInsensitive(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	u := &oauth.User{ID: "u1", Email: "Ada.Lovelace@Example.COM", Name: "Ada", CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(ctx, u))
	for _, email := range []string{"Ada.Lovelace@Example.COM", "ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM"} {
		got, err := s.UserByEmail(ctx, email)
		noErr(t, "UserByEmail "+email, err)
		diff(t, "UserByEmail "+email+" (the email is kept as registered)", got, u)
	}
	wantErr(t, "CreateUser with the email in other case",
		s.CreateUser(ctx, &oauth.User{ID: "u2", Email: "ada.lovelace@EXAMPLE.com", CreatedAt: t0}), oauth.ErrConflict)
	_, err := s.User(ctx, "u2")
	wantErr(t, "User(u2)", err, oauth.ErrNotFound)
}

func testStore(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	got, err := s.Store(ctx, f.store.ID)
	noErr(t, "Store", err)
	diff(t, "Store", got, f.store)
	got, err = s.StoreBySlug(ctx, f.store.Slug)
	noErr(t, "StoreBySlug", err)
	diff(t, "StoreBySlug", got, f.store)
	_, err = s.Store(ctx, "missing")
	wantErr(t, "Store(missing)", err, oauth.ErrNotFound)
	_, err = s.StoreBySlug(ctx, "missing")
	wantErr(t, "StoreBySlug(missing)", err, oauth.ErrNotFound)
}

// CreateStore's two writes commit together or not at all.
func testCreateStoreAtomic(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	wantErr(t, "CreateStore with a taken slug",
		s.CreateStore(ctx, &oauth.Store{ID: "s2", Name: "Copy", Slug: f.store.Slug, CreatedAt: t0}, f.user.ID), oauth.ErrConflict)
	wantErr(t, "CreateStore with a taken id",
		s.CreateStore(ctx, &oauth.Store{ID: f.store.ID, Name: "Copy", Slug: "copy", CreatedAt: t0}, f.user.ID), oauth.ErrConflict)
	err := s.CreateStore(ctx, &oauth.Store{ID: "s3", Name: "Orphan", Slug: "orphan", CreatedAt: t0}, "no-such-user")
	if err == nil {
		t.Fatal("CreateStore with a missing owner succeeded")
	}
	_, err = s.Store(ctx, "s3")
	wantErr(t, "Store after the failed CreateStore", err, oauth.ErrNotFound)
	_, err = s.Store(ctx, "s2")
	wantErr(t, "Store(s2)", err, oauth.ErrNotFound)
	ms, err := s.Memberships(ctx, f.user.ID)
	noErr(t, "Memberships", err)
	diff(t, "Memberships", ms, []oauth.Membership{{Store: *f.store, Role: oauth.RoleOwner}})
}

func testMemberships(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s) // u1 owns "Ada's Shop"
	bob := &oauth.User{ID: "u2", Email: "bob@example.com", CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(ctx, bob))
	zeta := &oauth.Store{ID: "s-z", Name: "zeta", Slug: "zeta", CreatedAt: t0}
	beta := &oauth.Store{ID: "s-b", Name: "Beta", Slug: "beta", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, zeta, bob.ID))
	noErr(t, "CreateStore", s.CreateStore(ctx, beta, bob.ID))

	noErr(t, "AddMember", s.AddMember(ctx, zeta.ID, f.user.ID, oauth.RoleStaff))
	noErr(t, "AddMember", s.AddMember(ctx, beta.ID, f.user.ID, oauth.RoleStaff))
	noErr(t, "AddMember (replace)", s.AddMember(ctx, beta.ID, f.user.ID, oauth.RoleAdmin))

	got, err := s.Memberships(ctx, f.user.ID)
	noErr(t, "Memberships", err)
	diff(t, "Memberships by store name", got, []oauth.Membership{
		{Store: *f.store, Role: oauth.RoleOwner},
		{Store: *beta, Role: oauth.RoleAdmin},
		{Store: *zeta, Role: oauth.RoleStaff},
	})
	got, err = s.Memberships(ctx, "nobody")
	noErr(t, "Memberships(nobody)", err)
	diff(t, "Memberships(nobody)", got, []oauth.Membership(nil))
}

func testLocations(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	other := &oauth.Store{ID: "s2", Name: "Other", Slug: "other", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, other, f.user.ID))
	ls := []oauth.Location{
		{ID: "l1", StoreID: f.store.ID, Name: "warehouse"},
		{ID: "l2", StoreID: f.store.ID, Name: "Downtown"},
		{ID: "l3", StoreID: other.ID, Name: "Elsewhere"},
		{ID: "l4", StoreID: f.store.ID, Name: "airport"},
	}
	for i := range ls {
		noErr(t, "CreateLocation", s.CreateLocation(ctx, &ls[i]))
	}
	wantErr(t, "CreateLocation same id", s.CreateLocation(ctx, &ls[0]), oauth.ErrConflict)
	got, err := s.Locations(ctx, f.store.ID)
	noErr(t, "Locations", err)
	diff(t, "Locations by name", got, []oauth.Location{ls[3], ls[1], ls[0]})
}

func testResources(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	other := &oauth.Store{ID: "s2", Name: "Other", Slug: "other", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, other, f.user.ID))
	for _, kind := range []struct {
		name   string
		create func(context.Context, *oauth.Resource) error
		list   func(context.Context, string) ([]oauth.Resource, error)
	}{{"catalog", s.CreateCatalog, s.Catalogs}, {"customer list", s.CreateCustomerList, s.CustomerLists}} {
		rs := []oauth.Resource{
			{ID: kind.name + "1", StoreID: f.store.ID, Name: "Takeaway"},
			{ID: kind.name + "2", StoreID: other.ID, Name: "Elsewhere"},
			{ID: kind.name + "3", StoreID: f.store.ID, Name: "dine-in"},
		}
		for i := range rs {
			noErr(t, "create "+kind.name, kind.create(ctx, &rs[i]))
		}
		wantErr(t, "create "+kind.name+" same id", kind.create(ctx, &rs[0]), oauth.ErrConflict)
		wantErr(t, "create "+kind.name+" of a missing store", kind.create(ctx, &oauth.Resource{ID: kind.name + "x", StoreID: "nope", Name: "x"}), oauth.ErrNotFound)
		got, err := kind.list(ctx, f.store.ID)
		noErr(t, "list "+kind.name, err)
		diff(t, kind.name+"s by name", got, []oauth.Resource{rs[2], rs[0]})
	}
}

// RebindGrant redeems a code onto an existing grant, moving it and its
// access tokens to new scopes and resources; a second redemption of the
// code changes nothing.
func testRebindGrant(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g := f.grant("g1")
	toks := f.tokens(g, 1, "", t0)
	noErr(t, "RedeemCode", s.RedeemCode(ctx, f.newCode(t, "c1"), t0, g, toks))
	before, err := s.Revocations(ctx, 0, 100)
	noErr(t, "Revocations", err)

	c2 := f.newCode(t, "c2")
	moved := *g
	moved.Scopes = oauth.NewScopes("read_orders")
	moved.Bound = oauth.Bound{LocationID: "l9", CatalogID: "cat2", CustomerListID: "cl2", DeviceID: "d1"}
	noErr(t, "RebindGrant", s.RebindGrant(ctx, c2, t0.Add(time.Second), &moved))
	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if !cmp.Equal(got.Scopes, moved.Scopes) || got.Bound != moved.Bound || got.Generation != g.Generation {
		t.Errorf("grant after rebind: %+v", got)
	}
	for _, tok := range toks {
		info, err := s.TokenInfo(ctx, tok.Hash)
		noErr(t, "TokenInfo", err)
		if tok.Kind == oauth.KindAccess && !cmp.Equal(info.Scopes, moved.Scopes) {
			t.Errorf("access token scopes after rebind: %v", info.Scopes)
		}
	}
	code, err := s.Code(ctx, c2.Hash)
	noErr(t, "Code", err)
	if code.GrantID != g.ID || code.UsedAt.IsZero() {
		t.Errorf("code after rebind: %+v", code)
	}
	after, err := s.Revocations(ctx, 0, 100)
	noErr(t, "Revocations", err)
	if len(after) != len(before)+1 || after[len(after)-1].GrantID != g.ID {
		t.Errorf("rebind must log one entry for the grant: %+v", after)
	}
	again := moved
	again.Scopes = oauth.NewScopes("write_orders")
	wantErr(t, "RebindGrant with a used code", s.RebindGrant(ctx, c2, t0.Add(2*time.Second), &again), oauth.ErrConflict)
	got, err = s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	diff(t, "scopes after the refused rebind", got.Scopes, moved.Scopes)
}

// testMerchantSession: the session joined with its merchant, only for an
// unexpired merchant session whose merchant still exists.
func testMerchantSession(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	u := &oauth.User{ID: "u1", Email: "ada@example.com", Name: "Ada", PasswordHash: "x", CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(ctx, u))
	merchant := &oauth.Session{Hash: hash("sks_m"), UserID: u.ID, Kind: oauth.SessionMerchant, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	partner := &oauth.Session{Hash: hash("sks_p"), UserID: u.ID, Kind: oauth.SessionPartner, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	orphan := &oauth.Session{Hash: hash("sks_o"), UserID: "u-gone", Kind: oauth.SessionMerchant, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	for _, x := range []*oauth.Session{merchant, partner, orphan} {
		noErr(t, "CreateSession", s.CreateSession(ctx, x))
	}
	gotS, gotU, gotM, err := s.MerchantSession(ctx, merchant.Hash, t0.Add(time.Minute))
	noErr(t, "MerchantSession", err)
	diff(t, "MerchantSession session", gotS, merchant)
	diff(t, "MerchantSession user", gotU, u)
	diff(t, "MerchantSession memberships of a merchant without stores", gotM, []oauth.Membership(nil))

	// With stores: the memberships come along, as Memberships lists them.
	zed := &oauth.Store{ID: "s-z", Name: "zed", Slug: "zed", CreatedAt: t0}
	abc := &oauth.Store{ID: "s-a", Name: "Abc", Slug: "abc", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, zed, u.ID))
	other := &oauth.User{ID: "u2", Email: "bob@example.com", CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(ctx, other))
	noErr(t, "CreateStore", s.CreateStore(ctx, abc, other.ID))
	noErr(t, "AddMember", s.AddMember(ctx, abc.ID, u.ID, oauth.RoleStaff))
	_, _, gotM, err = s.MerchantSession(ctx, merchant.Hash, t0)
	noErr(t, "MerchantSession", err)
	want, err := s.Memberships(ctx, u.ID)
	noErr(t, "Memberships", err)
	diff(t, "MerchantSession memberships", gotM, want)
	diff(t, "MerchantSession memberships", gotM, []oauth.Membership{{Store: *abc, Role: oauth.RoleStaff}, {Store: *zed, Role: oauth.RoleOwner}})
	for _, tc := range []struct {
		name string
		hash []byte
		now  time.Time
	}{
		{"expired", merchant.Hash, merchant.ExpiresAt},
		{"of a partner", partner.Hash, t0},
		{"whose merchant is gone", orphan.Hash, t0},
		{"unknown", hash("sks_unknown"), t0},
	} {
		_, _, _, err := s.MerchantSession(ctx, tc.hash, tc.now)
		wantErr(t, "MerchantSession "+tc.name, err, oauth.ErrNotFound)
	}
}

func testSessionExpiry(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	sess := &oauth.Session{Hash: hash("skb_1"), UserID: "u1", Kind: "merchant", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	noErr(t, "CreateSession", s.CreateSession(ctx, sess))
	wantErr(t, "CreateSession same hash", s.CreateSession(ctx, sess), oauth.ErrConflict)
	for _, tc := range []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"at creation", t0, true},
		{"a microsecond before expiry", sess.ExpiresAt.Add(-time.Microsecond), true},
		{"at expiry", sess.ExpiresAt, false},
		{"after expiry", sess.ExpiresAt.Add(time.Second), false},
	} {
		got, err := s.Session(ctx, sess.Hash, tc.now)
		if tc.ok {
			noErr(t, "Session "+tc.name, err)
			diff(t, "Session "+tc.name, got, sess)
		} else {
			wantErr(t, "Session "+tc.name, err, oauth.ErrNotFound)
		}
	}
	_, err := s.Session(ctx, hash("skb_unknown"), t0)
	wantErr(t, "Session(unknown)", err, oauth.ErrNotFound)
	noErr(t, "DeleteSession", s.DeleteSession(ctx, sess.Hash))
	_, err = s.Session(ctx, sess.Hash, t0)
	wantErr(t, "Session after delete", err, oauth.ErrNotFound)
	noErr(t, "DeleteSession of a missing session", s.DeleteSession(ctx, sess.Hash))
}

func testCode(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.code("c1")
	c.Bound = oauth.Bound{LocationID: "loc", CatalogID: "cat", CustomerListID: "cl", DeviceID: "dev"}
	noErr(t, "CreateCode", s.CreateCode(ctx, c))
	got, err := s.Code(ctx, c.Hash)
	noErr(t, "Code", err)
	diff(t, "Code", got, c)

	bare := &oauth.Code{Hash: hash("skc_bare"), AppID: f.app.ID, StoreID: f.store.ID, UserID: f.user.ID,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	noErr(t, "CreateCode bare", s.CreateCode(ctx, bare))
	got, err = s.Code(ctx, bare.Hash)
	noErr(t, "Code bare", err)
	diff(t, "Code bare", got, bare)

	wantErr(t, "CreateCode same hash", s.CreateCode(ctx, c), oauth.ErrConflict)
	_, err = s.Code(ctx, hash("skc_unknown"))
	wantErr(t, "Code(unknown)", err, oauth.ErrNotFound)

	// Only an owner or an admin of the store gets a code stored, checked by
	// the write itself.
	staff := &oauth.User{ID: "u-staff", Email: "staff@example.com", CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(ctx, staff))
	for _, tc := range []struct {
		role oauth.Role // "" for no membership at all
		ok   bool
	}{{"", false}, {oauth.RoleStaff, false}, {oauth.RoleAdmin, true}, {oauth.RoleOwner, true}} {
		if tc.role != "" {
			noErr(t, "AddMember", s.AddMember(ctx, f.store.ID, staff.ID, tc.role))
		}
		sc := &oauth.Code{Hash: hash("skc_" + string(tc.role) + "x"), AppID: f.app.ID, StoreID: f.store.ID, UserID: staff.ID,
			CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
		err := s.CreateCode(ctx, sc)
		if tc.ok {
			noErr(t, "CreateCode by "+string(tc.role), err)
			continue
		}
		wantErr(t, "CreateCode by a non-authorizing member "+string(tc.role), err, oauth.ErrNotFound)
		_, err = s.Code(ctx, sc.Hash)
		wantErr(t, "Code refused", err, oauth.ErrNotFound)
	}
}

// A write naming a record that does not exist is refused with ErrNotFound.
func testMissingReference(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.code("c1")
	c.AppID = "no-such-app"
	wantErr(t, "CreateCode for a missing app", s.CreateCode(ctx, c), oauth.ErrNotFound)
	wantErr(t, "CreateToken for a missing app",
		s.CreateToken(ctx, &oauth.Token{Hash: hash("t"), Kind: oauth.KindAccess, AppID: "no-such-app", CreatedAt: t0}), oauth.ErrNotFound)
	wantErr(t, "AddMember of a missing user", s.AddMember(ctx, f.store.ID, "no-such-user", oauth.RoleStaff), oauth.ErrNotFound)
	wantErr(t, "AddMember to a missing store", s.AddMember(ctx, "no-such-store", f.user.ID, oauth.RoleStaff), oauth.ErrNotFound)
	wantErr(t, "CreateLocation in a missing store",
		s.CreateLocation(ctx, &oauth.Location{ID: "l", StoreID: "no-such-store", Name: "x"}), oauth.ErrNotFound)
}

// codeKinds are a stored code (the out-of-band kind, stored when issued)
// and a sealed one, which the database first sees when it is redeemed: every
// redemption test runs on both, with ids prefixed by the kind.
func codeKinds(t *testing.T, f *fixture) []struct {
	name string
	c    *oauth.Code
} {
	return []struct {
		name string
		c    *oauth.Code
	}{{"stored", f.newCode(t, "stored")}, {"sealed", f.code("sealed")}}
}

func testRedeemCode(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	for _, k := range codeKinds(t, f) {
		c := k.c
		_, err := s.Code(ctx, c.Hash)
		if k.name == "sealed" {
			wantErr(t, "Code of a sealed code before its redemption", err, oauth.ErrNotFound)
		}
		g := f.grant(k.name + "-g1")
		toks := f.tokens(g, 1, k.name, t0)
		now := t0.Add(10 * time.Second)
		noErr(t, k.name+": RedeemCode", s.RedeemCode(ctx, c, now, g, toks))

		gotCode, err := s.Code(ctx, c.Hash)
		noErr(t, k.name+": Code", err)
		wantCode := *c
		wantCode.UsedAt, wantCode.GrantID = now, g.ID
		diff(t, k.name+": Code after redemption", gotCode, &wantCode)

		gotGrant, err := s.Grant(ctx, g.ID)
		noErr(t, k.name+": Grant", err)
		diff(t, k.name+": Grant", gotGrant, g)

		for _, tok := range toks {
			ti, err := s.TokenInfo(ctx, tok.Hash)
			noErr(t, k.name+": TokenInfo", err)
			diff(t, k.name+": TokenInfo", ti, &oauth.TokenInfo{Token: *tok, Grant: g})
		}
	}
}

func testRedeemCodeSingleUse(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	for _, k := range codeKinds(t, f) {
		c := k.c
		g1 := f.grant(k.name + "-g1")
		noErr(t, k.name+": RedeemCode", s.RedeemCode(ctx, c, t0, g1, f.tokens(g1, 1, k.name, t0)))

		g2 := f.grant(k.name + "-g2")
		toks2 := f.tokens(g2, 1, k.name, t0)
		wantErr(t, k.name+": second RedeemCode", s.RedeemCode(ctx, c, t0.Add(time.Second), g2, toks2), oauth.ErrConflict)

		_, err := s.Grant(ctx, g2.ID)
		wantErr(t, k.name+": Grant of the refused redemption", err, oauth.ErrNotFound)
		for _, tok := range toks2 {
			_, err := s.TokenInfo(ctx, tok.Hash)
			wantErr(t, k.name+": TokenInfo of the refused redemption", err, oauth.ErrNotFound)
		}
		gotCode, err := s.Code(ctx, c.Hash)
		noErr(t, k.name+": Code", err)
		if gotCode.GrantID != g1.ID || !gotCode.UsedAt.Equal(t0) {
			t.Errorf("%s: code after the refused redemption: GrantID %q UsedAt %v, want %q %v", k.name, gotCode.GrantID, gotCode.UsedAt, g1.ID, t0)
		}
	}
}

// A code whose merchant is no longer an owner or admin of its store, or
// whose app is gone, is refused with ErrNotFound, stored or not, and
// nothing is written; RebindGrant checks the same.
func testRedeemCodeMembership(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	stored := f.newCode(t, "stored")
	sealed := f.code("sealed")
	noErr(t, "AddMember", s.AddMember(ctx, f.store.ID, f.user.ID, oauth.RoleStaff))
	for i, c := range []*oauth.Code{stored, sealed} {
		g := f.grant(fmt.Sprintf("refused%d", i))
		toks := f.tokens(g, 1, "", t0)
		wantErr(t, "RedeemCode by a demoted merchant", s.RedeemCode(ctx, c, t0, g, toks), oauth.ErrNotFound)
		wantUnstored(t, s, "the refused redemption", g, toks)
	}
	got, err := s.Code(ctx, stored.Hash)
	noErr(t, "Code", err)
	diff(t, "stored code after the refused redemption", got, stored)
	_, err = s.Code(ctx, sealed.Hash)
	wantErr(t, "Code of the refused sealed code", err, oauth.ErrNotFound)

	g := f.grant("g1")
	noErr(t, "AddMember", s.AddMember(ctx, f.store.ID, f.user.ID, oauth.RoleAdmin))
	noErr(t, "RedeemCode", s.RedeemCode(ctx, stored, t0, g, f.tokens(g, 1, "", t0)))
	noErr(t, "AddMember", s.AddMember(ctx, f.store.ID, f.user.ID, oauth.RoleStaff))
	rebound := *g
	rebound.Scopes = oauth.NewScopes("read_orders")
	wantErr(t, "RebindGrant by a demoted merchant", s.RebindGrant(ctx, sealed, t0, &rebound), oauth.ErrNotFound)
	got2, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	diff(t, "grant after the refused rebind", got2, g)

	noErr(t, "AddMember", s.AddMember(ctx, f.store.ID, f.user.ID, oauth.RoleOwner))
	// A sealed code names the session that approved it: it redeems while
	// that session, of the code's user, exists.
	sess := &oauth.Session{Hash: hash("skb_approver"), UserID: f.user.ID, Kind: oauth.SessionMerchant,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	noErr(t, "CreateSession", s.CreateSession(ctx, sess))
	other := &oauth.User{ID: "u-other", Email: "other@example.com", CreatedAt: t0}
	noErr(t, "CreateUser", s.CreateUser(ctx, other))
	noErr(t, "AddMember", s.AddMember(ctx, f.store.ID, other.ID, oauth.RoleOwner))
	otherSess := &oauth.Session{Hash: hash("skb_other"), UserID: other.ID, Kind: oauth.SessionMerchant,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	noErr(t, "CreateSession", s.CreateSession(ctx, otherSess))
	for i, tc := range []struct {
		name    string
		session []byte
		want    error
	}{
		{"another user's session", otherSess.Hash, oauth.ErrNotFound},
		{"an unknown session", hash("skb_unknown"), oauth.ErrNotFound},
		{"the approving session", sess.Hash, nil},
	} {
		c := f.code(fmt.Sprintf("bound%d", i))
		c.SessionHash = tc.session
		g := f.grant(fmt.Sprintf("bound%d", i))
		err := s.RedeemCode(ctx, c, t0, g, f.tokens(g, 1, "", t0))
		if !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
			t.Fatalf("RedeemCode with %s = %v, want %v", tc.name, err, tc.want)
		}
	}
	late := f.code("late")
	late.SessionHash = sess.Hash
	noErr(t, "DeleteSession", s.DeleteSession(ctx, sess.Hash))
	gl := f.grant("late")
	wantErr(t, "RedeemCode after its session ended", s.RedeemCode(ctx, late, t0, gl, f.tokens(gl, 1, "", t0)), oauth.ErrNotFound)

	orphan := f.code("orphan")
	orphan.AppID = "no-such-app"
	g3 := f.grant("g3")
	g3.AppID = orphan.AppID
	wantErr(t, "RedeemCode for a missing app", s.RedeemCode(ctx, orphan, t0, g3, nil), oauth.ErrNotFound)
}

// If any write of a redemption fails, none of it is kept and the code stays
// redeemable.
func testRedeemCodeAtomic(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	taken := &oauth.Token{Hash: hash("taken"), Kind: oauth.KindAccess, AppID: f.app.ID, CreatedAt: t0}
	noErr(t, "CreateToken", s.CreateToken(ctx, taken))
	c := f.newCode(t, "c1")
	g := f.grant("g1")
	toks := f.tokens(g, 1, "", t0)
	toks[1].Hash = taken.Hash
	wantErr(t, "RedeemCode with a token hash that is taken", s.RedeemCode(ctx, c, t0, g, toks), oauth.ErrConflict)

	wantUnstored(t, s, "the failed redemption", g, toks[:1])
	got, err := s.Code(ctx, c.Hash)
	noErr(t, "Code", err)
	diff(t, "Code after the failed redemption", got, c)

	toks = f.tokens(g, 1, "", t0)
	noErr(t, "RedeemCode retried", s.RedeemCode(ctx, c, t0, g, toks))
}

func testGrants(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	app2 := f.newApp(t, "app2")
	store2 := &oauth.Store{ID: "s2", Name: "Second", Slug: "second", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, store2, f.user.ID))

	mk := func(id, appID, storeID string, created time.Time, scopes ...string) *oauth.Grant {
		c := f.code("for-" + id)
		c.AppID, c.StoreID = appID, storeID
		noErr(t, "CreateCode", s.CreateCode(ctx, c))
		g := f.grant(id)
		g.AppID, g.StoreID, g.CreatedAt = appID, storeID, created
		if len(scopes) > 0 {
			g.Scopes = oauth.NewScopes(scopes...)
		}
		noErr(t, "RedeemCode", s.RedeemCode(ctx, c, created, g, nil))
		return g
	}
	g1 := mk("g1", f.app.ID, f.store.ID, t0)
	g2 := mk("g2", f.app.ID, store2.ID, t0.Add(time.Second))
	g3 := mk("g3", app2.ID, f.store.ID, t0.Add(2*time.Second))
	g4 := mk("g4", f.app.ID, f.store.ID, t0.Add(3*time.Second), "read_customers")
	revokedAt := t0.Add(time.Hour)
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g4.ID, revokedAt))
	g4r := *g4
	g4r.RevokedAt = revokedAt

	for _, tc := range []struct {
		name string
		f    oauth.GrantFilter
		want []*oauth.Grant
	}{
		{"all active", oauth.GrantFilter{}, []*oauth.Grant{g3, g2, g1}},
		{"all", oauth.GrantFilter{IncludeRevoked: true}, []*oauth.Grant{&g4r, g3, g2, g1}},
		{"app", oauth.GrantFilter{AppID: f.app.ID}, []*oauth.Grant{g2, g1}},
		{"store", oauth.GrantFilter{StoreID: f.store.ID}, []*oauth.Grant{g3, g1}},
		{"app and store", oauth.GrantFilter{AppID: f.app.ID, StoreID: f.store.ID, IncludeRevoked: true}, []*oauth.Grant{&g4r, g1}},
		{"none", oauth.GrantFilter{AppID: "nope"}, nil},
	} {
		got, err := s.Grants(ctx, tc.f)
		noErr(t, "Grants "+tc.name, err)
		diff(t, "Grants "+tc.name, got, tc.want)
	}
	_, err := s.Grant(ctx, "missing")
	wantErr(t, "Grant(missing)", err, oauth.ErrNotFound)

	// GrantedScopes: the active grants of the app on the store, newest
	// first up to the limit, each scope set once. g4 (revoked), g2 (another
	// store) and g3 (another app) never count.
	mk("g5", f.app.ID, f.store.ID, t0.Add(4*time.Second), "read_orders")
	mk("g6", f.app.ID, f.store.ID, t0.Add(5*time.Second), "write_products")
	mk("g7", f.app.ID, f.store.ID, t0.Add(6*time.Second), "write_products")
	for _, tc := range []struct {
		name  string
		app   string
		limit int
		want  []string
	}{
		{"all", f.app.ID, 20, []string{"read_orders", "read_products", "write_products"}},
		{"the newest three", f.app.ID, 3, []string{"read_orders", "write_products"}},
		{"the newest one", f.app.ID, 1, []string{"write_products"}},
		{"no limit, nothing read", f.app.ID, 0, nil},
		{"another app's only grant", app2.ID, 20, []string{"read_products"}},
		{"unknown app", "nope", 20, nil},
	} {
		sets, err := s.GrantedScopes(ctx, tc.app, f.store.ID, tc.limit)
		noErr(t, "GrantedScopes "+tc.name, err)
		var got []string
		for _, sc := range sets {
			got = append(got, sc.String())
		}
		slices.Sort(got)
		diff(t, "GrantedScopes "+tc.name, got, tc.want)
	}
}

func testRotateGrant(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, old := f.redeem(t, "g1")
	noErr(t, "MarkGrantUsed", s.MarkGrantUsed(ctx, g.ID, 1, t0.Add(time.Second)))
	now := t0.Add(time.Minute)
	toks := f.tokens(g, 2, "", now)
	noErr(t, "RotateGrant", s.RotateGrant(ctx, g.ID, 1, now, "k2", toks))

	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	want := *g
	want.Generation, want.RotatedAt, want.KeyID, want.SuccessorUsed, want.LastUsedAt = 2, now, "k2", false, t0.Add(time.Second)
	diff(t, "Grant after rotation", got, &want)

	for _, tok := range toks {
		ti, err := s.TokenInfo(ctx, tok.Hash)
		noErr(t, "TokenInfo new generation", err)
		diff(t, "TokenInfo new generation", ti, &oauth.TokenInfo{Token: *tok, Grant: &want})
	}
	// The previous generation's tokens remain, to recognise a replay.
	for _, tok := range old {
		ti, err := s.TokenInfo(ctx, tok.Hash)
		noErr(t, "TokenInfo old generation", err)
		if ti.Generation != 1 || ti.Grant.Generation != 2 {
			t.Errorf("old token: generation %d, grant generation %d; want 1 and 2", ti.Generation, ti.Grant.Generation)
		}
	}
}

func testRotateGrantStale(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, _ := f.redeem(t, "g1")
	noErr(t, "RotateGrant 1→2", s.RotateGrant(ctx, g.ID, 1, t0.Add(time.Minute), "k1", f.tokens(g, 2, "", t0)))
	stale := f.tokens(g, 2, "stale", t0)
	wantErr(t, "RotateGrant from 1 again", s.RotateGrant(ctx, g.ID, 1, t0.Add(2*time.Minute), "k9", stale), oauth.ErrConflict)
	wantErr(t, "RotateGrant from a future generation", s.RotateGrant(ctx, g.ID, 5, t0, "k9", f.tokens(g, 6, "", t0)), oauth.ErrConflict)
	wantErr(t, "RotateGrant of a missing grant", s.RotateGrant(ctx, "missing", 1, t0, "k9", nil), oauth.ErrConflict)
	wantUnstored(t, s, "a refused rotation", nil, stale)
	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if got.Generation != 2 || got.KeyID != "k1" || !got.RotatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("grant after refused rotations: generation %d key %q rotated %v", got.Generation, got.KeyID, got.RotatedAt)
	}
}

func testRotateGrantRevoked(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, _ := f.redeem(t, "g1")
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g.ID, t0.Add(time.Second)))
	toks := f.tokens(g, 2, "", t0)
	wantErr(t, "RotateGrant of a revoked grant", s.RotateGrant(ctx, g.ID, 1, t0.Add(time.Minute), "k2", toks), oauth.ErrConflict)
	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if got.Generation != 1 {
		t.Errorf("generation = %d, want 1", got.Generation)
	}
	_, err = s.TokenInfo(ctx, toks[0].Hash)
	wantErr(t, "TokenInfo", err, oauth.ErrNotFound)
}

// If storing the new tokens fails, the generation does not advance.
func testRotateGrantAtomic(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, old := f.redeem(t, "g1")
	toks := f.tokens(g, 2, "", t0)
	toks[1].Hash = old[0].Hash // taken
	wantErr(t, "RotateGrant with a taken token hash", s.RotateGrant(ctx, g.ID, 1, t0.Add(time.Minute), "k2", toks), oauth.ErrConflict)
	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	diff(t, "Grant after the failed rotation", got, g)
	_, err = s.TokenInfo(ctx, toks[0].Hash)
	wantErr(t, "TokenInfo", err, oauth.ErrNotFound)
}

func testMarkGrantUsed(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, _ := f.redeem(t, "g1")
	noErr(t, "RotateGrant", s.RotateGrant(ctx, g.ID, 1, t0, "k1", nil))

	noErr(t, "MarkGrantUsed old generation", s.MarkGrantUsed(ctx, g.ID, 1, t0.Add(time.Minute)))
	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if got.SuccessorUsed || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("after a use of generation 1: SuccessorUsed %v LastUsedAt %v; want false, %v", got.SuccessorUsed, got.LastUsedAt, t0.Add(time.Minute))
	}

	noErr(t, "MarkGrantUsed current generation", s.MarkGrantUsed(ctx, g.ID, 2, t0.Add(2*time.Minute)))
	got, err = s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if !got.SuccessorUsed || !got.LastUsedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after a use of generation 2: SuccessorUsed %v LastUsedAt %v; want true, %v", got.SuccessorUsed, got.LastUsedAt, t0.Add(2*time.Minute))
	}

	// A late, earlier use does not move LastUsedAt back nor clear the flag.
	noErr(t, "MarkGrantUsed late", s.MarkGrantUsed(ctx, g.ID, 1, t0.Add(90*time.Second)))
	got, err = s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if !got.SuccessorUsed || !got.LastUsedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after a late use: SuccessorUsed %v LastUsedAt %v; want true, %v", got.SuccessorUsed, got.LastUsedAt, t0.Add(2*time.Minute))
	}
	wantErr(t, "MarkGrantUsed of a missing grant", s.MarkGrantUsed(ctx, "missing", 1, t0), oauth.ErrNotFound)
}

func testRevokeGrant(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, toks := f.redeem(t, "g1")
	at := t0.Add(time.Hour)
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g.ID, at))
	noErr(t, "RevokeGrant again", s.RevokeGrant(ctx, g.ID, at.Add(time.Hour)))
	wantErr(t, "RevokeGrant(missing)", s.RevokeGrant(ctx, "missing", at), oauth.ErrNotFound)

	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if !got.RevokedAt.Equal(at) || got.Active() {
		t.Errorf("RevokedAt = %v, want %v (the first revocation)", got.RevokedAt, at)
	}
	for _, tok := range toks {
		ti, err := s.TokenInfo(ctx, tok.Hash)
		noErr(t, "TokenInfo", err)
		if ti.Active(t0) {
			t.Errorf("token of a revoked grant is active")
		}
	}
	revs, err := s.Revocations(ctx, 0, 10)
	noErr(t, "Revocations", err)
	if len(revs) != 1 {
		t.Fatalf("revocations = %+v, want one: revoking again logs nothing", revs)
	}
	diff(t, "revocation", revs[0], oauth.Revocation{Seq: revs[0].Seq, GrantID: g.ID, At: at})
}

func testRevokeGrants(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	app2 := f.newApp(t, "app2")
	store2 := &oauth.Store{ID: "s2", Name: "Second", Slug: "second", CreatedAt: t0}
	noErr(t, "CreateStore", s.CreateStore(ctx, store2, f.user.ID))
	mk := func(id, appID, storeID string) {
		c := f.code("for-" + id)
		c.AppID, c.StoreID = appID, storeID
		noErr(t, "CreateCode", s.CreateCode(ctx, c))
		g := f.grant(id)
		g.AppID, g.StoreID = appID, storeID
		noErr(t, "RedeemCode", s.RedeemCode(ctx, c, t0, g, nil))
	}
	mk("a", f.app.ID, f.store.ID)
	mk("b", f.app.ID, f.store.ID)
	mk("c", f.app.ID, f.store.ID)
	mk("other-store", f.app.ID, store2.ID)
	mk("other-app", app2.ID, f.store.ID)
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, "c", t0))

	at := t0.Add(time.Hour)
	n, err := s.RevokeGrants(ctx, f.app.ID, f.store.ID, at)
	noErr(t, "RevokeGrants", err)
	if n != 2 {
		t.Errorf("RevokeGrants = %d, want 2", n)
	}
	active, err := s.Grants(ctx, oauth.GrantFilter{})
	noErr(t, "Grants", err)
	var ids []string
	for _, g := range active {
		ids = append(ids, g.ID)
	}
	diff(t, "active grants", ids, []string{"other-store", "other-app"})

	revs, err := s.Revocations(ctx, 0, 10)
	noErr(t, "Revocations", err)
	var logged []string
	for _, r := range revs[1:] {
		logged = append(logged, r.GrantID)
		if !r.At.Equal(at) {
			t.Errorf("revocation %d at %v, want %v", r.Seq, r.At, at)
		}
	}
	diff(t, "grants logged by RevokeGrants", logged, []string{"a", "b"})

	n, err = s.RevokeGrants(ctx, f.app.ID, f.store.ID, at)
	noErr(t, "RevokeGrants again", err)
	if n != 0 {
		t.Errorf("RevokeGrants again = %d, want 0", n)
	}
}

func testToken(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	tok := &oauth.Token{
		Hash:      hash("ska_cc"),
		Kind:      oauth.KindAccess,
		AppID:     f.app.ID,
		Scopes:    oauth.NewScopes("read_products"),
		CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour),
	}
	noErr(t, "CreateToken", s.CreateToken(ctx, tok))
	ti, err := s.TokenInfo(ctx, tok.Hash)
	noErr(t, "TokenInfo", err)
	diff(t, "TokenInfo of an app-level token", ti, &oauth.TokenInfo{Token: *tok})
	if !ti.Active(t0) || ti.Active(t0.Add(time.Hour)) {
		t.Errorf("Active: want true before expiry and false at it")
	}

	forever := &oauth.Token{Hash: hash("ska_forever"), Kind: oauth.KindRefresh, AppID: f.app.ID, StoreID: f.store.ID,
		UserID: f.user.ID, Generation: 7, CreatedAt: t0}
	noErr(t, "CreateToken", s.CreateToken(ctx, forever))
	ti, err = s.TokenInfo(ctx, forever.Hash)
	noErr(t, "TokenInfo", err)
	diff(t, "TokenInfo of a token that never expires", ti, &oauth.TokenInfo{Token: *forever})

	wantErr(t, "CreateToken same hash", s.CreateToken(ctx, tok), oauth.ErrConflict)
	_, err = s.TokenInfo(ctx, hash("ska_unknown"))
	wantErr(t, "TokenInfo(unknown)", err, oauth.ErrNotFound)
}

func testTokenInfoJoin(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, toks := f.redeem(t, "g1")
	ti, err := s.TokenInfo(ctx, toks[0].Hash)
	noErr(t, "TokenInfo", err)
	diff(t, "TokenInfo", ti, &oauth.TokenInfo{Token: *toks[0], Grant: g})
	if !ti.Active(t0) {
		t.Error("token of an active grant is not active")
	}

	at := t0.Add(time.Minute)
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g.ID, at))
	ti, err = s.TokenInfo(ctx, toks[0].Hash)
	noErr(t, "TokenInfo", err)
	rg := *g
	rg.RevokedAt = at
	diff(t, "TokenInfo after the grant is revoked", ti, &oauth.TokenInfo{Token: *toks[0], Grant: &rg})
	if ti.Active(t0) {
		t.Error("token of a revoked grant is active")
	}
}

func testRevokeToken(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, toks := f.redeem(t, "g1")
	at := t0.Add(time.Minute)
	noErr(t, "RevokeToken", s.RevokeToken(ctx, toks[0].Hash, at))
	noErr(t, "RevokeToken again", s.RevokeToken(ctx, toks[0].Hash, at.Add(time.Minute)))
	wantErr(t, "RevokeToken(unknown)", s.RevokeToken(ctx, hash("unknown"), at), oauth.ErrNotFound)

	ti, err := s.TokenInfo(ctx, toks[0].Hash)
	noErr(t, "TokenInfo", err)
	want := *toks[0]
	want.RevokedAt = at
	diff(t, "revoked token", ti, &oauth.TokenInfo{Token: want, Grant: g})
	if ti.Active(t0) {
		t.Error("revoked token is active")
	}
	ti, err = s.TokenInfo(ctx, toks[1].Hash)
	noErr(t, "TokenInfo sibling", err)
	if !ti.Active(t0) {
		t.Error("revoking one token revoked its sibling")
	}
	revs, err := s.Revocations(ctx, 0, 10)
	noErr(t, "Revocations", err)
	if len(revs) != 1 {
		t.Fatalf("revocations = %+v, want one", revs)
	}
	diff(t, "revocation", revs[0], oauth.Revocation{Seq: revs[0].Seq, TokenHash: toks[0].Hash, At: at})
}

func testRevocationLog(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g1, toks := f.redeem(t, "g1")
	g2, _ := f.redeem(t, "g2")
	doomed := f.newApp(t, "doomed")

	noErr(t, "RevokeToken", s.RevokeToken(ctx, toks[1].Hash, t0.Add(1*time.Second)))
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g2.ID, t0.Add(2*time.Second)))
	noErr(t, "DeleteApp", s.DeleteApp(ctx, doomed.ID, t0.Add(3*time.Second)))
	noErr(t, "RevokeGrant", s.RevokeGrant(ctx, g1.ID, t0.Add(4*time.Second)))

	all, err := s.Revocations(ctx, 0, 100)
	noErr(t, "Revocations", err)
	if len(all) != 4 {
		t.Fatalf("got %d revocations, want 4: %+v", len(all), all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("seq not increasing: %+v", all)
		}
	}
	want := []oauth.Revocation{
		{Seq: all[0].Seq, TokenHash: toks[1].Hash, At: t0.Add(1 * time.Second)},
		{Seq: all[1].Seq, GrantID: g2.ID, At: t0.Add(2 * time.Second)},
		{Seq: all[2].Seq, AppID: doomed.ID, At: t0.Add(3 * time.Second)},
		{Seq: all[3].Seq, GrantID: g1.ID, At: t0.Add(4 * time.Second)},
	}
	diff(t, "Revocations", all, want)

	page, err := s.Revocations(ctx, all[0].Seq, 2)
	noErr(t, "Revocations page", err)
	diff(t, "Revocations after the first, two", page, want[1:3])
	page, err = s.Revocations(ctx, all[3].Seq, 10)
	noErr(t, "Revocations at the end", err)
	diff(t, "Revocations at the end", page, []oauth.Revocation(nil))
	page, err = s.Revocations(ctx, 0, 0)
	noErr(t, "Revocations limit 0", err)
	diff(t, "Revocations limit 0", page, []oauth.Revocation(nil))
}

// A follower that polls the log by seq, remembering only the highest seq it
// has seen, sees every entry even while many transactions append at once:
// no entry may become visible after one with a higher seq. (PostgreSQL hands
// out identity values at insert, not at commit; a backend that does not
// order commits by seq fails this.)
func testRevocationLogFollower(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	const writers, each = 8, 40
	tokenHash := func(i int) []byte { return hash(fmt.Sprint("follow", i)) }
	for i := range writers * each {
		noErr(t, "CreateToken", s.CreateToken(ctx, &oauth.Token{Hash: tokenHash(i), Kind: oauth.KindAccess, AppID: f.app.ID, CreatedAt: t0}))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.RevokeToken(ctx, tokenHash(w*each+i), t0); err != nil {
					t.Errorf("RevokeToken: %v", err)
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()

	seen := make(map[int64]bool)
	var after int64
	poll := func() {
		revs, err := s.Revocations(ctx, after, 1000)
		noErr(t, "Revocations", err)
		for _, r := range revs {
			seen[r.Seq] = true
			after = r.Seq
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(100 * time.Microsecond):
		}
		poll()
	}
	poll() // everything has committed: a last poll picks up the tail
	if len(seen) != writers*each {
		t.Fatalf("the follower saw %d of %d revocations", len(seen), writers*each)
	}
}

func testKeys(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	got, err := s.Keys(ctx)
	noErr(t, "Keys of an empty store", err)
	diff(t, "Keys of an empty store", got, []oauth.Key(nil))

	k2 := oauth.Key{ID: "k2", Secret: []byte("second secret"), CreatedAt: t0.Add(time.Hour)}
	k1 := oauth.Key{ID: "k1", Secret: []byte("first secret"), CreatedAt: t0}
	noErr(t, "AddKey", s.AddKey(ctx, k2))
	noErr(t, "AddKey", s.AddKey(ctx, k1))
	noErr(t, "AddKey existing id", s.AddKey(ctx, oauth.Key{ID: "k1", Secret: []byte("another secret"), CreatedAt: t0.Add(2 * time.Hour)}))
	got, err = s.Keys(ctx)
	noErr(t, "Keys", err)
	diff(t, "Keys oldest first, first secret kept", got, []oauth.Key{k1, k2})
}

func testCountAttempt(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	start := time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC) // a minute boundary
	count := func(key string, now time.Time, want int) {
		t.Helper()
		n, err := s.CountAttempt(ctx, key, now, time.Minute)
		noErr(t, "CountAttempt", err)
		if n != want {
			t.Errorf("CountAttempt(%s, %v) = %d, want %d", key, now.Format("15:04:05.000000"), n, want)
		}
	}
	count("ip:1", start, 1)
	count("ip:1", start.Add(30*time.Second), 2)
	count("ip:2", start.Add(30*time.Second), 1)
	count("ip:1", start.Add(time.Minute-time.Microsecond), 3)
	count("ip:1", start.Add(time.Minute), 1) // a new window
	count("ip:1", start.Add(time.Minute+time.Second), 2)
	count("ip:1", start.Add(5*time.Minute), 1)
	count("ip:2", start.Add(5*time.Minute), 1)
	noErr(t, "ResetAttempts", s.ResetAttempts(ctx, "ip:1"))
	count("ip:1", start.Add(5*time.Minute), 1)
	count("ip:2", start.Add(5*time.Minute), 2)
	noErr(t, "ResetAttempts of an unknown key", s.ResetAttempts(ctx, "unknown"))
}

// Concurrent attempts are each counted once: the counts returned are
// exactly 1..races.
func testCountAttemptConcurrent(t *testing.T, s oauth.Storage) {
	counts := make([]int, races)
	errs := runRace(func(i int) error {
		n, err := s.CountAttempt(t.Context(), "user:ada", t0, time.Hour)
		counts[i] = n
		return err
	})
	seen := make(map[int]bool)
	for i, err := range errs {
		noErr(t, "CountAttempt", err)
		seen[counts[i]] = true
	}
	for n := 1; n <= races; n++ {
		if !seen[n] {
			t.Fatalf("no attempt was counted %d; counts: %v", n, counts)
		}
	}
}

func testSampleData(t *testing.T, s oauth.Storage) {
	sd, ok := s.(oauth.SampleData)
	if !ok {
		t.Skip("the store does not implement oauth.SampleData")
	}
	ctx := t.Context()
	var products []oauth.Product
	var customers []oauth.Customer
	var orders []oauth.Order
	for i := range 5 {
		at := t0.Add(time.Duration(5-i) * time.Minute) // created newest first
		p := oauth.Product{ID: fmt.Sprintf("p%d", i), StoreID: "s1", Name: fmt.Sprintf("Product %d", i), SKU: fmt.Sprintf("SKU-%d", i),
			PriceCents: int64(100 * i), Currency: "EUR", CreatedAt: at}
		noErr(t, "CreateProduct", sd.CreateProduct(ctx, &p))
		products = append([]oauth.Product{p}, products...)
		c := oauth.Customer{ID: fmt.Sprintf("c%d", i), StoreID: "s1", Name: fmt.Sprintf("Customer %d", i), Email: fmt.Sprintf("c%d@example.com", i), CreatedAt: at}
		noErr(t, "CreateCustomer", sd.CreateCustomer(ctx, &c))
		customers = append([]oauth.Customer{c}, customers...)
		o := oauth.Order{ID: fmt.Sprintf("o%d", i), StoreID: "s1", CustomerID: c.ID, Status: "paid", TotalCents: int64(250 * i), Currency: "EUR", CreatedAt: at}
		noErr(t, "CreateOrder", sd.CreateOrder(ctx, &o))
		orders = append([]oauth.Order{o}, orders...)
	}
	noErr(t, "CreateProduct other store", sd.CreateProduct(ctx, &oauth.Product{ID: "px", StoreID: "s2", Name: "X", Currency: "USD", CreatedAt: t0}))
	noErr(t, "CreateOrder without customer", sd.CreateOrder(ctx, &oauth.Order{ID: "ox", StoreID: "s2", Status: "open", Currency: "USD", CreatedAt: t0}))

	gotP, err := sd.Products(ctx, "s1", 10)
	noErr(t, "Products", err)
	diff(t, "Products", gotP, products)
	gotP, err = sd.Products(ctx, "s1", 2)
	noErr(t, "Products limit 2", err)
	diff(t, "Products limit 2", gotP, products[:2])
	gotC, err := sd.Customers(ctx, "s1", 3)
	noErr(t, "Customers", err)
	diff(t, "Customers limit 3", gotC, customers[:3])
	gotO, err := sd.Orders(ctx, "s1", 100)
	noErr(t, "Orders", err)
	diff(t, "Orders", gotO, orders)
	gotO, err = sd.Orders(ctx, "s2", 100)
	noErr(t, "Orders s2", err)
	diff(t, "Orders s2", gotO, []oauth.Order{{ID: "ox", StoreID: "s2", Status: "open", Currency: "USD", CreatedAt: t0}})
	gotC, err = sd.Customers(ctx, "none", 10)
	noErr(t, "Customers of an empty store", err)
	diff(t, "Customers of an empty store", gotC, []oauth.Customer(nil))

	wantErr(t, "CreateProduct same id", sd.CreateProduct(ctx, &products[0]), oauth.ErrConflict)
	wantErr(t, "CreateCustomer same id", sd.CreateCustomer(ctx, &customers[0]), oauth.ErrConflict)
	wantErr(t, "CreateOrder same id", sd.CreateOrder(ctx, &orders[0]), oauth.ErrConflict)
}

// runRace calls fn(i) for i in [0, races) from as many goroutines, released
// together, and returns their errors.
func runRace(fn func(i int) error) []error {
	errs := make([]error, races)
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
	)
	for i := range races {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// winner checks that exactly one call succeeded and every other failed with
// ErrConflict (and nothing else: no driver error such as SQLITE_BUSY), and
// returns the winner's index.
func winner(t *testing.T, what string, errs []error) int {
	t.Helper()
	win := -1
	for i, err := range errs {
		switch {
		case err == nil && win >= 0:
			t.Fatalf("%s: both %d and %d won", what, win, i)
		case err == nil:
			win = i
		case !errors.Is(err, oauth.ErrConflict):
			t.Fatalf("%s: caller %d failed with %v, want ErrConflict", what, i, err)
		}
	}
	if win < 0 {
		t.Fatalf("%s: nobody won", what)
	}
	return win
}

func testRaceRedeemCode(t *testing.T, s oauth.Storage) {
	f := newFixture(t, s)
	raceRedeemCode(t, s, f, f.newCode(t, "c1"))
}

// A sealed code, which the database has not seen, raced: the code's primary
// key lets one insert win.
func testRaceRedeemUnstoredCode(t *testing.T, s oauth.Storage) {
	f := newFixture(t, s)
	raceRedeemCode(t, s, f, f.code("sealed"))
}

func raceRedeemCode(t *testing.T, s oauth.Storage, f *fixture, c *oauth.Code) {
	ctx := t.Context()
	grants := make([]*oauth.Grant, races)
	toks := make([][]*oauth.Token, races)
	for i := range races {
		grants[i] = f.grant(fmt.Sprintf("g%02d", i))
		toks[i] = f.tokens(grants[i], 1, "", t0)
	}
	errs := runRace(func(i int) error {
		return s.RedeemCode(ctx, c, t0.Add(time.Duration(i)*time.Microsecond), grants[i], toks[i])
	})
	win := winner(t, "RedeemCode", errs)

	got, err := s.Grants(ctx, oauth.GrantFilter{IncludeRevoked: true})
	noErr(t, "Grants", err)
	diff(t, "grants after the race", got, []*oauth.Grant{grants[win]})
	code, err := s.Code(ctx, c.Hash)
	noErr(t, "Code", err)
	if code.GrantID != grants[win].ID || !code.UsedAt.Equal(t0.Add(time.Duration(win)*time.Microsecond)) {
		t.Errorf("code redeemed by %q at %v, want the winner %q", code.GrantID, code.UsedAt, grants[win].ID)
	}
	onlyWinnersTokens(t, s, toks, win)
}

// onlyWinnersTokens checks that of the racers' tokens only the winner's
// were stored.
func onlyWinnersTokens(t *testing.T, s oauth.Storage, toks [][]*oauth.Token, win int) {
	t.Helper()
	for i := range toks {
		for _, tok := range toks[i] {
			_, err := s.TokenInfo(t.Context(), tok.Hash)
			if i == win && err != nil {
				t.Errorf("winner's token: %v", err)
			}
			if i != win && !errors.Is(err, oauth.ErrNotFound) {
				t.Errorf("loser %d's token: got %v, want ErrNotFound", i, err)
			}
		}
	}
}

func testRaceRotateGrant(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, _ := f.redeem(t, "g1")
	toks := make([][]*oauth.Token, races)
	for i := range races {
		toks[i] = f.tokens(g, 2, fmt.Sprint(i), t0.Add(time.Minute))
	}
	errs := runRace(func(i int) error {
		return s.RotateGrant(ctx, g.ID, 1, t0.Add(time.Minute), fmt.Sprintf("k%d", i), toks[i])
	})
	win := winner(t, "RotateGrant", errs)

	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if got.Generation != 2 || got.KeyID != fmt.Sprintf("k%d", win) {
		t.Errorf("grant after the race: generation %d key %q, want 2 and the winner's k%d", got.Generation, got.KeyID, win)
	}
	onlyWinnersTokens(t, s, toks, win)
}

// Revocation racing rotation: whichever commits first, a revoked grant never
// ends up at a later generation than when it was revoked, and every
// revocation is logged once.
func testRaceRevokeAndRotate(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	g, _ := f.redeem(t, "g1")
	errs := runRace(func(i int) error {
		if i%2 == 0 {
			return s.RevokeGrant(ctx, g.ID, t0.Add(time.Minute))
		}
		return s.RotateGrant(ctx, g.ID, int64(i/2+1), t0.Add(time.Minute), "k", f.tokens(g, int64(i/2+2), "", t0))
	})
	for i, err := range errs {
		if i%2 == 0 && err != nil {
			t.Errorf("RevokeGrant %d: %v", i, err)
		}
		if i%2 == 1 && err != nil && !errors.Is(err, oauth.ErrConflict) {
			t.Errorf("RotateGrant %d: %v, want nil or ErrConflict", i, err)
		}
	}
	got, err := s.Grant(ctx, g.ID)
	noErr(t, "Grant", err)
	if got.Active() {
		t.Fatal("grant is active after the race")
	}
	// The rotations that won form a chain 1→2→…→n; n is the generation.
	var rotated int64
	for i := 1; i < races; i += 2 {
		if errs[i] == nil {
			rotated++
		}
	}
	if got.Generation != 1+rotated {
		t.Errorf("generation %d after %d successful rotations, want %d", got.Generation, rotated, 1+rotated)
	}
	revs, err := s.Revocations(ctx, 0, 100)
	noErr(t, "Revocations", err)
	if len(revs) != 1 {
		t.Errorf("%d revocations logged, want 1", len(revs))
	}
}

// testPruneExpired deletes, in batches smaller than what is to go, exactly
// the rows past their cutoffs, and leaves everything else readable.
func testPruneExpired(t *testing.T, s oauth.Storage) {
	ctx := t.Context()
	f := newFixture(t, s)
	cut := t0.Add(time.Hour)
	old, young := cut.Add(-time.Second), cut.Add(time.Second) // expiries either side of the cutoff

	var oldCodes, youngCodes [][]byte
	for i := range 5 {
		c := f.code(fmt.Sprintf("old%d", i))
		c.ExpiresAt = old
		noErr(t, "CreateCode", s.CreateCode(ctx, c))
		oldCodes = append(oldCodes, c.Hash)
	}
	c := f.code("young")
	c.ExpiresAt = young
	noErr(t, "CreateCode", s.CreateCode(ctx, c))
	youngCodes = append(youngCodes, c.Hash)

	// A redeemed grant's tokens: the access token expires at the cutoff
	// itself, not before it, and the refresh token, revoked, never
	// expires; both stay. Then three expired app-level tokens and a young
	// one.
	g, toks := f.redeem(t, "g-prune")
	noErr(t, "RevokeToken", s.RevokeToken(ctx, toks[1].Hash, t0))
	var oldTokens [][]byte
	keptTokens := [][]byte{toks[0].Hash, toks[1].Hash}
	for i := range 3 {
		tok := &oauth.Token{Hash: hash(fmt.Sprintf("ska_old%d", i)), Kind: oauth.KindAccess, AppID: f.app.ID, CreatedAt: t0, ExpiresAt: old}
		noErr(t, "CreateToken", s.CreateToken(ctx, tok))
		oldTokens = append(oldTokens, tok.Hash)
	}
	tok := &oauth.Token{Hash: hash("ska_young"), Kind: oauth.KindAccess, AppID: f.app.ID, CreatedAt: t0, ExpiresAt: young}
	noErr(t, "CreateToken", s.CreateToken(ctx, tok))
	keptTokens = append(keptTokens, tok.Hash)

	for i, exp := range []time.Time{old, old, young} {
		noErr(t, "CreateSession", s.CreateSession(ctx, &oauth.Session{Hash: hash(fmt.Sprintf("skb_%d", i)), UserID: f.user.ID,
			Kind: oauth.SessionMerchant, CreatedAt: t0, ExpiresAt: exp}))
	}
	_, err := s.CountAttempt(ctx, "old", old, time.Minute)
	noErr(t, "CountAttempt", err)
	_, err = s.CountAttempt(ctx, "young", young.Add(time.Minute), time.Minute)
	noErr(t, "CountAttempt", err)
	revs, err := s.Revocations(ctx, 0, 100)
	noErr(t, "Revocations", err)
	if len(revs) != 1 {
		t.Fatalf("%d revocation log entries before pruning, want 1", len(revs))
	}

	got, err := s.PruneExpired(ctx, oauth.PrunePlan{
		CodesBefore: cut, TokensBefore: cut, SessionsBefore: cut, AttemptsBefore: cut,
		RevocationsBefore: revs[0].At.Add(time.Microsecond), Batch: 2,
	})
	noErr(t, "PruneExpired", err)
	diff(t, "PruneExpired counts", got, oauth.Pruned{Codes: 6, Tokens: 3, Sessions: 2, Attempts: 1, Revocations: 1})

	for _, h := range oldCodes {
		_, err := s.Code(ctx, h)
		wantErr(t, "Code after pruning", err, oauth.ErrNotFound)
	}
	for _, h := range youngCodes {
		_, err := s.Code(ctx, h)
		noErr(t, "Code of a young code after pruning", err)
	}
	for _, h := range oldTokens {
		_, err := s.TokenInfo(ctx, h)
		wantErr(t, "TokenInfo after pruning", err, oauth.ErrNotFound)
	}
	for _, h := range keptTokens {
		_, err := s.TokenInfo(ctx, h)
		noErr(t, "TokenInfo of a kept token", err)
	}
	if _, err := s.Session(ctx, hash("skb_2"), t0); err != nil {
		t.Errorf("the young session is gone: %v", err)
	}
	if _, err := s.Grant(ctx, g.ID); err != nil {
		t.Errorf("the grant is gone: %v", err)
	}
	if n, err := s.CountAttempt(ctx, "young", young.Add(time.Minute), time.Minute); err != nil || n != 2 {
		t.Errorf("the young counter: %d, %v; want it kept, at 2", n, err)
	}
	if n, err := s.CountAttempt(ctx, "old", old, time.Minute); err != nil || n != 1 {
		t.Errorf("the old counter: %d, %v; want it gone, restarting at 1", n, err)
	}

	// Nothing left to prune, and a zero plan prunes nothing.
	got, err = s.PruneExpired(ctx, oauth.PrunePlan{CodesBefore: cut, TokensBefore: cut, SessionsBefore: cut})
	noErr(t, "PruneExpired again", err)
	diff(t, "PruneExpired again", got, oauth.Pruned{})
	got, err = s.PruneExpired(ctx, oauth.PrunePlan{})
	noErr(t, "PruneExpired with no cutoffs", err)
	diff(t, "PruneExpired with no cutoffs", got, oauth.Pruned{})
}
