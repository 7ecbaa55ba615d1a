package payloads

import (
	"strings"
	"testing"
)

func TestPIDFRoundTrip(t *testing.T) {
	for _, p := range []Presence{
		{Entity: "sip:alice@example.com", Online: true},
		{Entity: "sip:alice@example.com", Online: false, Note: "gone <home> & out"},
		{Entity: "pres:bob@example.com", TupleID: "x1", Online: true, Activity: ActivityBusy, Note: "in a meeting", Contact: "sip:bob@192.0.2.1"},
		{Entity: "sip:carol@example.com", Online: true, Activity: "on-the-phone"},
	} {
		b, err := MarshalPIDF(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParsePIDF(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if p.TupleID == "" {
			p.TupleID = got.TupleID
		}
		if got != p {
			t.Errorf("round trip of %+v gave %+v\n%s", p, got, b)
		}
	}
}

func TestPIDFStableTupleID(t *testing.T) {
	a, _ := MarshalPIDF(Presence{Entity: "sip:a@b", Online: true})
	b, _ := MarshalPIDF(Presence{Entity: "sip:a@b", Online: false})
	pa, _ := ParsePIDF(a)
	pb, _ := ParsePIDF(b)
	if pa.TupleID == "" || pa.TupleID != pb.TupleID {
		t.Fatalf("tuple ids %q and %q, want one stable id per entity", pa.TupleID, pb.TupleID)
	}
}

func TestPIDFErrors(t *testing.T) {
	if _, err := MarshalPIDF(Presence{}); err == nil {
		t.Error("no entity accepted")
	}
	if _, err := MarshalPIDF(Presence{Entity: "sip:a@b", Activity: "<bad>"}); err == nil {
		t.Error("activity that is not an XML name accepted")
	}
	for _, doc := range []string{
		"",
		"<presence/>",
		`<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple id="a"><status><basic>open</basic></status></tuple></presence>`,
		`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"><tuple id="a"><status><basic>maybe</basic></status></tuple></presence>`,
		`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"><tuple`,
	} {
		if _, err := ParsePIDF([]byte(doc)); err == nil {
			t.Errorf("ParsePIDF(%q) accepted", doc)
		}
	}
	p, err := ParsePIDF([]byte(`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"><tuple id="a"><status><basic> open </basic></status></tuple></presence>`))
	if err != nil || !p.Online {
		t.Fatalf("%+v %v", p, err)
	}
	if !strings.HasPrefix(p.Entity, "sip:") {
		t.Fatal(p.Entity)
	}
}

func FuzzParsePIDF(f *testing.F) {
	b, _ := MarshalPIDF(Presence{Entity: "sip:a@b", Online: true, Activity: "away", Note: "n"})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePIDF(data)
		if err != nil {
			return
		}
		if _, err := MarshalPIDF(p); err != nil && p.Entity != "" && (p.Activity == "" || validActivity(p.Activity)) {
			t.Fatalf("parsed %+v does not marshal: %v", p, err)
		}
	})
}
