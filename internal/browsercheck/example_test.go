package browsercheck_test

import (
	"context"
	"fmt"
	"log"

	"rulescape/internal/browsercheck"
)

// The report's acceptance check: the page opens without console errors,
// exceptions or failed loads, and its learning-curve figure is drawn.
// (In a test, call browsercheck.Require(t) first so that a machine
// without Chromium skips instead of failing.)
func ExampleCheck() {
	ctx := context.Background()
	r, err := browsercheck.Check(ctx, "report/index.html", browsercheck.Options{}, "fig-learning-curves")
	if err != nil {
		log.Fatal(err) // Chromium did not start or the page did not open
	}
	if err := r.Err(); err != nil {
		log.Fatal(err) // console errors, exceptions, missing images …
	}
	st, err := r.CheckFigure("fig-learning-curves")
	if err != nil {
		log.Fatal(err) // hidden, broken, blank or covered figure
	}
	fmt.Printf("figure drawn at %v with %.0f%% of its ink shown\n", st.Box, 100*st.InkShown)
}
