package msrp

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of SessionConfig.
const (
	// DefaultChunkSize is the size of the SEND chunks a message is cut
	// into: 2048 octets, the conservative size MSRP implementations
	// commonly use, which every receiver and relay is expected to
	// handle.
	DefaultChunkSize = 2048
	// DefaultMaxMessageSize bounds a received message held in memory.
	DefaultMaxMessageSize = DefaultMaxMessageBytes
	// DefaultTransactionTimeout is the time a SEND chunk waits for its
	// response (RFC 4975 section 7.1: 30 seconds).
	DefaultTransactionTimeout = 30 * time.Second
	// DefaultReportTimeout is the time a message that asked for a
	// success report waits for it once every chunk was accepted.
	DefaultReportTimeout = 2 * time.Minute
	// DefaultMaxPendingMessages bounds the messages accepted by Send
	// that have no outcome yet.
	DefaultMaxPendingMessages = 1024
	// DefaultMaxQueuedEvents bounds the events waiting in the Events
	// channel.
	DefaultMaxQueuedEvents = 1024
	// DefaultProgressInterval is the least time between two progress
	// events (SendProgress, ReceiveProgress) of one message.
	DefaultProgressInterval = 200 * time.Millisecond
	// MaxQueuedProgress bounds the progress events waiting in the Events
	// channel, on top of MaxQueuedEvents: past it, progress events are
	// dropped.
	MaxQueuedProgress = 64
)

// Errors of the session layer.
var (
	// ErrSessionClosed: the session was closed.
	ErrSessionClosed = errors.New("msrp: session closed")
	// ErrConnectionLost: the session's connection ended or failed; it
	// is wrapped with the cause in Closed.Err.
	ErrConnectionLost = errors.New("msrp: connection lost")
	// ErrEventOverflow: the consumer of Events fell more than
	// MaxQueuedEvents behind; the session was closed.
	ErrEventOverflow = errors.New("msrp: event queue overflow")
	// ErrQueueFull: Send refused a message because MaxPendingMessages
	// messages are waiting for their outcome.
	ErrQueueFull = errors.New("msrp: too many messages pending")
	// ErrNoListener: Accept on a session not created by a Listener.
	ErrNoListener = errors.New("msrp: session has no listener")
	// ErrStarted: Connect or Accept was already called.
	ErrStarted = errors.New("msrp: session already started")
	// ErrMessageAborted: the sender of an incoming message aborted it
	// (a chunk ending in '#'); see ReceiveAborted.
	ErrMessageAborted = errors.New("msrp: message aborted by its sender")
)

// StatusError is a failure status received from the peer: Connect's
// error when the peer refuses the binding SEND (481, 506, ...), or 408
// when it does not answer.
type StatusError struct {
	// Code is the status code.
	Code int
	// Comment is the status comment.
	Comment string
}

// Error returns the code and comment.
func (e *StatusError) Error() string {
	return fmt.Sprintf("msrp: peer answered %d %s", e.Code, e.Comment)
}

// SessionConfig configures a Session. Zero values take the defaults.
type SessionConfig struct {
	// LocalURI is the session's own URI, the a=path the SDP advertises.
	// On a Listener (Listener.NewSession) the scheme, port and
	// transport are the listener's and an empty host is the listener's
	// address. For NewSession, Host is required unless the session
	// connects actively without it being known beforehand: Connect then
	// fills an empty Host and a zero Port from the connection's local
	// address. An empty SessionID is generated (20 random
	// alphanumerics); an empty Transport is "tcp".
	LocalURI URI
	// AcceptTypes are the accepted media types of incoming messages
	// (the SDP's a=accept-types): "type/subtype", "type/*" or "*",
	// compared case-insensitively without parameters. Empty accepts
	// everything. A SEND of another type is answered 415.
	AcceptTypes []string
	// ChunkSize is the largest body of a SEND chunk (default
	// DefaultChunkSize); OutgoingMessage.ChunkSize overrides it for one
	// message.
	ChunkSize int
	// MaxMessageSize bounds an incoming message held in memory (default
	// 16 MiB); a larger one is answered 413. Messages written to
	// Storage are bounded by MaxStoredMessageSize instead.
	MaxMessageSize int64
	// Storage, when set, is asked where to put each incoming message
	// with a body, once, on its first chunk (first has no body but its
	// Message-ID, Content-Type, Byte-Range with the total when the
	// sender knows it, and extra header fields such as
	// Content-Disposition). When it returns a non-nil io.WriterAt (a
	// file, for a file transfer, RFC 5547), the chunk bodies are
	// written there at their Byte-Range offsets as they arrive from the
	// connection, never held whole in memory; the message then comes as
	// Received with Storage and Size set and Body nil, or, when it does
	// not complete, as ReceiveAborted. When it returns nil, nil the
	// message is held in memory. When it returns an error the chunk is
	// answered 413 (RFC 4975: stop sending this message), or the code
	// of a *StatusError in the error's chain (403, say), and the
	// message is refused.
	//
	// Storage runs on the connection's reader goroutine: it must not
	// block for long (creating a file is fine). The WriterAt is
	// written by that goroutine, sequentially, through a buffer of at
	// most 64 KiB per message, flushed before each chunk is answered;
	// it is never written after the message's Received or
	// ReceiveAborted event. A WriterAt returned while the session is
	// ending gets no event (nothing follows Closed): Storage is not
	// called any more once Close returned.
	Storage func(first *Message) (io.WriterAt, error)
	// MaxStoredMessageSize bounds a message written to Storage; 0 means
	// no limit. Storage is not called for a message whose Byte-Range
	// declares a larger total (it is then an in-memory message, within
	// MaxMessageSize), and the octets of a stored message beyond it are
	// answered 413 and the message aborted (ReceiveAborted).
	MaxStoredMessageSize int64
	// ProgressInterval is the least time between two progress events
	// of one message (SendProgress for every sent message,
	// ReceiveProgress for stored incoming messages); 0 means
	// DefaultProgressInterval, a negative value disables them. A
	// message that takes less than the interval has none.
	ProgressInterval time.Duration
	// Check, when set, vets every complete message held in memory
	// (not those written to Storage) before it is reported and answered:
	// an error refuses it, its last chunk answered with the code of a
	// *StatusError (400 otherwise) and, unless Failure-Report is "no", a
	// failure REPORT, so that the sender learns it was not delivered. It
	// is called by the connection's reader goroutine and must not block.
	Check func(first *Message, body []byte) error
	// OnRequest, when set, answers the requests of methods other than
	// SEND and REPORT (extensions such as python-sipsimple's
	// FILE_OFFSET): it returns the response (NewResponse with headers
	// added), or nil for 501. It is called by the connection's reader
	// goroutine and must not block.
	OnRequest func(req *Message) *Message
	// KeepAlive, when positive, makes a connected session send an empty
	// SEND when its connection carried nothing for that long, and end
	// the session when it is not answered within TransactionTimeout
	// (ErrConnectionLost) or refused; 0 sends none.
	KeepAlive time.Duration
	// TransactionTimeout is the time a SEND chunk waits for its
	// response before its message fails with 408 (default 30 s).
	TransactionTimeout time.Duration
	// ReportTimeout is the time a message that asked for a success
	// report waits for it after its last chunk was accepted, before it
	// fails with 408 (default 2 minutes).
	ReportTimeout time.Duration
	// TLSConfig is used to dial msrps URIs; nil uses the system roots.
	// An empty ServerName is the host of the first hop.
	TLSConfig *tls.Config
	// MaxPendingMessages bounds the messages without an outcome; Send
	// fails with ErrQueueFull beyond it (default 1024).
	MaxPendingMessages int
	// MaxQueuedEvents bounds the events not yet taken from Events (see
	// Session.Events; default 1024).
	MaxQueuedEvents int
	// MaxQueuedBytes bounds the bodies of the Received events not yet
	// taken from Events, together (default 64 MiB, and at least
	// MaxMessageSize): past it the session is closed with
	// ErrEventOverflow, as past MaxQueuedEvents.
	MaxQueuedBytes int64
	// Logger receives the session's debug and warning logs; nil
	// discards them.
	Logger *slog.Logger
}

