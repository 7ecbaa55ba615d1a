package sipcheck

import (
	"bytes"
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// The rewrites Datagram makes so that sipgo processes valid messages it
// would otherwise refuse. Both touch only the From and To header lines;
// every other byte of the datagram is handed on as received. (sipgo file
// references are to v1.7.2.)
//
//   - LWS around the ';' and '=' of From/To header parameters is removed
//     (RFC 3261 25.1: SEMI = SWS ";" SWS, EQUAL = SWS "=" SWS). sipgo's
//     address parser keeps it in the parameter name and value
//     (sip/parse_address.go:153-156, addressStateHeaderParams), so for sipgo
//     "tag = 98asjd8" is a parameter named " tag " and no tag at all. A
//     request whose top Via branch lacks the RFC 3261 magic cookie needs the
//     From tag for its transaction key (sip/transaction.go:369-371,
//     makeServerTxKey), and without one sipgo's transaction layer answers
//     400 itself (sip/transaction_layer.go:188-190, rejectMalformedRequest).
//   - An RFC 2543 request (no magic cookie in the top Via branch) whose From
//     has no tag gets an empty one, ";tag=", for the same reason: sipgo has
//     no other way to key its transaction, and RFC 3261 17.2.3 matches such
//     requests with the From tag they have, none. The key then holds an
//     empty From tag, so retransmissions, the ACK and a CANCEL (which get
//     the same rewrite) match the transaction. [RestoreFromTag] removes the
//     tag again from the parsed request before it is dispatched. One
//     response escapes that: the 200 sipgo itself sends to a CANCEL that
//     matches a pending INVITE (sip/transaction_layer.go:175) is built from
//     the CANCEL and carries the added tag (written ";tag").

// edit replaces m[start:end] with repl.
type edit struct {
	start, end int
	repl       []byte
}

// applyEdits returns a copy of m with the edits (sorted by start, not
// overlapping) applied.
func applyEdits(m []byte, edits []edit) []byte {
	size := len(m)
	for _, e := range edits {
		size += len(e.repl) - (e.end - e.start)
	}
	out := make([]byte, 0, size)
	pos := 0
	for _, e := range edits {
		out = append(out, m[pos:e.start]...)
		out = append(out, e.repl...)
		pos = e.end
	}
	return append(out, m[pos:]...)
}

// paramsStart returns where the header parameters of a From/To value begin
// (v is the value after the colon, and checkAddress accepted it): just after
// the '>' of a name-addr; for a bare addr-spec, at the first ';' or at the
// LWS before it (all parameters after a bare URI are header parameters, RFC
// 3261 20.10); len(v) when there are none.
func paramsStart(v []byte) int {
	i := 0
	for i < len(v) && isLWS(v[i]) {
		i++
	}
	if i < len(v) && v[i] == '"' {
		if i = skipQuoted(v, i); i < 0 {
			return len(v)
		}
	}
	for j := i; j < len(v); j++ {
		switch v[j] {
		case '<':
			k := bytes.IndexByte(v[j:], '>')
			if k < 0 {
				return len(v)
			}
			return j + k + 1
		case ';':
			for j > i && isLWS(v[j-1]) {
				j--
			}
			return j
		}
	}
	return len(v)
}

func isParamSep(c byte) bool { return c == ';' || c == '=' }

// normalizeParams removes the LWS runs (folding included) next to a ';' or
// '=' outside quoted strings from the header parameters p. It returns p
// itself and false when there is none; LWS elsewhere (inside a quoted value,
// or between two other characters, which no valid parameter has) is kept.
func normalizeParams(p []byte) ([]byte, bool) {
	var out []byte // nil until the first run is removed
	last := -1     // index in p of the last byte kept
	for i := 0; i < len(p); {
		switch c := p[i]; {
		case c == '"':
			j := skipQuoted(p, i)
			if j < 0 {
				j = len(p)
			}
			if out != nil {
				out = append(out, p[i:j]...)
			}
			last, i = j-1, j
		case isLWS(c):
			j := i + 1
			for j < len(p) && isLWS(p[j]) {
				j++
			}
			if (last >= 0 && isParamSep(p[last])) || (j < len(p) && isParamSep(p[j])) {
				if out == nil {
					out = append(make([]byte, 0, len(p)), p[:i]...)
				}
			} else if out != nil {
				out = append(out, p[i:j]...)
			}
			i = j
		default:
			if out != nil {
				out = append(out, c)
			}
			last, i = i, i+1
		}
	}
	if out == nil {
		return p, false
	}
	return out, true
}

// probMalformedTag: a tag parameter that is not "tag" EQUAL token.
const probMalformedTag = "malformed tag parameter"

// checkTag checks the tag parameters among the (normalised) header
// parameters p: RFC 3261 25.1 tag-param = "tag" EQUAL token. The parameter
// name is matched case-insensitively (RFC 3261 7.3.1). It returns "" or a
// problem.
func checkTag(p []byte) string {
	for i := 0; i < len(p); {
		// The parameter runs from i to the next ';' outside quotes.
		j := i
		for j < len(p) && p[j] != ';' {
			if p[j] == '"' {
				if j = skipQuoted(p, j); j < 0 {
					j = len(p)
				}
				continue
			}
			j++
		}
		name, value, eq := bytes.Cut(p[i:j], []byte("="))
		if bytes.EqualFold(name, []byte("tag")) && (!eq || !isToken(value)) {
			return probMalformedTag
		}
		i = j + 1
	}
	return ""
}

// address checks a From or To header line (line is d[at:at+len(line)],
// colon the index of its ':'): for requests the checkAddress rules and the
// tag syntax, for requests and responses it records the edit normalising
// its parameters. It returns the offset in d just past the last non-LWS
// byte of the value (where a missing From tag goes), or -1 when the value
// is malformed.
func (s *headerState) address(line []byte, at, colon int, name string) int {
	if !s.response && s.addr != nil {
		return -1 // rejected already
	}
	v := line[colon+1:]
	if p := checkAddress(v, false); p != "" {
		if !s.response {
			s.addr = &problem{400, p + " in " + name}
		}
		return -1
	}
	end := len(v)
	for end > 0 && isLWS(v[end-1]) {
		end--
	}
	ps := min(paramsStart(v), end)
	params, changed := normalizeParams(v[ps:end])
	if !s.response {
		if p := checkTag(params); p != "" {
			s.addr = &problem{400, p + " in " + name}
			return -1
		}
	}
	base := at + colon + 1
	if changed {
		s.edits = append(s.edits, edit{base + ps, base + end, params})
	}
	return base + end
}

// needsFromTag reports a request sipgo would refuse for want of a From tag:
// its top Via branch lacks the RFC 3261 magic cookie (sipgo's isRFC3261 test
// in makeServerTxKey), so its transaction key needs the From tag, and the
// From has none. Via, CSeq and Call-ID must be there: without them sipgo
// refuses the request anyway, and its 400 would echo the added tag.
func needsFromTag(req *sip.Request) bool {
	via, from := req.Via(), req.From()
	if via == nil || from == nil || req.CSeq() == nil || req.CallID() == nil {
		return false
	}
	if b, ok := via.Params.Get("branch"); ok && len(b) > len(sip.RFC3261BranchMagicCookie) &&
		strings.HasPrefix(b, sip.RFC3261BranchMagicCookie) {
		return false
	}
	return !from.Params.Has("tag")
}

// addFromTag returns m with an empty From tag inserted at offset at (the end
// of the From value), or nil if sipgo does not then parse it with one.
func addFromTag(d []byte, edits []edit, at int) []byte {
	edits = append(slices.Clip(edits), edit{at, at, []byte(";tag=")})
	slices.SortStableFunc(edits, func(a, b edit) int { return a.start - b.start })
	m := applyEdits(d, edits)
	parsed, err := parse(m)
	if err != nil {
		return nil
	}
	req, ok := parsed.(*sip.Request)
	if !ok || req.From() == nil {
		return nil
	}
	if v, ok := req.From().Params.Get("tag"); !ok || v != "" {
		return nil
	}
	return m
}

// RestoreFromTag undoes Datagram's rewrite of an RFC 2543 request whose
// From had no tag: it removes the empty tag parameter from the From of req
// and reports whether there was one. Call it on requests parsed from
// datagrams Datagram accepted, before anything reads or answers them:
// handlers, and the responses built from the request, then see the From as
// the client sent it (RFC 3261 8.2.6.2). Datagram rejects a tag parameter
// without a value, so an empty one is always the rewrite's.
//
// sipgo's server transaction keeps req (its origin), so the caller must make
// sure nothing of sipgo reads it concurrently; see the Engine's use.
func RestoreFromTag(req *sip.Request) bool {
	if req == nil {
		return false
	}
	from := req.From()
	if from == nil {
		return false
	}
	if v, ok := from.Params.Get("tag"); !ok || v != "" {
		return false
	}
	from.Params.Remove("tag")
	return true
}
