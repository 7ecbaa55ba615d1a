package msrp

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
)

// Methods of RFC 4975 and RFC 4976. Any other 1*UPALPHA method is read
// and written as well; a receiver answers it with 501.
const (
	MethodSEND   = "SEND"
	MethodREPORT = "REPORT"
	MethodAUTH   = "AUTH" // RFC 4976, relays
)

// Continuation flags, the last character of an end-line (RFC 4975
// section 7.1).
const (
	// FlagComplete ends the last chunk of a message.
	FlagComplete byte = '$'
	// FlagMore ends a chunk that more chunks of the message follow.
	FlagMore byte = '+'
	// FlagAbort ends a chunk of a message the sender gives up on.
	FlagAbort byte = '#'
)

// Status codes of RFC 4975 section 10 and RFC 4976.
const (
	StatusOK                  = 200
	StatusBadRequest          = 400
	StatusUnauthorized        = 401 // RFC 4976
	StatusForbidden           = 403
	StatusRequestTimeout      = 408
	StatusStopSending         = 413
	StatusUnsupportedMedia    = 415
	StatusOutOfBounds         = 423
	StatusNoSession           = 481
	StatusUnknownMethod       = 501
	StatusSessionAlreadyInUse = 506
)

// StatusText returns a comment for a status code, "" for unknown codes.
func StatusText(code int) string {
	switch code {
	case StatusOK:
		return "OK"
	case StatusBadRequest:
		return "Bad Request"
	case StatusUnauthorized:
		return "Unauthorized"
	case StatusForbidden:
		return "Forbidden"
	case StatusRequestTimeout:
		return "Request Timeout"
	case StatusStopSending:
		return "Stop Sending Message"
	case StatusUnsupportedMedia:
		return "Unsupported Media Type"
	case StatusOutOfBounds:
		return "Parameter Out Of Bounds"
	case StatusNoSession:
		return "Session Does Not Exist"
	case StatusUnknownMethod:
		return "Method Not Understood"
	case StatusSessionAlreadyInUse:
		return "Session Already In Use"
	}
	return ""
}

// Message is one MSRP frame: a request (SEND, REPORT, AUTH, ...) or a
// response, which for a chunked message is one chunk.
//
// The header fields RFC 4975 defines have their own fields; every other
// one (Use-Path, WWW-Authenticate, Authorization, Authentication-Info,
// Expires, Min-Expires, Max-Expires, Content-ID, Content-Description,
// Content-Disposition, extension headers) is kept in Headers, in order.
type Message struct {
	// Request is true for a request, false for a response.
	Request bool
	// Method of a request: "SEND", "REPORT", "AUTH", ...
	Method string
	// TransactionID identifies the transaction and ends the frame in its
	// end-line.
	TransactionID string
	// StatusCode of a response (3 digits).
	StatusCode int
	// Comment of a response status line ("OK"), possibly empty.
	Comment string
	// ToPath and FromPath are the To-Path and From-Path header fields.
	ToPath, FromPath []URI
	// MessageID is the Message-ID header field, "" when absent.
	MessageID string
	// ByteRange is the Byte-Range header field; its zero value (Start 0)
	// means absent.
	ByteRange ByteRange
	// ContentType is the Content-Type header field, "" when absent.
	ContentType string
	// SuccessReport and FailureReport are the values of the
	// Success-Report ("yes", "no") and Failure-Report ("yes", "no",
	// "partial") header fields as written, "" when absent. See
	// WantsSuccessReport and FailureReportMode for the defaults.
	SuccessReport, FailureReport string
	// Status is the Status header field of a REPORT, nil when absent.
	Status *Status
	// Headers are the other header fields, in order.
	Headers []Header
	// Body is the content, without the CRLF that precedes the end-line.
	// It is nil when the Reader streamed the body to a
	// ReaderOptions.BodyWriter.
	Body []byte
	// Flag is the continuation flag of the end-line: FlagComplete ('$'),
	// FlagMore ('+') or FlagAbort ('#'). The writer takes 0 for '$'.
	Flag byte
}

// Header is a header field other than those Message has a field for.
type Header struct {
	// Name as written; matched case-insensitively.
	Name string
	// Value without the leading and trailing blanks.
	Value string
}

// ByteRange is the Byte-Range header field "start-end/total" (RFC 4975
// section 7.1.1): 1-based positions of the chunk's first and last octets
// in the whole message. End and Total are -1 for "*" (unknown).
type ByteRange struct {
	// Start is the position of the first octet, from 1; 0 means the
	// header is absent.
	Start int64
	// End is the position of the last octet, or -1 for "*".
	End int64
	// Total is the length of the whole message, or -1 for "*".
	Total int64
}

