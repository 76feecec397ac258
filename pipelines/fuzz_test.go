package pipelines

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors are
// *ParseError, and that a campaign that parses also plans.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"quickstart.yaml", "miconi2017.yaml", "rules-vs-solutions.yaml", "solution-atlas.yaml", "testdata/forms.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "name: x", base, idBase, "a: &a [*a]", "name: t\ntasks: [{name: dnms}]\nrules: [{name: d, from: metaopt}]\nseeds: 1\n",
		"<<: {name: x}", "name: [1]\ntasks: {}\n", base + "stages: {rsa: , report: 1}\n", base + "train: &a {<<: *a}\n", "defaults: &a {n: *a}\n" + base} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		c, err := Parse("f.yaml", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, not a *ParseError", err, err)
			}
			// One line of bounded length, whatever the input: errors quote
			// short excerpts, never the input itself.
			if msg := err.Error(); len(msg) > 2000 || strings.Contains(msg, "\n") {
				t.Fatalf("error of %d bytes (or several lines) for a %d-byte input: %.200q…", len(msg), len(data), msg)
			}
			return
		}
		p, err := c.Plan()
		if err != nil {
			t.Fatalf("parsed but does not plan: %v", err)
		}
		if len(p.Train) == 0 || p.CampaignID == "" {
			t.Fatalf("empty plan %+v", p)
		}
	})
}
