package pipelines

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"rulescape/core/plasticity"
	"rulescape/core/tasks"
)

// MaxUnits bounds the train units of one campaign (tasks × rules × seeds).
const MaxUnits = 100000

// topKeys are the keys of a campaign file, in documentation order.
var topKeys = []string{"name", "description", "defaults", "tasks", "rules", "seeds", "train", "stages", "concurrency"}

// Parse reads a campaign from data; name is the file name errors report.
// It validates every value, resolving and building every unit's training
// setup once, so that a campaign that parses only fails at run time for
// reasons of the run (divergence, interruption). Every size is checked
// against the limits of this machine (LimitsFromEnv): a bound of the limits
// table, and every unit's estimated peak memory against the worker memory
// budget. Errors are *ParseError.
func Parse(name string, data []byte) (*Campaign, error) {
	lim, err := LimitsFromEnv()
	if err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	return ParseWithLimits(name, data, lim)
}

// ParseWithLimits is Parse with the given limits: NoLimits re-reads a
// campaign that was planned already. The limits are not part of the
// campaign: its ID does not depend on them.
func ParseWithLimits(name string, data []byte, lim Limits) (*Campaign, error) {
	d := &decoder{file: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, d.syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, d.errf(nil, "", "start from pipelines/quickstart.yaml", "the file is empty")
	}
	top := doc.Content[0]
	pairs, err := d.mapping(top, "", "name: my-study")
	if err != nil {
		return nil, err
	}
	nodes := map[string]pair{}
	for _, p := range pairs {
		if !contains(topKeys, p.key) {
			return nil, d.unknown(p, "", topKeys)
		}
		nodes[p.key] = p
	}
	for _, key := range []string{"name", "tasks", "rules", "seeds"} {
		if _, ok := nodes[key]; !ok {
			return nil, d.errf(top, key, "add a top-level "+key+": (see pipelines/README.md)", "is missing")
		}
	}
	p := &parser{d: d, c: &Campaign{File: name, Stages: defaultStages()}, nodes: nodes, lim: lim}
	for _, step := range []func() error{p.header, p.defaults, p.train, p.parseTasks, p.seeds, p.parseRules, p.stages, p.concurrency, p.expand} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	p.c.spec = string(data)
	plan, err := p.c.Plan()
	if err != nil {
		return nil, d.errf(top, "", "remove NaN or infinite values (task_params included)", "the campaign does not encode as JSON: %v", err)
	}
	p.c.id = plan.CampaignID
	return p.c, nil
}

var syntaxLineRE = regexp.MustCompile(`line (\d+)`)

// syntaxError reports a YAML syntax error at its line.
func (d *decoder) syntaxError(err error) error {
	msg := yamlLineRE.ReplaceAllString(err.Error(), "")
	e := d.errf(nil, "", "fix the YAML syntax there (key: value, lists as \"- item\", spaces not tabs)", "%s", msg)
	if m := syntaxLineRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
	}
	return e
}

// badValue reports "path = value what — fix" at node n.
func (d *decoder) badValue(n *yaml.Node, path string, v any, what, fix string) error {
	if s, ok := v.(string); ok {
		v = Excerpt(s)
	}
	return d.errf(n, path, fix, "%s = %v %s", path, v, what)
}

// setting is one parameter set by a campaign file.
type setting struct {
	key  string
	path string     // field path, e.g. "tasks[0].overrides.eta"
	node *yaml.Node // its value
}

// layer is a block of parameters (defaults, a task's or rule's overrides).
type layer []setting

// source records which settings produced a unit's parameters.
type source struct {
	preset string
	set    map[string]setting
}

func (s *source) Ref(key string) string {
	if st, ok := s.set[key]; ok {
		return st.path
	}
	return fmt.Sprintf("%s (preset %s)", key, s.preset)
}

func (s *source) Explicit(key string) bool { _, ok := s.set[key]; return ok }

func (s *source) Name(key string) string { return key }

func (s *source) clone() *source {
	c := &source{preset: s.preset, set: make(map[string]setting, len(s.set))}
	for k, v := range s.set {
		c.set[k] = v
	}
	return c
}

// resolved is parameters with their source.
type resolved struct {
	p   Params
	src *source
}

func (r resolved) clone() resolved {
	p := r.p
	p.Clamps = append(FloatList(nil), r.p.Clamps...)
	p.TaskParams = r.p.TaskParams.Merged(nil)
	if r.p.Theta != nil {
		p.Theta = append(Matrix(nil), r.p.Theta...)
	}
	return resolved{p, r.src.clone()}
}

// apply sets the layer's values, recording where they came from.
func (d *decoder) apply(r resolved, l layer) (resolved, error) {
	r = r.clone()
	for _, s := range l {
		if err := d.value(s.node, s.path, r.p.Field(s.key).Addr().Interface()); err != nil {
			return r, err
		}
		r.src.set[s.key] = s
	}
	return r, nil
}

