package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/bench"
)

// baselineCmd is `storekey bench-baseline`, hidden: what `storekey bench
// --baseline` starts and measures. It is net/http with the server settings
// of `storekey serve` and a handler that does nothing but answer, in a
// process of its own as the server is. It prints the address it listens on,
// then serves until it is stopped.
func baselineCmd(e *env) *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:    "bench-baseline",
		Short:  "Serve a bare net/http handler, the reference of storekey bench --baseline",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			// net/http with the timeouts and header bound Storekey's
			// server has: the yardstick the targets name.
			srv := &http.Server{
				Handler:           http.HandlerFunc(baselineAnswer),
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       30 * time.Second,
				WriteTimeout:      30 * time.Second,
				IdleTimeout:       120 * time.Second,
				MaxHeaderBytes:    32 << 10,
				ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelWarn),
			}
			ctx := cmd.Context()
			go func() {
				<-ctx.Done()
				_ = srv.Close()
			}()
			if _, err := fmt.Fprintln(e.stdout, ln.Addr().String()); err != nil {
				_ = ln.Close()
				return err
			}
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	return c
}

// baselineBody is about as long as the api scenario's answer (a store-bound
// token's view, 200 to 250 bytes).
var baselineBody = []byte(`{"data":{"store_id":"sto_xxxxxxxxxxxxxxxx","app_id":"app_xxxxxxxxxxxxxxxx",` +
	`"user_id":"usr_xxxxxxxxxxxxxxxx","grant_id":"gr_xxxxxxxxxxxxxxxx","scopes":["read_orders","read_products",` +
	`"write_products"],"expires_at":"2026-01-01T00:00:00.000000Z"}}` + "\n")

var baselineType = []string{"application/json"}

func baselineAnswer(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = baselineType
	_, _ = w.Write(baselineBody)
}

// runBaseline starts `storekey bench-baseline` from this executable, runs
// bench.Baseline against it with its process id for the CPU and memory
// figures, and stops it.
func runBaseline(ctx context.Context, e *env, o benchOptions) (*bench.Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	cmd := exec.Command(exe, "bench-baseline") //nolint:gosec // G204: this very executable, a fixed argument
	// Its stderr is read once it has exited, for the error: the bench's own
	// stderr is written meanwhile, and is no place for two writers.
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("baseline: start %s bench-baseline: %w", exe, err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if a == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("baseline: the bench-baseline process did not say where it listens: %s", strings.TrimSpace(stderr.String()))
	}
	return bench.Baseline(ctx, "http://"+a, bench.Options{
		Concurrency: o.concurrency, Warmup: o.warmup, Duration: o.duration, PID: cmd.Process.Pid, Rate: o.rate, Log: e.stderr,
	})
}
