package main

import (
	"strings"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
)

// TestCLIPrune prunes a database with rows on either side of the retention
// and checks what went, what stayed, and the refusals.
func TestCLIPrune(t *testing.T) {
	c := newCLI(t)
	var a appJSON
	c.json(&a, "app", "create", "--name", "X", "--redirect-uri", "https://x.example/cb", "--scopes", "read_products")

	ctx := t.Context()
	db, err := store.Open(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := now()
	expired := t0.Add(-25 * time.Hour) // past the default retention of 24h
	recent := t0.Add(-23 * time.Hour)  // expired, but within it
	for name, exp := range map[string]time.Time{"old1": expired, "old2": expired, "recent": recent, "live": t0.Add(time.Hour)} {
		tok := &oauth.Token{Hash: oauth.Hash("ska_" + name), Kind: oauth.KindAccess, AppID: a.ClientID, CreatedAt: exp.Add(-time.Hour), ExpiresAt: exp}
		if err := db.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	for name, exp := range map[string]time.Time{"old": expired, "live": t0.Add(time.Hour)} {
		if err := db.CreateSession(ctx, &oauth.Session{Hash: oauth.Hash("skb_" + name), UserID: "u", Kind: oauth.SessionMerchant,
			CreatedAt: exp.Add(-time.Hour), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}

	var got map[string]int64
	c.json(&got, "prune")
	want := map[string]int64{"codes": 0, "tokens": 2, "sessions": 1, "attempts": 0, "revocations": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("prune --json: %s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	for name, kept := range map[string]bool{"old1": false, "old2": false, "recent": true, "live": true} {
		_, err := db.TokenInfo(ctx, oauth.Hash("ska_"+name))
		if kept != (err == nil) {
			t.Errorf("token %s: kept %v, want %v (%v)", name, err == nil, kept, err)
		}
	}

	// A shorter retention takes the recent one too; the text says so.
	if out := c.ok("prune", "--retention", "1h"); !strings.HasPrefix(out, "deleted 0 codes, 1 tokens, 0 sessions") {
		t.Errorf("prune --retention 1h printed %q", out)
	}
	for _, args := range [][]string{
		{"prune", "--retention", "10m"},   // shorter than the login window (15m)
		{"prune", "--retention", "never"}, // means nothing to prune: that is prune.interval 0
		{"prune", "--retention", "soon"},
	} {
		if _, err := c.run(args...); err == nil {
			t.Errorf("storekey %s succeeded", strings.Join(args, " "))
		}
	}
}

func TestConfigPrune(t *testing.T) {
	cfg, err := loadConfig("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Prune.Interval != Duration(10*time.Minute) || cfg.Prune.Retention != Duration(24*time.Hour) {
		t.Errorf("default prune config %+v", cfg.Prune)
	}
	env := map[string]string{"STOREKEY_PRUNE_INTERVAL": "0s", "STOREKEY_PRUNE_RETENTION": "72h"}
	cfg, err = loadConfig("", func(k string) string { return env[k] })
	if err != nil || cfg.Prune.Interval != 0 || cfg.Prune.Retention != Duration(72*time.Hour) {
		t.Errorf("prune from the environment: %+v, %v", cfg.Prune, err)
	}
	for _, bad := range []map[string]string{
		{"STOREKEY_PRUNE_RETENTION": "5m"}, // shorter than the login window
		{"STOREKEY_PRUNE_INTERVAL": "-1m"},
		{"STOREKEY_PRUNE_RETENTION": "never"},
	} {
		if _, err := loadConfig("", func(k string) string { return bad[k] }); err == nil {
			t.Errorf("config %v accepted", bad)
		}
	}
}
