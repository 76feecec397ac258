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

// ReportInput asks for a campaign's report. The report reads the campaign's
// manifest and the datasets it lists; the workflow passes only the stage
// timings, which no dataset holds.
type ReportInput struct {
	CampaignID string `json:"campaign_id"`
	// Stages are the per-stage statuses, units, cache hits and wall times
	// of the run, in dependency order; nil keeps those of the last report.
	Stages []report.Stage `json:"stages,omitempty"`
}

// ReportOutput says where the report is.
type ReportOutput struct {
	Key     string `json:"key"` // object key of index.html
	URI     string `json:"uri"`
	Figures int    `json:"figures"`
	Files   int    `json:"files"` // objects written, index.html included
}

// Report builds the campaign's HTML report from its manifest and datasets
// (report.Load, report.Build) and writes it under
// campaigns/<id>/report/, index.html last (report.Write). It computes no
// dataset, so it has no cache: it is rebuilt on every run, from the
// datasets alone, and gives the same bytes for the same datasets and
// timings.
func (a *Activities) Report(ctx context.Context, in ReportInput) (ReportOutput, error) {
	if err := a.check(); err != nil {
		return ReportOutput{}, err
	}
	d, err := report.Load(ctx, a.Store, in.CampaignID)
	if err != nil {
		return ReportOutput{}, err
	}
	if in.Stages != nil {
		d.Stages = in.Stages
	}
	rep, err := report.Build(d)
	if err != nil {
		return ReportOutput{}, permanent(err)
	}
	key, err := report.Write(ctx, a.Store, in.CampaignID, rep.Files)
	if err != nil {
		return ReportOutput{}, err
	}
	out := ReportOutput{Key: key, URI: "s3://" + a.Store.Bucket() + "/" + key, Files: len(rep.Files)}
	for _, s := range rep.Sections {
		out.Figures += len(s.Figures)
	}
	a.log().Info("report written", "campaign", in.CampaignID, "figures", out.Figures, "uri", out.URI)
	return out, nil
}

// reportUnit writes the campaign's report as the plan's report unit: from
// the manifest and the datasets it lists, with the run's stage timings
// (stageTimings), and commits its index.html under the unit's content key,
// so that a later run with the same datasets finds it as a cache hit.
func (a *Activities) reportUnit(ctx context.Context, r *stages.Resolver, u *stages.Unit, contentKey, version string, stageTimings []report.Stage) ([]Dataset, error) {
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
