package profile

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

func encode(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCheckHyperSKULogo(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		ok   bool
		want string // a word the message must hold
	}{
		{"PNG 110x110", encode(t, "png", 110, 110), true, ""},
		{"JPEG 110x110", encode(t, "jpeg", 110, 110), true, ""},
		{"PNG 100x100", encode(t, "png", 100, 100), false, "110 x 110"},
		{"PNG 110x111", encode(t, "png", 110, 111), false, "110 x 111"},
		{"GIF 110x110", encode(t, "gif", 110, 110), false, "PNG or JPEG"},
		{"not an image", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), false, "PNG or JPEG"},
		{"empty", nil, false, "empty"},
		{"too large", append(encode(t, "png", 110, 110), make([]byte, MaxLogoBytes)...), false, "bytes"},
	}
	for _, tt := range tests {
		err := CheckHyperSKULogo(tt.data)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %q does not say %q", tt.name, err, tt.want)
		}
	}
}

func TestStoreFromHost(t *testing.T) {
	tests := []struct {
		host, issuer, slug string
		ok                 bool
	}{
		{"corner-shop.auth.example", "auth.example", "corner-shop", true},
		{"Corner-Shop.AUTH.example:443", "auth.example", "corner-shop", true},
		{"corner-shop.127.0.0.1:8080", "127.0.0.1:8080", "corner-shop", true},
		{"auth.example", "auth.example", "", false},
		{"a.b.auth.example", "auth.example", "", false},
		{"corner-shop.evil.example", "auth.example", "", false},
		{".auth.example", "auth.example", "", false},
	}
	for _, tt := range tests {
		slug, ok := StoreFromHost(tt.host, tt.issuer)
		if slug != tt.slug || ok != tt.ok {
			t.Errorf("StoreFromHost(%q, %q) = %q, %v; want %q, %v", tt.host, tt.issuer, slug, ok, tt.slug, tt.ok)
		}
	}
}

func TestProfilesAreComplete(t *testing.T) {
	for _, p := range All() {
		if p.Token == nil || p.AllowLabel == "" || p.Params.ClientID == "" || p.Title == "" {
			t.Errorf("profile %s is incomplete: %+v", p.Name, p)
		}
		got, err := Get(p.Name)
		if err != nil || got.Name != p.Name {
			t.Errorf("Get(%q) = %v, %v", p.Name, got, err)
		}
	}
	if _, err := Get("shopify"); err == nil {
		t.Error("Get of an unknown profile must fail")
	}
	if ps, err := Enabled([]string{"hubrise"}); err != nil || len(ps) != 2 || ps[0].Name != Standard {
		t.Errorf("Enabled(hubrise) = %v, %v: standard must always be there", ps, err)
	}
}
