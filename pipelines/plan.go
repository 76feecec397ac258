package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"rulescape/core/train"
)

// StageName names a stage of a campaign.
type StageName string

// The stages, in dependency order.
const (
	StageMetaopt     StageName = "metaopt"
	StageTrain       StageName = "train"
	StageFixedPoints StageName = "fixedpoints"
	StageRSA         StageName = "rsa"
	StageLandscape   StageName = "landscape"
	StageSensitivity StageName = "sensitivity"
	StageReport      StageName = "report"
)

// Plan is a campaign expanded into units, ready to run.
type Plan struct {
	CampaignID  string         `json:"campaign_id"` // first 16 hex digits of sha256 of the normalised spec
	Name        string         `json:"name"`        // campaign name
	Metaopt     []MetaoptJob   `json:"metaopt"`     // one per `from: metaopt` rule, in rule order
	Train       []TrainUnit    `json:"train"`       // tasks × rules × seeds, in that nesting order
	Analysis    []AnalysisUnit `json:"analysis"`
	Stages      []Stage        `json:"stages"`       // the stages that have units, in dependency order
	MaxParallel int            `json:"max_parallel"` // units in flight at once (0 = one per worker core)
}

// Stage is one stage of a plan: its units and the stages it waits for.
type Stage struct {
	Name  StageName   `json:"name"`
	After []StageName `json:"after"` // stages that must finish first
	Units []string    `json:"units"` // unit IDs, in plan order
}

// MetaoptJob is one meta-optimization run: it discovers the Θ of the rule
// Rule on task Task.
type MetaoptJob struct {
	ID       string      `json:"id"`       // "metaopt/<rule>"
	Rule     string      `json:"rule"`     // rule entry the result becomes
	Task     string      `json:"task"`     // task entry it optimizes on
	Params   Params      `json:"params"`   // resolved setup; Trials is the horizon H, Rule/Theta the initial rule
	Settings MetaoptSpec `json:"settings"` // optimizer settings (Settings.Trials = Params.Trials)
}

// TrainUnit is one network: a rule trained on a task from one seed.
type TrainUnit struct {
	ID              string `json:"id"`   // "train/<task>/<rule>/seed=<seed>"
	Task            string `json:"task"` // task entry
	Rule            string `json:"rule"` // rule entry
	Seed            uint64 `json:"seed"`
	Params          Params `json:"params"` // resolved setup; Theta is nil when Metaopt is set
	StopAtCriterion bool   `json:"stop_at_criterion"`
	// Metaopt is the ID of the job whose Θ this unit trains with ("" when
	// Params holds the rule). Pass that Θ to Setup; the job's dataset
	// digest belongs in the unit's content-key inputs.
	Metaopt string `json:"metaopt"`
}

// AnalysisUnit is one unit of an analysis stage or the report.
type AnalysisUnit struct {
	ID     string    `json:"id"`     // e.g. "fixedpoints/dnms/miconi/seed=3", "rsa/dnms", "landscape/dnms", "report"
	Stage  StageName `json:"stage"`  // its stage
	Task   string    `json:"task"`   // task entry ("" for the report)
	Rule   string    `json:"rule"`   // rule entry ("" for rsa, landscape and the report)
	Seed   *uint64   `json:"seed"`   // the network's seed (fixedpoints, sensitivity)
	Inputs []string  `json:"inputs"` // IDs of the units whose datasets it reads
	// Settings are the stage's settings as JSON: decode them into
	// FixedPointsStage, RSAStage, LandscapeStage, SensitivityStage or
	// ReportStage according to Stage.
	Settings json.RawMessage `json:"settings"`
}

// Setup builds the unit's training setup. theta is the rule Θ of a
// Metaopt unit (the job's result, (K+1)×(L+1)) and must be nil otherwise.
func (u *TrainUnit) Setup(theta [][]float64) (*train.Setup, error) {
	p := u.Params
	switch {
	case u.Metaopt != "" && theta == nil:
		return nil, fmt.Errorf("pipelines: %s: needs the Θ of %s — pass the job's result", u.ID, u.Metaopt)
	case u.Metaopt == "" && theta != nil:
		return nil, fmt.Errorf("pipelines: %s: has its own rule — pass nil", u.ID)
	case theta != nil:
		p.Theta, p.Rule = Matrix(theta), ""
	}
	b, err := p.Build(fixedSource{})
	if err != nil {
		return nil, fmt.Errorf("pipelines: %s: %w", u.ID, err)
	}
	b.Setup.StopAtCriterion = u.StopAtCriterion
	return b.Setup, nil
}