// parser holds the state of one Parse.
type parser struct {
	d     *decoder
	c     *Campaign
	nodes map[string]pair
	lim   Limits

	base      resolved   // preset + defaults (+ train.trials)
	taskRes   []resolved // per task entry: base + task layer
	taskNodes []*yaml.Node
	ruleEnts  []ruleEntry
}

// ruleEntry is a parsed rules entry.
type ruleEntry struct {
	node      *yaml.Node
	path      string
	overrides layer
	rule      setting // the setting that gives Θ (rule or theta key)
	metaopt   layer   // metaopt.overrides
	metaNode  *yaml.Node
}

func (p *parser) header() error {
	d, c := p.d, p.c
	n := p.nodes["name"]
	if err := d.value(n.v, "name", &c.Name); err != nil {
		return err
	}
	if !nameRE.MatchString(c.Name) {
		return d.errf(n.v, "name", "use lowercase letters, digits, '.', '_' and '-' (at most 63), e.g. my-study", "%s is not a valid name", Excerpt(c.Name))
	}
	if n, ok := p.nodes["description"]; ok {
		return d.value(n.v, "description", &c.Description)
	}
	return nil
}

// forbidden lists keys a parameter block may not set, with the fix.
type forbidden map[string]string

var (
	inDefaults = forbidden{
		"task":        "list tasks under tasks:",
		"task_params": "give task_params per entry of tasks:",
		"rule":        "list rules under rules:",
		"theta":       "list rules under rules: (a rule with theta: [[...]])",
	}
	inOverrides = forbidden{
		"preset":      "set the preset once, in defaults:",
		"task":        "give the task in the entry's task: key",
		"task_params": "give task_params in the task entry, beside overrides",
		"rule":        "list rules under rules:",
		"theta":       "list rules under rules: (a rule with theta: [[...]])",
	}
	inMetaopt = forbidden{
		"preset":      "set the preset once, in defaults:",
		"task":        "name a tasks entry in metaopt.task",
		"task_params": "give task_params in the tasks entry metaopt.task names",
		"rule":        "set the initial rule with metaopt.init",
		"theta":       "set the initial rule with metaopt.init",
		"trials":      "set the horizon with metaopt.trials",
	}
)

// layer parses a block of parameters, checking each value's type.
func (p *parser) layer(n *yaml.Node, path string, no forbidden) (layer, error) {
	d := p.d
	pairs, err := d.mapping(n, path, "{eta: 0.05, n: 100}")
	if err != nil {
		return nil, err
	}
	var l layer
	for _, kv := range pairs {
		if fix, bad := no[kv.key]; bad {
			return nil, d.errf(kv.k, join(path, kv.key), fix, "cannot be set here")
		}
		if !contains(ParamKeys(), kv.key) {
			var valid []string
			for _, k := range ParamKeys() {
				if _, bad := no[k]; !bad {
					valid = append(valid, k)
				}
			}
			return nil, d.unknown(kv, path, valid)
		}
		var scratch Params
		if err := d.value(kv.v, join(path, kv.key), scratch.Field(kv.key).Addr().Interface()); err != nil {
			return nil, err
		}
		l = append(l, setting{kv.key, join(path, kv.key), kv.v})
	}
	return l, nil
}

func (p *parser) defaults() error {
	d := p.d
	var l layer
	preset := PresetDefault
	if n, ok := p.nodes["defaults"]; ok {
		var err error
		if l, err = p.layer(n.v, "defaults", inDefaults); err != nil {
			return err
		}
		for _, s := range l {
			if s.key == "preset" {
				if err := d.value(s.node, s.path, &preset); err != nil {
					return err
				}
				if _, err := Preset(preset); err != nil {
					return d.errf(s.node, s.path, "choose one of "+strings.Join(PresetNames(), ", "), "%s is not a preset", Excerpt(preset))
				}
			}
		}
	}
	base, _ := Preset(preset)
	r, err := d.apply(resolved{base, &source{preset: preset, set: map[string]setting{}}}, l)
	if err != nil {
		return err
	}
	p.base = r
	return nil
}

func (p *parser) train() error {
	d, c := p.d, p.c
	n, ok := p.nodes["train"]
	if !ok {
		c.Defaults = p.base.clone().p
		return nil
	}
	got, err := d.fields(n.v, "train", "{trials: 600, stop_at_criterion: true}", &c.Train)
	if err != nil {
		return err
	}
	if tn, ok := got["trials"]; ok {
		if c.Train.Trials < 1 {
			return d.badValue(tn, "train.trials", c.Train.Trials, "is too small", "train for at least 1 trial")
		}
		if err := p.lim.Exceeds("trials", "trials", "train.trials", int64(c.Train.Trials)); err != nil {
			pe := err.(*ParamError)
			return d.errf(tn, "train.trials", pe.Fix, "%s", pe.Problem)
		}
		if s, ok := p.base.src.set["trials"]; ok {
			return d.errf(tn, "train.trials", "keep one of them (train.trials is the usual place)",
				"and %s (line %d) both set the trials", s.path, s.node.Line)
		}
		p.base.p.Trials = c.Train.Trials
		p.base.src.set["trials"] = setting{"trials", "train.trials", tn}
	}
	c.Defaults = p.base.clone().p
	return nil
}

