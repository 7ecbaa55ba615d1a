package sdp

import (
	"fmt"
	"strconv"
	"strings"
)

// MSRP transport protocols of an m= line (RFC 4975 section 8.1).
const (
	ProtoMSRP  = "TCP/MSRP"     // MSRP over TCP
	ProtoMSRPS = "TCP/TLS/MSRP" // MSRP over TLS
)

// Values of the a=setup attribute (RFC 4145 section 4), which MSRP uses to
// negotiate which end opens the TCP connection (RFC 6135).
const (
	SetupActive   = "active"   // the party connects
	SetupPassive  = "passive"  // the party listens
	SetupActPass  = "actpass"  // the party can do either (offers only)
	SetupHoldConn = "holdconn" // no connection for now
)

// MSRPMedia holds what an MSRP m= section (RFC 4975 section 8, RFC 5547)
// says beyond the m= line, the connection address and the direction, which
// stay in [Media]. MSRP URIs are kept as strings: this package does not
// parse them.
type MSRPMedia struct {
	// Path holds the a=path URIs in order: relays first, the endpoint's
	// own URI last (RFC 4975 section 8.2, RFC 4976 section 11). Nil when
	// there is no a=path, as in a port-0 capability description.
	Path []string
	// AcceptTypes holds the a=accept-types media types in order
	// ("message/cpim", "text/plain", "*", ...).
	AcceptTypes []string
	// AcceptWrappedTypes holds the a=accept-wrapped-types media types in
	// order.
	AcceptWrappedTypes []string
	// Setup is the a=setup value: [SetupActive], [SetupPassive],
	// [SetupActPass], [SetupHoldConn], or "" when the attribute is absent
	// (see [AnswerSetup] for what absence means).
	Setup string
	// MaxSize is a=max-size, the largest message in octets the party
	// wants to receive (RFC 4975 section 8.6); 0 when absent.
	MaxSize int64
	// Secure reports whether the transport is TLS: Proto TCP/TLS/MSRP.
	Secure bool
	// FileSelector is a=file-selector (RFC 5547 section 5): nil when
	// absent; an empty selector (all fields unset, Size -1) for a bare
	// "a=file-selector", which announces support for file transfer.
	FileSelector *FileSelector
	// FileTransferID is a=file-transfer-id (RFC 5547 section 6), "" when
	// absent.
	FileTransferID string
	// FileDisposition is a=file-disposition ("render", "attachment", ...),
	// "" when absent.
	FileDisposition string
	// FileDate is the a=file-date value as written, e.g.
	// `creation:"Mon, 15 May 2006 15:01:31 +0300"`; "" when absent.
	FileDate string
	// FileIcon is a=file-icon, a cid: URI; "" when absent.
	FileIcon string
	// FileRange is a=file-range (RFC 5547 section 6), nil when absent.
	FileRange *FileRange
	// FileOffset is a=x-file-offset: the party can tell or ask where an
	// interrupted transfer of the file resumes (python-sipsimple's and
	// Blink's FILE_OFFSET MSRP request).
	FileOffset bool
}

// IsMSRP reports whether proto is an MSRP transport, TCP/MSRP or
// TCP/TLS/MSRP (compared case-insensitively).
func IsMSRP(proto string) bool {
	return strings.EqualFold(proto, ProtoMSRP) || strings.EqualFold(proto, ProtoMSRPS)
}

