package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// engineVersion is the version of the numerical engine (core/). It changes
// whenever results for the same parameters and seed may change, so that
// cached results computed by another engine version are not reused.
const engineVersion = "0.1.0"

func init() { register(newVersionCmd) }

// versionInfo is what `rulescape version` reports.
type versionInfo struct {
	EngineVersion string `json:"engine_version"`
	GoVersion     string `json:"go_version"`
	Module        string `json:"module,omitempty"`
	ModuleVersion string `json:"module_version,omitempty"`
	VCS           string `json:"vcs,omitempty"`
	Revision      string `json:"vcs_revision,omitempty"`
	Time          string `json:"vcs_time,omitempty"`
	Modified      bool   `json:"vcs_modified,omitempty"`
}

// buildVersion collects the engine version and what the Go toolchain
// stamped into the binary.
func buildVersion(bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{EngineVersion: engineVersion, GoVersion: runtime.Version()}
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

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the engine version and how the binary was built",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := buildVersion(debug.ReadBuildInfo())
			return a.printer().Print(v, v.text)
		},
	}
}

// text writes the version for people.
func (v versionInfo) text(w io.Writer) {
	fmt.Fprintf(w, "rulescape engine %s\n", v.EngineVersion)
	fmt.Fprintf(w, "go         %s\n", v.GoVersion)
	if v.Module != "" {
		fmt.Fprintf(w, "module     %s %s\n", v.Module, v.ModuleVersion)
	}
	switch {
	case v.Revision == "":
		fmt.Fprintln(w, "commit     unknown (built without VCS stamping, e.g. -buildvcs=false or outside a git checkout)")
	case v.Modified:
		fmt.Fprintf(w, "commit     %s %s (with uncommitted changes)\n", v.Revision, v.Time)
	default:
		fmt.Fprintf(w, "commit     %s %s\n", v.Revision, v.Time)
	}
}
