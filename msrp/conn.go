package msrp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of a connection.
const (
	// maxCtrlFrames bounds the responses and REPORTs waiting to be
	// written. A peer that sends requests but does not read what we send
	// back fills it; the connection is then closed.
	maxCtrlFrames = 1 << 16
	// maxCtrlBytes bounds the buffers of those frames (pooled buffers
	// can be larger than their frames).
	maxCtrlBytes = 8 << 20
	// dataQueue is the number of SEND chunks handed to the writer ahead
	// of the socket.
	dataQueue = 32
	// writeBufferSize is the writer's buffer; frames are batched into it
	// and flushed when the writer has nothing more to write.
	writeBufferSize = 64 << 10
	// readBufferSize is the reader's buffer: large, so that the chunk
	// bodies of a file transfer go to Storage in few large writes.
	readBufferSize = 128 << 10
	// maxPooledFrame is the largest frame buffer kept for reuse in the
	// pool of responses, REPORTs and small chunks.
	maxPooledFrame = 16 << 10
	// maxPooledData is the largest frame buffer of a large SEND chunk
	// kept for reuse (in a pool of its own: only SEND chunks, at most
	// dataQueue of them queued, take from it).
	maxPooledData = 1<<20 + 16<<10
	// drainTimeout bounds the writing of the last answers before a
	// connection is closed for a protocol error.
	drainTimeout = 5 * time.Second
)

// errCtrlOverflow closes a connection whose peer does not read.
var errCtrlOverflow = errors.New("msrp: peer does not read responses")

// frameBuf is the wire form of one frame on its way to the writer.
type frameBuf struct {
	b []byte
	// owner is the done channel of the session a SEND chunk is from:
	// the writer drops the chunk once that session ended (its message
	// already has its outcome), even when the connection carries other
	// sessions on.
	owner <-chan struct{}
}

var framePool = sync.Pool{New: func() any { return &frameBuf{b: make([]byte, 0, 512)} }}

func getFrame() *frameBuf { return framePool.Get().(*frameBuf) }

var dataPool sync.Pool // of *frameBuf larger than maxPooledFrame

// getDataFrame returns a buffer for a frame of about n octets.
func getDataFrame(n int) *frameBuf {
	if f, ok := dataPool.Get().(*frameBuf); ok {
		if cap(f.b) >= n {
			return f
		}
		putFrame(f)
	}
	return &frameBuf{b: make([]byte, 0, n)}
}

func putFrame(f *frameBuf) {
	f.owner = nil
	switch c := cap(f.b); {
	case c <= maxPooledFrame:
		f.b = f.b[:0]
		framePool.Put(f)
	case c <= maxPooledData:
		f.b = f.b[:0]
		dataPool.Put(f)
	}
}

// encodeFrame returns the wire form of m in a pooled buffer.
func encodeFrame(m *Message) (*frameBuf, error) { return encodeFrameChecked(m, false) }

// encodeFrameChecked is encodeFrame; with checked, the caller has made
// sure that the body does not contain the end-line.
func encodeFrameChecked(m *Message, checked bool) (*frameBuf, error) {
	var f *frameBuf
	if len(m.Body) > maxPooledFrame/2 {
		f = getDataFrame(len(m.Body) + 2048)
	} else {
		f = getFrame()
	}
	b, err := m.appendTo(f.b[:0], checked)
	if err != nil {
		putFrame(f)
		return nil, err
	}
	f.b = b
	return f, nil
}

// conn is one TCP or TLS connection carrying MSRP for the sessions it
// routes to by To-Path (one, unless it was accepted from a relay).
//
// It runs two goroutines: a reader, which reads frames with a Reader
// and hands them to the session (or, before a session is bound, to the
// listener that accepted it), and a writer, which writes frames from two
// queues: responses and REPORTs (never blocking the reader that queues
// them, bounded by maxCtrlFrames) first, then SEND chunks from a small
// channel the session's sender blocks on. Neither runs user code.
type conn struct {
	nc  net.Conn
	rd  *Reader
	log *slog.Logger

	wmu      sync.Mutex
	ctrl     []*frameBuf
	ctrlSize int   // the capacity of ctrl's buffers
	draining bool  // close once the queued frames are written
	drainErr error // the reason, with draining
	ctrlWake chan struct{}
	data     chan *frameBuf

	// written counts the frames written, rx the reads that returned
	// data (not frames: a chunk of megabytes arriving is activity all
	// along). Keep-alives are sent only over an idle connection.
	written atomic.Uint64
	rx      atomic.Uint64

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error // set before closing is closed
	wg        sync.WaitGroup

	// Routing: the sessions the connection carries, by their local
	// session-id (RFC 4975 section 8.1: a connection may carry several
	// sessions, as a relay's does), under mu; lis is the accepting
	// listener, which binds more sessions by the To-Path of their
	// requests. unknown is used by the reader goroutine only.
	mu       sync.Mutex
	sessions map[string]*Session
	lis      *Listener
	unknown  int // requests answered 481 for want of a session
}

