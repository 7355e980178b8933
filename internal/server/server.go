package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/storekey/storekey/internal/oauth"
)

// TokenRenderer shapes a token response for a dialect.
type TokenRenderer func(resp *oauth.TokenResponse, now time.Time) any

// Options configure a Server. Handlers left nil are not mounted.
type Options struct {
	Logger    *slog.Logger
	AccessLog bool
	// RateLimit is the sustained requests per second allowed per client and
	// address at the token, revocation and introspection endpoints; 0
	// disables the limit. RateBurst is the bucket size.
	RateLimit float64
	RateBurst int
	// Web serves the people-facing pages (/, /oauth/authorize, /login, ...).
	Web http.Handler
	// API serves the sample commerce API under /api/.
	API http.Handler
	// Mounts are further handlers by ServeMux pattern (the demo's example
	// app, a dialect's extra paths).
	Mounts map[string]http.Handler
	// TokenRenderers shape token responses by app profile; apps whose
	// profile has none get StandardToken.
	TokenRenderers map[string]TokenRenderer
	DocsURL        string
}

// Server is Storekey's HTTP server.
type Server struct {
	svc          *oauth.Service
	st           oauth.Storage
	opts         Options
	log          *slog.Logger
	metrics      *metrics
	limit        *limiter
	metadataJSON []byte
	handler      http.Handler
}

// New returns a Server for svc, whose storage st answers readiness checks.
func New(svc *oauth.Service, st oauth.Storage, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		svc:     svc,
		st:      st,
		opts:    opts,
		log:     opts.Logger,
		metrics: newMetrics(),
		limit:   newLimiter(opts.RateLimit, opts.RateBurst),
	}
	s.metadataJSON, _ = json.Marshal(s.metadata())
	s.handler = s.instrument(s.routes())
	return s
}

// ServeHTTP serves every Storekey route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.st.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}
