// Package audit writes Storekey's audit trail: Recorder receives the
// service's events (oauth.Recorder) and appends them to the append-only
// log (oauth.AuditLog) in the background, so that recording never adds a
// database write to the token endpoint's latency.
//
// Each event is completed before it is written: the actor from the
// request's context (oauth.WithActor), or the app for token events; the
// app, store and merchant of the grant it names; the partner that owns the
// app. Records never hold a secret: grant ids, never token values.
//
// It imports oauth and the standard library only.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// Lookup finds the grants and apps that events name.
type Lookup interface {
	Grant(ctx context.Context, id string) (*oauth.Grant, error)
	App(ctx context.Context, id string) (*oauth.App, error)
}

// Recorder queues events and appends them to the log in batches. Create it
// with New; Close writes what is queued and stops.
type Recorder struct {
	log    oauth.AuditLog
	lookup Lookup
	logger *slog.Logger

	queue chan *item
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

type item struct {
	e     oauth.Event
	actor oauth.Actor
	ok    bool
	flush chan struct{} // when set, a Flush marker instead of an event
}

// queueSize bounds the events waiting to be written; past it, Record waits.
// The queue holds pointers, so that its memory follows the events actually
// waiting: a queue of 4,096 events by value would be 0.9 MB that the ring
// makes resident once enough events have gone through it, whether or not
// more than a few ever waited at once.
const queueSize = 4096

// New starts a recorder writing to log.
func New(log oauth.AuditLog, lookup Lookup, logger *slog.Logger) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{
		log: log, lookup: lookup, logger: logger,
		queue: make(chan *item, queueSize), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run()
	return r
}

// Record queues e with the actor of ctx. It waits only when the queue is
// full (the database has fallen behind), and never past ctx.
func (r *Recorder) Record(ctx context.Context, e oauth.Event) error {
	a, ok := oauth.ActorFrom(ctx)
	select {
	case <-r.stop:
		return errors.New("audit: recorder closed")
	default:
	}
	select {
	case r.queue <- &item{e: e, actor: a, ok: ok}:
		return nil
	case <-r.stop:
		return errors.New("audit: recorder closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits until every event queued before it is written.
func (r *Recorder) Flush(ctx context.Context) error {
	f := make(chan struct{})
	select {
	case r.queue <- &item{flush: f}:
	case <-r.stop:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-f:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the recorder.
func (r *Recorder) Close() {
	r.once.Do(func() { close(r.stop) })
	<-r.done
}

func (r *Recorder) run() {
	defer close(r.done)
	const batch = 256
	var (
		items   []item
		flushes []chan struct{}
	)
	write := func() {
		r.write(items)
		for _, f := range flushes {
			close(f)
		}
		items, flushes = items[:0], flushes[:0]
	}
	for {
		select {
		case it := <-r.queue:
			items, flushes = add(items, flushes, it)
		fill:
			for len(items) < batch {
				select {
				case it := <-r.queue:
					items, flushes = add(items, flushes, it)
				default:
					break fill
				}
			}
			write()
		case <-r.stop:
			for {
				select {
				case it := <-r.queue:
					items, flushes = add(items, flushes, it)
				default:
					write()
					return
				}
			}
		}
	}
}

func add(items []item, flushes []chan struct{}, it *item) ([]item, []chan struct{}) {
	if it.flush != nil {
		return items, append(flushes, it.flush)
	}
	return append(items, *it), flushes
}

func (r *Recorder) write(items []item) {
	if len(items) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs := make([]oauth.AuditRecord, 0, len(items))
	apps := map[string]*oauth.App{}
	for _, it := range items {
		recs = append(recs, r.complete(ctx, it, apps))
	}
	if err := r.log.AppendAudit(ctx, recs); err != nil {
		r.logger.Error("writing audit records", "count", len(recs), "err", err)
	}
}

// complete turns an event into a record, filling in what the event left
// out from the grant and the app it names.
func (r *Recorder) complete(ctx context.Context, it item, apps map[string]*oauth.App) oauth.AuditRecord {
	e := it.e
	rec := oauth.AuditRecord{
		At: e.At, Action: string(e.Kind), AppID: e.AppID, StoreID: e.StoreID, UserID: e.UserID,
		GrantID: e.GrantID, Detail: e.Detail,
	}
	if len(e.Scopes) > 0 {
		if rec.Detail != "" {
			rec.Detail += "; "
		}
		rec.Detail += "scopes: " + e.Scopes.String()
	}
	if e.GrantID != "" && (rec.AppID == "" || rec.StoreID == "" || rec.UserID == "") {
		if g, err := r.lookup.Grant(ctx, e.GrantID); err == nil {
			rec.AppID = cmpOr(rec.AppID, g.AppID)
			rec.StoreID = cmpOr(rec.StoreID, g.StoreID)
			rec.UserID = cmpOr(rec.UserID, g.UserID)
		}
	}
	if rec.AppID != "" {
		a, ok := apps[rec.AppID]
		if !ok {
			a, _ = r.lookup.App(ctx, rec.AppID) // a deleted app has no partner to show the record to
			apps[rec.AppID] = a
		}
		if a != nil {
			rec.PartnerID = a.PartnerID
		}
	}
	if it.ok {
		rec.ActorKind, rec.ActorID, rec.IP, rec.UserAgent = it.actor.Kind, it.actor.ID, it.actor.IP, it.actor.UserAgent
	}
	if rec.ActorKind == "" {
		// The request's context had no one (the machine endpoints) or only
		// an address (the consent page): who it was follows from the event.
		switch e.Kind {
		case oauth.EventAuthorized, oauth.EventDenied:
			rec.ActorKind, rec.ActorID = oauth.ActorMerchant, e.UserID
		case oauth.EventTokenIssued, oauth.EventTokenRefreshed:
			rec.ActorKind, rec.ActorID = oauth.ActorApp, rec.AppID
		default:
			rec.ActorKind = oauth.ActorSystem
		}
	}
	return rec
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
