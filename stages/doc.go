// Package stages is the campaign's stage library: the engine version of
// every stage, and the pure computation of each stage (a unit in, rows
// out, plain errors, no Temporal and no object store), used by the
// campaign activities (which load inputs, call these functions and commit
// the rows) and by `rulescape analyze`.
//
// # Engine versions
//
// Every stage has an engine version (Versions) that enters the content
// keys of its units' datasets. A change to a stage's code that changes its
// numbers for the same settings and inputs must raise that stage's
// version: its units, and through their dataset digests everything
// downstream of them, are then recomputed, while the other stages' cached
// datasets stay valid. The test in digest_test.go computes a digest of
// every stage's numbers on small fixed cases and fails when a digest
// changes while the stage's version did not.
package stages
