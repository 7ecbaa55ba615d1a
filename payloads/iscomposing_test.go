package payloads

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/internal/corpus"
)

// The RFC 3994 section 5 examples (../shared/rfc-corpus/im, see its
// INDEX.md): an active indication with a refresh and an idle one with
// lastactive.
func TestIsComposingCorpus(t *testing.T) {
	dir := corpus.Dir(t, "im")
	for _, tc := range []struct {
		file string
		want IsComposing
	}{
		{"rfc3994-s5-iscomposing-active.xml", IsComposing{State: ComposingActive, ContentType: "text/plain", Refresh: 90 * time.Second}},
		{"rfc3994-s5-iscomposing-idle.xml", IsComposing{State: ComposingIdle, ContentType: "audio",
			LastActive: time.Date(2003, 1, 27, 10, 43, 0, 0, time.UTC)}},
	} {
		b, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseIsComposing(b)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if got.State != tc.want.State || got.ContentType != tc.want.ContentType || got.Refresh != tc.want.Refresh ||
			!got.LastActive.Equal(tc.want.LastActive) {
			t.Errorf("%s: %+v, want %+v", tc.file, got, tc.want)
		}
	}
}

func TestIsComposingRoundTrip(t *testing.T) {
	for _, c := range []IsComposing{
		{State: ComposingActive},
		{State: ComposingActive, ContentType: "text/plain", Refresh: 60 * time.Second},
		{State: ComposingIdle, LastActive: time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC), ContentType: "a<b&c"},
	} {
		b, err := MarshalIsComposing(c)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		got, err := ParseIsComposing(b)
		if err != nil {
			t.Fatalf("%+v: %v\n%s", c, err, b)
		}
		if got.State != c.State || got.ContentType != c.ContentType || got.Refresh != c.Refresh || !got.LastActive.Equal(c.LastActive) {
			t.Errorf("round trip %+v -> %+v", c, got)
		}
	}
}

func TestIsComposingErrors(t *testing.T) {
	for _, c := range []IsComposing{{}, {State: "typing"}, {State: ComposingActive, Refresh: -time.Second},
		{State: ComposingActive, Refresh: time.Millisecond}} {
		if _, err := MarshalIsComposing(c); err == nil {
			t.Errorf("MarshalIsComposing(%+v) succeeded", c)
		}
	}
	ns := `xmlns="urn:ietf:params:xml:ns:im-iscomposing"`
	for _, doc := range []string{
		``,
		`<isComposing><state>active</state></isComposing>`, // no namespace
		`<isComposing ` + ns + `></isComposing>`,
		`<isComposing ` + ns + `><state>typing</state></isComposing>`,
		`<isComposing ` + ns + `><state>active</state><state>idle</state></isComposing>`,
		`<isComposing ` + ns + `><state>idle</state><lastactive>yesterday</lastactive></isComposing>`,
		`<isComposing ` + ns + `><state>active</state><refresh>0</refresh></isComposing>`,
		`<isComposing ` + ns + `><state>active</state><refresh>x</refresh></isComposing>`,
		`<presence ` + ns + `><state>active</state></presence>`,
		`<isComposing ` + ns + `><state>active</state>`,
		strings.Repeat(" ", maxIsComposing+1),
	} {
		if _, err := ParseIsComposing([]byte(doc)); err == nil {
			t.Errorf("ParseIsComposing(%.60q) succeeded", doc)
		}
	}
	// Extension elements of other namespaces are ignored.
	c, err := ParseIsComposing([]byte(`<isComposing ` + ns + ` xmlns:x="urn:x"><state>active</state><x:mood>happy</x:mood></isComposing>`))
	if err != nil || c.State != ComposingActive {
		t.Errorf("extension element: %+v %v", c, err)
	}
}

func FuzzParseIsComposing(f *testing.F) {
	f.Add([]byte(`<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state><refresh>90</refresh></isComposing>`))
	f.Add([]byte(`<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>idle</state><lastactive>2003-01-27T10:43:00Z</lastactive></isComposing>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseIsComposing(b)
		if err != nil {
			return
		}
		out, err := MarshalIsComposing(c)
		if err != nil {
			return // e.g. a sub-second lastactive is kept; refresh is whole seconds
		}
		again, err := ParseIsComposing(out)
		if err != nil || again.State != c.State || again.ContentType != c.ContentType || again.Refresh != c.Refresh {
			t.Fatalf("re-parse of %q: %+v %v, want %+v", out, again, err, c)
		}
	})
}
