package msrp

import "strconv"

// Character classes and small validators of the RFC 4975 section 9 ABNF,
// shared by the URI parser, the frame reader and the writer so that the
// writer accepts what the reader produces.

const (
	// maxTransactionIDLen bounds a transaction-id. RFC 4975's ident is 4
	// to 32 characters; the reader accepts 1 to 64 to be lenient with
	// peers, which keeps the end-line short enough to recognise with one
	// bufio.Reader.Peek.
	maxTransactionIDLen = 64
	// maxMessageIDLen bounds a Message-ID (RFC 4975: 4 to 32 characters;
	// some implementations use UUIDs and longer).
	maxMessageIDLen = 256
	// endLinePrefix is the seven hyphens that start an end-line.
	endLinePrefix = "-------"
)

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// isIdentChar reports whether c is an RFC 4975 ident-char:
// ALPHANUM / "." / "-" / "+" / "%" / "=".
func isIdentChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '-' || c == '+' || c == '%' || c == '='
}

// validIdent reports whether s is an ident (ALPHANUM *ident-char) of 1 to
// maxLen characters. RFC 4975 asks for at least 4; shorter ones are accepted.
func validIdent(s string, maxLen int) bool {
	if len(s) == 0 || len(s) > maxLen || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// validTransactionID reports whether s can be used as a transaction-id.
func validTransactionID(s string) bool { return validIdent(s, maxTransactionIDLen) }

// isTokenChar reports whether c is an RFC 3261 token character, which is
// what RFC 4975 uses for header names and URI parameters.
func isTokenChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// validHeaderName reports whether s is an hname: ALPHA *token.
func validHeaderName(s string) bool { return s != "" && isAlpha(s[0]) && validToken(s) }

// validMethod reports whether s is 1*UPALPHA (with inner "_" allowed).
func validMethod(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		// RFC 4975 says 1*UPALPHA; an inner "_" is taken too, for
		// python-sipsimple's (and Blink's) FILE_OFFSET extension.
		if (s[i] < 'A' || s[i] > 'Z') && (s[i] != '_' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// validText reports whether s is utf8text: HTAB, printable ASCII and any
// octet >= 0x80 (UTF-8 is not checked). Control characters, CR and LF are
// refused so that a value can never break a line.
func validText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// parse3Digits parses exactly three decimal digits.
func parse3Digits(s string) (int, bool) {
	if len(s) != 3 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return 0, false
	}
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'), true
}

// appendPadded3 appends n (0..999) as three digits.
func appendPadded3(b []byte, n int) []byte {
	return append(b, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
}

// quoteTrunc quotes s for an error message, shortened to a readable size.
func quoteTrunc(s string) string {
	const limit = 64
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
