package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a per-key token bucket kept in this process. It protects the
// token, revocation and introspection endpoints from floods; the login
// throttle, whose counts matter across processes, lives in the database.
type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	keys  map[string]*bucket
	sweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(perSecond) + 1
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, keys: map[string]*bucket{}}
}

func (l *limiter) allow(key string, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.keys {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.keys, k)
			}
		}
		l.sweep = now
	}
	b := l.keys[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.keys[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// allow applies the rate limit to a request, keyed by what and the client's
// address.
func (s *Server) allow(r *http.Request, what string) bool {
	return s.limit.allow(what+"|"+clientIP(r), time.Now())
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
