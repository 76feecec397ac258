// Package workflows holds the Temporal workflows of rulescape: deterministic
// orchestration only. CampaignWorkflow parses a campaign file (pipelines is
// pure), runs its stages in dependency order as activities (package
// activities, called by name), answers the "progress" query, and ends by
// writing the campaign's manifest.
//
// Stages, as this version runs them:
//
//	metaopt      one Metaopt activity per `from: metaopt` rule
//	train        one Train activity per task × rule × seed, at most
//	             max_parallel in flight; units of a discovered rule get its Θ
//	fixedpoints, rsa, landscape, sensitivity, report
//	             not implemented yet: recorded as SkippedNotImplemented
//	manifest     campaigns/<id>/manifest.json
//
// The workflow ID of a campaign is WorkflowID(id) = "campaign-<id>", so a
// second start of the same campaign attaches to the running one.
package workflows
