package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"rulescape/stages"
)

// tinyMeta is a meta-optimization small enough for a unit test.
var tinyMeta = []string{"metaopt", "--n", "12", "--trials", "6", "--warmup", "0", "--clip", "0", "--gain", "plain",
	"--task-params", `{"Steps":40,"Stim1End":8,"Stim2Start":16,"Stim2End":24,"Response":8}`,
	"--learners", "2", "--held-out", "2", "--eval-every", "1", "--progress", "never", "-o", "json"}

func metaArgs(extra ...string) []string { return append(append([]string(nil), tinyMeta...), extra...) }

func parseMetaLines(t *testing.T, out string) ([]stages.MetaoptIteration, stages.MetaoptFinal) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var iters []stages.MetaoptIteration
	for _, l := range lines[:len(lines)-1] {
		var it stages.MetaoptIteration
		if err := json.Unmarshal([]byte(l), &it); err != nil {
			t.Fatalf("bad iteration line %q: %v", l, err)
		}
		iters = append(iters, it)
	}
	var fin stages.MetaoptFinal
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &fin); err != nil || !fin.Final {
		t.Fatalf("bad final line %q: %v", lines[len(lines)-1], err)
	}
	return iters, fin
}

func TestMetaoptJSONAndExactResume(t *testing.T) {
	for _, est := range []string{"exact", "projection:3", "es"} {
		t.Run(est, func(t *testing.T) {
			code, out, errOut := runCLI(t, metaArgs("--estimator", est, "--iters", "4", "--init", "random")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			iters, fin := parseMetaLines(t, out)
			if len(iters) != 4 || fin.Iters != 4 || len(fin.Theta) != 4 || len(fin.Theta[0]) != 4 {
				t.Fatalf("want 4 iterations and a 4×4 Θ, got %d, %+v", len(iters), fin)
			}
			if iters[0].HeldOutJ == nil || fin.HeldOutJ == nil {
				t.Fatal("held-out J missing")
			}

			// The same run interrupted after 2 iterations and resumed from
			// its checkpoint ends at the bit-identical Θ.
			cp := filepath.Join(t.TempDir(), "state.json")
			if code, _, e := runCLI(t, metaArgs("--estimator", est, "--iters", "2", "--init", "random", "--checkpoint", cp)...); code != 0 {
				t.Fatal(e)
			}
			code, out2, e := runCLI(t, metaArgs("--estimator", est, "--iters", "4", "--init", "random", "--checkpoint", cp)...)
			if code != 0 {
				t.Fatal(e)
			}
			resumed, fin2 := parseMetaLines(t, out2)
			if len(resumed) != 2 || resumed[0].Iter != 2 {
				t.Fatalf("resume should run iterations 2 and 3, ran %d starting at %d", len(resumed), resumed[0].Iter)
			}
			if !reflect.DeepEqual(fin.Theta, fin2.Theta) || !reflect.DeepEqual(iters[3].Theta, resumed[1].Theta) {
				t.Fatalf("resumed run differs:\n%v\n%v", fin.Theta, fin2.Theta)
			}
		})
	}
}

func TestMetaoptBadInput(t *testing.T) {
	cp := filepath.Join(t.TempDir(), "cp.json")
	if code, _, e := runCLI(t, metaArgs("--iters", "1", "--checkpoint", cp)...); code != 0 {
		t.Fatal(e)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.json")
	os.WriteFile(garbage, []byte("{not json"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{metaArgs("--estimator", "projection:0"), "--estimator"},
		{metaArgs("--estimator", "adagrad"), "--estimator"},
		{metaArgs("--init", "hebbian-everything"), "--init"},
		{metaArgs("--iters", "0"), "--iters"},
		{metaArgs("--gamma", "1.5"), "--gamma"},
		{metaArgs("--dist", "cauchy"), "--dist"},
		{metaArgs("--precision", "f32"), `--precision = "f32" is not supported by metaopt`},
		{metaArgs("--iters", "2", "--checkpoint", cp, "--n", "13"), "different setup"},
		{metaArgs("--checkpoint", garbage), "not a rulescape checkpoint"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code == 0 || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line mentioning %q", tc.args[len(tinyMeta):], code, out, errOut, tc.want)
		}
	}
}
