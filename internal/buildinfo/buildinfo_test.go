package buildinfo

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCheckoutRevision: inside this checkout the revision is git's HEAD
// (with +dirty when tracked files changed); outside any checkout it is "".
func TestCheckoutRevision(t *testing.T) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout (%v): nothing to compare with", err)
	}
	head := strings.TrimSpace(string(out))
	if got := checkoutRevision(); strings.TrimSuffix(got, "+dirty") != head {
		t.Errorf("checkoutRevision() = %q, want %s (or %s+dirty)", got, head, head)
	}
	t.Chdir(t.TempDir())
	if got := checkoutRevision(); got != "" {
		t.Errorf("outside a checkout: checkoutRevision() = %q, want \"\"", got)
	}
}