func (p *parser) parseTasks() error {
	d, c := p.d, p.c
	items, err := d.sequence(p.nodes["tasks"].v, "tasks", "\"- name: dnms\"")
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return d.errf(p.nodes["tasks"].v, "tasks", "list at least one task, e.g. \"- name: dnms\" ("+strings.Join(tasks.Names(), ", ")+")", "is empty")
	}
	seen := map[string]int{}
	for i, item := range items {
		path := index("tasks", i)
		var e struct {
			Name string `yaml:"name"`
			Task string `yaml:"task"`
		}
		got, err := d.fields(item, path, "{name: dnms, task_params: {steps: 500}}", &e, "task_params", "overrides")
		if err != nil {
			return err
		}
		if e.Task == "" {
			e.Task = e.Name
		}
		if e.Name == "" {
			e.Name = e.Task
		}
		if e.Name == "" {
			return d.errf(item, path, "give the task's name, e.g. name: dnms ("+strings.Join(tasks.Names(), ", ")+")", "has no name")
		}
		nameNode := got["name"]
		if nameNode == nil {
			nameNode = got["task"]
		}
		if !nameRE.MatchString(e.Name) {
			return d.errf(nameNode, join(path, "name"), "use lowercase letters, digits, '.', '_' and '-'", "%s is not a valid name", Excerpt(e.Name))
		}
		if j, dup := seen[e.Name]; dup {
			return d.errf(nameNode, join(path, "name"), "give each entry its own name (name: for the entry, task: for the task it runs)",
				"%q is already the name of tasks[%d]", e.Name, j)
		}
		seen[e.Name] = i
		taskKey := "name"
		if got["task"] != nil {
			taskKey = "task"
		}
		var l layer
		tn := yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.Task, Line: got[taskKey].Line, Column: got[taskKey].Column}
		l = append(l, setting{"task", join(path, taskKey), &tn})
		if tp, ok := got["task_params"]; ok {
			var scratch JSONObject
			if err := d.value(tp, join(path, "task_params"), &scratch); err != nil {
				return err
			}
			l = append(l, setting{"task_params", join(path, "task_params"), tp})
		}
		if ov, ok := got["overrides"]; ok {
			ol, err := p.layer(ov, join(path, "overrides"), inOverrides)
			if err != nil {
				return err
			}
			l = append(l, ol...)
		}
		r, err := d.apply(p.base, l)
		if err != nil {
			return err
		}
		if !contains(tasks.Names(), e.Task) {
			return d.errf(&tn, join(path, taskKey), "choose one of "+strings.Join(tasks.Names(), ", "), "%s is not a known task", Excerpt(e.Task))
		}
		p.taskRes = append(p.taskRes, r)
		p.taskNodes = append(p.taskNodes, item)
		c.Tasks = append(c.Tasks, Task{Name: e.Name, Task: e.Task, Params: r.p})
	}
	return nil
}

func (p *parser) seeds() error {
	d, c := p.d, p.c
	n := resolve(p.nodes["seeds"].v)
	var text string
	switch n.Kind {
	case yaml.ScalarNode:
		text = n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, it := range n.Content {
			var v uint64
			if err := d.value(it, index("seeds", i), &v); err != nil {
				return err
			}
			parts[i] = strconv.FormatUint(v, 10)
		}
		text = strings.Join(parts, ",")
	default:
		return d.errf(n, "seeds", `write seeds as "1-8", "1,3,5" or a list [1, 3, 5]`, "is %s", kindName(n))
	}
	seeds, err := ParseSeeds(text)
	if err != nil {
		msg, fix, _ := strings.Cut(err.Error(), " — ")
		return d.errf(n, "seeds", fix, "%s", msg)
	}
	c.Seeds = seeds
	return nil
}

// ruleKeys are the keys of a rules entry.
var ruleKeys = []string{"name", "rule", "theta", "random", "from", "metaopt", "tasks", "overrides"}

