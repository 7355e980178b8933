package oauth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func codeService(t testing.TB, keys ...Key) *Service {
	t.Helper()
	s, err := NewService(Config{Issuer: "http://test"}, nil, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealedCode(t *testing.T) {
	k1 := Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}
	k2 := Key{ID: "cfg-0a1b2c3d", Secret: bytes.Repeat([]byte{2}, 32)}
	now := time.Date(2026, 11, 22, 12, 0, 0, 123000, time.UTC)
	c := &Code{
		AppID: "app_1", StoreID: "sto_1", UserID: "usr_1", RedirectURI: "https://app.example/cb?x=1",
		Scopes: NewScopes("read_products", "write_orders"), Challenge: strings.Repeat("c", 43), ChallengeMethod: "S256",
		Bound:     Bound{LocationID: "loc_1", CatalogID: "cat_1", CustomerListID: "cl_1", DeviceID: "dev 1"},
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), SessionHash: Hash("skb_session"),
	}
	old := codeService(t, k1)
	v := old.sealCode(c)
	if !strings.HasPrefix(v, PrefixCode) || strings.Contains(v, "app_1") || strings.Contains(v, "https") {
		t.Fatalf("sealed code %q: want the prefix and nothing readable", v)
	}
	if again := old.sealCode(c); again == v {
		t.Fatal("two codes for the same bindings are equal: want a fresh nonce each")
	}
	got, err := old.openCode(v)
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.Hash = Hash(v)
	if !codesEqual(got, &want) {
		t.Fatalf("opened %+v\nwant   %+v", got, &want)
	}
	// Empty fields and zero times survive too.
	empty := &Code{AppID: "app_2", SessionHash: Hash("skb_other")}
	if got, err := old.openCode(old.sealCode(empty)); err != nil || got.AppID != "app_2" || got.StoreID != "" ||
		len(got.Scopes) != 0 || !got.ExpiresAt.Equal(time.UnixMicro(empty.ExpiresAt.UnixMicro())) {
		t.Fatalf("empty code opened as %+v, %v", got, err)
	}
	// A code that names no session is not one sealCode makes for Approve:
	// refused, so that a server key alone cannot make a code that redeems.
	if got, err := old.openCode(old.sealCode(&Code{AppID: "app_2"})); !errors.Is(err, errNotSealed) {
		t.Fatalf("code without a session opened as %+v, %v", got, err)
	}

	// After a new key becomes current, codes sealed under the old one
	// still open while it is configured; without it they do not.
	rotated := codeService(t, k1, k2)
	if got, err := rotated.openCode(v); err != nil || got.AppID != "app_1" {
		t.Fatalf("old code after rotation: %+v, %v", got, err)
	}
	if _, err := codeService(t, k2).openCode(v); !errors.Is(err, errNotSealed) {
		t.Fatalf("code of a dropped key: %v, want errNotSealed", err)
	}
	if got, err := old.openCode(rotated.sealCode(c)); !errors.Is(err, errNotSealed) {
		t.Fatalf("code of an unknown key opened as %+v, %v", got, err)
	}

	// Anything altered, truncated or made up is not a code.
	raw, _ := enc.DecodeString(strings.TrimPrefix(v, PrefixCode))
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x20
		if got, err := old.openCode(PrefixCode + enc.EncodeToString(b)); !errors.Is(err, errNotSealed) {
			t.Fatalf("byte %d flipped: opened as %+v, %v", i, got, err)
		}
	}
	for _, bad := range []string{"", PrefixCode, v[:len(v)-1], v[:20], strings.TrimPrefix(v, PrefixCode),
		"ska_" + strings.TrimPrefix(v, PrefixCode), v + "A", RandomSecret(PrefixCode), PrefixCode + "!!!!",
		PrefixCode + enc.EncodeToString([]byte{200}), PrefixCode + strings.Repeat("A", 5000)} {
		if got, err := old.openCode(bad); !errors.Is(err, errNotSealed) {
			t.Fatalf("openCode(%.40q) = %+v, %v: want errNotSealed", bad, got, err)
		}
	}
}

func codesEqual(a, b *Code) bool {
	return bytes.Equal(a.Hash, b.Hash) && a.AppID == b.AppID && a.StoreID == b.StoreID && a.UserID == b.UserID &&
		a.RedirectURI == b.RedirectURI && a.Scopes.String() == b.Scopes.String() && a.Challenge == b.Challenge &&
		a.ChallengeMethod == b.ChallengeMethod && a.Bound == b.Bound && a.CreatedAt.Equal(b.CreatedAt) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.UsedAt.IsZero() && a.GrantID == "" && bytes.Equal(a.SessionHash, b.SessionHash)
}

func FuzzOpenCode(f *testing.F) {
	s := codeService(f, Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	f.Add(s.sealCode(&Code{AppID: "app_1", Scopes: NewScopes("read_products"), SessionHash: Hash("skb_s")}))
	f.Add(RandomSecret(PrefixCode))
	f.Add(PrefixCode + "AQ")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := s.openCode(v)
		if err == nil && !bytes.Equal(c.Hash, Hash(v)) {
			t.Fatalf("opened a code with the wrong hash")
		}
	})
}
