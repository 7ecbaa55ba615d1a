package msrp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

func chunkAll(t *testing.T, c *Chunker) []*Message {
	t.Helper()
	var out []*Message
	for {
		m, err := c.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

func TestChunker(t *testing.T) {
	tmpl := &Message{ToPath: []URI{bob}, FromPath: []URI{alice}, ContentType: "text/plain", SuccessReport: "yes",
		Headers: []Header{{"Content-Disposition", "render"}}}
	for _, c := range []struct {
		body  string
		total int64
		size  int
		want  []string // Byte-Range and flag of each chunk
	}{
		{"abcdEFGH", 8, 4, []string{"1-4/8+", "5-8/8$"}},
		{"abcdEFGH", -1, 4, []string{"1-4/*+", "5-8/8$"}},
		{"abcdEFGHi", -1, 4, []string{"1-4/*+", "5-8/*+", "9-9/9$"}},
		{"abcdEFGHi", 9, 4, []string{"1-4/9+", "5-8/9+", "9-9/9$"}},
		{"abc", 3, 100, []string{"1-3/3$"}},
		{"abc", -1, 100, []string{"1-3/3$"}},
		{"", 0, 4, []string{"1-0/0$"}},
		{"", -1, 4, []string{"1-0/0$"}},
		{"abcdEFGHextra", 8, 4, []string{"1-4/8+", "5-8/8$"}}, // octets past the total are not read
	} {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(c.body)
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			ch := NewChunker(tmpl, src, c.total, c.size)
			msgs := chunkAll(t, ch)
			var got []string
			var body []byte
			tids := map[string]bool{}
			for _, m := range msgs {
				got = append(got, m.ByteRange.String()+string(m.Flag))
				body = append(body, m.Body...)
				if m.MessageID != ch.MessageID() || m.Method != "SEND" || !m.Request || m.ContentType != "text/plain" ||
					m.SuccessReport != "yes" || len(m.Headers) != 1 || !m.ToPath[0].Equal(bob) || tids[m.TransactionID] {
					t.Errorf("chunk %+v", m)
				}
				tids[m.TransactionID] = true
				if _, err := m.Marshal(); err != nil {
					t.Errorf("Marshal chunk: %v", err)
				}
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%q total %d size %d: chunks %v, want %v", c.body, c.total, c.size, got, c.want)
			}
			wantBody := c.body
			if c.total >= 0 {
				wantBody = c.body[:c.total]
			}
			if string(body) != wantBody {
				t.Errorf("chunks carry %q, want %q", body, wantBody)
			}
			if ch.Sent() != int64(len(body)) {
				t.Errorf("Sent %d", ch.Sent())
			}
			if _, err := ch.Next(); err != io.EOF {
				t.Errorf("after the last chunk: %v", err)
			}
		}
	}
	// Short body.
	ch := NewChunker(tmpl, strings.NewReader("abc"), 8, 2)
	if _, err := ch.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Next(); err == nil || err == io.EOF {
		t.Fatalf("short body: %v", err)
	}
	if _, err := ch.Next(); err == nil || err == io.EOF {
		t.Fatal("error not sticky")
	}
}

// TestChunkerAvoidsEndLine: a body full of end-line look-alikes still
// gets transaction-ids it does not contain.
func TestChunkerAvoidsEndLine(t *testing.T) {
	body := strings.Repeat("\r\n-------abcd$\r\n", 1000)
	for _, m := range chunkAll(t, NewChunker(&Message{ToPath: []URI{bob}, FromPath: []URI{alice}, ContentType: "a/b"},
		strings.NewReader(body), int64(len(body)), 1000)) {
		if ContainsEndLine(m.Body, m.TransactionID) {
			t.Fatalf("tid %s in its body", m.TransactionID)
		}
	}
}

// TestChunkerToReader: chunks of several messages, interleaved on one
// stream, read back and reassembled.
func TestChunkerToReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := map[string][]byte{}
	var chunkers []*Chunker
	for i := 0; i < 5; i++ {
		b := make([]byte, 1000+rng.IntN(50000))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		total := int64(len(b))
		if i%2 == 1 {
			total = -1
		}
		c := NewChunker(&Message{ToPath: []URI{bob}, FromPath: []URI{alice}, ContentType: "application/octet-stream"},
			bytes.NewReader(b), total, 1+rng.IntN(4096))
		bodies[c.MessageID()] = b
		chunkers = append(chunkers, c)
	}
	var stream bytes.Buffer
	for len(chunkers) > 0 {
		i := rng.IntN(len(chunkers))
		m, err := chunkers[i].Next()
		if err == io.EOF {
			chunkers = append(chunkers[:i], chunkers[i+1:]...)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		stream.Write(b)
	}
	r := NewReader(iotest.HalfReader(&stream), ReaderOptions{})
	ra := NewReassembler(ReassemblerOptions{})
	done := 0
	for {
		m, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		a, err := ra.Add(m)
		if err != nil {
			t.Fatal(err)
		}
		if a.State == AssemblyComplete {
			done++
			if !bytes.Equal(a.Body, bodies[a.MessageID]) {
				t.Errorf("message %s reassembled wrong", a.MessageID)
			}
		}
	}
	if done != 5 || ra.Pending() != 0 || ra.Buffered() != 0 {
		t.Errorf("completed %d of 5; pending %d buffered %d", done, ra.Pending(), ra.Buffered())
	}
}

func send(id, tid string, start int64, body string, total int64, flag byte) *Message {
	end := start + int64(len(body)) - 1
	return &Message{Request: true, Method: "SEND", TransactionID: tid, ToPath: []URI{bob}, FromPath: []URI{alice},
		MessageID: id, ContentType: "text/plain", ByteRange: ByteRange{start, end, total}, Body: []byte(body), Flag: flag}
}

func TestReassembler(t *testing.T) {
	ra := NewReassembler(ReassemblerOptions{})
	steps := []struct {
		m     *Message
		state AssemblyState
		body  string
	}{
		{send("A", "t1", 5, "EFGH", 12, '+'), AssemblyPartial, ""},
		{send("B", "t2", 1, "xy", -1, '+'), AssemblyPartial, ""},
		{send("A", "t3", 9, "IJKL", 12, '$'), AssemblyPartial, ""},  // last chunk before the first
		{send("A", "t4", 5, "EFGH", 12, '+'), AssemblyPartial, ""},  // duplicate
		{send("B", "t5", 3, "z", -1, '$'), AssemblyComplete, "xyz"}, // '*' total: '$' and no gap
		{send("A", "t6", 1, "abcdE", 12, '+'), AssemblyComplete, "abcdEFGHIJKL"},
		{send("C", "t7", 1, "ab", 10, '+'), AssemblyPartial, ""},
		{send("C", "t8", 3, "cd", 10, '#'), AssemblyAborted, "abcd"},
		{send("D", "t9", 1, "", 0, '$'), AssemblyComplete, ""}, // empty message
		{send("E", "t10", 4, "de", -1, '+'), AssemblyPartial, ""},
		{send("E", "t11", 1, "ab", -1, '#'), AssemblyAborted, "ab"}, // up to the first gap
	}
	for i, s := range steps {
		a, err := ra.Add(s.m)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if a.State != s.state || string(a.Body) != s.body || a.MessageID != s.m.MessageID {
			t.Fatalf("step %d (%s %s): %v %q, want %v %q", i, s.m.MessageID, s.m.ByteRange, a.State, a.Body, s.state, s.body)
		}
		if a.First == nil || a.First.ContentType != "text/plain" || a.First.Body != nil {
			t.Errorf("step %d: First %+v", i, a.First)
		}
	}
	if ra.Pending() != 0 || ra.Buffered() != 0 {
		t.Errorf("pending %d buffered %d", ra.Pending(), ra.Buffered())
	}
}

func TestReassemblerErrors(t *testing.T) {
	check := func(name string, err error, code int, limit string) {
		t.Helper()
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: %v, want a %d", name, err, code)
			return
		}
		var le *LimitError
		if limit != "" && (!errors.As(err, &le) || le.Limit != limit) {
			t.Errorf("%s: %v, want limit %s", name, err, limit)
		}
	}
	ra := NewReassembler(ReassemblerOptions{MaxMessageBytes: 10, MaxTotalBytes: 15, MaxMessages: 2})
	_, err := ra.Add(&Message{Request: true, Method: "SEND", TransactionID: "x", Body: []byte("a")})
	check("no Message-ID", err, 400, "")
	_, err = ra.Add(send("A", "t", 1, "abc", 100, '+'))
	check("declared total over MaxMessageBytes", err, 413, "MaxMessageBytes")
	_, err = ra.Add(send("A", "t", 9, "abc", -1, '+'))
	check("octets past MaxMessageBytes", err, 413, "MaxMessageBytes")
	if _, err := ra.Add(send("A", "t", 1, "abcdefgh", -1, '+')); err != nil {
		t.Fatal(err)
	}
	_, err = ra.Add(send("B", "t", 1, "abcdefgh", -1, '+'))
	check("MaxTotalBytes", err, 413, "MaxTotalBytes")
	if _, err := ra.Add(send("B", "t", 1, "abc", 5, '+')); err != nil {
		t.Fatal(err)
	}
	_, err = ra.Add(send("C", "t", 1, "abc", -1, '+'))
	check("MaxMessages", err, 413, "MaxMessages")
	_, err = ra.Add(send("B", "t", 4, "def", 5, '+'))
	check("beyond total", err, 400, "")
	_, err = ra.Add(send("B", "t", 4, "d", 6, '+'))
	check("changed total", err, 400, "")
	if ra.Buffered() != 11 || ra.Pending() != 2 {
		t.Errorf("buffered %d pending %d", ra.Buffered(), ra.Pending())
	}
	ra.Discard("A")
	ra.Discard("B")
	ra.Discard("nothing")
	if ra.Buffered() != 0 || ra.Pending() != 0 {
		t.Errorf("after Discard: buffered %d pending %d", ra.Buffered(), ra.Pending())
	}
}

