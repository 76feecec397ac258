package manifest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"rulescape/store"
)

// Target is one object Verify checks: a dataset the manifest lists, or the
// report's index.html (committed under the report unit's content key).
type Target struct {
	Unit       string
	Kind       string
	ContentKey string
	// Ref is the object as the manifest (or the caller) records it; the
	// commit marker of ContentKey is the authority, Ref only names the
	// object when the marker is gone.
	Ref store.DatasetRef
}

// Targets returns the datasets of m as Verify's targets, in manifest order.
func Targets(m *Manifest) []Target {
	out := make([]Target, len(m.Datasets))
	for i, d := range m.Datasets {
		out[i] = Target{Unit: d.Unit, Kind: d.Kind, ContentKey: d.ContentKey, Ref: d.Ref}
	}
	return out
}

// Bad is one object that failed verification: which unit's dataset it is
// and what is wrong with it (store.Fault: missing, size or digest, or its
// commit marker is gone).
type Bad struct {
	Unit       string `json:"unit"`
	Kind       string `json:"kind"`
	ContentKey string `json:"content_key"`
	store.Fault
}

// Line returns the bad object as one line: key, what is wrong, and whose
// dataset it is.
func (b Bad) Line() string {
	what := strings.TrimPrefix(b.Fault.Error(), b.Key+": ")
	whose := fmt.Sprintf("the %s dataset of %s", b.Kind, b.Unit)
	if b.Kind == "report" {
		whose = "the report's page, unit " + b.Unit
	}
	return fmt.Sprintf("%s: %s: %s (%s)", b.Key, b.Problem, what, whose)
}

// Verification is what Verify found: how many objects and bytes it
// checked and the bad objects, in target order.
type Verification struct {
	Campaign string `json:"campaign"`
	Objects  int    `json:"objects"`
	Bytes    int64  `json:"bytes"` // bytes read and hashed
	Bad      []Bad  `json:"bad"`
}

// Verify checks every target against the commit marker of its content key:
// the marker must exist, and the object it names must exist and have the
// marker's size and SHA-256 (every byte is read). workers objects are read
// at once (0 = 4). An error is returned only for failures that say nothing
// about the objects (the store cannot be read); bad objects are in the
// Verification.
func Verify(ctx context.Context, st *store.Store, campaign string, targets []Target, workers int) (Verification, error) {
	if workers <= 0 {
		workers = 4
	}
	out := Verification{Campaign: campaign, Objects: len(targets), Bad: []Bad{}}
	bads := make([]*Bad, len(targets))
	read := make([]int64, len(targets))
	errs := make([]error, len(targets))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			read[i], bads[i], errs[i] = Check(ctx, st, t)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	for i := range targets {
		out.Bytes += read[i]
		if bads[i] != nil {
			out.Bad = append(out.Bad, *bads[i])
		}
	}
	return out, nil
}

// Check verifies one target (see Verify) and returns the bytes it read.
func Check(ctx context.Context, st *store.Store, t Target) (int64, *Bad, error) {
	ref, ok, err := st.Marker(ctx, t.ContentKey)
	if err != nil {
		return 0, nil, fmt.Errorf("verifying the %s dataset of %s: %w", t.Kind, t.Unit, err)
	}
	if !ok {
		return 0, &Bad{Unit: t.Unit, Kind: t.Kind, ContentKey: t.ContentKey, Fault: store.Fault{
			Key: t.Ref.Key, Problem: store.ProblemUncommitted, Want: t.Ref.Size, WantSHA: t.Ref.SHA256}}, nil
	}
	n, f, err := st.CheckObject(ctx, ref)
	if err != nil {
		return n, nil, fmt.Errorf("verifying the %s dataset of %s: %w", t.Kind, t.Unit, err)
	}
	if f != nil {
		return n, &Bad{Unit: t.Unit, Kind: t.Kind, ContentKey: t.ContentKey, Fault: *f}, nil
	}
	return n, nil, nil
}

// RepairCommand is the command that repairs a campaign's bad objects.
func RepairCommand(campaign string) string { return "rulescape verify " + campaign + " --repair" }

// BadObjectsError is the error of a command that found bad objects (and
// left them out): it names every one and the command that repairs them.
type BadObjectsError struct {
	Campaign string
	Bad      []Bad
	// Of is how many objects the command wanted (0: unknown).
	Of int
}

// Error lists the bad objects, one per line, then the repair command.
func (e *BadObjectsError) Error() string {
	var b strings.Builder
	of := ""
	if e.Of > 0 {
		of = fmt.Sprintf(" of %d", e.Of)
	}
	fmt.Fprintf(&b, "campaign %s: %d%s objects are bad", e.Campaign, len(e.Bad), of)
	for _, x := range e.Bad {
		b.WriteString("\n  " + x.Line())
	}
	fmt.Fprintf(&b, "\nrepair them with `%s` (it recomputes only the units whose datasets are bad)", RepairCommand(e.Campaign))
	return b.String()
}
