package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"rulescape/report"
	"rulescape/stages"
)

// ReportName is the activity name of Report.
const ReportName = "Report"

// reportUnit writes the campaign's report as the plan's report unit: from
// the manifest and the datasets it lists, with the run's stage timings
// (stageTimings), and commits its index.html under the unit's content key,
// so that a later run with the same datasets finds it as a cache hit.
func (a *Activities) reportUnit(ctx context.Context, r *stages.Resolver, u *stages.Unit, contentKey, version string, stageTimings []report.Stage) ([]Dataset, error) {
	_, stopHB := keepAlive(ctx, keepAliveEvery) // a crashed worker is noticed in seconds, not at the timeout
	defer stopHB()
	id := r.Plan().CampaignID
	d, err := report.Load(ctx, a.Store, id)
	if err != nil {
		return nil, err
	}
	if stageTimings != nil {
		d.Stages = stageTimings
	}
	rep, err := report.Build(d)
	if err != nil {
		return nil, permanent(err)
	}
	key, err := report.Write(ctx, a.Store, id, rep.Files)
	if err != nil {
		return nil, err
	}
	var index []byte
	for _, f := range rep.Files {
		if f.Name == "index.html" {
			index = f.Data
		}
	}
	sum := sha256.Sum256(index)
	doc := u.Datasets[0].Doc
	ref, err := a.Store.Mark(ctx, contentKey, key, hex.EncodeToString(sum[:]), stages.ReportKind+"@"+version, &doc)
	if err != nil {
		return nil, err
	}
	a.log().Info("report written", "campaign", id, "files", len(rep.Files), "uri", "s3://"+a.Store.Bucket()+"/"+key)
	return []Dataset{{Unit: u.ID, Stage: string(u.Stage), Kind: stages.ReportKind, ContentKey: contentKey, Ref: ref}}, nil
}
