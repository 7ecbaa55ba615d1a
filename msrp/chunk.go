package msrp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Chunker splits a message body into SEND requests of at most a chunk
// size each (RFC 4975 section 5.1), reading the body from an io.Reader as
// it goes: one chunk is in memory at a time.
//
// Every chunk gets a fresh transaction-id that does not occur in its body
// after "-------", a Byte-Range "start-end/total" (total "*" while it is
// unknown, filled in on the last chunk), and the flag '+' or, on the last
// chunk, '$'. To abort the message, set FlagAbort on the chunk about to
// be sent and send no more.
type Chunker struct {
	tmpl  Message
	src   *bufio.Reader
	total int64
	size  int
	off   int64
	done  bool
	err   error
	// reuse: the body of a chunk is only valid until the next call of
	// Next (the session copies it into the frame at once).
	reuse bool
	buf   []byte
}

// NewChunker returns a Chunker of body, whose length is total (-1 when
// unknown: the body is then read up to io.EOF), in chunks of at most
// chunkSize octets (at least 1; 0 means 2048). The chunks copy the To-Path,
// From-Path, Message-ID, Content-Type, Success-Report, Failure-Report and
// Headers (MIME headers such as Content-Disposition) of tmpl; a missing
// Message-ID is generated.
func NewChunker(tmpl *Message, body io.Reader, total int64, chunkSize int) *Chunker {
	if chunkSize <= 0 {
		chunkSize = 2048
	}
	if total < -1 {
		total = -1
	}
	c := &Chunker{
		tmpl: Message{
			Request:       true,
			Method:        MethodSEND,
			ToPath:        tmpl.ToPath,
			FromPath:      tmpl.FromPath,
			MessageID:     tmpl.MessageID,
			ContentType:   tmpl.ContentType,
			SuccessReport: tmpl.SuccessReport,
			FailureReport: tmpl.FailureReport,
			Headers:       tmpl.Headers,
		},
		src:   bufio.NewReaderSize(body, min(chunkSize, 64<<10)),
		total: total,
		size:  chunkSize,
	}
	if c.tmpl.MessageID == "" {
		c.tmpl.MessageID = NewMessageID()
	}
	return c
}

// StartAt makes the chunks start at octet off+1 of the message, for a
// transfer resumed where the receiver stopped: body must then be
// positioned at that octet, and the total stays the whole message's.
// Call it before the first Next.
func (c *Chunker) StartAt(off int64) {
	if off > 0 && (c.total < 0 || off < c.total) {
		c.off = off
	}
}

// MessageID returns the Message-ID of the chunks.
func (c *Chunker) MessageID() string { return c.tmpl.MessageID }

// Sent returns how many body octets the chunks returned so far carry.
func (c *Chunker) Sent() int64 { return c.off }

// Next returns the next chunk, or io.EOF after the last one. A body
// shorter than the declared total is an error; octets beyond the total
// are not read. After an error Next keeps returning it.
func (c *Chunker) Next() (*Message, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.done {
		return nil, io.EOF
	}
	m, err := c.next()
	if err != nil {
		c.err = err
		return nil, err
	}
	return m, nil
}

func (c *Chunker) next() (*Message, error) {
	n := int64(c.size)
	if c.total >= 0 {
		n = min(n, c.total-c.off)
	}
	var buf []byte
	if c.reuse && int64(cap(c.buf)) >= n {
		buf = c.buf[:n]
	} else {
		buf = make([]byte, n)
		if c.reuse {
			c.buf = buf
		}
	}
	got, err := io.ReadFull(c.src, buf)
	buf = buf[:got]
	last := false
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if c.total >= 0 {
			return nil, fmt.Errorf("msrp: body of message %s ended after %d of %d octets", c.tmpl.MessageID, c.off+int64(got), c.total)
		}
		last = true
	default:
		return nil, fmt.Errorf("msrp: reading body of message %s: %w", c.tmpl.MessageID, err)
	}
	if c.total >= 0 {
		last = c.off+int64(got) == c.total
	} else if !last {
		if _, err := c.src.Peek(1); errors.Is(err, io.EOF) {
			last = true
		} else if err != nil {
			return nil, fmt.Errorf("msrp: reading body of message %s: %w", c.tmpl.MessageID, err)
		}
	}
	m := c.tmpl
	m.ToPath = slices.Clone(c.tmpl.ToPath)
	m.FromPath = slices.Clone(c.tmpl.FromPath)
	m.Headers = slices.Clone(c.tmpl.Headers)
	m.Body = buf
	m.ByteRange = ByteRange{Start: c.off + 1, End: c.off + int64(got), Total: c.total}
	m.Flag = FlagMore
	if last {
		m.Flag = FlagComplete
		m.ByteRange.Total = m.ByteRange.End
		c.done = true
	}
	for range 16 {
		m.TransactionID = NewTransactionID()
		if !ContainsEndLine(buf, m.TransactionID) {
			break
		}
	}
	if ContainsEndLine(buf, m.TransactionID) {
		return nil, fmt.Errorf("msrp: message %s: %w 16 times", c.tmpl.MessageID, ErrEndLineInBody)
	}
	c.off += int64(got)
	return &m, nil
}

