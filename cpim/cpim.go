package cpim

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// MediaType is the content type of a Message/CPIM body.
	MediaType = "message/cpim"

	// StandardNamespace is the URN of the CPIM headers defined by RFC 3862
	// (From, To, cc, DateTime, Subject, NS, Require): the namespace of
	// unprefixed header names unless an "NS: <urn>" header redeclares it.
	StandardNamespace = "urn:ietf:params:cpim-headers:"

	// MaxHeaders is the largest number of headers (outer MIME, CPIM and
	// content MIME headers together) that Parse accepts and Marshal writes.
	MaxHeaders = 1000

	// MaxLineLength is the longest header line, in octets and without its
	// line end, that Parse accepts and Marshal writes. A folded header
	// counts as one line once unfolded.
	MaxLineLength = 64 << 10
)

var (
	// ErrMalformed is wrapped by every error of Parse and ParseAddress.
	ErrMalformed = errors.New("cpim: malformed message")

	// ErrInvalid is wrapped by every error of Message.Marshal: the Message
	// cannot be written as a well-formed message/cpim body.
	ErrInvalid = errors.New("cpim: invalid message")
)

// Reasons for which Marshal may refuse a Message that Parse produced. They are
// wrapped together with ErrInvalid so that tests can tell them apart.
var (
	errCRLF       = errors.New("CR or LF in value")
	errUndeclared = errors.New("namespace prefix has no NS declaration")
	errTooLong    = errors.New("line longer than MaxLineLength")
)

// Address is the value of a From, To or cc header: an optional display name
// (RFC 3862 "Formal-name") and a URI, written as
//
//	"Display Name" <sip:alice@example.com>
//	<sip:alice@example.com>
type Address struct {
	// DisplayName is the unescaped display name, "" for none.
	DisplayName string
	// URI is the address between the angle brackets, kept as it is written
	// (no escape is decoded in it).
	URI string
}

// String formats a as a CPIM address: the display name, if any, as a quoted
// string in which a double quote, a backslash and control characters are
// backslash-escaped, then the URI in angle brackets. String does not validate
// a; Message.Marshal does.
func (a Address) String() string {
	if a.DisplayName == "" {
		return "<" + a.URI + ">"
	}
	b := make([]byte, 0, len(a.DisplayName)+len(a.URI)+5)
	b = append(b, '"')
	b = appendEscaped(b, a.DisplayName, true)
	b = append(b, `" <`...)
	b = append(b, a.URI...)
	b = append(b, '>')
	return string(b)
}

// ParseAddress parses the value of a From, To or cc header as it appears on
// the wire: an optional display name, either quoted (with backslash escapes)
// or a sequence of unquoted words, followed by a URI in angle brackets.
// Errors wrap ErrMalformed.
func ParseAddress(s string) (Address, error) {
	a, err := parseAddress(s)
	if err != nil {
		return Address{}, fmt.Errorf("%w: address %q: %v", ErrMalformed, s, err)
	}
	return a, nil
}

// Header is a header line that has no field of its own in [Message]: a CPIM
// extension header (in Message.Headers) or a MIME header of the content (in
// Message.ContentHeaders).
type Header struct {
	// Namespace is the namespace prefix of a CPIM header name ("imdn" in
	// "imdn.Message-ID"), declared by an NS header (Message.Namespaces);
	// "" for the default namespace and for MIME headers.
	Namespace string
	// Name is the header name without its prefix. CPIM header names are
	// case-sensitive; MIME header names are not.
	Name string
	// Value is the unescaped value. For a CPIM header, parameters written
	// before the value (";name=value", RFC 3862 section 3) stay at the
	// start of Value. MIME header values are unfolded and trimmed.
	Value string
}

// Subject is one Subject header: RFC 3862 allows one per language.
type Subject struct {
	// Lang is the language tag of the ";lang=" parameter, "" for none.
	Lang string
	// Value is the unescaped subject text.
	Value string
}

