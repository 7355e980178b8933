package example

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/storekey/storekey/internal/oauth"
)

// Config configures the example app.
type Config struct {
	// BasePath is where the app is mounted, such as "/example"; its pages
	// are BasePath + "/", "/start" and "/callback".
	BasePath string
	// ClientID and ClientSecret are the app's credentials at Storekey; the
	// secret is sent with HTTP Basic (RFC 6749 §2.3.1).
	ClientID     string
	ClientSecret string
	// AuthURL and TokenURL are Storekey's authorization and token endpoints.
	AuthURL  string
	TokenURL string
	// APIBase is the sample API's base URL, such as
	// "http://127.0.0.1:8080/api/v1"; the app calls APIBase + "/products".
	APIBase string
	// RedirectURL is the app's registered redirect URI: the absolute URL of
	// BasePath + "/callback".
	RedirectURL string
	// Scopes are the scopes the app asks for.
	Scopes []string
	// Issuer, when set, is the iss value the authorization response must
	// carry (RFC 9207 §2.4); a response without it or with another is
	// refused.
	Issuer string
	// HTTPClient makes the token and API requests; default a client with a
	// 10 s timeout.
	HTTPClient *http.Client
	// Title names the app on its pages; default "Example partner app".
	Title string
	// Logger logs failures; default slog.Default().
	Logger *slog.Logger
}

const (
	flowCookie  = "storekey_example_flow"
	flowMaxAge  = 10 * time.Minute
	maxAPIBytes = 1 << 20
)

// contentSecurityPolicy allows nothing but the app's own stylesheet, and
// no framing (clickjacking) or form posts elsewhere.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed templates/*.html static
var files embed.FS

var pages = template.Must(template.New("").ParseFS(files, "templates/*.html"))

type app struct {
	cfg    Config
	base   string // BasePath without a trailing slash
	oauth  *oauth2.Config
	client *http.Client
	log    *slog.Logger
	secure bool // whether the cookie needs Secure: the app is served over https
}

// New returns the example app's handler. It serves full paths under
// cfg.BasePath, so mount it there without stripping the prefix.
func New(cfg Config) http.Handler {
	a := &app{
		cfg:    cfg,
		base:   strings.TrimRight(cfg.BasePath, "/"),
		client: cfg.HTTPClient,
		log:    cfg.Logger,
		secure: strings.HasPrefix(strings.ToLower(cfg.RedirectURL), "https://"),
		oauth: &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint: oauth2.Endpoint{
				AuthURL:  cfg.AuthURL,
				TokenURL: cfg.TokenURL,
				// Said outright: auto-detection retries a failed exchange
				// with the other style, which would present the code twice.
				AuthStyle: oauth2.AuthStyleInHeader,
			},
			RedirectURL: cfg.RedirectURL,
			Scopes:      cfg.Scopes,
		},
	}
	if a.cfg.Title == "" {
		a.cfg.Title = "Example partner app"
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: 10 * time.Second}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	static, _ := fs.Sub(files, "static")

	mux := http.NewServeMux()
	mux.HandleFunc("GET "+a.base+"/{$}", a.landing)
	mux.HandleFunc("GET "+a.base+"/start", a.start)
	mux.HandleFunc("GET "+a.base+"/callback", a.callback)
	mux.Handle("GET "+a.base+"/static/", http.StripPrefix(a.base+"/static/", http.FileServerFS(static)))
	if a.base != "" {
		mux.Handle("GET "+a.base, http.RedirectHandler(a.base+"/", http.StatusFound))
	}
	return securityHeaders(mux)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// The callback's URL holds the code; it must not leak in Referer.
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title string
	Base  string
	Data  any
}

