package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"rulescape/schemas"
)

// Partition is one Hive-style key segment Name=Value.
type Partition struct {
	Name  string // letters, digits, '.', '_', '-'
	Value string // any non-empty string; escaped in the key
}

// TaskRuleSeed returns the task=…/rule=…/seed=… partitions of a per-network dataset.
func TaskRuleSeed(task, rule string, seed int64) []Partition {
	return []Partition{{"task", task}, {"rule", rule}, {"seed", strconv.FormatInt(seed, 10)}}
}

// DatasetPath names one dataset object of a campaign.
type DatasetPath struct {
	Campaign   string         // campaign ID
	Stage      string         // stage of the campaign, e.g. "train"
	Dataset    string         // dataset name, usually the schema kind, e.g. "learning_curves"
	Partitions []Partition    // e.g. TaskRuleSeed(…); may be empty
	ContentKey string         // the unit's content key (ContentKey), 64 hex digits
	Format     schemas.Format // file format; sets the extension
	// KeyDoc, if set, is the document ContentKey is the digest of; the
	// commit marker records it (Store.KeyDocOf).
	KeyDoc *KeyDoc
}

// Key returns
// campaigns/<campaign>/<stage>/<dataset>/<name>=<value>/…/part-<content key><ext>.
func (p DatasetPath) Key() (string, error) {
	var b strings.Builder
	prefix, err := StagePrefix(p.Campaign, p.Stage)
	if err != nil {
		return "", err
	}
	b.WriteString(prefix)
	if err := checkSegment("dataset", p.Dataset); err != nil {
		return "", err
	}
	b.WriteString(p.Dataset + "/")
	for _, part := range p.Partitions {
		if err := checkSegment("partition name", part.Name); err != nil {
			return "", err
		}
		if part.Value == "" {
			return "", fmt.Errorf("store: partition %s has an empty value", part.Name)
		}
		b.WriteString(part.Name + "=" + EscapePartition(part.Value) + "/")
	}
	if !isDigest(p.ContentKey) {
		return "", fmt.Errorf("store: content key %q: want 64 lowercase hex digits (from ContentKey)", p.ContentKey)
	}
	b.WriteString("part-" + p.ContentKey + p.Format.Ext())
	return b.String(), nil
}

// CampaignPrefix returns "campaigns/<campaign>/".
func CampaignPrefix(campaign string) (string, error) {
	if err := checkSegment("campaign", campaign); err != nil {
		return "", err
	}
	return "campaigns/" + campaign + "/", nil
}

// StagePrefix returns "campaigns/<campaign>/<stage>/", the prefix a glob
// over a whole stage starts with.
func StagePrefix(campaign, stage string) (string, error) {
	c, err := CampaignPrefix(campaign)
	if err != nil {
		return "", err
	}
	if err := checkSegment("stage", stage); err != nil {
		return "", err
	}
	if stage == "checkpoints" || stage == "report" {
		return "", fmt.Errorf("store: stage %q: the name is reserved for the campaign's %s", stage, stage)
	}
	return c + stage + "/", nil
}

// ManifestKey returns "campaigns/<campaign>/manifest.json".
func ManifestKey(campaign string) (string, error) {
	c, err := CampaignPrefix(campaign)
	return c + "manifest.json", err
}

// CheckpointKey returns "campaigns/<campaign>/checkpoints/<name>"; name may
// have several '/'-separated segments.
func CheckpointKey(campaign, name string) (string, error) {
	return subKey(campaign, "checkpoints", name)
}

// ReportKey returns "campaigns/<campaign>/report/<file>", e.g. file "index.html".
func ReportKey(campaign, file string) (string, error) {
	return subKey(campaign, "report", file)
}

func subKey(campaign, dir, name string) (string, error) {
	c, err := CampaignPrefix(campaign)
	if err != nil {
		return "", err
	}
	for _, seg := range strings.Split(name, "/") {
		if err := checkSegment(dir+" name", seg); err != nil {
			return "", err
		}
	}
	return c + dir + "/" + name, nil
}

// commitKey returns the key of the commit marker of a content key.
func commitKey(contentKey string) string { return "commits/" + contentKey + ".json" }

// checkSegment accepts 1–128 letters, digits, '.', '_' and '-', not starting
// with '.' (no "..", no hidden files).
func checkSegment(what, s string) error {
	ok := len(s) > 0 && len(s) <= 128 && s[0] != '.'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("store: %s %q: want 1–128 letters, digits, '.', '_' or '-', not starting with '.'", what, s)
	}
	return nil
}

func isDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// hiveEscaped reports whether Hive escapes c in a partition value
// (org.apache.hadoop.hive.common.FileUtils.charToEscape).
func hiveEscaped(c byte) bool {
	return c < 0x20 || c == 0x7f || strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0
}

