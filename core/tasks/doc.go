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
// The registered tasks are "dnms" (delayed non-match-to-sample, Miconi 2017),
// "cdi" (context-dependent integration, Mante et al. 2013 / Miconi 2017),
// "perceptual" (random-dots-style decision, Britten et al. 1992), "gonogo",
// "romo" (delayed frequency comparison, Romo et al. 1999), "flipflop" (the
// 3-bit flip-flop of Sussillo & Barak 2013) and "rsg" (ready-set-go, Jazayeri
// & Shadlen 2010 / Remington et al. 2018). Each type's doc comment states its
// epochs as step indices: which rows of Trial.U carry which input and which
// outputs y^t are in the response mask. docs/TASKS.md describes them all.
//
// Every task is a struct whose exported fields are its parameters, with the
// literature defaults set by New. Change them directly, or from JSON with
// Configure (snake_case keys, unknown keys rejected). Task noise comes only
// from the rng passed to Trial, and Trial only reads the parameters, so trials
// are reproducible and may be drawn concurrently. A new task only has to
// implement the Task interface; Register makes it available by name (see the
// example).
package tasks