// OutgoingMessage is a message to send.
type OutgoingMessage struct {
	// ContentType of the body; required unless the body is empty.
	ContentType string
	// Body is the content, when it is in memory. It must not be
	// modified until the message's outcome.
	Body []byte
	// Reader, instead of Body, streams the content (a file); it is read
	// by the session's sender goroutine one chunk at a time, so it must
	// not block indefinitely: Close waits for it.
	Reader io.Reader
	// Size is the length of Reader's content; 0 or less means unknown
	// (read to io.EOF, Byte-Range total "*" until the last chunk).
	Size int64
	// SuccessReport asks the receiver for a success REPORT; the message
	// is then Delivered only when the REPORT arrives.
	SuccessReport bool
	// FailureReport is "yes" (the default when empty), "partial" or
	// "no" (RFC 4975 section 7.1.2); see Session.Send.
	FailureReport string
	// MessageID is the Message-ID; empty generates one.
	MessageID string
	// Headers are extra MIME header fields (Content-Disposition,
	// Content-Description...) repeated in every chunk.
	Headers []Header
	// ChunkSize, when positive, is the largest body of this message's
	// SEND chunks instead of SessionConfig.ChunkSize. For a file
	// transfer 64 KiB or more gives far better throughput than the
	// conservative 2048; RFC 4975 lets receivers take any size (this
	// package's receiver takes any size into Storage, and up to 16 MiB
	// per chunk in memory). The sender holds up to about 34 chunks in
	// memory.
	ChunkSize int
	// Offset resumes a message the receiver already has the first
	// Offset octets of (a file transfer cut short): the chunks start at
	// octet Offset+1 and Size stays the whole message's. Reader must be
	// positioned at that octet. Only with a Reader and a known Size.
	Offset int64
}

// Event is an event of a Session: Connected, Received, ReceiveProgress,
// ReceiveAborted, SendProgress, Delivered, NotDelivered or Closed.
type Event interface{ sessionEvent() }

// Connected: the session's connection is up and bound, and the remote
// path is known; Send's messages go out from now on.
type Connected struct {
	// LocalAddr and RemoteAddr are the connection's addresses.
	LocalAddr, RemoteAddr net.Addr
}

// Received is a complete incoming message.
type Received struct {
	// MessageID of the message.
	MessageID string
	// ContentType of the message.
	ContentType string
	// Body is the whole content of a message held in memory; nil for a
	// message written to Storage.
	Body []byte
	// Storage is the io.WriterAt that SessionConfig.Storage returned
	// for the message, which holds its content; nil for a message in
	// memory.
	Storage io.WriterAt
	// Size is the length of the content.
	Size int64
	// Headers are the extra header fields of its first chunk.
	Headers []Header
	// First is its first chunk without the body (paths, report
	// requests).
	First *Message
}

// ReceiveAborted is an incoming message written to Storage that will not
// complete: its sender aborted it (a '#' chunk, Err is
// ErrMessageAborted), writing to the Storage failed or a limit was
// passed (the chunk was answered 413), or the session ended before its
// last chunk (Err is Closed's reason, or ErrSessionClosed). The
// application keeps the partial content to resume the transfer (RFC
// 5547 file-range) or deletes it. The session no longer writes to
// Storage.
type ReceiveAborted struct {
	// MessageID of the message.
	MessageID string
	// Received is the number of octets from the start of the message,
	// without a gap, that are in Storage: where a resumed transfer
	// starts. (Chunks received out of order past a gap are not
	// counted.)
	Received int64
	// Total is the size its Byte-Range declared, -1 when unknown.
	Total int64
	// Storage is the io.WriterAt SessionConfig.Storage returned.
	Storage io.WriterAt
	// Err says why.
	Err error
}

// SendProgress tells how much of a sent message was handed to the
// connection: Sent octets of Total (-1 while the size of a
// Reader of unknown size is not known). It comes at most every
// SessionConfig.ProgressInterval per message, the first one after that
// interval, never after the message's outcome; a message that had some
// has a last one when its last chunk is handed over, with Sent equal to
// Total. Progress events are dropped, never queued, when
// MaxQueuedProgress of them wait in Events: they never make the session
// overflow, and Delivered or NotDelivered is the only outcome.
type SendProgress struct {
	// MessageID of the message.
	MessageID string
	// Sent is the number of octets in the chunks handed to the
	// connection's writer (at most 32 chunks ahead of the socket).
	Sent int64
	// Total is the size of the message, -1 when not known yet.
	Total int64
}

// ReceiveProgress tells how much of an incoming message written to
// Storage arrived. Like SendProgress, it comes at most every
// ProgressInterval per message and may be dropped; a message that had
// some has a last one with Received equal to Total right before its
// Received event. Received or ReceiveAborted ends the message.
type ReceiveProgress struct {
	// MessageID of the message.
	MessageID string
	// Received is the number of octets from the start of the message
	// without a gap written to Storage.
	Received int64
	// Total is the size its Byte-Range declares, -1 when unknown.
	Total int64
}

// Delivered is the success outcome of a sent message; see Session.Send
// for what it means for each report mode.
type Delivered struct {
	// MessageID of the message.
	MessageID string
}

// NotDelivered is the failure outcome of a sent message.
type NotDelivered struct {
	// MessageID of the message.
	MessageID string
	// Code is the peer's status code (from an error response or a
	// failure REPORT), 408 for a transaction or report timeout, or 0
	// when the session or its connection ended first.
	Code int
	// Reason is the status comment or a description.
	Reason string
}

// Closed is the last event of a session; the Events channel is closed
// after it.
type Closed struct {
	// Err is nil after Close; otherwise why the session ended: wraps
	// ErrConnectionLost, or ErrEventOverflow, ErrListenerClosed, or the
	// error of a failed Connect.
	Err error
}

func (Connected) sessionEvent()       {}
func (Received) sessionEvent()        {}
func (ReceiveAborted) sessionEvent()  {}
func (ReceiveProgress) sessionEvent() {}
func (SendProgress) sessionEvent()    {}
func (Delivered) sessionEvent()       {}
func (NotDelivered) sessionEvent()    {}
func (Closed) sessionEvent()          {}

