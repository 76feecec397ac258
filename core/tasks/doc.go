// Package tasks is rulescape's suite of neuroscience tasks. A Task produces
// trials — inputs u^t, targets y*^t, a response mask m^t and a condition (trial
// type) — judges each trial correct or incorrect from the network's outputs, and
// names the constant inputs that fixed-point analysis should use.
//
// Time indexing follows the model specification: a trial of T steps has inputs
// u^0…u^{T−1} (row t of Trial.U drives the step from x^t to x^{t+1}) and
// outputs y^1…y^T (row t−1 of Trial.Target and entry t−1 of Trial.Mask belong
// to y^t).
//
// Every task is a struct whose exported fields are its parameters, with the
// literature defaults set by New. Change them directly, or from JSON with
// Configure. A new task only has to implement the Task interface; Register
// makes it available by name.
package tasks