// memWriterAt is an io.WriterAt in memory.
type memWriterAt struct {
	mu  sync.Mutex
	buf []byte
}

func (w *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if end := int(off) + len(p); end > len(w.buf) {
		w.buf = append(w.buf, make([]byte, end-len(w.buf))...)
	}
	return copy(w.buf[off:], p), nil
}

// TestStreamToFile: a file transfer whose chunks (far over MaxBody and
// MaxMessageBytes) go from the Reader straight into a file through
// Reassembler.BodyWriter and Storage.
func TestStreamToFile(t *testing.T) {
	file := make([]byte, 3<<20)
	for i := range file {
		file[i] = byte(i * 7)
	}
	copy(file[1000:], "\r\n-------x$\r\n")
	var stream bytes.Buffer
	// Chunks of 1 MiB, sent out of order, plus a small text message.
	chunks := chunkAll(t, NewChunker(&Message{MessageID: "file", ToPath: []URI{bob}, FromPath: []URI{alice}, ContentType: "image/jpeg"},
		bytes.NewReader(file), int64(len(file)), 1<<20))
	chunks[0], chunks[2] = chunks[2], chunks[0]
	for i, m := range chunks {
		b, _ := m.Marshal()
		stream.Write(b)
		if i == 0 {
			b, _ = send("text", "tt", 1, "hello", 5, '$').Marshal()
			stream.Write(b)
		}
	}
	path := filepath.Join(t.TempDir(), "received")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ra := NewReassembler(ReassemblerOptions{MaxMessageBytes: 1 << 10, Storage: func(first *Message) (io.WriterAt, error) {
		if first.ContentType == "image/jpeg" {
			return f, nil
		}
		return nil, nil
	}})
	r := NewReader(&stream, ReaderOptions{MaxBody: 4 << 10, BodyWriter: ra.BodyWriter})
	var got []string
	for {
		m, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.MessageID == "file" && m.Body != nil {
			t.Fatal("file chunk buffered")
		}
		a, err := ra.Add(m)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a.MessageID+":"+a.State.String())
		if a.State == AssemblyComplete && a.MessageID == "file" {
			if a.Storage != f || a.Body != nil || a.Size != int64(len(file)) || a.Received != a.Size {
				t.Errorf("%+v", a)
			}
		}
		if a.MessageID == "text" && string(a.Body) != "hello" {
			t.Errorf("text %q", a.Body)
		}
	}
	if want := "file:partial text:complete file:partial file:complete"; strings.Join(got, " ") != want {
		t.Errorf("states %v, want %s", got, want)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, file) {
		t.Errorf("file on disk differs (%d octets, %v)", len(b), err)
	}
	if ra.Buffered() != 0 || ra.Pending() != 0 || len(ra.streamed) != 0 {
		t.Errorf("left over: buffered %d pending %d streamed %d", ra.Buffered(), ra.Pending(), len(ra.streamed))
	}
}

