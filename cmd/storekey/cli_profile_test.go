package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppCreateProfiles: registering an app checks it against its
// profile: HyperSKU's 110 x 110 logo, each catalog, HubRise's out-of-band
// redirect, and unknown profiles.
func TestAppCreateProfiles(t *testing.T) {
	c := newCLI(t)
	logo := func(w, h int) string {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "logo.png")
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := []string{"app", "create", "--name", "X", "--redirect-uri", "https://x.example/cb"}
	for _, tt := range []struct {
		name string
		args []string
		want string // "" for success, else a word of the error
	}{
		{"hypersku without logo", []string{"--profile", "hypersku", "--scopes", "oms"}, "logo"},
		{"hypersku 100 px", []string{"--profile", "hypersku", "--scopes", "oms", "--logo", logo(100, 100)}, "110 x 110"},
		{"hypersku 110 px", []string{"--profile", "hypersku", "--scopes", "oms", "--logo", logo(110, 110)}, ""},
		{"hypersku scope outside its catalog", []string{"--profile", "hypersku", "--scopes", "read_products", "--logo", logo(110, 110)}, "unknown scope"},
		{"storehippo catalog", []string{"--profile", "storehippo", "--scopes", "write_script_tags,read_checkouts"}, ""},
		{"hiboutik catalog", []string{"--profile", "hiboutik", "--scopes", "read_kitchen_screen write_store_credit"}, ""},
		{"standard lacks hiboutik's scopes", []string{"--scopes", "read_kitchen_screen"}, "unknown scope"},
		{"hubrise out of band", []string{"--profile", "hubrise", "--scopes", "write_orders profile", "--redirect-uri", "urn:ietf:wg:oauth:2.0:oob"}, ""},
		{"standard confidential out of band", []string{"--scopes", "read_products", "--redirect-uri", "urn:ietf:wg:oauth:2.0:oob"}, "out-of-band"},
		{"unknown profile", []string{"--profile", "shopify"}, "unknown profile"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.run(append(append([]string{}, base...), tt.args...)...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "" && !strings.Contains(out, "client_secret:"):
				t.Fatalf("no secret printed:\n%s", out)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}
