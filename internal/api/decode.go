package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/oauth"
)

// decode reads a request body of one JSON object into v, refusing unknown
// members, trailing data and bodies over MaxBodyBytes. On failure it has
// already answered: 415 for a body that is not application/json, 413 for one
// too large, 400 invalid_request otherwise.
func decode(c *fasthttp.RequestCtx, v any) bool {
	mt, _, err := mime.ParseMediaType(string(c.Request.Header.ContentType()))
	if err != nil || mt != "application/json" {
		writeError(c, fasthttp.StatusUnsupportedMediaType, string(oauth.ErrInvalidRequest), "the body must be JSON, sent with Content-Type: application/json")
		return false
	}
	body := c.PostBody()
	if len(body) > MaxBodyBytes {
		writeError(c, fasthttp.StatusRequestEntityTooLarge, string(oauth.ErrInvalidRequest), fmt.Sprintf("the body must not be larger than %d KiB", MaxBodyBytes>>10))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		// One object and nothing after it.
		if extra := dec.Decode(&struct{}{}); !errors.Is(extra, io.EOF) {
			err = errTrailing
		}
	}
	if err == nil {
		return true
	}
	writeError(c, fasthttp.StatusBadRequest, string(oauth.ErrInvalidRequest), describeJSONError(err))
	return false
}

var errTrailing = errors.New("trailing data")

// describeJSONError says what is wrong with a body in words safe to send.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty; send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is not valid JSON: it ends too early"
	case errors.Is(err, errTrailing):
		return "the body must hold one JSON object and nothing after it"
	case errors.As(err, &syntax):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("%s must be %s", typ.Field, kindName(typ.Type))
	default:
		// An unknown member; encoding/json has no typed error for it, and
		// its message names the member, which is what the client needs.
		return "the body is not acceptable: " + strings.TrimPrefix(err.Error(), "json: ")
	}
}

func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "of another type"
}

// Validation of the members of request bodies. Each returns an
// invalid_request *oauth.Error naming the member.

// text checks a string member: trimmed, at most max characters, no control
// characters, present when required. It returns the trimmed value.
func text(name string, v *string, max int, required bool) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		if required {
			return "", oauth.Errorf(oauth.ErrInvalidRequest, "%s is required", name)
		}
		return "", nil
	}
	s := strings.TrimSpace(*v)
	if utf8.RuneCountInString(s) > max {
		return "", oauth.Errorf(oauth.ErrInvalidRequest, "%s must not be longer than %d characters", name, max)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", oauth.Errorf(oauth.ErrInvalidRequest, "%s must not contain control characters", name)
	}
	return s, nil
}

// maxAmount bounds money amounts in minor units: ten billion in major units
// is more than any sample order needs and far from overflow.
const maxAmount = 1_000_000_000_000

// amount checks a required money member in minor units.
func amount(name string, v *int64) (int64, error) {
	switch {
	case v == nil:
		return 0, oauth.Errorf(oauth.ErrInvalidRequest, "%s is required", name)
	case *v < 0:
		return 0, oauth.Errorf(oauth.ErrInvalidRequest, "%s must not be negative", name)
	case *v > maxAmount:
		return 0, oauth.Errorf(oauth.ErrInvalidRequest, "%s must not exceed %d", name, int64(maxAmount))
	}
	return *v, nil
}

// currency checks a required ISO 4217 alphabetic code: three letters,
// upper-cased.
func currency(v *string) (string, error) {
	s, err := text("currency", v, 3, true)
	if err != nil {
		return "", err
	}
	s = strings.ToUpper(s)
	if len(s) != 3 || strings.ContainsFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return "", oauth.Errorf(oauth.ErrInvalidRequest, "currency must be a three-letter ISO 4217 code such as EUR")
	}
	return s, nil
}

// email checks a required email address: a bare addr-spec (RFC 5322 §3.4.1),
// no display name, at most 254 characters.
func email(v *string) (string, error) {
	s, err := text("email", v, 254, true)
	if err != nil {
		return "", err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", oauth.Errorf(oauth.ErrInvalidRequest, "email must be an email address such as ada@example.com")
	}
	return s, nil
}
