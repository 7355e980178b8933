// Package bench is the load generator behind `storekey bench`: it drives a
// running Storekey over HTTP only and reports throughput, latency
// percentiles, failures by kind and, optionally, the server's resident
// memory.
//
// It owns the runner (Run: workers, warmup, a measured window), the latency
// histogram, the scenarios and their HTTP-only setup (sign-in, consent, the
// pools of tokens they need), and the report in text and JSON. It imports
// the standard library only and no sibling adapter: the fixtures it needs in
// the database (an app, a merchant and a store) are made by cmd/storekey
// through the store, and handed in as a Target.
//
// The scenarios speak the protocol as a partner app and a merchant's browser
// would: client_credentials with client_secret_basic (RFC 6749 §4.4,
// §2.3.1), introspection (RFC 7662), bearer calls to the sample API
// (RFC 6750), and authorization code flows with PKCE S256 (RFC 6749 §4.1,
// RFC 7636) through a signed-in session, consent remembered.
//
// # Measuring
//
// Each worker runs one op at a time, back to back: a closed loop, so the
// offered load is what the server can absorb at the given concurrency, and
// latency is what one client in that crowd sees. Ops run unrecorded during
// the warmup, so that connections, caches and the database's pages are warm;
// an op is then recorded when it starts inside the measured window, which
// balances the ops cut at either end, and the runner waits for those in
// flight when the window closes. The loop ends by itself; cancelling the
// context ends it early, and ops cut by the cancellation count as neither
// success nor failure.
//
// A Plan with a Rate is paced instead, as wrk2 is: each worker starts its
// ops on a fixed schedule, the workers' schedules staggered so that together
// they offer the Rate, and an op's latency counts from when it was due. A
// worker that falls behind (the server slow, or the bench itself not
// scheduled) runs the ops it owes at once rather than skipping them, so the
// wait a stall caused is charged to every op it held back: the closed loop
// does not see that wait, since a worker sends nothing while it waits
// (coordinated omission). A step named "late" records how long after its
// due time each op was sent. The measured time then lasts until every op due
// in the window is done, so that a server that could not keep up shows a
// rate below the one offered.
//
// Latencies go into a log-linear histogram per worker and step (HdrHistogram's
// layout: exact below 128 ns, then 128 buckets per power of two, under 1%
// relative error, about 30 KiB whatever the rate), merged once at the end:
// the hot path takes no lock and allocates nothing for the record. Failures
// are counted by a key made of the step, the HTTP status and the OAuth error
// code ("token 429 slow_down"), with one sample description each.
//
// The HTTP client is built for load, because the bench shares the cores
// with the server it measures: every CPU cycle it spends is one the server
// does not get. Each worker owns one keep-alive connection (a Conn, from
// the scenario's Wire) and does its exchange on its own goroutine: the
// request is written from a reused buffer, the answer read with a reused
// bufio.Reader, the body whole into a reused slice. It speaks what the bench
// needs of HTTP/1.1 (RFC 9112): bodies sized by Content-Length, chunked, or
// ended by the close; Connection: close; one retry on a fresh connection
// when a reused one was closed before any byte of an answer came back.
// net/http's client spent about as much CPU per request as the server did
// (request and header maps, and three goroutines per exchange); the Conn
// spends half as much (a fifth of the user time; the rest is the kernel's
// reads and writes), and the server's introspection figures rose by 15-40 %
// (docs/performance.md). Only the merchant's sign-in goes through net/http,
// for its cookie jar; the session cookie is then handed to the Wire. Only
// loopback servers are accepted unless the caller says otherwise (CheckURL).
//
// # Go benchmarks
//
// An Op is a plain func(ctx, *Recorder) error and every Recorder method is a
// no-op on nil, so the same ops run outside the runner: in setup, and in a
// testing.B loop, which gives allocations per op and ns/op of the client
// side in isolation (see BenchmarkRunnerOp). Run itself takes a Plan and a
// factory of per-worker ops, so a test can drive the runner against an
// httptest server with a fake endpoint and check its accounting exactly, as
// runner_test.go does. Numbers about the server belong to `storekey bench`
// against a real process; `make bench` stays for in-process micro
// benchmarks of the token path.
package bench
