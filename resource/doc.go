// Package resource is the resource-server half of OAuth 2.0 for a platform's
// own Go services: an HTTP middleware that finds the bearer token of a
// request, has a Validator check it, and stores the resulting Principal in the
// request context; RequireScope, which refuses a request whose token lacks a
// scope; and Introspector, a Validator that asks the authorization server's
// introspection endpoint and caches the answers briefly.
//
// It follows RFC 6750 (Bearer Token Usage): tokens are read from the
// Authorization header (§2.1), never from the query string (§2.3 is not
// supported because URLs end up in logs), and refusals carry the
// WWW-Authenticate challenge of §3 with the error codes of §3.1. Introspector
// speaks RFC 7662 (Token Introspection) and authenticates with HTTP Basic as
// RFC 6749 §2.3.1 describes.
//
// The package is public so that platforms can import it. It depends on the
// standard library only and must never import Storekey's internal packages;
// the few types it needs are defined here.
package resource
