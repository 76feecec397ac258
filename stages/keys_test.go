package stages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"rulescape/pipelines"
	"rulescape/store"
)

// memStore is an in-memory stand-in for the store's Lookup and lineage
// records: what the resolver and Explain read (unit tests only; the
// activities and cmd tests use a real S3 server).
type memStore struct {
	mu      sync.Mutex
	refs    map[string]store.DatasetRef
	lineage map[string]store.Lineage
	lookups int
}

func newMemStore() *memStore {
	return &memStore{refs: map[string]store.DatasetRef{}, lineage: map[string]store.Lineage{}}
}

func (m *memStore) lookup(_ context.Context, ck string) (store.DatasetRef, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	r, ok := m.refs[ck]
	return r, ok, nil
}

func (m *memStore) previous(name string) Previous {
	return func(_ context.Context, unit, kind string) (store.Lineage, bool, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		l, ok := m.lineage[name+"|"+unit+"|"+kind]
		return l, ok, nil
	}
}

// commitAll "computes" every unit of the plan in order: each dataset gets
// a digest derived from its content key, and a lineage record.
func (m *memStore) commitAll(t testing.TB, r *Resolver) {
	t.Helper()
	for _, s := range r.Plan().Stages {
		for _, id := range s.Units {
			r.Forget(id)
			u, err := r.Resolve(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if u.Pending != "" {
				t.Fatalf("%s pending on %s after its inputs were committed", id, u.Pending)
			}
			for _, d := range u.Datasets {
				sum := sha256.Sum256([]byte("data of " + d.ContentKey))
				m.mu.Lock()
				m.refs[d.ContentKey] = store.DatasetRef{Key: "k/" + d.ContentKey, SHA256: hex.EncodeToString(sum[:])}
				m.lineage[r.Plan().Name+"|"+id+"|"+d.Kind] = store.Lineage{Name: r.Plan().Name, Unit: id, Kind: d.Kind,
					Campaign: r.Plan().CampaignID, ContentKey: d.ContentKey, Doc: d.Doc}
				m.mu.Unlock()
			}
			r.Forget(id)
		}
	}
}

const keysBase = `name: keys
defaults: {n: 10, eta: 1, clip: 0.01, gain: plain, loss: mse, warmup: 5}
tasks:
  - name: gonogo
    task_params: {steps: 40, stim_start: 5, stim_end: 20, response: 15}
rules:
  - name: miconi
  - name: np
    rule: node-perturbation
seeds: 1-2
train: {trials: 20}
stages:
  fixedpoints: {inits: 8}
  rsa: {permutations: 10}
  landscape: {permutations: 10}
`

func planOf(t testing.TB, src string) *pipelines.Plan {
	t.Helper()
	c, err := pipelines.Parse("keys.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func byUnit(ex []Explanation) map[string]Explanation {
	out := map[string]Explanation{}
	for _, e := range ex {
		out[e.Unit] = e
	}
	return out
}

// TestExplain checks the resolver and Explain on an in-memory store:
// everything new, then everything cached, then the reasons a changed
// setting, a changed stage version and a forced stage give.
func TestExplain(t *testing.T) {
	ctx := t.Context()
	m := newMemStore()
	plan := planOf(t, keysBase)
	r := NewResolver(plan, Current(), m.lookup)
	ex, err := Explain(ctx, r, m.previous(plan.Name), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		want := StatusPending
		if e.Stage == pipelines.StageTrain {
			want = StatusCompute // no inputs: their keys are known
		}
		if e.Status != want || len(e.Reasons) == 0 {
			t.Errorf("empty store: %s is %s %v, want %s", e.Unit, e.Status, e.Reasons, want)
		}
		if e.Stage == pipelines.StageTrain && e.Reasons[0].Kind != ReasonNew {
			t.Errorf("empty store: %s reasons %v, want new", e.Unit, e.Reasons)
		}
	}
	m.commitAll(t, NewResolver(plan, Current(), m.lookup))
	ex, err = Explain(ctx, NewResolver(plan, Current(), m.lookup), m.previous(plan.Name), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		if e.Status != StatusCached {
			t.Errorf("after committing everything: %s is %s %v", e.Unit, e.Status, e.Reasons)
		}
	}

	// A changed setting of one stage: exactly its units, with the field.
	edited := planOf(t, strings.Replace(keysBase, "rsa: {permutations: 10}", "rsa: {permutations: 20}", 1))
	got := byUnit(must(Explain(ctx, NewResolver(edited, Current(), m.lookup), m.previous(plan.Name), nil)))
	for id, e := range got {
		if id == "rsa/gonogo" {
			if e.Status != StatusCompute || len(e.Reasons) != 1 || e.Reasons[0] != (Reason{Kind: ReasonSetting, Field: "settings.permutations", Old: "10", New: "20"}) {
				t.Errorf("rsa permutations 10 → 20: %s %+v", e.Status, e.Reasons)
			}
			continue
		}
		if want := map[bool]string{true: StatusPending, false: StatusCached}[id == "report"]; e.Status != want {
			t.Errorf("rsa permutations changed: %s is %s %v, want %s", id, e.Status, e.Reasons, want)
		}
	}

	// A changed train setting: every train unit, with the field; what
	// reads them is pending.
	edited = planOf(t, strings.Replace(keysBase, "train: {trials: 20}", "train: {trials: 21}", 1))
	got = byUnit(must(Explain(ctx, NewResolver(edited, Current(), m.lookup), m.previous(plan.Name), nil)))
	tr := got["train/gonogo/miconi/seed=1"]
	if tr.Status != StatusCompute || len(tr.Reasons) != 1 || tr.Reasons[0] != (Reason{Kind: ReasonSetting, Field: "params.trials", Old: "20", New: "21"}) {
		t.Errorf("train trials 20 → 21: %s %+v", tr.Status, tr.Reasons)
	}
	if fp := got["fixedpoints/gonogo/miconi/seed=1"]; fp.Status != StatusPending || fp.Reasons[0].Kind != ReasonAfter {
		t.Errorf("fixedpoints after a train change: %s %+v, want pending", fp.Status, fp.Reasons)
	}

	// A new landscape version: landscape only, naming the version.
	v := Current().With(pipelines.StageLandscape, "landscape-test")
	got = byUnit(must(Explain(ctx, NewResolver(plan, v, m.lookup), m.previous(plan.Name), nil)))
	for id, e := range got {
		if strings.HasPrefix(id, "landscape/") {
			if e.Status != StatusCompute || len(e.Reasons) != 1 || e.Reasons[0] != (Reason{Kind: ReasonEngine, Old: Current()[pipelines.StageLandscape], New: "landscape-test"}) {
				t.Errorf("landscape version: %s %s %+v", id, e.Status, e.Reasons)
			}
		} else if want := map[bool]string{true: StatusPending, false: StatusCached}[id == "report"]; e.Status != want {
			t.Errorf("landscape version changed: %s is %s, want %s", id, e.Status, want)
		}
	}

	// A forced stage (rerun): its units, and what reads them pending.
	got = byUnit(must(Explain(ctx, NewResolver(plan, Current(), m.lookup), m.previous(plan.Name), []pipelines.StageName{pipelines.StageFixedPoints})))
	if e := got["fixedpoints/gonogo/np/seed=2"]; e.Status != StatusCompute || e.Reasons[0].Kind != ReasonForced {
		t.Errorf("forced fixedpoints: %s %+v", e.Status, e.Reasons)
	}
	if e := got["landscape/gonogo"]; e.Status != StatusPending {
		t.Errorf("landscape after forced fixedpoints: %s %+v, want pending", e.Status, e.Reasons)
	}
	if e := got["rsa/gonogo"]; e.Status != StatusCached {
		t.Errorf("rsa with fixedpoints forced: %s, want cached", e.Status)
	}
}

func must(ex []Explanation, err error) []Explanation {
	if err != nil {
		panic(err)
	}
	return ex
}

// TestResolverKeys checks that keys are those of store.ContentKey on the
// documented document, and that they differ by stage version and input.
func TestResolverKeys(t *testing.T) {
	ctx := t.Context()
	m := newMemStore()
	plan := planOf(t, keysBase)
	r := NewResolver(plan, Current(), m.lookup)
	u, err := r.Resolve(ctx, "train/gonogo/miconi/seed=1")
	if err != nil {
		t.Fatal(err)
	}
	tu := r.TrainUnit(u.ID)
	for _, d := range u.Datasets {
		want, err := store.ContentKey(struct {
			Dataset string `json:"dataset"`
			Unit    any    `json:"unit"`
		}{d.Kind, tu.Key()}, nil, Current()[pipelines.StageTrain])
		if err != nil {
			t.Fatal(err)
		}
		if d.ContentKey != want {
			t.Errorf("%s key %s, want %s", d.Kind, d.ContentKey, want)
		}
	}
	other, err := NewResolver(plan, Current().With(pipelines.StageTrain, "train-x"), m.lookup).Resolve(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if other.Datasets[0].ContentKey == u.Datasets[0].ContentKey {
		t.Error("another train version gives the same key")
	}
	if _, err := r.Resolve(ctx, "train/nosuch"); err == nil {
		t.Error("unknown unit: no error")
	}
	// A float32 unit's keys and datasets carry the float32 engine after
	// the stage's version; a float64 unit's do not.
	f32 := NewResolver(planOf(t, strings.Replace(keysBase, "defaults: {", "defaults: {precision: f32, ", 1)), Current(), m.lookup)
	u32, err := f32.Resolve(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	v32, _ := f32.UnitVersion(u.ID, pipelines.StageTrain)
	if want := Current()[pipelines.StageTrain] + "+" + TrainF32; v32 != want || u32.Datasets[0].Doc.Engine != want {
		t.Errorf("f32 unit: version %q, key document's engine %q; want %q", v32, u32.Datasets[0].Doc.Engine, want)
	}
	if v, _ := r.UnitVersion(u.ID, pipelines.StageTrain); v != Current()[pipelines.StageTrain] {
		t.Errorf("f64 unit: version %q, want the stage's %q", v, Current()[pipelines.StageTrain])
	}
	if _, err := r.UnitAt(pipelines.StageRSA, 5); err == nil {
		t.Error("unit index out of range: no error")
	}
}

// BenchmarkResolveAll resolves a 5,000-network plan (train, fixedpoints,
// rsa, landscape, sensitivity; ≈ 20,000 units) against an in-memory store
// where everything is committed: the cost of planning a cached campaign's
// keys, without the store's round trips.
func BenchmarkResolveAll(b *testing.B) {
	src := strings.Replace(keysBase, "seeds: 1-2", "seeds: 1-2500", 1) + "  sensitivity: {perturbations: 2}\n"
	plan := planOf(b, src)
	m := newMemStore()
	m.commitAll(b, NewResolver(plan, Current(), m.lookup))
	units, err := NewResolver(plan, Current(), m.lookup).ResolveAll(context.Background(), 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := NewResolver(plan, Current(), m.lookup).ResolveAll(context.Background(), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(units)), "units")
}
