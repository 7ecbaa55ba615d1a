package msrp

import (
	"errors"
	"fmt"
)

// ProtocolError is a malformed or unacceptable frame. Code is the MSRP
// status code a receiver answers a request with (RFC 4975 section 7.3:
// responses are never answered, and neither are REPORT requests).
type ProtocolError struct {
	// Code is the status code that fits the failure: 400 (malformed),
	// 413 (too big: stop sending this message), 415, 423, ...
	Code int
	// TransactionID is the transaction-id of the frame, "" when the
	// start line could not be read, so that the caller can answer.
	TransactionID string
	// Fatal is true when framing is lost: the start line was not
	// understood or the stream ended inside a frame. RFC 4975 then
	// requires closing the connection; the Reader returns the same error
	// from every later Read.
	Fatal bool
	// Message is the frame as far as it was parsed (start line and the
	// header fields read before the failure, without body), or nil. A
	// receiver passes it to [NewResponse] to address its answer.
	Message *Message
	// Err says what is wrong.
	Err error
}

// Error returns the code, its text, the transaction and the cause.
func (e *ProtocolError) Error() string {
	s := fmt.Sprintf("msrp: %d %s", e.Code, StatusText(e.Code))
	if e.TransactionID != "" {
		s += " (transaction " + e.TransactionID + ")"
	}
	if e.Fatal {
		s += " [connection must be closed]"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns e.Err.
func (e *ProtocolError) Unwrap() error { return e.Err }

// LimitError says which configured limit a peer exceeded. It is found
// with errors.As inside a [*ProtocolError].
type LimitError struct {
	// Limit is the name of the option: "MaxHeaderBytes", "MaxHeaders",
	// "MaxBody" (ReaderOptions), "MaxMessageBytes", "MaxTotalBytes",
	// "MaxMessages", "MaxStoredBytes" (ReassemblerOptions).
	Limit string
	// Max is the configured value.
	Max int64
}

// Error names the limit and its value.
func (e *LimitError) Error() string {
	return fmt.Sprintf("msrp: %s limit of %d exceeded", e.Limit, e.Max)
}

// ErrEndLineInBody is returned (wrapped) by the writer when a body
// contains "-------" followed by the message's transaction-id: the
// receiver could take it for the end-line (RFC 4975 section 7.1). The
// caller picks another transaction-id ([NewTransactionID]) and retries.
var ErrEndLineInBody = errors.New("msrp: body contains the end-line of its transaction-id")
