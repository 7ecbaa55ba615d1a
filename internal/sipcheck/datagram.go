package sipcheck

import (
	"bytes"
	"errors"

	"github.com/emiago/sipgo/sip"
)

// Verdict is what to do with a received datagram. The zero value is Drop.
type Verdict uint8

const (
	// Drop: discard the datagram silently (malformed response, nothing to
	// answer to, or an ACK).
	Drop Verdict = iota
	// Accept: hand msg to sipgo.
	Accept
	// Reply: send reply back to the datagram's source and discard the
	// datagram.
	Reply
	// Ignore: a keep-alive (CRLF only, or empty/NUL padding); nothing to do.
	Ignore
)

func (v Verdict) String() string {
	switch v {
	case Drop:
		return "Drop"
	case Accept:
		return "Accept"
	case Reply:
		return "Reply"
	case Ignore:
		return "Ignore"
	}
	return "Verdict(?)"
}

// parser is the parser sipgo's UserAgent uses by default (sipgo.NewUA with no
// parser option); it is read-only and safe for concurrent use.
var parser = sip.NewParser()

var errPanic = errors.New("sipgo parser panicked")

// parse runs sipgo's parser; a panic in it counts as a parse error, so that
// such a datagram never reaches sipgo's transport.
func parse(b []byte) (m sip.Message, err error) {
	defer func() {
		if recover() != nil {
			m, err = nil, errPanic
		}
	}()
	return parser.ParseSIP(b)
}

// parseHeader runs sipgo's header parser on one "Name: value" line, likewise.
func parseHeader(line []byte) (hs []sip.Header, err error) {
	defer func() {
		if recover() != nil {
			hs, err = nil, errPanic
		}
	}()
	return headersParser.ParseHeader(nil, line)
}

// problem is why a datagram is not accepted.
type problem struct {
	code   int    // response status; 0: sipgo failed to parse, diagnose
	detail string // reason phrase detail, "" for the plain phrase
}

// Datagram checks one received UDP datagram before sipgo parses it.
//
//   - Ignore: keep-alive (only CR/LF octets, RFC 5626 3.5.1), or empty or
//     all-NUL data.
//   - Accept: msg is the message to give sipgo: data without leading CRLFs
//     and, when Content-Length is smaller than what follows the header
//     section, cut to Content-Length (RFC 3261 18.3: the surplus octets are
//     discarded). msg aliases data unless From or To was rewritten (see
//     below); its length may then differ from the datagram's.
//   - Reply: reply is a complete stateless error response (normally 400 Bad
//     Request with the problem in the reason phrase; 416 for an unparseable
//     Request-URI of an unknown scheme, 501 for a case-altered standard
//     method name) to send to the datagram's source. It copies the Via
//     headers, From, To (with a To tag derived from the request, so
//     retransmissions get the same one), Call-ID and CSeq of the request, and
//     always parses with sipgo's parser.
//   - Drop: a malformed response (RFC 3261 18.1.2), a malformed ACK, or a
//     malformed request lacking Via, From, To, Call-ID or CSeq.
//
// A datagram is rejected when Content-Length is negative, not a number,
// larger than the rest of the datagram, or given several times with
// different values; when its header section has bare CR or LF line ends or
// no terminating empty line; when sipgo cannot parse it; and, for requests,
// when a From, To or Contact value breaks the RFC 3261 rules sipgo ignores
// (unquoted display names with non-token characters, unterminated quotes,
// URIs containing '?' or ',' or white space outside <>), or a tag parameter
// is not "tag=" followed by a token, or the method is a standard method name
// in other than upper case (sipgo upper-cases methods; SIP methods are
// case-sensitive).
//
// Two rewrites make sipgo process valid messages it would refuse, and touch
// nothing but the From and To header lines: LWS around the ';' and '=' of
// From/To header parameters is removed (requests and responses), and a
// request without the RFC 3261 magic cookie in its top Via branch whose From
// has no tag (RFC 2543) gets an empty From tag, which [RestoreFromTag]
// removes again from the parsed request.
//
// Only UDP: on stream transports sipgo's own framing applies.
func Datagram(data []byte) (msg []byte, reply []byte, verdict Verdict) {
	if isKeepAlive(data) {
		return nil, nil, Ignore
	}
	d := data
	for len(d) >= 2 && d[0] == '\r' && d[1] == '\n' {
		d = d[2:]
	}
	msg, n, p := check(d)
	if p == nil {
		return msg, nil, Accept
	}
	reply = rejectReply(d[:n], p)
	if reply == nil {
		return nil, nil, Drop
	}
	return nil, reply, Reply
}