// IsZero reports whether the Byte-Range is absent.
func (r ByteRange) IsZero() bool { return r == ByteRange{} }

// String returns the header field value, such as "1-25/25" or "1-*/*".
func (r ByteRange) String() string { return string(r.appendTo(nil)) }

func (r ByteRange) appendTo(b []byte) []byte {
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, '-')
	b = appendStar(b, r.End)
	b = append(b, '/')
	return appendStar(b, r.Total)
}

func appendStar(b []byte, n int64) []byte {
	if n < 0 {
		return append(b, '*')
	}
	return strconv.AppendInt(b, n, 10)
}

// Validate checks the Byte-Range: start >= 1, end >= start-1 (an empty
// chunk is "1-0/0"), and end <= total when both are known.
func (r ByteRange) Validate() error {
	switch {
	case r.Start < 1:
		return fmt.Errorf("msrp: Byte-Range %s: start must be at least 1", r)
	case r.End < -1 || r.Total < -1:
		return fmt.Errorf("msrp: Byte-Range %s: negative end or total", r)
	case r.End >= 0 && r.End < r.Start-1:
		return fmt.Errorf("msrp: Byte-Range %s: end before start", r)
	case r.Total >= 0 && r.End > r.Total:
		return fmt.Errorf("msrp: Byte-Range %s: end beyond total", r)
	case r.Total >= 0 && r.Start-1 > r.Total:
		return fmt.Errorf("msrp: Byte-Range %s: start beyond total", r)
	}
	return nil
}

// ParseByteRange parses a Byte-Range header field value.
func ParseByteRange(s string) (ByteRange, error) {
	start, rest, ok1 := strings.Cut(s, "-")
	end, total, ok2 := strings.Cut(rest, "/")
	var r ByteRange
	var ok3, ok4, ok5 bool
	r.Start, ok3 = parseRangeNum(start, false)
	r.End, ok4 = parseRangeNum(end, true)
	r.Total, ok5 = parseRangeNum(total, true)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return ByteRange{}, fmt.Errorf("msrp: Byte-Range %s is not start-end/total", quoteTrunc(s))
	}
	if err := r.Validate(); err != nil {
		return ByteRange{}, err
	}
	return r, nil
}

