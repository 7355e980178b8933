package oauth

import (
	"context"
	"time"
)

// Partner is a developer account: a person or company that registers apps
// in the partner dashboard. Partner accounts are separate from merchant
// accounts (User): a session of one kind never grants the other's pages.
type Partner struct {
	ID           string
	Email        string
	Name         string // the person
	Company      string // shown to merchants as the apps' developer
	PasswordHash string // PHC-formatted argon2id hash
	CreatedAt    time.Time
}

// Session kinds.
const (
	SessionMerchant = "merchant"
	SessionPartner  = "partner"
)

// Logo is an app's logo as uploaded through the dashboard: checked,
// re-encoded (which drops any metadata) and resized by the web layer.
type Logo struct {
	AppID       string
	ContentType string // image/png or image/jpeg
	Data        []byte
	Width       int
	Height      int
	UpdatedAt   time.Time
}

// Installation is an app's presence on a store: its active grants there,
// taken together.
type Installation struct {
	AppID       string
	AppName     string
	StoreID     string
	StoreName   string
	StoreSlug   string
	Scopes      Scopes    // the union of the active grants' scopes
	Grants      int       // how many active grants
	InstalledAt time.Time // the oldest active grant's creation
	LastUsedAt  time.Time // the newest use of any of them; zero if never used
}

// InstallationFilter selects installations; at least one field must be set.
type InstallationFilter struct {
	AppID   string
	StoreID string
}

// PartnerStorage is the persistence of the partner dashboard and of the
// merchant's app pages, beside Storage.
type PartnerStorage interface {
	// CreatePartner stores a partner account; ErrConflict if the email
	// (compared case-insensitively) is taken.
	CreatePartner(ctx context.Context, p *Partner) error
	// Partner returns a partner by id; ErrNotFound.
	Partner(ctx context.Context, id string) (*Partner, error)
	// PartnerByEmail returns a partner by email, case-insensitively;
	// ErrNotFound.
	PartnerByEmail(ctx context.Context, email string) (*Partner, error)

	// Installations lists the active installations matching the filter, by
	// store name then app name.
	Installations(ctx context.Context, f InstallationFilter) ([]Installation, error)

	// SetLogo stores or replaces an app's logo; ErrNotFound if there is no
	// such app.
	SetLogo(ctx context.Context, l *Logo) error
	// Logo returns an app's logo; ErrNotFound if it has none.
	Logo(ctx context.Context, appID string) (*Logo, error)
}
