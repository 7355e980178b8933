package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekey/storekey/internal/store/dbtest"
)

// reuseWriter is the least a ResponseWriter can be: one header map and one
// body buffer, reused, so that a benchmark counts the handlers' work and
// not a recorder's.
type reuseWriter struct {
	h      http.Header
	status int
	body   []byte
}

func (w *reuseWriter) Header() http.Header    { return w.h }
func (w *reuseWriter) WriteHeader(status int) { w.status = status }
func (w *reuseWriter) Write(b []byte) (int, error) {
	w.body = append(w.body, b...)
	return len(b), nil
}

func (w *reuseWriter) reset() {
	clear(w.h)
	w.status, w.body = 0, w.body[:0]
}

// BenchmarkValidationHandlers runs the whole handler chain of the two
// validation paths of the load targets (instrumentation, routing, the
// dialect seams, the validation and the answer's encoding) in process, as
// `storekey bench` calls them over HTTP, with the access log off as in the
// bench's configuration. net/http's connection handling is not in it: its
// share is measured against a real process (docs/performance.md). The
// token is warm in the validation cache, as it is under load.
func BenchmarkValidationHandlers(b *testing.B) {
	e := newEnv(b, dbtest.Backends()[0], nil)
	e.srv.Config.Handler = newHandler(e.svc, e.db, slog.New(slog.DiscardHandler), false)
	access := e.grantTokens()["access_token"].(string)
	h := e.srv.Config.Handler
	host := e.srv.Listener.Addr().String()

	run := func(b *testing.B, req *http.Request, body, want string) {
		w := &reuseWriter{h: http.Header{}}
		rd := strings.NewReader(body)
		serve := func() {
			w.reset()
			rd.Reset(body)
			req.Body = io.NopCloser(rd)
			req.Form, req.PostForm = nil, nil
			h.ServeHTTP(w, req)
		}
		serve()
		if w.status != http.StatusOK || !strings.Contains(string(w.body), want) {
			b.Fatalf("status %d: %s", w.status, w.body)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			serve()
		}
	}
	b.Run("api", func(b *testing.B) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/api/v1/store", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		run(b, req, "", `"store_id":"`+e.store.ID+`"`)
	})
	b.Run("introspect", func(b *testing.B) {
		form := url.Values{"token": {access}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, "http://"+host+"/oauth/introspect", nil)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(e.app.ID), url.QueryEscape(e.secret))
		req.ContentLength = int64(len(form))
		run(b, req, form, `"active":true`)
	})
}
