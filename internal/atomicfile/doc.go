// Package atomicfile writes local files whole or not at all: the content
// goes to a temporary file beside the target, which is renamed over it only
// when the write succeeded. A reader never sees a half-written file, and a
// failed write leaves the target as it was.
package atomicfile
