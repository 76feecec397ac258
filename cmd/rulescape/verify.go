package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/report"
	"rulescape/stages"
	"rulescape/store"
	"rulescape/workflows"
)

func init() { register(newVerifyCmd) }

var verifyLong = help("verify.long")

func newVerifyCmd(a *app) *cobra.Command {
	var (
		repair bool
		mode   string
	)
	cmd := &cobra.Command{
		Use:     "verify CAMPAIGN [--repair]",
		Short:   "Check every object of a campaign against its recorded SHA-256; --repair recomputes the bad ones",
		Long:    verifyLong,
		Example: help("verify.example"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.verify(cmd.Context(), args[0], repair, mode)
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "invalidate the bad objects, run the campaign again so that only the units they belong to recompute, then verify again")
	cmd.Flags().StringVar(&mode, "progress", "auto", "with --repair: "+progressFlagUsage)
	return cmd
}

// verifyJSON is what `verify -o json` prints: the (final) verification.
type verifyJSON struct {
	manifest.Verification
	// Report is the key of the report's index.html when it was checked
	// too ("" when the campaign has no report stage or its manifest no
	// plan).
	Report string `json:"report,omitempty"`
	// RepairCommand repairs the bad objects ("" when there are none).
	RepairCommand string      `json:"repair_command,omitempty"`
	Repair        *repairJSON `json:"repair,omitempty"` // with --repair, when something was bad
}

// repairJSON is what `verify --repair` did.
type repairJSON struct {
	Bad         []manifest.Bad       `json:"bad"`         // what the first verification found
	Invalidated int                  `json:"invalidated"` // commit markers removed
	Removed     int                  `json:"removed"`     // corrupt dataset objects deleted
	Stages      map[string]stageJSON `json:"stages"`      // the run that recomputed them
	Recomputed  int                  `json:"recomputed"`  // units the run computed (not cache hits)
	Superseded  int                  `json:"superseded"`  // datasets the recomputation superseded, removed
	order       []string             // the stages in plan order, for the text
}

func (a *app) verify(ctx context.Context, arg string, repair bool, mode string) error {
	showProgress := false
	if repair {
		var err error
		if showProgress, err = a.campaignProgress(mode); err != nil {
			return err
		}
	}
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.Close()
	st := oc.svc.Store
	out, err := verifyCampaign(ctx, st, oc.manifest)
	if err != nil {
		return err
	}
	if repair && len(out.Bad) > 0 {
		before := out
		rep, err := a.repair(ctx, oc.svc, oc.manifest, out.Bad, showProgress)
		if err != nil {
			return err
		}
		m, err := manifest.Read(ctx, st, oc.id)
		if err != nil {
			return err
		}
		if out, err = verifyCampaign(ctx, st, m); err != nil {
			return err
		}
		out.Repair = rep
		if err := a.printer().Print(out, func(w io.Writer) {
			printVerification(w, oc.manifest.Name, before, false)
			printRepair(w, rep)
			fmt.Fprint(w, "after the repair: ")
			printVerification(w, "", out, false)
		}); err != nil {
			return err
		}
		if len(out.Bad) > 0 {
			return fmt.Errorf("campaign %s: %d objects are still bad after the repair (listed above); see `rulescape status %s` and the worker's log", oc.id, len(out.Bad), oc.id)
		}
		return nil
	}
	if err := a.printer().Print(out, func(w io.Writer) {
		printVerification(w, oc.manifest.Name, out, true)
		if repair {
			fmt.Fprintln(w, "nothing to repair")
		}
	}); err != nil {
		return err
	}
	if len(out.Bad) > 0 {
		return fmt.Errorf("campaign %s: %d of %d objects are bad — repair them with `%s`", oc.id, len(out.Bad), out.Objects, out.RepairCommand)
	}
	return nil
}

// verifyCampaign checks every dataset of m and the report's index.html.
func verifyCampaign(ctx context.Context, st *store.Store, m *manifest.Manifest) (verifyJSON, error) {
	targets := manifest.Targets(m)
	rt, ok, err := reportTarget(ctx, st, m)
	if err != nil {
		return verifyJSON{}, err
	}
	out := verifyJSON{}
	if ok {
		targets = append(targets, rt)
		out.Report = rt.Ref.Key
	}
	if out.Verification, err = manifest.Verify(ctx, st, m.Campaign, targets, 0); err != nil {
		return out, err
	}
	if len(out.Bad) > 0 {
		out.RepairCommand = manifest.RepairCommand(m.Campaign)
	}
	return out, nil
}

// reportTarget returns the report's index.html as a target: the report
// unit commits it under its content key (store.Mark), which is resolved
// from the stored plan with the stage versions and dataset digests the
// manifest records. ok is false for a campaign without a report stage or
// whose manifest names no plan (campaigns of ID v1).
func reportTarget(ctx context.Context, st *store.Store, m *manifest.Manifest) (manifest.Target, bool, error) {
	if m.Plan == nil || m.StageVersions[string(pipelines.StageReport)] == "" {
		return manifest.Target{}, false, nil
	}
	data, err := st.Get(ctx, m.Plan.Key)
	if err != nil {
		return manifest.Target{}, false, fmt.Errorf("reading the plan of campaign %s (%s): %w", m.Campaign, m.Plan.Key, err)
	}
	plan, err := pipelines.DecodePlan(data, m.Plan.SHA256)
	if err != nil {
		return manifest.Target{}, false, err
	}
	rs := plan.Stage(pipelines.StageReport)
	if rs == nil || len(rs.Units) != 1 {
		return manifest.Target{}, false, nil
	}
	versions := stages.Versions{}
	for name, v := range m.StageVersions {
		versions[pipelines.StageName(name)] = v
	}
	// The manifest's refs, so that the key is the one the report was built
	// under even when a dataset is bad now.
	refs := map[string]store.DatasetRef{}
	for _, d := range m.Datasets {
		refs[d.ContentKey] = d.Ref
	}
	lookup := func(ctx context.Context, ck string) (store.DatasetRef, bool, error) {
		if r, ok := refs[ck]; ok {
			return r, true, nil
		}
		return st.Marker(ctx, ck)
	}
	u, err := stages.NewResolver(plan, versions, lookup).Resolve(ctx, rs.Units[0])
	if err != nil {
		return manifest.Target{}, false, fmt.Errorf("campaign %s: resolving its report unit: %w", m.Campaign, err)
	}
	d := u.Dataset(stages.ReportKind)
	if u.Pending != "" || d == nil {
		return manifest.Target{}, false, nil
	}
	t := manifest.Target{Unit: u.ID, Kind: stages.ReportKind, ContentKey: d.ContentKey}
	if d.Ref != nil {
		t.Ref = *d.Ref
	} else if t.Ref.Key, err = store.ReportKey(m.Campaign, report.Index); err != nil {
		return manifest.Target{}, false, err
	}
	return t, true, nil
}

// repair invalidates the commit markers of the bad objects (and deletes
// the corrupt dataset objects, so that no glob reads them), then runs the
// campaign's stored plan again without forcing any stage: each unit whose
// marker is gone is a cache miss and recomputes, every other unit is a
// (verified) cache hit. Datasets the recomputation superseded (a unit
// downstream of a recomputed one whose new bytes differ changes content
// key) are removed afterwards, as rerun does.
func (a *app) repair(ctx context.Context, s *services, m *manifest.Manifest, bad []manifest.Bad, showProgress bool) (*repairJSON, error) {
	st := s.Store
	rep := &repairJSON{Bad: bad, Stages: map[string]stageJSON{}}
	for _, b := range bad {
		if b.Problem == store.ProblemUncommitted {
			continue // no marker: the unit is a cache miss already
		}
		if err := st.Invalidate(ctx, b.ContentKey); err != nil {
			return rep, err
		}
		rep.Invalidated++
		if b.Problem == store.ProblemMissing {
			continue
		}
		// A corrupt dataset object is deleted (its content key is the one
		// in its name); the report's index.html is rewritten by its unit.
		if p, err := store.ParseDatasetKey(b.Key); err == nil && p.ContentKey == b.ContentKey {
			if err := st.Remove(ctx, b.Key); err != nil {
				return rep, err
			}
			rep.Removed++
		}
	}
	plan, err := workflows.StoredPlan(ctx, s.Client, st, m.Campaign)
	if err != nil {
		return rep, err
	}
	// The run prints its progress as `rulescape run` does, but its result
	// goes into this command's own output.
	sub := *a
	sub.stdout = &resultFilter{w: a.stdout}
	if !a.printer().JSON() {
		sub.stdout = io.Discard // progress bars go to stderr
	}
	if err := sub.execCampaign(ctx, s, plan, plan.File, showProgress, nil, false); err != nil {
		return rep, fmt.Errorf("repair: running campaign %s again: %w", m.Campaign, err)
	}
	var res workflows.CampaignResult
	if err := s.Client.GetWorkflow(ctx, workflows.WorkflowID(m.Campaign), "").Get(ctx, &res); err != nil {
		return rep, fmt.Errorf("repair: reading the result of campaign %s: %w", m.Campaign, err)
	}
	for _, sp := range res.Stages {
		rep.Stages[sp.Name] = stageJSON{Status: sp.Status, Units: sp.Total, CacheHits: sp.CacheHits}
		rep.order = append(rep.order, sp.Name)
		rep.Recomputed += sp.Total - sp.CacheHits
	}
	after, err := manifest.Read(ctx, st, m.Campaign)
	if err != nil {
		return rep, err
	}
	rep.Superseded, err = removeSuperseded(ctx, st, m, after)
	return rep, err
}

// removeSuperseded removes the datasets under the campaign's own prefix
// that the manifest before a repair listed and the one after it does not:
// marker first, then object (as rerun's prune does), except those another
// campaign's manifest lists.
func removeSuperseded(ctx context.Context, st *store.Store, before, after *manifest.Manifest) (int, error) {
	keep := map[string]bool{}
	for _, d := range after.Datasets {
		keep[d.Ref.Key], keep[d.ContentKey] = true, true
	}
	others, unreadable, err := manifest.ReferencedElsewhere(ctx, st, before.Campaign)
	if err != nil {
		return 0, err
	}
	if unreadable != "" {
		return 0, nil // what that manifest lists is unknown: remove nothing
	}
	n := 0
	for _, d := range before.Datasets {
		p, err := store.ParseDatasetKey(d.Ref.Key)
		if err != nil || p.Campaign != before.Campaign || keep[d.Ref.Key] || keep[d.ContentKey] || len(others[d.Ref.Key]) > 0 {
			continue
		}
		if err := st.Invalidate(ctx, d.ContentKey); err != nil {
			return n, err
		}
		if err := st.Remove(ctx, d.Ref.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// resultFilter passes the lines a campaign run writes in JSON mode
// (progress) through to w, except its final result object, which the
// repair reports in its own output instead.
type resultFilter struct {
	w   io.Writer
	buf []byte
}

func (f *resultFilter) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.buf[:i+1]
		if !bytes.HasPrefix(line, []byte(`{"type":"result"`)) {
			if _, err := f.w.Write(line); err != nil {
				return len(p), err
			}
		}
		f.buf = f.buf[i+1:]
	}
}

// printVerification writes a verification's summary line (with name, the
// campaign's name, when not "") and one line per bad object, then the
// repair command if hint is set.
func printVerification(w io.Writer, name string, v verifyJSON, hint bool) {
	if name != "" {
		fmt.Fprintf(w, "campaign %s (%s): ", name, v.Campaign)
	}
	what := ""
	if v.Report != "" {
		what = ", the report's index.html included"
	}
	fmt.Fprintf(w, "%d objects%s, %s checked against their SHA-256: %d bad\n", v.Objects, what, formatBytes(v.Bytes), len(v.Bad))
	for _, b := range v.Bad {
		fmt.Fprintf(w, "  BAD %s\n", b.Line())
	}
	if len(v.Bad) > 0 && hint {
		fmt.Fprintf(w, "repair: %s\n", v.RepairCommand)
	}
}

// printRepair writes what a repair did.
func printRepair(w io.Writer, r *repairJSON) {
	fmt.Fprintf(w, "repair: invalidated %d commit markers, removed %d corrupt objects, ran the campaign again:\n", r.Invalidated, r.Removed)
	for _, name := range r.order {
		s := r.Stages[name]
		fmt.Fprintf(w, "  %-12s %4d units  %4d recomputed\n", name, s.Units, s.Units-s.CacheHits)
	}
	if r.Superseded > 0 {
		fmt.Fprintf(w, "  %d datasets superseded by the recomputed ones were removed\n", r.Superseded)
	}
	fmt.Fprintf(w, "  %d units recomputed in all\n", r.Recomputed)
}
