package sipcheck

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// RequestOptions describes what the receiving element supports. It is passed
// by the caller; sipcheck keeps no state.
type RequestOptions struct {
	// Supported option tags (RFC 3261 19.2). A Require header naming any
	// other tag gets 420 Bad Extension. Nil: no extension is supported.
	Supported []string
	// AllowedMethods the element handles. Another standard method (RFC 3261
	// and extensions: REGISTER, SUBSCRIBE, ...) gets 405 Method Not Allowed,
	// an unknown method 501 Not Implemented (RFC 3261 8.2.1). Nil: no method
	// check. sipgo upper-cases request methods, so these are compared
	// case-insensitively.
	AllowedMethods []string
	// AcceptedContentTypes for the body of an INVITE ("application/sdp",
	// maybe "multipart/mixed"); another media type gets 415 Unsupported Media
	// Type (RFC 3261 8.2.3), and an INVITE whose Accept header excludes
	// application/sdp gets 406 when application/sdp is listed here. Nil: no
	// body or Accept check.
	AcceptedContentTypes []string
}

// Request checks a request sipgo parsed (from a datagram Datagram accepted,
// or from a stream) before it is dispatched. It returns 0, "" when the
// request may be processed, else the status code and reason phrase to answer
// with (see ErrorResponse). The checks, in order:
//
//   - 505: SIP-Version other than SIP/2.0;
//   - 400: no Via; missing or repeated Call-ID, From, To, CSeq; repeated
//     Max-Forwards or Content-Type; Max-Forwards above 255; Expires or a Contact expires
//     parameter not a number up to 2^32-1 (sipgo itself rejects CSeq
//     numbers above 2^31-1); a Request-URI with white space or <>;
//   - 405 / 501: method not in opts.AllowedMethods (standard / unknown);
//   - 400: CSeq method differs from the request method;
//   - 416: Request-URI scheme other than sip or sips (tel included: the
//     Engine is a SIP endpoint);
//   - 400: Request-URI with escaped headers ("sip:u@h?Route=..."); REGISTER
//     whose To or From is not a SIP or SIPS URI (no valid address-of-record);
//     a body without Content-Type;
//   - 420: Require lists a tag not in opts.Supported (not for ACK, CANCEL);
//   - 415: INVITE body of a type not in opts.AcceptedContentTypes, or with a
//     Content-Encoding other than identity, unless Content-Disposition says
//     handling=optional;
//   - 406: INVITE whose Accept header excludes application/sdp.
//
// Rules that only the raw bytes show (display-name quoting, unbracketed
// URIs with '?', Content-Length framing) are Datagram's; for requests from
// streams they are not checked.
//
// For an ACK a non-zero code means: discard it silently; an ACK is never
// answered.
func Request(req *sip.Request, opts RequestOptions) (code int, reason string) {
	if req == nil {
		return 400, "Bad Request"
	}
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return 505, "Version Not Supported"
	}
	var (
		vias, callIDs, froms, tos, cseqs, maxFwds, contentTypes int
		requires, accepts                                       []string
		encodings                                               []string
		disposition                                             string
	)
	for _, h := range req.Headers() {
		switch h := h.(type) {
		case *sip.ViaHeader:
			vias++
		case *sip.CallIDHeader:
			callIDs++
		case *sip.FromHeader:
			froms++
		case *sip.ToHeader:
			tos++
		case *sip.CSeqHeader:
			cseqs++
		case *sip.MaxForwardsHeader:
			maxFwds++
			if *h > 255 {
				return 400, "Bad Request (Max-Forwards out of range)"
			}
		case *sip.ContentTypeHeader:
			contentTypes++
		case *sip.ContactHeader:
			for _, kv := range h.Params {
				if strings.EqualFold(strings.TrimSpace(kv.K), "expires") && !deltaSeconds(kv.V) {
					return 400, "Bad Request (Contact expires out of range)"
				}
			}
		case *sip.ContentLengthHeader, *sip.RouteHeader, *sip.RecordRouteHeader:
		default:
			switch name := h.Name(); {
			case strings.EqualFold(name, "expires"):
				if !deltaSeconds(h.Value()) {
					return 400, "Bad Request (Expires out of range)"
				}
			case strings.EqualFold(name, "require"):
				requires = append(requires, h.Value())
			case strings.EqualFold(name, "accept"):
				accepts = append(accepts, h.Value())
			case strings.EqualFold(name, "content-encoding"), strings.EqualFold(name, "e"):
				encodings = append(encodings, h.Value())
			case strings.EqualFold(name, "content-disposition"):
				disposition = h.Value()
			}
		}
	}
	switch {
	case vias == 0:
		return 400, "Bad Request (missing Via)"
	case callIDs != 1:
		return 400, "Bad Request (" + countProblem(callIDs) + " Call-ID)"
	case froms != 1:
		return 400, "Bad Request (" + countProblem(froms) + " From)"
	case tos != 1:
		return 400, "Bad Request (" + countProblem(tos) + " To)"
	case cseqs != 1:
		return 400, "Bad Request (" + countProblem(cseqs) + " CSeq)"
	case maxFwds > 1:
		return 400, "Bad Request (multiple Max-Forwards)"
	case contentTypes > 1:
		return 400, "Bad Request (multiple Content-Type)"
	}
	ruri := &req.Recipient
	if badURIChars(ruri.User) || badURIChars(ruri.Host) || badURIChars(ruri.Raw()) {
		return 400, "Bad Request (malformed Request-URI)"
	}

	method := string(req.Method)
	if opts.AllowedMethods != nil && !containsFold(opts.AllowedMethods, method) {
		if isStandardMethod(method) {
			return 405, "Method Not Allowed"
		}
		return 501, "Not Implemented"
	}
	if cseqMismatch(req.CSeq().MethodName, req.Method) {
		return 400, "Bad Request (CSeq method does not match the request method)"
	}

	if s := strings.ToLower(ruri.Scheme); s != "sip" && s != "sips" {
		return 416, "Unsupported URI Scheme"
	}
	if ruri.Headers.Length() > 0 {
		return 400, "Bad Request (Request-URI with escaped headers)"
	}
	if req.Method == sip.REGISTER {
		if !isSIPScheme(req.To().Address.Scheme) {
			return 400, "Bad Request (To is not a SIP or SIPS address-of-record)"
		}
		if !isSIPScheme(req.From().Address.Scheme) {
			return 400, "Bad Request (From is not a SIP or SIPS URI)"
		}
	}
	if len(req.Body()) > 0 && contentTypes == 0 {
		return 400, "Bad Request (body without Content-Type)"
	}
	if req.Method != sip.ACK && req.Method != sip.CANCEL {
		if len(unsupportedTags(requires, opts.Supported)) > 0 {
			return 420, "Bad Extension"
		}
	}
	if req.Method == sip.INVITE && opts.AcceptedContentTypes != nil {
		if len(req.Body()) > 0 && !optionalBody(disposition) {
			if !mediaTypeIn(opts.AcceptedContentTypes, string(*req.ContentType())) {
				return 415, "Unsupported Media Type"
			}
			for _, e := range encodings {
				for _, v := range splitList(e) {
					if !strings.EqualFold(v, "identity") {
						return 415, "Unsupported Media Type (Content-Encoding)"
					}
				}
			}
		}
		if accepts != nil && containsFold(opts.AcceptedContentTypes, "application/sdp") &&
			!acceptsType(accepts, "application", "sdp") {
			return 406, "Not Acceptable (application/sdp not in Accept)"
		}
	}
	return 0, ""
}

