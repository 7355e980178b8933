package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/api"
	"github.com/storekey/storekey/internal/audit"
	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/profile"
	"github.com/storekey/storekey/internal/server"
	"github.com/storekey/storekey/internal/store"
	"github.com/storekey/storekey/internal/web"
	"github.com/storekey/storekey/internal/webhook"
)

func serveCmd(e *env) *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (embedded SQLite by default; --database postgres://... for PostgreSQL)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			if listen != "" {
				cfg = withListen(cfg, listen, e.getenv)
			}
			return serve(cmd.Context(), e, cfg, nil)
		},
	}
	c.Flags().StringVar(&listen, "listen", "", "address to listen on (overrides the config)")
	return c
}

// withListen changes the listen address, and the issuer with it unless one
// was configured.
func withListen(cfg Config, listen string, getenv func(string) string) Config {
	if strings.TrimRight(cfg.Issuer, "/") == "http://"+cfg.Listen && getenv("STOREKEY_ISSUER") == "" {
		cfg.Issuer = "http://" + listen
	}
	cfg.Listen = listen
	return cfg
}

// instance is a running Storekey's parts, built from the configuration.
type instance struct {
	cfg Config
	log *slog.Logger
	db  *store.DB
	svc *oauth.Service
	// profiles are the enabled dialects, standard first.
	profiles []*profile.Profile
	sealer   *oauth.Sealer   // seals the secrets that sign webhooks
	audit    *audit.Recorder // writes the service's events to the audit trail
}

// Close writes the queued audit records and closes the database.
func (in *instance) Close() error {
	in.audit.Close()
	return in.db.Close()
}

