package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.temporal.io/sdk/activity"

	"rulescape/pipelines"
	"rulescape/stages"
	"rulescape/store"
)

// ResolveName is the activity name of ResolveUnits.
const ResolveName = "ResolveUnits"

// ResolveParallel is how many units ResolveUnits looks up at once (each
// lookup is two requests: the commit marker and the object's bytes).
const ResolveParallel = 64

// ResolveInput names a range of units of a stage of a stored plan:
// [From, To). It is small at any campaign size: the units are in the plan.
type ResolveInput struct {
	CampaignID string              `json:"campaign_id"`
	Plan       PlanRef             `json:"plan"`
	Stage      pipelines.StageName `json:"stage"`
	From       int                 `json:"from"`
	To         int                 `json:"to"`
	// Force marks every unit to compute, without looking anything up.
	Force bool `json:"force,omitempty"`
	// Run is the campaign workflow's run ID: the verified hits are
	// recorded for the run's later activities, and the records of the
	// stages resolved before serve as the inputs' lookups. "": no records.
	Run string `json:"run,omitempty"`
}

// ResolveOutput is what ResolveUnits found: which units of the range must
// run (a bitmap, 1 bit per unit: 250 bytes for 2 000 units) and the
// counts. Every other unit is a verified cache hit.
type ResolveOutput struct {
	From    int `json:"from"`
	To      int `json:"to"`
	Hits    int `json:"hits"`    // verified cache hits
	Compute int `json:"compute"` // units to run
	// Corrupt counts committed datasets whose bytes no longer match their
	// commit marker: their units are to run (and recompute them).
	Corrupt int `json:"corrupt,omitempty"`
	// Bitmap has bit i (byte i/8, bit i%8) set when unit From+i must run.
	Bitmap []byte `json:"bitmap"`
}

// Run reports whether unit From+i must run.
func (o *ResolveOutput) Run(i int) bool {
	return i >= 0 && i/8 < len(o.Bitmap) && o.Bitmap[i/8]&(1<<(i%8)) != 0
}

// Indices returns the indices (in the stage) of the units to run, in order.
func (o *ResolveOutput) Indices() []int {
	var out []int
	for i := 0; i < o.To-o.From; i++ {
		if o.Run(i) {
			out = append(out, o.From+i)
		}
	}
	return out
}

func (o *ResolveOutput) set(i int) { o.Bitmap[i/8] |= 1 << (i % 8) }

// ResolveUnits resolves a range of a stage's units in bulk — their content
// keys, as Unit resolves them — and finds which are verified cache hits:
// every dataset committed and its bytes matching the SHA-256 of its commit
// marker (store.LookupVerified), looked up ResolveParallel at once. The
// workflow then runs activities only for the other units. A unit whose
// input is not committed, or with a corrupt dataset, is to run: Unit then
// reports the missing input or recomputes the dataset, as before. Metaopt
// jobs (whose results the workflow needs) and the report are always run.
func (a *Activities) ResolveUnits(ctx context.Context, in ResolveInput) (ResolveOutput, error) {
	if err := a.check(); err != nil {
		return ResolveOutput{}, err
	}
	n := in.To - in.From
	if n < 0 || in.From < 0 {
		return ResolveOutput{}, permanent(fmt.Errorf("activities: resolve %s units [%d, %d): not a range", in.Stage, in.From, in.To))
	}
	out := ResolveOutput{From: in.From, To: in.To, Bitmap: make([]byte, (n+7)/8)}
	if in.Force || in.Stage == pipelines.StageMetaopt || in.Stage == pipelines.StageReport {
		for i := 0; i < n; i++ {
			out.set(i)
		}
		out.Compute = n
		return out, nil
	}
	plan, err := a.LoadPlan(ctx, in.Plan)
	if err != nil {
		return out, err
	}
	if plan.CampaignID != in.CampaignID {
		return out, permanent(fmt.Errorf("activities: plan %s is of campaign %s, not %s", in.Plan.Key, plan.CampaignID, in.CampaignID))
	}
	// The inputs' digests, which enter the keys, come from the records of
	// the stages this run resolved before, else from their commit markers
	// (one request each); the units' own datasets are then read in full
	// and checked below.
	var recs runRecords
	if err := recs.load(ctx, a, in.CampaignID, in.Run); err != nil {
		return out, err
	}
	var provs sync.Map // content key → *store.Provenance, from the markers read
	lookup := func(ctx context.Context, ck string) (store.DatasetRef, bool, error) {
		if e, ok := recs.get(ck); ok {
			return e.Ref, true, nil
		}
		ref, prov, ok, err := a.Store.MarkerProvenance(ctx, ck)
		if ok && prov != nil {
			provs.Store(ck, prov)
		}
		return ref, ok, err
	}
	r := stages.NewResolver(plan, a.versions(), lookup)
	ids := make([]string, n)
	for i := range ids {
		if ids[i], err = r.UnitAt(in.Stage, in.From+i); err != nil {
			return out, permanent(err)
		}
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	run := make([]bool, n)
	units := make([]*stages.Unit, n)
	errs := make([]error, n)
	var next, corrupt atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(ResolveParallel, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				u, err := r.Resolve(ctx, ids[i])
				if err != nil {
					errs[i] = fmt.Errorf("activities: %s: %w", ids[i], err)
					continue
				}
				units[i] = u
				run[i], errs[i] = a.verifyHit(ctx, u, &corrupt)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	for _, err := range errs {
		if err != nil {
			return out, err
		}
	}
	for i, x := range run {
		if x {
			out.set(i)
			out.Compute++
		}
	}
	out.Hits, out.Corrupt = n-out.Compute, int(corrupt.Load())
	if in.Run != "" && out.Hits > 0 {
		hits := map[string]resolvedEntry{}
		for i, u := range units {
			if run[i] {
				continue
			}
			for _, d := range u.Datasets {
				e := resolvedEntry{Ref: *d.Ref}
				if p, ok := provs.Load(d.ContentKey); ok {
					e.Provenance = p.(*store.Provenance)
				} else if prev, ok := recs.get(d.ContentKey); ok {
					e.Provenance = prev.Provenance
				}
				hits[d.ContentKey] = e
			}
		}
		if err := a.putResolved(ctx, in.CampaignID, in.Run, in.Stage, in.From, hits); err != nil {
			return out, err
		}
	}
	if activity.IsActivity(ctx) {
		a.log().Info("units resolved", "stage", in.Stage, "from", in.From, "to", in.To, "hits", out.Hits, "compute", out.Compute)
	}
	return out, nil
}

// verifyHit reports whether a resolved unit must run: not every dataset is
// committed, or one's object is missing, or its bytes differ from its
// commit marker (counted in corrupt). Each committed dataset is read in
// full (store.Verify: one request, the bytes hashed as they stream).
func (a *Activities) verifyHit(ctx context.Context, u *stages.Unit, corrupt *atomic.Int64) (bool, error) {
	if !u.Done() {
		return true, nil
	}
	for _, d := range u.Datasets {
		err := a.Store.Verify(ctx, *d.Ref)
		var bad *store.CorruptError
		switch {
		case err == nil:
		case store.IsNotFound(err):
			return true, nil
		case errors.As(err, &bad):
			corrupt.Add(1)
			a.log().Warn("cached dataset is corrupt; its unit will recompute it", "unit", u.ID, "key", bad.Key, "err", bad)
			return true, nil
		default:
			return false, fmt.Errorf("activities: %s: %w", u.ID, err)
		}
	}
	return false, nil
}
