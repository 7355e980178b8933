package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
)

func TestAuditExport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	recs := []oauth.AuditRecord{
		{At: old, Action: oauth.AuditSignIn, ActorKind: oauth.ActorMerchant, ActorID: "usr_1", UserID: "usr_1"},
		{At: recent, Action: string(oauth.EventTokenIssued), ActorKind: oauth.ActorApp, ActorID: "app_1", AppID: "app_1", StoreID: "sto_1", GrantID: "grt_1", Detail: "authorization_code"},
		{At: recent.Add(time.Second), Action: oauth.AuditSecretRotated, ActorKind: oauth.ActorPartner, ActorID: "par_1", PartnerID: "par_1", AppID: "app_2", IP: "192.0.2.1"},
	}
	if err := db.AppendAudit(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	out, _, err := runCLI(t, noEnv, "audit", "--database", path, "--since", "24h", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got []auditJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(got) != 2 || got[0].Action != "token.issued" || got[0].GrantID != "grt_1" || got[1].Action != "app.secret_rotated" ||
		got[1].At != recent.Add(time.Second).Format(time.RFC3339Nano) || got[1].IP != "192.0.2.1" {
		t.Errorf("export %+v", got)
	}
	if strings.Contains(out, "sks_") || strings.Contains(out, "ska_") {
		t.Error("the export holds a secret")
	}

	out, _, err = runCLI(t, noEnv, "audit", "--database", path, "--since", "2019-12-31", "--format", "jsonl", "--partner", "par_1")
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for sc := bufio.NewScanner(strings.NewReader(out)); sc.Scan(); lines++ {
		var r auditJSON
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.PartnerID != "par_1" {
			t.Errorf("line %q: %v", sc.Text(), err)
		}
	}
	if lines != 1 {
		t.Errorf("%d lines, want 1:\n%s", lines, out)
	}

	out, _, err = runCLI(t, noEnv, "audit", "--database", path)
	if err != nil || !strings.Contains(out, "SEQ") || strings.Count(out, "\n") != 4 {
		t.Errorf("text export: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--format", "xml"}, {"--since", "yesterday"}, {"--since", "-5h"}} {
		if _, _, err := runCLI(t, noEnv, append([]string{"audit", "--database", path}, args...)...); err == nil {
			t.Errorf("audit %v: no error", args)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"24h":                  now.Add(-24 * time.Hour),
		"90m":                  now.Add(-90 * time.Minute),
		"7d":                   now.AddDate(0, 0, -7),
		"2026-03-01":           time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"2026-03-01T08:00:00Z": time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
