// Package example is the partner app that `storekey demo` runs beside the
// server: a tiny OAuth 2.0 client web app that a newcomer clicks through to
// watch the authorization code flow end to end, then a call to the sample
// API with the token it got.
//
// It follows RFC 6749 §4.1 (authorization code grant) with PKCE S256
// (RFC 7636), a random state bound to the browser by a short-lived cookie
// (RFC 9700 §2.1), and checks the iss parameter of the authorization
// response when an issuer is configured (RFC 9207). It speaks to Storekey
// only over HTTP, through golang.org/x/oauth2, as a real partner's app
// would.
//
// The demo runs one per profile. Config's dialect fields let an app speak a
// platform's dialect as its guide writes it: its own names for the
// authorization request's parameters (AuthParams), a token endpoint that
// golang.org/x/oauth2 cannot speak (Exchange), the token response's further
// fields (TokenFields), the header that carries the token (TokenHeader) and
// the API request the app makes (APIPath).
//
// It imports internal/oauth for its domain types only (the scope catalog,
// products, error codes); never another adapter.
package example
