package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write creates name's directory, lets write fill a temporary file beside
// name and renames it to name (mode 0644) if write and the close succeeded;
// otherwise the temporary file is removed and name is left as it was.
func Write(name string, write func(io.Writer) error) error {
	return WriteMode(name, 0o644, write)
}

// WritePrivate is Write with mode 0600 (and its directory 0700 when it
// creates it): for files that hold credentials or URLs that work without
// them (a share manifest's presigned URLs), and for downloaded datasets,
// which are the lab's until it shares them.
func WritePrivate(name string, write func(io.Writer) error) error {
	return WriteMode(name, 0o600, write)
}

// WriteMode is Write with the file's mode; its directory, when created,
// gets the mode's read bits as search bits too (0600 → 0700, 0644 → 0755).
func WriteMode(name string, mode os.FileMode, write func(io.Writer) error) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, mode|(mode&0o444)>>2); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	tmp := f.Name()
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// WriteBytes writes data to name with Write.
func WriteBytes(name string, data []byte) error {
	return Write(name, bytesWriter(data))
}

// WritePrivateBytes writes data to name with WritePrivate.
func WritePrivateBytes(name string, data []byte) error {
	return WritePrivate(name, bytesWriter(data))
}

func bytesWriter(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}
