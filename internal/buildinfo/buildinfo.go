// Package buildinfo says which build of rulescape is running: what the Go
// toolchain stamped into the binary (module, VCS revision and time) and,
// for `go run` builds without a stamp, the git checkout it was built from.
package buildinfo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Info is the build of the running binary.
type Info struct {
	GoVersion     string `json:"go_version"`
	Module        string `json:"module,omitempty"`
	ModuleVersion string `json:"module_version,omitempty"`
	VCS           string `json:"vcs,omitempty"`
	Revision      string `json:"vcs_revision,omitempty"`
	Time          string `json:"vcs_time,omitempty"`
	Modified      bool   `json:"vcs_modified,omitempty"`
}

// Read returns the build information stamped into the binary (the Go
// version alone when there is none).
func Read() Info { return FromBuildInfo(debug.ReadBuildInfo()) }

// FromBuildInfo returns the Info of bi (ok as debug.ReadBuildInfo returns it).
func FromBuildInfo(bi *debug.BuildInfo, ok bool) Info {
	v := Info{GoVersion: runtime.Version()}
	if !ok || bi == nil {
		return v
	}
	v.GoVersion = bi.GoVersion
	v.Module, v.ModuleVersion = bi.Main.Path, bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs":
			v.VCS = s.Value
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// Revision returns the VCS revision stamped into the binary or, when it
// has none (`go run`, or a build with -buildvcs=false), that of the
// rulescape checkout the process runs in, if any — a "+dirty" suffix marks
// uncommitted changes. "" when neither is known.
func Revision() string {
	if v := Read(); v.Revision != "" {
		if v.Modified {
			return v.Revision + "+dirty"
		}
		return v.Revision
	}
	return checkoutRevision()
}

// checkoutRevision asks git for the commit of the working directory's
// checkout when it is this module's (its go.mod declares module
// rulescape): what `go run ./cmd/rulescape` was built from.
func checkoutRevision() string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	git := func(args ...string) (string, bool) {
		out, err := exec.CommandContext(ctx, "git", args...).Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	top, ok := git("rev-parse", "--show-toplevel")
	if !ok {
		return ""
	}
	mod, err := os.ReadFile(filepath.Join(top, "go.mod"))
	if err != nil || !strings.HasPrefix(string(mod), "module rulescape\n") {
		return ""
	}
	rev, ok := git("rev-parse", "HEAD")
	if !ok || rev == "" {
		return ""
	}
	if st, ok := git("status", "--porcelain", "--untracked-files=no"); ok && st != "" {
		rev += "+dirty"
	}
	return rev
}
