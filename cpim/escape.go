package cpim

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The escape mechanism of RFC 3862 ("Escape" in the header syntax of its
// section 3):
//
//	Escape = "\" ( "u" 4(HEXDIG) / "b" / "t" / "n" / "r" / DQUOTE / "'" / "\" )
//
// Control characters (U+0000-U+001F, U+007F) must be escaped in header
// values, and a backslash must be escaped wherever it stands for itself,
// since receivers (python-sipsimple among them) decode escapes anywhere in a
// value. Inside a quoted string a double quote is escaped too.

const hexDigits = "0123456789abcdef"

// appendEscaped appends s to b with the RFC 3862 escapes applied: backslash,
// control characters and, when quoted is true, double quote. CR and LF are
// escaped as \r and \n; Marshal refuses them before it gets here, String
// methods do not.
func appendEscaped(b []byte, s string, quoted bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '"' && quoted:
			b = append(b, `\"`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			// Multi-byte UTF-8 sequences have only bytes >= 0x80 and are
			// copied as they are.
			b = append(b, c)
		}
	}
	return b
}

// unescape decodes the RFC 3862 escapes of s. A backslash that does not start
// a known escape is kept as a literal backslash (tolerance for senders that
// do not escape it).
func unescape(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			i++
			continue
		}
		i += decodeEscape(&b, s[i:])
	}
	return b.String()
}

// decodeEscape decodes the escape sequence at the start of s (s[0] is a
// backslash), writes the character it stands for to b and returns the number
// of bytes consumed. An unknown or truncated sequence writes the backslash
// alone and consumes one byte. \u escapes of UTF-16 surrogate pairs are
// combined; a lone surrogate becomes U+FFFD, so the result is always valid
// UTF-8 when s is.
func decodeEscape(b *strings.Builder, s string) int {
	if len(s) >= 2 {
		switch s[1] {
		case 'b':
			b.WriteByte('\b')
			return 2
		case 't':
			b.WriteByte('\t')
			return 2
		case 'n':
			b.WriteByte('\n')
			return 2
		case 'r':
			b.WriteByte('\r')
			return 2
		case '"', '\'', '\\':
			b.WriteByte(s[1])
			return 2
		case 'u':
			r, ok := hex4(s[2:])
			if !ok {
				break
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
					r2, ok = hex4(s[8:])
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r, n = d, 12
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
			return n
		}
	}
	b.WriteByte('\\')
	return 1
}

// hex4 decodes four hexadecimal digits at the start of s.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
