// Package reporttest checks report figures in tests: a PNG must decode and
// show several distinct colours, an SVG must parse as XML with an svg root
// and many drawn paths — so an empty or broken figure fails.
package reporttest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
)

// PNG decodes data as a PNG and checks that it is at least 200×150 pixels
// with at least minColors distinct colours (sampled on every other pixel).
func PNG(data []byte, minColors int) error {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not a PNG: %w", err)
	}
	b := img.Bounds()
	if b.Dx() < 200 || b.Dy() < 150 {
		return fmt.Errorf("%v is too small for a figure", b)
	}
	if n := distinctColors(img); n < minColors {
		return fmt.Errorf("%d distinct colours, want at least %d (an empty figure?)", n, minColors)
	}
	return nil
}

func distinctColors(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bb, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bb, a}] = true
		}
	}
	return len(seen)
}

// SVG parses data as XML and checks that its root element is svg and that
// it has at least minPaths path elements.
func SVG(data []byte, minPaths int) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var root string
	paths := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "path" {
				paths++
			}
		}
	}
	if root != "svg" {
		return fmt.Errorf("root element %q, want svg", root)
	}
	if paths < minPaths {
		return fmt.Errorf("%d path elements, want at least %d", paths, minPaths)
	}
	return nil
}
