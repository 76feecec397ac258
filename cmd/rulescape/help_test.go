package main

import (
	"io/fs"
	"strings"
	"testing"
)

// TestHelpFiles: every help text is used by a command, no placeholder is
// left unfilled, and every top-level command has a long help text.
func TestHelpFiles(t *testing.T) {
	used := map[string]bool{}
	root := newRoot(&app{})
	for _, c := range root.Commands() {
		cmds := append(c.Commands(), c)
		for _, sub := range cmds {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if sub == c && strings.TrimSpace(sub.Long) == "" && sub.Name() != "version" {
				t.Errorf("rulescape %s has no long help", sub.CommandPath())
			}
			for _, text := range []string{sub.Long, sub.Example} {
				if strings.Contains(text, "{{") {
					t.Errorf("rulescape %s: unfilled placeholder in %q", sub.CommandPath(), text)
				}
				if text != "" {
					used[text] = true
				}
			}
		}
	}
	files, err := fs.Glob(helpFiles, "help/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no help files embedded (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "help/"), ".txt")
		if !used[help(name)] {
			t.Errorf("%s is used by no command", f)
		}
	}
}
