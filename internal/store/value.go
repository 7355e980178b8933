package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// How domain values are stored, identically on both dialects:
//
//   - a time.Time is a BIGINT of microseconds since the Unix epoch, UTC (the
//     precision of a PostgreSQL timestamp, so both backends round-trip the
//     same values exactly), and the zero time is NULL;
//   - a time.Duration is a BIGINT of nanoseconds;
//   - Scopes are a space-joined TEXT (RFC 6749 §3.3), "" for none;
//   - a list of redirect URIs is a JSON array of strings;
//   - an optional reference ("" for none) is NULL.

// unixMicro is the value stored for t: NULL for the zero time.
func unixMicro(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeScan scans a possibly NULL column of unix microseconds into a
// time.Time in UTC, the zero time for NULL.
type timeScan struct{ t *time.Time }

func (s timeScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
	case int64:
		*s.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	return nil
}

// at returns a scan destination for a time column.
func at(t *time.Time) timeScan { return timeScan{t} }

// optional is the value stored for an optional reference: NULL for "".
func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// textScan scans a possibly NULL text column into a string, "" for NULL.
type textScan struct{ s *string }

func (d textScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.s = ""
	case string:
		*d.s = v
	case []byte:
		*d.s = string(v)
	default:
		return fmt.Errorf("store: cannot scan %T into a string", src)
	}
	return nil
}

// text returns a scan destination for an optional text column.
func text(s *string) textScan { return textScan{s} }

// scopesScan scans a space-joined scope column into Scopes, nil for none.
type scopesScan struct{ s *oauth.Scopes }

func (d scopesScan) Scan(src any) error {
	var v string
	if err := (textScan{&v}).Scan(src); err != nil {
		return err
	}
	if f := strings.Fields(v); len(f) > 0 {
		*d.s = f
	} else {
		*d.s = nil
	}
	return nil
}

func scopes(s *oauth.Scopes) scopesScan { return scopesScan{s} }

// uriList is a list of URIs stored as a JSON array.
type uriList []string

func (l uriList) Value() (driver.Value, error) {
	if l == nil {
		l = uriList{}
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

func (l *uriList) Scan(src any) error {
	var v string
	if err := (textScan{&v}).Scan(src); err != nil {
		return err
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return fmt.Errorf("store: redirect URIs: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	*l = out
	return nil
}
