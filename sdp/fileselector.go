package sdp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FileSelector is the value of an a=file-selector attribute (RFC 5547
// section 5): the selectors that identify the file a file transfer stream
// sends or asks for. An empty FileSelector (no name, no type, Size -1, no
// hash) is a bare "a=file-selector", which only says that file transfer is
// supported (RFC 5547 section 9.3).
//
// Note that the zero value has Size 0, which is a size selector; use -1 for
// none.
type FileSelector struct {
	// Name is the file name, decoded: UTF-8 in practice, without the
	// quotes and the percent-encoding of the attribute. "" when absent.
	Name string
	// Type is the media type with its parameters as written in the
	// selector, e.g. "image/jpeg" or `text/plain;charset="UTF-8"`
	// (RFC 5547 writes parameter values in double quotes). "" when absent.
	Type string
	// Size is the file size in octets, -1 when absent.
	Size int64
	// Hash is the hash of the file, nil when absent.
	Hash *Hash
}

// Hash is the hash selector of a file selector: an algorithm from the IANA
// "Hash Function Textual Names" registry and the digest.
type Hash struct {
	// Algorithm is the hash function's name in lower case; RFC 5547 uses
	// "sha-1".
	Algorithm string
	// Value is the digest (20 bytes for SHA-1); never empty in a parsed
	// Hash.
	Value []byte
}

// String returns the hash as a selector writes it after "hash:": the
// algorithm, a colon, and the digest as upper-case hex pairs separated by
// colons, e.g. "sha-1:72:24:5F:...:2E".
func (h Hash) String() string {
	var b strings.Builder
	b.WriteString(h.Algorithm)
	b.WriteByte(':')
	const digits = "0123456789ABCDEF"
	for i, c := range h.Value {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}

// FileRange is an a=file-range attribute (RFC 5547 section 6): the octets
// of the file the transfer covers, counted from 1, both ends included.
type FileRange struct {
	// Start is the first octet, 1 for the beginning of the file.
	Start int64
	// Stop is the last octet, -1 for "*" (up to the end of the file).
	Stop int64
}

// String returns the a=file-range value, e.g. "1-32349" or "1-*".
func (r FileRange) String() string {
	stop := "*"
	if r.Stop >= 0 {
		stop = strconv.FormatInt(r.Stop, 10)
	}
	return strconv.FormatInt(r.Start, 10) + "-" + stop
}

// ParseFileRange parses an a=file-range value: "<start>-<stop>" where
// start and stop are decimal numbers with 1 <= start <= stop, or stop is
// "*".
func ParseFileRange(value string) (FileRange, error) {
	v := strings.Trim(value, " \t")
	start, stop, ok := strings.Cut(v, "-")
	if !ok {
		return FileRange{}, fmt.Errorf("sdp: file-range %q: want <start>-<stop>", value)
	}
	s, ok := parseOctets(start)
	if !ok || s < 1 {
		return FileRange{}, fmt.Errorf("sdp: file-range %q: start %q is not a number from 1", value, start)
	}
	if stop == "*" {
		return FileRange{Start: s, Stop: -1}, nil
	}
	e, ok := parseOctets(stop)
	if !ok || e < s {
		return FileRange{}, fmt.Errorf("sdp: file-range %q: stop %q is not \"*\" or a number from %d", value, stop, s)
	}
	return FileRange{Start: s, Stop: e}, nil
}

// ParseFileSelector parses the value of an a=file-selector attribute (what
// follows "a=file-selector:"): selectors separated by blanks, in any order,
// each at most once (RFC 5547 section 5):
//
//	name:"<file name>"           quoted, with %XX percent-encoding
//	type:<type>/<subtype>[;<attribute>="<value>"]...
//	size:<octets>
//	hash:<algorithm>:<XX>:<XX>:...   hex pairs, e.g. hash:sha-1:72:24:5F:...
//
// An empty value (a bare "a=file-selector") gives an empty FileSelector
// and no error. In the name, every valid %XX sequence is decoded and a "%"
// not followed by two hex digits is kept as it is (some clients do not
// encode names). Hex digits of the hash may be in either case; the
// algorithm name is lower-cased. Selectors with other names
// ("<token>:<value>") are skipped. It fails, naming the selector, for a repeated selector, an
// empty or unterminated name, a type that is not "<type>/<subtype>", a size
// that is not a number, a malformed hash, an unterminated quoted string, a
// selector without a colon, and for CR, LF or NUL anywhere in value.
func ParseFileSelector(value string) (*FileSelector, error) {
	if strings.ContainsAny(value, "\r\n\x00") {
		return nil, fmt.Errorf("sdp: file-selector %q: contains CR, LF or NUL", value)
	}
	fs := &FileSelector{Size: -1}
	var seenName, seenType, seenSize, seenHash bool
	s := value
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return fs, nil
		}
		colon := strings.IndexByte(s, ':')
		if blank := strings.IndexAny(s, " \t"); colon < 0 || blank >= 0 && blank < colon {
			sel, _ := cutSelector(s)
			return nil, fmt.Errorf("sdp: file-selector %q: selector %q has no \"<name>:\"", value, sel)
		}
		name := s[:colon]
		if !isToken(name) {
			return nil, fmt.Errorf("sdp: file-selector %q: invalid selector name %q", value, name)
		}
		rest := s[colon+1:]
		var raw string
		if strings.EqualFold(name, "name") {
			if !strings.HasPrefix(rest, `"`) {
				return nil, fmt.Errorf("sdp: file-selector %q: name selector is not a quoted string", value)
			}
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("sdp: file-selector %q: name selector has no closing quote", value)
			}
			raw, s = rest[1:1+end], rest[2+end:]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				return nil, fmt.Errorf("sdp: file-selector %q: no blank after the name selector", value)
			}
		} else {
			var err error
			raw, s, err = cutValue(rest)
			if err != nil {
				return nil, fmt.Errorf("sdp: file-selector %q: %s selector: %w", value, name, err)
			}
		}

		dup := false
		switch strings.ToLower(name) {
		case "name":
			dup, seenName = seenName, true
			if raw == "" {
				return nil, fmt.Errorf("sdp: file-selector %q: empty name selector", value)
			}
			fs.Name = percentDecode(raw)
		case "type":
			dup, seenType = seenType, true
			mt, _, _ := strings.Cut(raw, ";")
			t, sub, ok := strings.Cut(mt, "/")
			if !ok || !isToken(t) || !isToken(sub) {
				return nil, fmt.Errorf("sdp: file-selector %q: type selector %q is not <type>/<subtype>", value, raw)
			}
			fs.Type = raw
		case "size":
			dup, seenSize = seenSize, true
			n, ok := parseOctets(raw)
			if !ok {
				return nil, fmt.Errorf("sdp: file-selector %q: size selector %q is not a number", value, raw)
			}
			fs.Size = n
		case "hash":
			dup, seenHash = seenHash, true
			h, err := parseHash(raw)
			if err != nil {
				return nil, fmt.Errorf("sdp: file-selector %q: hash selector %q: %w", value, raw, err)
			}
			fs.Hash = h
		default:
			continue // unknown selector: skipped
		}
		if dup {
			return nil, fmt.Errorf("sdp: file-selector %q: %s selector repeated", value, strings.ToLower(name))
		}
	}
}

