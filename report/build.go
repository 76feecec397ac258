package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/store"
)

// Index is the name of the report's page, its commit point.
const Index = "index.html"

// StagesFile is the report file that records the stage timings the report
// was built with, so that a report regenerated from the datasets alone
// keeps them.
const StagesFile = "stages.json"

// File is one file of a report, by its path relative to the report's
// directory (e.g. "index.html", "figures/learning-curves.png").
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Figure is one figure of the report: the HTML id of its element, its
// title and caption, the datasets it was drawn from (object keys) and its
// files.
type Figure struct {
	ID      string
	Title   string
	Caption string
	Sources []string
	PNG     string // file name relative to index.html
	SVG     string
	// Inline is the PNG as a data: URL, which the page shows: the page is
	// then whole in one object, so a presigned link to index.html alone
	// (rulescape share) shows every figure. PNG and SVG stay beside it.
	Inline template.URL
	render rendered
}

// Section is one section of the report: a stage's figures, or a line
// saying why it has none.
type Section struct {
	ID      string
	Title   string
	Stage   string
	Note    string // set when there are no figures
	Figures []Figure
}

// section describes one section of the report. To add the figures of a
// new stage, add one entry to sections.
type section struct {
	id, title string
	stage     pipelines.StageName
	build     func(*Data, rulePalette) ([]Figure, error)
}

// sections are the report's sections in page order; the learning curves
// come first.
var sections = []section{
	{"learning-curves", "Learning curves", pipelines.StageTrain, learningCurvesFigure},
	{"metaopt", "Meta-optimization", pipelines.StageMetaopt, metaoptFigures},
	{"fixed-points", "Fixed points", pipelines.StageFixedPoints, fixedPointFigure},
	{"rdms", "Representational dissimilarity", pipelines.StageRSA, rdmFigure},
	{"similarity", "Network similarity", pipelines.StageRSA, similarityFigure},
	{"landscape", "Dynamical landscape", pipelines.StageLandscape, landscapeFigures},
	{"sensitivity", "Behavioural sensitivity", pipelines.StageSensitivity, sensitivityFigure},
	{"dsa", "Dynamical similarity", pipelines.StageDSA, dsaFigures},
	{"atlas", "Solution-family atlas", pipelines.StageAtlas, atlasFigures},
}

// Report is a built report: the page's content and its files.
type Report struct {
	Sections []Section
	// Cited are the object keys of every dataset the report cites (the
	// manifest's datasets), sorted.
	Cited []string
	Files []File // figures first, StagesFile, then index.html last
}

//go:embed templates/index.html.tmpl templates/style.css
var templates embed.FS

var page = template.Must(template.New("index.html.tmpl").Funcs(template.FuncMap{
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"seconds": func(s float64) string { return fmt.Sprintf("%.1f s", s) },
}).ParseFS(templates, "templates/index.html.tmpl"))

