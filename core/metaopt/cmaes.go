package metaopt

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// newCMAState is the initial CMA-ES state: C = I, σ = sigma, zero paths.
func newCMAState(p int, sigma float64) *CMAState {
	c := make([]float64, p*p)
	for i := range p {
		c[i*p+i] = 1
	}
	return &CMAState{Sigma: sigma, C: c, PC: make([]float64, p), PS: make([]float64, p)}
}

// cmaGen holds one generation's strategy constants and the eigendecomposition
// C = B diag(D²) Bᵀ, recomputed from C each generation (deterministically,
// so a restored run repeats it bit for bit).
type cmaGen struct {
	n, lambda, mu               int
	w                           []float64 // recombination weights, Σw = 1
	mueff, cc, cs, c1, cmu, dmp float64
	chiN                        float64
	b                           *mat.Dense // eigenvectors in columns
	d                           []float64  // √eigenvalues
	mean                        []float64
	sigma                       float64
}

func newCMAGen(st *CMAState, mean []float64, population int) (*cmaGen, error) {
	n := len(mean)
	g := &cmaGen{n: n, lambda: population, mean: slices.Clone(mean), sigma: st.Sigma}
	if g.lambda == 0 {
		g.lambda = 4 + int(3*math.Log(float64(n)))
	}
	g.mu = g.lambda / 2
	g.w = make([]float64, g.mu)
	var sw, sw2 float64
	for i := range g.w {
		g.w[i] = math.Log(float64(g.mu)+0.5) - math.Log(float64(i+1))
		sw += g.w[i]
	}
	for i := range g.w {
		g.w[i] /= sw
		sw2 += g.w[i] * g.w[i]
	}
	nf := float64(n)
	g.mueff = 1 / sw2
	g.cc = (4 + g.mueff/nf) / (nf + 4 + 2*g.mueff/nf)
	g.cs = (g.mueff + 2) / (nf + g.mueff + 5)
	g.c1 = 2 / ((nf+1.3)*(nf+1.3) + g.mueff)
	g.cmu = math.Min(1-g.c1, 2*(g.mueff-2+1/g.mueff)/((nf+2)*(nf+2)+g.mueff))
	g.dmp = 1 + 2*math.Max(0, math.Sqrt((g.mueff-1)/(nf+1))-1) + g.cs
	g.chiN = math.Sqrt(nf) * (1 - 1/(4*nf) + 1/(21*nf*nf))

	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(n, slices.Clone(st.C)), true) {
		return nil, fmt.Errorf("CMA-ES: eigendecomposition of the covariance failed at generation %d (restart with a smaller CMA.Sigma)", st.Gen)
	}
	g.b = new(mat.Dense)
	eig.VectorsTo(g.b)
	g.d = eig.Values(nil)
	for i, v := range g.d {
		g.d[i] = math.Sqrt(math.Max(v, 1e-300))
	}
	return g, nil
}

// sample draws λ candidates m + σ B D z, z ~ N(0, I).
func (g *cmaGen) sample(rng *rand.Rand) [][]float64 {
	cands := make([][]float64, g.lambda)
	z := make([]float64, g.n)
	for c := range cands {
		for i := range z {
			z[i] = g.d[i] * rng.NormFloat64()
		}
		x := slices.Clone(g.mean)
		for i := range g.n {
			var y float64
			for j := range g.n {
				y += g.b.At(i, j) * z[j]
			}
			x[i] += g.sigma * y
		}
		cands[c] = x
	}
	return cands
}

// cmaRequests runs candidate c on every learner seed of the iteration
// (request c·S + s), so that candidates are compared on common seeds.
func (o *Optimizer) cmaRequests(cands [][]float64) []Request {
	s := o.st.Settings
	reqs := make([]Request, 0, len(cands)*s.Learners)
	for _, x := range cands {
		for k := range s.Learners {
			reqs = append(reqs, Request{Params: x, Seed: s.LearnerSeed(o.st.Iter, k), Iter: o.st.Iter})
		}
	}
	return reqs
}

