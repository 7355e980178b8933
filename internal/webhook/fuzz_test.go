package webhook

import (
	"bytes"
	"testing"
	"time"
)

// FuzzVerify checks Verify's properties on any header, body and secret:
// it never panics; what Signature makes always verifies at its time, with
// any of the secrets it was made with; and a signature never verifies a
// body other than the one it was made for.
func FuzzVerify(f *testing.F) {
	// Seeds: a valid header, two signatures (a rotation), and broken ones.
	f.Add("t=1767225600,v1=6549eb01819d1d0e6f51dcbeecfacd8745f5f4cfd89a2c01e4b99081b503cce0", []byte(`{"event":"test"}`), []byte("sks_example"), int64(1767225600))
	f.Add("t=1767225600,v1=00,v1=6549eb01819d1d0e6f51dcbeecfacd8745f5f4cfd89a2c01e4b99081b503cce0", []byte(`{"event":"test"}`), []byte("sks_example"), int64(1767225600))
	f.Add("t=,v1=", []byte{}, []byte{}, int64(0))
	f.Add("v1=abc,t=1,t=2", []byte("x"), []byte("k"), int64(1))
	f.Add(" t = 5 , v1 = zz ", []byte("\x00"), []byte("\xff"), int64(-1))
	f.Fuzz(func(t *testing.T, header string, body, secret []byte, unix int64) {
		if unix < -1<<40 || unix > 1<<40 {
			return // beyond what time.Unix round-trips through the header
		}
		at := time.Unix(unix, 0)
		_ = Verify(header, body, secret, at, 0) // must not panic

		sig := Signature(at, body, []byte("other"), secret)
		if err := Verify(sig, body, secret, at, 0); err != nil {
			t.Fatalf("Verify(Signature(...)) = %v for body %q, secret %q", err, body, secret)
		}
		changed := append(bytes.Clone(body), 'x')
		if err := Verify(sig, changed, secret, at, 0); err == nil {
			t.Fatalf("a signature of %q verified %q", body, changed)
		}
	})
}
