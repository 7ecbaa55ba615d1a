package payloads

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// PIDFContentType is the content type of a PIDF document.
const PIDFContentType = "application/pidf+xml"

// Presence is the state a presence document describes: one tuple with a
// basic status, plus the RPID activity and a note, as PJSUA's
// pjsua_acc_set_online_status2 publishes it.
type Presence struct {
	// Entity is the presentity's URI (pres: or sip:).
	Entity string
	// TupleID identifies the tuple; empty means a generated stable one.
	TupleID string
	// Online is the basic status: open or closed.
	Online bool
	// Activity is an RPID activity (RFC 4480), e.g. "away", "busy",
	// "on-the-phone"; empty means none.
	Activity string
	// Note is a free text note.
	Note string
	// Contact, when set, is the tuple's contact URI.
	Contact string
}

// Activities PJSUA's pjrpid_activity names (RFC 4480 values).
const (
	ActivityUnknown = "unknown"
	ActivityAway    = "away"
	ActivityBusy    = "busy"
)

// MarshalPIDF renders p as a PIDF document.
func MarshalPIDF(p Presence) ([]byte, error) {
	if p.Entity == "" {
		return nil, errors.New("pidf: no entity")
	}
	if p.Activity != "" && !validActivity(p.Activity) {
		return nil, fmt.Errorf("pidf: activity %q is not an XML name", p.Activity)
	}
	id := p.TupleID
	if id == "" {
		id = "t" + fmt.Sprintf("%08x", fnv32(p.Entity))
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<presence xmlns="urn:ietf:params:xml:ns:pidf"`)
	if p.Activity != "" {
		b.WriteString(` xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"`)
	}
	b.WriteString(` entity="`)
	xml.EscapeText(&b, []byte(p.Entity))
	b.WriteString("\">\n <tuple id=\"")
	xml.EscapeText(&b, []byte(id))
	b.WriteString("\">\n  <status><basic>")
	if p.Online {
		b.WriteString("open")
	} else {
		b.WriteString("closed")
	}
	b.WriteString("</basic></status>\n")
	textElement(&b, "contact", p.Contact)
	textElement(&b, "note", p.Note)
	b.WriteString(" </tuple>\n")
	if p.Activity != "" {
		b.WriteString(" <dm:person id=\"p")
		xml.EscapeText(&b, []byte(id))
		b.WriteString("\">\n  <rpid:activities><rpid:")
		b.WriteString(p.Activity)
		b.WriteString("/></rpid:activities>\n")
		textElement(&b, "dm:note", p.Note)
		b.WriteString(" </dm:person>\n")
	}
	b.WriteString("</presence>\n")
	return b.Bytes(), nil
}

// textElement writes <name>text</name> on its own line, unless text is
// empty.
func textElement(b *bytes.Buffer, name, text string) {
	if text == "" {
		return
	}
	b.WriteString("  <" + name + ">")
	xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">\n")
}

func validActivity(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
			return false
		}
	}
	return true
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// pidfDoc is the subset of PIDF and RPID ParsePIDF reads.
type pidfDoc struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:pidf presence"`
	Entity  string   `xml:"entity,attr"`
	Tuples  []struct {
		ID      string `xml:"id,attr"`
		Basic   string `xml:"urn:ietf:params:xml:ns:pidf status>basic"`
		Contact string `xml:"urn:ietf:params:xml:ns:pidf contact"`
		Note    string `xml:"urn:ietf:params:xml:ns:pidf note"`
	} `xml:"urn:ietf:params:xml:ns:pidf tuple"`
	Persons []struct {
		Activities struct {
			Inner []struct {
				XMLName xml.Name
			} `xml:",any"`
		} `xml:"urn:ietf:params:xml:ns:pidf:rpid activities"`
		Note string `xml:"urn:ietf:params:xml:ns:pidf:data-model note"`
	} `xml:"urn:ietf:params:xml:ns:pidf:data-model person"`
}

// ParsePIDF reads the first tuple of a PIDF document, and the first RPID
// activity and note of its person element if there is one.
func ParsePIDF(data []byte) (Presence, error) {
	var d pidfDoc
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return Presence{}, fmt.Errorf("pidf: %w", err)
	}
	if d.Entity == "" {
		return Presence{}, errors.New("pidf: presence element has no entity")
	}
	p := Presence{Entity: d.Entity}
	if len(d.Tuples) > 0 {
		t := d.Tuples[0]
		basic := strings.TrimSpace(t.Basic)
		if basic != "open" && basic != "closed" {
			return Presence{}, fmt.Errorf("pidf: basic status %q, want open or closed", basic)
		}
		p.TupleID, p.Online, p.Contact, p.Note = t.ID, basic == "open", strings.TrimSpace(t.Contact), t.Note
	}
	if len(d.Persons) > 0 {
		per := d.Persons[0]
		if len(per.Activities.Inner) > 0 {
			p.Activity = per.Activities.Inner[0].XMLName.Local
		}
		if p.Note == "" {
			p.Note = per.Note
		}
	}
	return p, nil
}
