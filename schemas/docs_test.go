package schemas_test

import (
	"os"
	"strings"
	"testing"

	"rulescape/schemas"
)

// TestDocsListEveryColumn keeps docs/DATASETS.md true: each kind's section
// has a table row `| `name` | type |` for every column, in order.
func TestDocsListEveryColumn(t *testing.T) {
	doc, err := os.ReadFile("../docs/DATASETS.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, k := range schemas.Kinds() {
		start := strings.Index(text, "### `"+string(k)+"`")
		if start < 0 {
			t.Errorf("docs/DATASETS.md has no section ### `%s`", k)
			continue
		}
		section := text[start+4:]
		if end := strings.Index(section, "\n### "); end >= 0 {
			section = section[:end]
		}
		cols, err := schemas.Columns(k)
		if err != nil {
			t.Fatal(err)
		}
		pos := 0
		for _, c := range cols {
			typ := c.Type
			if c.Nullable {
				typ += ", nullable"
			}
			row := "| `" + c.Name + "` | " + typ + " |"
			i := strings.Index(section[pos:], row)
			if i < 0 {
				t.Errorf("docs/DATASETS.md, %s: no row %q after the previous column", k, row)
				continue
			}
			pos += i + len(row)
		}
		if got, want := strings.Count(section, "\n| `"), len(cols); got != want {
			t.Errorf("docs/DATASETS.md, %s: %d column rows, the schema has %d", k, got, want)
		}
	}
}