// Setup builds the job's setup: the task, network and learner the rule is
// optimized for, with the initial rule.
func (j *MetaoptJob) Setup() (*train.Setup, error) {
	p := j.Params
	b, err := p.Build(fixedSource{})
	if err != nil {
		return nil, fmt.Errorf("pipelines: %s: %w", j.ID, err)
	}
	return b.Setup, nil
}

// fixedSource is the Source of resolved parameters: every value is
// explicit (K and L must match theta).
type fixedSource struct{}

func (fixedSource) Ref(key string) string    { return key }
func (fixedSource) Explicit(key string) bool { return key == "k" || key == "l" }
func (fixedSource) Name(key string) string   { return key }

// keyParams is Params as it enters keys: the preset's name is dropped (its
// values are all there).
func keyParams(p Params) Params {
	p.Preset = ""
	return p
}

// Key returns the unit's canonical parameters for store.ContentKey. The Θ
// of a Metaopt unit enters through its input digest, not here.
func (u *TrainUnit) Key() any {
	return struct {
		Kind            StageName `json:"kind"`
		Params          Params    `json:"params"`
		Seed            uint64    `json:"seed"`
		StopAtCriterion bool      `json:"stop_at_criterion"`
		FromMetaopt     bool      `json:"from_metaopt"`
	}{StageTrain, keyParams(u.Params), u.Seed, u.StopAtCriterion, u.Metaopt != ""}
}

// Key returns the job's canonical parameters for store.ContentKey.
func (j *MetaoptJob) Key() any {
	s := j.Settings
	s.Task = "" // an entry name; Params holds the task itself
	return struct {
		Kind     StageName   `json:"kind"`
		Params   Params      `json:"params"`
		Settings MetaoptSpec `json:"settings"`
	}{StageMetaopt, keyParams(j.Params), s}
}

// Key returns the unit's canonical parameters for store.ContentKey: its
// stage and settings (its inputs enter as digests).
func (a *AnalysisUnit) Key() any {
	return struct {
		Kind     StageName       `json:"kind"`
		Settings json.RawMessage `json:"settings"`
	}{a.Stage, a.Settings}
}

// Plan expands a campaign from Parse into its units and stages.
func (c *Campaign) Plan() (*Plan, error) {
	if c == nil || c.units == nil {
		return nil, errors.New("pipelines: Plan needs a campaign returned by Parse")
	}
	p := &Plan{Name: c.Name, MaxParallel: c.Concurrency.MaxParallel,
		Metaopt: append([]MetaoptJob(nil), c.units.metaopt...),
		Train:   append([]TrainUnit(nil), c.units.train...)}

	ids := func(n int, id func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id(i)
		}
		return out
	}
	var done []StageName
	add := func(name StageName, units []string) {
		if len(units) == 0 {
			return
		}
		p.Stages = append(p.Stages, Stage{Name: name, After: append([]StageName(nil), done...), Units: units})
	}
	add(StageMetaopt, ids(len(p.Metaopt), func(i int) string { return p.Metaopt[i].ID }))
	if len(p.Metaopt) > 0 {
		done = []StageName{StageMetaopt}
	}
	add(StageTrain, ids(len(p.Train), func(i int) string { return p.Train[i].ID }))
	done = []StageName{StageTrain}

	st := c.Stages
	var analysis []StageName
	raw := func(v any) json.RawMessage {
		data, _ := json.Marshal(v) // plain numbers and strings, finite (checked by Parse)
		return data
	}
	perNetwork := func(name StageName, settings json.RawMessage) {
		var units []string
		for i := range p.Train {
			u := &p.Train[i]
			seed := u.Seed
			a := AnalysisUnit{ID: fmt.Sprintf("%s/%s/%s/seed=%d", name, u.Task, u.Rule, u.Seed), Stage: name,
				Task: u.Task, Rule: u.Rule, Seed: &seed, Inputs: []string{u.ID}, Settings: settings}
			p.Analysis = append(p.Analysis, a)
			units = append(units, a.ID)
		}
		add(name, units)
		analysis = append(analysis, name)
	}
	if st.FixedPoints.Enabled {
		s := st.FixedPoints
		perNetwork(StageFixedPoints, raw(s))
	}
	// perTask adds a stage of one unit per task, over every network of it.
	perTask := func(name StageName, settings json.RawMessage) {
		var units []string
		for _, t := range c.Tasks {
			a := AnalysisUnit{ID: fmt.Sprintf("%s/%s", name, t.Name), Stage: name, Task: t.Name, Settings: settings}
			for _, u := range p.Train {
				if u.Task == t.Name {
					a.Inputs = append(a.Inputs, u.ID)
				}
			}
			if len(a.Inputs) > 0 {
				p.Analysis = append(p.Analysis, a)
				units = append(units, a.ID)
			}
		}
		add(name, units)
		analysis = append(analysis, name)
	}
	if st.RSA.Enabled {
		perTask(StageRSA, raw(st.RSA))
	}
	if st.Landscape.Enabled {
		perTask(StageLandscape, raw(st.Landscape))
	}
	if st.Sensitivity.Enabled {
		s := st.Sensitivity
		perNetwork(StageSensitivity, raw(s))
	}
	if st.Report.Enabled {
		s := st.Report
		a := AnalysisUnit{ID: string(StageReport), Stage: StageReport, Settings: raw(s)}
		for _, s := range p.Stages {
			a.Inputs = append(a.Inputs, s.Units...)
		}
		p.Analysis = append(p.Analysis, a)
		if len(analysis) > 0 {
			done = analysis
		}
		add(StageReport, []string{a.ID})
	}
	// Analysis stages run after train only, landscape after fixedpoints
	// (whose fixed points it reads); fix the After lists built while they
	// were appended.
	for i := range p.Stages {
		switch p.Stages[i].Name {
		case StageFixedPoints, StageRSA, StageSensitivity:
			p.Stages[i].After = []StageName{StageTrain}
		case StageLandscape:
			p.Stages[i].After = []StageName{StageFixedPoints}
		}
	}
	p.CampaignID = c.ID()
	return p, nil
}