// ParseMSRP reads the MSRP attributes of an m= section whose transport
// protocol is TCP/MSRP or TCP/TLS/MSRP (compared case-insensitively); it
// fails for any other protocol. The media type is not checked: RFC 4975
// uses "message", some clients use "application" for other MSRP streams.
//
// Attribute names are compared case-insensitively and values are trimmed.
// a=path, a=accept-types and a=accept-wrapped-types are lists separated by
// blanks, extra blanks tolerated. RFC 4975 section 8.2 has one a=path per
// m= section; several are accepted and their URIs concatenated in order,
// and so are several a=accept-types or a=accept-wrapped-types lines. Of the
// other attributes the first one counts and repeats are ignored.
//
// An a=setup value that is not one of the four of RFC 4145 (a bare
// "a=setup" reads as absent), an a=max-size
// that is not a non-negative decimal number, an a=file-range that is not
// "<start>-<stop>" (1 <= start <= stop, or stop "*"), and an
// a=file-selector that [ParseFileSelector] refuses are errors naming the
// attribute. Unknown attributes are ignored; they stay in
// [Media.Attributes].
func ParseMSRP(m Media) (MSRPMedia, error) {
	var x MSRPMedia
	switch {
	case strings.EqualFold(m.Proto, ProtoMSRP):
	case strings.EqualFold(m.Proto, ProtoMSRPS):
		x.Secure = true
	default:
		return MSRPMedia{}, fmt.Errorf("sdp: transport protocol %q is not TCP/MSRP or TCP/TLS/MSRP", m.Proto)
	}
	seen := map[string]bool{}
	for _, a := range m.Attributes {
		key := strings.ToLower(a.Key)
		val := strings.Trim(a.Value, " \t")
		switch key {
		case "path":
			x.Path = append(x.Path, strings.Fields(val)...)
			continue
		case "accept-types":
			x.AcceptTypes = append(x.AcceptTypes, strings.Fields(val)...)
			continue
		case "accept-wrapped-types":
			x.AcceptWrappedTypes = append(x.AcceptWrappedTypes, strings.Fields(val)...)
			continue
		case "x-file-offset":
			x.FileOffset = true
			continue
		case "setup", "max-size", "file-selector", "file-transfer-id",
			"file-disposition", "file-date", "file-icon", "file-range":
			if seen[key] {
				continue // the first one counts
			}
			seen[key] = true
		default:
			continue
		}
		switch key {
		case "setup":
			s := strings.ToLower(val)
			switch s {
			case "":
				// A bare "a=setup" says nothing: read it as absent.
			case SetupActive, SetupPassive, SetupActPass, SetupHoldConn:
				x.Setup = s
			default:
				return MSRPMedia{}, fmt.Errorf("sdp: a=setup:%s: want active, passive, actpass or holdconn", val)
			}
		case "max-size":
			n, ok := parseOctets(val)
			if !ok {
				return MSRPMedia{}, fmt.Errorf("sdp: a=max-size:%s: not a number of octets", val)
			}
			x.MaxSize = n
		case "file-selector":
			fs, err := ParseFileSelector(val)
			if err != nil {
				return MSRPMedia{}, fmt.Errorf("sdp: a=file-selector: %w", err)
			}
			x.FileSelector = fs
		case "file-transfer-id":
			x.FileTransferID = val
		case "file-disposition":
			x.FileDisposition = val
		case "file-date":
			x.FileDate = val
		case "file-icon":
			x.FileIcon = val
		case "file-range":
			r, err := ParseFileRange(val)
			if err != nil {
				return MSRPMedia{}, fmt.Errorf("sdp: a=file-range: %w", err)
			}
			x.FileRange = &r
		}
	}
	return x, nil
}

