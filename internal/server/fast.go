package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/storekey/storekey/internal/profile"
)

// Storekey answers HTTP with fasthttp. Validation, the hot path of a
// resource server, is served by handlers written for it: the introspection
// endpoint here and the sample API (Options.API). Everything else (the
// token endpoint, the pages, health and metrics) is written for net/http
// and reached through bridge, which costs those routes nothing they would
// notice (docs/performance.md has the figures of both).

// Router is the sample API as the server routes it: every path under
// /api/ goes to the handler Route returns, counted under its pattern,
// except that a path Route names "/api/" for (one it has no route for) goes
// to a net/http route of the server if there is one.
type Router interface {
	Route(method, path []byte) (pattern string, h fasthttp.RequestHandler)
}

// Limits of the HTTP server.
const (
	// maxHeaderBytes bounds a request's line and headers, as nginx's and
	// Apache's defaults do; more is 431. It is also the read buffer of
	// every connection, live for as long as the connection is.
	maxHeaderBytes = 8 << 10
	// maxRequestBody bounds every request body, which fasthttp reads
	// whole before a handler runs; each endpoint bounds its own below it
	// (the largest, a partner's logo form, is 1 MiB and a little).
	maxRequestBody = profile.MaxLogoBytes + 128<<10
)

// apiFallback is the pattern the API's Router names for a path it has no
// route for (api.Fallback).
const apiFallback = "/api/"

var (
	apiPrefix      = []byte("/api/")
	introspectPath = []byte("/oauth/introspect")
)

// Handler is the whole server as a fasthttp handler.
func (s *Server) Handler() fasthttp.RequestHandler { return s.serve }

// HTTPServer returns the HTTP server of `storekey serve`: timeouts against
// slow clients, bounds on headers and bodies, and malformed requests
// answered in JSON.
func (s *Server) HTTPServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               s.serve,
		ErrorHandler:          s.protocolError,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		ReadBufferSize:        maxHeaderBytes,
		MaxRequestBodySize:    maxRequestBody,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                printfLogger{s.log},
	}
}

func (s *Server) serve(c *fasthttp.RequestCtx) {
	path := c.Path()
	switch {
	case c.IsPost() && bytes.Equal(path, introspectPath):
		s.native(c, "POST /oauth/introspect", s.introspect)
	case s.opts.API != nil && bytes.HasPrefix(path, apiPrefix):
		pattern, h := s.opts.API.Route(c.Method(), path)
		if pattern == apiFallback && s.routedHere(c.Method(), path) {
			s.bridge(c)
			return
		}
		s.native(c, pattern, h)
	default:
		s.bridge(c)
	}
}

// native runs a fasthttp handler as instrument runs a net/http one: the
// request id, a panic answered without a trace, the metrics and the access
// log.
func (s *Server) native(c *fasthttp.RequestCtx, pattern string, h fasthttp.RequestHandler) {
	start := time.Now()
	id := newRequestID()
	c.Response.Header.Set(requestIDHeader, id)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "request_id", id, "path", string(c.Path()), "panic", p, "stack", string(debug.Stack()))
			c.Response.Reset()
			c.Response.Header.Set(requestIDHeader, id)
			c.Response.Header.SetContentType("text/plain; charset=utf-8")
			c.SetStatusCode(http.StatusInternalServerError)
			c.SetBodyString("internal server error (request " + id + ")\n")
		}
		s.observe(c, pattern, c.Response.StatusCode(), time.Since(start), id)
	}()
	h(c)
}

// protocolError answers a request fasthttp could not read: too large, too
// slow, or not HTTP.
func (s *Server) protocolError(c *fasthttp.RequestCtx, err error) {
	status, description := http.StatusBadRequest, "the request is not well-formed HTTP"
	var small *fasthttp.ErrSmallBuffer
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, description = http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxRequestBody)
	case errors.As(err, &small):
		status, description = http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("the request's headers are larger than %d bytes", maxHeaderBytes)
	case errors.As(err, &timeout) && timeout.Timeout():
		status, description = http.StatusRequestTimeout, "the request was not received in time"
	}
	c.Response.Reset()
	c.SetConnectionClose()
	writeFastJSON(c, status, errorBody{Error: "invalid_request", Description: description})
}

// printfLogger passes what fasthttp logs (connection errors) to the
// server's log.
type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}

// writeFastJSON is writeJSON's fasthttp form.
func writeFastJSON(c *fasthttp.RequestCtx, status int, v any) {
	h := &c.Response.Header
	h.SetContentType(jsonType[0])
	h.Set("Cache-Control", noStore[0])
	h.Set("Pragma", noCache[0])
	c.SetStatusCode(status)
	encodeJSON(c, v)
}

// writeFastError is writeError's fasthttp form.
func (s *Server) writeFastError(ctx context.Context, c *fasthttp.RequestCtx, pattern string, err error) {
	a := s.errorAnswer(ctx, pattern, string(c.Path()), string(c.Response.Header.Peek(requestIDHeader)), err)
	if a.challenge != "" {
		c.Response.Header.Set("WWW-Authenticate", a.challenge)
	}
	if a.retryAfter != "" {
		c.Response.Header.Set("Retry-After", a.retryAfter)
	}
	writeFastJSON(c, a.status, a.body)
}