// Defaults of ReassemblerOptions.
const (
	DefaultMaxMessageBytes = 16 << 20
	DefaultMaxTotalBytes   = 64 << 20
	DefaultMaxMessages     = 64
	// maxRanges bounds the disjoint byte ranges of one message, which a
	// peer could otherwise inflate with tiny chunks at scattered offsets.
	maxRanges = 1 << 14
)

// ReassemblerOptions are the limits of a Reassembler and where it puts
// the bytes. Zero values take the defaults.
type ReassemblerOptions struct {
	// MaxMessageBytes bounds one message held in memory (default
	// 16 MiB).
	MaxMessageBytes int64
	// MaxTotalBytes bounds all messages held in memory together
	// (default 64 MiB).
	MaxTotalBytes int64
	// MaxMessages bounds the messages in progress (default 64).
	MaxMessages int
	// Storage, when set, is called on the first chunk of each message;
	// if it returns a non-nil io.WriterAt, the message's octets are
	// written there at their offsets (a file, for a file transfer)
	// instead of memory, and the memory limits do not apply to it. An
	// error rejects the chunk.
	Storage func(first *Message) (io.WriterAt, error)
	// MaxStoredBytes bounds a message written to Storage; 0 means no
	// limit. Storage is not called for a message whose Byte-Range
	// declares a larger total: it is held in memory, within
	// MaxMessageBytes. Octets of a stored message beyond it are refused
	// with 413.
	MaxStoredBytes int64
}

// AssemblyState tells where a message stands after a chunk.
type AssemblyState int

// States of an Assembly.
const (
	// AssemblyPartial: more chunks are expected.
	AssemblyPartial AssemblyState = iota
	// AssemblyComplete: the '$' chunk arrived and every octet before its
	// end is there.
	AssemblyComplete
	// AssemblyAborted: a chunk ended with '#'; no more will come.
	AssemblyAborted
)

// String returns "partial", "complete" or "aborted".
func (s AssemblyState) String() string {
	switch s {
	case AssemblyPartial:
		return "partial"
	case AssemblyComplete:
		return "complete"
	case AssemblyAborted:
		return "aborted"
	}
	return fmt.Sprintf("AssemblyState(%d)", int(s))
}

// Assembly is where a message stands after one of its chunks.
type Assembly struct {
	// MessageID of the message.
	MessageID string
	// State after this chunk. A complete or aborted message is
	// forgotten by the Reassembler.
	State AssemblyState
	// First is the first chunk received of the message, without body:
	// its Content-Type, paths and report requests.
	First *Message
	// Body of a complete message held in memory; for an aborted one, the
	// octets received from the start up to the first gap. Nil with a
	// Storage.
	Body []byte
	// Storage is the io.WriterAt the message was written to, if any.
	Storage io.WriterAt
	// Size of a complete message. It can differ from Total when the
	// sender's Byte-Range disagrees with what it sent (RFC 4975 Figure 2
	// says 25 octets and sends 23): octets are counted, not trusted.
	Size int64
	// Received is the number of distinct octets received.
	Received int64
	// Total is the total the Byte-Range declared, -1 when unknown.
	Total int64
}

// Reassembler puts the chunks of messages back together, by Message-ID,
// whatever their order and however they interleave; repeated octets are
// tolerated. It is not safe for concurrent use. One Reassembler serves
// one MSRP session (Message-IDs are unique within a session).
type Reassembler struct {
	opts     ReassemblerOptions
	msgs     map[string]*assembly
	buffered int64
	streamed map[*Message]int64
}

type span struct{ start, end int64 } // [start, end) offsets

type assembly struct {
	first   *Message
	mem     []byte
	store   io.WriterAt
	spans   []span
	total   int64
	sawLast bool
	lastEnd int64
}

