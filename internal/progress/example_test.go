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
