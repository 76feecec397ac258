package devstack_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreStaysLight guards the import graph: the science engine must not
// pull in the embedded stack, Temporal or S3, so `go test ./core/...`
// never compiles the Temporal server.
func TestCoreStaysLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "rulescape/core/...").CombinedOutput()
	if err != nil {
		t.Skipf("go list unavailable: %v: %s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"rulescape/internal/devstack", "go.temporal.io/", "github.com/minio/", "github.com/temporalio/"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("core depends on %s", pkg)
			}
		}
	}
}
