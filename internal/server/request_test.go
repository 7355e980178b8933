package server

import "testing"

func TestIsForm(t *testing.T) {
	for ctype, want := range map[string]bool{
		"application/x-www-form-urlencoded":                true,
		"Application/X-WWW-Form-URLEncoded":                true, // media types are case-insensitive (RFC 9110 §8.3.1)
		"application/x-www-form-urlencoded; charset=UTF-8": true,
		"application/x-www-form-urlencoded ;charset=utf-8": true,
		"application/x-www-form-urlencodedx":               false,
		"application/x-www-form-urlencoded; charset":       false, // a malformed parameter
		"application/json":                                 false,
		"multipart/form-data; boundary=x":                  false,
		"":                                                 false,
	} {
		if got := isForm(ctype); got != want {
			t.Errorf("isForm(%q) = %v, want %v", ctype, got, want)
		}
	}
}