func isKeepAlive(data []byte) bool {
	nul := true
	crlfOnly := true
	for _, c := range data {
		if c != 0 {
			nul = false
		}
		if c != '\r' && c != '\n' {
			crlfOnly = false
		}
		if !nul && !crlfOnly {
			return false
		}
	}
	return true
}

// check runs the raw checks and sipgo's parser on d. It returns the message
// to hand to sipgo (the datagram cut to Content-Length, with the From/To
// rewrites of rewrite.go applied) and nil, or the problem found; n is the
// length of the message within d (the part of d to diagnose and answer).
func check(d []byte) (msg []byte, n int, p *problem) {
	sc, p := rawCheck(d)
	n = sc.n
	if p != nil {
		return nil, n, p
	}
	msg = d[:n]
	if len(sc.edits) > 0 {
		msg = applyEdits(msg, sc.edits)
	}
	m, err := parse(msg)
	if err != nil {
		return nil, n, &problem{}
	}
	if sc.response {
		return msg, n, nil
	}
	if caseAlteredMethod(d[:sc.lineEnd]) {
		return nil, n, &problem{501, "method names are case-sensitive"}
	}
	if req, ok := m.(*sip.Request); ok && sc.froms == 1 && sc.fromEnd >= 0 && needsFromTag(req) {
		if tagged := addFromTag(d[:n], sc.edits, sc.fromEnd); tagged != nil {
			msg = tagged
		}
	}
	return msg, n, nil
}

// scan is what rawCheck finds: the length of the message (cut to
// Content-Length) and of its start line, and the From/To rewrites.
type scan struct {
	n, lineEnd int
	response   bool
	edits      []edit // LWS removed from From/To parameters, in order
	froms      int    // From headers
	fromEnd    int    // offset just past the (last) From value, -1 if malformed
}

// rawCheck runs the checks on raw bytes: line ends, Content-Length framing,
// From/To/Contact syntax, in one pass over the header section.
func rawCheck(d []byte) (sc scan, p *problem) {
	sc.n = len(d)
	i := bytes.IndexByte(d, '\n')
	if i < 0 {
		return sc, &problem{400, "no CRLF after the start line"}
	}
	if i == 0 || d[i-1] != '\r' {
		return sc, &problem{400, "bare LF line ends"}
	}
	sc.lineEnd = i - 1
	if bytes.IndexByte(d[:sc.lineEnd], '\r') >= 0 {
		return sc, &problem{400, "bare CR line ends"}
	}
	sc.response = len(d) >= 4 && bytes.EqualFold(d[:4], []byte("SIP/"))
	hs := headerState{response: sc.response, fromEnd: -1}
	bodyStart := -1
	start, end := -1, -1 // pending logical header line d[start:end]
	for pos := i + 1; ; {
		j := bytes.IndexByte(d[pos:], '\n')
		k := pos + j // the LF
		if j < 0 {
			k = len(d) + 1 // last line, unterminated
		}
		e := k - 1 // the CR
		if j == 0 || (j > 0 && d[e] != '\r') {
			return sc, &problem{400, "bare LF line ends"}
		}
		if bytes.IndexByte(d[pos:min(e, len(d))], '\r') >= 0 {
			return sc, &problem{400, "bare CR line ends"}
		}
		switch {
		case pos < len(d) && e == pos: // empty line: end of the header section
			bodyStart = k + 1
		case start >= 0 && pos < len(d) && (d[pos] == ' ' || d[pos] == '\t'):
			end = min(e, len(d)) // folded continuation
		default:
			if start >= 0 {
				hs.header(d[start:end], start)
			}
			start, end = pos, min(e, len(d))
		}
		if bodyStart >= 0 || j < 0 {
			if start >= 0 && (bodyStart >= 0 || start < len(d)) {
				hs.header(d[start:end], start)
			}
			break
		}
		pos = k + 1
	}
	switch {
	case hs.framing != nil:
		p = hs.framing
	case hs.addr != nil:
		p = hs.addr
	case bodyStart < 0:
		p = &problem{400, "no empty line after the header section"}
	case hs.clSeen && hs.cl > uint64(len(d)-bodyStart):
		p = &problem{400, "Content-Length larger than datagram"}
	case hs.clSeen:
		sc.n = bodyStart + int(hs.cl)
	}
	if p == nil {
		sc.edits, sc.froms, sc.fromEnd = hs.edits, hs.froms, hs.fromEnd
	}
	return sc, p
}

