package sipcheck

import (
	"bytes"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// The reject path: only runs for datagrams that are not accepted, so it
// favours clarity over speed.

// rawHeader is one header of a message split leniently (LF or CRLF line
// ends, folding undone).
type rawHeader struct {
	name  string // as received, trimmed
	lname string // lower case, compact forms expanded
	value string // unfolded, trimmed
	colon bool
}

var compactNames = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
	"l": "content-length", "c": "content-type", "k": "supported", "s": "subject",
	"e": "content-encoding", "o": "event", "r": "refer-to", "b": "referred-by",
	"u": "allow-events", "a": "accept-contact", "x": "session-expires",
}

// splitMessage splits the start line and header section of d, accepting LF
// or CRLF line ends and stopping at the first empty line.
func splitMessage(d []byte) (startLine string, hs []rawHeader) {
	first := true
	for len(d) > 0 {
		var line []byte
		if i := bytes.IndexByte(d, '\n'); i >= 0 {
			line, d = d[:i], d[i+1:]
		} else {
			line, d = d, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if first {
			startLine, first = string(line), false
			continue
		}
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(hs) > 0 {
			h := &hs[len(hs)-1]
			if c := strings.TrimSpace(string(line)); c != "" {
				if h.value != "" {
					h.value += " "
				}
				h.value += c
			}
			continue
		}
		h := rawHeader{}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			h.name = strings.TrimSpace(string(line))
		} else {
			h.name = strings.TrimSpace(string(line[:colon]))
			h.value = strings.TrimSpace(string(line[colon+1:]))
			h.colon = true
		}
		h.lname = strings.ToLower(h.name)
		if long, ok := compactNames[h.lname]; ok {
			h.lname = long
		}
		hs = append(hs, h)
	}
	return startLine, hs
}

