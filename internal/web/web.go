package web

import (
	"cmp"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
)

// Options configure a Handler. The zero value of a field means its default.
type Options struct {
	Logger *slog.Logger
	// SecureCookies sets the Secure attribute on the session cookie; set it
	// when the issuer is https.
	SecureCookies bool
	SessionTTL    time.Duration // how long a sign-in lasts; default 12 hours
	// LoginLimit is how many sign-in attempts one email, and one client IP,
	// may make in LoginWindow before getting 429; default 10 per 15 minutes.
	// A successful sign-in clears its email's count.
	LoginLimit  int
	LoginWindow time.Duration
	Now         func() time.Time
	Brand       string // the product name shown; default "Storekey"
	Links       []Link // shown on the home page
	// Profiles are the enabled dialects: their authorization paths are
	// served here with their parameter names. Standard is always there.
	Profiles []*profile.Profile
	// Portal, when set, serves the partner dashboard (/partners/) and the
	// merchant's app pages (/account/), and audits sign-ins.
	Portal *Portal
	// ClientIP returns the address sign-in throttling counts by. The default
	// is the host of RemoteAddr (the /64 network for IPv6); set it when a
	// trusted proxy forwards the client's address.
	ClientIP func(*http.Request) string
}

// Link is an entry of the home page's list of places to go.
type Link struct {
	Title       string
	URL         string
	Description string
}

const (
	maxForm    = 64 << 10 // bytes of a posted form
	cookieName = "storekey_session"
)

// Handler serves the pages. Create it with New.
type Handler struct {
	profiles map[string]*profile.Profile
	svc      *oauth.Service
	st       oauth.Storage
	opts     Options
	log      *slog.Logger
	next     http.Handler
}

// dummyHash is what a sign-in with an unknown email is verified against, so
// that it costs what a known one does. It is the hash of a random password
// nobody kept, made with password.Default's parameters (a test checks that
// they still match).
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$eXl3R2hYUS90SHY3OFBDSQ$G9sncnqGSNdZfYWW/LELu+YhpqAbzKVQ/u/tapIEC0c"

// New returns the pages' handler. It serves these paths, which the router
// must send to it: GET /{$}, GET and POST /oauth/authorize, GET and POST
// /login, POST /logout, and GET /assets/.
func New(svc *oauth.Service, st oauth.Storage, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.LoginLimit <= 0 {
		opts.LoginLimit = 10
	}
	if opts.LoginWindow <= 0 {
		opts.LoginWindow = 15 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Brand = cmp.Or(opts.Brand, "Storekey")
	if opts.ClientIP == nil {
		opts.ClientIP = remoteIP
	}
	h := &Handler{svc: svc, st: st, opts: opts, log: opts.Logger, profiles: map[string]*profile.Profile{}}
	for _, p := range opts.Profiles {
		h.profiles[p.Name] = p
	}
	if h.profiles[profile.Standard] == nil {
		std, _ := profile.Get(profile.Standard)
		h.profiles[profile.Standard] = std
		h.opts.Profiles = append([]*profile.Profile{std}, h.opts.Profiles...)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	h.mountAuthorize(mux)
	mux.HandleFunc("GET /login", h.loginPage)
	mux.Handle("POST /login", h.auditSignIn(http.HandlerFunc(h.login)))
	mux.HandleFunc("POST /logout", h.logout)
	mux.HandleFunc("POST /signup", h.signup)
	mux.HandleFunc("GET /assets/{name}", serveAsset)
	h.mountPortal(mux)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, http.StatusForbidden, message{
			Heading: "Request refused",
			Text:    "This form was sent from another site. Go back to the page, reload it and try again.",
		})
	}))
	h.next = h.requestActor(cop.Handler(mux))
	return h
}

// contentSecurityPolicy allows scripts, styles and everything else from this
// origin only (no inline code), images also from https (app logos), and no
// framing at all (clickjacking of the consent page). It has no form-action directive on
// purpose: Chromium applies form-action to the redirects that follow a form
// submission, and the consent form's answer is a 303 to the app's
// redirect_uri on another origin.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' https: data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// ServeHTTP serves the pages with the security headers every response of
// this handler carries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	h.next.ServeHTTP(w, r)
}

func (h *Handler) now() time.Time { return h.opts.Now().UTC().Truncate(time.Microsecond) }

// base is what the layout shows on every page.
type base struct {
	Brand   string
	User    *oauth.User
	Partner *oauth.Partner // on the partner dashboard's pages
	Path    string         // the current page, where signing out returns to
}

func (h *Handler) base(r *http.Request, u *oauth.User) base {
	b := base{Brand: h.opts.Brand, User: u, Path: "/"}
	if r.Method == http.MethodGet {
		b.Path = r.URL.RequestURI()
	}
	return b
}

// render writes a page. The page is rendered into memory first so that a
// template error becomes a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	body, err := renderPage(page, data)
	if err != nil {
		h.log.ErrorContext(r.Context(), "render page", "page", page, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) //nolint:gosec // G705: body is rendered by html/template, which escapes
	}
}

// redirect answers with 303 See Other, which makes the browser GET the
// target even after a POST.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, target string) {
	w.Header().Set("Cache-Control", "no-store")
	// The targets are local paths that passed localPath, or redirect URIs
	// that oauth.Service matched against the app's registered ones.
	http.Redirect(w, r, target, http.StatusSeeOther) //nolint:gosec // G710: see above

}

// message is the page for errors and notices.
type message struct {
	base
	Heading   string
	Text      string
	Code      oauth.ErrorCode // the OAuth error code, when there is one
	RequestID string          // for server errors, to quote to support
	Back      string          // a local link to go back to; "" for the home page
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, m message) {
	if m.Brand == "" {
		m.base = h.base(r, nil)
	}
	h.render(w, r, status, "message", m)
}

// serverError logs err and shows a generic page with a reference to the log
// entry: the request id the server's middleware set, or a new one.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	id := w.Header().Get("X-Request-Id")
	if id == "" {
		id = oauth.RandomID("req_")
	}
	h.log.ErrorContext(r.Context(), "page failed", "request_id", id, "path", r.URL.Path, "err", err)
	h.message(w, r, http.StatusInternalServerError, message{
		Heading:   "Something went wrong",
		Text:      "The server could not complete the request. Try again in a moment.",
		RequestID: id,
	})
}

// parseForm reads a posted form of at most maxForm bytes, answering 413 or
// 400 itself when it cannot.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.message(w, r, http.StatusRequestEntityTooLarge, message{Heading: "Form too large", Text: "The form sent was too large."})
		return false
	}
	h.message(w, r, http.StatusBadRequest, message{Heading: "Bad request", Text: "The form sent could not be read."})
	return false
}

// remoteIP is the default Options.ClientIP: the peer's address, or its /64
// network for IPv6, where one client commonly holds a whole /64.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