func (p *parser) parseRules() error {
	d, c := p.d, p.c
	rn := p.nodes["rules"].v
	items, err := d.sequence(rn, "rules", "\"- name: miconi\"")
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return d.errf(rn, "rules", "list at least one rule, e.g. \"- name: miconi\" ("+strings.Join(plasticity.RuleNames(), ", ")+")", "is empty")
	}
	seen := map[string]int{}
	for i, item := range items {
		path := index("rules", i)
		var e struct {
			Name string `yaml:"name"`
			Rule string `yaml:"rule"`
			From string `yaml:"from"`
		}
		got, err := d.fields(item, path, "{name: miconi}", &e, "theta", "random", "metaopt", "tasks", "overrides")
		if err != nil {
			return err
		}
		if got["name"] == nil {
			return d.errf(item, path, "give the rule a name, e.g. name: miconi (a named rule) or name: my-rule with theta:", "has no name")
		}
		if !nameRE.MatchString(e.Name) {
			return d.errf(got["name"], join(path, "name"), "use lowercase letters, digits, '.', '_' and '-'", "%s is not a valid name", Excerpt(e.Name))
		}
		if j, dup := seen[e.Name]; dup {
			return d.errf(got["name"], join(path, "name"), "give each rule its own name (rule: miconi keeps the named rule)",
				"%q is already the name of rules[%d]", e.Name, j)
		}
		seen[e.Name] = i
		var forms []string
		for _, k := range []string{"rule", "theta", "random", "from"} {
			if got[k] != nil {
				forms = append(forms, k)
			}
		}
		if len(forms) > 1 {
			return d.errf(got[forms[1]], join(path, forms[1]), "keep one: rule: NAME, theta: [[...]], random: {seed: 1} or from: metaopt",
				"and %s both give the rule", forms[0])
		}
		if got["metaopt"] != nil && got["from"] == nil {
			return d.errf(got["metaopt"], join(path, "metaopt"), "add from: metaopt to discover this rule, or remove metaopt:", "is given without from: metaopt")
		}
		r := Rule{Name: e.Name}
		ent := ruleEntry{node: item, path: path}
		switch {
		case got["theta"] != nil:
			r.Kind = RuleTheta
			if err := d.value(got["theta"], join(path, "theta"), &r.Theta); err != nil {
				return err
			}
			ent.rule = setting{"theta", join(path, "theta"), got["theta"]}
		case got["random"] != nil:
			r.Kind = RuleRandom
			r.Random = &RandomSpec{Seed: 1, Scale: 0.1}
			rp := join(path, "random")
			fs, err := d.fields(got["random"], rp, "{seed: 7, scale: 0.1}", r.Random)
			if err != nil {
				return err
			}
			if s := r.Random.Scale; math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
				return d.badValue(fs["scale"], join(rp, "scale"), s, "is out of range", "use a finite standard deviation ≥ 0, e.g. 0.1")
			}
			ent.rule = setting{"theta", rp, got["random"]}
		case got["from"] != nil:
			if e.From != "metaopt" {
				return d.errf(got["from"], join(path, "from"), "write from: metaopt (the only source of discovered rules)", "%s is not known", Excerpt(e.From))
			}
			r.Kind = RuleMetaopt
			spec, ov, err := p.metaoptSpec(got["metaopt"], join(path, "metaopt"), got["from"])
			if err != nil {
				return err
			}
			r.Metaopt, ent.metaopt, ent.metaNode = spec, ov, got["metaopt"]
			if ent.metaNode == nil {
				ent.metaNode = got["from"]
			}
			ent.rule = setting{"theta", join(path, "from"), got["from"]}
		default:
			r.Kind, r.Named = RuleNamed, e.Name
			key := "name"
			if got["rule"] != nil {
				r.Named, key = e.Rule, "rule"
			}
			if !contains(plasticity.RuleNames(), r.Named) {
				return d.errf(got[key], join(path, key), "choose one of "+strings.Join(plasticity.RuleNames(), ", ")+
					", or give theta: [[...]], random: {seed: 1} or from: metaopt", "%s is not a named rule", Excerpt(r.Named))
			}
			ent.rule = setting{"rule", join(path, key), got[key]}
		}
		if tn, ok := got["tasks"]; ok {
			tp := join(path, "tasks")
			if err := d.value(tn, tp, &r.Tasks); err != nil {
				return err
			}
			for j, t := range r.Tasks {
				if p.taskIndex(t) < 0 {
					return d.errf(resolve(tn).Content[j], index(tp, j), p.taskFix(t), "%s is not a tasks entry", Excerpt(t))
				}
			}
		}
		if ov, ok := got["overrides"]; ok {
			if ent.overrides, err = p.layer(ov, join(path, "overrides"), inOverrides); err != nil {
				return err
			}
		}
		c.Rules = append(c.Rules, r)
		p.ruleEnts = append(p.ruleEnts, ent)
	}
	return nil
}

// taskIndex returns the index of the tasks entry name, or -1.
func (p *parser) taskIndex(name string) int {
	for i, t := range p.c.Tasks {
		if t.Name == name {
			return i
		}
	}
	return -1
}

