package sdp

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseFileSelector(t *testing.T) {
	sha := func(v []byte) *Hash { return &Hash{Algorithm: "sha-1", Value: v} }
	for _, tc := range []struct {
		in   string
		want FileSelector
		out  string // String() of the result
	}{
		{"", FileSelector{Size: -1}, ""},
		{"  \t ", FileSelector{Size: -1}, ""},
		{
			`name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E`,
			FileSelector{Name: "My cool picture.jpg", Type: "image/jpeg", Size: 32349, Hash: sha(rfc5547Hash1)},
			`name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E`,
		},
		{
			// Any order, extra blanks, lower-case hex, upper-case algorithm.
			"  hash:SHA-1:72:24:5f:e8:65:3d:da:f3:71:36:2f:86:d4:71:91:3e:e4:a2:ce:2e   size:0\ttype:image/jpeg  ",
			FileSelector{Type: "image/jpeg", Size: 0, Hash: sha(rfc5547Hash1)},
			"type:image/jpeg size:0 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E",
		},
		{
			// Percent-encoding in the name; a stray % is kept.
			`name:"a%22b%25c%0D%0Ad 50%off %e2%82%ac.txt"`,
			FileSelector{Name: "a\"b%c\r\nd 50%off €.txt", Size: -1},
			`name:"a%22b%25c%0D%0Ad 50%25off €.txt"`,
		},
		{
			// Quoted type parameters may hold blanks (RFC 5547 ft-parameter).
			`type:text/plain;charset="UTF-8";x="a b" size:7`,
			FileSelector{Type: `text/plain;charset="UTF-8";x="a b"`, Size: 7},
			`type:text/plain;charset="UTF-8";x="a b" size:7`,
		},
		{
			// Unknown selectors are skipped.
			`x-foo:bar name:"n" x-q:"a b"`,
			FileSelector{Name: "n", Size: -1},
			`name:"n"`,
		},
		{
			"NAME:\"UPPER\" Size:3",
			FileSelector{Name: "UPPER", Size: 3},
			`name:"UPPER" size:3`,
		},
	} {
		fs, err := ParseFileSelector(tc.in)
		if err != nil {
			t.Errorf("ParseFileSelector(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*fs, tc.want) {
			t.Errorf("ParseFileSelector(%q) = %#v, want %#v", tc.in, *fs, tc.want)
		}
		if got := fs.String(); got != tc.out {
			t.Errorf("String() = %q, want %q", got, tc.out)
		}
	}
}

func TestParseFileSelectorErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`name:"a" name:"b"`, "name selector repeated"},
		{`size:1 size:1`, "size selector repeated"},
		{`type:a/b TYPE:a/b`, "type selector repeated"},
		{`hash:sha-1:00 hash:sha-1:00`, "hash selector repeated"},
		{`name:""`, "empty name"},
		{`name:"abc`, "no closing quote"},
		{`name:abc`, "not a quoted string"},
		{`name:"a"size:1`, "no blank after the name"},
		{`type:image`, "type selector"},
		{`type:/jpeg`, "type selector"},
		{`type:image/`, "type selector"},
		{`type:a/b;c="d`, "unterminated quoted string"},
		{`size:-1`, "size selector"},
		{`size:`, "size selector"},
		{`size:12k`, "size selector"},
		{`hash:sha-1`, "hash selector"},
		{`hash:sha-1:`, "hash selector"},
		{`hash:sha-1:7`, "hash selector"},
		{`hash:sha-1:72:2`, "hash selector"},
		{`hash:sha-1:72-24`, "hash selector"},
		{`hash:sha-1:7G`, "hash selector"},
		{`hash::72`, "hash selector"},
		{`image/jpeg`, "has no"},
		{`size 12`, "has no"},
		{`"x":y`, "invalid selector name"},
		{"name:\"a\nb\"", "CR, LF or NUL"},
	} {
		fs, err := ParseFileSelector(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFileSelector(%q) = %+v, %v; want an error with %q", tc.in, fs, err, tc.want)
		}
	}
}

