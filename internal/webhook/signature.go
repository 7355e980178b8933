package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	SignatureHeader = "X-Storekey-Signature"
	EventHeader     = "X-Storekey-Event"
	DeliveryHeader  = "X-Storekey-Delivery"
)

// DefaultTolerance is how far from now a receiver should accept a
// signature's timestamp.
const DefaultTolerance = 5 * time.Minute

// Sign returns the hex HMAC-SHA256 of "<unix seconds>.<body>" keyed with
// secret.
func Sign(secret []byte, t time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(t.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Signature returns the X-Storekey-Signature value for body sent at t:
// "t=<unix>,v1=<hex>", with one v1 per secret.
func Signature(t time.Time, body []byte, secrets ...[]byte) string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(t.Unix(), 10))
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(Sign(s, t, body))
	}
	return b.String()
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("webhook: missing or malformed signature header")
	ErrBadSignature = errors.New("webhook: no signature matches")
	ErrStale        = errors.New("webhook: signature timestamp outside the tolerance")
)

// Verify checks a delivery as a receiver must: header is the
// X-Storekey-Signature value, body the raw request body, secret the app's
// client secret. It fails unless some v1 matches and the timestamp is
// within tolerance of now (0 means DefaultTolerance).
func Verify(header string, body, secret []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var (
		ts   int64
		sigs []string
		seen bool
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrNoSignature
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seen {
				return ErrNoSignature
			}
			ts, seen = n, true
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if !seen || len(sigs) == 0 {
		return ErrNoSignature
	}
	t := time.Unix(ts, 0)
	if d := now.Sub(t); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want, _ := hex.DecodeString(Sign(secret, t, body))
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
