package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// assets holds each static file with its content hash, which the pages put
// in the URL so that browsers may cache a file until it changes.
var assets = loadAssets()

type asset struct {
	data    []byte
	version string
}

func loadAssets() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[path.Base(p)] = asset{data: data, version: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		panic(err) // the files are embedded: only a broken build gets here
	}
	return out
}

// assetURL is the template function "asset": the versioned URL of a file.
func assetURL(name string) (string, error) {
	a, ok := assets[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return "/assets/" + name + "?v=" + a.version, nil
}

// serveAsset serves an embedded file. A request for the current version may
// be cached for good; any other only after revalidation.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == a.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+a.version+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}

// pages are the parsed templates: each page file with the shared layout.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(template.FuncMap{"asset": assetURL}).
		ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t := template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
		out[base[:len(base)-len(".html")]] = t
	}
	return out
}

func renderPage(name string, data any) ([]byte, error) {
	t, ok := pages[name]
	if !ok {
		return nil, fmt.Errorf("no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