// ID returns the campaign ID: the first 16 hex digits of the sha256 of
// the canonical JSON of the normalised spec — the name, every unit's ID and
// key, and the stage settings. Formatting, comments, key order, the
// description, concurrency and where a value is written (defaults or every
// task) do not change it. It is "" for a campaign not from Parse.
func (c *Campaign) ID() string {
	if c == nil {
		return ""
	}
	return c.id
}

// campaignID computes the ID of c from its units.
func campaignID(c *Campaign) (string, error) {
	type unit struct {
		ID  string `json:"id"`
		Key any    `json:"key"`
	}
	spec := struct {
		Name   string    `json:"name"`
		Units  []unit    `json:"units"`
		Stages keyStages `json:"stages"`
	}{Name: c.Name, Stages: stagesKey(c.Stages)}
	for i := range c.units.metaopt {
		j := &c.units.metaopt[i]
		spec.Units = append(spec.Units, unit{j.ID, j.Key()})
	}
	for i := range c.units.train {
		u := &c.units.train[i]
		spec.Units = append(spec.Units, unit{u.ID, u.Key()})
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16], nil
}

// keyStages is Stages as it enters the campaign ID.
type keyStages struct {
	FixedPoints FixedPointsStage `json:"fixedpoints"`
	RSA         RSAStage         `json:"rsa"`
	Landscape   any              `json:"landscape"`
	Sensitivity SensitivityStage `json:"sensitivity"`
	Report      ReportStage      `json:"report"`
}

// landscapeOff is how a disabled landscape stage enters the campaign ID:
// the settings it had before it became the dynamical landscape (a J(Θ)
// grid: points, span, learners, trials), so that the IDs of campaigns
// without a landscape stage — and the workflow histories recorded under
// them — did not change when its settings did.
type landscapeOff struct {
	Enabled  bool    `json:"enabled"`
	Points   int     `json:"points"`
	Span     float64 `json:"span"`
	Learners int     `json:"learners"`
	Trials   int     `json:"trials"`
}

// stagesKey returns the stage settings as they enter the campaign ID.
func stagesKey(s Stages) keyStages {
	k := keyStages{FixedPoints: s.FixedPoints, RSA: s.RSA, Landscape: s.Landscape, Sensitivity: s.Sensitivity, Report: s.Report}
	if !s.Landscape.Enabled {
		k.Landscape = landscapeOff{Points: 11, Span: 1, Learners: 4, Trials: 300}
	}
	// The same for the sensitivity stage, whose default scale changed
	// from 0.01 to sensitivity.DefaultScale.
	if !s.Sensitivity.Enabled {
		k.Sensitivity = SensitivityStage{Perturbations: 100, Scale: 0.01}
	}
	return k
}
