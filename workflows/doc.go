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
//	fixedpoints  one FixedPoints activity per network, after train
//	rsa          one RSA activity per task (all its networks)
//	sensitivity  one Sensitivity activity per network
//	landscape, report
//	             not implemented yet: recorded as SkippedNotImplemented
//	manifest     campaigns/<id>/manifest.json
//
// The analysis stages run one after the other, each fanned out like train;
// their units get refs to the networks datasets of their train units.
// Campaigns recorded before them (GetVersion change "campaign-analysis")
// replay with every analysis stage skipped.
//
// The workflow ID of a campaign is WorkflowID(id) = "campaign-<id>", so a
// second start of the same campaign attaches to the running one.
package workflows