func badURIChars(s string) bool { return strings.ContainsAny(s, " \t\r\n<>") }

func countProblem(n int) string {
	if n == 0 {
		return "missing"
	}
	return "multiple"
}

func isSIPScheme(s string) bool {
	s = strings.ToLower(s)
	return s == "sip" || s == "sips"
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// cseqMismatch compares the CSeq method with the request method. sipgo
// upper-cases the request method but not the CSeq method, so for methods
// that are not standard (whose original case is lost) only a
// case-insensitive comparison is possible.
func cseqMismatch(cseq, method sip.RequestMethod) bool {
	if cseq == method {
		return false
	}
	return isStandardMethod(string(method)) || !strings.EqualFold(string(cseq), string(method))
}

// deltaSeconds: 1*DIGIT not above 2^32-1 (RFC 3261 20.19, 20.10).
func deltaSeconds(v string) bool {
	n, ok := parseDigits([]byte(strings.TrimSpace(v)))
	return ok && n <= 1<<32-1
}

// splitList splits a comma-separated header value, trimming the elements
// and dropping empty ones.
func splitList(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// unsupportedTags returns the option tags of the Require values not in
// supported.
func unsupportedTags(requires, supported []string) []string {
	var out []string
	for _, r := range requires {
		for _, tag := range splitList(r) {
			if !containsFold(supported, tag) && !containsFold(out, tag) {
				out = append(out, tag)
			}
		}
	}
	return out
}

// mediaTypeIn reports whether the media type of a Content-Type value
// ("type / subtype ; params", SLASH and SEMI may have LWS around them) is
// one of list, case-insensitively.
func mediaTypeIn(list []string, contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	typ, sub, _ := strings.Cut(mt, "/")
	typ, sub = strings.TrimSpace(typ), strings.TrimSpace(sub)
	for _, x := range list {
		t, s, _ := strings.Cut(x, "/")
		if strings.EqualFold(strings.TrimSpace(t), typ) && strings.EqualFold(strings.TrimSpace(s), sub) {
			return true
		}
	}
	return false
}

// optionalBody reports a Content-Disposition with handling=optional (RFC
// 3261 20.11: an unknown body may then be ignored).
func optionalBody(disposition string) bool {
	_, params, ok := strings.Cut(disposition, ";")
	if !ok {
		return false
	}
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "handling") && strings.EqualFold(strings.TrimSpace(v), "optional") {
			return true
		}
	}
	return false
}