// TestStreamLimit: a streamed chunk over the Reassembler's memory limit
// stops with a 413 while the chunk is still arriving.
func TestStreamLimit(t *testing.T) {
	ra := NewReassembler(ReassemblerOptions{MaxMessageBytes: 1000})
	var in bytes.Buffer
	b, _ := send("big", "t1", 1, strings.Repeat("x", 5000), -1, '+').Marshal()
	in.Write(b)
	b, _ = send("small", "t2", 1, "ok", 2, '$').Marshal()
	in.Write(b)
	r := NewReader(&in, ReaderOptions{BodyWriter: ra.BodyWriter})
	_, err := r.Read()
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Code != 413 || pe.TransactionID != "t1" || pe.Fatal {
		t.Fatalf("Read = %v, want a 413 for t1", err)
	}
	ra.Discard("big")
	m, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if a, err := ra.Add(m); err != nil || string(a.Body) != "ok" {
		t.Fatalf("%+v, %v", a, err)
	}
	if ra.Buffered() != 0 || len(ra.streamed) != 0 {
		t.Errorf("buffered %d streamed %d", ra.Buffered(), len(ra.streamed))
	}
}

func TestAddSpan(t *testing.T) {
	var s []span
	for _, r := range [][2]int64{{10, 20}, {30, 40}, {0, 5}, {20, 30}, {5, 6}, {50, 60}, {45, 55}, {0, 100}} {
		s = addSpan(s, r[0], r[1])
		for i := 1; i < len(s); i++ {
			if s[i-1].end >= s[i].start {
				t.Fatalf("spans overlap or touch: %v", s)
			}
		}
	}
	if len(s) != 1 || s[0] != (span{0, 100}) {
		t.Fatalf("%v", s)
	}
	s = addSpan(nil, 5, 10)
	s = addSpan(s, 1, 2)
	s = addSpan(s, 11, 12)
	if len(s) != 3 {
		t.Fatalf("%v", s)
	}
	s = addSpan(s, 2, 11)
	if len(s) != 1 || s[0] != (span{1, 12}) {
		t.Fatalf("%v", s)
	}
}