// Session is one MSRP session (RFC 4975): a local URI with a random
// session-id, a remote path, and one connection, set up per RFC 4975
// section 8 and RFC 6135: the active side calls Connect, which dials the
// remote path's first hop (TCP, or TLS for msrps) and sends an empty SEND
// that binds the connection at the passive side; the passive side,
// created on a Listener, calls Accept and waits for that connection.
// With a relay (RFC 4976), ConnectRelay makes the connection first and
// Connect or Accept use it (see ConnectRelay). A connection accepted by
// a Listener may carry several sessions (the peer, often a relay, binds
// each by a request's To-Path); a session's end then leaves the
// connection to the others.
//
// A session that was connected runs, besides its connection's reader
// and writer goroutines, a sender goroutine (chunks queued messages and
// hands them to the writer) and a timer goroutine (transaction and report
// timeouts). None runs user code except the sender reading an
// OutgoingMessage.Reader and the connection's reader calling
// SessionConfig.Storage and writing to the io.WriterAt it returned.
// Everything the application needs to know comes
// as events (Events). Close stops all of them.
//
// The session ends, with a Closed event, on Close, when its connection
// is lost (MSRP has no reconnection; the signalling decides), when the
// event consumer falls behind, or when Connect fails. Close must still be
// called to wait for its goroutines and to free its session-id on the
// listener.
//
// Keep-alives are sent when SessionConfig.KeepAlive says so. Incoming
// empty messages (the binding SEND, a peer's keep-alive) are answered but
// not reported. Incoming aborted
// messages ('#') held in memory are dropped with a debug log; those
// written to Storage are reported as ReceiveAborted. The receiver sends
// success REPORTs when asked but no failure REPORTs: its error responses
// say enough for a direct connection.
type Session struct {
	cfg       SessionConfig
	log       *slog.Logger
	lis       *Listener
	events    chan Event
	done      chan struct{} // closed when the session ends
	ready     chan struct{} // closed when connected and the remote path is known
	wake      chan struct{} // sender: the queue is not empty
	timerWake chan struct{} // timer: a queue went from empty to not empty
	wg        sync.WaitGroup

	// ra reassembles incoming messages; only the connection's reader
	// goroutine uses it, and refused.
	ra *Reassembler
	// refused are the Message-IDs of incoming messages refused, with
	// the code, the last maxRefused in refusedQ.
	refused  map[string]int
	refusedQ []string
	// progressEvery is ProgressInterval with its default, < 0 for none.
	progressEvery time.Duration

	mu         sync.Mutex
	local      URI
	from       []URI
	remote     []URI
	conn       *conn
	started    bool
	passive    bool        // started by Accept
	relay      *relayState // ConnectRelay was called
	connLast   bool        // the session was the last on its connection
	running    bool        // sender and timer goroutines started
	isReady    bool
	closed     bool
	closeErr   error
	lisClosed  bool
	seq        uint64
	queue      []*outMsg // accepted, not yet taken by the sender
	pending    map[string]*outMsg
	txns       map[string]*txn
	txnQ       []*txn // by deadline; done entries are skipped
	txnHead    int
	reportQ    []*outMsg // waiting for a success report, by deadline
	reportHead int
	// incoming are the messages being written to Storage, by
	// Message-ID.
	incoming map[string]*inStore
	inSeq    uint64
	// Accounting of the events in the channel, which is FIFO: pushed
	// events so far, progress events among them, and progCum[n%len]
	// the progress events among the first n pushed.
	pushed, progPushed uint64
	progCum            []uint64
	// The same for the octets of Received bodies: bodyPushed so far,
	// bodyCum[n%len] among the first n events pushed.
	bodyPushed uint64
	bodyCum    []uint64
}

type outMsg struct {
	id         string
	seq        uint64
	msg        OutgoingMessage
	mode       string // Failure-Report: yes, partial, no
	size       int64  // set with lastQueued
	pendingTxn int    // chunks waiting for a response
	lastQueued bool   // the last chunk was handed to the writer
	done       bool   // its outcome was reported
	deadline   time.Time
	// Sender goroutine only: the last progress event (or the start).
	progLast   time.Time
	progressed bool
}

type txn struct {
	tid      string
	msg      *outMsg
	bind     chan error    // the binding SEND of Connect
	resp     chan *Message // AUTH, keep-alive: the response, nil for none
	deadline time.Time
	done     bool
}

