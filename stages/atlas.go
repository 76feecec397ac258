package stages

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"rulescape/core/atlas"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// atlasStream is the PCG stream (and the subsample seed) of the atlas
// stage's random draws: like the other stages' tests, they do not depend
// on the campaign's seeds.
const atlasStream = 0x61746c73 // "atls"

// AtlasRows are the rows of one atlas unit.
type AtlasRows struct {
	Networks []schemas.AtlasNetworkRow // one row per network, in network order
	Families []schemas.AtlasFamilyRow  // one row per family
	Rules    []schemas.AtlasRuleRow    // rule × family, rules in network order, families within
}

// AtlasNetworkID names a network of an atlas: its rule, seed and weights.
type AtlasNetworkID struct {
	Rule    string
	Seed    int64
	Network string
}

// AtlasMeasure is one distance between networks of a task, as a pairs
// dataset holds it: Pairs[k] is the distance between networks A[k] and
// B[k].
type AtlasMeasure struct {
	Name   string // pipelines.DistanceDSA, DistanceSpectral or DistanceTopology
	Weight float64
	A, B   []AtlasNetworkID
	Pairs  []float64
}

// AtlasMeasures picks the distances an atlas stage weighs out of a task's
// dsa_pairs and landscape_pairs rows (either may be nil when its distances
// weigh 0): method "dsa" and "spectral" of dsa_pairs, "topology" of
// landscape_pairs; summary rows are skipped.
func AtlasMeasures(st pipelines.AtlasStage, dsaPairs []schemas.DSAPairRow, landPairs []schemas.LandscapePairRow) []AtlasMeasure {
	var out []AtlasMeasure
	for _, name := range pipelines.AtlasDistances {
		w := st.Weight(name)
		if !(w > 0) {
			continue
		}
		m := AtlasMeasure{Name: name, Weight: w}
		add := func(method, aRule string, aSeed int64, aNet, bRule string, bSeed int64, bNet string, v float64) {
			if method != name || aRule == "*" {
				return
			}
			m.A = append(m.A, AtlasNetworkID{aRule, aSeed, aNet})
			m.B = append(m.B, AtlasNetworkID{bRule, bSeed, bNet})
			m.Pairs = append(m.Pairs, v)
		}
		if name == pipelines.DistanceTopology {
			for _, r := range landPairs {
				add(r.Method, r.ARule, r.ASeed, r.ANetwork, r.BRule, r.BSeed, r.BNetwork, r.Value)
			}
		} else {
			for _, r := range dsaPairs {
				add(r.Method, r.ARule, r.ASeed, r.ANetwork, r.BRule, r.BSeed, r.BNetwork, r.Value)
			}
		}
		out = append(out, m)
	}
	return out
}

// Atlas groups the networks of one task into solution families as the
// atlas stage does and returns its rows, labelled with campaign.
//
// The networks are those of the first measure's pairs, in order of first
// appearance (the plan's order: rule by rule, seed by seed); every measure
// must give a distance for every pair of them, once. Each measure is
// divided by the median of its pair distances and weighted
// (atlas.CombineDistances); core/atlas clusters the combined distances by
// average linkage, cuts the dendrogram at the number of families in
// [min_families, max_families] with the largest mean silhouette (one
// family when none reaches min_silhouette), checks each family's
// stability on `resamples` subsamples of `fraction` of the networks, and
// takes each family's medoid as its prototype. The rule × family table's
// Cramér's V is tested by `permutations` shuffles of the rules among the
// networks of each seed (not tested with one rule, one family or 0
// permutations: p_value NaN). Random draws come from a fixed stream, so
// the rows depend on the inputs and settings only. Errors of the settings
// and inputs are Invalid; when ctx is done it returns ctx's error.
func Atlas(ctx context.Context, campaign, task string, measures []AtlasMeasure, st pipelines.AtlasStage) (AtlasRows, error) {
	if err := ctx.Err(); err != nil {
		return AtlasRows{}, err
	}
	rows, err := atlasRows(ctx, campaign, task, measures, st)
	if err != nil {
		if ctx.Err() != nil {
			return AtlasRows{}, ctx.Err()
		}
		return AtlasRows{}, invalid(err)
	}
	return rows, nil
}

