package oauth

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealer(t *testing.T) {
	k1 := Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}
	k2 := Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, 32)}
	old, err := NewSealer([]Key{k1})
	if err != nil {
		t.Fatal(err)
	}
	v := old.Seal([]byte("sks_secret"), "webhook-secret:app_1")
	if v.KeyID != "k1" || bytes.Contains(v.Data, []byte("sks_secret")) {
		t.Fatalf("sealed %+v", v)
	}
	if again := old.Seal([]byte("sks_secret"), "webhook-secret:app_1"); bytes.Equal(again.Data, v.Data) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	// A new current key still opens values sealed under the old one.
	rotated, err := NewSealer([]Key{k1, k2})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(v, "webhook-secret:app_1"); err != nil || string(got) != "sks_secret" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if rotated.Seal([]byte("x"), "l").KeyID != "k2" {
		t.Error("new values are not sealed under the last key")
	}
	tampered := Sealed{KeyID: v.KeyID, Data: bytes.Clone(v.Data)}
	tampered.Data[len(tampered.Data)-1] ^= 1
	onlyNew, _ := NewSealer([]Key{k2})
	for name, tc := range map[string]struct {
		s     *Sealer
		v     Sealed
		label string
	}{
		"another app's label": {rotated, v, "webhook-secret:app_2"},
		"tampered":            {rotated, tampered, "webhook-secret:app_1"},
		"key gone":            {onlyNew, v, "webhook-secret:app_1"},
		"truncated":           {rotated, Sealed{KeyID: "k1", Data: v.Data[:4]}, "webhook-secret:app_1"},
	} {
		if _, err := tc.s.Open(tc.v, tc.label); !errors.Is(err, ErrUnsealable) {
			t.Errorf("%s: Open = %v, want ErrUnsealable", name, err)
		}
	}
	if _, err := NewSealer(nil); err == nil {
		t.Error("NewSealer without keys: no error")
	}
}

func TestValidateWebhookURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://partner.example/hooks":       true,
		"https://partner.example:8443/h?x=1":  true,
		"http://127.0.0.1:9000/hooks":         true,
		"http://localhost/hooks":              true,
		"http://[::1]:9000/hooks":             true,
		"http://partner.example/hooks":        false,
		"http://127.0.0.1.evil.example/hooks": false,
		"https://user:pw@partner.example/h":   false,
		"https://partner.example/h#frag":      false,
		"ftp://partner.example/h":             false,
		"/hooks":                              false,
		"https://":                            false,
		"javascript:alert(1)":                 false,
	} {
		if err := ValidateWebhookURL(raw); (err == nil) != ok {
			t.Errorf("ValidateWebhookURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
}
