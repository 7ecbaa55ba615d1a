package msrp

import (
	"bytes"
	"fmt"
	"strings"
)

// Marshal returns the wire form of m; see AppendTo.
func (m *Message) Marshal() ([]byte, error) {
	n := 64 + len(m.Body) + len(m.ContentType) + 2*len(m.TransactionID)
	for _, u := range m.ToPath {
		n += 48 + len(u.Host) + len(u.SessionID)
	}
	for _, u := range m.FromPath {
		n += 48 + len(u.Host) + len(u.SessionID)
	}
	for _, h := range m.Headers {
		n += len(h.Name) + len(h.Value) + 4
	}
	if !m.ByteRange.IsZero() {
		n += 40
	}
	n += len(m.MessageID) + 20
	return m.AppendTo(make([]byte, 0, n))
}

// AppendTo appends the wire form of m to b (RFC 4975 section 7.1):
//
//	MSRP <tid> <METHOD>           or  MSRP <tid> <code> [<comment>]
//	To-Path, From-Path, Message-ID, Success-Report, Failure-Report,
//	Byte-Range, Status, the other Headers in order, Content-Type
//	CRLF <body> CRLF              only when there is a body
//	-------<tid><flag>
//
// every line ending in CRLF. It checks that every value can be written
// without breaking the framing, and returns an error wrapping
// ErrEndLineInBody when the body contains "-------<tid>": the caller then
// picks another transaction-id. On error b is returned unchanged.
func (m *Message) AppendTo(b []byte) ([]byte, error) { return m.appendTo(b, false) }

// appendTo is AppendTo; with checked, the caller has made sure that the
// body does not contain the end-line.
func (m *Message) appendTo(b []byte, checked bool) ([]byte, error) {
	orig := len(b)
	flag := m.Flag
	if flag == 0 {
		flag = FlagComplete
	}
	if flag != FlagComplete && flag != FlagMore && flag != FlagAbort {
		return b, fmt.Errorf("msrp: continuation flag %q is not '$', '+' or '#'", flag)
	}
	b, err := m.AppendHead(b)
	if err != nil {
		return b[:orig], err
	}
	if len(m.Body) > 0 {
		if !checked && ContainsEndLine(m.Body, m.TransactionID) {
			return b[:orig], fmt.Errorf("msrp: transaction %s: %w", m.TransactionID, ErrEndLineInBody)
		}
		b = append(b, "\r\n"...)
		b = append(b, m.Body...)
		b = append(b, "\r\n"...)
	}
	return AppendEndLine(b, m.TransactionID, flag), nil
}