// cmaIteration scores each candidate by its mean J over the seeds (a
// candidate with any diverged run ranks last), and updates the mean, the
// paths, C and σ (Hansen 2016, "The CMA Evolution Strategy: A Tutorial").
func (st *State) cmaIteration(rec *Record, reqs []Request, res []Outcome, g *cmaGen, cands [][]float64) error {
	S := st.Settings.Learners
	score := make([]float64, len(cands))
	ok := make([]bool, len(cands))
	var valid []float64
	for c := range cands {
		ok[c] = true
		for k := range S {
			r := res[c*S+k]
			if r.Diverged != "" {
				ok[c] = false
				rec.Diverged = append(rec.Diverged, Divergence{Index: c, Seed: reqs[c*S+k].Seed, Reason: r.Diverged})
				break
			}
			score[c] += r.Eval.J / float64(S)
		}
		if ok[c] {
			valid = append(valid, score[c])
		}
	}
	rec.Valid = len(valid)
	if need := st.Settings.minValid(len(cands)); rec.Valid < need {
		return &DivergedError{Iter: st.Iter, What: "CMA-ES candidates", Total: len(cands), Valid: rec.Valid, MinValid: need, Diverged: rec.Diverged}
	}
	rec.J, rec.JStd, rec.JSE = moments(valid)

	// Best first; diverged candidates last; ties by index.
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if ok[a] != ok[b] {
			if ok[a] {
				return -1
			}
			return 1
		}
		if !ok[a] {
			return 0
		}
		return cmp.Compare(score[b], score[a])
	})

	n := g.n
	cs := st.CMA
	old := g.mean
	yw := make([]float64, n)
	ys := make([][]float64, g.mu)
	for i := range g.mu {
		x := cands[order[i]]
		ys[i] = make([]float64, n)
		for q := range n {
			ys[i][q] = (x[q] - old[q]) / g.sigma
			yw[q] += g.w[i] * ys[i][q]
		}
	}
	for q := range n {
		st.Params[q] = old[q] + g.sigma*yw[q]
	}
	// C^{-1/2} y_w = B D⁻¹ Bᵀ y_w.
	bty := make([]float64, n)
	for j := range n {
		for q := range n {
			bty[j] += g.b.At(q, j) * yw[q]
		}
		bty[j] /= g.d[j]
	}
	csn := math.Sqrt(g.cs * (2 - g.cs) * g.mueff)
	for q := range n {
		var v float64
		for j := range n {
			v += g.b.At(q, j) * bty[j]
		}
		cs.PS[q] = (1-g.cs)*cs.PS[q] + csn*v
	}
	psn := norm(cs.PS)
	hsig := 0.0
	if psn/math.Sqrt(1-math.Pow(1-g.cs, 2*float64(cs.Gen+1)))/g.chiN < 1.4+2/float64(n+1) {
		hsig = 1
	}
	ccn := math.Sqrt(g.cc * (2 - g.cc) * g.mueff)
	for q := range n {
		cs.PC[q] = (1-g.cc)*cs.PC[q] + hsig*ccn*yw[q]
	}
	keep := 1 - g.c1 - g.cmu + (1-hsig)*g.c1*g.cc*(2-g.cc)
	for i := range n {
		for j := range n {
			v := keep*cs.C[i*n+j] + g.c1*cs.PC[i]*cs.PC[j]
			for k := range g.mu {
				v += g.cmu * g.w[k] * ys[k][i] * ys[k][j]
			}
			cs.C[i*n+j] = v
		}
	}
	for i := range n { // exact symmetry against rounding
		for j := range i {
			cs.C[i*n+j] = cs.C[j*n+i]
		}
	}
	cs.Sigma = g.sigma * math.Exp(g.cs/g.dmp*(psn/g.chiN-1))
	cs.Gen++
	rec.Sigma = cs.Sigma
	if !allFinite(cs.C) || !(cs.Sigma > 0) || math.IsInf(cs.Sigma, 0) {
		return fmt.Errorf("metaopt: iteration %d: CMA-ES covariance or step size became degenerate (σ = %g); Θ is unchanged: restart with a different CMA.Sigma", st.Iter, cs.Sigma)
	}
	return nil
}
