package msrp

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// storeBuffer is the buffer of a message written to Storage: the Reader
// hands a body over in pieces as small as a line, which are gathered
// into writes of up to this size.
const storeBuffer = 64 << 10

var errStorageDone = errors.New("msrp: message no longer written to storage")

// storageError is an error of SessionConfig.Storage.
type storageError struct{ err error }

func (e *storageError) Error() string { return "msrp: storage refused the message: " + e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// errorStatus is the status code that answers a chunk refused with err:
// a *ProtocolError's code; the code of a *StatusError in a Storage
// error; otherwise 413, "stop sending this message" (RFC 4975 section
// 7.2): an error of the Storage (refusal, disk full) is not the
// sender's fault, and 413 is the code that tells it to give up on the
// message, not on the session.
func errorStatus(err error) int {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	var se *StatusError
	if errors.As(err, &se) && se.Code >= 400 && se.Code <= 599 {
		return se.Code
	}
	return StatusStopSending
}

// inStore is the io.WriterAt a stored message is written to: it wraps the
// application's, gathers the Reader's small pieces into larger writes,
// counts what arrived, and stops writing once the message is over.
type inStore struct {
	id  string
	seq uint64
	w   io.WriterAt

	mu      sync.Mutex
	buf     []byte // octets not yet written, at bufOff
	bufOff  int64
	written int64 // octets from the start without a gap written to w
	prefix  int64 // octets w held before (ResumedStorage)
	total   int64 // declared total, -1 when unknown
	done    bool  // Received or ReceiveAborted was emitted
	err     error // a write to w failed

	// Reader goroutine only.
	progLast   time.Time
	progressed bool
}

// openStorage is the Reassembler's Storage: it asks the application and
// registers the message.
func (s *Session) openStorage(first *Message) (io.WriterAt, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrSessionClosed
	}
	w, err := s.cfg.Storage(first)
	if err != nil {
		return nil, &storageError{err}
	}
	if w == nil {
		return nil, nil
	}
	in := &inStore{id: first.MessageID, w: w, total: first.Range().Total, progLast: time.Now()}
	if p, ok := w.(ResumedStorage); ok {
		if n := p.StoredPrefix(); n > 0 && (in.total < 0 || n < in.total) {
			in.prefix, in.written = n, n
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSessionClosed
	}
	if old := s.incoming[in.id]; old != nil {
		s.abortStoredLocked(old, fmt.Errorf("msrp: message %s started again", in.id))
	}
	s.inSeq++
	in.seq = s.inSeq
	s.incoming[in.id] = in
	return in, nil
}

// ResumedStorage is an io.WriterAt from SessionConfig.Storage that
// already holds the first StoredPrefix octets of the message: a transfer
// resumed where it stopped (the sender's OutgoingMessage.Offset). Those
// octets count as received; the chunks are expected from there.
type ResumedStorage interface {
	io.WriterAt
	StoredPrefix() int64
}

// StoredPrefix implements ResumedStorage for the Reassembler.
func (in *inStore) StoredPrefix() int64 { return in.prefix }

// WriteAt buffers p, or writes it through when it is large or not
// contiguous with what is buffered.
func (in *inStore) WriteAt(p []byte, off int64) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.done {
		return 0, errStorageDone
	}
	if in.err != nil {
		return 0, in.err
	}
	if len(in.buf) > 0 && off == in.bufOff+int64(len(in.buf)) && len(in.buf)+len(p) <= storeBuffer {
		in.buf = append(in.buf, p...)
		return len(p), nil
	}
	if err := in.flushLocked(); err != nil {
		return 0, err
	}
	if len(p) >= storeBuffer/2 {
		if err := in.writeLocked(p, off); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if in.buf == nil {
		in.buf = make([]byte, 0, storeBuffer)
	}
	in.buf = append(in.buf, p...)
	in.bufOff = off
	return len(p), nil
}

func (in *inStore) writeLocked(p []byte, off int64) error {
	n, err := in.w.WriteAt(p, off)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		in.err = err
		return err
	}
	if end := off + int64(len(p)); off <= in.written && end > in.written {
		in.written = end
	}
	return nil
}

func (in *inStore) flushLocked() error {
	if in.err != nil {
		return in.err
	}
	if len(in.buf) == 0 {
		return nil
	}
	err := in.writeLocked(in.buf, in.bufOff)
	in.buf = in.buf[:0]
	return err
}

// flush writes what is buffered, after a chunk, and records the total
// once known.
func (in *inStore) flush(total int64) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if total >= 0 {
		in.total = total
	}
	if in.done {
		return errStorageDone
	}
	return in.flushLocked()
}

// end ends the writing to w: what is buffered is written first. It
// returns the octets written from the start and the total.
func (in *inStore) end() (written, total int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.done {
		in.flushLocked()
		in.done = true
		in.buf = nil
	}
	return in.written, in.total
}

