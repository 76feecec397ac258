// Package stages is the campaign's stage library: the engine version of
// every stage, and the pure computation of each stage (a unit in, rows
// out, plain errors, no Temporal and no object store), used by the
// campaign activities (which load inputs, call these functions and commit
// the rows) and by `rulescape analyze`.
//
// # Stages
//
//   - Train trains a train unit: its learning_curves and networks rows
//     (a diverged network is a result: TrainRows.Diverged).
//   - Metaopt runs a metaopt job from its start or from a MetaoptProgress,
//     calling a checkpoint function after every iteration: its Θ and
//     metaopt_history rows.
//   - LoadNetwork rebuilds a trained network (Network) from its networks
//     row; FixedPoints, Sensitivity, RSA and Landscape compute the rows of
//     the analysis stages from such networks (and, for Landscape, their
//     fixed_points rows).
//   - LoadNetworks finds stored networks (a downloaded networks file with
//     its campaign's manifest, or CAMPAIGN/UNIT refs in the store) and
//     rebuilds them; SummarizeFixedPoints, SummarizeSensitivity,
//     SummarizeRSA and SummarizeLandscape turn a stage's rows into the
//     JSON-tagged summaries `rulescape analyze` prints.
//
// The rows are labelled with the campaign ID passed in and are the
// datasets' rows exactly: for the same unit, settings and inputs a stage
// gives bit-identical rows on one machine. Errors that computing the unit
// again cannot fix (its settings, inputs that do not fit it) satisfy
// Invalid.
//
// # Engine versions
//
// Every stage has an engine version (Versions) that enters the content
// keys of its units' datasets. A change to a stage's code that changes its
// numbers for the same settings and inputs must raise that stage's
// version: its units, and through their dataset digests everything
// downstream of them, are then recomputed, while the other stages' cached
// datasets stay valid. The test in digest_test.go computes a digest of
// every stage's numbers on small fixed cases (the report's: of its figure
// data) and fails when a digest changes while the stage's version did
// not; `go test ./stages -run TestStageDigests -update` records new ones.
package stages
