package bench

import (
	"html"
	"net/url"
	"regexp"
	"strings"
)

// htmlForm is a form of a page as a browser would submit it, minus the
// buttons: the bench adds the button it presses.
type htmlForm struct {
	Action string // as written; "" means the page's own URL
	Method string // lowercase; "get" when not given
	Fields url.Values
}

// A few regular expressions suffice for the pages the bench reads (the
// sign-in and consent pages, rendered by html/template): golang.org/x/net/html
// is not a dependency of the module, and the bench must not add one.
var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form\s*>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile("(?s)([^\\s\"'>/=]+)(?:\\s*=\\s*(?:\"([^\"]*)\"|'([^']*)'|([^\\s\"'=<>`]+)))?")
)

// parseAttrs returns a tag's attributes, names lowercased, values
// unescaped. A name without a value maps to "".
func parseAttrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := out[name]; dup {
			continue // HTML keeps the first of repeated attributes
		}
		out[name] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return out
}

// parseForms returns the forms of a page with the fields a browser would
// send without the user touching them: hidden, text-like and checked
// inputs. Buttons, submit, image, file and unchecked inputs are left out.
func parseForms(page []byte) []htmlForm {
	var forms []htmlForm
	for _, fm := range formRE.FindAllSubmatch(page, -1) {
		attrs := parseAttrs(string(fm[1]))
		f := htmlForm{Action: attrs["action"], Method: strings.ToLower(attrs["method"]), Fields: url.Values{}}
		if f.Method == "" {
			f.Method = "get"
		}
		for _, im := range inputRE.FindAllSubmatch(fm[2], -1) {
			in := parseAttrs(string(im[1]))
			name := in["name"]
			if name == "" {
				continue
			}
			if _, disabled := in["disabled"]; disabled {
				continue
			}
			switch strings.ToLower(in["type"]) {
			case "submit", "button", "image", "reset", "file":
				continue
			case "checkbox", "radio":
				if _, checked := in["checked"]; !checked {
					continue
				}
				v, ok := in["value"]
				if !ok {
					v = "on"
				}
				f.Fields.Add(name, v)
			default:
				f.Fields.Add(name, in["value"])
			}
		}
		forms = append(forms, f)
	}
	return forms
}

// findForm returns the first POST form whose action's path ends with path,
// or failing that the page's only POST form.
func findForm(forms []htmlForm, path string) (htmlForm, bool) {
	var posts []htmlForm
	for _, f := range forms {
		if f.Method != "post" {
			continue
		}
		posts = append(posts, f)
		if u, err := url.Parse(f.Action); err == nil && strings.HasSuffix(u.Path, path) {
			return f, true
		}
	}
	if len(posts) == 1 {
		return posts[0], true
	}
	return htmlForm{}, false
}
