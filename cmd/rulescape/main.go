// Command rulescape discovers, trains and analyses three-factor plasticity
// rules in recurrent networks. Run `rulescape help` for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"rulescape/internal/devstack"
	rsvc "rulescape/internal/services"
	"rulescape/stages"
)

// commandCtors holds the constructors of the subcommands; each command's file
// adds its own in an init function, so commands live in separate files.
var commandCtors []func(*app) *cobra.Command

func register(ctor func(*app) *cobra.Command) { commandCtors = append(commandCtors, ctor) }

// app holds what every command shares: output streams and global flags.
type app struct {
	stdout, stderr io.Writer
	logLevel       string
	logFormat      string
	output         string // text, json or jsonl: see printer
	address        string // --address: the Temporal server, over TEMPORAL_ADDRESS
	namespace      string // --namespace: the Temporal namespace, over TEMPORAL_NAMESPACE
	log            *slog.Logger
	// versions are the stage versions this process computes and
	// explains with (stages.Current() when nil); tests change one to
	// stand for a change to a stage's code.
	versions stages.Versions
	// slots is the number of activities a worker of this process runs at
	// once (`rulescape worker --slots`); 0 means one per core.
	slots int
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "rulescape",
		Short:         "Discover and characterise reward-gated plasticity rules in recurrent networks",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup()
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	pf.StringVarP(&a.output, "output", "o", "text", "output format: text, json or jsonl (json and jsonl: one JSON object per line)")
	pf.StringVar(&a.address, "address", "", "Temporal server host:port (overrides "+devstack.EnvTemporalAddr+"; unset: the embedded stack)")
	pf.StringVar(&a.namespace, "namespace", "", "Temporal namespace (overrides "+devstack.EnvTemporalNS+"; default \"default\")")
	for _, ctor := range commandCtors {
		root.AddCommand(ctor(a))
	}
	return root
}

func (a *app) setup() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q is not known — use debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return fmt.Errorf("--log-format %q is not known — use text or json", a.logFormat)
	}
	if !slices.Contains(outputFormats, a.output) {
		return fmt.Errorf("--output %q is not known — use text, json or jsonl", a.output)
	}
	if a.output == "jsonl" { // the same output: code that tests a.output == "json" needs no change
		a.output = "json"
	}
	return nil
}

// temporalOptions returns the Temporal client options of the environment
// and the flags (rsvc.ClientOptions).
func (a *app) temporalOptions() (client.Options, bool, error) {
	return rsvc.ClientOptions(a.serviceOptions())
}

// run executes the CLI with args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runApp(ctx, &app{stdout: stdout, stderr: stderr}, args)
}

// runApp runs the command line with a prepared app (tests set its stage
// versions) and returns the exit code.
func runApp(ctx context.Context, a *app, args []string) int {
	stderr := a.stderr
	root := newRoot(a)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		// One line, whatever the user typed: a flag name or value with a
		// line break is echoed escaped.
		msg := strings.TrimPrefix(err.Error(), "rulescape: ")
		msg = strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(msg)
		fmt.Fprintln(stderr, "rulescape: "+msg)
		return 1
	}
	return 0
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
