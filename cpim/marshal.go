package cpim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Marshal encodes m as a message/cpim body: the CPIM message headers (From,
// To, cc, DateTime, Subject, NS, then m.Headers in order), a blank line, the
// MIME headers of the content (Content-Type, Content-ID, then
// m.ContentHeaders in order), a blank line and m.Body. Lines end with CRLF.
// NS headers are written in the order of their prefixes.
//
// Marshal validates m first and writes nothing unless all of it is valid.
// Errors wrap ErrInvalid and name the offending header; in particular a CR or
// LF in any value is refused, as are header names that are not RFC 3862 names,
// a prefixed header whose prefix is not in m.Namespaces, a Headers entry that
// duplicates a field (From, To, cc, DateTime, Subject, NS) or is a MIME
// header, and a Content-Type or Content-ID in m.ContentHeaders.
func (m *Message) Marshal() ([]byte, error) {
	w := &writer{b: make([]byte, 0, 256+len(m.Body))}

	// CPIM message headers.
	if m.From != (Address{}) {
		w.address("From", m.From)
	}
	for _, a := range m.To {
		w.address("To", a)
	}
	for _, a := range m.CC {
		w.address("cc", a)
	}
	if !m.DateTime.IsZero() {
		w.dateTime(m.DateTime)
	}
	for _, s := range m.Subject {
		w.subject(s)
	}
	prefixes := make([]string, 0, len(m.Namespaces))
	for p := range m.Namespaces {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	for _, p := range prefixes {
		w.namespace(p, m.Namespaces[p])
	}
	for _, h := range m.Headers {
		w.extension(h, m.Namespaces)
	}
	w.blank()

	// MIME headers of the content.
	if m.ContentType != "" {
		w.mime("Content-Type", m.ContentType)
	}
	if m.ContentID != "" {
		w.mime("Content-ID", m.ContentID)
	}
	for _, h := range m.ContentHeaders {
		switch {
		case h.Namespace != "":
			w.fail(h.Namespace+"."+h.Name, errors.New("MIME headers have no namespace prefix"))
		case strings.EqualFold(h.Name, "Content-Type"), strings.EqualFold(h.Name, "Content-ID"):
			w.fail(h.Name, errors.New("set Message.ContentType or Message.ContentID instead of a ContentHeaders entry"))
		default:
			w.mime(h.Name, h.Value)
		}
	}
	w.blank()

	if w.err != nil {
		return nil, w.err
	}
	return append(w.b, m.Body...), nil
}

// writer accumulates the header lines of Marshal and remembers the first
// error, so that the code above reads as the layout it produces.
type writer struct {
	b       []byte
	err     error
	headers int
}

func (w *writer) fail(header string, err error) {
	if w.err == nil {
		w.err = fmt.Errorf("%w: %s header: %w", ErrInvalid, header, err)
	}
}

func (w *writer) blank() { w.b = append(w.b, '\r', '\n') }

// line appends "name:" + value + CRLF, value being already encoded, after
// checking the limits Parse enforces.
func (w *writer) line(name string, value []byte) {
	if w.err != nil {
		return
	}
	w.headers++
	if w.headers > MaxHeaders {
		w.fail(name, fmt.Errorf("more than %d headers", MaxHeaders))
		return
	}
	if len(name)+1+len(value) > MaxLineLength {
		w.fail(name, errTooLong)
		return
	}
	w.b = append(w.b, name...)
	w.b = append(w.b, ':')
	w.b = append(w.b, value...)
	w.b = append(w.b, '\r', '\n')
}

// checkText reports what is wrong with the logical value of a CPIM header:
// CR and LF are refused (header injection), and the value must be UTF-8.
// Other control characters are escaped when written.
func checkText(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errCRLF
	}
	if !utf8.ValidString(s) {
		return errors.New("value is not valid UTF-8")
	}
	return nil
}

func (w *writer) address(name string, a Address) {
	if err := checkText(a.DisplayName); err != nil {
		w.fail(name, fmt.Errorf("display name: %w", err))
		return
	}
	if err := checkURI(a.URI); err != nil {
		w.fail(name, err)
		return
	}
	w.line(name, append([]byte{' '}, a.String()...))
}

func (w *writer) dateTime(t time.Time) {
	// RFC 3339 offsets are whole minutes below 24 hours; a zone whose offset
	// is not (historic local mean times) is written in UTC, so that the
	// instant survives.
	if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		t = t.UTC()
	}
	if y := t.Year(); y < 0 || y > 9999 {
		w.fail("DateTime", fmt.Errorf("year %d outside the range of RFC 3339", y))
		return
	}
	w.line("DateTime", t.AppendFormat([]byte{' '}, time.RFC3339Nano))
}

