package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
)

// maxBody bounds every request body the machine endpoints read.
const maxBody = 64 << 10

// form is a request's parameters, read once from a POST body.
type form struct {
	values url.Values
}

// readForm reads an application/x-www-form-urlencoded POST body (RFC 6749
// §3.2). Parameters in the query string are refused: credentials and codes
// must not travel in URLs. A parameter sent more than once is refused
// (RFC 6749 §3.1, §3.2).
func readForm(w http.ResponseWriter, r *http.Request) (form, error) {
	if r.URL.RawQuery != "" {
		return form{}, errQueryParams
	}
	if !isForm(r.Header.Get("Content-Type")) {
		return form{}, errNotForm
	}
	// The body is parsed here rather than by Request.ParseForm, which
	// would also parse the (empty) query and copy both into Request.Form.
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return form{}, errBodyTooLarge
	}
	if err != nil {
		return form{}, errNotFormEncoded
	}
	return parseForm(body)
}

// readFastForm is readForm for a request served natively on fasthttp.
func readFastForm(c *fasthttp.RequestCtx) (form, error) {
	switch {
	case len(c.URI().QueryString()) > 0:
		return form{}, errQueryParams
	case !isForm(string(c.Request.Header.ContentType())):
		return form{}, errNotForm
	case len(c.PostBody()) > maxBody:
		return form{}, errBodyTooLarge
	}
	return parseForm(c.PostBody())
}

var (
	errQueryParams    = oauth.Errorf(oauth.ErrInvalidRequest, "parameters must be sent in the request body, not the query string")
	errNotForm        = oauth.Errorf(oauth.ErrInvalidRequest, "the request body must be application/x-www-form-urlencoded")
	errBodyTooLarge   = oauth.Errorf(oauth.ErrInvalidRequest, "the request body is larger than %d bytes", maxBody)
	errNotFormEncoded = oauth.Errorf(oauth.ErrInvalidRequest, "the request body is not valid form encoding")
)

// parseForm parses a form-encoded body, refusing a parameter sent twice.
func parseForm(body []byte) (form, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return form{}, errNotFormEncoded
	}
	for k, v := range values {
		if len(v) > 1 {
			return form{}, oauth.Errorf(oauth.ErrInvalidRequest, "the %s parameter must not be repeated", truncate(k, 64))
		}
	}
	return form{values: values}, nil
}

// isForm reports whether a Content-Type names form encoding. The usual
// header, the bare media type, is recognised without parsing.
func isForm(contentType string) bool {
	const formType = "application/x-www-form-urlencoded"
	if strings.EqualFold(contentType, formType) {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == formType
}

// readJSONForm reads a JSON object of string fields as a form, for dialects
// whose token request is JSON. Fields may use the dialect's names (p) or
// the RFC 6749 ones.
func readJSONForm(w http.ResponseWriter, r *http.Request, p profile.Params) (form, error) {
	if r.URL.RawQuery != "" {
		return form{}, oauth.Errorf(oauth.ErrInvalidRequest, "parameters must be sent in the request body, not the query string")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return form{}, oauth.Errorf(oauth.ErrInvalidRequest, "the request body is larger than %d bytes", maxBody)
		}
		return form{}, oauth.Errorf(oauth.ErrInvalidRequest, "the request body is not a JSON object")
	}
	if dec.More() {
		return form{}, oauth.Errorf(oauth.ErrInvalidRequest, "the request body must hold one JSON object")
	}
	v := url.Values{}
	for k, x := range obj {
		str, ok := x.(string)
		if !ok {
			if x == nil {
				continue
			}
			return form{}, oauth.Errorf(oauth.ErrInvalidRequest, "the %s field must be a string", truncate(k, 64))
		}
		v.Set(k, str)
	}
	return renamed(v, p)
}

// renamed maps a dialect's parameter names onto the RFC 6749 ones. Sending
// both names of one parameter with different values is refused.
func renamed(v url.Values, p profile.Params) (form, error) {
	for _, m := range [][2]string{
		{p.ClientID, "client_id"}, {p.ClientSecret, "client_secret"}, {p.RedirectURI, "redirect_uri"},
		{p.Code, "code"}, {p.GrantType, "grant_type"}, {p.RefreshToken, "refresh_token"}, {p.Scope, "scope"},
	} {
		dialect, rfc := m[0], m[1]
		if dialect == "" || dialect == rfc || !v.Has(dialect) {
			continue
		}
		if v.Has(rfc) && v.Get(rfc) != v.Get(dialect) {
			return form{}, oauth.Errorf(oauth.ErrInvalidRequest, "%s and %s disagree", dialect, rfc)
		}
		v.Set(rfc, v.Get(dialect))
		v.Del(dialect)
	}
	return form{values: v}, nil
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// storeSlug returns the store the request's host or path names, if any.
func storeSlug(r *http.Request) string { return profile.StoreFrom(r.Context()) }

func (f form) get(k string) string { return f.values.Get(k) }
func (f form) has(k string) bool   { return f.values.Has(k) }

// clientCredentials extracts the client's credentials from the Authorization
// header (client_secret_basic, RFC 6749 §2.3.1, with the form-encoded id and
// secret it requires) or the body (client_secret_post, or a public client's
// bare client_id). Using both methods at once is refused (§2.3).
func clientCredentials(authorization string, f form) (oauth.ClientCredentials, error) {
	if authorization == "" {
		return oauth.ClientCredentials{ID: f.get("client_id"), Secret: f.get("client_secret")}, nil
	}
	scheme, encoded, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return oauth.ClientCredentials{}, oauth.Errorf(oauth.ErrInvalidClient, "client authentication must use the Basic scheme")
	}
	id, secret, ok := basicAuth(encoded)
	if !ok {
		return oauth.ClientCredentials{}, oauth.Errorf(oauth.ErrInvalidClient, "the Authorization header is malformed")
	}
	var err1, err2 error
	id, err1 = url.QueryUnescape(id)
	secret, err2 = url.QueryUnescape(secret)
	if err1 != nil || err2 != nil {
		return oauth.ClientCredentials{}, oauth.Errorf(oauth.ErrInvalidClient, "the Authorization header is malformed")
	}
	if f.has("client_secret") {
		return oauth.ClientCredentials{}, oauth.Errorf(oauth.ErrInvalidRequest, "use one client authentication method, not both")
	}
	if f.has("client_id") && f.get("client_id") != id {
		return oauth.ClientCredentials{}, oauth.Errorf(oauth.ErrInvalidClient, "client_id does not match the Authorization header")
	}
	return oauth.ClientCredentials{ID: id, Secret: secret, Basic: true}, nil
}

// basicAuth decodes the credentials of a Basic Authorization header (RFC
// 7617), as net/http's Request.BasicAuth does.
func basicAuth(encoded string) (id, secret string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
