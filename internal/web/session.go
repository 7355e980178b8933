package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/storekey/storekey/internal/oauth"
)

// CurrentUser returns the merchant signed in on r's session cookie, if any.
// A session that is unknown, expired or of another kind is no one. Other
// handlers (partner and merchant pages) use it to require a sign-in.
func (h *Handler) CurrentUser(r *http.Request) (*oauth.User, bool) {
	u, _, err := h.session(r)
	if err != nil {
		h.log.ErrorContext(r.Context(), "read session", "err", err)
		return nil, false
	}
	return u, u != nil
}

// session returns the signed-in merchant and the cookie's value, or a nil
// user when there is none. Only storage failures are errors.
func (h *Handler) session(r *http.Request) (*oauth.User, string, error) {
	m, err := h.signedIn(r)
	if err != nil || m == nil {
		return nil, "", err
	}
	return m.user, m.cookie, nil
}

// merchantSession is session with the session record, for the freshness
// check.
func (h *Handler) merchantSession(r *http.Request) (*oauth.User, *oauth.Session, string, error) {
	m, err := h.signedIn(r)
	if err != nil || m == nil {
		return nil, nil, "", err
	}
	return m.user, m.session, m.cookie, nil
}

// merchant is who a request's session cookie signs in, as one read gives
// it: the session, the merchant and the merchant's stores.
type merchant struct {
	user        *oauth.User
	session     *oauth.Session
	memberships []oauth.Membership
	cookie      string
}

// signedIn returns the request's merchant, or nil when there is none. Only
// storage failures are errors.
func (h *Handler) signedIn(r *http.Request) (*merchant, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || !validCookie(c.Value) {
		return nil, nil
	}
	s, u, ms, err := h.st.MerchantSession(r.Context(), oauth.Hash(c.Value), h.now())
	if errors.Is(err, oauth.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return &merchant{user: u, session: s, memberships: ms, cookie: c.Value}, nil
}

// validCookie rejects values that cannot be a session before they cost a
// database query.
func validCookie(v string) bool {
	return strings.HasPrefix(v, oauth.PrefixSession) && len(v) < 100
}

// startSession signs u in: it stores a new session, ends the one the browser
// had (no session fixation), and sets the cookie.
func (h *Handler) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *oauth.User) error {
	now := h.now()
	value := oauth.RandomSecret(oauth.PrefixSession)
	s := &oauth.Session{
		Hash:      oauth.Hash(value),
		UserID:    u.ID,
		Kind:      oauth.SessionMerchant,
		CreatedAt: now,
		ExpiresAt: now.Add(h.opts.SessionTTL),
	}
	if err := h.st.CreateSession(ctx, s); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if old, err := r.Cookie(cookieName); err == nil && validCookie(old.Value) {
		if err := h.st.DeleteSession(ctx, oauth.Hash(old.Value)); err != nil {
			h.log.WarnContext(ctx, "end previous session", "err", err)
		}
	}
	http.SetCookie(w, h.cookie(value, int(h.opts.SessionTTL.Seconds())))
	return nil
}

// cookie is the session cookie: HttpOnly, SameSite=Lax (sent on the
// top-level GET that brings the merchant back to /oauth/authorize from an
// app), Secure when configured.
func (h *Handler) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{ //nolint:gosec // G124: Secure follows Options.SecureCookies, off only for a plain-http issuer in development
		Name:     cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
}

// csrfToken is the consent form's token: a hash of the session cookie under
// a label, so it is bound to the session, needs no storage, and neither
// reveals the cookie nor can be computed from what the database keeps
// (oauth.Hash of the cookie). It backs up http.CrossOriginProtection for
// browsers that send neither Sec-Fetch-Site nor Origin.
func csrfToken(cookie string) string {
	sum := sha256.Sum256([]byte("storekey csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func validCSRF(cookie, token string) bool {
	return subtle.ConstantTimeCompare([]byte(csrfToken(cookie)), []byte(token)) == 1
}
