// Package webhook delivers the webhooks in the outbox to partners' apps and
// defines how they are signed.
//
// Every delivery is a JSON POST signed with the app's client secret:
//
//	X-Storekey-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// where v1 is the hex HMAC-SHA256, keyed with the client secret, of the
// timestamp, a full stop and the raw body ("1767225600.{...}"). During a
// secret rotation's grace period the header carries one v1 per valid
// secret. Receivers recompute it (Verify does), compare in constant time,
// and reject timestamps outside a tolerance to refuse replays; the payload's
// id lets them drop the rare duplicate. docs/webhooks.md is the partners'
// reference.
//
// The Worker claims due deliveries from the outbox (oauth.Outbox) under a
// lease, so that with several server processes each delivery is sent by
// one, and a dead worker's claims expire; it retries failures with
// exponential backoff and jitter for 48 hours. It runs beside the OAuth
// endpoints and never blocks them: its own HTTP client with short
// timeouts, bounded concurrency, and it refuses private and loopback
// addresses unless allowed (server-side request forgery).
//
// It imports oauth and the standard library only.
package webhook
