// Package web serves Storekey's pages for people: the authorization
// endpoint's sign-in and consent pages (RFC 6749 §3.1, §4.1.1–4.1.2.1), the
// merchant's sign-in and sign-out, the home page and the static assets they
// use; and, when Options.Portal is set, the partner dashboard (/partners/:
// sign-up, apps, logos, secrets, installations, webhook deliveries) and the
// merchant's connected apps and activity (/account/). Pages are
// html/template with one shared layout and work without JavaScript.
//
// Partner and merchant sessions are rows of one table told apart by kind,
// in cookies of their own; neither grants the other's pages. Every page
// that changes something needs the session's CSRF token and a sign-in of
// the last hour (Portal.FreshFor).
//
// It parses each request once into the core's types (oauth.AuthorizeRequest)
// and leaves every protocol decision to oauth.Service: which client and
// redirect URI to trust, which errors go back to the client (RFC 6749
// §4.1.2.1, RFC 9207 iss) and which are shown here (RFC 9700 §4.11).
//
// It imports oauth, password and profile only; never server, store or another
// adapter. Every response carries a Content-Security-Policy that forbids
// framing, inline script and inline style; state-changing requests must
// come from the same origin (http.CrossOriginProtection), and the forms of
// signed-in pages also carry a token derived from the session.
package web