// NewSession creates a session that is not on a listener: it can only
// Connect (active side). See SessionConfig for its URI.
func NewSession(cfg SessionConfig) (*Session, error) {
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.TransactionTimeout <= 0 {
		cfg.TransactionTimeout = DefaultTransactionTimeout
	}
	if cfg.ReportTimeout <= 0 {
		cfg.ReportTimeout = DefaultReportTimeout
	}
	if cfg.MaxPendingMessages <= 0 {
		cfg.MaxPendingMessages = DefaultMaxPendingMessages
	}
	if cfg.MaxQueuedBytes <= 0 {
		cfg.MaxQueuedBytes = max(DefaultMaxTotalBytes, cfg.MaxMessageSize)
	}
	if cfg.MaxQueuedEvents <= 0 {
		cfg.MaxQueuedEvents = DefaultMaxQueuedEvents
	}
	if cfg.ProgressInterval == 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	if cfg.MaxStoredMessageSize < 0 {
		cfg.MaxStoredMessageSize = 0
	}
	u := cfg.LocalURI
	if u.SessionID == "" {
		u.SessionID = randomAlnum(20)
	}
	if u.Transport == "" {
		u.Transport = "tcp"
	}
	if u.Host != "" {
		if err := u.Validate(); err != nil {
			return nil, err
		}
	} else if !validSessionID(u.SessionID) {
		return nil, fmt.Errorf("msrp: session-id %s is not valid", quoteTrunc(u.SessionID))
	}
	for _, t := range cfg.AcceptTypes {
		if t != "*" && !strings.Contains(t, "/") {
			return nil, fmt.Errorf("msrp: accept type %s is not type/subtype, type/* or *", quoteTrunc(t))
		}
	}
	// Room for MaxQueuedEvents ordinary events and MaxQueuedProgress
	// progress events, then one NotDelivered per pending message, one
	// ReceiveAborted per stored message in progress, the outcome that
	// overflowed, and Closed: the final events never block (see
	// emitLocked).
	capacity := cfg.MaxQueuedEvents + MaxQueuedProgress + cfg.MaxPendingMessages + DefaultMaxMessages + 2
	s := &Session{
		cfg:           cfg,
		log:           orDiscard(cfg.Logger).With("msrp_session", u.SessionID),
		local:         u,
		progressEvery: cfg.ProgressInterval,
		events:        make(chan Event, capacity),
		progCum:       make([]uint64, capacity+1),
		bodyCum:       make([]uint64, capacity+1),
		done:          make(chan struct{}),
		ready:         make(chan struct{}),
		wake:          make(chan struct{}, 1),
		timerWake:     make(chan struct{}, 1),
		pending:       make(map[string]*outMsg),
		txns:          make(map[string]*txn),
		incoming:      make(map[string]*inStore),
	}
	ropts := ReassemblerOptions{
		MaxMessageBytes: cfg.MaxMessageSize,
		MaxTotalBytes:   max(cfg.MaxMessageSize, DefaultMaxTotalBytes),
		MaxMessages:     DefaultMaxMessages,
	}
	if cfg.Storage != nil {
		ropts.Storage = s.openStorage
		ropts.MaxStoredBytes = cfg.MaxStoredMessageSize
	}
	s.ra = NewReassembler(ropts)
	return s, nil
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// LocalURI returns the session's URI.
func (s *Session) LocalURI() URI {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.local
}

// Events returns the session's events, in order. The channel is
// buffered and closed after the Closed event.
//
// The consumer must keep up: network goroutines never wait for it.
// When MaxQueuedEvents events are waiting and another one comes, the
// session is closed with ErrEventOverflow. The outcomes of every pending
// message and Closed are still delivered, as the channel keeps room for
// them. An incoming message that does not fit is not answered (its
// sender sees the connection close, never a 200), so nothing is lost
// silently. Memory held by waiting Received events is bounded by
// MaxQueuedEvents × MaxMessageSize (messages written to Storage hold
// none). Progress events (SendProgress, ReceiveProgress) have their own
// room of MaxQueuedProgress: when it is full they are dropped, and they
// never take the room of the other events nor cause ErrEventOverflow.
func (s *Session) Events() <-chan Event { return s.events }

// Done returns a channel closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// checkPath validates a remote path.
func checkPath(path []URI) error {
	if len(path) == 0 {
		return errors.New("msrp: empty remote path")
	}
	for _, u := range path {
		if err := u.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Connect is the active side of the connection setup (RFC 4975 section
// 8, RFC 6135): it dials the first hop of remotePath (TLS when its
// scheme is msrps, with SessionConfig.TLSConfig), sends an empty SEND
// whose To-Path is remotePath so that the passive side binds the
// connection to its session, and returns once that SEND is answered 200.
// The session is then connected (Connected event) and sends the
// messages queued by Send. Connect may be called on a session created on
// a Listener as well.
//
// When Connect fails (dial, handshake, refusal of the binding SEND as a
// *StatusError, ctx), the session is closed with that error.
func (s *Session) Connect(ctx context.Context, remotePath []URI) error {
	if err := checkPath(remotePath); err != nil {
		return err
	}
	hop := remotePath[0]
	if hop.Port == 0 {
		return fmt.Errorf("msrp: first hop %s has no port", hop)
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrSessionClosed
	case s.started:
		s.mu.Unlock()
		return ErrStarted
	case s.relay != nil && !s.relay.reserved:
		s.mu.Unlock()
		return ErrRelayPending
	}
	s.started = true
	var c *conn
	if s.relay != nil {
		// ConnectRelay made the connection: the relay's Use-Path goes
		// in front of the peer's path.
		s.remote = append(slices.Clone(s.relay.usePath), remotePath...)
		c = s.conn
	} else {
		s.remote = slices.Clone(remotePath)
		s.mu.Unlock()

		nc, err := s.dial(ctx, hop)
		if err != nil {
			s.terminate(err)
			return err
		}
		s.mu.Lock()
		if c, err = s.adoptLocked(nc); err != nil {
			s.mu.Unlock()
			nc.Close()
			if errors.Is(err, ErrStarted) {
				s.terminate(err)
			}
			return err
		}
	}
	bind := emptySEND(s.remote, s.from)
	result := make(chan error, 1)
	s.startLocked()
	s.addTxnLocked(&txn{tid: bind.TransactionID, bind: result})
	if s.relay == nil {
		// Started under mu, so that a concurrent Close, which waits
		// for the connection's goroutines, sees them.
		c.start()
	}
	s.mu.Unlock()
	c.queueCtrl(bind)

	var err error
	select {
	case err = <-result:
	case <-ctx.Done():
		err = ctx.Err()
	case <-s.done:
		return s.endErr()
	}
	if err != nil {
		s.terminate(err)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closeErrLocked()
	}
	s.markReadyLocked()
	return nil
}

// adoptLocked makes nc, just dialled, the session's connection; the
// local URI takes its address when it has none. It fails when the
// session was closed, or with ErrStarted when a connection on the
// listener bound the session meanwhile; the caller then closes nc.
func (s *Session) adoptLocked(nc net.Conn) (*conn, error) {
	if s.closed {
		return nil, s.closeErrOrLocked(ErrSessionClosed)
	}
	if s.conn != nil {
		return nil, ErrStarted
	}
	if s.local.Host == "" {
		if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
			s.local.Host = a.IP.String()
			if s.local.Port == 0 {
				s.local.Port = a.Port
			}
		}
	}
	s.from = []URI{s.local}
	c := newConn(nc, s.log)
	c.addSession(s)
	s.conn = c
	return c, nil
}

func (s *Session) dial(ctx context.Context, hop URI) (net.Conn, error) {
	return s.dialAddr(ctx, net.JoinHostPort(hop.Host, strconv.Itoa(hop.Port)), hop.Secure, hop.Host)
}

// dialAddr dials addr, with TLS when secure (verifying serverName unless
// SessionConfig.TLSConfig names another).
func (s *Session) dialAddr(ctx context.Context, addr string, secure bool, serverName string) (net.Conn, error) {
	if !secure {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	tc := new(tls.Config)
	if s.cfg.TLSConfig != nil {
		tc = s.cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = serverName
	}
	d := tls.Dialer{Config: tc}
	return d.DialContext(ctx, "tcp", addr)
}

// Accept is the passive side of the connection setup: it records the
// remote path and waits until a connection on the session's Listener
// has bound to the session by the To-Path of its first request (which
// may have happened before Accept is called). It returns nil once
// connected (Connected event), ctx's error when ctx ends first (the
// session stays waiting; Close it or call nothing else), or the error
// that closed the session.
func (s *Session) Accept(ctx context.Context, remotePath []URI) error {
	if err := checkPath(remotePath); err != nil {
		return err
	}
	s.mu.Lock()
	switch {
	case s.lis == nil && s.relay == nil:
		s.mu.Unlock()
		return ErrNoListener
	case s.closed:
		s.mu.Unlock()
		return s.closeErrOrLocked(ErrSessionClosed)
	case s.started:
		s.mu.Unlock()
		return ErrStarted
	case s.lisClosed && s.conn == nil:
		s.mu.Unlock()
		return ErrListenerClosed
	case s.relay != nil && !s.relay.reserved:
		s.mu.Unlock()
		return ErrRelayPending
	}
	s.started = true
	s.passive = true
	s.remote = slices.Clone(remotePath)
	if s.relay != nil {
		// The relay delivers the peer's requests over our connection.
		s.remote = append(slices.Clone(s.relay.usePath), remotePath...)
	}
	if s.conn != nil {
		s.markReadyLocked()
	}
	s.mu.Unlock()
	select {
	case <-s.ready:
		return nil
	case <-s.done:
		return s.endErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attach binds an accepted connection to the session; it returns 0, or
// the status to answer when the session cannot take it.
func (s *Session) attach(c *conn) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return StatusNoSession
	case s.conn != nil, s.started && !s.passive:
		return StatusSessionAlreadyInUse
	}
	s.conn = c
	s.from = []URI{s.local}
	c.addSession(s)
	s.startLocked()
	if s.started {
		s.markReadyLocked()
	}
	return 0
}

// listenerClosed is called when the session's listener closes.
func (s *Session) listenerClosed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lisClosed = true
	if s.started && s.conn == nil && !s.closed {
		s.terminateLocked(ErrListenerClosed)
	}
}

// startLocked starts the sender and timer goroutines.
func (s *Session) startLocked() {
	if s.running || s.closed {
		return
	}
	s.running = true
	s.wg.Add(2)
	go s.sendLoop()
	go s.timerLoop()
	if s.cfg.KeepAlive > 0 {
		s.wg.Add(1)
		go s.keepAliveLoop()
	}
}

func (s *Session) markReadyLocked() {
	if s.isReady || s.closed {
		return
	}
	s.isReady = true
	close(s.ready)
	s.emitLocked(Connected{LocalAddr: s.conn.nc.LocalAddr(), RemoteAddr: s.conn.nc.RemoteAddr()})
}

// Send queues a message and returns its Message-ID. It does not block:
// the session's sender goroutine cuts it into chunks of ChunkSize once
// the session is connected, and every message Send accepts gets exactly
// one outcome event, Delivered or NotDelivered, even when the connection
// is lost or the session closed before it went out (NotDelivered with
// code 0).
//
// What Delivered means depends on the reports asked for:
//
//   - Failure-Report "yes" (default), no success report: every chunk was
//     answered 200. An error response fails the message with its code
//     and stops sending its remaining chunks; no response within
//     TransactionTimeout fails it with 408.
//   - SuccessReport: the receiver's success REPORT (status 200, for the
//     whole message) arrived; a failure REPORT fails it with its code,
//     and no REPORT within ReportTimeout after the chunks were accepted
//     fails it with 408.
//   - Failure-Report "partial" or "no" without a success report: the
//     receiver sends no 200 (RFC 4975 section 7.1.2), so Delivered only
//     means the last chunk was handed to the connection. A later error
//     response or failure REPORT is logged, not reported.
//
// Send fails with ErrQueueFull when MaxPendingMessages messages are
// without an outcome, and with ErrSessionClosed after the session ended.
func (s *Session) Send(msg OutgoingMessage) (string, error) {
	mode := strings.ToLower(msg.FailureReport)
	switch mode {
	case "":
		mode = "yes"
	case "yes", "no", "partial":
	default:
		return "", fmt.Errorf("msrp: Failure-Report %s is not yes, partial or no", quoteTrunc(msg.FailureReport))
	}
	if msg.Offset < 0 || msg.Offset > 0 && (msg.Reader == nil || msg.Size <= 0 || msg.Offset >= msg.Size) {
		return "", fmt.Errorf("msrp: OutgoingMessage Offset %d needs a Reader and a larger Size (%d)", msg.Offset, msg.Size)
	}
	if msg.Reader != nil && msg.Body != nil {
		return "", errors.New("msrp: OutgoingMessage has both Body and Reader")
	}
	if msg.ChunkSize < 0 {
		return "", errors.New("msrp: OutgoingMessage has a negative ChunkSize")
	}
	if msg.ContentType == "" && (len(msg.Body) > 0 || msg.Reader != nil) {
		return "", errors.New("msrp: OutgoingMessage needs a ContentType with a body")
	}
	if msg.ContentType != "" && !validText(msg.ContentType) {
		return "", fmt.Errorf("msrp: Content-Type %s has control characters", quoteTrunc(msg.ContentType))
	}
	for _, h := range msg.Headers {
		if !validHeaderName(h.Name) || knownHeader(h.Name) != hdrOther || !validText(h.Value) {
			return "", fmt.Errorf("msrp: header %s cannot be sent as an extra header", quoteTrunc(h.Name))
		}
	}
	id := msg.MessageID
	if id == "" {
		id = NewMessageID()
	} else if !validIdent(id, maxMessageIDLen) {
		return "", fmt.Errorf("msrp: Message-ID %s is not valid", quoteTrunc(id))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrSessionClosed
	}
	if len(s.pending) >= s.cfg.MaxPendingMessages {
		return "", ErrQueueFull
	}
	if _, dup := s.pending[id]; dup {
		return "", fmt.Errorf("msrp: Message-ID %s is already pending", id)
	}
	s.seq++
	m := &outMsg{id: id, seq: s.seq, msg: msg, mode: mode}
	s.pending[id] = m
	s.queue = append(s.queue, m)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return id, nil
}

// Close ends the session: the pending messages get NotDelivered (code
// 0, "session closed"), then Closed{Err: nil} is emitted and the Events
// channel closed; the connection is closed once the responses and
// REPORTs already queued are written (at most 5 s with a peer that does
// not read), and Close waits for the session's goroutines. Close is idempotent and also needed after the
// session ended by itself.
func (s *Session) Close() error {
	s.terminate(nil)
	if s.lis != nil {
		s.lis.unregister(s)
	}
	s.mu.Lock()
	c, last := s.conn, s.connLast
	s.mu.Unlock()
	if c != nil && last {
		// The last session of its connection waits for it; the others
		// leave it to the sessions still using it.
		c.wait()
	}
	s.wg.Wait()
	return nil
}

func (s *Session) terminate(err error) {
	s.mu.Lock()
	s.terminateLocked(err)
	s.mu.Unlock()
}

// terminateLocked ends the session with err (nil for Close): outcomes of
// the pending messages, Closed, and the end of everything. It never
// blocks.
func (s *Session) terminateLocked(err error) {
	if s.closed {
		return
	}
	s.closed = true
	s.closeErr = err
	reason := "session closed"
	switch {
	case err == nil:
	case errors.Is(err, ErrConnectionLost):
		reason = "connection lost"
	case errors.Is(err, ErrEventOverflow):
		reason = "event queue overflow"
	default:
		reason = err.Error()
	}
	left := make([]*outMsg, 0, len(s.pending))
	for _, m := range s.pending {
		left = append(left, m)
	}
	slices.SortFunc(left, func(a, b *outMsg) int { return cmp.Compare(a.seq, b.seq) })
	for _, m := range left {
		m.done = true
		s.pushEventLocked(NotDelivered{MessageID: m.id, Code: 0, Reason: reason})
	}
	s.pending = nil
	s.queue = nil
	inErr := err
	if inErr == nil {
		inErr = ErrSessionClosed
	}
	ins := make([]*inStore, 0, len(s.incoming))
	for _, in := range s.incoming {
		ins = append(ins, in)
	}
	slices.SortFunc(ins, func(a, b *inStore) int { return cmp.Compare(a.seq, b.seq) })
	for _, in := range ins {
		s.abortStoredLocked(in, inErr)
	}
	for _, t := range s.txns {
		if t.bind != nil {
			t.bind <- ErrSessionClosed
		}
		if t.resp != nil {
			t.resp <- nil
		}
	}
	s.txns = nil
	s.txnQ, s.reportQ = nil, nil
	s.pushEventLocked(Closed{Err: err})
	close(s.events)
	close(s.done)
	if s.conn != nil {
		cerr := err
		if cerr == nil {
			cerr = ErrSessionClosed
		}
		// The answers already queued (200s for messages the
		// application was given, success REPORTs) still go out; a
		// connection other sessions use stays.
		s.connLast = s.conn.leave(s, cerr)
	}
	if err != nil {
		s.log.Debug("msrp: session ended", "err", err)
	}
}

func (s *Session) closeErrLocked() error { return s.closeErrOrLocked(ErrSessionClosed) }

func (s *Session) closeErrOrLocked(def error) error {
	if s.closeErr != nil {
		return s.closeErr
	}
	return def
}

// endErr returns why the session ended.
func (s *Session) endErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErrLocked()
}

// connClosed is called by the reader goroutine of c when c ended.
func (s *Session) connClosed(c *conn, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != c || s.closed {
		return
	}
	s.terminateLocked(fmt.Errorf("%w: %v", ErrConnectionLost, err))
}

// pushEventLocked puts ev in the channel without blocking; the capacity
// reserved for the final events makes the default case a bug.
func (s *Session) pushEventLocked(ev Event) { s.putLocked(ev, false) }

// putLocked puts ev in the channel without blocking and accounts for it.
func (s *Session) putLocked(ev Event, progress bool) {
	select {
	case s.events <- ev:
	default:
		s.log.Error("msrp: event channel full, event dropped (bug)", "event", fmt.Sprintf("%T", ev))
		return
	}
	s.pushed++
	if progress {
		s.progPushed++
	}
	if r, ok := ev.(Received); ok {
		s.bodyPushed += uint64(len(r.Body))
	}
	s.progCum[s.pushed%uint64(len(s.progCum))] = s.progPushed
	s.bodyCum[s.pushed%uint64(len(s.bodyCum))] = s.bodyPushed
}

// queuedBytesLocked returns the octets of the Received bodies in the
// channel.
func (s *Session) queuedBytesLocked() int64 {
	n := len(s.events)
	return int64(s.bodyPushed - s.bodyCum[(s.pushed-uint64(n))%uint64(len(s.bodyCum))])
}

// waitingLocked returns the number of events in the channel, other than
// progress events, and of progress events. The channel is FIFO and only
// filled under mu, so the events in it are the last len(events) pushed.
func (s *Session) waitingLocked() (ordinary, progress int) {
	n := len(s.events)
	before := s.progCum[(s.pushed-uint64(n))%uint64(len(s.progCum))]
	progress = int(s.progPushed - before)
	return n - progress, progress
}

// roomLocked reports whether an ordinary event fits.
func (s *Session) roomLocked() bool {
	ordinary, _ := s.waitingLocked()
	return ordinary < s.cfg.MaxQueuedEvents
}

// progressLocked emits a progress event if it fits in its own room;
// otherwise it is dropped.
func (s *Session) progressLocked(ev Event) {
	if s.closed {
		return
	}
	if _, progress := s.waitingLocked(); progress >= MaxQueuedProgress {
		return
	}
	s.putLocked(ev, true)
}

// emitLocked emits an ordinary event. When MaxQueuedEvents are already
// waiting the session is closed with ErrEventOverflow; an outcome is
// still emitted (it has room reserved), any other event is dropped.
func (s *Session) emitLocked(ev Event) {
	if s.closed {
		return
	}
	if s.roomLocked() {
		s.putLocked(ev, false)
		return
	}
	switch ev.(type) {
	case Delivered, NotDelivered, ReceiveAborted:
		s.pushEventLocked(ev)
	default:
		s.log.Warn("msrp: event consumer too slow, event dropped", "event", fmt.Sprintf("%T", ev))
	}
	s.terminateLocked(ErrEventOverflow)
}

// finishLocked reports the outcome of m, once.
func (s *Session) finishLocked(m *outMsg, ev Event) {
	if m.done || s.closed {
		return
	}
	m.done = true
	delete(s.pending, m.id)
	s.emitLocked(ev)
}

// addTxnLocked records a transaction waiting for its response.
func (s *Session) addTxnLocked(t *txn) {
	t.deadline = time.Now().Add(s.cfg.TransactionTimeout)
	s.txns[t.tid] = t
	s.txnQ = append(s.txnQ, t)
	if len(s.txnQ)-s.txnHead == 1 {
		s.wakeTimer()
	}
}

func (s *Session) wakeTimer() {
	select {
	case s.timerWake <- struct{}{}:
	default:
	}
}

// popTxnsLocked drops the finished transactions at the head of the
// timeout queue and compacts it.
func (s *Session) popTxnsLocked() {
	for s.txnHead < len(s.txnQ) && s.txnQ[s.txnHead].done {
		s.txnQ[s.txnHead] = nil
		s.txnHead++
	}
	s.txnQ, s.txnHead = compact(s.txnQ, s.txnHead)
}

func compact[T any](q []*T, head int) ([]*T, int) {
	if head == len(q) {
		return q[:0], 0
	}
	if head > 256 && head > len(q)/2 {
		n := copy(q, q[head:])
		clear(q[n:])
		return q[:n], 0
	}
	return q, head
}

// allAcceptedLocked is called when every chunk of m was accepted (200)
// or, without responses, handed to the connection.
func (s *Session) allAcceptedLocked(m *outMsg) {
	if !m.msg.SuccessReport {
		s.finishLocked(m, Delivered{MessageID: m.id})
		return
	}
	m.deadline = time.Now().Add(s.cfg.ReportTimeout)
	s.reportQ = append(s.reportQ, m)
	if len(s.reportQ)-s.reportHead == 1 {
		s.wakeTimer()
	}
}

func (s *Session) timerLoop() {
	defer s.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		s.mu.Lock()
		next := s.expireLocked(time.Now())
		s.mu.Unlock()
		if next.IsZero() {
			t.Stop()
		} else {
			t.Reset(time.Until(next))
		}
		select {
		case <-t.C:
		case <-s.timerWake:
		case <-s.done:
			return
		}
	}
}

// expireLocked fails what timed out and returns the next deadline, zero
// when nothing waits.
func (s *Session) expireLocked(now time.Time) time.Time {
	if s.closed {
		return time.Time{}
	}
	var next time.Time
	for s.txnHead < len(s.txnQ) {
		t := s.txnQ[s.txnHead]
		if !t.done && t.deadline.After(now) {
			next = t.deadline
			break
		}
		s.txnQ[s.txnHead] = nil
		s.txnHead++
		if t.done {
			continue
		}
		t.done = true
		delete(s.txns, t.tid)
		if t.bind != nil {
			t.bind <- &StatusError{Code: StatusRequestTimeout, Comment: "no response to the binding SEND"}
			continue
		}
		if t.resp != nil {
			t.resp <- nil
			continue
		}
		s.finishLocked(t.msg, NotDelivered{MessageID: t.msg.id, Code: StatusRequestTimeout, Reason: "transaction timeout"})
		if s.closed {
			return time.Time{}
		}
	}
	s.txnQ, s.txnHead = compact(s.txnQ, s.txnHead)
	for s.reportHead < len(s.reportQ) {
		m := s.reportQ[s.reportHead]
		if !m.done && m.deadline.After(now) {
			if next.IsZero() || m.deadline.Before(next) {
				next = m.deadline
			}
			break
		}
		s.reportQ[s.reportHead] = nil
		s.reportHead++
		s.finishLocked(m, NotDelivered{MessageID: m.id, Code: StatusRequestTimeout, Reason: "no success report"})
		if s.closed {
			return time.Time{}
		}
	}
	s.reportQ, s.reportHead = compact(s.reportQ, s.reportHead)
	return next
}

// awaitReady waits until the session is connected and returns its
// connection and paths; ok is false when the session ended first.
func (s *Session) awaitReady() (c *conn, to, from []URI, relayed, ok bool) {
	select {
	case <-s.ready:
	case <-s.done:
		return nil, nil, nil, false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn, s.remote, s.from, s.relay != nil, true
}

func (s *Session) sendLoop() {
	defer s.wg.Done()
	c, to, from, relayed, ok := s.awaitReady()
	if !ok {
		return
	}
	maxChunk := 0
	if relayed || len(to) > 1 {
		// A relay on either side: its frame limit.
		maxChunk = RelayChunkSize
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		var m *outMsg
		if len(s.queue) > 0 {
			m = s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
		}
		s.mu.Unlock()
		if m == nil {
			select {
			case <-s.wake:
			case <-s.done:
				return
			}
			continue
		}
		if !s.transmit(c, to, from, m, maxChunk) {
			return
		}
	}
}

// chunkResult tells the sender what to do after a chunk.
type chunkResult int

const (
	chunkNext    chunkResult = iota // go on
	chunkStopMsg                    // the message is over (failed)
	chunkStopAll                    // the connection or session is gone
)

// transmit sends the chunks of m; false when the sender must stop.
// maxChunk, when not 0, bounds the chunk size (a relay's limit).
func (s *Session) transmit(c *conn, to, from []URI, m *outMsg, maxChunk int) bool {
	tmpl := Message{
		Request: true, Method: MethodSEND, ToPath: to, FromPath: from,
		MessageID: m.id, ContentType: m.msg.ContentType, Headers: m.msg.Headers,
	}
	if m.msg.SuccessReport {
		tmpl.SuccessReport = "yes"
	}
	if m.mode != "yes" {
		tmpl.FailureReport = m.mode
	}
	size := s.cfg.ChunkSize
	if m.msg.ChunkSize > 0 {
		size = m.msg.ChunkSize
	}
	if maxChunk > 0 && size > maxChunk {
		size = maxChunk
	}
	m.progLast = time.Now()
	if m.msg.Reader == nil {
		body := m.msg.Body
		total := int64(len(body))
		for off := int64(0); ; {
			n := min(int64(size), total-off)
			ch := tmpl
			ch.Body = body[off : off+n]
			ch.ByteRange = ByteRange{Start: off + 1, End: off + n, Total: total}
			last := off+n == total
			ch.Flag = FlagMore
			if last {
				ch.Flag = FlagComplete
			}
			switch s.sendChunk(c, m, &ch, last, total) {
			case chunkStopMsg:
				return true
			case chunkStopAll:
				return false
			}
			if last {
				return true
			}
			off += n
		}
	}
	total := m.msg.Size
	if total <= 0 {
		total = -1
	}
	ck := NewChunker(&tmpl, m.msg.Reader, total, size)
	ck.reuse = true // sendChunk copies each chunk into its frame
	ck.StartAt(m.msg.Offset)
	for {
		ch, err := ck.Next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			s.abortMessage(c, &tmpl, m, ck.Sent(), err)
			return true
		}
		last := ch.Flag == FlagComplete
		switch s.sendChunk(c, m, ch, last, ck.Sent()) {
		case chunkStopMsg:
			return true
		case chunkStopAll:
			return false
		}
	}
}

// abortMessage fails m after its body could not be read, and tells the
// receiver with an empty '#' chunk when chunks went out.
func (s *Session) abortMessage(c *conn, tmpl *Message, m *outMsg, sent int64, err error) {
	s.mu.Lock()
	s.finishLocked(m, NotDelivered{MessageID: m.id, Code: 0, Reason: "reading body: " + err.Error()})
	s.mu.Unlock()
	if sent == 0 {
		return
	}
	ch := *tmpl
	ch.TransactionID = NewTransactionID()
	ch.ByteRange = ByteRange{Start: sent + 1, End: sent, Total: -1}
	ch.Flag = FlagAbort
	if f, err := encodeFrame(&ch); err == nil {
		c.sendData(f, s.done)
	}
}

// sendChunk registers the transaction of a chunk and hands it to the
// writer. total is the message size, meaningful with last.
func (s *Session) sendChunk(c *conn, m *outMsg, ch *Message, last bool, total int64) chunkResult {
	if ch.TransactionID == "" {
		ch.TransactionID = NewTransactionID()
		for i := 0; ContainsEndLine(ch.Body, ch.TransactionID); i++ {
			if i == 16 {
				s.mu.Lock()
				s.finishLocked(m, NotDelivered{MessageID: m.id, Reason: ErrEndLineInBody.Error()})
				s.mu.Unlock()
				return chunkStopMsg
			}
			ch.TransactionID = NewTransactionID()
		}
	}
	// The Chunker, or the loop above, checked the body against the
	// transaction-id.
	f, err := encodeFrameChecked(ch, true)
	if err != nil {
		s.mu.Lock()
		s.finishLocked(m, NotDelivered{MessageID: m.id, Reason: err.Error()})
		s.mu.Unlock()
		return chunkStopMsg
	}
	expectResp := m.mode == "yes"
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		putFrame(f)
		return chunkStopAll
	}
	if m.done {
		s.mu.Unlock()
		putFrame(f)
		return chunkStopMsg
	}
	if expectResp {
		m.pendingTxn++
		s.addTxnLocked(&txn{tid: ch.TransactionID, msg: m})
	}
	if last {
		m.lastQueued = true
		m.size = total
		// Its body is not read again: a message that waits for its
		// success REPORT (behind one that never comes) holds no data.
		m.msg.Body, m.msg.Reader = nil, nil
	}
	// Before the chunk is handed over, so that it comes before the
	// outcome its response may bring.
	s.sendProgressLocked(m, ch.ByteRange.End, ch.ByteRange.Total, last)
	s.mu.Unlock()
	if err := c.sendData(f, s.done); err != nil {
		return chunkStopAll
	}
	if last && !expectResp {
		s.mu.Lock()
		if !m.done {
			s.allAcceptedLocked(m)
		}
		s.mu.Unlock()
	}
	return chunkNext
}

