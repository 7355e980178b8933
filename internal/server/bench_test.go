package server_test

import (
	"encoding/base64"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/store/dbtest"
)

// BenchmarkValidationHandlers runs the whole handler chain of the two
// validation paths of the load targets (routing, instrumentation, the
// validation and the answer's encoding) in process, as `storekey bench`
// calls them over HTTP, with the access log off as in the bench's
// configuration. fasthttp's connection handling is not in it: its share is
// measured against a real process (docs/performance.md). The token is warm
// in the validation cache, as it is under load.
func BenchmarkValidationHandlers(b *testing.B) {
	e := newEnv(b, dbtest.Backends()[0], nil)
	h := newServer(e.svc, e.db, slog.New(slog.DiscardHandler), false).Handler()
	access := e.grantTokens()["access_token"].(string)

	run := func(b *testing.B, req *fasthttp.Request, want string) {
		var c fasthttp.RequestCtx
		serve := func() {
			c.Init(req, nil, nil) // resets the response; the request is req
			h(&c)
		}
		serve()
		if c.Response.StatusCode() != fasthttp.StatusOK || !strings.Contains(string(c.Response.Body()), want) {
			b.Fatalf("status %d: %s", c.Response.StatusCode(), c.Response.Body())
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			serve()
		}
	}
	b.Run("api", func(b *testing.B) {
		var req fasthttp.Request
		req.SetRequestURI(e.srv.URL + "/api/v1/store")
		req.Header.Set("Authorization", "Bearer "+access)
		run(b, &req, `"store_id":"`+e.store.ID+`"`)
	})
	b.Run("introspect", func(b *testing.B) {
		var req fasthttp.Request
		req.SetRequestURI(e.srv.URL + "/oauth/introspect")
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/x-www-form-urlencoded")
		creds := url.QueryEscape(e.app.ID) + ":" + url.QueryEscape(e.secret)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(creds)))
		req.SetBodyString(url.Values{"token": {access}}.Encode())
		run(b, &req, `"active":true`)
	})
}