func (p *parser) taskFix(name string) string {
	var names []string
	for _, t := range p.c.Tasks {
		names = append(names, t.Name)
	}
	fix := "name one of the tasks entries: " + strings.Join(names, ", ")
	if near := Nearest(name, names); near != "" {
		fix = fmt.Sprintf("did you mean %q? (%s)", near, fix)
	}
	return fix
}

// metaoptSpec parses the metaopt section of a rule (n may be nil).
func (p *parser) metaoptSpec(n *yaml.Node, path string, at *yaml.Node) (*MetaoptSpec, layer, error) {
	d := p.d
	s := DefaultMetaopt()
	var ov layer
	got := map[string]*yaml.Node{}
	if n != nil {
		var err error
		if got, err = d.fields(n, path, "{task: dnms, iters: 100}", &s, "overrides"); err != nil {
			return nil, nil, err
		}
		if o, ok := got["overrides"]; ok {
			if ov, err = p.layer(o, join(path, "overrides"), inMetaopt); err != nil {
				return nil, nil, err
			}
		}
	}
	pos := func(key string) (*yaml.Node, string) {
		if v, ok := got[key]; ok {
			return v, join(path, key)
		}
		if n != nil {
			return n, path
		}
		return at, path
	}
	if s.Task == "" {
		if len(p.c.Tasks) != 1 {
			n, f := pos("task")
			return nil, nil, d.errf(n, f, p.taskFix(""), "needs task: (the campaign has %d tasks)", len(p.c.Tasks))
		}
		s.Task = p.c.Tasks[0].Name
	} else if p.taskIndex(s.Task) < 0 {
		n, f := pos("task")
		return nil, nil, d.errf(n, f, p.taskFix(s.Task), "%s is not a tasks entry", Excerpt(s.Task))
	}
	if err := s.Validate(func(key string) string { return join(path, key) }); err != nil {
		var pe *ParamError
		if !errors.As(err, &pe) {
			return nil, nil, err
		}
		n, f := pos(pe.Key)
		return nil, nil, d.errf(n, f, pe.Fix, "%s", pe.Problem)
	}
	if err := p.lim.CheckMetaopt(&s, func(key string) string { return join(path, key) }); err != nil {
		pe := err.(*ParamError)
		n, f := pos(pe.Key)
		return nil, nil, d.errf(n, f, pe.Fix, "%s", pe.Problem)
	}
	return &s, ov, nil
}

// reflectValue formats the field of s tagged key.
func reflectValue(s *MetaoptSpec, key string) string {
	data, _ := json.Marshal(s)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(data, &m)
	return string(m[key])
}

// stageKeys are the keys of the stages section.
var stageKeys = []string{"fixedpoints", "rsa", "landscape", "sensitivity", "dsa", "atlas", "report"}

