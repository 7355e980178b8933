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
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	// "http://127.0.0.1:8080/api/v1"; the app calls APIBase + APIPath.
	APIBase string
	// APIPath is the API request the app makes with its token; default
	// "/products", whose answer the result page shows as a table of
	// products. The JSON answer of any other path is shown field by field
	// (its data object's, when it has one).
	APIPath string
	// TokenHeader is the request header that carries the access token to
	// the API; default Authorization, with the Bearer scheme (RFC 6750
	// §2.1). Any other header, such as HubRise's X-Access-Token, carries
	// the bare token.
	TokenHeader string
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

	// Dialects: what a platform that departs from RFC 6749 needs.

	// AuthParams renames the authorization request's parameters, for a
	// platform with names of its own, such as {"client_id": "clientId"}.
	AuthParams map[string]string
	// Catalog describes the scopes on the landing page; default
	// oauth.DefaultCatalog(). A scope it lacks is shown without words.
	Catalog oauth.ScopeCatalog
	// TokenFields names further fields of the token response that the
	// result page shows, such as Hike's expires or HubRise's
	// location_name; a field the response lacks is left out.
	TokenFields []string
	// Exchange, when set, exchanges the code and the PKCE verifier for a
	// token in place of golang.org/x/oauth2, for a token endpoint that
	// speaks another wire format (HyperSKU's JSON request and camelCase
	// answer). It returns the further fields of the answer through the
	// token's Extra, and the server's refusal as an *oauth2.RetrieveError
	// with its ErrorCode, which the app shows.
	Exchange func(ctx context.Context, code, verifier string) (*oauth2.Token, error)
}

// productsPath is the default API request, whose answer is a list of
// products.
const productsPath = "/products"

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
	if a.cfg.APIPath = "/" + strings.TrimLeft(a.cfg.APIPath, "/"); a.cfg.APIPath == "/" {
		a.cfg.APIPath = productsPath
	}
	if a.cfg.Catalog == nil {
		a.cfg.Catalog = oauth.DefaultCatalog()
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
	var scopes []scopeLine
	for _, s := range a.cfg.Scopes {
		info, _ := a.cfg.Catalog.Lookup(s)
		scopes = append(scopes, scopeLine{Name: s, Description: info.Description})
	}
	a.render(w, http.StatusOK, "landing.html", struct {
		ClientID    string
		AuthURL     string
		TokenURL    string
		RedirectURL string
		APIURL      string
		APIHeader   string
		Listing     bool
		Scopes      []scopeLine
	}{a.cfg.ClientID, a.cfg.AuthURL, a.cfg.TokenURL, a.cfg.RedirectURL, a.apiURL(), a.apiHeader(), a.listing(), scopes})
}

// apiURL is the API request the app makes with its token.
func (a *app) apiURL() string {
	return strings.TrimRight(a.cfg.APIBase, "/") + a.cfg.APIPath
}

// listing reports whether the API answers a list of products.
func (a *app) listing() bool { return a.cfg.APIPath == productsPath }

// apiHeader says how the token travels to the API.
func (a *app) apiHeader() string {
	if a.cfg.TokenHeader == "" {
		return "Authorization: Bearer"
	}
	return a.cfg.TokenHeader
}

// start answers GET {base}/start: it draws a state and a PKCE verifier,
// keeps both in a short-lived cookie, and sends the browser to the
// authorization endpoint.
func (a *app) start(w http.ResponseWriter, r *http.Request) {
	state := oauth2.GenerateVerifier() // 256 random bits, URL-safe
	verifier := oauth2.GenerateVerifier()
	// Secure follows the redirect URI's scheme: the demo serves plain
	// http, over which clients need not send a Secure cookie back.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure is set whenever the app is served over https
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
	http.Redirect(w, r, a.authCodeURL(state, verifier), http.StatusFound)
}