func newLogger(cfg Config, e *env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// open opens and migrates the database and builds the service.
func open(ctx context.Context, e *env, cfg Config) (*instance, error) {
	log := newLogger(cfg, e)
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	keys, err := serverKeys(ctx, cfg, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	svc, err := oauth.NewService(cfg.oauthConfig(), db, keys, log)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	profiles, err := profile.Enabled(cfg.Profiles)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("config: profiles: %w", err)
	}
	svc.SetDialects(profile.Dialects(profiles))
	sealer, err := oauth.NewSealer(keys)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	rec := audit.New(db, auditLookup{db, svc}, log)
	svc.SetRecorder(rec)
	return &instance{cfg: cfg, log: log, db: db, svc: svc, profiles: profiles, sealer: sealer, audit: rec}, nil
}

// serverKeys returns the configured keys, or else the one kept in the
// database, creating it on first start. Every process on one database thus
// derives the same tokens.
func serverKeys(ctx context.Context, cfg Config, db *store.DB) ([]oauth.Key, error) {
	if len(cfg.Keys) > 0 {
		keys := make([]oauth.Key, 0, len(cfg.Keys))
		for i, k := range cfg.Keys {
			if len(k) < 32 {
				return nil, fmt.Errorf("config: keys[%d] is shorter than 32 characters", i)
			}
			sum := sha256.Sum256([]byte(k))
			keys = append(keys, oauth.Key{ID: "cfg-" + hex.EncodeToString(sum[:4]), Secret: []byte(k)})
		}
		return keys, nil
	}
	keys, err := db.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("read server keys: %w", err)
	}
	if len(keys) > 0 {
		return keys, nil
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	if err := db.AddKey(ctx, oauth.Key{ID: "db-1", Secret: secret, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
		return nil, fmt.Errorf("create server key: %w", err)
	}
	// Another process may have created it first: use what the database kept.
	return db.Keys(ctx)
}

// auditLookup is what the audit recorder completes events from: grants
// from the database, apps through the service's cache (every batch of
// token events names the app).
type auditLookup struct {
	*store.DB
	svc *oauth.Service
}

func (l auditLookup) App(ctx context.Context, id string) (*oauth.App, error) {
	return l.svc.App(ctx, id)
}

// handler builds the whole HTTP handler of an instance. mounts adds the
// demo's extra handlers.
func (in *instance) handler(mounts map[string]http.Handler, links []web.Link) *server.Server {
	cfg := in.cfg
	secure := strings.HasPrefix(cfg.Issuer, "https://")
	pages := web.New(in.svc, in.db, web.Options{
		Logger:        in.log,
		SecureCookies: secure,
		SessionTTL:    time.Duration(cfg.SessionTTL),
		LoginLimit:    cfg.Login.MaxFailures,
		LoginWindow:   time.Duration(cfg.Login.Window),
		Links:         links,
		Profiles:      in.profiles,
		Portal: &web.Portal{
			Partners: in.db, Audit: in.db, Outbox: in.db, Sealer: in.sealer,
			SecretGrace: time.Duration(cfg.SecretGrace),
		},
	})
	var headers []string
	for _, p := range in.profiles {
		headers = append(headers, p.TokenHeaders...)
	}
	sample := api.New(in.db, server.NewValidator(in.svc), api.Options{Logger: in.log, TokenHeaders: headers})
	return server.New(in.svc, in.db, server.Options{
		Logger:    in.log,
		AccessLog: cfg.AccessLog,
		RateLimit: cfg.RateLimit.TokenPerSecond,
		RateBurst: cfg.RateLimit.TokenBurst,
		Web:       pages,
		API:       sample,
		Mounts:    mounts,
		Profiles:  in.profiles,
	})
}

// serve runs the HTTP server until ctx ends, then shuts down gracefully.
// setup, when not nil, adds handlers (the demo's) once the instance is open.
func serve(ctx context.Context, e *env, cfg Config, setup func(context.Context, *instance) (map[string]http.Handler, []web.Link, error)) error {
	tuneGC(e.getenv)
	in, err := open(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer in.Close()
	var mounts map[string]http.Handler
	var links []web.Link
	if setup != nil {
		if mounts, links, err = setup(ctx, in); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := in.handler(mounts, links).HTTPServer()
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go in.svc.WatchRevocations(watch, 100*time.Millisecond)
	if cfg.Webhooks.Deliver {
		// Stopped, and its attempts in flight recorded, before the
		// database closes.
		done := make(chan struct{})
		go func() { defer close(done); in.webhookWorker().Run(watch) }()
		defer func() { stopWatch(); <-done }()
	}
	if cfg.Prune.Interval > 0 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			in.svc.RunPruner(watch, time.Duration(cfg.Prune.Interval), time.Duration(cfg.Prune.Retention))
		}()
		defer func() { stopWatch(); <-done }()
	}
	if cfg.DebugListen != "" {
		stopDebug, err := serveDebug(cfg.DebugListen, in.log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	in.log.Info("storekey listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer, "database", redactDSN(cfg.Database), "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.ShutdownWithContext(shutdown); err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	in.log.Info("storekey stopped")
	return nil
}

// gcPercent is the server's Go collector target unless GOGC sets one: a
// collection once the heap has grown by half of what the last one left
// live, where Go's default waits for it to double. The server's live heap
// is small (3-4 MB under load: caches, templates, connections), so each
// collection is short, and the heap it lets grow between collections is
// most of the difference between the server's resident memory and its
// 40 MB target. On SQLite under full load (2026-11-23, 14:21-14:27) the highest
// RSS went from 41.0-41.7 to 38.6-39.9 MiB, for 5-10 % more server CPU per
// validation; GOGC=30 would take another 1.5 MiB for 20-30 % more.
const gcPercent = 50

// tuneGC sets the collector's target to gcPercent, unless the operator set
// one with GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// serveDebug serves net/http/pprof's profiles on addr, on a listener of
// their own so that they are never reachable through the public one. It
// turns the memory profiler on (main turns it off), so the heap and allocs
// profiles count what was allocated from the listener's start.
func serveDebug(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener: %w", err)
	}
	if runtime.MemProfileRate == 0 {
		runtime.MemProfileRate = heapProfileRate
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("debug profiles listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// webhookWorker is the outbox worker of the instance.
func (in *instance) webhookWorker() *webhook.Worker {
	return webhook.New(in.db, in.db, in.sealer, webhook.Options{
		Logger:       in.log,
		Audit:        in.db,
		AllowPrivate: in.cfg.Webhooks.AllowPrivate,
	})
}

// redactDSN hides a PostgreSQL URL's password in logs.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			userinfo := dsn[i+3 : at]
			if u, _, ok := strings.Cut(userinfo, ":"); ok {
				return dsn[:i+3] + u + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}

func migrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (serve also applies them at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			db, err := store.Open(cmd.Context(), cfg.Database)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(cmd.Context()); err != nil {
				return err
			}
			if e.json {
				return printJSON(e.stdout, map[string]string{"status": "migrated", "database": redactDSN(cfg.Database)})
			}
			_, err = fmt.Fprintln(e.stdout, "migrated", redactDSN(cfg.Database))
			return err
		},
	}
}
