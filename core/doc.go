// Package core is the root of rulescape's numerical engine: rate RNNs, the task
// suite, the three-factor plasticity rule space, meta-gradients and the analyses
// of trained networks. Its packages import gonum and the standard library only —
// no Temporal, S3 or Arrow — so a scientist can use them as a plain Go library.
//
// The equations are those of the project's model specification (docs/MODEL.md).
package core
