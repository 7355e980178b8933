package bench

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseForms(t *testing.T) {
	page := []byte(`<!doctype html><html><body>
<FORM class="consent" METHOD=post action='/oauth/authorize'>
  <input type="hidden" name="q" value="response_type=code&amp;client_id=app_1&amp;scope=read_products+read_orders&amp;state=a%2Fb">
  <input name=csrf type=hidden value=tok-1>
  <input type="hidden" name="empty">
  <input type="text" name="note" value="a &quot;quoted&quot; &lt;note&gt;">
  <input type="radio" name="store_id" value="sto_1" checked>
  <input type="radio" name="store_id" value="sto_2">
  <input type="checkbox" name="scope" value="read_products" checked="checked">
  <input type="checkbox" name="scope" value="read_orders">
  <input type="checkbox" name="flag" checked>
  <input type="hidden" name="off" value="x" disabled>
  <input type="submit" name="decision" value="allow">
  <button type="submit" name="decision" value="deny">Deny</button>
</form>
<form action="/search"><input name="q" value="x"></form>
</body></html>`)
	got := parseForms(page)
	want := []htmlForm{
		{Action: "/oauth/authorize", Method: "post", Fields: url.Values{
			"q":        {"response_type=code&client_id=app_1&scope=read_products+read_orders&state=a%2Fb"},
			"csrf":     {"tok-1"},
			"empty":    {""},
			"note":     {`a "quoted" <note>`},
			"store_id": {"sto_1"},
			"scope":    {"read_products"},
			"flag":     {"on"},
		}},
		{Action: "/search", Method: "get", Fields: url.Values{"q": {"x"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("parseForms (-want +got):\n%s", diff)
	}
}

func TestFindForm(t *testing.T) {
	login := htmlForm{Action: "/login?next=%2F", Method: "post"}
	consent := htmlForm{Action: "https://auth.example/oauth/authorize", Method: "post"}
	search := htmlForm{Action: "/oauth/authorize", Method: "get"}
	for _, tc := range []struct {
		name  string
		forms []htmlForm
		path  string
		want  string
		found bool
	}{
		{"by action path", []htmlForm{login, search, consent}, "/oauth/authorize", consent.Action, true},
		{"query ignored", []htmlForm{consent, login}, "/login", login.Action, true},
		{"the only post form", []htmlForm{search, {Action: "", Method: "post"}}, "/oauth/authorize", "", true},
		{"several and none matches", []htmlForm{login, consent}, "/nowhere", "", false},
		{"none", nil, "/login", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := findForm(tc.forms, tc.path)
			if ok != tc.found || f.Action != tc.want {
				t.Fatalf("findForm = %q, %v; want %q, %v", f.Action, ok, tc.want, tc.found)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		raw         string
		allowRemote bool
		ok          bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://127.1.2.3:8080/", false, true},
		{"http://localhost:8080", false, true},
		{"http://LOCALHOST", false, true},
		{"http://[::1]:8080", false, true},
		{"https://127.0.0.1", false, true},
		{"http://10.0.0.1:8080", false, false},
		{"http://example.com", false, false},
		{"http://localhost.example.com", false, false},
		{"http://[::2]:8080", false, false},
		{"http://0.0.0.0:8080", false, false},
		{"http://example.com", true, true},
		{"ftp://127.0.0.1", false, false},
		{"127.0.0.1:8080", false, false},
		{"http://127.0.0.1:8080/?x=1", false, false},
		{"http://user:pw@127.0.0.1", false, false},
	} {
		_, err := CheckURL(tc.raw, tc.allowRemote)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q, %v) = %v, want ok=%v", tc.raw, tc.allowRemote, err, tc.ok)
		}
	}
}

func TestBasicAuthEncodesPerRFC6749(t *testing.T) {
	// RFC 6749 §2.3.1: id and secret are form-encoded before base64.
	if got, want := BasicAuth("app 1", "a+b:c"), "Basic YXBwKzE6YSUyQmIlM0Fj"; got != want {
		t.Fatalf("BasicAuth = %q, want %q", got, want)
	}
}
