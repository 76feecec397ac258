package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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
	StageDSA         StageName = "dsa"
	StageAtlas       StageName = "atlas"
	StageReport      StageName = "report"
)

// PlanFormat is the format of a Plan's JSON encoding and the version of
// the campaign IDs it gives (ID v2; campaigns of ID v1 were identified by
// a hash of the parsed spec, see docs/CAMPAIGNS.md).
const PlanFormat = 2

// Plan is a campaign expanded into units, every setting resolved, ready to
// run: the CLI plans once and the campaign workflow runs the plan it is
// given (stored as an object named by its SHA-256, Plan.Encode), reading
// no campaign file and no default of its own.
type Plan struct {
	Format      int            `json:"format"`      // PlanFormat
	CampaignID  string         `json:"campaign_id"` // ID v2: first 16 hex digits of the sha256 of the plan's identity (Plan.ID)
	Name        string         `json:"name"`        // campaign name
	File        string         `json:"file"`        // the campaign file's name as given, for messages and the manifest
	Spec        string         `json:"spec"`        // the campaign file as written (recorded in the manifest; not part of the ID)
	Metaopt     []MetaoptJob   `json:"metaopt"`     // one per `from: metaopt` rule, in rule order
	Train       []TrainUnit    `json:"train"`       // tasks × rules × seeds, in that nesting order
	Analysis    []AnalysisUnit `json:"analysis"`
	Stages      []Stage        `json:"stages"`       // the stages that have units, in dependency order
	MaxParallel int            `json:"max_parallel"` // units in flight at once (0 = up to 64; the workers' slots limit it)
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
	// FixedPointsStage, RSAStage, LandscapeStage, SensitivityStage, DSAStage,
	// AtlasStage or ReportStage according to Stage.
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
	p := &Plan{Format: PlanFormat, Name: c.Name, File: c.File, Spec: c.spec, MaxParallel: c.Concurrency.MaxParallel,
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
	if st.DSA.Enabled {
		perTask(StageDSA, raw(st.DSA))
	}
	// The atlas reads, per task, the pairs of the dsa unit (when a dsa or
	// spectral distance weighs) and of the landscape unit (topology).
	var atlasAfter []StageName
	if st.Atlas.Enabled {
		var units []string
		if st.Atlas.Weight(DistanceDSA) > 0 || st.Atlas.Weight(DistanceSpectral) > 0 {
			atlasAfter = append(atlasAfter, StageDSA)
		}
		if st.Atlas.Weight(DistanceTopology) > 0 {
			atlasAfter = append(atlasAfter, StageLandscape)
		}
		for _, t := range c.Tasks {
			a := AnalysisUnit{ID: fmt.Sprintf("%s/%s", StageAtlas, t.Name), Stage: StageAtlas, Task: t.Name, Settings: raw(st.Atlas)}
			for _, s := range atlasAfter {
				id := fmt.Sprintf("%s/%s", s, t.Name)
				if slices.ContainsFunc(p.Analysis, func(u AnalysisUnit) bool { return u.ID == id }) {
					a.Inputs = append(a.Inputs, id)
				}
			}
			if len(a.Inputs) == len(atlasAfter) {
				p.Analysis = append(p.Analysis, a)
				units = append(units, a.ID)
			}
		}
		add(StageAtlas, units)
		analysis = append(analysis, StageAtlas)
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
		case StageFixedPoints, StageRSA, StageSensitivity, StageDSA:
			p.Stages[i].After = []StageName{StageTrain}
		case StageLandscape:
			p.Stages[i].After = []StageName{StageFixedPoints}
		case StageAtlas:
			p.Stages[i].After = atlasAfter
		}
	}
	id, err := p.ID()
	if err != nil {
		return nil, err
	}
	p.CampaignID = id
	return p, nil
}

