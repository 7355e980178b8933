package resource

import (
	"encoding/json"
	"net/http"
	"strings"
)

// refusal is one answer that refuses a request: its status, the RFC 6750
// §3.1 error code of its challenge and body, and a description safe to show.
type refusal struct {
	status      int
	code        string // the challenge's error attribute and the body's error; "" for none
	bodyCode    string // the body's error when code is "" (a request without a token)
	description string
	scope       string // the scope an insufficient_scope refusal needs
}

// write sends the refusal: a WWW-Authenticate challenge (RFC 6750 §3) and a
// JSON body. A request that carried no token gets a challenge without error
// attributes, as §3.1 asks.
func (f *refusal) write(w http.ResponseWriter, realm string) {
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
	if f.code != "" {
		attr("error", f.code)
		if f.description != "" {
			attr("error_description", f.description)
		}
		if f.scope != "" {
			attr("scope", f.scope)
		}
	}
	w.Header().Set("WWW-Authenticate", b.String())
	code := f.code
	if code == "" {
		code = f.bodyCode
	}
	writeJSON(w, f.status, errorBody{Error: code, Description: f.description, Scope: f.scope})
}

// errorBody is the JSON body of an error response, in the shape of RFC 6749
// §5.2.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do
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
