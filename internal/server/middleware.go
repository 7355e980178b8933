package server

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/valyala/fasthttp"
)

// requestIDHeader carries each request's id in the answer. It is set before
// any handler runs, so handlers that name the id in an error (the token
// endpoint's server_error, the pages' error page, the sample API's) read it
// from their answer's headers.
const requestIDHeader = "X-Request-Id"

// newRequestID returns 64 random bits in hex. A request id correlates a
// log line with an answer; it guards nothing, so it comes from math/rand's
// generator (ChaCha8, seeded from the system's entropy, per thread) rather
// than from a system call per request.
func newRequestID() string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64()) //nolint:gosec // G404: an id for logs, guards nothing
	return hex.EncodeToString(b[:])
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument gives every request an id, recovers panics without showing a
// trace, counts and times requests by route, and logs each one. It logs the
// path only: query strings carry codes and state.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header()[requestIDHeader] = []string{id}
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", "request_id", id, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					http.Error(rec, "internal server error (request "+id+")", http.StatusInternalServerError)
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			pattern := r.Pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			s.observe(r, pattern, rec.status, time.Since(start), id)
		}()
		next.ServeHTTP(rec, r)
	})
}

// observe counts and times a request by route and status, and writes its
// access log line. r is the *http.Request or the *fasthttp.RequestCtx; the
// method and path are read from it only for the log, which names the path
// only: query strings carry codes and state.
func (s *Server) observe(r any, pattern string, status int, d time.Duration, id string) {
	series := s.metrics.route(pattern, status)
	series.requests.Inc()
	series.latency.Observe(d.Seconds())
	if !s.opts.AccessLog {
		return
	}
	var method, path string
	switch r := r.(type) {
	case *http.Request:
		method, path = r.Method, r.URL.Path
	case *fasthttp.RequestCtx:
		method, path = string(r.Method()), string(r.Path())
	}
	s.log.Info("request", "method", method, "path", path, "status", status,
		"duration_ms", float64(d.Microseconds())/1000, "request_id", id)
}
