package payloads

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IsComposingContentType is the content type of an is-composing document
// (RFC 3994).
const IsComposingContentType = "application/im-iscomposing+xml"

// isComposingNS is the namespace of the isComposing element.
const isComposingNS = "urn:ietf:params:xml:ns:im-iscomposing"

// The two states of RFC 3994 section 3.
const (
	ComposingActive = "active"
	ComposingIdle   = "idle"
)

// maxIsComposing bounds the size of a parsed is-composing document.
const maxIsComposing = 64 << 10

// IsComposing is an is-composing indication (RFC 3994): whether the party
// is typing a message.
type IsComposing struct {
	// State is ComposingActive or ComposingIdle.
	State string
	// LastActive is when the party was last active (idle indications);
	// zero when absent.
	LastActive time.Time
	// ContentType is the type of the message being composed ("text",
	// "audio", "text/plain", ...); empty when absent.
	ContentType string
	// Refresh is how long an active indication lasts unless refreshed
	// (RFC 3994 section 3.2: a receiver falls back to idle after it);
	// zero when absent. It is written in whole seconds.
	Refresh time.Duration
}

// MarshalIsComposing renders c as an is-composing document.
func MarshalIsComposing(c IsComposing) ([]byte, error) {
	if c.State != ComposingActive && c.State != ComposingIdle {
		return nil, fmt.Errorf("iscomposing: state %q is neither %q nor %q", c.State, ComposingActive, ComposingIdle)
	}
	if c.Refresh < 0 || (c.Refresh > 0 && c.Refresh < time.Second) {
		return nil, fmt.Errorf("iscomposing: refresh %v is not a positive number of seconds", c.Refresh)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<isComposing xmlns="` + isComposingNS + `">` + "\n")
	b.WriteString(" <state>" + c.State + "</state>\n")
	if !c.LastActive.IsZero() {
		b.WriteString(" <lastactive>" + c.LastActive.UTC().Format(time.RFC3339) + "</lastactive>\n")
	}
	if c.ContentType != "" {
		b.WriteString(" <contenttype>")
		xml.EscapeText(&b, []byte(c.ContentType))
		b.WriteString("</contenttype>\n")
	}
	if c.Refresh > 0 {
		b.WriteString(" <refresh>" + strconv.FormatInt(int64(c.Refresh/time.Second), 10) + "</refresh>\n")
	}
	b.WriteString("</isComposing>\n")
	return b.Bytes(), nil
}

// ParseIsComposing reads an is-composing document. The root must be
// isComposing in the RFC 3994 namespace and the state active or idle;
// elements of other namespaces (extensions) are ignored. A malformed
// lastactive or refresh is an error naming the element.
func ParseIsComposing(b []byte) (IsComposing, error) {
	var c IsComposing
	if len(b) > maxIsComposing {
		return c, fmt.Errorf("iscomposing: document of %d bytes, more than %d", len(b), maxIsComposing)
	}
	var doc struct {
		XMLName     xml.Name
		State       []string `xml:"urn:ietf:params:xml:ns:im-iscomposing state"`
		LastActive  []string `xml:"urn:ietf:params:xml:ns:im-iscomposing lastactive"`
		ContentType []string `xml:"urn:ietf:params:xml:ns:im-iscomposing contenttype"`
		Refresh     []string `xml:"urn:ietf:params:xml:ns:im-iscomposing refresh"`
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&doc); err != nil {
		return c, fmt.Errorf("iscomposing: %w", err)
	}
	if doc.XMLName.Space != isComposingNS || doc.XMLName.Local != "isComposing" {
		return c, fmt.Errorf("iscomposing: root element {%s}%s, want {%s}isComposing", doc.XMLName.Space, doc.XMLName.Local, isComposingNS)
	}
	one := func(name string, v []string) (string, error) {
		switch len(v) {
		case 0:
			return "", nil
		case 1:
			return strings.TrimSpace(v[0]), nil
		}
		return "", fmt.Errorf("iscomposing: %d %s elements, at most one allowed", len(v), name)
	}
	state, err := one("state", doc.State)
	if err != nil {
		return c, err
	}
	switch state {
	case ComposingActive, ComposingIdle:
		c.State = state
	case "":
		return c, errors.New("iscomposing: no state")
	default:
		return c, fmt.Errorf("iscomposing: state %q is neither %q nor %q", state, ComposingActive, ComposingIdle)
	}
	if v, err := one("lastactive", doc.LastActive); err != nil {
		return c, err
	} else if v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return c, fmt.Errorf("iscomposing: lastactive %q: %w", v, err)
		}
		c.LastActive = t
	}
	if c.ContentType, err = one("contenttype", doc.ContentType); err != nil {
		return c, err
	}
	if v, err := one("refresh", doc.Refresh); err != nil {
		return c, err
	} else if v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("iscomposing: refresh %q is not a positive integer", v)
		}
		c.Refresh = time.Duration(n) * time.Second
	}
	return c, nil
}
