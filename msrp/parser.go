package msrp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Defaults of ReaderOptions.
const (
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxHeaders     = 128
	DefaultMaxBody        = 16 << 20
	DefaultReadBufferSize = 32 << 10
)

// ReaderOptions are the limits and hooks of a Reader. Zero values take
// the defaults.
type ReaderOptions struct {
	// MaxHeaderBytes bounds the start line and header block of a frame,
	// line ends included (default 64 KiB).
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header fields of a frame (default
	// 128).
	MaxHeaders int
	// MaxBody bounds a body buffered in Message.Body (default 16 MiB).
	// Bodies streamed to a BodyWriter are not limited here; the writer
	// limits them by failing.
	MaxBody int64
	// BodyWriter, when set, is called once the header block of a frame
	// with a body has been read, with the Message (all header fields
	// set, Body nil, Flag not yet known). If it returns a non-nil
	// io.Writer, the body goes to that writer as it arrives, in pieces,
	// and Message.Body stays nil; otherwise the body is buffered. A
	// file transfer thus writes a 100 MB chunk to disk without holding
	// it in memory ([Reassembler.BodyWriter] fits here).
	BodyWriter func(m *Message) io.Writer
	// BufferSize is the size of the read buffer (default 32 KiB). A
	// body goes to a BodyWriter in pieces of up to about this size, so
	// a larger buffer suits file transfers.
	BufferSize int
}

// Reader reads MSRP frames from a byte stream. It frames by the end-line
// only ("-------<tid><flag>" after a CRLF, RFC 4975 section 7.1), never by
// Byte-Range, and never holds more than the configured limits. It is not
// safe for concurrent use.
type Reader struct {
	br   *bufio.Reader
	opts ReaderOptions
	line []byte
	// skip is the rest of a frame to discard before the next one, after
	// a limit or a body writer failed in its middle.
	skip *skipState
	// err is the sticky error after framing was lost or the stream
	// ended.
	err error
	// crlf holds "\r\n" to give withheld line ends to the body without
	// allocating.
	crlf [2]byte
}

type skipState struct {
	tid     string
	inBody  bool
	midLine bool // inside a header line already partly consumed
	scan    bodyScan
}

// NewReader returns a Reader of the frames of r.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.MaxHeaders <= 0 {
		opts.MaxHeaders = DefaultMaxHeaders
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultReadBufferSize
	}
	return &Reader{br: bufio.NewReaderSize(r, opts.BufferSize), opts: opts, crlf: [2]byte{'\r', '\n'}}
}

// Read reads the next frame.
//
// It returns io.EOF when the stream ends between frames. A malformed
// frame yields a *ProtocolError: when its Fatal is false the Reader stays
// usable (the rest of the frame, if any, is discarded by the next Read)
// and the caller may answer TransactionID with Code; when Fatal is true,
// framing is lost and every later Read returns the same error. A frame
// whose body exceeds MaxBody yields a 413 error as soon as the limit is
// passed, before the rest of the chunk arrives, so that the receiver can
// ask the sender to stop early. An error of the BodyWriter's writer is
// returned wrapped (a *ProtocolError from it as it is) and is not fatal.
// Any other error comes from the underlying reader and is fatal.
func (r *Reader) Read() (*Message, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.skip != nil {
		if err := r.discardFrame(); err != nil {
			r.skip = nil
			r.err = err
			return nil, err
		}
	}
	m, err := r.readFrame()
	if err != nil {
		var pe *ProtocolError
		if r.skip != nil || errors.As(err, &pe) && !pe.Fatal && pe.TransactionID != "" {
			return nil, err
		}
		r.skip = nil
		r.err = err
		return nil, err
	}
	return m, nil
}

var errHeaderBytes = errors.New("header block too large")