// NewReassembler returns an empty Reassembler.
func NewReassembler(opts ReassemblerOptions) *Reassembler {
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.MaxTotalBytes <= 0 {
		opts.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	return &Reassembler{opts: opts, msgs: make(map[string]*assembly), streamed: make(map[*Message]int64)}
}

// Pending returns the number of messages in progress.
func (r *Reassembler) Pending() int { return len(r.msgs) }

// Buffered returns the octets held in memory for messages in progress.
func (r *Reassembler) Buffered() int64 { return r.buffered }

// Discard forgets a message in progress (on a timeout, or when the
// session gives up on it).
func (r *Reassembler) Discard(messageID string) {
	if a, ok := r.msgs[messageID]; ok {
		r.buffered -= int64(len(a.mem))
		delete(r.msgs, messageID)
	}
	for m := range r.streamed {
		if m.MessageID == messageID {
			delete(r.streamed, m)
		}
	}
}

// BodyWriter is a ReaderOptions.BodyWriter: for a SEND with a Message-ID
// it returns a writer that puts the body octets in place as the Reader
// reads them, so that a large chunk is never held whole; Add(m) must then
// be called with the message the Reader returns. For anything else it
// returns nil and the Reader buffers the body as usual. When Read fails
// for a message whose body was being streamed, call Discard for it.
func (r *Reassembler) BodyWriter(m *Message) io.Writer {
	if !m.Request || m.Method != MethodSEND || m.MessageID == "" {
		return nil
	}
	r.streamed[m] = 0
	return &chunkWriter{r: r, m: m, off: m.Range().Start - 1}
}

type chunkWriter struct {
	r   *Reassembler
	m   *Message
	off int64
}

// Write places p at the next offset of the chunk.
func (w *chunkWriter) Write(p []byte) (int, error) {
	a, err := w.r.entry(w.m)
	if err == nil {
		err = w.r.place(a, w.m, w.off, p)
	}
	if err != nil {
		return 0, err
	}
	w.off += int64(len(p))
	w.r.streamed[w.m] += int64(len(p))
	return len(p), nil
}

// Add takes one chunk (a SEND request) and returns where its message
// stands. Errors are *ProtocolError with the code to answer the chunk
// with (400 for a chunk without Message-ID or beyond its total, 413 when
// a limit is reached) except those of the Storage, returned as they are.
// After an error the message stays in progress; Discard drops it.
func (r *Reassembler) Add(m *Message) (*Assembly, error) {
	if m.MessageID == "" {
		return nil, &ProtocolError{Code: StatusBadRequest, TransactionID: m.TransactionID, Message: m,
			Err: errors.New("chunk without Message-ID")}
	}
	a, err := r.entry(m)
	if err != nil {
		return nil, err
	}
	start := m.Range().Start - 1
	n, streamed := r.streamed[m]
	delete(r.streamed, m)
	if !streamed {
		n = int64(len(m.Body))
		if err := r.place(a, m, start, m.Body); err != nil {
			return nil, err
		}
	}
	res := &Assembly{MessageID: m.MessageID, First: a.first, Total: a.total, Storage: a.store}
	for _, s := range a.spans {
		res.Received += s.end - s.start
	}
	prefix := int64(0)
	if len(a.spans) > 0 && a.spans[0].start == 0 {
		prefix = a.spans[0].end
	}
	switch m.Flag {
	case FlagAbort:
		res.State = AssemblyAborted
		if a.store == nil {
			res.Body = a.mem[:prefix]
		}
		r.forget(m.MessageID, a)
		return res, nil
	case FlagMore:
	default: // '$', or 0 from a hand-made message
		a.sawLast = true
		a.lastEnd = max(a.lastEnd, start+n)
	}
	contiguous := len(a.spans) == 0 || len(a.spans) == 1 && a.spans[0].start == 0
	if a.sawLast && contiguous && prefix >= a.lastEnd {
		res.State = AssemblyComplete
		res.Size = prefix
		if a.store == nil {
			res.Body = a.mem[:prefix]
		}
		r.forget(m.MessageID, a)
	}
	return res, nil
}

func (r *Reassembler) forget(id string, a *assembly) {
	r.buffered -= int64(len(a.mem))
	delete(r.msgs, id)
}

// entry returns the assembly of m's message, creating it on its first
// chunk.
func (r *Reassembler) entry(m *Message) (*assembly, error) {
	total := m.Range().Total
	if a, ok := r.msgs[m.MessageID]; ok {
		if total >= 0 && a.total >= 0 && total != a.total {
			return nil, &ProtocolError{Code: StatusBadRequest, TransactionID: m.TransactionID, Message: m,
				Err: fmt.Errorf("message %s: Byte-Range total %d, earlier chunks said %d", m.MessageID, total, a.total)}
		}
		if a.total < 0 {
			a.total = total
		}
		return a, nil
	}
	if len(r.msgs) >= r.opts.MaxMessages {
		return nil, r.limit(m, "MaxMessages", int64(r.opts.MaxMessages))
	}
	first := *m
	first.Body = nil
	a := &assembly{first: &first, total: total}
	if r.opts.Storage != nil && (r.opts.MaxStoredBytes <= 0 || total <= r.opts.MaxStoredBytes) {
		store, err := r.opts.Storage(&first)
		if err != nil {
			return nil, fmt.Errorf("msrp: storage for message %s: %w", m.MessageID, err)
		}
		a.store = store
		if p, ok := store.(ResumedStorage); ok {
			if n := p.StoredPrefix(); n > 0 && (total < 0 || n < total) {
				a.spans = []span{{0, n}}
			}
		}
	}
	if a.store == nil && total > r.opts.MaxMessageBytes {
		return nil, r.limit(m, "MaxMessageBytes", r.opts.MaxMessageBytes)
	}
	r.msgs[m.MessageID] = a
	return a, nil
}

// storage returns the io.WriterAt of a message in progress, or nil.
func (r *Reassembler) storage(messageID string) io.WriterAt {
	if a, ok := r.msgs[messageID]; ok {
		return a.store
	}
	return nil
}

// unstream forgets that m's body was being streamed, for a message that
// will not be given to Add.
func (r *Reassembler) unstream(m *Message) { delete(r.streamed, m) }

// streaming reports whether m's body went to a BodyWriter writer.
func (r *Reassembler) streaming(m *Message) bool {
	_, ok := r.streamed[m]
	return ok
}

func (r *Reassembler) limit(m *Message, name string, n int64) error {
	return &ProtocolError{Code: StatusStopSending, TransactionID: m.TransactionID, Message: m,
		Err: &LimitError{Limit: name, Max: n}}
}

// place writes p at offset off of the message and records the range.
func (r *Reassembler) place(a *assembly, m *Message, off int64, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	end := off + int64(len(p))
	if a.total >= 0 && end > a.total {
		return &ProtocolError{Code: StatusBadRequest, TransactionID: m.TransactionID, Message: m,
			Err: fmt.Errorf("message %s: octets %d-%d beyond the total %d", m.MessageID, off+1, end, a.total)}
	}
	if len(a.spans) >= maxRanges {
		return &ProtocolError{Code: StatusStopSending, TransactionID: m.TransactionID, Message: m,
			Err: fmt.Errorf("message %s arrives in more than %d pieces", m.MessageID, maxRanges)}
	}
	if a.store != nil {
		if r.opts.MaxStoredBytes > 0 && end > r.opts.MaxStoredBytes {
			return r.limit(m, "MaxStoredBytes", r.opts.MaxStoredBytes)
		}
		if _, err := a.store.WriteAt(p, off); err != nil {
			return fmt.Errorf("msrp: storing message %s: %w", m.MessageID, err)
		}
	} else {
		if end > r.opts.MaxMessageBytes {
			return r.limit(m, "MaxMessageBytes", r.opts.MaxMessageBytes)
		}
		if grow := end - int64(len(a.mem)); grow > 0 {
			if r.buffered+grow > r.opts.MaxTotalBytes {
				return r.limit(m, "MaxTotalBytes", r.opts.MaxTotalBytes)
			}
			r.buffered += grow
			a.mem = append(a.mem, make([]byte, grow)...)
		}
		copy(a.mem[off:], p)
	}
	a.spans = addSpan(a.spans, off, end)
	return nil
}

// addSpan adds [s, e) to the sorted disjoint spans, merging what touches.
func addSpan(spans []span, s, e int64) []span {
	i, _ := slices.BinarySearchFunc(spans, s, func(x span, s int64) int {
		if x.end < s {
			return -1
		}
		return 1
	})
	j := i
	for j < len(spans) && spans[j].start <= e {
		s, e = min(s, spans[j].start), max(e, spans[j].end)
		j++
	}
	return slices.Replace(spans, i, j, span{s, e})
}
