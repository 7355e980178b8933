package server

import "net/http"

// postOnly answers the machine endpoints' other methods (RFC 6749 §3.2
// requires POST at the token endpoint).
func postOnly(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "invalid_request", Description: "use POST"})
}

// routes is the whole URL map.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.wellKnown)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /oauth/revoke", s.revoke)
	mux.HandleFunc("POST /oauth/introspect", s.introspect)
	for _, p := range []string{"/oauth/token", "/oauth/revoke", "/oauth/introspect"} {
		mux.HandleFunc(p, postOnly)
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metricsHandler())
	if s.opts.API != nil {
		mux.Handle("/api/", s.opts.API)
	}
	for pattern, h := range s.opts.Mounts {
		mux.Handle(pattern, h)
	}
	if s.opts.Web != nil {
		// The pages own everything else: /, /oauth/authorize, /login, ...
		mux.Handle("/", s.opts.Web)
	}
	return mux
}
