// Package workflows holds the Temporal workflows of rulescape: deterministic
// orchestration only. CampaignWorkflow (type "Campaign") runs a campaign's
// stored plan: its input names the plan (object key and SHA-256, written by
// NewInput) and carries its outline (stages, unit counts, dependencies); it
// never parses a campaign file or reads a default, so a worker of a later
// build runs exactly the plan the campaign started with.
//
// Stages, in dependency order, each fanned out with at most max_parallel
// units in flight; each unit is one activity named after its stage
// (activities.StageActivity) whose input is the plan ref, the stage and the
// unit's index — the activity reads the unit and finds its inputs itself:
//
//	metaopt      one unit per `from: metaopt` rule; their results (Θ, η)
//	             are passed to every later unit
//	train        one unit per task × rule × seed; beyond TrainChunk units as
//	             TrainChunkWorkflow children over index ranges
//	fixedpoints  one unit per network
//	rsa          one unit per task (all its networks)
//	landscape    one unit per task, after fixedpoints
//	sensitivity  one unit per network
//	manifest     campaigns/<id>/manifest.json (activity Manifest)
//	prune        on a rerun (Force): superseded datasets of the forced stages
//	report       the report unit, after the manifest; cached like the others
//
// The workflow answers the "progress" query. Its ID is WorkflowID(id) =
// "campaign-<id>", so a second start of the same campaign attaches to the
// running one. Recorded histories in testdata are replayed by the tests:
// a change to the commands the workflow issues fails them.
package workflows