func atlasRows(ctx context.Context, campaign, task string, measures []AtlasMeasure, st pipelines.AtlasStage) (AtlasRows, error) {
	if err := st.Validate(); err != nil {
		return AtlasRows{}, err
	}
	if len(measures) == 0 {
		return AtlasRows{}, fmt.Errorf("no distance weighs: give a positive weight to dsa, spectral or topology")
	}
	// The networks, in order of first appearance in the first measure.
	index := map[AtlasNetworkID]int{}
	var nets []AtlasNetworkID
	for k := range measures[0].Pairs {
		for _, id := range []AtlasNetworkID{measures[0].A[k], measures[0].B[k]} {
			if _, ok := index[id]; !ok {
				index[id] = len(nets)
				nets = append(nets, id)
			}
		}
	}
	n := len(nets)
	if n < 3 {
		return AtlasRows{}, fmt.Errorf("%d networks of task %s: the atlas needs at least 3 — train more seeds or rules", n, task)
	}
	ds := make([]atlas.Distances, len(measures))
	weights := make([]float64, len(measures))
	for m, ms := range measures {
		if len(ms.Pairs) != n*(n-1)/2 {
			return AtlasRows{}, fmt.Errorf("%s: %d pair distances for %d networks, want %d: the distances of different units do not cover the same networks",
				ms.Name, len(ms.Pairs), n, n*(n-1)/2)
		}
		d := make([]float64, n*n)
		seen := make([]bool, n*n)
		for k, v := range ms.Pairs {
			i, iok := index[ms.A[k]]
			j, jok := index[ms.B[k]]
			switch {
			case !iok || !jok:
				return AtlasRows{}, fmt.Errorf("%s: pair %d names a network (%s seed %d, %s seed %d) that %s does not have",
					ms.Name, k, ms.A[k].Rule, ms.A[k].Seed, ms.B[k].Rule, ms.B[k].Seed, measures[0].Name)
			case i == j || seen[i*n+j]:
				return AtlasRows{}, fmt.Errorf("%s: pair %d (%s seed %d, %s seed %d) is a repeat or a network with itself",
					ms.Name, k, ms.A[k].Rule, ms.A[k].Seed, ms.B[k].Rule, ms.B[k].Seed)
			}
			seen[i*n+j], seen[j*n+i] = true, true
			d[i*n+j], d[j*n+i] = v, v
		}
		var err error
		if ds[m], err = atlas.NewDistances(n, d); err != nil {
			return AtlasRows{}, fmt.Errorf("%s: %w", ms.Name, err)
		}
		weights[m] = ms.Weight
	}
	d, err := atlas.CombineDistances(ds, weights)
	if err != nil {
		return AtlasRows{}, err
	}
	res, err := atlas.Cluster(ctx, d, atlas.Settings{MinFamilies: st.MinFamilies, MaxFamilies: st.MaxFamilies,
		MinSilhouette: st.MinSilhouette, Resamples: st.Resamples, Fraction: st.Fraction, Seed: atlasStream})
	if err != nil {
		return AtlasRows{}, err
	}
	k := res.Families

	// Rules and seeds as integers, in order of first appearance.
	ruleIdx, seedIdx := map[string]int{}, map[int64]int{}
	var rules []string
	groups, strata := make([]int, n), make([]int, n)
	for i, id := range nets {
		if _, ok := ruleIdx[id.Rule]; !ok {
			ruleIdx[id.Rule] = len(rules)
			rules = append(rules, id.Rule)
		}
		if _, ok := seedIdx[id.Seed]; !ok {
			seedIdx[id.Seed] = len(seedIdx)
		}
		groups[i], strata[i] = ruleIdx[id.Rule], seedIdx[id.Seed]
	}
	table := atlas.Contingency(groups, res.Labels, len(rules), k)
	assoc := &atlas.Association{V: atlas.CramersV(table), P: math.NaN()}
	if st.Permutations > 0 && len(rules) > 1 && k > 1 {
		if assoc, err = atlas.AssociationTest(groups, res.Labels, strata, st.Permutations, rand.New(rand.NewPCG(0, atlasStream))); err != nil {
			return AtlasRows{}, err
		}
	}

	var out AtlasRows
	widths := atlas.SilhouetteWidths(d, res.Labels)
	medoid := map[int]bool{}
	for _, m := range res.Medoids {
		medoid[m] = true
	}
	for i, id := range nets {
		w := math.NaN()
		if widths != nil {
			w = widths[i]
		}
		out.Networks = append(out.Networks, schemas.AtlasNetworkRow{Campaign: campaign, Task: task, Rule: id.Rule, Seed: id.Seed,
			Network: id.Network, Family: int32(res.Labels[i]), Medoid: medoid[i], Silhouette: w})
	}
	sil := math.NaN()
	for t, kk := range res.Tried {
		if kk == k {
			sil = res.Silhouette[t]
		}
	}
	for f := range k {
		within, pairs := 0.0, 0
		for i := range n {
			for j := i + 1; j < n; j++ {
				if res.Labels[i] == f && res.Labels[j] == f {
					within += d.At(i, j)
					pairs++
				}
			}
		}
		within = within / float64(pairs) // NaN for a family of one
		med := nets[res.Medoids[f]]
		perms := int32(0)
		if !math.IsNaN(assoc.P) {
			perms = int32(assoc.Permutations)
		}
		out.Families = append(out.Families, schemas.AtlasFamilyRow{Campaign: campaign, Task: task, Family: int32(f), Families: int32(k),
			Size: int32(res.Sizes[f]), Stability: res.Stability[f], MedoidRule: med.Rule, MedoidSeed: med.Seed, MedoidNetwork: med.Network,
			WithinDistance: within, Silhouette: sil, Rand: res.Rand, CramersV: assoc.V, PValue: assoc.P, Permutations: perms})
	}
	for g, rule := range rules {
		total := 0
		for _, c := range table[g] {
			total += c
		}
		for f, c := range table[g] {
			out.Rules = append(out.Rules, schemas.AtlasRuleRow{Campaign: campaign, Task: task, Rule: rule, Family: int32(f),
				Count: int32(c), Share: float64(c) / float64(total)})
		}
	}
	return out, nil
}