// TestFileSelectorRoundTrip writes awkward selectors and parses them back.
func TestFileSelectorRoundTrip(t *testing.T) {
	for _, fs := range []FileSelector{
		{Size: -1},
		{Size: 0},
		{Name: `quote " in name`, Size: -1},
		{Name: "100% done %41.txt", Size: 1},
		{Name: "  spaces  around  ", Type: "application/octet-stream", Size: 1 << 40},
		{Name: "tab\there cr\rlf\nnul\x00del\x7f.bin", Size: -1},
		{Name: "日本語のファイル.pdf", Type: "application/pdf", Size: 5},
		{Name: "Grüße – ‘quotes’ “double”.txt", Size: -1},
		{Name: "name:\"x\" size:3", Size: -1},
		{Name: "\xff\xfe not utf-8", Size: -1},
		{Type: `text/plain;charset="UTF-8"`, Size: -1, Hash: &Hash{Algorithm: "sha-256", Value: make([]byte, 32)}},
		{Hash: &Hash{Algorithm: "sha-1", Value: []byte{0}}, Size: -1},
	} {
		s := fs.String()
		got, err := ParseFileSelector(s)
		if err != nil {
			t.Errorf("ParseFileSelector(%q) (from %#v): %v", s, fs, err)
			continue
		}
		if !reflect.DeepEqual(*got, fs) {
			t.Errorf("round trip through %q\ngot  %#v\nwant %#v", s, *got, fs)
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			t.Errorf("String() = %q has CR, LF or NUL", s)
		}
	}
}

func TestFileRange(t *testing.T) {
	for in, want := range map[string]FileRange{
		"1-32349":   {1, 32349},
		" 1-* ":     {1, -1},
		"7-7":       {7, 7},
		"100-2000":  {100, 2000},
		"2-*":       {2, -1},
		"1-9999999": {1, 9999999},
	} {
		r, err := ParseFileRange(in)
		if err != nil || r != want {
			t.Errorf("ParseFileRange(%q) = %v, %v; want %v", in, r, err, want)
			continue
		}
		if back, err := ParseFileRange(r.String()); err != nil || back != r {
			t.Errorf("round trip of %v through %q: %v, %v", r, r.String(), back, err)
		}
	}
	for _, in := range []string{"", "-", "1-", "-5", "0-5", "5-4", "a-b", "1-2-3", "1 - 2", "+1-2", "1-*5", "*-*"} {
		if r, err := ParseFileRange(in); err == nil {
			t.Errorf("ParseFileRange(%q) = %v, want an error", in, r)
		} else if !strings.Contains(err.Error(), "file-range") {
			t.Errorf("ParseFileRange(%q) error %q does not name file-range", in, err)
		}
	}
}

// FuzzParseFileSelector checks that ParseFileSelector never panics, and
// that a selector it accepts is written by String in a form it parses back
// into an equal selector, which String writes the same way again.
func FuzzParseFileSelector(f *testing.F) {
	for _, s := range []string{
		"",
		`name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E`,
		`type:image/jpeg hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E`,
		`name:"a%22b%25c %zz" size:0`,
		`type:text/plain;charset="UTF-8" x:"y z"`,
		`name:"x"size:1`,
		`hash:SHA-1:ab:CD`,
		"name:\"\xff\t\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseFileSelector(s)
		if err != nil {
			if fs != nil {
				t.Fatal("ParseFileSelector returned a selector with an error")
			}
			return
		}
		out := fs.String()
		fs2, err := ParseFileSelector(out)
		if err != nil {
			t.Fatalf("ParseFileSelector(String()): %v\ninput  %q\noutput %q", err, s, out)
		}
		if !reflect.DeepEqual(fs, fs2) {
			t.Fatalf("round trip changed the selector\ninput  %q\noutput %q\nbefore %#v\nafter  %#v", s, out, *fs, *fs2)
		}
		if out2 := fs2.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
	})
}