func (a *app) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, page{Title: a.cfg.Title, Base: a.base, Data: data}); err != nil {
		a.log.Error("example app: render page", "page", name, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// scopeLine is a scope with what it lets the app do.
type scopeLine struct{ Name, Description string }

// landing shows GET {base}/: what the app is and what it will ask for.
func (a *app) landing(w http.ResponseWriter, r *http.Request) {
	catalog := oauth.DefaultCatalog()
	var scopes []scopeLine
	for _, s := range a.cfg.Scopes {
		info, _ := catalog.Lookup(s)
		scopes = append(scopes, scopeLine{Name: s, Description: info.Description})
	}
	a.render(w, http.StatusOK, "landing.html", struct {
		ClientID    string
		AuthURL     string
		TokenURL    string
		RedirectURL string
		APIBase     string
		Scopes      []scopeLine
	}{a.cfg.ClientID, a.cfg.AuthURL, a.cfg.TokenURL, a.cfg.RedirectURL, a.cfg.APIBase, scopes})
}

// start answers GET {base}/start: it draws a state and a PKCE verifier,
// keeps both in a short-lived cookie, and sends the browser to the
// authorization endpoint.
func (a *app) start(w http.ResponseWriter, r *http.Request) {
	state := oauth2.GenerateVerifier() // 256 random bits, URL-safe
	verifier := oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{
		Name:     flowCookie,
		Value:    state + "." + verifier,
		Path:     a.cookiePath(),
		MaxAge:   int(flowMaxAge / time.Second),
		HttpOnly: true,
		Secure:   a.secure,
		// Lax: the cookie must come back on the top-level redirect from
		// the authorization server, a cross-site GET navigation.
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

func (a *app) cookiePath() string {
	if a.base == "" {
		return "/"
	}
	return a.base
}

// problem is what the error page shows.
type problem struct {
	Heading     string
	Code        string // an OAuth error code, if any
	Description string
	Hint        string
}

func (a *app) fail(w http.ResponseWriter, status int, p problem) {
	a.render(w, status, "error.html", p)
}

// result is what the result page shows.
type result struct {
	AccessToken  string // masked
	RefreshToken string // masked; "" if none
	TokenType    string
	Scope        string // "" if the server did not list the granted scopes
	ExpiresIn    int64
	Expiry       string // "" if the token does not expire
	APIURL       string
	Products     []productLine
	APIError     string
}

type productLine struct {
	Name, SKU, Price string
}

// callback answers GET {base}/callback: the authorization response
// (RFC 6749 §4.1.2). It checks the state against the cookie and the issuer,
// shows an error the authorization server sent, or exchanges the code with
// the PKCE verifier, shows the token masked and lists the store's products
// through the API.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(flowCookie)
	// The flow's cookie is single use, whatever comes next.
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Path: a.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	var state, verifier string
	if err == nil {
		state, verifier, _ = strings.Cut(c.Value, ".")
	}
	if state == "" || verifier == "" {
		a.fail(w, http.StatusBadRequest, problem{
			Heading:     "This connection attempt has expired",
			Description: "The app has no record of starting it in this browser: it may be older than ten minutes, already used, or started elsewhere.",
			Hint:        "Start again.",
		})
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		a.fail(w, http.StatusBadRequest, problem{
			Heading:     "The state does not match",
			Description: "The response does not carry the state this app sent, so it may not answer this app's request (RFC 6749 §10.12). It was ignored.",
			Hint:        "Start again.",
		})
		return
	}
	if a.cfg.Issuer != "" && q.Get("iss") != a.cfg.Issuer {
		a.fail(w, http.StatusBadRequest, problem{
			Heading:     "The response comes from an unexpected issuer",
			Description: fmt.Sprintf("The app expects iss=%q, and the response carries %q (RFC 9207 §2.4). It was ignored.", a.cfg.Issuer, q.Get("iss")),
			Hint:        "Check the issuer the app is configured with.",
		})
		return
	}
	if code := q.Get("error"); code != "" {
		heading := "Storekey refused the request"
		if code == string(oauth.ErrAccessDenied) {
			heading = "The merchant did not connect the app"
		}
		a.fail(w, http.StatusOK, problem{Heading: heading, Code: code, Description: q.Get("error_description"), Hint: "You may start again."})
		return
	}
	code := q.Get("code")
	if code == "" {
		a.fail(w, http.StatusBadRequest, problem{
			Heading:     "The response has no code",
			Description: "The authorization response carries neither a code nor an error.",
			Hint:        "Start again.",
		})
		return
	}

	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, a.client)
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			a.fail(w, http.StatusBadGateway, problem{
				Heading:     "The token endpoint refused the code",
				Code:        re.ErrorCode,
				Description: re.ErrorDescription,
				Hint:        "Start again.",
			})
			return
		}
		a.log.Error("example app: exchange the code", "err", err)
		a.fail(w, http.StatusBadGateway, problem{
			Heading:     "The token endpoint could not be used",
			Description: "The app could not exchange the code for a token; the server log says why.",
			Hint:        "Check that Storekey is running, then start again.",
		})
		return
	}

	res := result{
		AccessToken:  mask(tok.AccessToken),
		RefreshToken: mask(tok.RefreshToken),
		TokenType:    tok.Type(),
		ExpiresIn:    tok.ExpiresIn,
		APIURL:       strings.TrimRight(a.cfg.APIBase, "/") + "/products",
	}
	if s, ok := tok.Extra("scope").(string); ok {
		res.Scope = s
	}
	if !tok.Expiry.IsZero() {
		res.Expiry = tok.Expiry.UTC().Format(time.RFC1123)
	}
	res.Products, res.APIError = a.products(r.Context(), res.APIURL, tok.AccessToken)
	a.render(w, http.StatusOK, "result.html", res)
}

// products lists the store's products through the API, or says why it
// could not.
func (a *app) products(ctx context.Context, apiURL, token string) ([]productLine, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	if err != nil {
		return nil, "The API URL is not valid: " + err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		a.log.Error("example app: call the API", "url", apiURL, "err", err)
		return nil, "The API could not be reached; the server log says why."
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBytes))
	if err != nil {
		return nil, "The API's answer could not be read."
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		msg := "The API answered " + resp.Status
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg += ": " + e.Error
			if e.Description != "" {
				msg += " (" + e.Description + ")"
			}
		}
		return nil, msg + "."
	}
	var list struct {
		Data []oauth.Product `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, "The API's answer is not the expected JSON."
	}
	lines := make([]productLine, 0, len(list.Data))
	for _, p := range list.Data {
		lines = append(lines, productLine{Name: p.Name, SKU: p.SKU, Price: price(p.PriceCents, p.Currency)})
	}
	return lines, ""
}

// price formats an amount in minor units, assuming two decimals, as most
// currencies have.
func price(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, currency)
}

// mask shows the first 8 characters of a secret and hides the rest. Secrets
// of 12 characters or fewer are hidden entirely, since 8 would be most of
// them.
func mask(secret string) string {
	if secret == "" {
		return ""
	}
	r := []rune(secret)
	if len(r) <= 12 {
		return "…"
	}
	return string(r[:8]) + "…"
}

// CallbackURL returns the redirect URI of the app mounted at basePath on
// origin: CallbackURL("http://127.0.0.1:8080", "/example") is
// "http://127.0.0.1:8080/example/callback".
func CallbackURL(origin, basePath string) string {
	return strings.TrimRight(origin, "/") + strings.TrimRight(basePath, "/") + "/callback"
}
