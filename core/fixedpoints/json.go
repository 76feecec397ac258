package fixedpoints

import (
	"encoding/json"
	"fmt"
	"math"
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
	Deflated     int            `json:"deflated,omitempty"`
	MapUnstable  int            `json:"map_unstable"`
	Henrici      jfloat         `json:"henrici"`
	HenriciRel   jfloat         `json:"henrici_rel"`
	Overlap      [][]jfloat     `json:"readout_overlap,omitempty"`
	Response     [][]jfloat     `json:"response,omitempty"`
}

// jfloat is a float64 that JSON writes as null when it is NaN or ±Inf
// (a measure that could not be computed) and reads back as NaN.
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	if v := float64(f); math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jfloat(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

func jfloats(v [][]float64) [][]jfloat {
	out := make([][]jfloat, len(v))
	for k, r := range v {
		out[k] = make([]jfloat, len(r))
		for i, x := range r {
			out[k][i] = jfloat(x)
		}
	}
	return out
}

func unjfloats(v [][]jfloat) [][]float64 {
	var out [][]float64
	for _, r := range v {
		o := make([]float64, len(r))
		for i, x := range r {
			o[i] = float64(x)
		}
		out = append(out, o)
	}
	return out
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
		Kind: p.Kind, Count: p.Count, Init: p.Init, Deflated: p.Deflated, MapUnstable: p.MapUnstable,
		Henrici: jfloat(p.Henrici), HenriciRel: jfloat(p.HenriciRel)}
	if len(p.ReadoutOverlap) > 0 {
		j.Overlap = jfloats(p.ReadoutOverlap)
	}
	if len(p.Response) > 0 {
		j.Response = jfloats(p.Response)
	}
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
		Kind: j.Kind, Count: j.Count, Init: j.Init, Deflated: j.Deflated, MapUnstable: j.MapUnstable,
		Henrici: float64(j.Henrici), HenriciRel: float64(j.HenriciRel),
		ReadoutOverlap: unjfloats(j.Overlap), Response: unjfloats(j.Response)}
	for _, v := range j.Eigenvectors {
		p.Eigenvectors = append(p.Eigenvectors, complexes(v))
	}
	return nil
}
