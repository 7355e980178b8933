package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestRandomSecret(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s := RandomSecret(PrefixAccess)
		if !strings.HasPrefix(s, PrefixAccess) || len(s) != len(PrefixAccess)+43 {
			t.Fatalf("RandomSecret = %q", s)
		}
		if seen[s] {
			t.Fatal("RandomSecret repeated a value")
		}
		seen[s] = true
	}
}

func TestDeriveToken(t *testing.T) {
	k1, k2 := []byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 32))
	a := DeriveToken(k1, KindAccess, "grt_1", 1)
	if a != DeriveToken(k1, KindAccess, "grt_1", 1) {
		t.Fatal("derivation is not deterministic")
	}
	others := []string{
		DeriveToken(k2, KindAccess, "grt_1", 1),
		DeriveToken(k1, KindRefresh, "grt_1", 1),
		DeriveToken(k1, KindAccess, "grt_1", 2),
		DeriveToken(k1, KindAccess, "grt_2", 1),
		DeriveToken(k1, KindAccess, "grt_", 11), // no ambiguity between id and generation
	}
	for _, o := range others {
		if o == a {
			t.Fatalf("distinct inputs derived the same token %q", a)
		}
	}
	if k, ok := KindOf(a); !ok || k != KindAccess {
		t.Errorf("KindOf(access) = %v, %v", k, ok)
	}
	if k, ok := KindOf(others[1]); !ok || k != KindRefresh {
		t.Errorf("KindOf(refresh) = %v, %v", k, ok)
	}
	if _, ok := KindOf("ghp_x"); ok {
		t.Error("KindOf accepted a foreign token")
	}
	if !EqualHash(a, Hash(a)) || EqualHash(a, Hash(others[0])) || EqualHash(a, nil) {
		t.Error("EqualHash")
	}
}

func TestVerifyPKCE(t *testing.T) {
	// RFC 7636 Appendix B.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if !VerifyPKCE(PKCES256, challenge, verifier) {
		t.Fatal("RFC 7636 Appendix B example does not verify")
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
		t.Fatal("example mismatch")
	}
	for _, tt := range []struct{ method, challenge, verifier string }{
		{PKCES256, challenge, verifier + "x"},
		{PKCES256, challenge, "short"},
		{PKCEPlain, verifier, verifier[:42]},
		{"S512", challenge, verifier},
	} {
		if VerifyPKCE(tt.method, tt.challenge, tt.verifier) {
			t.Errorf("VerifyPKCE(%q, %q, %q) = true", tt.method, tt.challenge, tt.verifier)
		}
	}
	if !VerifyPKCE(PKCEPlain, verifier, verifier) {
		t.Error("plain")
	}
}
