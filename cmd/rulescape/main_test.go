package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"rulescape/internal/devstack"
)

// TestAddressFlags checks that --address and --namespace override
// TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, and that the environment applies
// without them.
func TestAddressFlags(t *testing.T) {
	t.Setenv("TEMPORAL_PROFILE", "")
	t.Setenv("TEMPORAL_CONFIG_FILE", t.TempDir()+"/none.toml")
	options := func(args ...string) (string, string, bool) {
		t.Helper()
		a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		root := newRoot(a)
		if err := root.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		opts, external, err := a.temporalOptions()
		if err != nil {
			t.Fatal(err)
		}
		return opts.HostPort, opts.Namespace, external
	}

	t.Setenv(devstack.EnvTemporalAddr, "")
	t.Setenv(devstack.EnvTemporalNS, "")
	if addr, _, external := options(); external || addr != "" {
		t.Errorf("no address anywhere: external %v, address %q; want the embedded stack", external, addr)
	}
	if addr, ns, external := options("--address", "flag:7233", "--namespace", "fns"); !external || addr != "flag:7233" || ns != "fns" {
		t.Errorf("flags only: %q %q external %v", addr, ns, external)
	}

	t.Setenv(devstack.EnvTemporalAddr, "env:7233")
	t.Setenv(devstack.EnvTemporalNS, "envns")
	if addr, ns, external := options(); !external || addr != "env:7233" || ns != "envns" {
		t.Errorf("environment only: %q %q external %v", addr, ns, external)
	}
	if addr, ns, _ := options("--address", "flag:7233", "--namespace", "fns"); addr != "flag:7233" || ns != "fns" {
		t.Errorf("flags and environment: %q %q; want the flags'", addr, ns)
	}
	if addr, ns, _ := options("--namespace", "fns"); addr != "env:7233" || ns != "fns" {
		t.Errorf("--namespace alone: %q %q", addr, ns)
	}
}

// TestPrinter checks the three output formats and the sticky write error.
func TestPrinter(t *testing.T) {
	type row struct {
		A int       `json:"a"`
		F jsonFloat `json:"f"`
	}
	for _, format := range outputFormats {
		var b bytes.Buffer
		p := (&app{stdout: &b, output: format}).printer()
		p.Textf("header %d\n", 1)
		for i := range 2 {
			p.Print(row{i, jsonFloat(float64(i) / 0)}, func(w io.Writer) { fmt.Fprintf(w, "row %d\n", i) })
		}
		p.Print(json.RawMessage(`{"raw": true}`), nil)
		want := "header 1\nrow 0\nrow 1\n"
		if p.JSON() {
			want = `{"a":0,"f":null}` + "\n" + `{"a":1,"f":null}` + "\n" + `{"raw": true}` + "\n"
		}
		if b.String() != want || p.Err() != nil {
			t.Errorf("-o %s: %q (err %v), want %q", format, b.String(), p.Err(), want)
		}
	}
	p := (&app{stdout: failWriter{}, output: "text"}).printer()
	p.Textf("x")
	if err := p.Textf("y"); err == nil || !strings.Contains(err.Error(), "closed") || p.Err() == nil {
		t.Errorf("write error not kept: %v", err)
	}
	if code, _, stderr := runCLI(t, "version", "-o", "jsonl"); code != 0 {
		t.Errorf("-o jsonl refused: %s", stderr)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }
