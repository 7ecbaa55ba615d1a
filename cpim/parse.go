package cpim

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Parse decodes a message/cpim body.
//
// b normally starts with the CPIM message headers. Parse also accepts, and
// skips, an outer MIME header block whose Content-Type is message/cpim (the
// layout RFC 3862 section 5 prints); an input that starts with MIME headers
// of any other type (a multipart/signed wrapper, a bare MIME part) is an
// error: unwrap it first. MIME headers found among the CPIM headers (the
// RFC 5438 and RFC 4975 examples omit the blank line between the two header
// blocks) are taken as the content's headers, and what follows the blank
// line is the content.
//
// Line ends may be CRLF or LF; folded header lines are unfolded. CPIM
// header names are case-sensitive ("from" is an extension header, not From),
// MIME header names are not. Escapes are decoded in Subject and extension
// header values and in display names. The ";lang=" parameter of Subject is
// kept; other parameters of the standard headers are dropped. The content is
// everything after the blank line that ends the MIME headers, copied; any
// Content-Length header is kept in ContentHeaders and not interpreted.
//
// Every error wraps ErrMalformed and says where the problem is; in
// particular a DateTime that is not RFC 3339, a repeated From, DateTime,
// Content-Type or Content-ID, an NS header that redeclares a prefix with
// another URN, and a missing blank line are errors. Parse bounds its work
// with MaxHeaders and MaxLineLength and never panics.
func Parse(b []byte) (*Message, error) {
	r := &reader{b: b}
	block, err := r.block("CPIM message headers")
	if err != nil {
		return nil, err
	}
	if len(block) > 0 && allMIME(block) {
		ct, _ := find(block, "Content-Type")
		if !isCPIMType(ct) {
			if ct == "" {
				ct = "no Content-Type"
			}
			return nil, fmt.Errorf("%w: input starts with MIME headers (%s), not with CPIM message headers", ErrMalformed, ct)
		}
		// Outer MIME header of the message/cpim entity: skip it, unless
		// it says the entity is encoded (base64, quoted-printable).
		if cte, ok := find(block, "Content-Transfer-Encoding"); ok && !identityEncoding(cte) {
			return nil, fmt.Errorf("%w: outer Content-Transfer-Encoding %q is not supported: decode the message/cpim entity first", ErrMalformed, cte)
		}
		if block, err = r.block("CPIM message headers"); err != nil {
			return nil, err
		}
	}

	m := &Message{}
	p := parser{m: m}
	var mimeFields []field
	for _, f := range block {
		if isMIMEName(f.name) {
			mimeFields = append(mimeFields, f)
			continue
		}
		if err := p.cpim(f); err != nil {
			return nil, err
		}
	}
	// Unless the MIME headers were mixed into the CPIM block, they come in
	// a block of their own.
	if len(mimeFields) == 0 {
		if mimeFields, err = r.block("MIME headers"); err != nil {
			return nil, err
		}
	}
	for _, f := range mimeFields {
		if err := p.mime(f); err != nil {
			return nil, err
		}
	}
	if r.pos < len(b) {
		m.Body = bytes.Clone(b[r.pos:])
	}
	return m, nil
}

// field is a header line as read: the name before the first colon and the
// raw (unfolded, not unescaped) value after it.
type field struct {
	name  string
	value []byte
	line  int
}

func (f *field) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s header: %s", ErrMalformed, f.line, f.name, fmt.Sprintf(format, args...))
}

// reader splits the input into lines and header blocks.
type reader struct {
	b       []byte
	pos     int // offset of the next line
	line    int // number of the last line read
	headers int // headers read so far, all blocks together
}

// next returns the next line without its line end (LF or CRLF), or ok false
// at the end of the input.
func (r *reader) next() (line []byte, ok bool, err error) {
	if r.pos >= len(r.b) {
		return nil, false, nil
	}
	rest := r.b[r.pos:]
	r.line++
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		line, r.pos = rest, len(r.b)
	} else {
		line, r.pos = rest[:i], r.pos+i+1
	}
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if len(line) > MaxLineLength {
		return nil, false, fmt.Errorf("%w: line %d is longer than %d octets", ErrMalformed, r.line, MaxLineLength)
	}
	// Header lines are UTF-8 text without control characters; a stray CR
	// is refused rather than guessed at (another parser may see a line
	// break there).
	for j, c := range line {
		if c < ' ' && c != '\t' || c == 0x7f {
			return nil, false, fmt.Errorf("%w: line %d: control character %#02x at column %d", ErrMalformed, r.line, c, j+1)
		}
	}
	if !utf8.Valid(line) {
		return nil, false, fmt.Errorf("%w: line %d is not valid UTF-8", ErrMalformed, r.line)
	}
	return line, true, nil
}

// block reads header lines up to and including the blank line that ends
// them. what names the block in errors.
func (r *reader) block(what string) ([]field, error) {
	var fs []field
	for {
		line, ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: missing blank line after the %s (end of input at line %d)", ErrMalformed, what, r.line)
		}
		if len(line) == 0 {
			return fs, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Folded header (RFC 5322 section 2.2.3): unfold by dropping
			// the line end. RFC 3862 does not fold CPIM headers, but
			// the RFC 5438 examples fold MIME headers among them.
			if len(fs) == 0 {
				return nil, fmt.Errorf("%w: line %d: continuation line without a header", ErrMalformed, r.line)
			}
			f := &fs[len(fs)-1]
			if len(f.name)+1+len(f.value)+len(line) > MaxLineLength {
				return nil, fmt.Errorf("%w: line %d: folded %s header is longer than %d octets", ErrMalformed, r.line, f.name, MaxLineLength)
			}
			f.value = append(f.value, line...)
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return nil, fmt.Errorf("%w: line %d: no colon in a header line of the %s (%q)", ErrMalformed, r.line, what, truncate(line))
		}
		if r.headers++; r.headers > MaxHeaders {
			return nil, fmt.Errorf("%w: line %d: more than %d headers", ErrMalformed, r.line, MaxHeaders)
		}
		// The value is copied: unfolding appends to it.
		fs = append(fs, field{
			name:  string(line[:colon]),
			value: append([]byte(nil), line[colon+1:]...),
			line:  r.line,
		})
	}
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// allMIME reports whether every field of a header block is a MIME header.
func allMIME(fs []field) bool {
	for _, f := range fs {
		if !isMIMEName(f.name) {
			return false
		}
	}
	return true
}

// find returns the trimmed value of the first field called name, in any case.
func find(fs []field, name string) (string, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			return strings.TrimSpace(string(f.value)), true
		}
	}
	return "", false
}

// isCPIMType reports whether a Content-Type value is message/cpim, whatever
// its case and parameters.
func isCPIMType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), MediaType)
}

// identityEncoding reports whether a Content-Transfer-Encoding leaves the
// octets as they are (RFC 2045 section 6).
func identityEncoding(cte string) bool {
	return strings.EqualFold(cte, "7bit") || strings.EqualFold(cte, "8bit") || strings.EqualFold(cte, "binary")
}

// parser fills a Message from fields and remembers what it has seen.
type parser struct {
	m                  *Message
	seenFrom, seenDate bool
	seenCT, seenCID    bool
}

// cpim handles a CPIM message header.
func (p *parser) cpim(f field) error {
	prefix, name, dotted := strings.Cut(f.name, ".")
	if !dotted {
		prefix, name = "", f.name
	}
	if !validName(name) || dotted && !validName(prefix) {
		return fmt.Errorf("%w: line %d: invalid header name %q", ErrMalformed, f.line, f.name)
	}
	m := p.m
	raw := string(f.value)
	if prefix != "" || !isStandardName(name) {
		// Extension header (or Require): one optional space after the
		// colon, parameters stay in the value.
		m.Headers = append(m.Headers, Header{
			Namespace: prefix,
			Name:      name,
			Value:     unescape(strings.TrimPrefix(raw, " ")),
		})
		return nil
	}

	lang, value := splitParams(raw)
	switch name {
	case "From", "To", "cc":
		a, err := parseAddress(value)
		if err != nil {
			return f.errorf("%v", err)
		}
		switch name {
		case "From":
			if p.seenFrom {
				return f.errorf("repeated")
			}
			p.seenFrom, m.From = true, a
		case "To":
			m.To = append(m.To, a)
		default:
			m.CC = append(m.CC, a)
		}
	case "DateTime":
		if p.seenDate {
			return f.errorf("repeated")
		}
		t, err := parseDateTime(value)
		if err != nil {
			return f.errorf("%v", err)
		}
		p.seenDate, m.DateTime = true, t
	case "Subject":
		m.Subject = append(m.Subject, Subject{Lang: lang, Value: unescape(value)})
	case "NS":
		prefix, urn, err := parseNS(value)
		if err != nil {
			return f.errorf("%v", err)
		}
		if old, ok := m.Namespaces[prefix]; ok && old != urn {
			// Message.Namespaces cannot tell which headers were in
			// the scope of which declaration.
			return f.errorf("prefix %q redeclared as <%s> (was <%s>)", prefix, urn, old)
		}
		if m.Namespaces == nil {
			m.Namespaces = make(map[string]string)
		}
		m.Namespaces[prefix] = urn
	}
	return nil
}

