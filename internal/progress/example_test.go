package progress_test

import (
	"fmt"
	"time"

	"rulescape/internal/progress"
)

func ExampleRender() {
	fmt.Println(progress.Render("dnms/miconi", "trials", 1200, 2400, 30*time.Second, 20))
	// Output: dnms/miconi [==========>         ] 1200/2400  50.0%  40.0 trials/s  ETA 30s
}

func ExampleRenderETA() {
	// A campaign stage: 5 of 9 units in 12 s, and the workflow's own
	// estimate of the time left.
	fmt.Println(progress.RenderETA("train", "units", 5, 9, 12*time.Second, 10*time.Second, 20))
	// Output: train [===========>        ] 5/9  55.6%  0.4 units/s  ETA 10s
}
