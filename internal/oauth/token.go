package oauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// Prefixes make Storekey's secrets recognisable to secret scanners, as
// GitHub's ghp_ does, and tell their kind at a glance.
const (
	PrefixAccess  = "ska_" // access token
	PrefixRefresh = "skr_" // refresh token
	PrefixCode    = "skc_" // authorization code
	PrefixSecret  = "sks_" // client secret
	PrefixSession = "skb_" // browser session cookie
)

var enc = base64.RawURLEncoding

// RandomSecret returns prefix followed by 256 bits from crypto/rand.
func RandomSecret(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + enc.EncodeToString(b[:])
}

// RandomID returns a short, URL-safe random identifier (96 bits) for records
// whose ids are not secrets.
func RandomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + enc.EncodeToString(b[:])
}

// Hash is the SHA-256 of a secret value: what Storage keeps of codes, tokens,
// client secrets and session cookies. The values carry 256 bits of
// randomness, so a fast hash is the right one (a slow password hash would add
// nothing but latency).
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// EqualHash compares a secret with a stored hash in constant time.
func EqualHash(secret string, hash []byte) bool {
	return len(hash) == sha256.Size && subtle.ConstantTimeCompare(Hash(secret), hash) == 1
}

// DeriveToken returns the value of a grant's token of one kind and
// generation: HMAC-SHA256 of them under the server key. Deriving instead of
// drawing lets the server hand the identical pair to every concurrent or
// retried refresh of one rotation without ever storing a token value.
func DeriveToken(key []byte, kind TokenKind, grantID string, gen int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(grantID))
	m.Write([]byte{0})
	var g [8]byte
	binary.BigEndian.PutUint64(g[:], uint64(gen))
	m.Write(g[:])
	prefix := PrefixAccess
	if kind == KindRefresh {
		prefix = PrefixRefresh
	}
	return prefix + enc.EncodeToString(m.Sum(nil))
}

// KindOf tells a token's kind by its prefix, as RFC 7009 §2.1 token_type_hint
// would; ok is false for a value that is no Storekey token.
func KindOf(token string) (TokenKind, bool) {
	switch {
	case strings.HasPrefix(token, PrefixAccess):
		return KindAccess, true
	case strings.HasPrefix(token, PrefixRefresh):
		return KindRefresh, true
	}
	return "", false
}
