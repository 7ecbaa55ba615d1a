package sipcheck

import "bytes"

// Lexical helpers over raw bytes (RFC 3261 section 25.1). None of them
// allocates: they run on every received datagram.

// tokenChar reports the RFC 3261 token characters:
// alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
var tokenChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] = true
	}
	return t
}()

// isLWS reports linear white space; CR and LF count because a folded header
// value still holds its CRLF (bare CR/LF are rejected before this runs).
func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimLWS(b []byte) []byte {
	for len(b) > 0 && isLWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isLWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChar[c] {
			return false
		}
	}
	return true
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseDigits returns the value of a 1*DIGIT string, saturating at 1<<62 so
// that any overlong value compares as "too large" without overflowing.
func parseDigits(b []byte) (v uint64, ok bool) {
	if !isDigits(b) {
		return 0, false
	}
	for _, c := range b {
		if v < 1<<58 {
			v = v*10 + uint64(c-'0')
		} else {
			v = 1 << 62
		}
	}
	return v, true
}

// validScheme reports an RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(b []byte) bool {
	if len(b) == 0 || !isAlpha(b[0]) {
		return false
	}
	for _, c := range b[1:] {
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// hasScheme reports whether uri starts with a valid "scheme:".
func hasScheme(uri []byte) bool {
	i := bytes.IndexByte(uri, ':')
	return i > 0 && validScheme(uri[:i])
}

// skipQuoted returns the index just past the closing quote of the
// quoted-string opening at b[i] (which must be '"'), or -1 if it is never
// closed. A backslash escapes the next byte (quoted-pair).
func skipQuoted(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// Address problems found by checkAddress (reason phrase details).
const (
	probEmptyAddress   = "empty address"
	probUnterminated   = "unterminated quoted string"
	probDisplayName    = "display name with non-token characters must be quoted"
	probAfterQuoted    = "quoted display name not followed by a URI in angle brackets"
	probNoRAquot       = "unclosed angle bracket"
	probLWSInBrackets  = "white space inside angle brackets"
	probNoScheme       = "URI without a scheme"
	probLWSInURI       = "white space inside URI"
	probQmarkNotInLAQ  = "URI with '?' must be in angle brackets"
	probCommaNotInLAQ  = "URI with ',' must be in angle brackets"
	probAfterRAquot    = "unexpected characters after the URI"
	probMultipleValues = "several values in a single-value header"
)

// checkAddress checks a From/To (list=false) or Contact (list=true) header
// value against the name-addr / addr-spec rules of RFC 3261 20.10 and 25.1
// that sipgo does not enforce and that are lost once the value is parsed:
// quoting of display names, balanced quotes, URIs containing '?' or ','
// outside <>, white space inside the URI. It returns "" or a problem.
// Parameter names and values are not checked beyond quote balance.
func checkAddress(v []byte, list bool) string {
	i := 0
	for {
		var p string
		i, p = checkOneAddress(v, i, list)
		if p != "" {
			return p
		}
		if i >= len(v) {
			return ""
		}
		// v[i] == ',' and list: next contact value.
		i++
	}
}

// checkOneAddress checks one address starting at v[i]; it returns the index
// of the ',' ending it (Contact lists) or len(v).
func checkOneAddress(v []byte, i int, list bool) (int, string) {
	for i < len(v) && isLWS(v[i]) {
		i++
	}
	if i >= len(v) {
		return i, probEmptyAddress
	}
	if list && v[i] == '*' {
		j := i + 1
		for j < len(v) && isLWS(v[j]) {
			j++
		}
		if j == len(v) {
			return j, ""
		}
	}
	if v[i] == '"' {
		j := skipQuoted(v, i)
		if j < 0 {
			return len(v), probUnterminated
		}
		for j < len(v) && isLWS(v[j]) {
			j++
		}
		if j >= len(v) || v[j] != '<' {
			return len(v), probAfterQuoted
		}
		return checkBracketed(v, j, list)
	}
	// Either "display name <uri>" or a bare addr-spec: look for '<' before
	// the end of the addr-spec (';', or ',' in a list).
	for j := i; j < len(v); j++ {
		switch c := v[j]; {
		case c == '<':
			// v[i:j] is an unquoted display name: *(token LWS).
			for _, d := range v[i:j] {
				if !tokenChar[d] && !isLWS(d) && d < 0x80 {
					return len(v), probDisplayName
				}
			}
			return checkBracketed(v, j, list)
		case c == ';' || c == ',' && list:
			return checkAddrSpec(v, i, j, list)
		case c == '"':
			// A quote in the middle of an unquoted display name.
			return len(v), probDisplayName
		}
	}
	return checkAddrSpec(v, i, len(v), list)
}

// checkBracketed checks "<uri>" at v[j] and the parameters after it.
func checkBracketed(v []byte, j int, list bool) (int, string) {
	k := bytes.IndexByte(v[j:], '>')
	if k < 0 {
		return len(v), probNoRAquot
	}
	uri := v[j+1 : j+k]
	for _, c := range uri {
		if isLWS(c) {
			return len(v), probLWSInBrackets
		}
	}
	if !hasScheme(uri) {
		return len(v), probNoScheme
	}
	e := j + k + 1
	for e < len(v) && isLWS(v[e]) {
		e++
	}
	if e < len(v) && v[e] != ';' && !(list && v[e] == ',') {
		if v[e] == ',' {
			return len(v), probMultipleValues
		}
		return len(v), probAfterRAquot
	}
	return checkParams(v, e, list)
}

// checkAddrSpec checks a bare addr-spec v[i:j] (the header parameters, if
// any, follow at v[j]).
func checkAddrSpec(v []byte, i, j int, list bool) (int, string) {
	uri := trimLWS(v[i:j])
	for _, c := range uri {
		switch {
		case isLWS(c):
			return len(v), probLWSInURI
		case c == '?':
			return len(v), probQmarkNotInLAQ
		case c == ',':
			return len(v), probCommaNotInLAQ
		}
	}
	if !hasScheme(uri) {
		return len(v), probNoScheme
	}
	return checkParams(v, j, list)
}

// checkParams skips header parameters from v[i] (at ';', ',' or the end)
// checking only that quoted strings are closed; it returns the index of the
// ',' ending a list element, or len(v).
func checkParams(v []byte, i int, list bool) (int, string) {
	for i < len(v) {
		switch v[i] {
		case '"':
			j := skipQuoted(v, i)
			if j < 0 {
				return len(v), probUnterminated
			}
			i = j
			continue
		case ',':
			if list {
				return i, ""
			}
			return len(v), probMultipleValues
		}
		i++
	}
	return i, ""
}