// Message is a Message/CPIM body (RFC 3862): the CPIM message headers and
// the encapsulated MIME object.
//
// The zero value of every field means "absent"; in particular a zero From
// writes no From header. Parse leaves nil the slices and the map it has
// nothing for.
type Message struct {
	// From is the sender; the zero Address when there is no From header.
	From Address
	// To lists the recipients, one To header each.
	To []Address
	// CC lists the courtesy recipients, one cc header each.
	CC []Address
	// DateTime is the DateTime header (RFC 3339), the zero Time when absent.
	// Marshal writes it in the time's own offset with as many fractional
	// second digits as needed.
	DateTime time.Time
	// Subject holds the Subject headers, in order.
	Subject []Subject
	// Namespaces maps namespace prefixes to URNs, from the NS headers. The
	// key "" is a redeclaration of the default namespace ("NS: <urn>"),
	// which this package records but which does not change how From, To,
	// cc, DateTime, Subject and NS are recognized.
	Namespaces map[string]string
	// Headers holds every other CPIM header (Require, extension headers),
	// in order. A prefixed header must have its prefix in Namespaces for
	// Marshal to write it.
	Headers []Header

	// ContentType is the Content-Type of the content, with its parameters
	// ("text/plain; charset=utf-8"); "" when absent, which MIME (RFC 2045)
	// reads as text/plain.
	ContentType string
	// ContentID is the raw Content-ID value, angle brackets included.
	ContentID string
	// ContentHeaders holds the other MIME headers of the content
	// (Content-Disposition, Content-Transfer-Encoding, ...), in order, with
	// an empty Namespace.
	ContentHeaders []Header
	// Body is the content, as opaque bytes.
	Body []byte
}

// Lookup returns the value of the first header of m.Headers whose name is
// name in the namespace identified by the URN ns, and whether there is one.
// Prefixes are resolved through m.Namespaces, so the lookup does not depend
// on the prefix the sender chose: Lookup("urn:ietf:params:imdn",
// "Message-ID") finds "imdn.Message-ID". Unprefixed headers are in
// StandardNamespace unless m.Namespaces[""] redeclares the default namespace.
func (m *Message) Lookup(ns, name string) (string, bool) {
	for _, h := range m.Headers {
		if h.Name != name {
			continue
		}
		uri, ok := m.Namespaces[h.Namespace]
		if !ok {
			if h.Namespace != "" {
				continue // undeclared prefix: no namespace to match
			}
			uri = StandardNamespace
		}
		if uri == ns {
			return h.Value, true
		}
	}
	return "", false
}

// Character classes of RFC 3862 section 3 and RFC 5322.

// isNameChar reports whether c is an RFC 3862 NAMECHAR: the characters of a
// header name or namespace prefix.
func isNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validName reports whether s is an RFC 3862 Name (1*NAMECHAR).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// validMIMEName reports whether s is an RFC 5322 field name: printable
// US-ASCII except colon.
func validMIMEName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// isMIMEName reports whether an unprefixed header name is a MIME header of
// the content (RFC 2045): Content-* or MIME-Version, in any case.
func isMIMEName(name string) bool {
	return len(name) >= 8 && strings.EqualFold(name[:8], "Content-") ||
		strings.EqualFold(name, "MIME-Version")
}

// isStandardName reports whether an unprefixed CPIM header name is one that
// has a field of its own in Message.
func isStandardName(name string) bool {
	switch name {
	case "From", "To", "cc", "DateTime", "Subject", "NS":
		return true
	}
	return false
}

// validLang reports whether s looks like a language tag: letters, digits and
// hyphens. The full RFC 5646 grammar is not enforced.
func validLang(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkURI reports what is wrong with u as the URI of an address or an NS
// header, or nil: it must be non-empty and contain no white space, control
// character or angle bracket.
func checkURI(u string) error {
	if u == "" {
		return errors.New("empty URI")
	}
	if !utf8.ValidString(u) {
		return errors.New("URI is not valid UTF-8")
	}
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c == '\r' || c == '\n':
			return errCRLF
		case c <= ' ' || c == 0x7f:
			return fmt.Errorf("white space or control character in URI %q", u)
		case c == '<' || c == '>':
			return fmt.Errorf("angle bracket in URI %q", u)
		}
	}
	return nil
}