func newConn(nc net.Conn, log *slog.Logger) *conn {
	c := &conn{
		nc:       nc,
		log:      log,
		ctrlWake: make(chan struct{}, 1),
		data:     make(chan *frameBuf, dataQueue),
		closing:  make(chan struct{}),
	}
	c.rd = NewReader(rxCounter{nc, &c.rx}, ReaderOptions{BodyWriter: c.bodyWriter, BufferSize: readBufferSize})
	return c
}

// rxCounter counts the reads of a connection that returned data.
type rxCounter struct {
	r io.Reader
	n *atomic.Uint64
}

func (r rxCounter) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.n.Add(1)
	}
	return n, err
}

// activity is a count that changes whenever the connection carries
// something, in either direction.
func (c *conn) activity() uint64 { return c.written.Load() + c.rx.Load() }

// bodyWriter is the Reader's BodyWriter: the session the request is for
// decides whether a body streams to its Storage.
func (c *conn) bodyWriter(m *Message) io.Writer {
	if !m.Request || len(m.ToPath) == 0 {
		return nil
	}
	if s := c.sessionFor(m.ToPath[0]); s != nil {
		return s.bodyWriter(m)
	}
	return nil
}

// start runs the reader and writer goroutines.
func (c *conn) start() {
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
}

// close closes the connection with err as the reason, once; it does not
// wait for the goroutines (see wait).
func (c *conn) close(err error) {
	c.closeOnce.Do(func() {
		c.closeErr = err
		close(c.closing)
		c.nc.Close()
	})
}

// shutdown closes the connection with err once the writer has written
// the responses and REPORTs already queued, within drainTimeout; later
// ones and SEND chunks are dropped.
func (c *conn) shutdown(err error) {
	c.nc.SetWriteDeadline(time.Now().Add(drainTimeout))
	c.wmu.Lock()
	if !c.draining {
		c.draining, c.drainErr = true, err
	}
	c.wmu.Unlock()
	select {
	case c.ctrlWake <- struct{}{}:
	default:
	}
}

// wait waits for the reader and writer goroutines to end.
func (c *conn) wait() { c.wg.Wait() }

// sessionFor returns the session the connection carries for a request
// to the URI to, or nil.
func (c *conn) sessionFor(to URI) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[to.SessionID]
}

// carried appends the sessions the connection carries to buf (pass a
// small array's slice: a response per chunk must not allocate).
func (c *conn) carried(buf []*Session) []*Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sessions {
		buf = append(buf, s)
	}
	return buf
}

// carries reports whether the connection carries a session.
func (c *conn) carries() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions) > 0
}

// addSession makes the connection carry s and lifts the first-request
// deadline.
func (c *conn) addSession(s *Session) {
	c.mu.Lock()
	if c.sessions == nil {
		c.sessions = make(map[string]*Session, 1)
	}
	c.sessions[s.local.SessionID] = s
	c.mu.Unlock()
	c.nc.SetReadDeadline(time.Time{})
}

// leave drops s from the connection; the last session to leave shuts it
// down with err (the answers already queued still go out). It reports
// whether s was the last.
func (c *conn) leave(s *Session, err error) bool {
	c.mu.Lock()
	if c.sessions[s.local.SessionID] == s {
		delete(c.sessions, s.local.SessionID)
	}
	last := len(c.sessions) == 0
	c.mu.Unlock()
	if last {
		c.shutdown(err)
	}
	return last
}

// queueCtrl queues a response or REPORT ahead of SEND chunks. It never
// blocks; when the queue overflows the connection is closed.
func (c *conn) queueCtrl(m *Message) {
	f, err := encodeFrame(m)
	if err != nil {
		c.log.Warn("msrp: cannot write frame", "tid", m.TransactionID, "err", err)
		return
	}
	c.wmu.Lock()
	if c.draining {
		c.wmu.Unlock()
		putFrame(f)
		return
	}
	if len(c.ctrl) >= maxCtrlFrames || c.ctrlSize+cap(f.b) > maxCtrlBytes {
		c.wmu.Unlock()
		putFrame(f)
		c.close(errCtrlOverflow)
		return
	}
	c.ctrl = append(c.ctrl, f)
	c.ctrlSize += cap(f.b)
	c.wmu.Unlock()
	select {
	case c.ctrlWake <- struct{}{}:
	default:
	}
}

// sendData hands a SEND chunk of the session whose done channel is
// owner to the writer, waiting while the writer is behind; it fails once
// the connection is closing or the session ended.
func (c *conn) sendData(f *frameBuf, owner <-chan struct{}) error {
	f.owner = owner
	select {
	case c.data <- f:
		return nil
	case <-c.closing:
		putFrame(f)
		return ErrConnectionLost
	case <-owner:
		putFrame(f)
		return ErrSessionClosed
	}
}

