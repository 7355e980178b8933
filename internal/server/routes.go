package server

import (
	"net/http"
	"net/url"

	"github.com/storekey/storekey/internal/profile"
)

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
	for _, p := range s.opts.Profiles {
		paths := p.TokenPaths
		if p.Name == profile.Standard {
			paths = []string{"/oauth/token"}
		}
		for _, path := range paths {
			mux.HandleFunc("POST "+path, s.token(p))
			mux.HandleFunc(path, postOnly)
			if p.StorePaths {
				mux.Handle("POST /stores/{store}"+path, storeFromPath(s.token(p)))
			}
		}
	}
	mux.HandleFunc("POST /oauth/revoke", s.revoke)
	// POST /oauth/introspect and /api/ are served natively (fast.go).
	for _, p := range []string{"/oauth/revoke", "/oauth/introspect"} {
		mux.HandleFunc(p, postOnly)
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metricsHandler())
	for pattern, h := range s.opts.Mounts {
		mux.Handle(pattern, h)
	}
	if s.opts.Web != nil {
		// The pages own everything else: /, /oauth/authorize, /login, ...
		mux.Handle("/", s.opts.Web)
	}
	s.mux = mux
	return s.storeFromHost(mux)
}

// routedHere reports whether the net/http routes have one of their own for
// a path under /api/ (a dialect's token path, such as HyperSKU's), which
// then wins over the sample API's answer to paths it does not know, as the
// more specific pattern would in one mux.
func (s *Server) routedHere(method, path []byte) bool {
	u := &url.URL{Path: string(path)}
	_, pattern := s.mux.Handler(&http.Request{Method: string(method), URL: u, Host: "localhost"})
	return pattern != "" && pattern != "/"
}

// storeFromPath records the {store} of a /stores/{store}/... path.
func storeFromPath(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(profile.WithStore(r.Context(), r.PathValue("store"))))
	})
}

// storeFromHost records the store a {store}.<issuer host> host names, for
// dialects that put the store in the host (StoreHippo).
func (s *Server) storeFromHost(h http.Handler) http.Handler {
	u, err := url.Parse(s.svc.Config().Issuer)
	if err != nil || u.Host == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slug, ok := profile.StoreFromHost(r.Host, u.Host); ok {
			r = r.WithContext(profile.WithStore(r.Context(), slug))
		}
		h.ServeHTTP(w, r)
	})
}
