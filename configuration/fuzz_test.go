package configuration

import (
	"reflect"
	"testing"
)

// FuzzParseFile checks that the file parser never panics and that every
// tree it accepts survives a format/parse round trip.
func FuzzParseFile(f *testing.F) {
	for _, seed := range []string{
		"",
		"a = 1\n",
		"# sipsimple-go configuration, format 1\nSIPSimpleSettings:\n    user_agent = \"x y\"\n    rtp:\n        codecs = PCMU, PCMA\n",
		"g:\n    single = a,\n    empty = ,\n    none =\n    q = \"a\\\\b\\\"c\\n\"\n",
		"Accounts:\n    alice@example.com:\n        enabled = true # comment\n\nx = y\n",
		"a = \"unterminated\n",
		"g:\n  a = 1\n b = 2\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, _, err := ParseFile(data)
		if err != nil {
			return
		}
		again, line, err := ParseFile(FormatFile(tree))
		if err != nil {
			t.Fatalf("formatted tree does not parse (line %d): %v\ninput %q\nformatted %q", line, err, data, FormatFile(tree))
		}
		if !reflect.DeepEqual(tree, again) {
			t.Fatalf("round trip differs:\n%#v\n%#v\ninput %q", tree, again, data)
		}
	})
}