// rejectReply returns the error response to send for the rejected message d,
// or nil when it must be dropped.
func rejectReply(d []byte, p *problem) []byte {
	if len(d) >= 4 && bytes.EqualFold(d[:4], []byte("SIP/")) {
		return nil // malformed response: discard (RFC 3261 18.1.2)
	}
	startLine, hs := splitMessage(d)
	method, _, _ := strings.Cut(startLine, " ")
	if method == "ACK" {
		return nil // never answer an ACK
	}
	code, detail := p.code, p.detail
	if code == 0 {
		code, detail = diagnose(startLine, hs)
	}

	var vias []string
	var from, to, callID, cseq *rawHeader
	for i := range hs {
		h := &hs[i]
		switch h.lname {
		case "via":
			vias = append(vias, h.value)
		case "from":
			from = first(from, h)
		case "to":
			to = first(to, h)
		case "call-id":
			callID = first(callID, h)
		case "cseq":
			cseq = first(cseq, h)
		}
	}
	if len(vias) == 0 || from == nil || to == nil || callID == nil || cseq == nil || callID.value == "" {
		return nil
	}
	for i, v := range vias {
		if vias[i] = repairVia(v); vias[i] == "" {
			return nil
		}
	}
	fromV := repairAddress("From", from.value)
	toV := repairAddress("To", to.value)
	cseqV := repairCSeq(cseq.value)
	if fromV == "" || toV == "" || cseqV == "" {
		return nil
	}
	if m, _, _ := strings.Cut(cseqV, " "); m == "ACK" {
		return nil
	}
	if !toHasTag(toV) {
		toV += ";tag=" + stableTag(callID.value, cseqV, vias[0], fromV)
	}

	var b strings.Builder
	b.WriteString("SIP/2.0 ")
	b.WriteString(strconv.Itoa(code))
	b.WriteByte(' ')
	b.WriteString(reasonPhrase(code, detail))
	b.WriteString("\r\n")
	for _, v := range vias {
		b.WriteString("Via: " + v + "\r\n")
	}
	b.WriteString("From: " + fromV + "\r\n")
	b.WriteString("To: " + toV + "\r\n")
	b.WriteString("Call-ID: " + callID.value + "\r\n")
	b.WriteString("CSeq: " + cseqV + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	reply := []byte(b.String())
	// The reply is built from untrusted text: make sure it is a response a
	// peer can parse (this also guarantees it to the Engine).
	if res, err := parse(reply); err != nil {
		return nil
	} else if _, ok := res.(*sip.Response); !ok {
		return nil
	}
	return reply
}

func first(cur, h *rawHeader) *rawHeader {
	if cur != nil {
		return cur
	}
	return h
}

var headersParser = sip.HeadersParser(sip.DefaultHeadersParser())

// parsesAs reports whether sipgo parses "name: value" without error.
func parsesAs(name, value string) bool {
	_, err := parseHeader([]byte(name + ": " + value))
	return err == nil
}

func hasCtl(s string) bool {
	return strings.ContainsAny(s, "\r\n\x00")
}

// repairVia returns the Via value to copy: as received when sipgo parses it,
// else with empty list elements and empty parameters removed (badinv01's
// "SIP/2.0/UDP 192.0.2.15;;,;,,"), else "".
func repairVia(v string) string {
	if !hasCtl(v) && parsesAs("Via", v) {
		return v
	}
	var elems []string
	for _, e := range strings.Split(v, ",") {
		var parts []string
		for _, p := range strings.Split(e, ";") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 {
			elems = append(elems, strings.Join(parts, ";"))
		}
	}
	r := strings.Join(elems, ", ")
	if r == "" || hasCtl(r) || !parsesAs("Via", r) {
		return ""
	}
	return r
}

// repairAddress returns the From/To value to copy: as received when it is
// well formed and sipgo parses it, else "<uri>" (the URI between < and >, or
// a bare URI up to ';') plus the parameters after it when those parse, else
// "".
func repairAddress(name, v string) string {
	if !hasCtl(v) && checkAddress([]byte(v), false) == "" && parsesAs(name, v) {
		return v
	}
	var uri, params string
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return ""
		}
		uri, params = v[i+1:i+j], v[i+j+1:]
	} else {
		uri, params, _ = strings.Cut(v, ";")
		params = ";" + params
	}
	uri = strings.TrimSpace(uri)
	if uri == "" || hasCtl(uri) || strings.ContainsAny(uri, " \t<>\"") {
		return ""
	}
	r := "<" + uri + ">"
	if params := strings.TrimSpace(params); len(params) > 1 && params[0] == ';' {
		if withParams := r + params; !hasCtl(withParams) && checkAddress([]byte(withParams), false) == "" && parsesAs(name, withParams) {
			return withParams
		}
	}
	if !parsesAs(name, r) {
		return ""
	}
	return r
}

// repairCSeq returns the CSeq value to copy: as received when sipgo parses
// it, else "0 METHOD" when the method is a token (sipgo rejects numbers
// above 2^31-1, so an out-of-range number cannot be echoed; clients match
// responses by Via branch and CSeq method, RFC 3261 17.1.3), else "".
func repairCSeq(v string) string {
	if !hasCtl(v) && parsesAs("CSeq", v) {
		return v
	}
	f := strings.Fields(v)
	if len(f) != 2 || !isDigits([]byte(f[0])) || !isToken([]byte(f[1])) {
		return ""
	}
	return "0 " + f[1]
}

func toHasTag(v string) bool {
	h, err := parseHeader([]byte("To: " + v))
	if err != nil || len(h) != 1 {
		return false
	}
	to, ok := h[0].(*sip.ToHeader)
	return ok && to.Params.Has("tag")
}

// stableTag derives the To tag from the request so that its retransmissions
// get the same tag (RFC 3261 8.2.6.2 / 8.2.7).
func stableTag(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "sc" + strconv.FormatUint(h.Sum64(), 16)
}

func reasonPhrase(code int, detail string) string {
	phrase, ok := phrases[code]
	if !ok {
		phrase = "Error"
	}
	if detail == "" {
		return phrase
	}
	return phrase + " (" + detail + ")"
}

