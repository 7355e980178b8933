// Command storekey is the Storekey OAuth 2.0 authorization server and its
// administration tool.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	quietMemProfile(os.Getenv("GODEBUG"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storekey:", err)
		os.Exit(1)
	}
}

// heapProfileRate is Go's default memory profiling rate (one sample per
// 512 KiB allocated), which the debug listener restores.
const heapProfileRate = 512 << 10

// quietMemProfile turns Go's memory profiler off unless GODEBUG sets its
// rate. Left on, it samples allocations into a hash table of 1.4 MB whose
// pages the hot paths' many call stacks make resident: a megabyte of a
// server that is meant to stay under 40 MB, for profiles nobody takes. The
// debug listener turns it back on (serveDebug).
func quietMemProfile(godebug string) {
	if !strings.Contains(godebug, "memprofilerate=") {
		runtime.MemProfileRate = 0
	}
}

// env is what every command shares: where it writes and how it reads the
// configuration.
type env struct {
	getenv     func(string) string
	stdout     io.Writer
	stderr     io.Writer
	stdin      io.Reader
	configPath string
	database   string
	json       bool
}

func (e *env) config() (Config, error) {
	cfg, err := loadConfig(e.configPath, e.getenv)
	if err != nil {
		return cfg, err
	}
	if e.database != "" {
		cfg.Database = e.database
	}
	return cfg, nil
}

// run is main without the process: it parses args and runs the command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr, stdin: os.Stdin}
	root := &cobra.Command{
		Use:           "storekey",
		Short:         "Storekey: the OAuth 2.0 authorization server for commerce platforms",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	pf := root.PersistentFlags()
	pf.StringVar(&e.configPath, "config", getenv("STOREKEY_CONFIG"), "YAML configuration file (env STOREKEY_CONFIG)")
	pf.StringVar(&e.database, "database", "", "SQLite file or postgres:// URL (overrides the config and STOREKEY_DATABASE)")
	root.AddCommand(
		serveCmd(e),
		demoCmd(e),
		migrateCmd(e),
		appCmd(e),
		userCmd(e),
		storeCmd(e),
		tokenCmd(e),
		benchCmd(e),
		baselineCmd(e),
		auditCmd(e),
		pruneCmd(e),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if e.json {
					return printJSON(e.stdout, map[string]string{"version": version})
				}
				_, err := fmt.Fprintln(e.stdout, "storekey", version)
				return err
			},
		},
	)
	for _, c := range root.Commands() {
		addJSONFlag(c, e)
	}
	return root.ExecuteContext(ctx)
}

// addJSONFlag gives every command that prints records a --json flag.
func addJSONFlag(c *cobra.Command, e *env) {
	if len(c.Commands()) > 0 {
		for _, sub := range c.Commands() {
			addJSONFlag(sub, e)
		}
		return
	}
	c.Flags().BoolVar(&e.json, "json", false, "print JSON for scripts")
}