// mime handles a MIME header of the content.
func (p *parser) mime(f field) error {
	if !validMIMEName(f.name) {
		return fmt.Errorf("%w: line %d: invalid MIME header name %q", ErrMalformed, f.line, f.name)
	}
	m := p.m
	value := strings.TrimSpace(string(f.value))
	switch {
	case strings.EqualFold(f.name, "Content-Type"):
		if p.seenCT {
			return f.errorf("repeated")
		}
		p.seenCT, m.ContentType = true, value
	case strings.EqualFold(f.name, "Content-ID"):
		if p.seenCID {
			return f.errorf("repeated")
		}
		p.seenCID, m.ContentID = true, value
	default:
		m.ContentHeaders = append(m.ContentHeaders, Header{Name: f.name, Value: value})
	}
	return nil
}

// splitParams splits the raw value of a standard header into its parameters
// and its value:
//
//	Header = Header-name ":" *( ";" Parameter ) SP Header-value
//
// It returns the ";lang=" parameter, the only one defined (for Subject); the
// others are dropped. One space before the parameters is tolerated
// (python-sipsimple accepts "Subject: ;lang=fr ..."), as is a missing space
// after the colon. Text that starts with ";" but does not parse as
// parameters is taken as the value (python-sipsimple does not escape a
// Subject such as ";-)").
func splitParams(raw string) (lang, value string) {
	plain := strings.TrimPrefix(raw, " ")
	if !strings.HasPrefix(plain, ";") {
		return "", plain
	}
	s := plain
	for strings.HasPrefix(s, ";") {
		s = s[1:]
		eq := strings.IndexByte(s, '=')
		if eq < 0 || !validName(s[:eq]) {
			return "", plain
		}
		name := s[:eq]
		s = s[eq+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			var err error
			if v, s, err = parseQuoted(s); err != nil {
				return "", plain
			}
		} else {
			end := strings.IndexAny(s, "; ")
			if end < 0 {
				end = len(s)
			}
			v, s = s[:end], s[end:]
		}
		if s != "" && s[0] != ';' && s[0] != ' ' {
			return "", plain
		}
		if name == "lang" {
			if !validLang(v) {
				return "", plain
			}
			lang = v
		}
	}
	// What is left is empty or SP Header-value.
	return lang, strings.TrimPrefix(s, " ")
}

// parseAddress parses the wire form of an address (see ParseAddress).
func parseAddress(s string) (Address, error) {
	var a Address
	s = strings.Trim(s, " \t")
	if strings.HasPrefix(s, `"`) {
		name, rest, err := parseQuoted(s)
		if err != nil {
			return a, fmt.Errorf("display name: %v", err)
		}
		a.DisplayName = name
		s = strings.TrimLeft(rest, " \t")
		if !strings.HasPrefix(s, "<") {
			return a, errors.New("want <URI> after the quoted display name")
		}
	} else {
		// Formal-name = 1*( Token SP ): everything before the "<".
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return a, errors.New("missing <URI>")
		}
		a.DisplayName = unescape(strings.TrimRight(s[:i], " \t"))
		s = s[i:]
	}
	if len(s) < 2 || s[len(s)-1] != '>' {
		return a, errors.New("URI not closed by >")
	}
	a.URI = s[1 : len(s)-1]
	if err := checkURI(a.URI); err != nil {
		return a, err
	}
	return a, nil
}

// parseQuoted decodes the quoted string at the start of s (s[0] is a double
// quote) and returns it with the rest of s after the closing quote.
func parseQuoted(s string) (value, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); {
		switch s[i] {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			i += decodeEscape(&b, s[i:])
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return "", "", errors.New("unterminated quoted string")
}

// parseDateTime parses an RFC 3339 date-time. RFC 3339 section 5.6 allows
// lower-case "t" and "z", which time.Parse does not.
func parseDateTime(s string) (time.Time, error) {
	s = strings.Trim(s, " \t")
	v := strings.Map(func(r rune) rune {
		switch r {
		case 't':
			return 'T'
		case 'z':
			return 'Z'
		}
		return r
	}, s)
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	return t, nil
}

// parseNS parses the value of an NS header: [ Name-prefix SP ] "<" URI ">".
func parseNS(s string) (prefix, urn string, err error) {
	s = strings.Trim(s, " \t")
	i := strings.IndexByte(s, '<')
	if i < 0 || !strings.HasSuffix(s, ">") {
		return "", "", fmt.Errorf("want [prefix] <URN>, got %q", truncate([]byte(s)))
	}
	prefix = strings.TrimRight(s[:i], " \t")
	if prefix != "" && !validName(prefix) {
		return "", "", fmt.Errorf("invalid namespace prefix %q", prefix)
	}
	urn = s[i+1 : len(s)-1]
	if err := checkURI(urn); err != nil {
		return "", "", err
	}
	return prefix, urn, nil
}
