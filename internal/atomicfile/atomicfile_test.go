package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: a successful write replaces the file whole (creating its
// directory); a failed one leaves the old content and no temporary file.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "sub", "f.json")
	if err := WriteBytes(name, []byte("one")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(name, func(w io.Writer) error {
		if _, err := w.Write([]byte("half")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("failed write: error %v, want it to wrap boom", err)
	}
	if got, err := os.ReadFile(name); err != nil || string(got) != "one" {
		t.Errorf("after a failed write: %q, %v; want the old content", got, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(name))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only f.json (no temporary file left)", len(entries))
	}
	if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
}

// TestModes: Write leaves files world-readable (0644), WritePrivate
// owner-only (0600) with a new directory 0700 (the usual umask 022 leaves
// both as they are).
func TestModes(t *testing.T) {
	dir := t.TempDir()
	public, private := filepath.Join(dir, "report", "index.html"), filepath.Join(dir, "share", "urls.json")
	if err := WriteBytes(public, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivateBytes(private, []byte("https://…?X-Amz-Signature=…")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want os.FileMode
	}{{public, 0o644}, {private, 0o600}, {filepath.Dir(private), 0o700 | os.ModeDir}} {
		fi, err := os.Stat(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got.Perm() != c.want.Perm() || got.IsDir() != c.want.IsDir() {
			t.Errorf("%s: mode %v, want %v", c.name, got, c.want)
		}
	}
}
