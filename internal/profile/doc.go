// Package profile holds the dialects of the commerce platforms whose
// published OAuth guides Storekey serves as written: standard (RFC 6749 and
// RFC 9700), hike, storehippo, hubrise, hiboutik and hypersku. Each is a
// declarative value (paths, parameter and field names, scope catalog,
// lifetimes, the headers that carry the token) plus a few named hooks where
// a platform really behaves differently (a scope grammar, a response
// shape). The server and web packages read these values; they never branch
// on a platform's name.
//
// It imports package oauth and the standard library only.
package profile