func (w *writer) subject(s Subject) {
	if err := checkText(s.Value); err != nil {
		w.fail("Subject", err)
		return
	}
	var v []byte
	if s.Lang != "" {
		if !validLang(s.Lang) {
			w.fail("Subject", fmt.Errorf("invalid language tag %q", s.Lang))
			return
		}
		v = append(append(append(v, ";lang="...), s.Lang...), ' ')
	} else {
		v = append(v, ' ')
		if strings.HasPrefix(s.Value, ";") {
			// A leading ";" would read as a parameter: escape it.
			v = append(v, `\u003b`...)
			s.Value = s.Value[1:]
		}
	}
	w.line("Subject", appendEscaped(v, s.Value, false))
}

func (w *writer) namespace(prefix, urn string) {
	if prefix != "" && !validName(prefix) {
		w.fail("NS", fmt.Errorf("invalid namespace prefix %q", prefix))
		return
	}
	if err := checkURI(urn); err != nil {
		w.fail("NS", fmt.Errorf("prefix %q: %w", prefix, err))
		return
	}
	v := []byte{' '}
	if prefix != "" {
		v = append(append(v, prefix...), ' ')
	}
	w.line("NS", append(append(append(v, '<'), urn...), '>'))
}

func (w *writer) extension(h Header, ns map[string]string) {
	name := h.Name
	if h.Namespace != "" {
		name = h.Namespace + "." + h.Name
	}
	switch {
	case !validName(h.Name):
		w.fail(fmt.Sprintf("%q", name), errors.New("invalid header name"))
		return
	case h.Namespace != "" && !validName(h.Namespace):
		w.fail(fmt.Sprintf("%q", name), errors.New("invalid namespace prefix"))
		return
	case h.Namespace != "":
		if _, ok := ns[h.Namespace]; !ok {
			w.fail(name, errUndeclared)
			return
		}
	case isStandardName(h.Name):
		w.fail(name, errors.New("use the Message field, not Headers"))
		return
	case isMIMEName(h.Name):
		w.fail(name, errors.New("MIME headers go in ContentType, ContentID or ContentHeaders"))
		return
	}
	if err := checkText(h.Value); err != nil {
		w.fail(name, err)
		return
	}
	var v []byte
	if !strings.HasPrefix(h.Value, ";") {
		// A value that starts with ";" carries its parameters and is
		// written right after the colon, as Parse found it.
		v = append(v, ' ')
	}
	w.line(name, appendEscaped(v, h.Value, false))
}

// mime writes a MIME header of the content. MIME values are not
// CPIM-escaped: they must be free of control characters other than HTAB.
func (w *writer) mime(name, value string) {
	if !validMIMEName(name) {
		w.fail(fmt.Sprintf("%q", name), errors.New("invalid MIME header name"))
		return
	}
	if strings.ContainsAny(value, "\r\n") {
		w.fail(name, errCRLF)
		return
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			w.fail(name, fmt.Errorf("control character %#02x in value", c))
			return
		}
	}
	if !utf8.ValidString(value) {
		w.fail(name, errors.New("value is not valid UTF-8"))
		return
	}
	w.line(name, append([]byte{' '}, value...))
}
