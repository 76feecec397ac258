package meta

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameAsJSON checks that ReadCase (fast path first) and the encoding/json
// path give the same case or the same error for data.
func sameAsJSON(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := ReadCase(bytes.NewReader(data))
	want, wantErr := readCaseJSON(data)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("ReadCase error %v, encoding/json path error %v", gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("ReadCase and the encoding/json path decode different cases")
	}
}

// TestDecodeCaseFast checks that the fast path takes the cases Write
// produces and that, on those and on inputs at the edge of its subset, it
// agrees with encoding/json value for value and error for error.
func TestDecodeCaseFast(t *testing.T) {
	o := defaultOpts()
	o.gate, o.mask, o.clamps = true, true, 1
	valid := caseJSON(t, randomCase(1, defaultOpts()))
	for _, c := range []*Case{randomCase(1, defaultOpts()), randomCase(2, o),
		readCaseFile(t, filepath.Join("testdata", "case-options.json"))} {
		data := caseJSON(t, c)
		if _, ok := decodeCaseFast(data); !ok {
			t.Fatal("the fast path rejects a case written by Write")
		}
		sameAsJSON(t, data)
	}
	s := string(valid)
	for _, tc := range []struct{ name, data string }{
		{"spaced", strings.NewReplacer(",", " ,\n\t", ":", "\r: ", "[", "[ ", "]", " ]").Replace(s)},
		{"trailing space", s + "  \n"},
		{"trailing junk", s + "x"},
		{"two objects", s + s},
		{"duplicate field", strings.Replace(s, `"eta":0.2`, `"eta":0.2,"eta":0.3`, 1)},
		{"escaped name", strings.Replace(s, `"eta":0.2`, `"\u0065ta":0.2`, 1)},
		{"escaped gain", strings.Replace(s, `"gain":"plain"`, `"gain":"pl\u0061in"`, 1)},
		{"null mask", strings.Replace(s, `"trials":`, `"plastic_mask":null,"trials":`, 1)},
		{"empty mask", strings.Replace(s, `"trials":`, `"plastic_mask":[],"trials":`, 1)},
		{"float K", strings.Replace(s, `"K":3`, `"K":3.0`, 1)},
		{"exponent K", strings.Replace(s, `"K":3`, `"K":3e0`, 1)},
		{"huge K", strings.Replace(s, `"K":3`, `"K":99999999999999999999`, 1)},
		{"exponent", strings.Replace(s, `"eta":0.2`, `"eta":2E-1`, 1)},
		{"negative zero", strings.Replace(s, `"clip":0`, `"clip":-0`, 1)},
		{"leading zero", strings.Replace(s, `"eta":0.2`, `"eta":00.2`, 1)},
		{"bare dot", strings.Replace(s, `"eta":0.2`, `"eta":.2`, 1)},
		{"plus", strings.Replace(s, `"eta":0.2`, `"eta":+0.2`, 1)},
		{"hex", strings.Replace(s, `"eta":0.2`, `"eta":0x1p-2`, 1)},
		{"overflow", strings.Replace(s, `"eta":0.2`, `"eta":1e999`, 1)},
		{"trailing comma", strings.Replace(s, `"eta":0.2,`, `"eta":0.2,,`, 1)},
		{"no trials", strings.Replace(s, `"trials":[`, `"trials":[],"x":[`, 1)},
		{"empty", ""},
		{"empty object", "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) { sameAsJSON(t, []byte(tc.data)) })
	}
}

// FuzzDecodeCaseFast checks that ReadCase and the encoding/json path agree
// on any input.
func FuzzDecodeCaseFast(f *testing.F) {
	o := defaultOpts()
	o.n, o.T, o.H = 3, 4, 2
	f.Add(caseJSON(f, randomCase(1, o)))
	f.Add([]byte(`{"trials": [null]}`))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsJSON(t, data) })
}