// Build computes the figures of d, draws them and renders the page. It
// reads nothing but d: the same d gives byte-identical files.
func Build(d *Data) (*Report, error) {
	pal := rulePalette{}
	var rules []string
	for _, e := range d.Manifest.Datasets {
		if r := ruleOf(e); r != "" && !slices.Contains(rules, r) {
			rules = append(rules, r)
		}
	}
	for _, r := range d.LearningCurves {
		if !slices.Contains(rules, r.Rule) {
			rules = append(rules, r.Rule)
		}
	}
	slices.Sort(rules)
	for i, r := range rules {
		pal[r] = ruleColors[i%len(ruleColors)]
	}
	rep := &Report{}
	for _, s := range sections {
		sec := Section{ID: s.id, Title: s.title, Stage: string(s.stage)}
		status, planned := d.Manifest.Stages[string(s.stage)]
		switch {
		case !planned:
			sec.Note = fmt.Sprintf("The campaign has no %s stage.", s.stage)
		case status != "completed":
			sec.Note = fmt.Sprintf("The %s stage did not run (status: %s).", s.stage, status)
		default:
			figs, err := buildSection(s, d, pal)
			if err != nil {
				return nil, fmt.Errorf("report: section %s: %w", s.id, err)
			}
			if len(figs) == 0 {
				sec.Note = fmt.Sprintf("The %s stage ran but its datasets hold nothing to draw here.", s.stage)
			}
			for _, f := range figs {
				base := "figures/" + strings.TrimPrefix(f.ID, "fig-")
				f.PNG, f.SVG = base+".png", base+".svg"
				slices.Sort(f.Sources)
				f.Sources = slices.Compact(f.Sources)
				rep.Files = append(rep.Files, File{Name: f.PNG, ContentType: "image/png", Data: f.render.PNG},
					File{Name: f.SVG, ContentType: "image/svg+xml", Data: f.render.SVG})
				f.Inline = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.render.PNG))
				f.render = rendered{}
				sec.Figures = append(sec.Figures, f)
			}
		}
		rep.Sections = append(rep.Sections, sec)
	}
	for _, e := range d.Manifest.Datasets {
		rep.Cited = append(rep.Cited, e.Ref.Key)
	}
	slices.Sort(rep.Cited)
	rep.Cited = slices.Compact(rep.Cited)

	if d.Stages != nil {
		data, err := json.MarshalIndent(d.Stages, "", "  ")
		if err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, File{Name: StagesFile, ContentType: "application/json", Data: append(data, '\n')})
	}
	html, err := rep.page(d)
	if err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, File{Name: Index, ContentType: "text/html; charset=utf-8", Data: html})
	return rep, nil
}

// buildSection runs one section's builder, turning a panic of the plotting
// library (e.g. on data it cannot scale) into an error naming the section.
func buildSection(s section, d *Data, pal rulePalette) (figs []Figure, err error) {
	defer func() {
		if r := recover(); r != nil {
			figs, err = nil, fmt.Errorf("drawing the figures panicked: %v", r)
		}
	}()
	return s.build(d, pal)
}

// ruleOf returns the rule partition of a dataset's key, unescaped (as the
// rows' Rule is), or "".
func ruleOf(e manifest.Entry) string {
	p, err := store.ParseDatasetKey(e.Ref.Key)
	if err != nil {
		return ""
	}
	for _, part := range p.Partitions {
		if part.Name == "rule" {
			return part.Value
		}
	}
	return ""
}

// pageData is what the template renders.
type pageData struct {
	M          manifest.Manifest
	SpecSHA256 string
	Stages     []Stage
	Timings    bool // Stages carry the run's timings
	Sections   []Section
	Datasets   []manifest.Entry
	CSS        template.CSS
}

// page renders index.html.
func (r *Report) page(d *Data) ([]byte, error) {
	css, err := templates.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(d.Manifest.Spec))
	pd := pageData{M: d.Manifest, SpecSHA256: hex.EncodeToString(sum[:]), Stages: d.Stages, Timings: d.Stages != nil,
		Sections: r.Sections, Datasets: d.Manifest.Datasets, CSS: template.CSS(css)}
	if pd.Stages == nil {
		names := make([]string, 0, len(d.Manifest.Stages))
		for n := range d.Manifest.Stages {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int { return stageOrder(a) - stageOrder(b) })
		for _, n := range names {
			pd.Stages = append(pd.Stages, Stage{Name: n, Status: d.Manifest.Stages[n]})
		}
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, pd); err != nil {
		return nil, fmt.Errorf("report: rendering %s: %w", Index, err)
	}
	return buf.Bytes(), nil
}

// stageOrder is the position of a stage in a campaign's dependency order.
func stageOrder(name string) int {
	order := []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain, pipelines.StageFixedPoints, pipelines.StageRSA,
		pipelines.StageLandscape, pipelines.StageSensitivity, pipelines.StageDSA, pipelines.StageAtlas, pipelines.StageReport}
	if i := slices.Index(order, pipelines.StageName(name)); i >= 0 {
		return i
	}
	return len(order)
}