func (p *parser) stages() error {
	d, c := p.d, p.c
	n, ok := p.nodes["stages"]
	if !ok {
		return nil
	}
	pairs, err := d.mapping(n.v, "stages", "{fixedpoints: {enabled: true}}")
	if err != nil {
		return err
	}
	st := &c.Stages
	var landscapeKey, atlasKey *yaml.Node
	var atlasGot map[string]*yaml.Node
	for _, kv := range pairs {
		switch kv.key {
		case "landscape":
			landscapeKey = kv.k
		case "atlas":
			atlasKey = kv.k
		}
		path := join("stages", kv.key)
		var dst any
		switch kv.key {
		case "fixedpoints":
			st.FixedPoints.Enabled, dst = true, &st.FixedPoints
		case "rsa":
			st.RSA.Enabled, dst = true, &st.RSA
		case "landscape":
			st.Landscape.Enabled, dst = true, &st.Landscape
		case "sensitivity":
			st.Sensitivity.Enabled, dst = true, &st.Sensitivity
		case "dsa":
			st.DSA.Enabled, dst = true, &st.DSA
		case "atlas":
			st.Atlas.Enabled, dst = true, &st.Atlas
		case "report":
			st.Report.Enabled, dst = true, &st.Report
		default:
			return d.unknown(kv, "stages", stageKeys)
		}
		if v := resolve(kv.v); v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue // "rsa:" alone turns the stage on with its defaults
		}
		got, err := d.fields(kv.v, path, "{enabled: true}", dst)
		if err != nil {
			return err
		}
		bad := func(key, fix string, v any) error {
			return d.badValue(got[key], join(path, key), v, "is out of range", fix)
		}
		finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
		switch kv.key {
		case "fixedpoints":
			s := st.FixedPoints
			switch {
			case s.Inits < 1:
				return bad("inits", "use at least 1 initial state", s.Inits)
			case s.MaxIters < 1:
				return bad("max_iters", "use at least 1 iteration", s.MaxIters)
			case !finite(s.Tol) || s.Tol <= 0:
				return bad("tol", "use a small positive speed, e.g. 1e-6", s.Tol)
			case s.Deflation < 0:
				return bad("deflation", "use 0 (off) or a number of rounds of deflated searches, e.g. 4", s.Deflation)
			case !finite(s.DeflationPower) || s.DeflationPower < 0:
				return bad("deflation_power", "use a positive power, e.g. 3 (the default)", s.DeflationPower)
			case !finite(s.DeflationShift) || s.DeflationShift < 0:
				return bad("deflation_shift", "use a positive shift, e.g. 1 (the default)", s.DeflationShift)
			}
			st.FixedPoints = s.Normalized()
		case "rsa":
			s := st.RSA
			switch {
			case s.Permutations < 0:
				return bad("permutations", "use 0 (no test) or a number of shuffles, e.g. 1000", s.Permutations)
			case s.Metric != "correlation" && s.Metric != "euclidean":
				return d.badValue(got["metric"], join(path, "metric"), s.Metric, "is not known", "use correlation or euclidean")
			}
		case "landscape":
			s := st.Landscape
			switch {
			case s.PCs < 1:
				return bad("pcs", "project on at least 1 principal axis, e.g. 3", s.PCs)
			case s.Permutations < 0:
				return bad("permutations", "use 0 (no test) or a number of shuffles, e.g. 1000", s.Permutations)
			case s.ConnectSteps < 1:
				return bad("connect_steps", "follow each saddle branch for at least 1 step, e.g. 4000", s.ConnectSteps)
			}
		case "sensitivity":
			s := st.Sensitivity
			switch {
			case s.Perturbations < 1:
				return bad("perturbations", "use at least 1 perturbation", s.Perturbations)
			case !finite(s.Scale) || s.Scale <= 0:
				return bad("scale", "use a positive relative size, e.g. 1e-6", s.Scale)
			}
		case "dsa":
			s := st.DSA
			switch {
			case s.Delays < 1:
				return bad("n_delays", "stack at least 1 state per delay vector, e.g. 10", s.Delays)
			case s.DelayInterval < 1:
				return bad("delay_interval", "use at least 1 step between delayed states", s.DelayInterval)
			case s.Rank < 1:
				return bad("rank", "use at least 1 dimension, e.g. 10", s.Rank)
			case s.Restarts < 1:
				return bad("restarts", "use at least 1 start, e.g. 16", s.Restarts)
			case s.Permutations < 0:
				return bad("permutations", "use 0 (no test) or a number of shuffles, e.g. 1000", s.Permutations)
			}
			if got["distances"] != nil {
				if err := s.Validate(); err != nil {
					return d.errf(got["distances"], join(path, "distances"), "list dsa, spectral or both, e.g. [spectral] for the cheap distance only",
						"stages.dsa.distances: %s is not a distance", Excerpt(err.(*SettingError).Value.(string)))
				}
				if len(s.Distances) == 0 {
					return d.errf(got["distances"], join(path, "distances"), "list dsa, spectral or both, or remove the key (both)", "stages.dsa.distances is empty")
				}
				if slices.Contains(s.Distances, DistanceDSA) && slices.Contains(s.Distances, DistanceSpectral) {
					st.DSA.Distances = nil // both: the default, written as it is
				} else {
					st.DSA.Distances = []string{s.Distances[0]}
				}
			}
		case "atlas":
			atlasGot = got
		}
		if name, key, v, over := p.lim.stageExcess(*st, kv.key); over {
			pe := p.lim.Exceeds(name, key, join(path, key), int64(v)).(*ParamError)
			return d.errf(got[key], join(path, key), pe.Fix, "%s", pe.Problem)
		}
	}
	if st.Landscape.Enabled && !st.FixedPoints.Enabled {
		return d.errf(landscapeKey, "stages.landscape", "add a fixedpoints section, e.g. stages: {fixedpoints: {}, landscape: {}}",
			"stages.landscape needs the fixed points of the fixedpoints stage, which is off")
	}
	if st.Atlas.Enabled {
		return p.atlas(atlasKey, atlasGot)
	}
	return nil
}

