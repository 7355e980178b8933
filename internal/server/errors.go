package server

import (
	"context"
	"encoding/json"
	"io"
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

// errorAnswer is an error as the RFC 6749 §5.2 answer: the status, the JSON
// body, and the headers invalid_client and slow_down carry.
type errorAnswer struct {
	status                int
	body                  errorBody
	challenge, retryAfter string
}

// errorAnswer renders err. Anything that is not an *oauth.Error is logged
// and answered as server_error with a generic description and the request
// id, never with its text. pattern is the route, as the metrics name it.
func (s *Server) errorAnswer(ctx context.Context, pattern, path, requestID string, err error) errorAnswer {
	e := oauth.AsError(err)
	a := errorAnswer{status: status(e.Code), body: errorBody{Error: e.Code, Description: e.Description}}
	if e.Code == oauth.ErrServerError || e.Code == oauth.ErrTemporarilyUnavailable {
		a.body.RequestID = requestID
		s.log.ErrorContext(ctx, "request failed", "path", path, "request_id", requestID, "err", e.Err)
	}
	s.metrics.oauthErrors.WithLabelValues(pattern, string(e.Code)).Inc()
	switch e.Code {
	case oauth.ErrInvalidClient:
		a.challenge = `Basic realm="storekey", charset="UTF-8"`
	case oauth.ErrSlowDown:
		a.retryAfter = "1"
	}
	return a
}

// writeError sends err as the RFC 6749 §5.2 JSON error response.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	a := s.errorAnswer(r.Context(), r.Pattern, r.URL.Path, w.Header().Get(requestIDHeader), err)
	h := w.Header()
	if a.challenge != "" {
		h.Set("WWW-Authenticate", a.challenge)
	}
	if a.retryAfter != "" {
		h.Set("Retry-After", a.retryAfter)
	}
	writeJSON(w, a.status, a.body)
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
	encodeJSON(w, v)
}

// encodeJSON writes v and a newline. The answers are Storekey's own types,
// which always encode; a client gone is nothing to act on.
func encodeJSON(w io.Writer, v any) {
	_ = json.NewEncoder(w).Encode(v)
}
