package oauth

import (
	"errors"
	"fmt"
)

// ErrorCode is an OAuth 2.0 error code as registered by RFC 6749 §4.1.2.1,
// §5.2, RFC 6750 §3.1 and RFC 7009 §2.2.1.
type ErrorCode string

// The error codes Storekey emits.
const (
	ErrInvalidRequest          ErrorCode = "invalid_request"
	ErrInvalidClient           ErrorCode = "invalid_client"
	ErrInvalidGrant            ErrorCode = "invalid_grant"
	ErrUnauthorizedClient      ErrorCode = "unauthorized_client"
	ErrUnsupportedGrantType    ErrorCode = "unsupported_grant_type"
	ErrInvalidScope            ErrorCode = "invalid_scope"
	ErrAccessDenied            ErrorCode = "access_denied"
	ErrUnsupportedResponseType ErrorCode = "unsupported_response_type"
	ErrServerError             ErrorCode = "server_error"
	ErrTemporarilyUnavailable  ErrorCode = "temporarily_unavailable"
	ErrUnsupportedTokenType    ErrorCode = "unsupported_token_type"
	ErrInvalidToken            ErrorCode = "invalid_token"
	ErrInsufficientScope       ErrorCode = "insufficient_scope"
	// ErrSlowDown is not an RFC 6749 code; Storekey sends it with HTTP 429
	// when a client exceeds its rate limit.
	ErrSlowDown ErrorCode = "slow_down"
)

// Error is a protocol error. Description is safe to show to the client;
// Err is the internal cause, logged but never sent.
type Error struct {
	Code        ErrorCode
	Description string
	Err         error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Description)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted description.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error; anything that is not one becomes
// server_error with a generic description, wrapping err.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: ErrServerError, Description: "the server could not complete the request", Err: err}
}

// Storage sentinels. Implementations of Storage map their driver errors onto
// these so that the core can branch on them with errors.Is.
var (
	// ErrNotFound means the record does not exist (or is not visible).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness or single-use rule refused the write:
	// the code was already consumed, the generation already advanced, the
	// email is already registered.
	ErrConflict = errors.New("conflict")
)