// atlas completes and checks the atlas stage's settings once the other
// stages are known: a distance without a weight weighs 1 when its stage
// computes it, else 0; a positive weight on a distance no stage computes
// is an error.
func (p *parser) atlas(key *yaml.Node, got map[string]*yaml.Node) error {
	d, st := p.d, &p.c.Stages
	path := "stages.atlas"
	at := func(k string) *yaml.Node {
		if n := got[k]; n != nil {
			return n
		}
		return key
	}
	computed := map[string]string{ // distance → why it is not computed, "" when it is
		DistanceDSA: "", DistanceSpectral: "", DistanceTopology: ""}
	for _, dist := range []string{DistanceDSA, DistanceSpectral} {
		switch {
		case !st.DSA.Enabled:
			computed[dist] = "the dsa stage is off"
		case !st.DSA.Computes(dist):
			computed[dist] = fmt.Sprintf("the dsa stage computes distances: %v only", st.DSA.Distances)
		}
	}
	if !st.Landscape.Enabled {
		computed[DistanceTopology] = "the landscape stage is off"
	}
	w := map[string]float64{}
	for k, v := range st.Atlas.Weights {
		if !slices.Contains(AtlasDistances, k) {
			return d.errf(at("weights"), join(path, "weights"), "weigh dsa, spectral or topology",
				"stages.atlas.weights: %s is not a distance", Excerpt(k))
		}
		w[k] = v
	}
	for _, dist := range AtlasDistances {
		v, set := w[dist]
		why := computed[dist]
		switch {
		case !set && why == "":
			w[dist] = 1
		case !set:
			w[dist] = 0
		case v > 0 && why != "":
			fix := "add the dsa stage, or set weights." + dist + ": 0"
			if dist == DistanceTopology {
				fix = "add the fixedpoints and landscape stages, or set weights.topology: 0"
			} else if st.DSA.Enabled {
				fix = "add " + dist + " to stages.dsa.distances, or set weights." + dist + ": 0"
			}
			return d.errf(at("weights"), join(path, "weights."+dist), fix,
				"stages.atlas.weights.%s = %v weighs the %s distance, but %s", dist, v, dist, why)
		}
	}
	st.Atlas.Weights = w
	if err := st.Atlas.Validate(); err != nil {
		se := err.(*SettingError)
		k, _, _ := strings.Cut(se.Key, ".")
		return d.errf(at(k), join(path, se.Key), "use "+se.Want, "stages.atlas.%s = %v is out of range", se.Key, se.Value)
	}
	return nil
}

func (p *parser) concurrency() error {
	d, c := p.d, p.c
	n, ok := p.nodes["concurrency"]
	if !ok {
		return nil
	}
	got, err := d.fields(n.v, "concurrency", "{max_parallel: 4}", &c.Concurrency)
	if err != nil {
		return err
	}
	if c.Concurrency.MaxParallel < 0 {
		return d.badValue(got["max_parallel"], "concurrency.max_parallel", c.Concurrency.MaxParallel, "is negative", "use 0 (up to 64 at once) or a positive bound")
	}
	if err := p.lim.Exceeds("parallel", "max_parallel", "concurrency.max_parallel", int64(c.Concurrency.MaxParallel)); err != nil {
		pe := err.(*ParamError)
		return d.errf(got["max_parallel"], "concurrency.max_parallel", pe.Fix, "%s", pe.Problem)
	}
	return nil
}

