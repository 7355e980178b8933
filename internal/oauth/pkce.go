package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
)

// PKCE methods (RFC 7636 §4.2).
const (
	PKCES256  = "S256"
	PKCEPlain = "plain"
)

// ValidPKCEValue reports whether s is a well-formed code_verifier or S256
// code_challenge: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~]
// (RFC 7636 §4.1).
func ValidPKCEValue(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// VerifyPKCE checks a code_verifier against the challenge stored with the
// code (RFC 7636 §4.6), in constant time.
func VerifyPKCE(method, challenge, verifier string) bool {
	if !ValidPKCEValue(verifier) {
		return false
	}
	var computed string
	switch method {
	case PKCES256:
		sum := sha256.Sum256([]byte(verifier))
		computed = enc.EncodeToString(sum[:])
	case PKCEPlain:
		computed = verifier
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(computed), []byte(challenge)) == 1
}
