package pipelines

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"rulescape/core/dsa"
)

// taskMemory is what the rsa and landscape units of one task hold: every
// network of the task, at the largest shape among them.
type taskMemory struct {
	shape    Shape
	networks int
	points   int // fixed points per network, at most (landscape)
}

// lowerFix says which value to lower for the key an estimate grows with.
var lowerFix = map[string]string{
	"n":           "lower n",
	"task_params": "shorten the trials (task_params steps) or lower n",
	"trials":      "lower trials",
	"estimator":   "use fewer projection directions, or lower n",
	"inits":       "lower stages.fixedpoints.inits or n",
	"seeds":       "use fewer seeds or rules, or split the tasks into several campaigns",
}

// memoryError places a MemoryError at the setting of the parameter its
// estimate grows with most, or at the node at (path) when that value is
// the preset's or a stage's.
func (p *parser) memoryError(src *source, at *yaml.Node, path string, me *MemoryError) error {
	if me.Fix == "" {
		me.Fix = lowerFix[me.Need.Key]
		if me.Fix == "" {
			me.Fix = "lower " + me.Need.Key
		}
	}
	if src != nil {
		if s, ok := src.set[me.Need.Key]; ok && s.node != nil {
			at, path = s.node, s.path
		}
	}
	return p.d.errAt(at, path, fmt.Errorf("%s", me.Problem()), me.Remedy())
}

// stageNode returns the node and path of a stage's section.
func (p *parser) stageNode(section string) (*yaml.Node, string) {
	n := p.nodes["stages"].v
	for i := 0; n != nil && i+1 < len(resolve(n).Content); i += 2 {
		if k := resolve(n).Content[i]; k.Value == section {
			return k, join("stages", section)
		}
	}
	return n, "stages"
}

// checkUnitMemory compares the estimated peak memory of the units of rule
// on task (train, and the per-network analyses) with the memory budget,
// and adds the task's networks to mem for checkTaskMemory.
func (p *parser) checkUnitMemory(res resolved, b *Built, ent ruleEntry, rule, task string, ti int, mem *map[int]*taskMemory) error {
	lim, st := p.lim, p.c.Stages
	sh := ShapeOf(b.Setup)
	what := fmt.Sprintf("a train unit of rule %s on task %s", rule, task)
	if err := lim.CheckMemory(what, TrainBytes(sh, res.p.Trials), ""); err != nil {
		return p.memoryError(res.src, ent.node, ent.path, err.(*MemoryError))
	}
	inputs := len(b.Setup.Task.FixedPointInputs())
	if st.FixedPoints.Enabled {
		at, path := p.stageNode("fixedpoints")
		e := FixedPointsBytes(sh, inputs, st.FixedPoints.Inits, lim.Cores)
		if err := lim.CheckMemory("a fixedpoints unit of rule "+rule+" on task "+task, e, ""); err != nil {
			return p.memoryError(res.src, at, path, err.(*MemoryError))
		}
	}
	if st.Sensitivity.Enabled {
		at, path := p.stageNode("sensitivity")
		if err := lim.CheckMemory("a sensitivity unit of rule "+rule+" on task "+task, SensitivityBytes(sh, lim.Cores), ""); err != nil {
			return p.memoryError(res.src, at, path, err.(*MemoryError))
		}
	}
	if st.DSA.Enabled {
		s := st.DSA
		ds := dsa.Settings{Delays: s.Delays, Interval: s.DelayInterval, Rank: s.Rank}
		if err := ds.Validate(sh.N, sh.T); err != nil {
			at, path := p.stageNode("dsa")
			return p.d.errAt(at, path, fmt.Errorf("rule %s on task %s (%d units, %d steps): %s", rule, task, sh.N, sh.T, strings.TrimPrefix(err.Error(), "dsa: ")),
				"fit the delays and rank to the smallest network and the shortest trials")
		}
	}
	m := (*mem)[ti]
	if m == nil {
		m = &taskMemory{}
		(*mem)[ti] = m
	}
	m.networks += len(p.c.Seeds)
	m.shape.N, m.shape.T = max(m.shape.N, sh.N), max(m.shape.T, sh.T)
	m.shape.M, m.shape.O = max(m.shape.M, sh.M), max(m.shape.O, sh.O)
	m.shape.Conditions = max(m.shape.Conditions, sh.Conditions)
	m.points = max(m.points, inputs*st.FixedPoints.Inits)
	return nil
}

// checkTaskMemory compares the estimated peak memory of every task's rsa
// and landscape units with the memory budget.
func (p *parser) checkTaskMemory(mem map[int]*taskMemory) error {
	st := p.c.Stages
	for ti, t := range p.c.Tasks {
		m := mem[ti]
		if m == nil {
			continue
		}
		for _, c := range []struct {
			on      bool
			section string
			points  int
		}{{st.RSA.Enabled, "rsa", 0}, {st.Landscape.Enabled, "landscape", m.points}, {st.DSA.Enabled, "dsa", 0}} {
			if !c.on {
				continue
			}
			at, path := p.stageNode(c.section)
			what := fmt.Sprintf("the %s unit of task %s (%d networks)", c.section, t.Name, m.networks)
			if err := p.lim.CheckMemory(what, RSABytes(m.shape, m.networks, c.points), ""); err != nil {
				return p.memoryError(nil, at, path, err.(*MemoryError))
			}
		}
	}
	return nil
}
