package oauth

import "time"

// User is a merchant: a person who signs in to authorize apps for the stores
// they administer.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string // PHC-formatted argon2id hash
	CreatedAt    time.Time
}

// Store is a merchant's shop: the tenant that a grant binds an app to.
type Store struct {
	ID        string
	Name      string
	Slug      string // the short name used in store-scoped hosts and paths
	CreatedAt time.Time
}

// Location is a physical or logical place of a store (a shop, a warehouse).
type Location struct {
	ID      string
	StoreID string
	Name    string
}

// Role is a member's role in a store.
type Role string

// Roles. Only owners and admins may authorize apps for a store.
const (
	RoleOwner Role = "owner"
	RoleAdmin Role = "admin"
	RoleStaff Role = "staff"
)

// CanAuthorize reports whether a member with role r may connect apps.
func (r Role) CanAuthorize() bool { return r == RoleOwner || r == RoleAdmin }

// Membership is a user's role in one store.
type Membership struct {
	Store Store
	Role  Role
}

// Session is a signed-in browser session. Only the hash of its cookie value is
// stored.
type Session struct {
	Hash      []byte
	UserID    string
	Kind      string // "merchant" or "partner"
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Resource is a named thing within a store that a consent may bind a grant
// to: a catalog or a customer list.
type Resource struct {
	ID      string
	StoreID string
	Name    string
}

// Slugify makes a store name into a host label: lowercase ASCII letters,
// digits and single dashes, at most 63 characters.
func Slugify(name string) string {
	var b []byte
	dash := false
	for _, r := range name {
		switch {
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
			fallthrough
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b = append(b, byte(r))
			dash = false
		case !dash && len(b) > 0:
			b = append(b, '-')
			dash = true
		}
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) > 63 {
		b = b[:63]
		for len(b) > 0 && b[len(b)-1] == '-' {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}
