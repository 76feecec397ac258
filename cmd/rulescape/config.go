package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"rulescape/pipelines"
)

// setupFlags are the flags of the commands that build a training setup
// (train, metaopt, metagrad --write-case): every parameter of
// pipelines.Params, --preset and --config, resolved by
// pipelines.SetupLayers (preset, then config file, then the flags given).
type setupFlags struct {
	params       pipelines.Params
	configPath   string
	progressMode string // --progress, of the commands that have it
	// preset adjusts the preset's values to the command's defaults (nil:
	// none), e.g. metaopt's horizon of 300 trials; trialsUsage is the
	// command's help of --trials ("" = train's).
	preset      func(*pipelines.Params)
	trialsUsage string
}

// runParams are the keys of `rulescape train` beyond the setup's.
type runParams struct {
	Seeds   string `yaml:"seeds"`   // e.g. 1-8, 1,3,5, 1-4,10
	Workers int    `yaml:"workers"` // seeds trained in parallel (0 = all cores)
}

// defaults returns the default preset's values as the command sees them.
func (sf *setupFlags) defaults() pipelines.Params {
	p, err := pipelines.Preset(pipelines.PresetDefault)
	if err != nil {
		panic(err) // the default preset always exists
	}
	if sf.preset != nil {
		sf.preset(&p)
	}
	return p
}

// resolve layers preset, config file and the flags given; extra (nil or a
// pointer to a struct of the command's own keys) gets the file's values
// of those keys not given as flags.
func (sf *setupFlags) resolve(fs *pflag.FlagSet, extra any) (*pipelines.ResolvedSetup, error) {
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[keyName(f.Name)] = true })
	return pipelines.SetupLayers{File: sf.configPath, Flags: &sf.params, Set: set, Extra: extra,
		Preset: func(name string) (pipelines.Params, error) {
			p, err := pipelines.Preset(name)
			if err == nil && sf.preset != nil {
				sf.preset(&p)
			}
			return p, err
		}}.Resolve()
}

// keyName is the config key of a flag: task_params for --task-params (and
// k for the hidden --K of metagrad).
func keyName(flag string) string { return strings.ReplaceAll(strings.ToLower(flag), "-", "_") }

// wantProgress decides whether to draw the progress bar on w.
func wantProgress(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		f, ok := w.(*os.File)
		return ok && term.IsTerminal(int(f.Fd())), nil
	}
	return false, fmt.Errorf("--progress = %q is not known — use auto, always or never", mode)
}

// addFlags registers --config, --progress (if progress) and the flag of
// every setup parameter (pipelines.ParamKeys: --preset, task, network,
// dynamics, perturbation, rule, learner, criterion, --trials), with the
// command's defaults.
func (sf *setupFlags) addFlags(f *pflag.FlagSet, progress bool) {
	sf.params = sf.defaults()
	f.StringVar(&sf.configPath, "config", "", "YAML `file` of parameters (keys = flag names in snake_case); flags override it")
	if progress {
		f.StringVar(&sf.progressMode, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	}
	for _, key := range pipelines.ParamKeys() {
		name, usage := pipelines.FlagName(key)[2:], pipelines.ParamUsage(key)
		if key == "trials" && sf.trialsUsage != "" {
			usage = sf.trialsUsage
		}
		switch v := sf.params.Field(key).Addr().Interface().(type) {
		case *string:
			f.StringVar(v, name, *v, usage)
		case *int:
			f.IntVar(v, name, *v, usage)
		case *float64:
			f.Float64Var(v, name, *v, usage)
		case pflag.Value:
			f.Var(v, name, usage)
		}
	}
}
