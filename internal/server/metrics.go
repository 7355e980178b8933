package server

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the Prometheus series the server exports on its own registry.
type metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	tokensIssued  *prometheus.CounterVec
	tokensRevoked prometheus.Counter
	oauthErrors   *prometheus.CounterVec

	routes sync.Map // routeKey → *routeSeries
}

// routeKey and routeSeries keep each route's series once looked up: the
// vectors' own lookup hashes the labels and takes a lock on every request.
// There are as many keys as routes times the statuses they answer.
type routeKey struct {
	pattern string
	status  int
}

type routeSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// route returns the request counter and the latency histogram of a route
// and status.
func (m *metrics) route(pattern string, status int) *routeSeries {
	k := routeKey{pattern, status}
	if s, ok := m.routes.Load(k); ok {
		return s.(*routeSeries)
	}
	s, _ := m.routes.LoadOrStore(k, &routeSeries{
		requests: m.requests.WithLabelValues(pattern, strconv.Itoa(status)),
		latency:  m.latency.WithLabelValues(pattern),
	})
	return s.(*routeSeries)
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storekey_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "storekey_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storekey_tokens_issued_total",
			Help: "Token responses issued, by grant type.",
		}, []string{"grant_type"}),
		tokensRevoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "storekey_tokens_revoked_total",
			Help: "Successful revocation requests (RFC 7009).",
		}),
		oauthErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storekey_oauth_errors_total",
			Help: "OAuth error responses by route and error code.",
		}, []string{"endpoint", "error"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.tokensIssued, m.tokensRevoked, m.oauthErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