// cutSelector returns the text up to the next blank, for error messages.
func cutSelector(s string) (sel, rest string) {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// cutValue returns a selector value up to the next blank that is not inside
// double quotes.
func cutValue(s string) (value, rest string, err error) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t':
			return s[:i], s[i:], nil
		case '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return "", "", errors.New("unterminated quoted string")
			}
			i += 1 + end
		}
	}
	return s, "", nil
}

// parseHash parses "<algorithm>:<XX>:<XX>:...".
func parseHash(v string) (*Hash, error) {
	alg, digest, ok := strings.Cut(v, ":")
	if !ok || !isToken(alg) {
		return nil, errors.New("want <algorithm>:<hex pairs>")
	}
	if len(digest)%3 != 2 {
		return nil, errors.New("digest is not hex pairs separated by colons")
	}
	val := make([]byte, 0, (len(digest)+1)/3)
	for i := 0; i < len(digest); i += 3 {
		if i > 0 && digest[i-1] != ':' {
			return nil, errors.New("digest is not hex pairs separated by colons")
		}
		b, err := hex.DecodeString(digest[i : i+2])
		if err != nil {
			return nil, fmt.Errorf("invalid hex pair %q", digest[i:i+2])
		}
		val = append(val, b[0])
	}
	return &Hash{Algorithm: strings.ToLower(alg), Value: val}, nil
}

// String returns the a=file-selector value (without "a=file-selector:"):
// the selectors that are set, in the order name, type, size, hash, as
// RFC 5547's examples write them, e.g.
//
//	name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:...:2E
//
// and "" for an empty selector. The name is written in double quotes with
// "%", the double quote, and the control characters (CR, LF, NUL, ...,
// DEL) percent-encoded as %XX (upper-case hex); other bytes, UTF-8
// included, are written as they are. Type is written as it is.
func (fs FileSelector) String() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	if fs.Name != "" {
		b.WriteString(`name:"`)
		b.WriteString(percentEncodeName(fs.Name))
		b.WriteByte('"')
	}
	if fs.Type != "" {
		sep()
		b.WriteString("type:")
		b.WriteString(fs.Type)
	}
	if fs.Size >= 0 {
		sep()
		b.WriteString("size:")
		b.WriteString(strconv.FormatInt(fs.Size, 10))
	}
	if fs.Hash != nil {
		sep()
		b.WriteString("hash:")
		b.WriteString(fs.Hash.String())
	}
	return b.String()
}

// percentEncodeName encodes "%", '"' and the control characters of a file
// name as %XX.
func percentEncodeName(s string) string {
	const digits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' || c == '"' || c < 0x20 || c == 0x7f {
			b.WriteByte('%')
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// percentDecode decodes every %XX sequence of s; a "%" that does not start
// one is kept.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
