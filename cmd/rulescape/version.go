package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/internal/buildinfo"
	"rulescape/stages"
)

// engineVersion is the release of the engine as a whole, recorded in
// manifests. Caching does not use it: each stage's own engine version
// (stages.Current) enters its content keys, so that a change to one
// stage's numbers invalidates that stage and what reads it, not the rest.
const engineVersion = "0.2.0"

func init() { register(newVersionCmd) }

// versionInfo is what `rulescape version` reports.
type versionInfo struct {
	EngineVersion string            `json:"engine_version"`
	StageVersions map[string]string `json:"stage_versions"` // the engine version of each stage, as it enters content keys
	buildinfo.Info
}

// buildVersion collects the engine and stage versions and what the Go
// toolchain stamped into the binary.
func buildVersion() versionInfo {
	v := versionInfo{EngineVersion: engineVersion, StageVersions: map[string]string{}, Info: buildinfo.Read()}
	for s, ver := range stages.Current() {
		v.StageVersions[string(s)] = ver
	}
	return v
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the engine version and how the binary was built",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := buildVersion()
			return a.printer().Print(v, v.text)
		},
	}
}

// text writes the version for people.
func (v versionInfo) text(w io.Writer) {
	fmt.Fprintf(w, "rulescape engine %s\n", v.EngineVersion)
	names := make([]string, 0, len(v.StageVersions))
	for _, ver := range v.StageVersions {
		names = append(names, ver)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "stages     %s\n", strings.Join(names, " "))
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