// parseOctets parses a non-negative decimal number (digits only).
func parseOctets(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Media returns the m= section for x: media type "message", the given port,
// Proto TCP/TLS/MSRP when x.Secure is set and TCP/MSRP otherwise, format
// list "*", the given connection address and direction, and these
// attributes in this order, each only when set:
//
//	a=path:<uri> <uri> ...
//	a=accept-types:<type> ...
//	a=accept-wrapped-types:<type> ...
//	a=max-size:<octets>
//	a=setup:<role>
//	a=file-selector[:<selectors>]   (bare for an empty selector)
//	a=file-transfer-id:<id>
//	a=file-disposition:<disposition>
//	a=file-date:<date>
//	a=file-icon:<cid uri>
//	a=file-range:<start>-<stop>
//
// which is python-sipsimple's order (path, accept-types,
// accept-wrapped-types, setup, then the file transfer attributes) with
// max-size and the other RFC 5547 attributes slotted in. For a value that
// ParseMSRP returned, ParseMSRP(x.Media(...)) gives x back, also through
// [Description.Marshal] and [Parse].
func (x MSRPMedia) Media(port int, address string, dir Direction) Media {
	m := Media{
		Type:      "message",
		Port:      port,
		Proto:     ProtoMSRP,
		Formats:   []string{"*"},
		Address:   address,
		Direction: dir,
	}
	if x.Secure {
		m.Proto = ProtoMSRPS
	}
	add := func(key, value string) {
		m.Attributes = append(m.Attributes, Attribute{Key: key, Value: value})
	}
	if len(x.Path) > 0 {
		add("path", strings.Join(x.Path, " "))
	}
	if len(x.AcceptTypes) > 0 {
		add("accept-types", strings.Join(x.AcceptTypes, " "))
	}
	if len(x.AcceptWrappedTypes) > 0 {
		add("accept-wrapped-types", strings.Join(x.AcceptWrappedTypes, " "))
	}
	if x.MaxSize != 0 {
		add("max-size", strconv.FormatInt(x.MaxSize, 10))
	}
	if x.Setup != "" {
		add("setup", x.Setup)
	}
	if x.FileSelector != nil {
		add("file-selector", x.FileSelector.String())
	}
	if x.FileTransferID != "" {
		add("file-transfer-id", x.FileTransferID)
	}
	if x.FileDisposition != "" {
		add("file-disposition", x.FileDisposition)
	}
	if x.FileDate != "" {
		add("file-date", x.FileDate)
	}
	if x.FileIcon != "" {
		add("file-icon", x.FileIcon)
	}
	if x.FileRange != nil {
		add("file-range", x.FileRange.String())
	}
	if x.FileOffset {
		add("x-file-offset", "")
	}
	return m
}

// OfferSetup returns the a=setup value an offerer of an MSRP stream puts
// in its offer: "actpass", it can both listen and connect, so that the
// answerer picks the direction of the TCP connection (RFC 4145 section 4.1,
// RFC 6135 section 4). It is what python-sipsimple offers.
func OfferSetup() string {
	return SetupActPass
}

// AnswerSetup returns the a=setup value to answer an MSRP stream offered
// with a=setup value offer ("" when the offer has none), and whether the
// answerer (we) opens the TCP connection to the last URI of the offer's
// a=path:
//
//	offer      answer     we connect
//	actpass    active     yes
//	passive    active     yes
//	active     passive    no (the offerer connects to us)
//	holdconn   holdconn   no (no connection for now)
//	absent     passive    no (the offerer connects to us)
//
// An offer without a=setup comes from an RFC 4975 endpoint that does not
// negotiate the connection: RFC 4975 section 8.5 has the offerer open it,
// and RFC 4145 section 4.1 makes "active" the default value in an offer
// (and "passive" in an answer), which RFC 6135 (section 4) keeps for
// endpoints that omit the attribute. So the answer is "passive" and we
// listen; python-sipsimple does the same (it reads a missing a=setup of an
// offer as "active"). An unknown value is treated as absent. Values are
// compared case-insensitively.
//
// Answering "passive" to an offered "actpass" would also be valid; we answer
// "active" because the answerer connecting is what lets it work from behind
// a NAT (the point of RFC 6135).
func AnswerSetup(offer string) (answer string, active bool) {
	switch strings.ToLower(strings.Trim(offer, " \t")) {
	case SetupActPass, SetupPassive:
		return SetupActive, true
	case SetupHoldConn:
		return SetupHoldConn, false
	default: // active, absent or unknown
		return SetupPassive, false
	}
}