// AppendHead appends the start line and the header fields of m, each
// ending in CRLF, but neither the empty line that opens a body, nor the
// body, nor the end-line. A sender that streams a large body writes
// AppendHead, CRLF, the body (checking it with ContainsEndLine, including
// across its writes), CRLF, then AppendEndLine. It checks the fields as
// AppendTo does; m.Body is not looked at except to require a
// Content-Type with it.
func (m *Message) AppendHead(b []byte) ([]byte, error) {
	if err := m.checkHead(); err != nil {
		return b, err
	}
	b = append(b, "MSRP "...)
	b = append(b, m.TransactionID...)
	b = append(b, ' ')
	if m.Request {
		b = append(b, m.Method...)
	} else {
		b = appendPadded3(b, m.StatusCode)
		if m.Comment != "" {
			b = append(b, ' ')
			b = append(b, m.Comment...)
		}
	}
	b = append(b, "\r\nTo-Path: "...)
	b = appendPath(b, m.ToPath)
	b = append(b, "\r\nFrom-Path: "...)
	b = appendPath(b, m.FromPath)
	b = append(b, "\r\n"...)
	if m.MessageID != "" {
		b = appendField(b, "Message-ID", m.MessageID)
	}
	if m.SuccessReport != "" {
		b = appendField(b, "Success-Report", m.SuccessReport)
	}
	if m.FailureReport != "" {
		b = appendField(b, "Failure-Report", m.FailureReport)
	}
	if !m.ByteRange.IsZero() {
		b = append(b, "Byte-Range: "...)
		b = m.ByteRange.appendTo(b)
		b = append(b, "\r\n"...)
	}
	if m.Status != nil {
		b = append(b, "Status: "...)
		b = m.Status.appendTo(b)
		b = append(b, "\r\n"...)
	}
	for _, h := range m.Headers {
		b = appendField(b, h.Name, h.Value)
	}
	if m.ContentType != "" {
		b = appendField(b, "Content-Type", m.ContentType)
	}
	return b, nil
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// checkHead validates what AppendHead writes.
func (m *Message) checkHead() error {
	tid := m.TransactionID
	if !validTransactionID(tid) {
		return fmt.Errorf("msrp: transaction-id %s is not 1 to %d ident characters", quoteTrunc(tid), maxTransactionIDLen)
	}
	if m.Request {
		if !validMethod(m.Method) {
			return fmt.Errorf("msrp: method %s is not upper-case letters", quoteTrunc(m.Method))
		}
	} else {
		if m.StatusCode < 0 || m.StatusCode > 999 {
			return fmt.Errorf("msrp: status code %d is not 3 digits", m.StatusCode)
		}
		if !validText(m.Comment) {
			return fmt.Errorf("msrp: status comment %s has control characters", quoteTrunc(m.Comment))
		}
	}
	if len(m.ToPath) == 0 || len(m.FromPath) == 0 {
		return fmt.Errorf("msrp: transaction %s: To-Path and From-Path are required", tid)
	}
	for _, path := range [2][]URI{m.ToPath, m.FromPath} {
		for _, u := range path {
			if err := u.Validate(); err != nil {
				return err
			}
		}
	}
	if m.MessageID != "" && !validIdent(m.MessageID, maxMessageIDLen) {
		return fmt.Errorf("msrp: Message-ID %s is not 1 to %d ident characters", quoteTrunc(m.MessageID), maxMessageIDLen)
	}
	if m.SuccessReport != "" && !validToken(m.SuccessReport) {
		return fmt.Errorf("msrp: Success-Report %s is not a token", quoteTrunc(m.SuccessReport))
	}
	if m.FailureReport != "" && !validToken(m.FailureReport) {
		return fmt.Errorf("msrp: Failure-Report %s is not a token", quoteTrunc(m.FailureReport))
	}
	if !m.ByteRange.IsZero() {
		if err := m.ByteRange.Validate(); err != nil {
			return err
		}
	}
	if m.Status != nil {
		if err := m.Status.validate(); err != nil {
			return err
		}
	}
	for _, h := range m.Headers {
		if !validHeaderName(h.Name) {
			return fmt.Errorf("msrp: header name %s is not valid", quoteTrunc(h.Name))
		}
		if knownHeader(h.Name) != hdrOther {
			return fmt.Errorf("msrp: header %s belongs in its Message field, not in Headers", h.Name)
		}
		if !validText(h.Value) {
			return fmt.Errorf("msrp: header %s value %s has control characters", h.Name, quoteTrunc(h.Value))
		}
	}
	if m.ContentType != "" && !validText(m.ContentType) {
		return fmt.Errorf("msrp: Content-Type %s has control characters", quoteTrunc(m.ContentType))
	}
	if len(m.Body) > 0 && m.ContentType == "" {
		return fmt.Errorf("msrp: transaction %s: a body needs a Content-Type", tid)
	}
	return nil
}

// AppendEndLine appends the end-line "-------<tid><flag>" and its CRLF.
// When the frame has a body, the CRLF that ends the body must be written
// before it.
func AppendEndLine(b []byte, tid string, flag byte) []byte {
	b = append(b, endLinePrefix...)
	b = append(b, tid...)
	return append(b, flag, '\r', '\n')
}

// ContainsEndLine reports whether body contains "-------<tid>", which a
// receiver could take for the frame's end-line. RFC 4975 section 7.1
// forbids "-------<tid><flag>" in the body; any "-------<tid>" is refused,
// which also protects receivers that match the end-line loosely.
func ContainsEndLine(body []byte, tid string) bool {
	var buf [len(endLinePrefix) + maxTransactionIDLen]byte
	p := append(buf[:0], endLinePrefix...)
	p = append(p, tid...)
	return bytes.Contains(body, p)
}

// header identifies a header field Message has a field for.
type header int

const (
	hdrOther header = iota
	hdrToPath
	hdrFromPath
	hdrMessageID
	hdrSuccessReport
	hdrFailureReport
	hdrByteRange
	hdrStatus
	hdrContentType
)

// knownHeader matches a header name case-insensitively.
func knownHeader(name string) header {
	switch len(name) {
	case 6:
		if strings.EqualFold(name, "Status") {
			return hdrStatus
		}
	case 7:
		if strings.EqualFold(name, "To-Path") {
			return hdrToPath
		}
	case 9:
		if strings.EqualFold(name, "From-Path") {
			return hdrFromPath
		}
	case 10:
		if strings.EqualFold(name, "Message-ID") {
			return hdrMessageID
		}
		if strings.EqualFold(name, "Byte-Range") {
			return hdrByteRange
		}
	case 12:
		if strings.EqualFold(name, "Content-Type") {
			return hdrContentType
		}
	case 14:
		if strings.EqualFold(name, "Success-Report") {
			return hdrSuccessReport
		}
		if strings.EqualFold(name, "Failure-Report") {
			return hdrFailureReport
		}
	}
	return hdrOther
}
