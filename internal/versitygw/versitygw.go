// Package versitygw finds the pinned versitygw S3 gateway binary that the
// embedded stack (internal/devstack) and the S3 tests (internal/s3test) run
// as a subprocess. It has no dependencies, so test helpers can use it
// without compiling the embedded Temporal server.
package versitygw

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Pinned version and how to install it.
const (
	Version = "v1.8.0"
	Install = "go install github.com/versity/versitygw/cmd/versitygw@" + Version
	// Env names an explicit binary, overriding the search.
	Env = "RULESCAPE_VERSITYGW"
)

// ErrMissing is returned by Find when no binary is found.
var ErrMissing = errors.New("versitygw not found")

// Find returns the versitygw binary: $RULESCAPE_VERSITYGW, else versitygw on
// PATH, else the directories `go install` writes to ($GOBIN, each
// $GOPATH/bin, `go env GOPATH`/bin, ~/go/bin). A missing $RULESCAPE_VERSITYGW
// file is an error naming it; no binary at all wraps ErrMissing.
func Find() (string, error) {
	if p := os.Getenv(Env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", Env, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", ErrMissing
}

// goBinDirs lists where `go install` puts binaries: $GOBIN, each
// $GOPATH/bin, and `go env GOPATH`/bin when the go tool is at hand.
func goBinDirs() []string {
	var dirs []string
	if b := os.Getenv("GOBIN"); b != "" {
		dirs = append(dirs, b)
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	if gopath == "" {
		if h, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(h, "go")
		}
	}
	for _, p := range filepath.SplitList(gopath) {
		if p != "" {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	return dirs
}
