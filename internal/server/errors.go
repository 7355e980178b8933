package server

import (
	"encoding/json"
	"net/http"

	"github.com/storekey/storekey/internal/oauth"
)

// status returns the HTTP status for an error code at the token, revocation
// and introspection endpoints (RFC 6749 §5.2, RFC 7009 §2.2.1).
func status(code oauth.ErrorCode) int {
	switch code {
	case oauth.ErrInvalidClient:
		return http.StatusUnauthorized
	case oauth.ErrServerError:
		return http.StatusInternalServerError
	case oauth.ErrTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	case oauth.ErrSlowDown:
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

type errorBody struct {
	Error       oauth.ErrorCode `json:"error"`
	Description string          `json:"error_description,omitempty"`
	RequestID   string          `json:"request_id,omitempty"`
}

// writeError renders err as the RFC 6749 §5.2 JSON error response. Anything
// that is not an *oauth.Error is logged and answered as server_error with a
// generic description and the request id, never with its text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := oauth.AsError(err)
	body := errorBody{Error: e.Code, Description: e.Description}
	if e.Code == oauth.ErrServerError || e.Code == oauth.ErrTemporarilyUnavailable {
		body.RequestID = w.Header().Get(requestIDHeader)
		s.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "request_id", body.RequestID, "err", e.Err)
	}
	s.metrics.oauthErrors.WithLabelValues(r.Pattern, string(e.Code)).Inc()
	h := w.Header()
	if e.Code == oauth.ErrInvalidClient {
		h.Set("WWW-Authenticate", `Basic realm="storekey", charset="UTF-8"`)
	}
	if e.Code == oauth.ErrSlowDown {
		h.Set("Retry-After", "1")
	}
	writeJSON(w, status(e.Code), body)
}

// The headers of every JSON answer (RFC 6749 §5.1), set as shared values:
// net/http only reads them, and Header.Set would allocate each anew.
var (
	jsonType = []string{"application/json;charset=UTF-8"}
	noStore  = []string{"no-store"}
	noCache  = []string{"no-cache"}
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	h["Pragma"] = noCache
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
