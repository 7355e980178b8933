package resource

import (
	"encoding/json"
	"net/http"
	"strings"
)

// A Refusal is the answer to a request that Authenticator refused: the
// status, the headers and the JSON body to send. Middleware, RequireScope
// and RequireStore send it with Write; a server not built on net/http sends
// the same fields its own way.
type Refusal struct {
	Status int // 400, 401, 403, or 500 and 503 when the token could not be checked
	// Challenge is the WWW-Authenticate header (RFC 6750 §3): a Bearer
	// challenge with the realm and, except for a request that carried no
	// token, the error attributes. "" when the refusal has none.
	Challenge string
	// RetryAfter is the Retry-After header, "" for none.
	RetryAfter string
	// Error, Description and Scope are the JSON body's error,
	// error_description and scope (the scope an insufficient_scope refusal
	// needs).
	Error, Description, Scope string
}

// Headers of every refusal besides the challenge.
const (
	jsonType = "application/json"
	noStore  = "no-store"
	noSniff  = "nosniff"
)

// Body returns the JSON body: {"error": ..., "error_description": ...,
// "scope": ...}, ending in a newline.
func (f *Refusal) Body() []byte {
	b, _ := json.Marshal(errorBody{Error: f.Error, Description: f.Description, Scope: f.Scope})
	return append(b, '\n')
}

// Write sends the refusal: its status, its challenge and Retry-After, the
// JSON content type with Cache-Control: no-store and
// X-Content-Type-Options: nosniff, and the body.
func (f *Refusal) Write(w http.ResponseWriter) {
	h := w.Header()
	if f.Challenge != "" {
		h.Set("WWW-Authenticate", f.Challenge)
	}
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	h.Set("Content-Type", jsonType)
	h.Set("Cache-Control", noStore)
	h.Set("X-Content-Type-Options", noSniff)
	w.WriteHeader(f.Status)
	_, _ = w.Write(f.Body()) // the client may have gone; nothing to do
}

// refuse builds a refusal with a Bearer challenge. A request that carried
// no token (code "") gets a challenge without error attributes, as RFC 6750
// §3.1 asks, and bodyCode as its body's error.
func refuse(status int, realm, code, bodyCode, description, scope string) *Refusal {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	attr := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quotable(value))
		b.WriteString(`"`)
		sep = ", "
	}
	if realm != "" {
		attr("realm", realm)
	}
	if code != "" {
		attr("error", code)
		if description != "" {
			attr("error_description", description)
		}
		if scope != "" {
			attr("scope", scope)
		}
	} else {
		code = bodyCode
	}
	return &Refusal{Status: status, Challenge: b.String(), Error: code, Description: description, Scope: scope}
}

// errorBody is the JSON body of an error response, in the shape of RFC 6749
// §5.2.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

// quotable drops the characters that RFC 6750 §3 forbids in the values of
// the challenge's attributes: anything outside %x20-21 / %x23-5B / %x5D-7E,
// which leaves no quote or backslash to escape.
func quotable(s string) string {
	ok := func(c byte) bool { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' }
	clean := true
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if ok(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}
