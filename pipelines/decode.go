package pipelines

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder turns YAML nodes into values, reporting every problem as a
// *ParseError at the node's position.
type decoder struct{ file string }

// errAt returns a ParseError at node n (nil: at the top of the file).
func (d *decoder) errAt(n *yaml.Node, field string, err error, fix string) *ParseError {
	e := &ParseError{File: d.file, Field: field, Err: err, Fix: fix}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// errf is errAt with a formatted message.
func (d *decoder) errf(n *yaml.Node, field, fix, format string, args ...any) *ParseError {
	return d.errAt(n, field, fmt.Errorf(format, args...), fix)
}

// pair is one key: value of a mapping.
type pair struct {
	key  string
	k, v *yaml.Node
}

// resolve follows an alias.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// mapping returns the pairs of the mapping n in order, rejecting other
// kinds and duplicate keys. YAML merge keys (<<: *anchor) add the pairs of
// the merged mappings whose keys n does not give itself.
func (d *decoder) mapping(n *yaml.Node, path, example string) ([]pair, error) {
	return d.mappingDepth(n, path, example, 0)
}

func (d *decoder) mappingDepth(n *yaml.Node, path, example string, depth int) ([]pair, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, path, "write key: value pairs, e.g. "+example, "is %s, not a mapping", kindName(n))
	}
	if depth > 10 {
		return nil, d.errf(n, path, "merge fewer mappings into each other", "nests merge keys (<<) too deeply")
	}
	seen := map[string]*yaml.Node{}
	var out []pair
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, d.errf(k, path, "keys are plain names, e.g. "+example, "has a key that is %s", kindName(k))
		}
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, ok := seen[k.Value]; ok {
			return nil, d.errf(k, join(path, k.Value), "keep only one of them",
				"is given twice (first on line %d)", first.Line)
		}
		seen[k.Value] = k
		out = append(out, pair{k.Value, k, v})
	}
	for _, m := range merges {
		srcs := []*yaml.Node{m}
		if r := resolve(m); r.Kind == yaml.SequenceNode {
			srcs = r.Content
		}
		for _, src := range srcs {
			pairs, err := d.mappingDepth(src, path, "<<: *defaults", depth+1)
			if err != nil {
				return nil, err
			}
			for _, p := range pairs {
				if _, ok := seen[p.key]; !ok {
					seen[p.key] = p.k
					out = append(out, p)
				}
			}
		}
	}
	return out, nil
}

// sequence returns the items of the sequence n.
func (d *decoder) sequence(n *yaml.Node, path, example string) ([]*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, path, "write a list, one \"- item\" per line, e.g. "+example, "is %s, not a list", kindName(n))
	}
	return n.Content, nil
}

// unknown reports a key that is none of valid, suggesting the nearest.
func (d *decoder) unknown(p pair, path string, valid []string) error {
	fix := "valid keys here: " + strings.Join(valid, ", ")
	if near := Nearest(p.key, valid); near != "" {
		fix = fmt.Sprintf("did you mean %q? (%s)", near, fix)
	}
	return d.errf(p.k, join(path, p.key), fix, "is not a known key")
}

// fields decodes the mapping n onto the struct *dst by yaml tag. Keys in
// extra are left to the caller. It returns the value node of every key.
func (d *decoder) fields(n *yaml.Node, path, example string, dst any, extra ...string) (map[string]*yaml.Node, error) {
	pairs, err := d.mapping(n, path, example)
	if err != nil {
		return nil, err
	}
	sv := reflect.ValueOf(dst).Elem()
	idx := map[string]int{}
	var valid []string
	for i := range sv.NumField() {
		tag, _, _ := strings.Cut(sv.Type().Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			idx[tag] = i
			valid = append(valid, tag)
		}
	}
	valid = append(valid, extra...)
	got := map[string]*yaml.Node{}
	for _, p := range pairs {
		got[p.key] = p.v
		if contains(extra, p.key) {
			continue
		}
		i, ok := idx[p.key]
		if !ok {
			return nil, d.unknown(p, path, valid)
		}
		if err := d.value(p.v, join(path, p.key), sv.Field(i).Addr().Interface()); err != nil {
			return nil, err
		}
	}
	return got, nil
}

var yamlLineRE = regexp.MustCompile(`^(yaml: )?(unmarshal errors:\s*)?(line \d+: )?`)

// value decodes the node v into *ptr.
func (d *decoder) value(v *yaml.Node, path string, ptr any) error {
	if r := resolve(v); r.Kind == yaml.ScalarNode && r.Tag == "!!null" {
		return d.errf(v, path, "give a value ("+typeHint(ptr)+") or remove the key", "has no value")
	}
	err := v.Decode(ptr)
	if err == nil {
		return nil
	}
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = yamlLineRE.ReplaceAllString(strings.TrimSpace(msg), "")
	fix := "give " + typeHint(ptr)
	if m, f, ok := strings.Cut(msg, " — "); ok {
		msg, fix = m, f
	}
	return d.errf(v, path, fix, "%s", msg)
}

// typeHint describes the values *ptr accepts.
func typeHint(ptr any) string {
	switch ptr.(type) {
	case *FloatList:
		return "a list of numbers, e.g. [1, 1, -1]"
	case *Matrix:
		return "a list of rows of numbers, e.g. [[0, 0], [0, -1]]"
	case *JSONObject:
		return "key: value pairs, e.g. {steps: 500}"
	}
	switch reflect.TypeOf(ptr).Elem().Kind() {
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Uint64:
		return "a whole number ≥ 0"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a text value"
	}
	return "a value of the documented type"
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return "the value " + Excerpt(n.Value)
	}
	return "not a value"
}

// excerptRunes is how much of a value an error message quotes.
const excerptRunes = 40

// Excerpt quotes a value a user gave for an error message: at most 40
// characters of it, control characters escaped, and its length when it is
// longer — so a message never echoes a whole file (a config that is not
// one, a 10 MB line) back to the terminal or a log.
func Excerpt(v string) string {
	r := []rune(v)
	if len(r) <= excerptRunes {
		return strconv.Quote(v)
	}
	return strconv.Quote(string(r[:excerptRunes])) + fmt.Sprintf("… (%d bytes)", len(v))
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a field path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
