package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/password"
)

// maxEmail is the longest email address (RFC 5321 §4.5.3.1 bounds a path to
// 256 octets, the address to 254); longer input is not looked up.
const maxEmail = 254

// signin is the sign-in page, at /login or in place of the consent page.
type signin struct {
	base
	Email string
	Next  string
	Error string
	App   *oauth.App // the app being connected, when signing in to authorize
	// SignUp offers a new account, for dialects whose flow lets a person
	// without one sign up on the way (HubRise), prefilled from the request.
	SignUp      bool
	AccountName string
	Location    string
	Country     string
	SignUpError string
}

// loginPage shows the sign-in form; a merchant already signed in goes on to
// next.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if u, ok := h.CurrentUser(r); ok && u != nil {
		h.redirect(w, r, cmp.Or(next, "/"))
		return
	}
	h.render(w, r, http.StatusOK, "signin", signin{base: h.base(r, nil), Next: next})
}

// login checks the email and password, throttled per email and per client
// address, and starts a session.
//
// The attempt is counted before the password is checked, so that a
// throttled client costs no argon2 work and a correct guess past the limit
// is refused like any other. Success clears the email's count; the
// address's count goes on (clearing it would let an attacker reset it by
// signing in to an account of their own).
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	pw := r.PostForm.Get("password")
	next := localPath(r.PostForm.Get("next"))
	ctx := r.Context()

	emailKey := "login:email:" + strings.ToLower(truncateString(email, maxEmail))
	retry, err := h.throttle(ctx, emailKey, "login:ip:"+h.opts.ClientIP(r))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if retry > 0 {
		h.log.WarnContext(ctx, "sign-in throttled", "ip", h.opts.ClientIP(r))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		h.message(w, r, http.StatusTooManyRequests, message{
			Heading: "Too many attempts",
			Text:    fmt.Sprintf("There were too many sign-in attempts. Try again in %s.", roundUpMinutes(retry)),
			Back:    signinURL(next),
		})
		return
	}

	u, err := h.authenticate(ctx, email, pw)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if u == nil {
		h.log.InfoContext(ctx, "sign-in failed", "ip", h.opts.ClientIP(r))
		h.render(w, r, http.StatusUnauthorized, "signin", signin{
			base:  h.base(r, nil),
			Email: email,
			Next:  next,
			Error: "The email or password is not right.",
		})
		return
	}
	if err := h.st.ResetAttempts(ctx, emailKey); err != nil {
		h.log.WarnContext(ctx, "reset sign-in attempts", "err", err)
	}
	if err := h.startSession(ctx, w, r, u); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "signed in", "user_id", u.ID)
	h.redirect(w, r, cmp.Or(next, "/"))
}

// throttle counts one attempt under each key and returns how long until the
// window ends if any count is over the limit, 0 otherwise.
func (h *Handler) throttle(ctx context.Context, keys ...string) (time.Duration, error) {
	now, window := h.now(), h.opts.LoginWindow
	over := false
	for _, k := range keys {
		n, err := h.st.CountAttempt(ctx, k, now, window)
		if err != nil {
			return 0, fmt.Errorf("count sign-in attempt: %w", err)
		}
		over = over || n > h.opts.LoginLimit
	}
	if !over {
		return 0, nil
	}
	// Windows are aligned on multiples of their length (see CountAttempt).
	return max(now.Truncate(window).Add(window).Sub(now), time.Second), nil
}

// authenticate returns the user whose email and password these are, or nil.
func (h *Handler) authenticate(ctx context.Context, email, pw string) (*oauth.User, error) {
	return checkPassword(ctx, email, pw, h.st.UserByEmail, func(u *oauth.User) (string, string) { return u.ID, u.PasswordHash })
}

// checkPassword returns the account (a merchant or a partner) whose email
// and password these are, or nil. An unknown email is checked against a
// dummy hash so that the answer takes as long as for a known one and does
// not reveal which emails have accounts.
func checkPassword[A any](ctx context.Context, email, pw string, lookup func(context.Context, string) (*A, error), hashOf func(*A) (id, hash string)) (*A, error) {
	var account *A
	id, hash := "(dummy)", dummyHash
	if email != "" && len(email) <= maxEmail {
		a, err := lookup(ctx, email)
		switch {
		case errors.Is(err, oauth.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("account by email: %w", err)
		default:
			account = a
			id, hash = hashOf(a)
		}
	}
	ok, err := password.Verify(pw, hash)
	if err != nil {
		// A stored hash that cannot be read locks its account out: say so
		// in the log, not to the person signing in.
		return nil, fmt.Errorf("verify password of %s: %w", id, err)
	}
	if !ok || account == nil {
		return nil, nil
	}
	return account, nil
}

// logout ends the session and goes to next, or home.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	if c, err := r.Cookie(cookieName); err == nil && validCookie(c.Value) {
		if err := h.st.DeleteSession(r.Context(), oauth.Hash(c.Value)); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	http.SetCookie(w, h.cookie("", -1))
	h.redirect(w, r, cmp.Or(localPath(r.PostForm.Get("next")), "/"))
}

// localPath returns s if it is a path on this server ("/..."), or "". It
// refuses what a browser would read as another host: "//host",
// "/\host", and control characters, which browsers strip ("/\t/host").
func localPath(s string) string {
	if len(s) == 0 || len(s) > maxForm/4 || s[0] != '/' || strings.HasPrefix(s, "//") {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return ""
	}
	return s
}

func signinURL(next string) string {
	if next == "" {
		return "/login"
	}
	return "/login?" + url.Values{"next": {next}}.Encode()
}

func roundUpMinutes(d time.Duration) string {
	m := int(math.Ceil(d.Minutes()))
	if m <= 1 {
		return "a minute"
	}
	return strconv.Itoa(m) + " minutes"
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
