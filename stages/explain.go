package stages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"rulescape/pipelines"
	"rulescape/store"
)

// Unit statuses of an explanation.
const (
	StatusCached  = "cached"  // every dataset is committed under its content key
	StatusCompute = "compute" // its content keys are known and not all committed
	StatusPending = "pending" // an input is to be computed first, so its keys are not known yet
)

// Reason kinds of an explanation.
const (
	ReasonNew     = "new"     // no earlier version of the unit is recorded under the campaign name
	ReasonSetting = "setting" // a setting of the unit changed
	ReasonEngine  = "engine"  // its stage's engine version changed
	ReasonInput   = "input"   // the digest of an input dataset changed
	ReasonMissing = "missing" // the same content key was computed before, but its dataset is gone
	ReasonForced  = "forced"  // the run forces the stage (rerun)
	ReasonAfter   = "after"   // it reads a unit that is to be computed first
)

// Reason is one input of a unit's content key that differs from the
// unit's earlier version (or why there is nothing to compare with).
type Reason struct {
	Kind  string `json:"kind"`
	Field string `json:"field,omitempty"` // setting path, e.g. "params.n", or the input "train/…/seed=1 networks"
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// String renders the reason as one short phrase.
func (r Reason) String() string {
	switch r.Kind {
	case ReasonNew:
		return "new: no earlier version under this campaign name"
	case ReasonSetting:
		return fmt.Sprintf("setting %s: %s → %s", r.Field, r.Old, r.New)
	case ReasonEngine:
		return fmt.Sprintf("engine version %s → %s", r.Old, r.New)
	case ReasonInput:
		return fmt.Sprintf("input %s changed (%s → %s)", r.Field, r.Old, r.New)
	case ReasonMissing:
		return "its dataset " + r.Field + " was computed before but is no longer in the store"
	case ReasonForced:
		return "forced (rerun of this stage)"
	case ReasonAfter:
		return "after " + r.Field + " (an input) is computed"
	}
	return r.Kind
}

// Explanation says whether a unit is cached or to compute, and why.
type Explanation struct {
	Unit    string              `json:"unit"`
	Stage   pipelines.StageName `json:"stage"`
	Status  string              `json:"status"`
	Reasons []Reason            `json:"reasons,omitempty"`
	// Previous is the campaign that computed the earlier version compared
	// with ("" when none).
	Previous string `json:"previous,omitempty"`
}

// Previous returns the latest recorded version of a unit's dataset under
// the plan's campaign name (store.Store.GetLineage); ok is false when none
// is recorded.
type Previous func(ctx context.Context, unit, kind string) (l store.Lineage, ok bool, err error)

// Explain resolves every unit of r's plan and explains each: cached, or to
// compute with the inputs of its key that changed since the version of it
// that prev returns, or pending behind an input to compute. force lists
// stages a rerun recomputes regardless of the cache.
func Explain(ctx context.Context, r *Resolver, prev Previous, force []pipelines.StageName) ([]Explanation, error) {
	units, err := r.ResolveAll(ctx, 0)
	if err != nil {
		return nil, err
	}
	forced := map[pipelines.StageName]bool{}
	for _, s := range force {
		forced[s] = true
	}
	// A forced unit, or one after it, is computed: units reading it are
	// pending whatever the store holds.
	recompute := map[string]bool{}
	out := make([]Explanation, 0, len(units))
	for _, u := range units {
		e := Explanation{Unit: u.ID, Stage: u.Stage}
		var after string
		for _, in := range u.Inputs {
			if recompute[in.Unit] {
				after = in.Unit
				break
			}
		}
		switch {
		case forced[u.Stage]:
			e.Status = StatusCompute
			e.Reasons = []Reason{{Kind: ReasonForced}}
			if after != "" || u.Pending != "" {
				e.Status = StatusPending
				e.Reasons = append(e.Reasons, Reason{Kind: ReasonAfter, Field: orString(after, u.Pending)})
			}
		case after != "" || u.Pending != "":
			e.Status = StatusPending
			e.Reasons = []Reason{{Kind: ReasonAfter, Field: orString(after, u.Pending)}}
		case u.Done():
			e.Status = StatusCached
		default:
			e.Status = StatusCompute
		}
		if e.Status != StatusCached {
			recompute[u.ID] = true
			if prev != nil {
				why, from, err := compare(ctx, u, prev, e.Status == StatusPending)
				if err != nil {
					return nil, err
				}
				e.Reasons = append(e.Reasons, why...)
				e.Previous = from
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// compare explains a unit to compute against its latest recorded version:
// the settings, engine version and (unless pending) input digests of its
// first dataset's key document that differ from the recorded one's.
func compare(ctx context.Context, u *Unit, prev Previous, pending bool) ([]Reason, string, error) {
	var why []Reason
	for di, d := range u.Datasets {
		l, ok, err := prev(ctx, u.ID, d.Kind)
		if err != nil {
			return nil, "", fmt.Errorf("stages: the earlier version of %s: %w", u.ID, err)
		}
		if !ok {
			if di == 0 {
				return []Reason{{Kind: ReasonNew}}, "", nil
			}
			continue
		}
		if !pending && l.ContentKey == d.ContentKey {
			if d.Ref == nil {
				why = append(why, Reason{Kind: ReasonMissing, Field: d.Kind})
			}
			continue
		}
		if di > 0 && len(why) > 0 {
			continue // the first dataset's differences explain the unit
		}
		old, cur := l.Doc, d.Doc
		if old.Engine != cur.Engine {
			why = append(why, Reason{Kind: ReasonEngine, Old: old.Engine, New: cur.Engine})
		}
		why = append(why, settingChanges(old.Params, cur.Params)...)
		if !pending {
			why = append(why, inputChanges(u, old.Inputs, cur.Inputs)...)
		}
		if len(why) > 0 {
			return why, l.Campaign, nil
		}
	}
	return why, "", nil
}

// inputChanges names the inputs whose digests differ.
func inputChanges(u *Unit, old, cur []string) []Reason {
	var why []Reason
	if len(old) != len(cur) {
		return []Reason{{Kind: ReasonInput, Field: "datasets read", Old: fmt.Sprint(len(old)), New: fmt.Sprint(len(cur))}}
	}
	for i := range cur {
		if old[i] != cur[i] {
			name := fmt.Sprintf("%d", i)
			if i < len(u.Inputs) {
				name = u.Inputs[i].Unit + " " + u.Inputs[i].Kind
			}
			why = append(why, Reason{Kind: ReasonInput, Field: name, Old: short(old[i]), New: short(cur[i])})
		}
	}
	return why
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12] + "…"
	}
	return digest
}

// settingChanges compares two canonical parameter documents
// {"dataset": kind, "unit": params} leaf by leaf and names every setting
// that differs, as a dotted path below "unit" (e.g. "params.n", or
// "settings.permutations" for an analysis unit).
func settingChanges(old, cur json.RawMessage) []Reason {
	a, b := map[string]string{}, map[string]string{}
	flatten("", decode(old), a)
	flatten("", decode(cur), b)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		if a[k] != b[k] && k != "dataset" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	why := make([]Reason, 0, len(names))
	for _, k := range names {
		o, n := a[k], b[k]
		if o == "" {
			o = "(unset)"
		}
		if n == "" {
			n = "(unset)"
		}
		why = append(why, Reason{Kind: ReasonSetting, Field: strings.TrimPrefix(k, "unit."), Old: o, New: n})
	}
	return why
}

// decode decodes canonical JSON keeping numbers as written.
func decode(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

// flatten writes the leaves of v into out by dotted path; arrays of
// numbers are leaves (a Θ matrix or a list of seeds reads as one value).
func flatten(path string, v any, out map[string]string) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			flatten(join(k), x, out)
		}
	case []any:
		if leafArray(t) {
			data, _ := json.Marshal(t)
			out[path] = string(data)
			return
		}
		for i, x := range t {
			flatten(join(fmt.Sprint(i)), x, out)
		}
	case nil:
		out[path] = "null"
	default:
		data, _ := json.Marshal(t)
		out[path] = string(data)
	}
}

// leafArray reports whether an array holds no objects (numbers, strings,
// or arrays of those): it is shown as one value.
func leafArray(a []any) bool {
	for _, x := range a {
		switch y := x.(type) {
		case map[string]any:
			return false
		case []any:
			if !leafArray(y) {
				return false
			}
		}
	}
	return true
}
