package meta

import (
	"fmt"
	"math"

	"rulescape/core/plasticity"
)

// directResult is the outcome of the direct transcription.
type directResult struct {
	J       float64
	Rewards []float64
	JDot    []float64 // one per direction
}

// direct is a literal, element-wise transcription of docs/MODEL.md §1–3 (primal) and
// §5 (tangents), written independently of the package code: its own Euler
// loop (not rnn.Run), its own fluctuation, eligibility, loss and update, and,
// for every direction and every step, the N×N eligibility tangent updated
// element by element with one rank-one term per (k, l) — the way Miconi's
// reference code updates its trace. It serves as the independent check of
// the primal and the tangents, and as the baseline of the benchmarks.
// dirs rows have P entries, plus a trailing log η component when etaDir.
func direct(p *Problem, rule plasticity.Rule, eta float64, dirs [][]float64, etaDir bool) (*directResult, error) {
	return directMode(p, rule, eta, dirs, etaDir, false)
}

// directMode is direct; with grouped, the element-wise eligibility-tangent
// update groups the terms by post-synaptic power l (L+1 terms per entry
// instead of 3(K+1)(L+1)), the way a careful per-step implementation would
// write it. It is the stronger baseline of the benchmarks.
func directMode(p *Problem, rule plasticity.Rule, eta float64, dirs [][]float64, etaDir, grouped bool) (*directResult, error) {
	net := p.Net
	n, M, O := net.N, net.M, net.O
	K, L := rule.K, rule.L
	L1 := L + 1
	th := rule.Theta
	cfg := p.Cfg
	alpha := p.Dyn.Dt / p.Dyn.Tau
	ax := cfg.AlphaX
	lambda := 1.0
	if cfg.TauE != 0 {
		lambda = 1 - p.Dyn.Dt/cfg.TauE
	}
	mask := p.Mask
	if mask == nil {
		mask = plasticity.DefaultMask(net)
	}
	clamped := make([]bool, n)
	for k, i := range net.ClampIndex {
		_ = k
		clamped[i] = true
	}
	D := len(dirs)
	W := append([]float64(nil), net.W...)
	Wd := make([][]float64, D)
	for d := range Wd {
		Wd[d] = make([]float64, n*n)
	}
	base := make([]float64, p.Conditions)
	based := make([][]float64, p.Conditions)
	for c := range based {
		based[c] = make([]float64, D)
	}
	res := &directResult{JDot: make([]float64, D)}
	pw := func(v float64, k int) float64 { // v^k with 0^0 = 1
		s := 1.0
		for ; k > 0; k-- {
			s *= v
		}
		return s
	}
	slope := func(v float64) float64 {
		if cfg.Loss == plasticity.LossMSE {
			return 2 * v
		}
		if v > 0 {
			return 1
		} else if v < 0 {
			return -1
		}
		return 0
	}
	loss := func(v float64) float64 {
		if cfg.Loss == plasticity.LossMSE {
			return v * v
		}
		return math.Abs(v)
	}

	x, xn, xbar := make([]float64, n), make([]float64, n), make([]float64, n)
	r := make([]float64, n)
	e := make([]float64, n*n)
	xd, xdn, xbd, ed := make([][]float64, D), make([][]float64, D), make([][]float64, D), make([][]float64, D)
	for d := 0; d < D; d++ {
		xd[d], xdn[d], xbd[d], ed[d] = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n*n)
	}
	delta, ddelta := make([]float64, n), make([]float64, n)
	rk := make([][]float64, K+1)  // r^k
	krk := make([][]float64, K+1) // k r^{k−1} φ' ẋ (per direction, refilled)
	dl := make([][]float64, L1)   // Δ^l
	ldl := make([][]float64, L1)  // l Δ^{l−1} Δ̇ (per direction, refilled)
	for k := range rk {
		rk[k], krk[k] = make([]float64, n), make([]float64, n)
	}
	for l := range dl {
		dl[l], ldl[l] = make([]float64, n), make([]float64, n)
	}
	phip := make([]float64, n)
	gv, gb := make([][]float64, L1), make([][]float64, L1)
	for l := range gv {
		gv[l], gb[l] = make([]float64, n), make([]float64, n)
	}
	discount := 1.0
	h := 0
	var iterErr error
	p.Episodes(func(_ int, ep *Episode) bool {
		tr := &ep.Trial
		T := tr.T
		copy(x, ep.X0)
		copy(xbar, ep.X0)
		clear(e)
		for d := 0; d < D; d++ {
			clear(xd[d])
			clear(xbd[d])
			clear(ed[d])
		}
		var Es, msum float64
		Ed := make([]float64, D)
		for t := 0; t < T; t++ {
			for j := 0; j < n; j++ {
				r[j] = math.Tanh(x[j])
				phip[j] = 1 - r[j]*r[j]
			}
			for i := 0; i < n; i++ {
				s := net.B[i]
				for j := 0; j < n; j++ {
					s += W[i*n+j] * r[j]
				}
				for m := 0; m < M; m++ {
					s += net.Win[i*M+m] * tr.U[t*M+m]
				}
				if ep.Xi != nil {
					s += ep.Xi[t*n+i]
				}
				xn[i] = x[i] + alpha*(-x[i]+s)
			}
			for k, i := range net.ClampIndex {
				xn[i] = net.ClampValue[k]
			}
			for i := 0; i < n; i++ {
				delta[i] = xbar[i] - xn[i]
			}
			g := 0.0
			if ep.Gate != nil {
				g = ep.Gate[t]
			} else if t >= cfg.GateStart {
				g = 1
			}
			for k := 0; k <= K; k++ {
				for j := 0; j < n; j++ {
					rk[k][j] = pw(r[j], k)
				}
			}
			for l := 0; l < L1; l++ {
				for i := 0; i < n; i++ {
					dl[l][i] = pw(delta[i], l)
				}
			}
			// e ← λ e + dt g H, element by element.
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					var H float64
					for k := 0; k <= K; k++ {
						for l := 0; l < L1; l++ {
							H += th[k*L1+l] * dl[l][i] * rk[k][j]
						}
					}
					e[i*n+j] = lambda*e[i*n+j] + p.Dyn.Dt*g*H
				}
			}
			// Outputs y^{t+1} and their tangents.
			m := tr.Mask[t]
			msum += m
			for d := 0; d < D; d++ {
				// ẋ^{t+1}
				for i := 0; i < n; i++ {
					s := 0.0
					for j := 0; j < n; j++ {
						s += W[i*n+j]*phip[j]*xd[d][j] + Wd[d][i*n+j]*r[j]
					}
					xdn[d][i] = xd[d][i] + alpha*(-xd[d][i]+s)
					if clamped[i] {
						xdn[d][i] = 0
					}
					ddelta[i] = xbd[d][i] - xdn[d][i]
				}
				for k := 0; k <= K; k++ {
					for j := 0; j < n; j++ {
						krk[k][j] = 0
						if k > 0 {
							krk[k][j] = float64(k) * pw(r[j], k-1) * phip[j] * xd[d][j]
						}
					}
				}
				for l := 0; l < L1; l++ {
					for i := 0; i < n; i++ {
						ldl[l][i] = 0
						if l > 0 {
							ldl[l][i] = float64(l) * pw(delta[i], l-1) * ddelta[i]
						}
					}
				}
				// ė ← λ ė + dt g Ḣ: one rank-one update per (k, l) and term.
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						ed[d][i*n+j] *= lambda
					}
				}
				if g != 0 && grouped {
					// The same Ḣ grouped by post-synaptic power l: one
					// element-wise pass with L+1 terms per entry.
					v := dirs[d]
					f := p.Dyn.Dt * g
					for l := 0; l < L1; l++ {
						for j := 0; j < n; j++ {
							var s1, s2 float64
							for k := 0; k <= K; k++ {
								s1 += v[k*L1+l]*rk[k][j] + th[k*L1+l]*krk[k][j]
								s2 += th[k*L1+l] * rk[k][j]
							}
							gv[l][j], gb[l][j] = f*s1, f*s2
						}
					}
					for i := 0; i < n; i++ {
						row := ed[d][i*n : (i+1)*n]
						for l := 0; l < L1; l++ {
							a, b := dl[l][i], ldl[l][i]
							u, w := gv[l], gb[l]
							for j := range row {
								row[j] += a*u[j] + b*w[j]
							}
						}
					}
				} else if g != 0 {
					v := dirs[d]
					for k := 0; k <= K; k++ {
						for l := 0; l < L1; l++ {
							a, b := v[k*L1+l], th[k*L1+l]
							f := p.Dyn.Dt * g
							for i := 0; i < n; i++ {
								for j := 0; j < n; j++ {
									ed[d][i*n+j] += f * (a*dl[l][i]*rk[k][j] + b*ldl[l][i]*rk[k][j] + b*dl[l][i]*krk[k][j])
								}
							}
						}
					}
				}
				for i := 0; i < n; i++ {
					xbd[d][i] = ax*xbd[d][i] + (1-ax)*xdn[d][i]
				}
			}
			for i := 0; i < n; i++ {
				xbar[i] = ax*xbar[i] + (1-ax)*xn[i]
			}
			copy(x, xn)
			for d := 0; d < D; d++ {
				copy(xd[d], xdn[d])
			}
			if m != 0 {
				for o := 0; o < O; o++ {
					var y float64
					for j := 0; j < n; j++ {
						y += net.Wout[o*n+j] * math.Tanh(x[j])
					}
					diff := y - tr.Target[t*O+o]
					Es += m * loss(diff)
					for d := 0; d < D; d++ {
						var yd float64
						for j := 0; j < n; j++ {
							rj := math.Tanh(x[j])
							yd += net.Wout[o*n+j] * (1 - rj*rj) * xd[d][j]
						}
						Ed[d] += m * slope(diff) * yd
					}
				}
			}
		}
		E := 0.0
		if msum != 0 {
			E = Es / msum
			for d := range Ed {
				Ed[d] /= msum
			}
		} else {
			clear(Ed)
		}
		R := -E
		c := tr.Condition
		A := R - base[c]
		G := 1.0
		if cfg.Gain == plasticity.GainBaseline {
			G = math.Abs(base[c])
		}
		for d := 0; d < D; d++ {
			Rd := -Ed[d]
			if h >= cfg.WarmupTrials {
				Ad := Rd - based[c][d]
				Gd := 0.0
				if cfg.Gain == plasticity.GainBaseline {
					if base[c] > 0 {
						Gd = based[c][d]
					} else if base[c] < 0 {
						Gd = -based[c][d]
					}
				}
				etad := 0.0
				if etaDir {
					etad = dirs[d][rule.P()] * eta
				}
				for k := 0; k < n*n; k++ {
					if cfg.Clip > 0 && math.Abs(eta*G*A*e[k]) >= cfg.Clip {
						continue
					}
					Wd[d][k] += mask[k] * (eta*(Gd*A*e[k]+G*Ad*e[k]+G*A*ed[d][k]) + etad*G*A*e[k])
				}
			}
			based[c][d] = cfg.AlphaR*based[c][d] + (1-cfg.AlphaR)*Rd
			res.JDot[d] += discount * Rd
		}
		if h >= cfg.WarmupTrials {
			for k := 0; k < n*n; k++ {
				dw := eta * G * A * e[k]
				if cfg.Clip > 0 {
					dw = math.Max(-cfg.Clip, math.Min(cfg.Clip, dw))
				}
				W[k] += dw * mask[k]
				if math.IsNaN(W[k]) || math.Abs(W[k]) > plasticity.DefaultMaxWeight {
					iterErr = fmt.Errorf("direct: diverged at trial %d", h)
					return false
				}
			}
		}
		base[c] = cfg.AlphaR*base[c] + (1-cfg.AlphaR)*R
		res.Rewards = append(res.Rewards, R)
		res.J += discount * R
		discount *= p.Gamma
		h++
		return h < p.H
	})
	return res, iterErr
}
