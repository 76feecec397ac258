package pipelines

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// SetupFile is a parsed file of setup parameters (`rulescape train
// --config`): one key: value per line, the keys of Params (ParamKeys) and
// those of the caller's own struct. It is read by the campaign parser's
// decoder, so its errors are *ParseError naming the file, line and key, as
// a campaign file's are.
type SetupFile struct {
	d        *decoder
	settings layer
	lines    map[string]int
	// Preset is the preset the file names ("" if none).
	Preset string
	// Keys lists every key the file sets, in file order.
	Keys []string
}

// ParseSetup reads a setup file; name is the file name errors report. The
// keys of Params are checked (type, preset name, not both rule and theta)
// and kept for Apply; the other keys are decoded onto extra, a pointer to a
// struct whose yaml tags name them (nil: none). Any other key is an error
// suggesting the nearest valid one. An empty file sets nothing.
func ParseSetup(name string, data []byte, extra any) (*SetupFile, error) {
	d := &decoder{file: name}
	f := &SetupFile{d: d, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, d.syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil
	}
	if extra == nil {
		extra = &struct{}{}
	}
	top := doc.Content[0]
	if _, err := d.fields(top, "", "n: 200", extra, ParamKeys()...); err != nil {
		return nil, err
	}
	pairs, _ := d.mapping(top, "", "")
	for _, kv := range pairs {
		f.Keys = append(f.Keys, kv.key)
		f.lines[kv.key] = kv.k.Line
		if !contains(ParamKeys(), kv.key) {
			continue
		}
		var scratch Params
		if err := d.value(kv.v, kv.key, scratch.Field(kv.key).Addr().Interface()); err != nil {
			return nil, err
		}
		switch kv.key {
		case "preset":
			if _, err := Preset(scratch.Preset); err != nil {
				return nil, d.errf(kv.v, kv.key, "choose one of "+orList(PresetNames()), "%q is not a preset", scratch.Preset)
			}
			f.Preset = scratch.Preset
		case "rule", "theta":
			other := map[string]string{"rule": "theta", "theta": "rule"}[kv.key]
			if line, ok := f.lines[other]; ok {
				return nil, d.errf(kv.k, kv.key, "keep one: rule for a named rule, theta for an explicit matrix",
					"and %s (line %d) are both set", other, line)
			}
		}
		f.settings = append(f.settings, setting{kv.key, kv.key, kv.v})
	}
	return f, nil
}

// Apply sets the file's parameters in p; its task_params merge into p's.
func (f *SetupFile) Apply(p *Params) error {
	for _, s := range f.settings {
		if err := f.d.value(s.node, s.path, p.Field(s.key).Addr().Interface()); err != nil {
			return err
		}
	}
	return nil
}

// Ref names where the file sets key, "file:line: key", for messages.
func (f *SetupFile) Ref(key string) string {
	return fmt.Sprintf("%s:%d: %s", f.d.file, f.lines[key], key)
}