var phrases = map[int]string{
	400: "Bad Request",
	405: "Method Not Allowed",
	406: "Not Acceptable",
	413: "Request Entity Too Large",
	415: "Unsupported Media Type",
	416: "Unsupported URI Scheme",
	420: "Bad Extension",
	501: "Not Implemented",
	505: "Version Not Supported",
	513: "Message Too Large",
}

// typedHeaders are the headers sipgo parses into typed values (the only
// ones whose syntax makes its parser fail), with their canonical names.
var typedHeaders = map[string]string{
	"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID",
	"cseq": "CSeq", "contact": "Contact", "max-forwards": "Max-Forwards",
	"content-length": "Content-Length", "content-type": "Content-Type",
	"route": "Route", "record-route": "Record-Route", "refer-to": "Refer-To",
	"referred-by": "Referred-By",
}

// diagnose finds why sipgo rejected a request (framing and the raw rules
// having passed) and returns the status and reason detail.
func diagnose(startLine string, hs []rawHeader) (int, string) {
	unsupportedScheme := false
	if code, detail, unknownScheme := diagnoseRequestLine(startLine); code != 0 {
		return code, detail
	} else if unknownScheme {
		unsupportedScheme = true
	}
	for _, h := range hs {
		if !h.colon {
			return 400, "header line without a colon"
		}
		canon, typed := typedHeaders[h.lname]
		if !typed {
			continue
		}
		if _, err := parseHeader([]byte(h.name + ": " + h.value)); err == nil {
			continue
		}
		switch canon {
		case "CSeq":
			num, _, _ := strings.Cut(h.value, " ")
			if n, ok := parseDigits([]byte(num)); ok && n > 1<<32-1 {
				return 400, "CSeq number out of range"
			} else if ok && n > 1<<31-1 {
				return 400, "CSeq number above 2147483647 not supported"
			}
		case "Max-Forwards":
			if n, ok := parseDigits([]byte(h.value)); ok && n > 255 {
				return 400, "Max-Forwards out of range"
			}
		}
		return 400, "malformed " + canon + " header"
	}
	if unsupportedScheme {
		// Only the Request-URI's scheme, which sipgo cannot parse
		// (RFC 4475 novelsc: "soap.beep:"), is in the way.
		return 416, ""
	}
	return 400, "malformed message"
}

// diagnoseRequestLine checks Method SP Request-URI SP SIP-Version.
func diagnoseRequestLine(line string) (code int, detail string, unknownScheme bool) {
	if strings.ContainsAny(line, "\t") || strings.Count(line, " ") != 2 {
		switch {
		case strings.HasSuffix(line, " "):
			return 400, "white space at the end of the Request-Line", false
		case strings.Contains(line, "  "):
			return 400, "extra white space in the Request-Line", false
		case strings.Count(line, " ") < 2:
			return 400, "malformed Request-Line", false
		}
		return 400, "white space inside the Request-URI", false
	}
	parts := strings.SplitN(line, " ", 3)
	method, uri, version := parts[0], parts[1], parts[2]
	if !isToken([]byte(method)) {
		return 400, "malformed method", false
	}
	if !validVersion(version) {
		return 400, "malformed SIP-Version", false
	}
	if strings.HasPrefix(uri, "<") {
		return 400, "Request-URI in angle brackets", false
	}
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || !validScheme([]byte(scheme)) {
		return 400, "malformed Request-URI", false
	}
	if s := strings.ToLower(scheme); s == "sip" || s == "sips" {
		var u sip.Uri
		if err := sip.ParseUri(uri, &u); err != nil {
			return 400, "malformed Request-URI", false
		}
		return 0, "", false
	}
	return 0, "", true
}

// validVersion: "SIP" "/" 1*DIGIT "." 1*DIGIT, as sipgo requires it
// ("SIP" or "sip").
func validVersion(v string) bool {
	if len(v) < 4 || !sip.UriIsSIP(v[:3]) || v[3] != '/' {
		return false
	}
	major, minor, ok := strings.Cut(v[4:], ".")
	return ok && isDigits([]byte(major)) && isDigits([]byte(minor))
}
