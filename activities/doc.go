// Package activities holds the Temporal activities of a campaign: thin
// adapters that read their inputs from the object store, call the pure
// numerical code in core/, and commit the results back to the store as
// datasets (schemas/). Only small values travel through Temporal: unit
// descriptions in, store.DatasetRef out.
//
// Every unit is content-addressed: its content key is
// store.ContentKey(unit.Key(), input digests, engine version), one key per
// dataset it writes. An activity first looks its datasets up and returns
// them with CacheHit set when they are all committed, so rerunning a
// campaign — or running a unit another campaign already computed — costs a
// few store requests.
//
// The analysis activities (FixedPoints, Sensitivity, RSA) take an
// AnalysisInput: the unit and refs to the networks datasets of its train
// units, which they read back, rebuild with the unit's task and dynamics,
// simulate without plasticity, analyse with core/fixedpoints,
// core/sensitivity or core/rsa, and commit under the same content-key
// scheme (the inputs are the networks digests).
//
// Metaopt checkpoints the optimizer's state (metaopt.State), the search
// scale and the history rows so far after every iteration, at
// campaigns/<id>/checkpoints/metaopt/<content key>/state.json, and
// heartbeats the checkpoint's key: a retried attempt, on this or another
// worker, restores it and continues bit-exactly.
package activities