func (c *conn) writeLoop() {
	defer c.wg.Done()
	bw := bufio.NewWriterSize(c.nc, writeBufferSize)
	var batch []*frameBuf
	write := func(f *frameBuf) bool {
		if f.owner != nil {
			select {
			case <-f.owner: // its session ended
				putFrame(f)
				return true
			default:
			}
		}
		_, err := bw.Write(f.b)
		putFrame(f)
		c.written.Add(1)
		if err != nil {
			c.close(fmt.Errorf("msrp: write: %w", err))
			return false
		}
		return true
	}
	for {
		c.wmu.Lock()
		batch, c.ctrl = c.ctrl, batch[:0]
		c.ctrlSize = 0
		draining, drainErr := c.draining, c.drainErr
		c.wmu.Unlock()
		for i, f := range batch {
			batch[i] = nil
			if !write(f) {
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		// While draining, SEND chunks are no longer written: their
		// messages already have their outcome.
		if !draining {
			select {
			case f := <-c.data:
				if !write(f) {
					return
				}
				continue
			case <-c.closing:
				return
			default:
			}
		}
		if bw.Buffered() > 0 {
			if err := bw.Flush(); err != nil {
				c.close(fmt.Errorf("msrp: write: %w", err))
				return
			}
			continue
		}
		if draining {
			c.close(drainErr)
			return
		}
		select {
		case <-c.ctrlWake:
		case f := <-c.data:
			if !write(f) {
				return
			}
		case <-c.closing:
			return
		}
	}
}

func (c *conn) readLoop() {
	defer c.wg.Done()
	var err error
	graceful := false // write the answers already queued, then close
	for {
		var m *Message
		m, err = c.rd.Read()
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				c.answerError(pe)
				if !pe.Fatal && pe.TransactionID != "" {
					continue
				}
				graceful = true
			}
			break
		}
		if m.Request {
			if !c.handleRequest(m) {
				err = errTooManyUnknown
				graceful = true
				break
			}
		} else {
			c.handleResponse(m)
		}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the peer closed: never a clean end for a session
	}
	if graceful {
		c.shutdown(err)
		<-c.closing
	} else {
		c.close(err)
	}
	var buf [4]*Session
	for _, s := range c.carried(buf[:0]) {
		s.connClosed(c, c.closeErr)
	}
	c.mu.Lock()
	l := c.lis
	c.mu.Unlock()
	if l != nil {
		l.forget(c)
	}
}

// handleResponse hands a response to the session whose transaction it
// answers.
func (c *conn) handleResponse(m *Message) {
	// A response's To-Path is the From-Path of its request: ours.
	if len(m.ToPath) > 0 {
		if s := c.sessionFor(m.ToPath[0]); s != nil && s.handleResponse(m) {
			return
		}
	}
	var buf [4]*Session
	for _, s := range c.carried(buf[:0]) {
		if s.handleResponse(m) {
			return
		}
	}
	c.log.Debug("msrp: response to an unknown transaction", "tid", m.TransactionID, "code", m.StatusCode)
}

var errTooManyUnknown = errors.New("msrp: too many requests for unknown sessions")

// respond answers req with code unless RFC 4975 says not to: REPORTs are
// never answered; Failure-Report "no" wants no response and "partial"
// only failures (sections 7.1.2 and 7.2).
func (c *conn) respond(req *Message, code int, comment string) {
	if !req.Request || req.Method == MethodREPORT {
		return
	}
	switch req.FailureReportMode() {
	case "no":
		return
	case "partial":
		if code == StatusOK {
			return
		}
	}
	if len(req.ToPath) == 0 || len(req.FromPath) == 0 {
		c.log.Debug("msrp: cannot answer a request without paths", "tid", req.TransactionID, "code", code)
		return
	}
	c.queueCtrl(NewResponse(req, code, comment))
}

// answerError answers a malformed frame with the code its error gives.
func (c *conn) answerError(pe *ProtocolError) {
	c.log.Debug("msrp: malformed frame", "err", pe)
	if pe.Message == nil || pe.TransactionID == "" {
		return
	}
	c.respond(pe.Message, pe.Code, "")
	if pe.Message.MessageID == "" || !pe.Message.Request || pe.Message.Method != MethodSEND || len(pe.Message.ToPath) == 0 {
		return
	}
	if s := c.sessionFor(pe.Message.ToPath[0]); s != nil {
		s.dropIncoming(pe.Message.MessageID, pe)
	}
}

// handleRequest routes a request to the bound session, or binds the
// connection by its To-Path. It returns false when the connection must be
// closed.
func (c *conn) handleRequest(m *Message) bool {
	if err := m.Validate(); err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) {
			c.answerError(pe)
		}
		return true
	}
	s := c.sessionFor(m.ToPath[0])
	c.mu.Lock()
	l := c.lis
	c.mu.Unlock()
	if s == nil && l != nil {
		var code int
		s, code = l.bind(c, m.ToPath[0])
		if s == nil {
			c.respond(m, code, "")
			// A connection that never bound a session is closed after
			// a few; one carrying sessions gets late requests for a
			// session that ended, which must not end the others.
			if !c.carries() {
				c.unknown++
			}
			return c.unknown < maxUnknownRequests
		}
	}
	if s == nil {
		c.respond(m, StatusNoSession, "")
		return true
	}
	s.handleRequest(c, m)
	return true
}
