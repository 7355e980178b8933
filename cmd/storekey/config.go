package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/storekey/storekey/internal/oauth"
)

// Config is Storekey's configuration: a YAML file (--config) whose every key
// can be overridden by a STOREKEY_* environment variable named after its
// path (database → STOREKEY_DATABASE, rate_limit.token_per_second →
// STOREKEY_RATE_LIMIT_TOKEN_PER_SECOND). Lists in the environment are
// comma-separated. The README documents every key with its default.
type Config struct {
	Listen   string `yaml:"listen"`   // address to listen on
	Issuer   string `yaml:"issuer"`   // public base URL; default http://<listen>
	Database string `yaml:"database"` // SQLite file path, or postgres:// URL
	LogLevel string `yaml:"log_level"`
	LogJSON  bool   `yaml:"log_json"`
	// AccessLog logs one line per request (path only, never the query).
	AccessLog bool `yaml:"access_log"`
	// DebugListen, when set, serves Go's runtime profiles (net/http/pprof)
	// on this address, apart from the public listener. Keep it on loopback.
	DebugListen string `yaml:"debug_listen"`
	// Keys are the server secrets token values derive from (at least 32
	// bytes each); the last is current. Empty: one is generated and kept in
	// the database, shared by every process on it.
	Keys []string `yaml:"keys"`

	CodeTTL            Duration `yaml:"code_ttl"`
	AccessTTL          Duration `yaml:"access_ttl"`
	RefreshTTL         Duration `yaml:"refresh_ttl"`
	RefreshRetryWindow Duration `yaml:"refresh_retry_window"`
	AllowPlainPKCE     bool     `yaml:"allow_plain_pkce"`
	SkipKnownConsent   bool     `yaml:"skip_known_consent"`
	ResourceServers    []string `yaml:"resource_servers"`
	SessionTTL         Duration `yaml:"session_ttl"`
	SecretGrace        Duration `yaml:"secret_grace"`

	RateLimit RateLimit `yaml:"rate_limit"`
	Login     Login     `yaml:"login"`

	Scopes []oauth.ScopeInfo `yaml:"scopes"`
	// Profiles enables platforms' dialects beside the standard one:
	// hike, storehippo, hubrise, hiboutik, hypersku.
	Profiles []string `yaml:"profiles"`

	Webhooks Webhooks `yaml:"webhooks"`

	Prune Prune `yaml:"prune"`
}

// Prune configures the deletion of expired codes, tokens, sessions, login
// throttle counters and revocation log entries (oauth.Service.Prune).
type Prune struct {
	// Interval between runs in this process (default 10m); 0 turns the
	// pruner off, as in all but one process of a fleet, or when `storekey
	// prune` runs from cron instead.
	Interval Duration `yaml:"interval"`
	// Retention is how long expired rows are kept (default 24h); it must
	// be at least the login window.
	Retention Duration `yaml:"retention"`
}

// Webhooks configures the delivery of partners' webhooks.
type Webhooks struct {
	// Deliver runs the outbox worker in this process (default true); turn
	// it off to leave delivery to other processes.
	Deliver bool `yaml:"deliver"`
	// AllowPrivate lets webhooks go to loopback and private addresses:
	// development only (it opens the server's network to partners' URLs).
	AllowPrivate bool `yaml:"allow_private"`
}

// RateLimit bounds the machine endpoints per client and address.
type RateLimit struct {
	TokenPerSecond float64 `yaml:"token_per_second"` // 0 disables
	TokenBurst     int     `yaml:"token_burst"`
}

// Login bounds failed sign-ins per email and per address.
type Login struct {
	MaxFailures int      `yaml:"max_failures"`
	Window      Duration `yaml:"window"`
}

// Duration is a time.Duration written as "90s", "1h", or "never".
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error { return d.set(n.Value) }

func (d *Duration) set(s string) error {
	if s == "never" {
		*d = Duration(oauth.NoExpiry)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use 90s, 15m, 1h or never)", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) String() string {
	if time.Duration(d) == oauth.NoExpiry {
		return "never"
	}
	return time.Duration(d).String()
}

// defaultConfig is the configuration with no file and no environment.
func defaultConfig() Config {
	return Config{
		Listen:             "127.0.0.1:8080",
		Database:           "./storekey-data/storekey.db",
		LogLevel:           "info",
		AccessLog:          true,
		CodeTTL:            Duration(10 * time.Minute),
		AccessTTL:          Duration(time.Hour),
		RefreshTTL:         Duration(90 * 24 * time.Hour),
		RefreshRetryWindow: Duration(60 * time.Second),
		SkipKnownConsent:   true,
		SessionTTL:         Duration(12 * time.Hour),
		SecretGrace:        Duration(24 * time.Hour),
		RateLimit:          RateLimit{TokenPerSecond: 50, TokenBurst: 100},
		Login:              Login{MaxFailures: 10, Window: Duration(15 * time.Minute)},
		Webhooks:           Webhooks{Deliver: true},
		Prune:              Prune{Interval: Duration(10 * time.Minute), Retention: Duration(oauth.DefaultPruneRetention)},
	}
}

// loadConfig reads the defaults, then the file (if path is not empty), then
// the environment.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	if path != "" {
		b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the config file
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // an empty file is fine
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), "STOREKEY", getenv); err != nil {
		return cfg, err
	}
	if cfg.Prune.Interval < 0 || cfg.Prune.Retention <= 0 || cfg.Prune.Retention < cfg.Login.Window {
		return cfg, fmt.Errorf("config: prune: interval must be 0 (off) or positive, and retention at least the login window (%s)", cfg.Login.Window)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "http://" + cfg.Listen
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	return cfg, nil
}

// applyEnv overrides the fields of v from environment variables named
// prefix_FIELD for each yaml key, recursing into nested structs.
func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnv(fv, name, getenv); err != nil {
				return err
			}
			continue
		}
		raw := getenv(name)
		if raw == "" {
			continue
		}
		if err := setField(fv, raw); err != nil {
			return fmt.Errorf("config: %s: %w", name, err)
		}
	}
	return nil
}

func setField(fv reflect.Value, raw string) error {
	if d, ok := fv.Addr().Interface().(*Duration); ok {
		return d.set(raw)
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("invalid boolean %q", raw)
		}
		fv.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("invalid integer %q", raw)
		}
		fv.SetInt(int64(n))
	case reflect.Float64:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("invalid number %q", raw)
		}
		fv.SetFloat(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return errors.New("can only be set in the config file")
		}
		var parts []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		fv.Set(reflect.ValueOf(parts))
	default:
		return errors.New("can only be set in the config file")
	}
	return nil
}

// oauthConfig is the protocol part of the configuration.
func (c Config) oauthConfig() oauth.Config {
	oc := oauth.Config{
		Issuer:             c.Issuer,
		CodeTTL:            time.Duration(c.CodeTTL),
		AccessTTL:          time.Duration(c.AccessTTL),
		RefreshTTL:         time.Duration(c.RefreshTTL),
		RefreshRetryWindow: time.Duration(c.RefreshRetryWindow),
		AllowPlainPKCE:     c.AllowPlainPKCE,
		SkipKnownConsent:   c.SkipKnownConsent,
		ResourceServers:    c.ResourceServers,
	}
	if len(c.Scopes) > 0 {
		oc.Scopes = oauth.ScopeCatalog(c.Scopes)
	}
	return oc
}
