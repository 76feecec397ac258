package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"rulescape/core/train"
	"rulescape/pipelines"
)

// trainParams is every parameter of `rulescape train`: the setup
// parameters shared with campaign files (pipelines.Params) plus the seeds
// and workers of one run. The yaml name of a field is its config-file key;
// its flag is the key with '_' replaced by '-' (task_params ↔
// --task-params). Values are layered: preset, then config file, then the
// flags the user actually set.
type trainParams struct {
	pipelines.Params `yaml:",inline"`

	Seeds   string `yaml:"seeds"`   // e.g. 1-8, 1,3,5, 1-4,10
	Workers int    `yaml:"workers"` // seeds trained in parallel (0 = all cores)
}

const presetDefault = pipelines.PresetDefault

// defaultTrials is the preset number of learning trials per seed.
const defaultTrials = pipelines.DefaultTrials

// presetParams returns the values of a preset, with one seed and all cores.
func presetParams(name string) (trainParams, error) {
	p, err := pipelines.Preset(name)
	if err != nil {
		return trainParams{}, err
	}
	return trainParams{Params: p, Seeds: "1", Workers: 0}, nil
}

// paramFields maps each config key to its field index path in trainParams.
var paramFields = func() map[string][]int {
	m := map[string][]int{}
	t := reflect.TypeFor[trainParams]()
	for _, f := range reflect.VisibleFields(t) {
		if key := f.Tag.Get("yaml"); key != "" && !f.Anonymous {
			m[key] = f.Index
		}
	}
	return m
}()

// paramKeys lists the config keys in field order.
func paramKeys() []string { return append(pipelines.ParamKeys(), "seeds", "workers") }

func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }
func keyName(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// resolved is the outcome of layering preset, config file and flags.
type resolved struct {
	trainParams
	ConfigFile string
	config     *pipelines.SetupFile
	source     map[string]string // key → "flag", "config" or "preset"
}

// ref names where a parameter's value came from, for error messages.
func (r *resolved) ref(key string) string {
	switch r.source[key] {
	case "flag":
		return "--" + flagName(key)
	case "config":
		return r.config.Ref(key)
	default:
		return fmt.Sprintf("%s (preset %s)", key, r.Preset)
	}
}

// Ref implements pipelines.Source.
func (r *resolved) Ref(key string) string { return r.ref(key) }

// Name implements pipelines.Source: fixes name the flag.
func (r *resolved) Name(key string) string { return "--" + flagName(key) }

// Explicit implements pipelines.Source: a value is explicit when a config
// file or a flag set it.
func (r *resolved) Explicit(key string) bool { return r.source[key] != "" }

// value formats a parameter's current value.
func (r *resolved) value(key string) string {
	if r.Params.Field(key).IsValid() {
		return r.Params.Format(key)
	}
	return fmt.Sprint(reflect.ValueOf(r.trainParams).FieldByIndex(paramFields[key]).Interface())
}

// bad returns "<where> = <value> <what> — <fix>".
func (r *resolved) bad(key, what, fix string) error {
	return fmt.Errorf("%s = %s %s — %s", r.ref(key), r.value(key), what, fix)
}

// resolveParams layers the preset, the config file (if any, read by
// pipelines.ParseSetup, the campaign parser's decoder) and the flags that
// were set. flagVals holds the parsed flag values and changed names the
// flags the user set (by config key).
func resolveParams(configPath string, flagVals *trainParams, changed map[string]bool) (*resolved, error) {
	var (
		cfg *pipelines.SetupFile
		run struct {
			Seeds   string `yaml:"seeds"`
			Workers int    `yaml:"workers"`
		}
	)
	if configPath != "" {
		data, err := os.ReadFile(configPath)
		if err != nil {
			return nil, fmt.Errorf("config file: %w — check the path given to --config", err)
		}
		if cfg, err = pipelines.ParseSetup(configPath, data, &run); err != nil {
			return nil, err
		}
	}
	preset := presetDefault
	switch {
	case changed["preset"]:
		preset = flagVals.Preset
	case cfg != nil && cfg.Preset != "":
		preset = cfg.Preset
	}
	base, err := presetParams(preset)
	if err != nil {
		return nil, fmt.Errorf("--preset: %w", err)
	}
	r := &resolved{trainParams: base, ConfigFile: configPath, config: cfg, source: map[string]string{}}
	if cfg != nil {
		if err := cfg.Apply(&r.Params); err != nil {
			return nil, err
		}
		if slices.Contains(cfg.Keys, "seeds") {
			r.Seeds = run.Seeds
		}
		if slices.Contains(cfg.Keys, "workers") {
			r.Workers = run.Workers
		}
		if err := r.layer(cfg.Keys, "config"); err != nil {
			return nil, err
		}
	}
	dst := reflect.ValueOf(&r.trainParams).Elem()
	src := reflect.ValueOf(flagVals).Elem()
	var flagKeys []string
	for _, key := range paramKeys() {
		if !changed[key] {
			continue
		}
		flagKeys = append(flagKeys, key)
		i := paramFields[key]
		if key == "task_params" {
			r.TaskParams = r.TaskParams.Merged(flagVals.TaskParams)
			continue
		}
		dst.FieldByIndex(i).Set(src.FieldByIndex(i))
	}
	r.Preset = preset
	if err := r.layer(flagKeys, "flag"); err != nil {
		return nil, err
	}
	return r, nil
}

// layer records the source of keys set by one layer and makes rule and
// theta replace each other: the layer that names one clears the other.
func (r *resolved) layer(keys []string, source string) error {
	set := map[string]bool{}
	for _, k := range keys {
		set[k] = true
		r.source[k] = source
	}
	switch {
	case set["rule"] && set["theta"]: // a config file with both is a ParseSetup error
		return errors.New("--rule and --theta both given — use --rule for a named rule or --theta for an explicit matrix, not both")
	case set["rule"]:
		r.Theta = nil
	case set["theta"]:
		r.Rule = ""
	}
	return nil
}

// builtSetup is a validated training setup and the names it reports.
type builtSetup struct {
	Setup    *train.Setup
	Seeds    []uint64
	RuleName string // the named rule, or "custom" for an explicit theta
}

// build validates every parameter, naming the flag or config key at fault
// and how to fix it, and assembles the training setup.
func (r *resolved) build() (*builtSetup, error) {
	b, err := r.Params.Build(r)
	if err != nil {
		return nil, err
	}
	if r.Workers < 0 {
		return nil, r.bad("workers", "is negative", "use 0 for all cores or a positive number")
	}
	seeds, err := pipelines.ParseSeeds(r.Seeds)
	if err != nil {
		return nil, fmt.Errorf("%s = %q: %w", r.ref("seeds"), r.Seeds, err)
	}
	return &builtSetup{Setup: b.Setup, Seeds: seeds, RuleName: b.RuleName}, nil
}