// handleResponse matches a response to its transaction; false when the
// transaction is not the session's. Called by the reader goroutine.
func (s *Session) handleResponse(r *Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.txns[r.TransactionID]
	if t == nil {
		return false
	}
	delete(s.txns, t.tid)
	t.done = true
	s.popTxnsLocked()
	if t.resp != nil {
		t.resp <- r
		return true
	}
	if t.bind != nil {
		if r.StatusCode == StatusOK {
			t.bind <- nil
		} else {
			t.bind <- &StatusError{Code: r.StatusCode, Comment: r.Comment}
		}
		return true
	}
	m := t.msg
	if m.done {
		return true
	}
	if r.StatusCode != StatusOK {
		s.finishLocked(m, NotDelivered{MessageID: m.id, Code: r.StatusCode, Reason: r.Comment})
		return true
	}
	m.pendingTxn--
	if m.lastQueued && m.pendingTxn == 0 {
		s.allAcceptedLocked(m)
	}
	return true
}

// handleRequest handles a valid request of the bound connection c.
// Called by the reader goroutine.
func (s *Session) handleRequest(c *conn, m *Message) {
	s.mu.Lock()
	local := s.local
	s.mu.Unlock()
	if !m.ToPath[0].Equal(local) {
		s.ra.unstream(m)
		c.respond(m, StatusNoSession, "")
		return
	}
	switch m.Method {
	case MethodSEND:
		s.handleSend(c, m)
	case MethodREPORT:
		s.handleReport(m)
	default:
		s.ra.unstream(m)
		if s.cfg.OnRequest != nil {
			if r := s.cfg.OnRequest(m); r != nil {
				r.TransactionID = m.TransactionID
				c.queueCtrl(r)
				return
			}
		}
		c.respond(m, StatusUnknownMethod, "")
	}
}

