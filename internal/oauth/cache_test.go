package oauth

import (
	"fmt"
	"testing"
	"time"
)

// TestConsentCache covers what TestRememberedConsent cannot reach through
// the service: answers read while the revocation log moved on are not
// kept, nor are grants stored meanwhile; entries expire; an entry holds a
// bounded number of sets; token revocations leave remembered consent alone.
func TestConsentCache(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	rp, ro := NewScopes("read_products"), NewScopes("read_orders")
	covers := func(c *consentCache, want Scopes, at time.Time) bool {
		ok, _ := c.covers("app", "sto", want, at)
		return ok
	}

	c := newConsentCache(time.Minute)
	_, seq := c.covers("app", "sto", rp, t0)
	c.apply([]Revocation{{Seq: 1, GrantID: "grt_1"}})
	c.put("app", "sto", []Scopes{rp}, t0, seq)
	if covers(c, rp, t0) {
		t.Error("sets read before a revocation was applied were kept")
	}
	_, seq = c.covers("app", "sto", rp, t0)
	c.put("app", "sto", []Scopes{rp}, t0, seq)
	if !covers(c, rp, t0) || covers(c, ro, t0) {
		t.Fatal("the sets read were not remembered as they are")
	}
	if covers(c, rp, t0.Add(time.Minute+time.Microsecond)) {
		t.Error("an entry older than the ttl answered")
	}

	// A grant stored while a revocation was applied is not added: it may
	// be the one revoked.
	_, seq = c.covers("app", "sto", ro, t0)
	c.apply([]Revocation{{Seq: 2, TokenHash: Hash("t")}})
	c.granted("app", "sto", ro, seq)
	if covers(c, ro, t0) {
		t.Error("a grant stored across a revocation joined the entry")
	}
	if !covers(c, rp, t0) {
		t.Error("a token's revocation dropped remembered consent")
	}
	_, seq = c.covers("app", "sto", ro, t0)
	c.granted("app", "sto", ro, seq)
	c.granted("other", "sto", ro, seq)
	if !covers(c, ro, t0) || !covers(c, rp, t0) {
		t.Error("a new grant's scopes did not join its entry")
	}
	if ok, _ := c.covers("other", "sto", ro, t0); ok {
		t.Error("a new grant made an entry of its own, without a read")
	}

	// An entry holds at most maxConsentSets sets; one more drops it.
	for i := range maxConsentSets {
		c.granted("app", "sto", NewScopes(fmt.Sprintf("s%d", i)), seq)
	}
	if covers(c, rp, t0) {
		t.Errorf("an entry grew past %d sets", maxConsentSets)
	}

	// An app's revocation drops everything.
	c.put("app", "sto", []Scopes{rp}, t0, seq)
	c.apply([]Revocation{{Seq: 3, AppID: "app"}})
	if covers(c, rp, t0) {
		t.Error("an app's revocation left remembered consent")
	}
	// The log's entries apply once, in order.
	c.apply([]Revocation{{Seq: 3, AppID: "app"}})
	_, seq = c.covers("app", "sto", rp, t0)
	if seq != 3 {
		t.Errorf("seq = %d after entries up to 3", seq)
	}

	// A nil cache (caches disabled) remembers nothing and answers no.
	var off *consentCache
	off.put("app", "sto", []Scopes{rp}, t0, 0)
	off.granted("app", "sto", rp, 0)
	off.apply([]Revocation{{Seq: 1, AppID: "app"}})
	if covers(off, rp, t0) {
		t.Error("a nil cache answered yes")
	}
}