// parseRangeNum parses 1*DIGIT (at most 18 digits, so no overflow), or
// "*" as -1 when star is allowed.
func parseRangeNum(s string, star bool) (int64, bool) {
	if star && s == "*" {
		return -1, true
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// Status is the Status header field of a REPORT (RFC 4975 section 7.1.2):
// "000 200 OK".
type Status struct {
	// Namespace is 0 for the codes of RFC 4975 (written "000").
	Namespace int
	// Code is the status code.
	Code int
	// Comment is the optional reason text.
	Comment string
}

// String returns the header field value, such as "000 200 OK".
func (s Status) String() string { return string(s.appendTo(nil)) }

func (s Status) appendTo(b []byte) []byte {
	b = appendPadded3(b, s.Namespace)
	b = append(b, ' ')
	b = appendPadded3(b, s.Code)
	if s.Comment != "" {
		b = append(b, ' ')
		b = append(b, s.Comment...)
	}
	return b
}

func (s Status) validate() error {
	if s.Namespace < 0 || s.Namespace > 999 || s.Code < 0 || s.Code > 999 || !validText(s.Comment) {
		return fmt.Errorf("msrp: Status %s is not valid", quoteTrunc(s.String()))
	}
	return nil
}

// ParseStatus parses a Status header field value: namespace SP code
// [SP comment].
func ParseStatus(v string) (Status, error) {
	if len(v) < 7 || v[3] != ' ' || len(v) > 7 && v[7] != ' ' {
		return Status{}, fmt.Errorf("msrp: Status %s is not namespace code [comment]", quoteTrunc(v))
	}
	ns, ok1 := parse3Digits(v[:3])
	code, ok2 := parse3Digits(v[4:7])
	if !ok1 || !ok2 {
		return Status{}, fmt.Errorf("msrp: Status %s is not namespace code [comment]", quoteTrunc(v))
	}
	s := Status{Namespace: ns, Code: code}
	if len(v) > 8 {
		s.Comment = v[8:]
	}
	return s, nil
}

// Header returns the value of the first field called name in Headers
// (compared case-insensitively) and whether there is one. The fields
// Message has its own fields for are not in Headers.
func (m *Message) Header(name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// AddHeader appends a header field to Headers.
func (m *Message) AddHeader(name, value string) {
	m.Headers = append(m.Headers, Header{Name: name, Value: value})
}

// UsePath parses the Use-Path header field of an AUTH response (RFC
// 4976); nil, nil when there is none.
func (m *Message) UsePath() ([]URI, error) {
	v, ok := m.Header("Use-Path")
	if !ok {
		return nil, nil
	}
	return ParsePath(v)
}

// Range returns the Byte-Range of the chunk, or "1-*/*" when the header is
// absent: the message is then in one chunk of unknown length (RFC 4975
// section 7.1.1).
func (m *Message) Range() ByteRange {
	if m.ByteRange.IsZero() {
		return ByteRange{Start: 1, End: -1, Total: -1}
	}
	return m.ByteRange
}

// WantsSuccessReport reports whether the sender asked for a success
// REPORT (Success-Report: yes; the default is no).
func (m *Message) WantsSuccessReport() bool { return strings.EqualFold(m.SuccessReport, "yes") }

// FailureReportMode returns the Failure-Report value in lower case, "yes"
// when absent (RFC 4975 section 7.1.2): "yes" (responses and failure
// REPORTs), "partial" (failure REPORTs but no 200 responses), "no".
func (m *Message) FailureReportMode() string {
	if m.FailureReport == "" {
		return "yes"
	}
	return strings.ToLower(m.FailureReport)
}

// Validate checks what RFC 4975 requires beyond the framing the Reader
// checks: a To-Path and a From-Path; a Message-ID in SEND and REPORT; a
// Status in REPORT; a Content-Type with any body. The error is a
// *ProtocolError with code 400.
func (m *Message) Validate() error {
	var err error
	switch {
	case len(m.ToPath) == 0:
		err = fmt.Errorf("missing To-Path")
	case len(m.FromPath) == 0:
		err = fmt.Errorf("missing From-Path")
	case m.Request && (m.Method == MethodSEND || m.Method == MethodREPORT) && m.MessageID == "":
		err = fmt.Errorf("%s without Message-ID", m.Method)
	case m.Request && m.Method == MethodREPORT && m.Status == nil:
		err = fmt.Errorf("REPORT without Status")
	case len(m.Body) > 0 && m.ContentType == "":
		err = fmt.Errorf("body without Content-Type")
	}
	if err == nil {
		return nil
	}
	return &ProtocolError{Code: StatusBadRequest, TransactionID: m.TransactionID, Message: m, Err: err}
}

// NewResponse builds the response to req (RFC 4975 section 7.2): same
// transaction-id; To-Path is the previous hop, the first URI of the
// request's From-Path; From-Path is the responder, the first URI of the
// request's To-Path. An empty comment becomes StatusText(code). REPORT
// requests and responses must not be answered; that is the caller's
// business.
func NewResponse(req *Message, code int, comment string) *Message {
	if comment == "" {
		comment = StatusText(code)
	}
	resp := &Message{TransactionID: req.TransactionID, StatusCode: code, Comment: comment, Flag: FlagComplete}
	if len(req.FromPath) > 0 {
		resp.ToPath = []URI{req.FromPath[0]}
	}
	if len(req.ToPath) > 0 {
		resp.FromPath = []URI{req.ToPath[0]}
	}
	return resp
}

// NewReport builds a REPORT about send (RFC 4975 section 7.1.2) with a
// new transaction-id: To-Path is the SEND's From-Path (which already lists
// the hops back to the sender, nearest first), From-Path is the reporting
// endpoint, the first URI of the SEND's To-Path; Message-ID is the
// SEND's, Byte-Range is br (for a success report the whole message,
// "1-N/N"), and Status is st, e.g. Status{Code: 200, Comment: "OK"}.
func NewReport(send *Message, br ByteRange, st Status) *Message {
	rep := &Message{
		Request:       true,
		Method:        MethodREPORT,
		TransactionID: NewTransactionID(),
		ToPath:        append([]URI(nil), send.FromPath...),
		MessageID:     send.MessageID,
		ByteRange:     br,
		Status:        &st,
		Flag:          FlagComplete,
	}
	if len(send.ToPath) > 0 {
		rep.FromPath = []URI{send.ToPath[0]}
	}
	return rep
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlnum returns n random alphanumerics from crypto/rand.
func randomAlnum(n int) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		rand.Read(buf[:]) // never fails (Go 1.24 and later)
		for _, c := range buf {
			// 248 = 4*62: reject the top so each character is uniform.
			if c < 248 && len(out) < n {
				out = append(out, alnum[c%62])
			}
		}
	}
	return string(out)
}

// NewTransactionID returns a random transaction-id of 16 alphanumerics
// (about 95 bits) from crypto/rand.
func NewTransactionID() string { return randomAlnum(16) }

// NewMessageID returns a random Message-ID of 24 alphanumerics from
// crypto/rand.
func NewMessageID() string { return randomAlnum(24) }
