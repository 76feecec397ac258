// Package train runs reward-gated learners on a task: one learner per seed,
// many seeds in parallel over the cores, each reproducible from its seed alone.
//
// A seed s drives independent random streams (PCG with seed s and a fixed
// stream id each): network initialisation, the condition sequence, the initial
// states x⁰, the exploration perturbations ξ and the task's own trial noise.
// The same Setup and seed give bit-identical results on one machine, whatever
// the number of parallel workers.
package train
