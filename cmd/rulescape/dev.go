package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"rulescape/internal/devstack"
)

func init() { register(newDevCmd) }

var devLong = help("dev.long")

var devExample = help("dev.example")

// devFlags holds the flags of `rulescape dev`.
type devFlags struct {
	home     string
	ui       bool
	postgres string
}

// devRecord is the JSON line of `rulescape dev -o json`.
type devRecord struct {
	TemporalAddress string            `json:"temporal_address"`
	Namespace       string            `json:"namespace"`
	UI              string            `json:"ui"`
	S3Endpoint      string            `json:"s3_endpoint"`
	S3Bucket        string            `json:"s3_bucket"`
	Home            string            `json:"home"`
	Attached        bool              `json:"attached"`
	OwnerPID        int               `json:"owner_pid"`
	Env             map[string]string `json:"env"`
}

// newDevCmd builds `rulescape dev`.
func newDevCmd(a *app) *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:     "dev",
		Short:   "Run the embedded Temporal server and S3 gateway until interrupted",
		Long:    devLong,
		Example: devExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), a, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.home, "home", "", "state directory (default $RULESCAPE_HOME or ~/.rulescape)")
	fs.BoolVar(&f.ui, "ui", true, "also serve the Temporal Web UI")
	fs.StringVar(&f.postgres, "postgres", "", "keep Temporal's state in this PostgreSQL server, postgres://USER:PASSWORD@HOST:PORT[/DATABASE] (default $"+devstack.EnvTemporalPostgres+", else SQLite in the state directory)")
	return cmd
}

func runDev(ctx context.Context, a *app, f devFlags) error {
	t0 := time.Now()
	st, err := devstack.Start(ctx, devstack.Options{Home: f.home, UI: f.ui, Postgres: f.postgres, Logger: a.log, AutoInstall: true, InstallLog: a.stderr})
	if err != nil {
		return err
	}
	if err := printStack(a.printer(), st, time.Since(t0)); err != nil {
		_ = st.Stop()
		return err
	}
	if st.Attached {
		return st.Stop() // releases the lease; the owner keeps the stack
	}
	select {
	case <-ctx.Done():
		// Processes attached to the stack (a `rulescape run` in another
		// shell) keep it up until they finish, unless Ctrl-C comes again.
		next, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		a.log.Info("stopping the embedded stack")
		if err := st.StopWhenUnused(next, func(n int) { a.waitingForUsers(n, st.Home) }); err != nil {
			return err
		}
		a.note("rulescape dev: stopped\n")
		return nil
	case <-st.Done():
		// The gateway or the Temporal server kept failing after restarts
		// (one line says why).
		failure := st.Err()
		_ = st.Stop()
		return failure
	}
}

// printStack writes the stack's addresses as text or one JSON line.
func printStack(p *printer, st *devstack.Stack, took time.Duration) error {
	env := st.Env()
	rec := devRecord{TemporalAddress: st.TemporalAddress, Namespace: st.Namespace, UI: st.UIAddress,
		S3Endpoint: st.S3Endpoint, S3Bucket: st.S3Bucket, Home: st.Home, Attached: st.Attached,
		OwnerPID: st.OwnerPID, Env: map[string]string{}}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		rec.Env[k] = v
	}
	return p.Print(rec, func(w io.Writer) {
		if st.Attached {
			fmt.Fprintf(w, "Attached to the stack of process %d (state in %s); it keeps running after this command.\n", st.OwnerPID, st.Home)
		} else {
			fmt.Fprintf(w, "Embedded stack up in %s (state in %s).\n", took.Round(time.Millisecond), st.Home)
		}
		fmt.Fprintf(w, "  Temporal  %s  namespace %s\n", st.TemporalAddress, st.Namespace)
		if st.UIAddress != "" {
			fmt.Fprintf(w, "  Web UI    %s\n", st.UIAddress)
		}
		fmt.Fprintf(w, "  S3        http://%s  bucket %s\n", st.S3Endpoint, st.S3Bucket)
		fmt.Fprintf(w, "\nFor workers and clients in other shells:\n")
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(w, "  export %s=%s\n", k, shellQuote(v))
		}
		if !st.Attached {
			fmt.Fprintf(w, "\nCtrl-C stops the stack.\n")
		}
	})
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and . _ - : / @.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:/@", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
