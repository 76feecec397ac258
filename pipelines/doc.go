// Package pipelines parses, validates and plans campaign files: YAML
// documents that describe a study — task(s), network, learner, rules (named
// points of the rule space, explicit Θ, seeded random rules, or rules
// discovered by meta-optimization), seeds and the analysis stages — and
// expands them into the units a campaign runs.
//
// Parse reads a campaign. Every error is a *ParseError naming the file,
// line, column and field path, and how to fix the value:
//
//	quickstart.yaml:12:5: rules[1].theta: has 3 rows, want K+1 = 4 — give (K+1)×(L+1) numbers or set k/l
//
// Plan expands the sweep tasks × rules × seeds into MetaoptJobs, TrainUnits
// and AnalysisUnits with stable IDs ("train/dnms/miconi/seed=3") and the
// stages in dependency order (metaopt → train → fixedpoints, rsa,
// sensitivity; fixedpoints → landscape; all → report). Every unit's Key returns its canonical parameters
// for store.ContentKey. The campaign ID is a hash of the normalised spec:
// formatting, comments, key order and whether a value is written in the
// defaults or in every task do not change it; any value that changes a
// result does.
//
// Parse and Plan are pure and deterministic: no I/O, clock or randomness,
// so Temporal workflow code may call them on a campaign file's bytes.
//
// Params is the one definition of a training setup's parameters (the keys
// of `rulescape train --config` files and of a campaign's defaults and
// overrides), and Params.Build turns it into a core/train.Setup.
//
// The format, every field, its default and unit, is documented in
// pipelines/README.md; quickstart.yaml, miconi2017.yaml,
// rules-vs-solutions.yaml and solution-atlas.yaml beside it are the
// shipped campaigns.
package pipelines
