// Package oauth is Storekey's core: the OAuth 2.0 protocol rules and the
// domain types they act on (App, Store, Grant, Code, Token, Scope), the typed
// protocol Error, and Storage, the small persistence contract the core needs.
//
// It follows RFC 6749 (OAuth 2.0), RFC 7636 (PKCE), RFC 7009 (revocation),
// RFC 7662 (introspection), RFC 9207 (the iss authorization response
// parameter) and RFC 9700 (the OAuth 2.0 Security Best Current Practice).
//
// It imports the standard library only. HTTP, HTML, SQL and configuration
// live in adapter packages that import this one, never the reverse.
package oauth
