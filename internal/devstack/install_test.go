//go:build !nodevstack

package devstack

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutoInstallGateway runs the automatic install against a stand-in `go`
// tool (a shell script that records its arguments and writes a binary into
// $GOBIN), with no versitygw anywhere else: the gateway lands in Home/bin,
// and without AutoInstall the clear error is returned instead.
func TestAutoInstallGateway(t *testing.T) {
	fakeBin := t.TempDir()
	argsFile := filepath.Join(t.TempDir(), "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\nmkdir -p \"$GOBIN\"\nprintf '#!/bin/sh\\n' > \"$GOBIN/versitygw\"\nchmod +x \"$GOBIN/versitygw\"\n"
	if err := os.WriteFile(filepath.Join(fakeBin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fakeBin+string(os.PathListSeparator)+"/usr/bin"+string(os.PathListSeparator)+"/bin")
	t.Setenv(EnvVersitygw, "")
	empty := t.TempDir()
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)

	home := t.TempDir()
	opts := Options{Home: home, Logger: slog.New(slog.DiscardHandler)}
	if _, err := findOrInstallGateway(context.Background(), opts); !errors.Is(err, ErrVersitygwMissing) {
		t.Fatalf("without AutoInstall: %v, want ErrVersitygwMissing", err)
	}
	var log bytes.Buffer
	opts.AutoInstall, opts.InstallLog = true, &log
	bin, err := findOrInstallGateway(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "bin", "versitygw"); bin != want {
		t.Fatalf("installed at %q, want %q", bin, want)
	}
	args, _ := os.ReadFile(argsFile)
	if got := strings.TrimSpace(string(args)); got != "install github.com/versity/versitygw/cmd/versitygw@"+VersitygwVersion {
		t.Fatalf("go was called with %q", got)
	}
	if !strings.Contains(log.String(), "installing versitygw") || !strings.Contains(log.String(), "installed") {
		t.Fatalf("install log %q", log.String())
	}
	// A second start finds the installed binary without calling go again.
	os.Remove(argsFile)
	if b, err := findOrInstallGateway(context.Background(), opts); err != nil || b != bin {
		t.Fatalf("second lookup: %q, %v", b, err)
	}
	if _, err := os.Stat(argsFile); err == nil {
		t.Fatal("go install ran again although the gateway was installed")
	}
}
