package oauth

import (
	"context"
	"time"
)

// Storage is the persistence the core needs. Implementations must make every
// method that names a single-use or rotation rule atomic in the database (a
// conditional write that only one caller can win), never a read-then-write
// race, and must map their driver errors onto ErrNotFound and ErrConflict.
// Times are stored in UTC truncated to microseconds.
type Storage interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	// CreateApp stores a new app; ErrConflict if the id is taken.
	CreateApp(ctx context.Context, a *App) error
	// App returns the app with the id; ErrNotFound if there is none.
	App(ctx context.Context, id string) (*App, error)
	// Apps lists apps, those of one partner when partnerID is not empty,
	// oldest first.
	Apps(ctx context.Context, partnerID string) ([]*App, error)
	// UpdateApp overwrites an app's fields and logs an entry naming the app
	// in the revocation log, so that every process drops its cached copy;
	// ErrNotFound if it does not exist.
	UpdateApp(ctx context.Context, a *App) error
	// DeleteApp deletes an app with its codes, grants and tokens, and logs a
	// revocation for it; ErrNotFound if it does not exist.
	DeleteApp(ctx context.Context, id string, now time.Time) error

	// CreateUser stores a merchant; ErrConflict if the email (compared
	// case-insensitively) is taken.
	CreateUser(ctx context.Context, u *User) error
	// User returns a merchant by id; ErrNotFound.
	User(ctx context.Context, id string) (*User, error)
	// UserByEmail returns a merchant by email, case-insensitively; ErrNotFound.
	UserByEmail(ctx context.Context, email string) (*User, error)

	// CreateStore stores a store and makes ownerID its owner, in one
	// transaction; ErrConflict if the slug is taken.
	CreateStore(ctx context.Context, s *Store, ownerID string) error
	// Store returns a store by id; ErrNotFound.
	Store(ctx context.Context, id string) (*Store, error)
	// StoreBySlug returns a store by slug; ErrNotFound.
	StoreBySlug(ctx context.Context, slug string) (*Store, error)
	// AddMember gives a user a role in a store, replacing any earlier role.
	AddMember(ctx context.Context, storeID, userID string, role Role) error
	// Memberships lists the stores a user belongs to, by store name.
	Memberships(ctx context.Context, userID string) ([]Membership, error)
	// CreateLocation stores a location of a store.
	CreateLocation(ctx context.Context, l *Location) error
	// Locations lists a store's locations, by name.
	Locations(ctx context.Context, storeID string) ([]Location, error)

	// CreateCatalog and CreateCustomerList store a store's catalog or
	// customer list; Catalogs and CustomerLists list them by name.
	CreateCatalog(ctx context.Context, r *Resource) error
	Catalogs(ctx context.Context, storeID string) ([]Resource, error)
	CreateCustomerList(ctx context.Context, r *Resource) error
	CustomerLists(ctx context.Context, storeID string) ([]Resource, error)

	// CreateSession stores a browser session.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with the hash if it has not expired at now;
	// ErrNotFound otherwise.
	Session(ctx context.Context, hash []byte, now time.Time) (*Session, error)
	// MerchantSession returns an unexpired session of kind SessionMerchant,
	// its merchant and the merchant's memberships (as Memberships), in one
	// read: it is on every authorization request. ErrNotFound if the
	// session or its merchant is missing.
	MerchantSession(ctx context.Context, hash []byte, now time.Time) (*Session, *User, []Membership, error)
	// DeleteSession ends a session; deleting a missing one is not an error.
	DeleteSession(ctx context.Context, hash []byte) error

	// CreateCode stores an unused authorization code (the out-of-band kind;
	// sealed codes are stored only when redeemed), in the same statement
	// that checks that its user may connect apps to its store (an owner or
	// an admin, Role.CanAuthorize); ErrNotFound if not.
	CreateCode(ctx context.Context, c *Code) error
	// Code returns a stored code by hash, used or not; ErrNotFound.
	Code(ctx context.Context, hash []byte) (*Code, error)
	// RedeemCode stores c as used at now by g (inserting it, or marking the
	// stored unused code), and stores g and its tokens, in one transaction.
	// Only one caller can redeem a code: every other gets ErrConflict and
	// nothing is written. So does a code whose approval no longer holds
	// (its user may no longer connect apps to its store, or the session
	// that approved a sealed code is gone) or whose app was deleted
	// meanwhile: ErrNotFound.
	RedeemCode(ctx context.Context, c *Code, now time.Time, g *Grant, tokens []*Token) error

	// RebindGrant redeems c, as RedeemCode does, for the existing grant g,
	// and rebinds g (and its tokens) to g's Scopes and Bound, in one
	// transaction, logging a revocation entry for g so that caches drop what
	// they held of it. Errors as RedeemCode's.
	RebindGrant(ctx context.Context, c *Code, now time.Time, g *Grant) error

	// Grant returns a grant by id; ErrNotFound.
	Grant(ctx context.Context, id string) (*Grant, error)
	// Grants lists grants matching the filter, newest first.
	Grants(ctx context.Context, f GrantFilter) ([]*Grant, error)
	// GrantedScopes returns the scope sets of the app's newest active
	// grants on the store, at most limit grants read, each set once: what
	// the consent check compares, on every authorization.
	GrantedScopes(ctx context.Context, appID, storeID string, limit int) ([]Scopes, error)
	// RotateGrant advances the grant's generation from `from` to from+1,
	// records now as its rotation time, keyID as its key, clears
	// SuccessorUsed, and stores the new generation's tokens, in one
	// transaction. If the grant is revoked or its generation is no longer
	// `from`, it returns ErrConflict and writes nothing.
	RotateGrant(ctx context.Context, grantID string, from int64, now time.Time, keyID string, tokens []*Token) error
	// MarkGrantUsed records that a token of generation gen was used at now:
	// it sets LastUsedAt, and SuccessorUsed if gen is still current.
	MarkGrantUsed(ctx context.Context, grantID string, gen int64, now time.Time) error
	// RevokeGrant revokes a grant and so every token issued under it, and
	// logs the revocation. Revoking a revoked grant is not an error;
	// ErrNotFound if there is no such grant.
	RevokeGrant(ctx context.Context, id string, now time.Time) error
	// RevokeGrants revokes every active grant of an app on a store (an
	// uninstall) and returns how many it revoked.
	RevokeGrants(ctx context.Context, appID, storeID string, now time.Time) (int, error)

	// CreateToken stores a token outside any rotation (app-level tokens).
	CreateToken(ctx context.Context, t *Token) error
	// TokenInfo returns a token by hash joined with its grant, in one
	// statement; ErrNotFound.
	TokenInfo(ctx context.Context, hash []byte) (*TokenInfo, error)
	// RevokeToken revokes one token and logs the revocation; ErrNotFound.
	RevokeToken(ctx context.Context, hash []byte, now time.Time) error
	// Revocations returns the revocation log entries with Seq > after, in
	// order, at most limit of them. A reader that follows the log by Seq
	// never misses an entry: entries become visible in Seq order.
	Revocations(ctx context.Context, after int64, limit int) ([]Revocation, error)

	// Keys returns the server keys, oldest first.
	Keys(ctx context.Context) ([]Key, error)
	// AddKey stores a server key; adding an existing id is not an error and
	// keeps the stored secret.
	AddKey(ctx context.Context, k Key) error

	// CountAttempt counts one attempt under key (a login throttle key) in the
	// fixed window that contains now, and returns the count so far in that
	// window, atomically across processes.
	CountAttempt(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// ResetAttempts forgets the attempts under key.
	ResetAttempts(ctx context.Context, key string) error

	// PruneExpired deletes what has outlived its use: codes, tokens and
	// sessions that expired before the plan's cutoffs (a token that never
	// expires is never pruned), login throttle counters whose window
	// started before AttemptsBefore, and revocation log entries written
	// before RevocationsBefore. A zero cutoff prunes nothing of its kind.
	// It deletes at most p.Batch rows a statement, each statement its own
	// transaction, and after each full batch waits as long as the batch
	// took, so that other writes are never held up for long and a backlog
	// takes at most about half the database's write capacity. It returns
	// how many rows of each kind it deleted, also when it fails or ctx ends
	// part of the way.
	PruneExpired(ctx context.Context, p PrunePlan) (Pruned, error)
}
