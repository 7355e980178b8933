// Package api is Storekey's sample commerce API: a resource server under
// /api/v1/ that lets a platform (and `storekey demo`) watch an access token
// at work. It lists and creates the products, customers and orders of the
// store a token is bound to, each route guarded by the scope it needs;
// GET /api/v1/store tells what a store-bound token is bound to and grants,
// and GET /api/v1/me does so for any token, app-level ones included.
//
// Its handlers are written for fasthttp: with introspection, this is the
// validation path the load targets measure, and fasthttp serves it with a
// third less CPU than net/http did (docs/performance.md). Tokens are checked
// with package resource's Authenticator, which answers as its net/http
// Middleware does (RFC 6750): a missing or bad token gets 401 with a
// WWW-Authenticate challenge, a missing scope 403 insufficient_scope. Every
// answer is JSON: {"data": ...} on success, {"error": ...,
// "error_description": ...} on failure.
//
// It imports internal/oauth for the domain types and the storage contract
// (oauth.SampleData) and package resource for tokens; never another adapter
// (store, server, web). The data always belongs to the token's store: no
// request names a store.
package api
