package tasks_test

import (
	"fmt"
	"testing"

	"rulescape/core/tasks"
)

// With PulseProb = 0 only the load pulse remains: every channel is pulsed on
// steps 0–9 with the condition's sign and the target holds it all trial.
func TestFlipFlopLoadOnly(t *testing.T) {
	task := mustConfigure(t, "flipflop", `{"pulse_prob": 0}`)
	for c, name := range task.Spec().Conditions {
		tr := task.Trial(c, rng(3))
		e := newExpect(1000, 3, 3)
		for k := 0; k < 3; k++ {
			s := -1.0
			if name[k] == '+' {
				s = 1
			}
			e.in(k, 0, 9, s)
			e.out(k, 1, 1000, s)
		}
		e.check(t, name, &tr)
	}
}

// With PulseProb = 1 the onsets are deterministic: 0, 100, …, 700 (the last
// onset must be ≤ T − Hold − PulseWidth = 790), only the signs are random.
func TestFlipFlopSchedule(t *testing.T) {
	task := mustConfigure(t, "flipflop", `{"pulse_prob": 1, "settle": 30}`)
	onsets := []int{0, 100, 200, 300, 400, 500, 600, 700}
	for c, name := range task.Spec().Conditions {
		tr := task.Trial(c, rng(uint64(c)))
		e := newExpect(1000, 3, 3)
		for k := 0; k < 3; k++ {
			for j, s := range onsets {
				sign := at(&tr, s, k) // read back the random sign …
				if j == len(onsets)-1 {
					sign = -1 // … except the last, which is the condition's
					if name[k] == '+' {
						sign = 1
					}
				}
				if sign != 1 && sign != -1 {
					t.Fatalf("%s: pulse at %d on channel %d has value %v", name, s, k, sign)
				}
				e.in(k, s, s+9, sign)
				end := 1000
				if j+1 < len(onsets) {
					end = onsets[j+1]
				}
				// y^{s+1} … y^{end} follow this pulse.
				for y := s + 1; y <= end; y++ {
					e.Y[(y-1)*3+k] = sign
				}
			}
		}
		for t := range e.K {
			e.K[t] = 1
		}
		for _, s := range onsets { // m = 0 on y^{s+1} … y^{s+30}
			for y := s + 1; y <= s+30; y++ {
				e.K[y-1] = 0
			}
		}
		e.check(t, name, &tr)
	}
}

// With random onsets: recover the pulses from the inputs and check every
// documented property of the schedule and the targets.
func TestFlipFlopRandom(t *testing.T) {
	task := tasks.NewFlipFlop()
	total := 0
	const trials = 400
	for i := 0; i < trials; i++ {
		c := i % 8
		tr := task.Trial(c, rng(uint64(i)))
		for k := 0; k < 3; k++ {
			var onsets []int
			for s := 0; s < 1000; s++ {
				v := at(&tr, s, k)
				if v != 0 && v != 1 && v != -1 {
					t.Fatalf("trial %d: input %v", i, v)
				}
				if v != 0 && (s == 0 || at(&tr, s-1, k) == 0) {
					onsets = append(onsets, s)
				}
			}
			if onsets[0] != 0 {
				t.Fatalf("trial %d channel %d: no load pulse at step 0", i, k)
			}
			for j, s := range onsets {
				for d := 0; d < 10; d++ {
					if at(&tr, s+d, k) != at(&tr, s, k) {
						t.Fatalf("trial %d channel %d: pulse at %d is not 10 steps of one sign", i, k, s)
					}
				}
				if at(&tr, s+10, k) != 0 {
					t.Fatalf("trial %d channel %d: pulse at %d longer than 10 steps", i, k, s)
				}
				if j > 0 && s-onsets[j-1] < 100 {
					t.Fatalf("trial %d channel %d: onsets %d and %d closer than MinGap", i, k, onsets[j-1], s)
				}
				if s > 790 {
					t.Fatalf("trial %d channel %d: onset %d inside the final hold", i, k, s)
				}
			}
			total += len(onsets) - 1
			// Targets follow the last onset ≤ t−1; the final one is the condition's bit.
			cur := 0.0
			next := 0
			for row := 0; row < 1000; row++ {
				if next < len(onsets) && onsets[next] == row {
					cur = at(&tr, row, k)
					next++
				}
				if tr.Target[row*3+k] != cur {
					t.Fatalf("trial %d channel %d: target at y^%d = %v, want %v", i, k, row+1, tr.Target[row*3+k], cur)
				}
			}
			want := -1.0
			if c>>k&1 == 1 {
				want = 1
			}
			if cur != want {
				t.Fatalf("trial %d (%s) channel %d ends at %v", i, task.Spec().Conditions[c], k, cur)
			}
		}
		for row, m := range tr.Mask {
			if m != 1 {
				t.Fatalf("trial %d: mask %v at y^%d with Settle = 0", i, m, row+1)
			}
		}
		if !task.Correct(&tr, tr.Target) {
			t.Fatalf("trial %d: target judged incorrect", i)
		}
	}
	// The documented pulse rate: ≈1.6 extra pulses per channel per trial.
	t.Logf("mean %.3f", float64(total)/(3*trials))
	if mean := float64(total) / (3 * trials); mean < 1.4 || mean > 1.8 {
		t.Errorf("%.2f extra pulses per channel per trial, documented ≈1.6", mean)
	}
}

// Correct fails when one channel has the wrong sign in one segment only.
func TestFlipFlopCorrect(t *testing.T) {
	task := mustConfigure(t, "flipflop", `{"pulse_prob": 1}`)
	tr := task.Trial(5, rng(1))
	y := append([]float64(nil), tr.Target...)
	for i := range y {
		y[i] *= 0.5
	}
	if !task.Correct(&tr, y) {
		t.Fatal("half the target judged incorrect")
	}
	for _, seg := range []int{0, 350, 950} {
		bad := append([]float64(nil), y...)
		for row := seg; row < seg+20; row++ {
			bad[row*3+1] = -bad[row*3+1] * 50 // channel 1 flips hard for 20 steps
		}
		if task.Correct(&tr, bad) {
			t.Errorf("%s: wrong sign on channel 1 at y^%d… judged correct", fmt.Sprint(task.Spec().Conditions[5]), seg+1)
		}
	}
}