// EscapePartition escapes a partition value the way Hive does: each of the
// control characters and "#%'*/:=?\{[]^ becomes %XX (uppercase hex). Other
// bytes, including UTF-8, stay as they are.
func EscapePartition(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; hiveEscaped(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapePartition reverses EscapePartition.
func UnescapePartition(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", fmt.Errorf("store: partition value %q: truncated %%XX escape", v)
		}
		x, err := strconv.ParseUint(v[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("store: partition value %q: bad escape %q", v, v[i:i+3])
		}
		b.WriteByte(byte(x))
		i += 2
	}
	return b.String(), nil
}

// ContentKey returns the content key of a unit of work: the hex SHA-256 of
// the canonical JSON of
//
//	{"engine": engineVersion, "inputs": inputs, "params": params, "v": 1}
//
// where params is any JSON-marshalable value, re-encoded with object keys
// sorted at every level (so the order of struct fields or map entries does
// not matter), and inputs are the SHA-256 digests of the input datasets in
// the order the unit uses them.
func ContentKey(params any, inputs []string, engineVersion string) (string, error) {
	d, err := NewKeyDoc(params, inputs, engineVersion)
	if err != nil {
		return "", err
	}
	return d.ContentKey(), nil
}

// canonicalJSON marshals v and re-encodes it with sorted object keys and
// numbers kept as written.
func canonicalJSON(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return json.Marshal(tree) // maps marshal with sorted keys
}

// ParamsSHA256 returns the hex SHA-256 of the canonical JSON of params, the
// value of the rulescape.params_sha256 metadata key.
func ParamsSHA256(params any) (string, error) {
	canon, err := canonicalJSON(params)
	if err != nil {
		return "", fmt.Errorf("store: params digest: %w", err)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// KeyKind is the kind of object a campaign key names.
type KeyKind int

// The kinds of keys ParseKey recognises.
const (
	DatasetKind    KeyKind = iota + 1 // DatasetPath.Key
	ManifestKind                      // ManifestKey
	CheckpointKind                    // CheckpointKey
	ReportKind                        // ReportKey
)

// String returns "dataset", "manifest", "checkpoint" or "report".
func (k KeyKind) String() string {
	switch k {
	case DatasetKind:
		return "dataset"
	case ManifestKind:
		return "manifest"
	case CheckpointKind:
		return "checkpoint"
	case ReportKind:
		return "report"
	}
	return fmt.Sprintf("KeyKind(%d)", int(k))
}

// ParsedKey is what ParseKey read from a key.
type ParsedKey struct {
	Kind     KeyKind
	Campaign string
	Dataset  DatasetPath // Kind DatasetKind: the path whose Key is the key
	Name     string      // Kind CheckpointKind or ReportKind: the checkpoint name or report file
}

// ParseKey is the inverse of the key builders: it reads a dataset key
// (DatasetPath.Key), a manifest key, a checkpoint key or a report key. It
// accepts only keys in the form the builders write, so that building the
// key of what it returns gives key back; anything else is an error that
// names the key.
func ParseKey(key string) (ParsedKey, error) {
	bad := func(why string) (ParsedKey, error) {
		return ParsedKey{}, fmt.Errorf("store: object key %q: %s", key, why)
	}
	segs := strings.Split(key, "/")
	if len(segs) < 3 || segs[0] != "campaigns" {
		return bad("not under campaigns/<campaign>/")
	}
	campaign := segs[1]
	if err := checkSegment("campaign", campaign); err != nil {
		return bad(err.Error())
	}
	p := ParsedKey{Campaign: campaign}
	switch {
	case len(segs) == 3 && segs[2] == "manifest.json":
		p.Kind = ManifestKind
		return p, nil
	case segs[2] == "checkpoints" || segs[2] == "report":
		p.Kind, p.Name = CheckpointKind, strings.Join(segs[3:], "/")
		if segs[2] == "report" {
			p.Kind = ReportKind
		}
		if len(segs) == 3 {
			return bad("no " + p.Kind.String() + " name")
		}
		for _, s := range segs[3:] {
			if err := checkSegment(segs[2]+" name", s); err != nil {
				return bad(err.Error())
			}
		}
		return p, nil
	}
	if len(segs) < 5 {
		return bad("want campaigns/<campaign>/<stage>/<dataset>/…/part-<content key>.<ext>, manifest.json, checkpoints/… or report/…")
	}
	d := DatasetPath{Campaign: campaign, Stage: segs[2], Dataset: segs[3]}
	if err := checkSegment("stage", d.Stage); err != nil {
		return bad(err.Error())
	}
	if err := checkSegment("dataset", d.Dataset); err != nil {
		return bad(err.Error())
	}
	for _, seg := range segs[4 : len(segs)-1] {
		name, value, ok := strings.Cut(seg, "=")
		if !ok {
			return bad(fmt.Sprintf("segment %q: want a partition <name>=<value>", seg))
		}
		if err := checkSegment("partition name", name); err != nil {
			return bad(err.Error())
		}
		v, err := UnescapePartition(value)
		if err != nil {
			return bad(err.Error())
		}
		if v == "" || EscapePartition(v) != value {
			return bad(fmt.Sprintf("partition %s: value %q is empty or not escaped as EscapePartition escapes it", name, value))
		}
		d.Partitions = append(d.Partitions, Partition{name, v})
	}
	file := segs[len(segs)-1]
	base, ok := strings.CutPrefix(file, "part-")
	if !ok || len(base) < 64 || !isDigest(base[:64]) {
		return bad(fmt.Sprintf("file %q: want part-<content key, 64 lowercase hex digits>.<ext>", file))
	}
	d.ContentKey = base[:64]
	switch base[64:] {
	case schemas.Parquet.Ext():
		d.Format = schemas.Parquet
	case schemas.ArrowIPC.Ext():
		d.Format = schemas.ArrowIPC
	default:
		return bad(fmt.Sprintf("file %q: extension %q: want %s or %s", file, base[64:], schemas.Parquet.Ext(), schemas.ArrowIPC.Ext()))
	}
	p.Kind, p.Dataset = DatasetKind, d
	return p, nil
}

// ParseDatasetKey returns the DatasetPath of a dataset key: partition
// values unescaped, in key order. Any other key is an error.
func ParseDatasetKey(key string) (DatasetPath, error) {
	p, err := ParseKey(key)
	if err != nil {
		return DatasetPath{}, err
	}
	if p.Kind != DatasetKind {
		return DatasetPath{}, fmt.Errorf("store: object key %q is the campaign's %s, not a dataset", key, p.Kind)
	}
	return p.Dataset, nil
}