// readLine reads a line of the header block into r.line (or returns the
// bufio buffer itself), without its LF and a CR before it. The raw length
// is taken from budget; past it, readLine returns errHeaderBytes, and
// midLine tells whether the line was cut short. A stream that ends
// before any byte gives io.EOF, inside a line io.ErrUnexpectedEOF.
func (r *Reader) readLine(budget *int) (line []byte, midLine bool, err error) {
	r.line = r.line[:0]
	for {
		seg, err := r.br.ReadSlice('\n')
		*budget -= len(seg)
		if *budget < 0 {
			return nil, len(seg) == 0 || seg[len(seg)-1] != '\n', errHeaderBytes
		}
		switch err {
		case nil:
			if len(r.line) > 0 {
				r.line = append(r.line, seg...)
				seg = r.line
			}
			return trimEOL(seg), false, nil
		case bufio.ErrBufferFull:
			r.line = append(r.line, seg...)
		case io.EOF:
			if len(r.line) == 0 && len(seg) == 0 {
				return nil, false, io.EOF
			}
			return nil, false, io.ErrUnexpectedEOF
		default:
			return nil, false, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// isEndLineText reports whether line (without its line end) is the
// end-line of tid.
func isEndLineText(line []byte, tid string) bool {
	n := len(endLinePrefix) + len(tid)
	return len(line) == n+1 && isFlag(line[n]) &&
		string(line[:len(endLinePrefix)]) == endLinePrefix && string(line[len(endLinePrefix):n]) == tid
}

func isFlag(c byte) bool { return c == FlagComplete || c == FlagMore || c == FlagAbort }

func (r *Reader) readFrame() (*Message, error) {
	budget := r.opts.MaxHeaderBytes
	var line []byte
	for {
		var err error
		line, _, err = r.readLine(&budget)
		switch {
		case err == io.EOF:
			return nil, io.EOF
		case err == errHeaderBytes:
			return nil, &ProtocolError{Code: StatusBadRequest, Fatal: true,
				Err: &LimitError{Limit: "MaxHeaderBytes", Max: int64(r.opts.MaxHeaderBytes)}}
		case err == io.ErrUnexpectedEOF:
			return nil, &ProtocolError{Code: StatusBadRequest, Fatal: true, Err: err}
		case err != nil:
			return nil, err
		}
		if len(line) > 0 {
			break
		}
	}
	m := new(Message)
	perr := parseStartLine(line, m)
	if m.TransactionID == "" {
		return nil, &ProtocolError{Code: StatusBadRequest, Fatal: true, Err: perr}
	}
	tid := m.TransactionID
	var seen uint16
	headers := 0
	for {
		line, midLine, err := r.readLine(&budget)
		switch {
		case err == errHeaderBytes:
			r.skip = &skipState{tid: tid, midLine: midLine}
			return nil, &ProtocolError{Code: StatusBadRequest, TransactionID: tid, Message: m,
				Err: &LimitError{Limit: "MaxHeaderBytes", Max: int64(r.opts.MaxHeaderBytes)}}
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil, &ProtocolError{Code: StatusBadRequest, TransactionID: tid, Fatal: true, Message: m, Err: io.ErrUnexpectedEOF}
		case err != nil:
			return nil, err
		}
		if isEndLineText(line, tid) {
			m.Flag = line[len(line)-1]
			if perr != nil {
				return nil, &ProtocolError{Code: StatusBadRequest, TransactionID: tid, Message: m, Err: perr}
			}
			return m, nil
		}
		if len(line) == 0 {
			break
		}
		if headers++; headers > r.opts.MaxHeaders {
			r.skip = &skipState{tid: tid}
			return nil, &ProtocolError{Code: StatusBadRequest, TransactionID: tid, Message: m,
				Err: &LimitError{Limit: "MaxHeaders", Max: int64(r.opts.MaxHeaders)}}
		}
		if err := m.parseHeader(line, &seen); err != nil && perr == nil {
			perr = err
		}
	}
	return r.readBody(m, perr)
}

// readBody reads the body after the empty line and the end-line.
func (r *Reader) readBody(m *Message, perr error) (*Message, error) {
	tid := m.TransactionID
	scan := newBodyScan(tid)
	if perr != nil {
		flag, err := r.scanBody(&scan, discardBody)
		if err != nil {
			return nil, r.bodyError(m, &scan, err)
		}
		m.Flag = flag
		return nil, &ProtocolError{Code: StatusBadRequest, TransactionID: tid, Message: m, Err: perr}
	}
	var w io.Writer
	if r.opts.BodyWriter != nil {
		w = r.opts.BodyWriter(m)
	}
	var emit func([]byte) error
	if w != nil {
		emit = func(p []byte) error {
			n, err := w.Write(p)
			if err == nil && n < len(p) {
				err = io.ErrShortWrite
			}
			return err
		}
	} else {
		maxBody := r.opts.MaxBody
		// The Byte-Range is only a hint for the first allocation: it
		// may be wrong, and is not trusted beyond 64 KiB.
		hint := int64(512)
		if br := m.ByteRange; br.Start > 0 && br.End >= br.Start {
			hint = br.End - br.Start + 1
		}
		hint = min(hint, maxBody, 64<<10)
		emit = func(p []byte) error {
			if int64(len(m.Body))+int64(len(p)) > maxBody {
				m.Body = nil
				return &LimitError{Limit: "MaxBody", Max: maxBody}
			}
			if m.Body == nil {
				m.Body = make([]byte, 0, max(hint, int64(len(p))))
			}
			m.Body = append(m.Body, p...)
			return nil
		}
	}
	flag, err := r.scanBody(&scan, emit)
	if err != nil {
		return nil, r.bodyError(m, &scan, err)
	}
	m.Flag = flag
	return m, nil
}

func discardBody([]byte) error { return nil }

// sinkError is an error of the body's destination: the frame goes on in
// the stream and is discarded by the next Read.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }

// bodyError turns an error of scanBody into what Read returns.
func (r *Reader) bodyError(m *Message, scan *bodyScan, err error) error {
	tid := m.TransactionID
	var se *sinkError
	if !errors.As(err, &se) {
		if err == io.ErrUnexpectedEOF {
			return &ProtocolError{Code: StatusBadRequest, TransactionID: tid, Fatal: true, Message: m, Err: err}
		}
		return err
	}
	r.skip = &skipState{tid: tid, inBody: true, scan: *scan}
	var le *LimitError
	if errors.As(se.err, &le) {
		return &ProtocolError{Code: StatusStopSending, TransactionID: tid, Message: m, Err: se.err}
	}
	var pe *ProtocolError
	if errors.As(se.err, &pe) {
		if pe.TransactionID == "" {
			pe.TransactionID = tid
		}
		if pe.Message == nil {
			pe.Message = m
		}
		return pe
	}
	return fmt.Errorf("msrp: transaction %s: body writer: %w", tid, se.err)
}

// discardFrame consumes the rest of the frame r.skip describes.
func (r *Reader) discardFrame() error {
	s := r.skip
	for !s.inBody {
		atStart := !s.midLine
		n := 0
		r.line = r.line[:0]
		for {
			seg, err := r.br.ReadSlice('\n')
			n += len(seg)
			if atStart && n <= 128 {
				r.line = append(r.line, seg...)
			}
			if err == nil {
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				err = &ProtocolError{Code: StatusBadRequest, TransactionID: s.tid, Fatal: true, Err: io.ErrUnexpectedEOF}
			}
			return err
		}
		s.midLine = false
		if !atStart || n > 128 {
			continue
		}
		line := trimEOL(r.line)
		if len(line) == 0 {
			s.inBody = true
			s.scan = newBodyScan(s.tid)
			break
		}
		if isEndLineText(line, s.tid) {
			r.skip = nil
			return nil
		}
	}
	if _, err := r.scanBody(&s.scan, discardBody); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = &ProtocolError{Code: StatusBadRequest, TransactionID: s.tid, Fatal: true, Err: err}
		}
		return err
	}
	r.skip = nil
	return nil
}

// bodyScan is the state of the search for the end-line in a body, kept
// between Reads when the rest of a body must be discarded.
type bodyScan struct {
	tid string
	// lineStart: the next byte starts a line. crlfBefore: that line
	// follows a CRLF (or the empty line ending the header block), so it
	// may be the end-line.
	lineStart, crlfBefore bool
	// heldCRLF: a CRLF was read but not yet given to the body, since it
	// is not content when the end-line follows. heldCR: a CR ended the
	// last piece read.
	heldCRLF, heldCR bool
}

func newBodyScan(tid string) bodyScan {
	return bodyScan{tid: tid, lineStart: true, crlfBefore: true}
}

// scanBody reads body bytes up to and including the end-line of s.tid,
// giving the body to emit in pieces, and returns the flag. The CRLF
// before the end-line is not given to emit. The end-line is also found
// right after the empty line that ends the header block, as a lenient
// form of an empty body. An error of emit comes back as a *sinkError
// once the state is consistent; the end of the stream as
// io.ErrUnexpectedEOF.
func (r *Reader) scanBody(s *bodyScan, emit func([]byte) error) (byte, error) {
	endLen := len(endLinePrefix) + len(s.tid) + 3
	var emitErr error
	out := func(p []byte) {
		if emitErr == nil && len(p) > 0 {
			emitErr = emit(p)
		}
	}
	for {
		if s.lineStart && s.crlfBefore {
			p, err := r.br.Peek(endLen)
			if len(p) == endLen {
				if isEndLineWire(p, s.tid) {
					flag := p[endLen-3]
					r.br.Discard(endLen)
					s.heldCRLF = false
					return flag, nil
				}
			} else {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return 0, err
			}
		}
		if !s.heldCR && r.fastBody(s, out) {
			if emitErr != nil {
				return 0, &sinkError{emitErr}
			}
			continue
		}
		seg, err := r.br.ReadSlice('\n')
		if len(seg) > 0 {
			if s.heldCR {
				s.heldCR = false
				if seg[0] == '\n' { // the CRLF was split between pieces
					seg = seg[1:]
					s.heldCRLF, s.lineStart, s.crlfBefore = true, true, true
				} else {
					out(r.crlf[:1])
				}
			}
		}
		if len(seg) > 0 {
			if s.heldCRLF {
				s.heldCRLF = false
				out(r.crlf[:])
			}
			n := len(seg)
			switch {
			case n >= 2 && seg[n-2] == '\r' && seg[n-1] == '\n':
				out(seg[:n-2])
				s.heldCRLF, s.lineStart, s.crlfBefore = true, true, true
			case seg[n-1] == '\n':
				out(seg)
				s.lineStart, s.crlfBefore = true, false
			case seg[n-1] == '\r':
				out(seg[:n-1])
				s.heldCR, s.lineStart = true, false
			default:
				out(seg)
				s.lineStart = false
			}
		}
		if emitErr != nil {
			return 0, &sinkError{emitErr}
		}
		switch err {
		case nil, bufio.ErrBufferFull:
		case io.EOF:
			return 0, io.ErrUnexpectedEOF
		default:
			return 0, err
		}
	}
}

// nlDashes starts every end-line that follows a line.
var nlDashes = []byte("\n" + endLinePrefix)

// fastBody gives the body in large pieces rather than line by line: of
// the bytes already buffered, those before the first "\n-------" (where
// an end-line may start) and not within the last end-line's length
// (where one may start that is not all there yet) are body, except CRs
// and LFs at their end, which the line by line scan must see. It gives
// exactly what the line by line scan would give before it reaches the
// same point, which also needs an end-line's length after every CRLF.
// It returns false when it found nothing to give. The scan state must
// hold no lone CR; a held CRLF is given first (scanBody has checked that
// no end-line follows it).
func (r *Reader) fastBody(s *bodyScan, out func([]byte)) bool {
	endLen := len(endLinePrefix) + len(s.tid) + 3
	n := r.br.Buffered()
	if n < endLen+64 {
		return false
	}
	buf, _ := r.br.Peek(n)
	limit := n - endLen
	if j := bytes.Index(buf[:n], nlDashes); j >= 0 && j < limit {
		limit = j
	}
	k := limit
	for k > 0 && (buf[k-1] == '\r' || buf[k-1] == '\n') {
		k--
	}
	if k == 0 {
		return false
	}
	if s.heldCRLF {
		s.heldCRLF = false
		out(r.crlf[:])
	}
	out(buf[:k])
	r.br.Discard(k)
	s.lineStart, s.crlfBefore = false, false
	return true
}

// isEndLineWire reports whether p is "-------<tid><flag>\r\n".
func isEndLineWire(p []byte, tid string) bool {
	n := len(p)
	return p[n-2] == '\r' && p[n-1] == '\n' && isEndLineText(p[:n-2], tid)
}

// parseStartLine parses "MSRP <tid> <METHOD>" or "MSRP <tid> <code>
// [<comment>]" into m. When the tid cannot be read m.TransactionID stays
// empty (framing is lost); other errors are returned with the tid set.
func parseStartLine(line []byte, m *Message) error {
	rest, ok := bytes.CutPrefix(line, []byte("MSRP "))
	if !ok {
		return fmt.Errorf("start line %s is not MSRP", quoteTrunc(string(line)))
	}
	tid, x, hasRest := bytes.Cut(rest, []byte{' '})
	if !validTransactionID(string(tid)) {
		return fmt.Errorf("transaction-id %s is not 1 to %d ident characters", quoteTrunc(string(tid)), maxTransactionIDLen)
	}
	m.TransactionID = string(tid)
	if !hasRest {
		m.Request = true
		return fmt.Errorf("start line %s has no method or status", quoteTrunc(string(line)))
	}
	if len(x) >= 3 && (len(x) == 3 || x[3] == ' ') {
		if code, ok := parse3Digits(string(x[:3])); ok {
			m.StatusCode = code
			if len(x) > 4 {
				m.Comment = string(x[4:])
				if !validText(m.Comment) {
					return fmt.Errorf("status comment %s has control characters", quoteTrunc(m.Comment))
				}
			}
			return nil
		}
	}
	m.Request = true
	if !validMethod(string(x)) {
		return fmt.Errorf("method %s is not upper-case letters", quoteTrunc(string(x)))
	}
	m.Method = methodString(x)
	return nil
}

// methodString avoids an allocation for the common methods.
func methodString(b []byte) string {
	switch string(b) {
	case MethodSEND:
		return MethodSEND
	case MethodREPORT:
		return MethodREPORT
	case MethodAUTH:
		return MethodAUTH
	}
	return string(b)
}

// parseHeader parses one header line into m. seen records the header
// fields Message has a field for, which may appear once.
func (m *Message) parseHeader(line []byte, seen *uint16) error {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return fmt.Errorf("header line %s has no colon", quoteTrunc(string(line)))
	}
	name := line[:colon]
	if !validHeaderName(string(name)) {
		return fmt.Errorf("header name %s is not valid", quoteTrunc(string(name)))
	}
	value := string(bytes.Trim(line[colon+1:], " \t"))
	if !validText(value) {
		return fmt.Errorf("header %s has control characters", name)
	}
	kind := knownHeader(string(name))
	if kind != hdrOther {
		bit := uint16(1) << kind
		if *seen&bit != 0 {
			return fmt.Errorf("header %s appears twice", name)
		}
		*seen |= bit
	}
	var err error
	switch kind {
	case hdrToPath:
		m.ToPath, err = ParsePath(value)
	case hdrFromPath:
		m.FromPath, err = ParsePath(value)
	case hdrMessageID:
		if !validIdent(value, maxMessageIDLen) {
			err = fmt.Errorf("Message-ID %s is not 1 to %d ident characters", quoteTrunc(value), maxMessageIDLen)
		}
		m.MessageID = value
	case hdrSuccessReport:
		if !validToken(value) {
			err = fmt.Errorf("Success-Report %s is not a token", quoteTrunc(value))
		}
		m.SuccessReport = value
	case hdrFailureReport:
		if !validToken(value) {
			err = fmt.Errorf("Failure-Report %s is not a token", quoteTrunc(value))
		}
		m.FailureReport = value
	case hdrByteRange:
		m.ByteRange, err = ParseByteRange(value)
	case hdrStatus:
		var st Status
		if st, err = ParseStatus(value); err == nil {
			m.Status = &st
		}
	case hdrContentType:
		if value == "" {
			err = fmt.Errorf("empty Content-Type")
		}
		m.ContentType = value
	default:
		m.Headers = append(m.Headers, Header{Name: string(name), Value: value})
	}
	if err != nil {
		err = fmt.Errorf("header %s: %w", name, err)
	}
	return err
}
