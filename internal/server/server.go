package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
)

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
	// API is the sample commerce API (api.New), served natively on
	// fasthttp: every path under /api/ goes to it.
	API Router
	// Mounts are further handlers by ServeMux pattern (the demo's example
	// app, a dialect's extra paths).
	Mounts map[string]http.Handler
	// Profiles are the enabled dialects: their token paths are mounted
	// here, their authorization paths sent to Web, and they shape the token
	// responses of their apps. Standard is always there.
	Profiles []*profile.Profile
	DocsURL  string
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
	handler      http.Handler // the routes written for net/http; see bridge
	mux          *http.ServeMux
	profiles     map[string]*profile.Profile
}

// New returns a Server for svc, whose storage st answers readiness checks.
func New(svc *oauth.Service, st oauth.Storage, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		svc:      svc,
		st:       st,
		opts:     opts,
		log:      opts.Logger,
		metrics:  newMetrics(),
		limit:    newLimiter(opts.RateLimit, opts.RateBurst),
		profiles: map[string]*profile.Profile{},
	}
	for _, p := range opts.Profiles {
		s.profiles[p.Name] = p
	}
	if s.profiles[profile.Standard] == nil {
		std, _ := profile.Get(profile.Standard)
		s.profiles[profile.Standard] = std
		s.opts.Profiles = append([]*profile.Profile{std}, s.opts.Profiles...)
	}
	s.metadataJSON, _ = json.Marshal(s.metadata())
	s.handler = s.instrument(s.routes())
	return s
}

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