// expand resolves and builds every unit once.
func (p *parser) expand() error {
	d, c := p.d, p.c
	u := &units{}
	jobK := map[string][2]int{}  // rule → K, L of its job
	mem := map[int]*taskMemory{} // tasks index → what its rsa and landscape units hold
	for i, r := range c.Rules {
		if r.Kind != RuleMetaopt {
			continue
		}
		ent := p.ruleEnts[i]
		ti := p.taskIndex(r.Metaopt.Task)
		res, err := d.apply(p.taskRes[ti], ent.metaopt)
		if err != nil {
			return err
		}
		s := *r.Metaopt
		res.p.Trials = s.Trials
		res.src.set["trials"] = setting{"trials", join(ent.path, "metaopt.trials"), ent.metaNode}
		switch s.Init {
		case "random":
			rule, err := RandomRule(res.p.K, res.p.L, s.InitScale, s.Seed)
			if err != nil {
				return p.paramError(res.src, ent.metaNode, join(ent.path, "metaopt"), &ParamError{Key: "k", Err: err,
					Problem: fmt.Sprintf("%s, %s: %v", res.src.Ref("k"), res.src.Ref("l"), err), Fix: "use K and L in [0, 8]"}, "")
			}
			res.p.Rule, res.p.Theta = "", rule.Matrix()
		default:
			res.p.Rule, res.p.Theta = s.Init, nil
		}
		res.src.set["rule"] = setting{"rule", join(ent.path, "metaopt.init"), ent.metaNode}
		res.src.set["theta"] = res.src.set["rule"]
		b, err := res.p.Build(res.src)
		if err == nil {
			err = res.p.RequireF64(res.src, "metaopt", "set precision: f32 in the tasks' or rules' overrides rather than in defaults, or metaopt.overrides: {precision: f64} for the job")
		}
		if err == nil {
			err = p.lim.CheckParams(&res.p, res.src)
		}
		if err == nil {
			err = checkPolicyNoise(s.Estimator, b.Setup.Perturb, res.src)
		}
		if err != nil {
			return p.paramError(res.src, ent.metaNode, join(ent.path, "metaopt"), err, fmt.Sprintf(" (metaopt job of %s)", r.Name))
		}
		if err := p.lim.CheckMemory(fmt.Sprintf("the metaopt job of rule %s", r.Name), MetaoptBytes(ShapeOf(b.Setup), &s, p.lim.Cores), ""); err != nil {
			return p.memoryError(res.src, ent.metaNode, join(ent.path, "metaopt"), err.(*MemoryError))
		}
		if err := canonicalTask(&res.p, b); err != nil {
			return d.errf(ent.metaNode, join(ent.path, "metaopt"), "remove NaN or infinite task_params", "task parameters do not encode as JSON: %v", err)
		}
		jobK[r.Name] = [2]int{res.p.K, res.p.L}
		u.metaopt = append(u.metaopt, MetaoptJob{ID: fmt.Sprintf("%s/%s", StageMetaopt, r.Name), Rule: r.Name,
			Task: s.Task, Params: res.p, Settings: s})
	}
	for ti, t := range c.Tasks {
		for ri, r := range c.Rules {
			if len(r.Tasks) > 0 && !contains(r.Tasks, t.Name) {
				continue
			}
			ent := p.ruleEnts[ri]
			res, err := d.apply(p.taskRes[ti], ent.overrides)
			if err != nil {
				return err
			}
			res.src.set[ent.rule.key] = ent.rule
			jobID := ""
			switch r.Kind {
			case RuleNamed:
				res.p.Rule, res.p.Theta = r.Named, nil
			case RuleTheta:
				res.p.Rule, res.p.Theta = "", append(Matrix(nil), r.Theta...)
			case RuleRandom:
				rule, err := RandomRule(res.p.K, res.p.L, r.Random.Scale, r.Random.Seed)
				if err != nil {
					return p.paramError(res.src, ent.node, ent.path, &ParamError{Key: "k", Err: err,
						Problem: fmt.Sprintf("%s, %s: %v", res.src.Ref("k"), res.src.Ref("l"), err), Fix: "use K and L in [0, 8]"}, "")
				}
				res.p.Rule, res.p.Theta = "", rule.Matrix()
			case RuleMetaopt:
				kl := jobK[r.Name]
				zero, _ := plasticity.NewRule(kl[0], kl[1])
				res.p.Rule, res.p.Theta = "", zero.Matrix()
				jobID = fmt.Sprintf("%s/%s", StageMetaopt, r.Name)
			}
			b, err := res.p.Build(res.src)
			if err == nil {
				err = p.lim.CheckParams(&res.p, res.src)
			}
			if err != nil {
				return p.paramError(res.src, ent.node, ent.path, err, fmt.Sprintf(" (rule %s on task %s)", r.Name, t.Name))
			}
			if err := p.checkUnitMemory(res, b, ent, r.Name, t.Name, ti, &mem); err != nil {
				return err
			}
			if err := canonicalTask(&res.p, b); err != nil {
				return d.errf(p.taskNodes[ti], index("tasks", ti), "remove NaN or infinite task_params", "task parameters do not encode as JSON: %v", err)
			}
			if jobID != "" {
				res.p.Theta = nil
			}
			if len(u.train)+len(c.Seeds) > MaxUnits {
				return d.errf(p.nodes["seeds"].v, "seeds", "split the study into several campaigns", "the campaign has more than %d train units", MaxUnits)
			}
			for _, seed := range c.Seeds {
				pp := res.clone().p
				u.train = append(u.train, TrainUnit{
					ID:   fmt.Sprintf("%s/%s/%s/seed=%d", StageTrain, t.Name, r.Name, seed),
					Task: t.Name, Rule: r.Name, Seed: seed, Params: pp,
					StopAtCriterion: c.Train.StopAtCriterion, Metaopt: jobID})
			}
		}
	}
	if len(u.train) == 0 {
		return d.errf(p.nodes["rules"].v, "rules", "widen the rules' tasks: lists", "no rule is trained on any task")
	}
	if err := p.checkTaskMemory(mem); err != nil {
		return err
	}
	c.units = u
	return nil
}

// canonicalTask replaces p.TaskParams by every parameter of the built task
// (defaults included), so that keys do not depend on how they were written.
func canonicalTask(p *Params, b *Built) error {
	data, err := json.Marshal(b.Setup.Task)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	p.TaskParams = m
	return nil
}

// paramError places a Build error at the setting of the parameter at
// fault, or at the unit's entry when the value is the preset's.
func (p *parser) paramError(src *source, at *yaml.Node, path string, err error, context string) error {
	var pe *ParamError
	if !errors.As(err, &pe) {
		return p.d.errAt(at, path, err, "")
	}
	cp := *pe
	cp.Problem += context
	pe, err = &cp, &cp
	if s, ok := src.set[pe.Key]; ok && s.node != nil {
		at, path = s.node, s.path
	}
	return p.d.errAt(at, path, err, pe.Fix)
}