// bodyWriter is the connection Reader's BodyWriter for the session: with
// a Storage, the bodies of the SEND chunks that the session will take go
// to the Reassembler as they arrive (in place, into Storage or memory),
// so that no chunk is held whole.
func (s *Session) bodyWriter(m *Message) io.Writer {
	if s.cfg.Storage == nil || !m.Request || m.Method != MethodSEND || m.MessageID == "" || m.ContentType == "" {
		return nil
	}
	if m.Validate() != nil || !s.accepts(m.ContentType) {
		return nil // handleRequest answers it
	}
	if code, ok := s.refused[m.MessageID]; ok {
		return refusedWriter{code}
	}
	s.mu.Lock()
	local := s.local
	s.mu.Unlock()
	if !m.ToPath[0].Equal(local) {
		return nil
	}
	return &streamWriter{w: s.ra.BodyWriter(m)}
}

// streamWriter makes every error of the Reassembler's writer a
// *ProtocolError with the code to answer, so that the Reader skips the
// rest of the chunk and the connection goes on.
type streamWriter struct{ w io.Writer }

func (sw *streamWriter) Write(p []byte) (int, error) {
	n, err := sw.w.Write(p)
	if err != nil {
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			err = &ProtocolError{Code: errorStatus(err), Err: err}
		}
	}
	return n, err
}

// dropIncoming forgets an incoming message whose chunk was refused; a
// stored one is reported as ReceiveAborted. Reader goroutine only.
func (s *Session) dropIncoming(id string, err error) {
	if id == "" {
		return
	}
	s.refuse(id, errorStatus(err))
	in, _ := s.ra.storage(id).(*inStore)
	s.ra.Discard(id)
	if in != nil {
		s.abortStored(in, err)
	}
}

// maxRefused bounds the Message-IDs of refused messages remembered.
const maxRefused = 256

// refuse remembers that the chunks of message id are answered code from
// now on: those the sender sent before it got the refusal must not start
// the message again (and call Storage for its middle). Reader goroutine
// only.
func (s *Session) refuse(id string, code int) {
	if _, ok := s.refused[id]; ok {
		return
	}
	if s.refused == nil {
		s.refused = make(map[string]int)
	}
	if len(s.refusedQ) == maxRefused {
		delete(s.refused, s.refusedQ[0])
		s.refusedQ = append(s.refusedQ[:0], s.refusedQ[1:]...)
	}
	s.refused[id] = code
	s.refusedQ = append(s.refusedQ, id)
}

// refusedWriter fails at once, so that the Reader skips the body.
type refusedWriter struct{ code int }

func (w refusedWriter) Write([]byte) (int, error) {
	return 0, &ProtocolError{Code: w.code, Err: errors.New("message refused earlier")}
}

func (s *Session) abortStored(in *inStore, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abortStoredLocked(in, err)
}

// abortStoredLocked ends a stored message with ReceiveAborted, once.
func (s *Session) abortStoredLocked(in *inStore, err error) {
	if s.incoming[in.id] != in {
		return
	}
	delete(s.incoming, in.id)
	written, total := in.end()
	ev := ReceiveAborted{MessageID: in.id, Received: written, Total: total, Storage: in.w, Err: err}
	if s.closed {
		s.pushEventLocked(ev) // room reserved
	} else {
		s.emitLocked(ev)
	}
}

// finishStoredLocked ends a stored message that is complete.
func (s *Session) finishStoredLocked(in *inStore) {
	if s.incoming[in.id] == in {
		delete(s.incoming, in.id)
	}
	in.end()
}

// receiveProgress emits ReceiveProgress for a stored message when it is
// due, or, with final, the last one if the message had some. Reader
// goroutine only.
func (s *Session) receiveProgress(in *inStore, final bool, size int64) {
	if s.progressEvery < 0 {
		return
	}
	now := time.Now()
	if final {
		if !in.progressed {
			return
		}
	} else if now.Sub(in.progLast) < s.progressEvery {
		return
	}
	in.progLast, in.progressed = now, true
	ev := ReceiveProgress{MessageID: in.id, Received: size, Total: size}
	if !final {
		in.mu.Lock()
		ev.Received, ev.Total = in.written, in.total
		in.mu.Unlock()
	}
	s.mu.Lock()
	if s.incoming[in.id] == in {
		s.progressLocked(ev)
	}
	s.mu.Unlock()
}

// sendProgressLocked emits SendProgress for m after a chunk when it is
// due, or, after the last chunk, the last one if m had some. Sender
// goroutine only.
func (s *Session) sendProgressLocked(m *outMsg, sent, total int64, last bool) {
	if s.progressEvery < 0 {
		return
	}
	now := time.Now()
	if last {
		if !m.progressed {
			return
		}
	} else if now.Sub(m.progLast) < s.progressEvery {
		return
	}
	m.progLast, m.progressed = now, true
	s.progressLocked(SendProgress{MessageID: m.id, Sent: sent, Total: total})
}
