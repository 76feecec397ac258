package stages

import (
	"testing"

	"rulescape/pipelines"
)

func TestEveryStageHasAVersion(t *testing.T) {
	v := Current()
	seen := map[string]pipelines.StageName{}
	for _, s := range []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain, pipelines.StageFixedPoints,
		pipelines.StageRSA, pipelines.StageLandscape, pipelines.StageSensitivity, pipelines.StageReport} {
		ver, err := v.Of(s)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[ver]; dup {
			t.Errorf("stages %s and %s share version %q: a version names one stage's code", s, other, ver)
		}
		seen[ver] = s
	}
	if _, err := v.Of("nosuchstage"); err == nil {
		t.Error("Of(nosuchstage): want an error")
	}
	w := v.With(pipelines.StageRSA, "rsa-test")
	if w[pipelines.StageRSA] != "rsa-test" || v[pipelines.StageRSA] == "rsa-test" {
		t.Error("With must copy, not modify")
	}
}