// authCodeURL is the authorization request (RFC 6749 §4.1.1) with the
// PKCE challenge (RFC 7636 §4.3), in the platform's parameter names.
func (a *app) authCodeURL(state, verifier string) string {
	raw := a.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	if len(a.cfg.AuthParams) == 0 {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw // AuthURL is configuration; oauth2 built the URL from it
	}
	q := u.Query()
	for from, to := range a.cfg.AuthParams {
		if q.Has(from) && to != "" {
			q[to] = q[from]
			delete(q, from)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
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
	TokenFields  []field
	APIURL       string
	APIHeader    string // how the token travels to the API
	Listing      bool   // the API answers products (else Fields)
	Products     []productLine
	Fields       []field
	APIError     string
}

// field is a named value of a JSON answer.
type field struct{ Name, Value string }

type productLine struct {
	Name, SKU, Price string
}

// callback answers GET {base}/callback: the authorization response
// (RFC 6749 §4.1.2). It checks the state against the cookie and the issuer,
// shows an error the authorization server sent, or exchanges the code with
// the PKCE verifier, shows the token masked and what the API answers to it.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	// The flow's cookie is single use, whatever comes next.
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Path: a.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode}) //nolint:gosec // G124: as in start
	q := r.URL.Query()
	// An app mounted inside another's path (/example/hike inside /example)
	// is sent both apps' cookies: the flow is the one whose state came back.
	var state, verifier string
	started := false
	for _, c := range r.CookiesNamed(flowCookie) {
		s, v, _ := strings.Cut(c.Value, ".")
		if s == "" || v == "" {
			continue
		}
		started = true
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(s)) == 1 {
			state, verifier = s, v
			break
		}
	}
	if !started {
		a.fail(w, http.StatusBadRequest, problem{
			Heading:     "This connection attempt has expired",
			Description: "The app has no record of starting it in this browser: it may be older than ten minutes, already used, or started elsewhere.",
			Hint:        "Start again.",
		})
		return
	}
	if state == "" {
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

	tok, err := a.exchange(r.Context(), code, verifier)
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
		TokenType:    tok.TokenType,
		ExpiresIn:    tok.ExpiresIn,
		APIURL:       a.apiURL(),
		APIHeader:    a.apiHeader(),
		Listing:      a.listing(),
	}
	if s, ok := tok.Extra("scope").(string); ok {
		res.Scope = s
	}
	if !tok.Expiry.IsZero() {
		res.Expiry = tok.Expiry.UTC().Format(time.RFC1123)
	}
	for _, name := range a.cfg.TokenFields {
		if v, ok := fieldValue(tok.Extra(name)); ok {
			res.TokenFields = append(res.TokenFields, field{Name: name, Value: v})
		}
	}
	body, problem := a.callAPI(r.Context(), res.APIURL, tok.AccessToken)
	switch {
	case problem != "":
		res.APIError = problem
	case res.Listing:
		res.Products, res.APIError = productLines(body)
	default:
		res.Fields, res.APIError = jsonFields(body)
	}
	a.render(w, http.StatusOK, "result.html", res)
}

// exchange trades the code and the PKCE verifier for a token (RFC 6749
// §4.1.3, RFC 7636 §4.5), through the Exchange hook if there is one.
func (a *app) exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	if a.cfg.Exchange != nil {
		return a.cfg.Exchange(ctx, code, verifier)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.client)
	return a.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
}

// callAPI makes the app's API request with the token and returns the
// answer's body, or else says why it could not.
func (a *app) callAPI(ctx context.Context, apiURL, token string) (body []byte, problem string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	if err != nil {
		return nil, "The API URL is not valid: " + err.Error()
	}
	if a.cfg.TokenHeader == "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Set(a.cfg.TokenHeader, token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		a.log.Error("example app: call the API", "url", apiURL, "err", err)
		return nil, "The API could not be reached; the server log says why."
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxAPIBytes))
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
	return body, ""
}

// productLines reads a list of products from the API's answer.
func productLines(body []byte) ([]productLine, string) {
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

// jsonFields reads the fields of a JSON object from the API's answer, or
// of its data object when that is all it holds, sorted by name.
func jsonFields(body []byte) ([]field, string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, "The API's answer is not a JSON object."
	}
	if data, ok := obj["data"]; ok && len(obj) == 1 {
		var inner map[string]json.RawMessage
		if json.Unmarshal(data, &inner) == nil && inner != nil {
			obj = inner
		}
	}
	out := make([]field, 0, len(obj))
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		out = append(out, field{Name: name, Value: rawValue(obj[name])})
	}
	return out, ""
}

// rawValue shows a JSON value: a string without its quotes, an array of
// strings as a space-separated list, anything else as compact JSON.
func rawValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && list != nil {
		return strings.Join(list, " ")
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

// fieldValue shows a token response field as golang.org/x/oauth2 or an
// Exchange hook gives it; false if the response lacks it.
func fieldValue(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case float64: // encoding/json's number
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10), true
		}
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case []string:
		return strings.Join(v, " "), true
	case bool, int, int64, json.Number:
		return fmt.Sprint(v), true
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v), true
		}
		return string(b), true
	}
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
