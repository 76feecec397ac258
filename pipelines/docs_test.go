package pipelines

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryKey checks that README.md has a table row for
// every key a campaign file accepts.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	want := map[string]bool{}
	for _, k := range append(append(append([]string{}, topKeys...), ParamKeys()...), ruleKeys...) {
		want[k] = true
	}
	for _, k := range []string{"random.seed", "random.scale", "max_parallel", "trials", "stop_at_criterion", "overrides", "task_params"} {
		want[k] = true
	}
	for _, v := range []any{MetaoptSpec{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			want[rt.Field(i).Tag.Get("yaml")] = true
		}
	}
	st := reflect.TypeFor[Stages]()
	for i := range st.NumField() {
		stage := st.Field(i)
		ft := stage.Type
		for j := range ft.NumField() {
			want[stage.Tag.Get("yaml")+"."+ft.Field(j).Tag.Get("yaml")] = true
		}
	}
	for k := range want {
		if !strings.Contains(doc, "| `"+k+"` |") {
			t.Errorf("README.md has no table row for `%s`", k)
		}
	}
}

// TestCampaignsDocumentsEveryLimit checks that docs/CAMPAIGNS.md has a row
// for every limit RULESCAPE_LIMITS takes, with its default.
func TestCampaignsDocumentsEveryLimit(t *testing.T) {
	data, err := os.ReadFile("../docs/CAMPAIGNS.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, l := range LimitTable() {
		row := "| `" + l.Name + "` | "
		if l.Name != "case_bytes" {
			row += strconv.FormatInt(l.Default, 10) + " |"
		}
		if !strings.Contains(doc, row) {
			t.Errorf("docs/CAMPAIGNS.md has no row %q", row)
		}
	}
	for _, name := range []string{"memory", "cores"} {
		if !strings.Contains(doc, "| `"+name+"` | ") {
			t.Errorf("docs/CAMPAIGNS.md has no row for %s", name)
		}
	}
}
