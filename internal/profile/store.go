package profile

import (
	"context"
	"net"
	"strings"
)

type storeKey struct{}

// WithStore records in ctx the store that a request's host or path names,
// for dialects that name the store in the URL (StoreHippo).
func WithStore(ctx context.Context, slug string) context.Context {
	return context.WithValue(ctx, storeKey{}, slug)
}

// StoreFrom returns the store the request's host or path named, if any.
func StoreFrom(ctx context.Context) string {
	s, _ := ctx.Value(storeKey{}).(string)
	return s
}

// StoreFromHost returns the store a host names as {store}.<issuerHost>,
// comparing host names case-insensitively and ignoring ports.
func StoreFromHost(host, issuerHost string) (string, bool) {
	h := hostOnly(host)
	base := hostOnly(issuerHost)
	if base == "" || len(h) <= len(base)+1 {
		return "", false
	}
	slug, rest, ok := strings.Cut(strings.ToLower(h), ".")
	if !ok || rest != strings.ToLower(base) || slug == "" {
		return "", false
	}
	return slug, true
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}
