package fixedpoints

import (
	"encoding/json"
	"fmt"
)

// pointJSON is Point with every complex number as a [re, im] pair, which
// encoding/json cannot write on its own.
type pointJSON struct {
	X            []float64      `json:"x"`
	Q            float64        `json:"q"`
	Eigenvalues  [][2]float64   `json:"eigenvalues"`
	Eigenvectors [][][2]float64 `json:"eigenvectors,omitempty"`
	Unstable     int            `json:"unstable"`
	Kind         Kind           `json:"kind"`
	Count        int            `json:"count"`
	Init         int            `json:"init"`
}

func pairs(z []complex128) [][2]float64 {
	out := make([][2]float64, len(z))
	for k, v := range z {
		out[k] = [2]float64{real(v), imag(v)}
	}
	return out
}

func complexes(p [][2]float64) []complex128 {
	out := make([]complex128, len(p))
	for k, v := range p {
		out[k] = complex(v[0], v[1])
	}
	return out
}

// MarshalJSON writes the point with complex numbers as [re, im] pairs.
func (p Point) MarshalJSON() ([]byte, error) {
	j := pointJSON{X: p.X, Q: p.Q, Eigenvalues: pairs(p.Eigenvalues), Unstable: p.Unstable,
		Kind: p.Kind, Count: p.Count, Init: p.Init}
	for _, v := range p.Eigenvectors {
		j.Eigenvectors = append(j.Eigenvectors, pairs(v))
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Point) UnmarshalJSON(b []byte) error {
	var j pointJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("fixedpoints: decoding a point: %w", err)
	}
	*p = Point{X: j.X, Q: j.Q, Eigenvalues: complexes(j.Eigenvalues), Unstable: j.Unstable,
		Kind: j.Kind, Count: j.Count, Init: j.Init}
	for _, v := range j.Eigenvectors {
		p.Eigenvectors = append(p.Eigenvectors, complexes(v))
	}
	return nil
}