// headerState collects what rawCheck finds in the header lines.
type headerState struct {
	response bool
	cl       uint64
	clSeen   bool
	framing  *problem // Content-Length problem
	addr     *problem // From/To/Contact problem (requests)
	edits    []edit   // From/To parameter rewrites
	froms    int
	fromEnd  int
}

// header checks one logical header line d[at:at+len(line)] (folding CRLFs
// included).
func (s *headerState) header(line []byte, at int) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return // sipgo rejects it; diagnosed later
	}
	name := trimLWS(line[:colon])
	value := line[colon+1:]
	switch {
	case isName(name, "content-length", 'l'):
		if s.framing != nil {
			return
		}
		v := trimLWS(value)
		x, ok := parseDigits(v)
		switch {
		case len(v) > 0 && v[0] == '-':
			s.framing = &problem{400, "negative Content-Length"}
		case !ok:
			s.framing = &problem{400, "malformed Content-Length"}
		case s.clSeen && x != s.cl:
			s.framing = &problem{400, "conflicting Content-Length headers"}
		}
		s.cl, s.clSeen = x, true
	case isName(name, "from", 'f'):
		s.froms++
		s.fromEnd = s.address(line, at, colon, "From")
	case isName(name, "to", 't'):
		s.address(line, at, colon, "To")
	case s.response || s.addr != nil:
	case isName(name, "contact", 'm'):
		if p := checkAddress(value, true); p != "" {
			s.addr = &problem{400, p + " in Contact"}
		}
	}
}

// isName reports whether the header name b is long (lower case) or its
// compact form.
func isName(b []byte, long string, compact byte) bool {
	if len(b) == 1 {
		return b[0]|0x20 == compact
	}
	return len(b) == len(long) && bytes.EqualFold(b, []byte(long))
}

// standardMethods are the methods of RFC 3261 and its extensions that sipgo
// knows; sipgo upper-cases the method of every request it parses.
var standardMethods = []sip.RequestMethod{
	sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER, sip.OPTIONS,
	sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE, sip.PRACK,
	sip.UPDATE, sip.PUBLISH,
}

func isStandardMethod(m string) bool {
	for _, s := range standardMethods {
		if string(s) == m {
			return true
		}
	}
	return false
}

// caseAlteredMethod reports a request line whose method is a standard method
// name in other than upper case ("invite"): SIP methods are case-sensitive
// (RFC 3261 7.1), so it is an unknown method, but sipgo would process it as
// the standard one.
func caseAlteredMethod(startLine []byte) bool {
	sp := bytes.IndexByte(startLine, ' ')
	if sp <= 0 {
		return false
	}
	m := startLine[:sp]
	for _, s := range standardMethods {
		if len(m) == len(s) && bytes.EqualFold(m, []byte(s)) {
			return string(m) != string(s)
		}
	}
	return false
}