// ID returns the plan's campaign ID (v2): the first 16 hex digits of the
// sha256 of the canonical JSON of the format version, the campaign name and
// every unit of the enabled stages — its ID, its resolved key (parameters
// and settings, store.ContentKey's params) and the units it reads. The
// file's formatting, comments, key order, description and concurrency, where
// a value is written (defaults or every task), and the settings of stages
// that are not enabled do not change it.
func (p *Plan) ID() (string, error) {
	type unit struct {
		ID     string   `json:"id"`
		Key    any      `json:"key"`
		Inputs []string `json:"inputs,omitempty"`
	}
	doc := struct {
		Format int    `json:"format"`
		Name   string `json:"name"`
		Units  []unit `json:"units"`
	}{Format: PlanFormat, Name: p.Name}
	for i := range p.Metaopt {
		j := &p.Metaopt[i]
		doc.Units = append(doc.Units, unit{ID: j.ID, Key: j.Key()})
	}
	for i := range p.Train {
		u := &p.Train[i]
		var in []string
		if u.Metaopt != "" {
			in = []string{u.Metaopt}
		}
		doc.Units = append(doc.Units, unit{ID: u.ID, Key: u.Key(), Inputs: in})
	}
	for i := range p.Analysis {
		a := &p.Analysis[i]
		doc.Units = append(doc.Units, unit{ID: a.ID, Key: a.Key(), Inputs: a.Inputs})
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("pipelines: campaign %s does not encode as JSON: %w", p.Name, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16], nil
}

// ID returns the campaign ID (v2) of the campaign's plan (Plan.ID). It is
// "" for a campaign not from Parse.
func (c *Campaign) ID() string {
	if c == nil {
		return ""
	}
	return c.id
}

// Encode returns the plan's JSON encoding (what is stored, at
// store.PlanKey of its SHA-256) and that digest.
func (p *Plan) Encode() (data []byte, sha256Hex string, err error) {
	data, err = json.Marshal(p)
	if err != nil {
		return nil, "", fmt.Errorf("pipelines: encoding the plan of %s: %w", p.Name, err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// DecodePlan decodes a plan from Encode, checking that its bytes have the
// SHA-256 the caller recorded (when sha256Hex is not "") and that its
// campaign ID is the ID of its contents.
func DecodePlan(data []byte, sha256Hex string) (*Plan, error) {
	if sha256Hex != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != sha256Hex {
			return nil, fmt.Errorf("pipelines: stored plan has SHA-256 %s, want %s: it was modified or truncated", got[:16], sha256Hex[:min(16, len(sha256Hex))])
		}
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("pipelines: stored plan: %w", err)
	}
	if p.Format != PlanFormat {
		return nil, fmt.Errorf("pipelines: stored plan has format %d; this version of rulescape reads format %d — run the campaign file again with this version", p.Format, PlanFormat)
	}
	id, err := p.ID()
	if err != nil {
		return nil, err
	}
	if id != p.CampaignID {
		return nil, fmt.Errorf("pipelines: stored plan says campaign %s but its units give %s", p.CampaignID, id)
	}
	return &p, nil
}

// Outline is what the campaign workflow needs of a plan to orchestrate it:
// the stages with their unit counts and dependencies. The units
// themselves stay in the stored plan, which the activities read.
type Outline struct {
	Name        string         `json:"name"`
	MaxParallel int            `json:"max_parallel"`
	Stages      []OutlineStage `json:"stages"` // in dependency order
}

// OutlineStage is one stage of an Outline.
type OutlineStage struct {
	Name  StageName   `json:"name"`
	After []StageName `json:"after"`
	Units int         `json:"units"`
}

// Outline returns the plan's outline.
func (p *Plan) Outline() Outline {
	o := Outline{Name: p.Name, MaxParallel: p.MaxParallel}
	for _, s := range p.Stages {
		o.Stages = append(o.Stages, OutlineStage{Name: s.Name, After: append([]StageName(nil), s.After...), Units: len(s.Units)})
	}
	return o
}

// Stage returns the stage of the plan named name, or nil.
func (p *Plan) Stage(name StageName) *Stage {
	for i := range p.Stages {
		if p.Stages[i].Name == name {
			return &p.Stages[i]
		}
	}
	return nil
}
