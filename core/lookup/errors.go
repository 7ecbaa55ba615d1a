package lookup

import (
	"errors"
	"strings"
)

// Kinds of lookup failure. A *LookupError matches exactly one of them with
// errors.Is.
var (
	// ErrNXDomain: the server says the name does not exist (NXDOMAIN).
	ErrNXDomain = errors.New("no such domain")
	// ErrNoRecords: the name exists but has no usable record of the type
	// asked for (NODATA, or only records that were ignored).
	ErrNoRecords = errors.New("no records")
	// ErrTimeout: no server answered in time, or the context's deadline
	// passed (errors.Is(err, context.DeadlineExceeded) then also holds).
	ErrTimeout = errors.New("timeout")
	// ErrServerFailure: every server failed (SERVFAIL, REFUSED, another
	// error code, or a network error such as an ICMP port unreachable).
	ErrServerFailure = errors.New("server failure")
	// ErrMalformed: the answer could not be parsed or did not match the
	// question.
	ErrMalformed = errors.New("malformed answer")
	// ErrCanceled: the context was cancelled (errors.Is(err,
	// context.Canceled) then also holds).
	ErrCanceled = errors.New("canceled")
	// ErrUnsupportedTransport: the URI's transport is not among the
	// supported ones, or none of the supported transports fits the URI.
	ErrUnsupportedTransport = errors.New("unsupported transport")
	// ErrInvalidTarget: the target's host or port cannot be looked up.
	ErrInvalidTarget = errors.New("invalid target")
)

// LookupError is the error returned by a failed lookup.
type LookupError struct {
	// Name is the DNS name that failed (without the trailing dot), or the
	// URI host when no query was made.
	Name string
	// Type is the query type: "NAPTR", "SRV", "A", "AAAA", "A/AAAA" (both
	// address queries failed the same way), or "" when no query was made.
	Type string
	// Kind is one of the Err* values of this package.
	Kind error
	// Err is the underlying cause, if any (a network error, a context
	// error, a detail message).
	Err error
}

func (e *LookupError) Error() string {
	var b strings.Builder
	b.WriteString("lookup")
	if e.Type != "" {
		b.WriteString(" ")
		b.WriteString(e.Type)
	}
	if e.Name != "" {
		b.WriteString(" ")
		b.WriteString(e.Name)
	}
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("failed")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind and the cause, so that errors.Is matches both
// (for example ErrTimeout and context.DeadlineExceeded).
func (e *LookupError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Timeout reports whether the lookup failed for lack of an answer in time,
// like net.Error.
func (e *LookupError) Timeout() bool { return e.Kind == ErrTimeout }

// Temporary reports whether trying again later may succeed: true for
// timeouts and server failures, false for answers that say the records do
// not exist and for invalid input.
func (e *LookupError) Temporary() bool {
	return e.Kind == ErrTimeout || e.Kind == ErrServerFailure || e.Kind == ErrMalformed
}

// errRank orders failure kinds by how much they say about the name, to pick
// the error to report when two queries (A and AAAA) both fail.
func errRank(err error) int {
	var le *LookupError
	if !errors.As(err, &le) {
		return 0
	}
	switch le.Kind {
	case ErrCanceled:
		return 5
	case ErrNXDomain:
		return 4
	case ErrTimeout:
		return 3
	case ErrServerFailure, ErrMalformed:
		return 2
	default:
		return 1
	}
}

// kindOf returns the Kind of a *LookupError, or nil.
func kindOf(err error) error {
	var le *LookupError
	if errors.As(err, &le) {
		return le.Kind
	}
	return nil
}
