package pipelines

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
)

// SetupLayers resolves the setup of a command-line run from three layers,
// each overriding the one before: a preset, a setup file (read by
// ParseSetup, so its errors are those of a campaign file) and the flags the
// user actually gave. `rulescape train`, `metaopt` and `metagrad
// --write-case` resolve their setups with it; the resolved Params build
// with the same Build a campaign's units use.
type SetupLayers struct {
	// File is the setup file ("" for none).
	File string
	// Flags holds the value of every parameter flag; Set names, by key,
	// the flags given on the command line: only those override.
	Flags *Params
	Set   map[string]bool
	// Extra, if not nil, points to a flat struct of the caller's own keys
	// (yaml tags, e.g. seeds and workers). It holds their flag values on
	// entry (the flags' defaults for those not given); Resolve then sets
	// the ones the file sets and no given flag overrides.
	Extra any
	// Preset returns a preset's values (nil: the function Preset); a
	// command whose defaults differ from the preset's adjusts them here.
	Preset func(name string) (Params, error)
}

// ResolvedSetup is a setup resolved by SetupLayers: the values, and where
// each came from for error messages (it is the Source Build reports with).
type ResolvedSetup struct {
	Params
	File   string            // the setup file, "" for none
	file   *SetupFile        // nil without a file
	source map[string]string // key → "flag" or "file"; absent: the preset
}

// FlagName is the command-line flag of a key: --task-params for task_params.
func FlagName(key string) string { return "--" + strings.ReplaceAll(key, "_", "-") }

// Resolve layers the preset, the file and the given flags. The preset is
// the one --preset gives, else the file's, else PresetDefault. A layer
// that sets rule clears theta from the layers below and vice versa;
// setting both in one layer is an error.
func (l SetupLayers) Resolve() (*ResolvedSetup, error) {
	r := &ResolvedSetup{File: l.File, source: map[string]string{}}
	extra := reflect.Value{}
	if l.Extra != nil {
		extra = reflect.ValueOf(l.Extra).Elem()
	}
	var fileExtra reflect.Value
	if l.File != "" {
		data, err := os.ReadFile(l.File)
		if err != nil {
			return nil, fmt.Errorf("config file: %w — check the path given to --config", err)
		}
		var scratch any
		if extra.IsValid() {
			fileExtra = reflect.New(extra.Type())
			scratch = fileExtra.Interface()
		}
		if r.file, err = ParseSetup(l.File, data, scratch); err != nil {
			return nil, err
		}
	}
	preset := PresetDefault
	switch {
	case l.Set["preset"]:
		preset = l.Flags.Preset
	case r.file != nil && r.file.Preset != "":
		preset = r.file.Preset
	}
	presetOf := l.Preset
	if presetOf == nil {
		presetOf = Preset
	}
	var err error
	if r.Params, err = presetOf(preset); err != nil {
		return nil, fmt.Errorf("--preset: %w", err)
	}
	if r.file != nil {
		if err := r.file.Apply(&r.Params); err != nil {
			return nil, err
		}
		for _, key := range r.file.Keys {
			if i := extraField(extra, key); i >= 0 && !l.Set[key] {
				extra.Field(i).Set(fileExtra.Elem().Field(i))
			}
		}
		if err := r.layer(r.file.Keys, "file"); err != nil {
			return nil, err
		}
	}
	var flagKeys []string
	for key := range l.Set {
		flagKeys = append(flagKeys, key)
		switch {
		case key == "task_params":
			r.TaskParams = r.TaskParams.Merged(l.Flags.TaskParams)
		case key != "preset" && r.Params.Field(key).IsValid():
			r.Params.Field(key).Set(l.Flags.Field(key))
		}
	}
	r.Preset = preset
	return r, r.layer(flagKeys, "flag")
}

// extraField returns the index of extra's field tagged key, or −1.
func extraField(extra reflect.Value, key string) int {
	if !extra.IsValid() {
		return -1
	}
	for i := range extra.NumField() {
		if tag, _, _ := strings.Cut(extra.Type().Field(i).Tag.Get("yaml"), ","); tag == key {
			return i
		}
	}
	return -1
}

// layer records the source of the keys one layer sets and makes rule and
// theta replace each other.
func (r *ResolvedSetup) layer(keys []string, source string) error {
	set := map[string]bool{}
	for _, k := range keys {
		set[k] = true
		r.source[k] = source
	}
	switch {
	case set["rule"] && set["theta"]: // a file with both is a ParseSetup error
		return errors.New("--rule and --theta both given — use --rule for a named rule or --theta for an explicit matrix, not both")
	case set["rule"]:
		r.Theta = nil
	case set["theta"]:
		r.Rule = ""
	}
	return nil
}

// Ref implements Source: "--eta", "c.yaml:4: eta" or "eta (preset default)".
func (r *ResolvedSetup) Ref(key string) string {
	switch r.source[key] {
	case "flag":
		return FlagName(key)
	case "file":
		return r.file.Ref(key)
	}
	return fmt.Sprintf("%s (preset %s)", key, r.Preset)
}

// Explicit implements Source: a value is explicit when the file or a flag
// set it.
func (r *ResolvedSetup) Explicit(key string) bool { return r.source[key] != "" }

// Name implements Source: fixes name the flag.
func (r *ResolvedSetup) Name(key string) string { return FlagName(key) }

// Build validates the parameters, naming the flag or file line at fault,
// and assembles the training setup (Params.Build).
func (r *ResolvedSetup) Build() (*Built, error) { return r.Params.Build(r) }