// accepts reports whether an incoming Content-Type is accepted.
func (s *Session) accepts(ct string) bool {
	if len(s.cfg.AcceptTypes) == 0 || ct == "" {
		return true
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	typ, _, _ := strings.Cut(mt, "/")
	for _, a := range s.cfg.AcceptTypes {
		if a == "*" || strings.EqualFold(a, mt) {
			return true
		}
		if at, ok := strings.CutSuffix(a, "/*"); ok && strings.EqualFold(at, typ) {
			return true
		}
	}
	return false
}

func (s *Session) handleSend(c *conn, m *Message) {
	if !s.accepts(m.ContentType) {
		c.respond(m, StatusUnsupportedMedia, "")
		s.dropIncoming(m.MessageID, &StatusError{Code: StatusUnsupportedMedia, Comment: "Content-Type " + m.ContentType + " not accepted"})
		return
	}
	if code, ok := s.refused[m.MessageID]; ok {
		s.ra.unstream(m)
		c.respond(m, code, "")
		return
	}
	var first *Message
	var body []byte
	var size int64
	var in *inStore // the message is written to Storage
	r := m.Range()
	// Without a Storage to ask, or for an empty message (a binding SEND,
	// a keep-alive).
	storable := s.cfg.Storage != nil && (len(m.Body) > 0 || s.ra.streaming(m))
	if !storable && m.Flag == FlagComplete && r.Start == 1 && (r.Total < 0 || int64(len(m.Body)) == r.Total) && s.ra.Pending() == 0 {
		// The whole message in one chunk, the common case: no copy.
		if int64(len(m.Body)) > s.cfg.MaxMessageSize {
			c.respond(m, StatusStopSending, "")
			return
		}
		body = m.Body
		size = int64(len(body))
		f := *m
		f.Body = nil
		first = &f
	} else {
		a, err := s.ra.Add(m)
		if err != nil {
			s.log.Debug("msrp: chunk refused", "message_id", m.MessageID, "err", err)
			c.respond(m, errorStatus(err), "")
			s.dropIncoming(m.MessageID, err)
			return
		}
		in, _ = a.Storage.(*inStore)
		if in != nil {
			// A chunk is answered 200 once its octets are in Storage.
			if err := in.flush(a.Total); err != nil {
				s.log.Debug("msrp: storage failed", "message_id", m.MessageID, "err", err)
				c.respond(m, StatusStopSending, "")
				if a.State == AssemblyPartial {
					s.ra.Discard(a.MessageID)
				}
				s.refuse(a.MessageID, StatusStopSending)
				s.abortStored(in, fmt.Errorf("msrp: storing message %s: %w", a.MessageID, err))
				return
			}
		}
		switch a.State {
		case AssemblyPartial:
			c.respond(m, StatusOK, "")
			if in != nil {
				s.receiveProgress(in, false, 0)
			}
			return
		case AssemblyAborted:
			c.respond(m, StatusOK, "")
			if in != nil {
				s.abortStored(in, ErrMessageAborted)
			} else {
				s.log.Debug("msrp: incoming message aborted", "message_id", a.MessageID, "received", a.Received)
			}
			return
		}
		first, body, size = a.First, a.Body, a.Size
	}
	// The message is reported before its last chunk is answered: when
	// the event does not fit, the session closes without answering, so
	// the sender never takes a message the application did not get for
	// delivered.
	if in != nil || len(body) > 0 || first.ContentType != "" { // else a binding SEND or keep-alive
		if in == nil && s.cfg.Check != nil {
			if err := s.cfg.Check(first, body); err != nil {
				code := StatusBadRequest
				var se *StatusError
				if errors.As(err, &se) {
					code = se.Code
				}
				s.log.Debug("msrp: message refused by Check", "message_id", first.MessageID, "code", code, "err", err)
				c.respond(m, code, "")
				if first.FailureReportMode() != "no" {
					c.queueCtrl(NewReport(first, ByteRange{Start: 1, End: size, Total: size}, Status{Code: code, Comment: StatusText(code)}))
				}
				return
			}
		}
		if in != nil {
			s.receiveProgress(in, true, size)
		}
		s.mu.Lock()
		ok := !s.closed && s.roomLocked() && s.queuedBytesLocked()+int64(len(body)) <= s.cfg.MaxQueuedBytes
		if ok {
			ev := Received{MessageID: first.MessageID, ContentType: first.ContentType, Body: body, Size: size, Headers: first.Headers, First: first}
			if in != nil {
				s.finishStoredLocked(in)
				ev.Storage = in.w
			}
			s.putLocked(ev, false)
		} else if !s.closed {
			s.log.Warn("msrp: event consumer too slow, message refused", "message_id", first.MessageID)
			s.terminateLocked(ErrEventOverflow)
		}
		s.mu.Unlock()
		if !ok {
			return
		}
	}
	c.respond(m, StatusOK, "")
	if first.WantsSuccessReport() {
		c.queueCtrl(NewReport(first, ByteRange{Start: 1, End: size, Total: size}, Status{Code: StatusOK, Comment: "OK"}))
	}
}

// handleReport matches a REPORT to a sent message. REPORTs are never
// answered.
func (s *Session) handleReport(r *Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.pending[r.MessageID]
	if m == nil || m.done {
		s.log.Debug("msrp: REPORT for no pending message", "message_id", r.MessageID, "status", r.Status.String())
		return
	}
	if r.Status.Code != StatusOK {
		s.finishLocked(m, NotDelivered{MessageID: m.id, Code: r.Status.Code, Reason: r.Status.Comment})
		return
	}
	if !m.msg.SuccessReport {
		return
	}
	br := r.ByteRange
	if br.IsZero() || br.Total >= 0 && br.End == br.Total || m.lastQueued && br.End == m.size {
		s.finishLocked(m, Delivered{MessageID: m.id})
	}
}
