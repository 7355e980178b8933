// Package server is Storekey's HTTP for machines: the token (RFC 6749 §3.2),
// revocation (RFC 7009), introspection (RFC 7662) and metadata (RFC 8414)
// endpoints, health and metrics, and the one URL map (routes.go) that mounts
// the people-facing pages of package web and the sample API beside them.
//
// It parses each request once into the oauth package's types and renders
// the results; every protocol rule lives in package oauth. It maps
// *oauth.Error onto HTTP status and JSON at the edge (errors.go).
//
// It answers HTTP with fasthttp (fast.go). The validation paths, the
// introspection endpoint and the sample API, are handlers written for it;
// the rest is written for net/http and reached through a bridge
// (bridge.go) that hands it requests owning their strings.
package server
