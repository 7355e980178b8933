package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"

	"github.com/valyala/fasthttp"
)

// bridge serves a fasthttp request with the net/http handler (s.handler):
// the pages, the token endpoint, and every route not written for fasthttp.
//
// fasthttp's own adaptor was not used: it hands the handler strings that
// point into buffers fasthttp reuses once the request is answered, so a
// value kept past the request (a user agent in an audit event, say) would
// change under it, and it runs each request on a goroutine of its own. The
// bridge copies what it hands over and runs the handler inline; it supports
// what Storekey's handlers use, which is no Flush and no Hijack.
func (s *Server) bridge(c *fasthttp.RequestCtx) {
	r, err := newRequest(c)
	if err != nil {
		writeFastJSON(c, http.StatusBadRequest, errorBody{Error: "invalid_request", Description: "the request target is not a valid URI"})
		return
	}
	w := &bridgeWriter{c: c, header: make(http.Header, 8)}
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		c.Response.Reset()
		c.SetStatusCode(http.StatusInternalServerError)
		if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			// The handler gave up on the answer, as net/http lets it:
			// nothing is sent and the connection closes.
			c.SetConnectionClose()
			return
		}
		// instrument recovers the handlers' panics; one that escapes it
		// is the bridge's own. fasthttp does not recover panics: left
		// alone, it would end the process.
		s.log.Error("panic in the net/http bridge", "path", string(c.Path()), "panic", p, "stack", string(debug.Stack()))
		c.Response.Header.SetContentType("text/plain; charset=utf-8")
		c.SetBodyString("internal server error\n")
	}()
	s.handler.ServeHTTP(w, r)
	w.finish()
}

// newRequest copies a fasthttp request into an *http.Request that owns its
// strings. The body is read from fasthttp's buffer, which lasts as long as
// the handler runs.
func newRequest(c *fasthttp.RequestCtx) (*http.Request, error) {
	uri := string(c.RequestURI())
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	r := &http.Request{
		Method:     string(c.Method()),
		URL:        u,
		RequestURI: uri,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, c.Request.Header.Len()),
		Host:       string(c.Host()),
		RemoteAddr: c.RemoteAddr().String(),
		Body:       http.NoBody,
		Close:      c.Request.Header.ConnectionClose(),
	}
	if !c.Request.Header.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	if body := c.PostBody(); len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	for k, v := range c.Request.Header.All() {
		// fasthttp has already put the names in canonical form.
		key := string(k)
		switch key {
		case "Host", "Transfer-Encoding", "Connection":
			// net/http keeps these out of the header map; fasthttp has
			// already undone any chunking.
			continue
		}
		r.Header[key] = append(r.Header[key], string(v))
	}
	return r, nil
}

// bridgeWriter is the http.ResponseWriter of a bridged request: the status
// and the headers as they were at WriteHeader, and the body, go into
// fasthttp's response.
type bridgeWriter struct {
	c      *fasthttp.RequestCtx
	header http.Header
	status int  // 0 until WriteHeader
	typed  bool // the answer has a Content-Type
}

func (w *bridgeWriter) Header() http.Header { return w.header }

// WriteHeader sends the status and the headers as they are now; later
// changes to the header map are not sent, as with net/http. Informational
// statuses (1xx) are not sent at all.
func (w *bridgeWriter) WriteHeader(code int) {
	if w.status != 0 || code < 200 || code > 999 {
		return
	}
	w.status = code
	w.c.SetStatusCode(code)
	_, w.typed = w.header["Content-Type"] // present, even empty: no sniffing
	h := &w.c.Response.Header
	for k, vs := range w.header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue // fasthttp frames the answer itself
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
}

// Write appends to the body. Like net/http, a body written without a
// Content-Type gets one from its first bytes.
func (w *bridgeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if !w.typed && len(b) > 0 {
		w.c.Response.Header.SetContentType(http.DetectContentType(b))
		w.typed = true
	}
	return w.c.Write(b)
}

// finish completes an answer whose handler wrote nothing.
func (w *bridgeWriter) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

// bodyAllowed reports whether a status may carry a body (RFC 9110 §6.4.1).
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && (status < 100 || status > 199)
}
