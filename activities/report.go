package activities

import (
	"context"

	"rulescape/report"
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