// acceptsType reports whether the Accept values admit typ/sub (RFC 3261
// 20.1; media ranges with wildcards; q=0 excludes). An empty Accept header
// admits nothing.
func acceptsType(accepts []string, typ, sub string) bool {
	for _, a := range accepts {
		for _, r := range splitList(a) {
			rng, params, _ := strings.Cut(r, ";")
			t, s, _ := strings.Cut(strings.ToLower(strings.TrimSpace(rng)), "/")
			t, s = strings.TrimSpace(t), strings.TrimSpace(s)
			if !(t == "*" || t == typ) || !(s == "*" || s == sub) {
				continue
			}
			if qZero(params) {
				continue
			}
			return true
		}
	}
	return false
}

func qZero(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			v = strings.TrimSpace(v)
			return strings.Trim(v, "0.") == "" && v != ""
		}
	}
	return false
}

// ErrorResponse builds the response to a request Request rejected with code
// and reason: sipgo's NewResponseFromRequest (Via, From, To with a tag,
// Call-ID, CSeq) with SIP/2.0 as version, plus the headers RFC 3261 asks for:
// Allow (405 must, 501 should), Unsupported listing the unsupported tags
// (420), Accept, Accept-Encoding and Accept-Language (415), a Warning 399
// with the reason (406, as RFC 4475 3.3.15 suggests).
func ErrorResponse(req *sip.Request, code int, reason string, opts RequestOptions) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.SipVersion = "SIP/2.0"
	switch code {
	case 405, 501:
		if len(opts.AllowedMethods) > 0 {
			res.AppendHeader(sip.NewHeader("Allow", strings.Join(opts.AllowedMethods, ", ")))
		}
	case 420:
		var requires []string
		for _, h := range req.GetHeaders("Require") {
			requires = append(requires, h.Value())
		}
		if tags := unsupportedTags(requires, opts.Supported); len(tags) > 0 {
			res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
		}
	case 415:
		if len(opts.AcceptedContentTypes) > 0 {
			res.AppendHeader(sip.NewHeader("Accept", strings.Join(opts.AcceptedContentTypes, ", ")))
		}
		res.AppendHeader(sip.NewHeader("Accept-Encoding", "identity"))
	case 406:
		agent := "-"
		if isSIPScheme(req.Recipient.Scheme) && req.Recipient.Host != "" {
			agent = req.Recipient.Host
		}
		text := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(reason)
		res.AppendHeader(sip.NewHeader("Warning", `399 `+agent+` "`+text+`"`))
	}
	return res
}

// Response reports whether a response sipgo parsed may be processed; false
// means discard it silently (RFC 3261 8.1.3.3, 18.1.2). It is false for: a
// SIP-Version other than SIP/2.0; a status code outside 100-699; no Via or
// more than one Via value (the response was not meant for this UAC: RFC 4475
// bcast); missing or repeated Call-ID, From, To or CSeq; a CSeq without a
// method; a Retry-After, Expires or Contact expires that is not a number up
// to 2^32-1; a Warning whose warn-code is not 3 digits (RFC 4475 scalarlg).
func Response(res *sip.Response) bool {
	if res == nil || !strings.EqualFold(res.SipVersion, "SIP/2.0") ||
		res.StatusCode < 100 || res.StatusCode > 699 {
		return false
	}
	var vias, callIDs, froms, tos, cseqs int
	for _, h := range res.Headers() {
		switch h := h.(type) {
		case *sip.ViaHeader:
			vias++
		case *sip.CallIDHeader:
			callIDs++
		case *sip.FromHeader:
			froms++
		case *sip.ToHeader:
			tos++
		case *sip.CSeqHeader:
			cseqs++
			if h.MethodName == "" {
				return false
			}
		case *sip.ContactHeader:
			for _, kv := range h.Params {
				if strings.EqualFold(strings.TrimSpace(kv.K), "expires") && !deltaSeconds(kv.V) {
					return false
				}
			}
		default:
			switch name := h.Name(); {
			case strings.EqualFold(name, "expires"):
				if !deltaSeconds(h.Value()) {
					return false
				}
			case strings.EqualFold(name, "retry-after"):
				if !retryAfter(h.Value()) {
					return false
				}
			case strings.EqualFold(name, "warning"):
				if !warning(h.Value()) {
					return false
				}
			}
		}
	}
	return vias == 1 && callIDs == 1 && froms == 1 && tos == 1 && cseqs == 1
}

// retryAfter: delta-seconds [ comment ] *( SEMI retry-param ).
func retryAfter(v string) bool {
	v = strings.TrimSpace(v)
	end := strings.IndexAny(v, " \t(;")
	if end < 0 {
		end = len(v)
	}
	return deltaSeconds(v[:end])
}

// warning: each warning-value starts with a 3-digit warn-code and SP.
func warning(v string) bool {
	for _, w := range splitOutsideQuotes(v) {
		code, _, ok := strings.Cut(strings.TrimSpace(w), " ")
		if !ok || len(code) != 3 || !isDigits([]byte(code)) {
			return false
		}
	}
	return true
}

// splitOutsideQuotes splits v at commas outside quoted strings.
func splitOutsideQuotes(v string) []string {
	var out []string
	b := []byte(v)
	start := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			j := skipQuoted(b, i)
			if j < 0 {
				i = len(b)
				continue
			}
			i = j - 1
		case ',':
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}
