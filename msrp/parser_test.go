package msrp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// equalMessages compares messages, nil and empty slices alike.
func equalMessages(a, b *Message) bool {
	norm := func(m *Message) Message {
		c := *m
		if len(c.Body) == 0 {
			c.Body = nil
		}
		if len(c.Headers) == 0 {
			c.Headers = nil
		}
		if len(c.ToPath) == 0 {
			c.ToPath = nil
		}
		if len(c.FromPath) == 0 {
			c.FromPath = nil
		}
		if c.Flag == 0 {
			c.Flag = FlagComplete
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

var (
	alice = URI{Host: "alice.example.com", Port: 7654, SessionID: "jshA7weztas", Transport: "tcp"}
	bob   = URI{Host: "bob.example.com", Port: 12763, SessionID: "kjhd37s2s20w2a", Transport: "tcp"}
	relay = URI{Secure: true, User: "alice", Host: "2001:db8::1", Port: 9000, SessionID: "r/x", Transport: "tcp",
		Params: []URIParam{{Name: "ext"}, {Name: "k", Value: "v"}}}
)

func sampleMessages() []*Message {
	return []*Message{
		{Request: true, Method: "SEND", TransactionID: "a786hjs2", ToPath: []URI{bob}, FromPath: []URI{alice},
			MessageID: "87652491", ByteRange: ByteRange{1, 23, 23}, ContentType: "text/plain",
			Body: []byte("Hey Bob, are you there?"), Flag: '$'},
		{TransactionID: "a786hjs2", StatusCode: 200, Comment: "OK", ToPath: []URI{alice}, FromPath: []URI{bob}, Flag: '$'},
		{TransactionID: "x1", StatusCode: 413, ToPath: []URI{alice}, FromPath: []URI{bob}, Flag: '$'},
		{Request: true, Method: "REPORT", TransactionID: "r3p0rt", ToPath: []URI{relay, alice}, FromPath: []URI{bob},
			MessageID: "m1", ByteRange: ByteRange{1, -1, -1}, Status: &Status{Code: 200, Comment: "OK"}, Flag: '$'},
		{Request: true, Method: "SEND", TransactionID: "chunk1", ToPath: []URI{bob}, FromPath: []URI{alice},
			MessageID: "m2", ByteRange: ByteRange{1, -1, 8}, ContentType: "text/plain", Body: []byte("abcd"), Flag: '+',
			SuccessReport: "yes", FailureReport: "partial",
			Headers: []Header{{"Content-Disposition", "inline"}, {"X-Ext", ""}}},
		{Request: true, Method: "SEND", TransactionID: "aborted", ToPath: []URI{bob}, FromPath: []URI{alice},
			MessageID: "m3", ContentType: "application/octet-stream", Body: []byte{0, '\r', '\n', '\r', 0xff, '\n'}, Flag: '#'},
		{Request: true, Method: "SEND", TransactionID: "empty", ToPath: []URI{bob}, FromPath: []URI{alice},
			MessageID: "m4", ByteRange: ByteRange{1, 0, 0}, ContentType: "text/plain", Flag: '$'},
		{Request: true, Method: "AUTH", TransactionID: "49fi", ToPath: []URI{relay}, FromPath: []URI{alice},
			Headers: []Header{{"Authorization", `Digest username="Alice", qop=auth`}}, Flag: '$'},
		{Request: true, Method: "NICKNAME", TransactionID: "nn", ToPath: []URI{relay}, FromPath: []URI{alice}, Flag: '$'},
		{Request: true, Method: "SEND", TransactionID: "fake", ToPath: []URI{bob}, FromPath: []URI{alice}, MessageID: "m5",
			ContentType: "text/plain", Flag: '$',
			Body: []byte("-------other$\r\n\r\n-------fak$\r\n-------fak+X\r\n-------\r\n--------\r\nline\r\n")},
		{Request: true, Method: "SEND", TransactionID: "crlf", ToPath: []URI{bob}, FromPath: []URI{alice}, MessageID: "m6",
			ContentType: "text/plain", Body: []byte("\r\n\r\n"), Flag: '$'},
	}
}

// TestRoundTrip marshals messages, reads them back (one stream, whole and
// one byte at a time) and compares.
func TestRoundTrip(t *testing.T) {
	msgs := sampleMessages()
	var stream []byte
	for _, m := range msgs {
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal %s: %v", m.TransactionID, err)
		}
		stream = append(stream, b...)
	}
	for name, src := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(stream) },
		"one-byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(src(), ReaderOptions{})
			for _, want := range msgs {
				got, err := r.Read()
				if err != nil {
					t.Fatalf("Read %s: %v", want.TransactionID, err)
				}
				if !equalMessages(got, want) {
					t.Errorf("read\n%+v\nwant\n%+v", got, want)
				}
			}
			if _, err := r.Read(); err != io.EOF {
				t.Fatalf("at the end: %v, want io.EOF", err)
			}
			if _, err := r.Read(); err != io.EOF {
				t.Fatalf("after io.EOF: %v", err)
			}
		})
	}
}

func TestMarshalWireForm(t *testing.T) {
	m := &Message{Request: true, Method: "SEND", TransactionID: "tid1", ToPath: []URI{bob}, FromPath: []URI{alice},
		MessageID: "mid", SuccessReport: "yes", FailureReport: "no", ByteRange: ByteRange{1, 2, 2},
		Status: &Status{Namespace: 0, Code: 200}, Headers: []Header{{"Content-ID", "<x@y>"}},
		ContentType: "text/plain", Body: []byte("hi")}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "MSRP tid1 SEND\r\n" +
		"To-Path: msrp://bob.example.com:12763/kjhd37s2s20w2a;tcp\r\n" +
		"From-Path: msrp://alice.example.com:7654/jshA7weztas;tcp\r\n" +
		"Message-ID: mid\r\nSuccess-Report: yes\r\nFailure-Report: no\r\nByte-Range: 1-2/2\r\n" +
		"Status: 000 200\r\nContent-ID: <x@y>\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------tid1$\r\n"
	if string(got) != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// AppendTo appends, and leaves b alone on error.
	b, err := m.AppendTo([]byte("x"))
	if err != nil || string(b) != "x"+want {
		t.Errorf("AppendTo: %q, %v", b, err)
	}
	m.TransactionID = "bad tid"
	if b, err := m.AppendTo([]byte("x")); err == nil || string(b) != "x" {
		t.Errorf("AppendTo with a bad tid: %q, %v", b, err)
	}
}

func TestMarshalRefuses(t *testing.T) {
	base := func() *Message {
		return &Message{Request: true, Method: "SEND", TransactionID: "abcd", ToPath: []URI{bob}, FromPath: []URI{alice},
			ContentType: "text/plain", Body: []byte("x"), Flag: '$'}
	}
	for name, mod := range map[string]func(m *Message){
		"tid with space":       func(m *Message) { m.TransactionID = "a b" },
		"empty tid":            func(m *Message) { m.TransactionID = "" },
		"lower-case method":    func(m *Message) { m.Method = "send" },
		"bad flag":             func(m *Message) { m.Flag = '!' },
		"no To-Path":           func(m *Message) { m.ToPath = nil },
		"bad URI":              func(m *Message) { m.ToPath = []URI{{Host: "h/x", Transport: "tcp"}} },
		"CRLF in header":       func(m *Message) { m.AddHeader("X", "a\r\nTo-Path: evil") },
		"known header":         func(m *Message) { m.AddHeader("content-type", "x/y") },
		"bad header name":      func(m *Message) { m.AddHeader("X Y", "z") },
		"body without type":    func(m *Message) { m.ContentType = "" },
		"bad Byte-Range":       func(m *Message) { m.ByteRange = ByteRange{5, 2, 10} },
		"bad Status":           func(m *Message) { m.Status = &Status{Code: 1000} },
		"bad Message-ID":       func(m *Message) { m.MessageID = "a b" },
		"response code":        func(m *Message) { m.Request = false; m.StatusCode = 2000 },
		"response comment":     func(m *Message) { m.Request = false; m.StatusCode = 200; m.Comment = "O\nK" },
		"CR in Content-Type":   func(m *Message) { m.ContentType = "text/plain\r" },
		"bad Success-Report":   func(m *Message) { m.SuccessReport = "y s" },
		"IPv6 with zone":       func(m *Message) { m.ToPath = []URI{{Host: "fe80::1%eth0", Transport: "tcp"}} },
		"transport with colon": func(m *Message) { m.ToPath = []URI{{Host: "h", Transport: "tc:p"}} },
	} {
		m := base()
		mod(m)
		if b, err := m.Marshal(); err == nil {
			t.Errorf("%s: Marshal accepted it:\n%q", name, b)
		}
	}
}

func TestMarshalEndLineCollision(t *testing.T) {
	for _, body := range []string{
		"-------abcd$",
		"before\r\n-------abcd+\r\nafter",
		"x-------abcd",
		"--------abcdz",
		"\r\n-------abcd",
	} {
		m := &Message{Request: true, Method: "SEND", TransactionID: "abcd", ToPath: []URI{bob}, FromPath: []URI{alice},
			ContentType: "text/plain", Body: []byte(body)}
		if _, err := m.Marshal(); !errors.Is(err, ErrEndLineInBody) {
			t.Errorf("body %q: err %v, want ErrEndLineInBody", body, err)
		}
		m.TransactionID = NewTransactionID()
		if _, err := m.Marshal(); err != nil {
			t.Errorf("body %q with a new tid: %v", body, err)
		}
	}
	for _, body := range []string{"-------abc$", "------abcd$", "-------abce"} {
		if ContainsEndLine([]byte(body), "abcd") {
			t.Errorf("ContainsEndLine(%q, abcd)", body)
		}
	}
}

// TestReadFakeEndLines: lines of other transactions, near misses and our
// end-line without its CRLF are body.
func TestReadFakeEndLines(t *testing.T) {
	body := "-------abce$\r\n" + // another tid
		"-------abc$\r\n" + // a prefix of ours
		"-------abcdX$\r\n" + // ours, longer
		"-------abcd!\r\n" + // ours with no flag
		"x-------abcd$\r\n" + // not at line start
		"\n-------abcd$\r\n" + // after a bare LF
		"-------abcd$x\r\n" + // flag not followed by CRLF
		"tail"
	in := "MSRP abcd SEND\r\nTo-Path: msrp://b;tcp\r\nFrom-Path: msrp://a;tcp\r\nContent-Type: text/plain\r\n\r\n" +
		body + "\r\n-------abcd$\r\n"
	for _, src := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
		m, err := NewReader(src, ReaderOptions{}).Read()
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Body) != body {
			t.Errorf("body\n%q\nwant\n%q", m.Body, body)
		}
	}
}

func TestReadFlagsAndEmptyBodies(t *testing.T) {
	head := "MSRP t1 SEND\r\nTo-Path: msrp://b;tcp\r\nFrom-Path: msrp://a;tcp\r\n"
	for _, c := range []struct {
		in   string
		body string
		flag byte
	}{
		{head + "-------t1$\r\n", "", '$'},
		{head + "-------t1+\r\n", "", '+'},
		{head + "-------t1#\r\n", "", '#'},
		{head + "Content-Type: a/b\r\n\r\n\r\n-------t1$\r\n", "", '$'},
		// Lenient: the end-line right after the empty line.
		{head + "Content-Type: a/b\r\n\r\n-------t1+\r\n", "", '+'},
		{head + "Content-Type: a/b\r\n\r\nx\r\n-------t1#\r\n", "x", '#'},
		{head + "Content-Type: a/b\r\n\r\n\r\n\r\n-------t1$\r\n", "\r\n", '$'},
		// Bare LF header lines are tolerated.
		{"MSRP t1 SEND\nTo-Path: msrp://b;tcp\nFrom-Path: msrp://a;tcp\nContent-Type: a/b\n\nx\r\n-------t1$\r\n", "x", '$'},
		// Leading empty lines between frames are skipped.
		{"\r\n\r\n" + head + "-------t1$\r\n", "", '$'},
	} {
		m, err := NewReader(strings.NewReader(c.in), ReaderOptions{}).Read()
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if string(m.Body) != c.body || m.Flag != c.flag {
			t.Errorf("%q: body %q flag %q, want %q %q", c.in, m.Body, m.Flag, c.body, c.flag)
		}
	}
}

// TestReadErrors: malformed frames give a *ProtocolError with the right
// code, tid and fatality, and the Reader goes on after non-fatal ones.
func TestReadErrors(t *testing.T) {
	next := "MSRP next SEND\r\nTo-Path: msrp://b;tcp\r\nFrom-Path: msrp://a;tcp\r\n-------next$\r\n"
	for _, c := range []struct {
		name  string
		in    string
		code  int
		tid   string
		fatal bool
	}{
		{"not MSRP", "HTTP/1.1 200 OK\r\n\r\n", 400, "", true},
		{"lower-case msrp", "msrp abcd SEND\r\n", 400, "", true},
		{"bad tid", "MSRP ab$d SEND\r\n-------ab$d$\r\n", 400, "", true},
		{"tid too long", "MSRP " + strings.Repeat("a", 65) + " SEND\r\n", 400, "", true},
		{"EOF in headers", "MSRP abcd SEND\r\nTo-Path: msrp://b;tcp\r\n", 400, "abcd", true},
		{"EOF in start line", "MSRP abcd SE", 400, "", true},
		{"EOF in body", "MSRP abcd SEND\r\nContent-Type: a/b\r\n\r\nxyz", 400, "abcd", true},
		{"EOF in end-line", "MSRP abcd SEND\r\nContent-Type: a/b\r\n\r\nxyz\r\n-------abcd", 400, "abcd", true},
		{"bad method", "MSRP abcd send\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"no method", "MSRP abcd\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"bad URI", "MSRP abcd SEND\r\nTo-Path: http://x\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"URI without transport", "MSRP abcd SEND\r\nTo-Path: msrp://x:1/s\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"empty To-Path", "MSRP abcd SEND\r\nTo-Path: \r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"two To-Paths", "MSRP abcd SEND\r\nTo-Path: msrp://b;tcp\r\nto-path: msrp://b;tcp\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"no colon", "MSRP abcd SEND\r\nTo-Path msrp://b;tcp\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"bad Byte-Range", "MSRP abcd SEND\r\nByte-Range: 0-1/1\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"Byte-Range end > total", "MSRP abcd SEND\r\nByte-Range: 1-9/8\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"Byte-Range overflow", "MSRP abcd SEND\r\nByte-Range: 1-99999999999999999999/*\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"bad Status", "MSRP abcd REPORT\r\nStatus: 200 OK\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"bad Message-ID", "MSRP abcd SEND\r\nMessage-ID: a b\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"control character", "MSRP abcd SEND\r\nX: a\x00b\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"bad header with body", "MSRP abcd SEND\r\nBad Name: x\r\nContent-Type: a/b\r\n\r\nbody\r\n-------abcd$\r\n" + next, 400, "abcd", false},
		{"status comment control", "MSRP abcd 200 O\x01K\r\n-------abcd$\r\n" + next, 400, "abcd", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(c.in), ReaderOptions{})
			m, err := r.Read()
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("Read = %v, %v; want a *ProtocolError", m, err)
			}
			if pe.Code != c.code || pe.TransactionID != c.tid || pe.Fatal != c.fatal {
				t.Fatalf("%v: code %d tid %q fatal %v; want %d %q %v", err, pe.Code, pe.TransactionID, pe.Fatal, c.code, c.tid, c.fatal)
			}
			if c.tid != "" && (pe.Message == nil || pe.Message.TransactionID != c.tid) {
				t.Errorf("ProtocolError.Message = %+v", pe.Message)
			}
			m, err2 := r.Read()
			if c.fatal {
				if err2 != err {
					t.Errorf("after a fatal error Read = %v, %v; want the same error", m, err2)
				}
				return
			}
			if err2 != nil || m.TransactionID != "next" {
				t.Errorf("next frame: %+v, %v", m, err2)
			}
		})
	}
}

// TestReadLimits: each limit gives the right error, the Reader skips the
// rest of the frame and reads the next one.
func TestReadLimits(t *testing.T) {
	next := "MSRP next SEND\r\nTo-Path: msrp://b;tcp\r\nFrom-Path: msrp://a;tcp\r\n-------next$\r\n"
	head := "MSRP big SEND\r\nTo-Path: msrp://b;tcp\r\nFrom-Path: msrp://a;tcp\r\n"
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		name  string
		opts  ReaderOptions
		in    string
		code  int
		limit string
		fatal bool
	}{
		{"header bytes in start line", ReaderOptions{MaxHeaderBytes: 100}, "MSRP " + long, 400, "MaxHeaderBytes", true},
		{"header bytes mid-line", ReaderOptions{MaxHeaderBytes: 100},
			head + "X: " + long + "\r\n-------big$\r\n" + next, 400, "MaxHeaderBytes", false},
		{"header bytes at a line end", ReaderOptions{MaxHeaderBytes: 100},
			head + "X: " + strings.Repeat("y", 100-len(head)-5) + "\r\nY: z\r\nContent-Type: a/b\r\n\r\nbody\r\n-------big+\r\n" + next,
			400, "MaxHeaderBytes", false},
		{"header count", ReaderOptions{MaxHeaders: 3},
			head + "A: 1\r\nB: 2\r\nContent-Type: a/b\r\n\r\n" + long + "\r\n-------big$\r\n" + next, 400, "MaxHeaders", false},
		{"body", ReaderOptions{MaxBody: 100},
			head + "Content-Type: a/b\r\n\r\n" + long + "\r\n" + long + "\r\n-------big$\r\n" + next, 413, "MaxBody", false},
		{"body without line ends", ReaderOptions{MaxBody: 1000},
			head + "Content-Type: a/b\r\n\r\n" + strings.Repeat(long, 200) + "\r\n-------big$\r\n" + next, 413, "MaxBody", false},
	} {
		for _, oneByte := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/one-byte=%v", c.name, oneByte), func(t *testing.T) {
				var src io.Reader = strings.NewReader(c.in)
				if oneByte {
					src = iotest.OneByteReader(src)
				}
				r := NewReader(src, c.opts)
				_, err := r.Read()
				var pe *ProtocolError
				var le *LimitError
				if !errors.As(err, &pe) || !errors.As(err, &le) {
					t.Fatalf("Read = %v, want a *ProtocolError with a *LimitError", err)
				}
				if pe.Code != c.code || le.Limit != c.limit || pe.Fatal != c.fatal {
					t.Fatalf("%v: code %d limit %s fatal %v", err, pe.Code, le.Limit, pe.Fatal)
				}
				if c.fatal {
					return
				}
				if pe.TransactionID != "big" || pe.Message == nil || len(pe.Message.FromPath) != 1 {
					t.Errorf("tid %q message %+v: the caller cannot answer", pe.TransactionID, pe.Message)
				}
				m, err := r.Read()
				if err != nil || m.TransactionID != "next" {
					t.Fatalf("next frame: %+v, %v", m, err)
				}
				if _, err := r.Read(); err != io.EOF {
					t.Fatalf("end: %v", err)
				}
			})
		}
	}
}

// countingWriter collects a streamed body.
type countingWriter struct {
	buf    bytes.Buffer
	writes int
	fail   error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.fail != nil {
		return 0, w.fail
	}
	w.writes++
	return w.buf.Write(p)
}

// TestReadBodyWriter: a body far larger than MaxBody streams through the
// hook without being buffered; others are buffered.
func TestReadBodyWriter(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef\r\n-------bi$\r\n-------other+\r\n\r"), 30000) // ~1.3 MB with fake end-lines
	in := new(bytes.Buffer)
	send := &Message{Request: true, Method: "SEND", TransactionID: "big", ToPath: []URI{bob}, FromPath: []URI{alice},
		MessageID: "file", ContentType: "application/octet-stream", Body: big, Flag: '+'}
	small := &Message{Request: true, Method: "SEND", TransactionID: "small", ToPath: []URI{bob}, FromPath: []URI{alice},
		MessageID: "text", ContentType: "text/plain", Body: []byte("hello"), Flag: '$'}
	for _, m := range []*Message{send, small} {
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		in.Write(b)
	}
	for _, oneByte := range []bool{false, true} {
		var src io.Reader = bytes.NewReader(in.Bytes())
		if oneByte {
			src = iotest.OneByteReader(src)
		}
		w := new(countingWriter)
		calls := 0
		r := NewReader(src, ReaderOptions{MaxBody: 1024, BodyWriter: func(m *Message) io.Writer {
			calls++
			if m.MessageID != "file" {
				return nil
			}
			if m.ContentType != "application/octet-stream" || m.Flag != 0 || m.Body != nil {
				t.Errorf("hook called with %+v", m)
			}
			return w
		}})
		m, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if m.Body != nil || m.Flag != '+' || !bytes.Equal(w.buf.Bytes(), big) {
			t.Fatalf("streamed body: %d octets (want %d), Body %d, flag %q", w.buf.Len(), len(big), len(m.Body), m.Flag)
		}
		if w.writes < 2 {
			t.Errorf("body arrived in %d writes, want pieces", w.writes)
		}
		m, err = r.Read()
		if err != nil || string(m.Body) != "hello" || calls != 2 {
			t.Fatalf("buffered body: %+v, %v (hook calls %d)", m, err, calls)
		}
	}

	// A failing writer: error returned, rest of the frame skipped.
	fail := errors.New("disk full")
	r := NewReader(bytes.NewReader(in.Bytes()), ReaderOptions{BodyWriter: func(m *Message) io.Writer {
		if m.MessageID == "file" {
			return &countingWriter{fail: fail}
		}
		return nil
	}})
	if _, err := r.Read(); !errors.Is(err, fail) {
		t.Fatalf("Read = %v, want the writer's error", err)
	}
	if m, err := r.Read(); err != nil || m.TransactionID != "small" {
		t.Fatalf("after the writer failed: %+v, %v", m, err)
	}
}

// TestReadManyFrames reads a long stream of mixed frames without errors.
func TestReadManyFrames(t *testing.T) {
	var in bytes.Buffer
	msgs := sampleMessages()
	for i := 0; i < 1000; i++ {
		b, _ := msgs[i%len(msgs)].Marshal()
		in.Write(b)
	}
	r := NewReader(iotest.HalfReader(&in), ReaderOptions{})
	for i := 0; i < 1000; i++ {
		m, err := r.Read()
		if err != nil || !equalMessages(m, msgs[i%len(msgs)]) {
			t.Fatalf("frame %d: %+v, %v", i, m, err)
		}
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestReadIOError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, in := range []string{"", "MSRP abcd SEND\r\n", "MSRP abcd SEND\r\nContent-Type: a/b\r\n\r\nxx\r\n"} {
		r := NewReader(&errReader{[]byte(in), boom}, ReaderOptions{})
		if _, err := r.Read(); err != boom {
			t.Errorf("%q: Read = %v, want the I/O error", in, err)
		}
		if _, err := r.Read(); err != boom {
			t.Errorf("%q: second Read = %v, want the same error", in, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := &Message{Request: true, Method: "SEND", TransactionID: "abcd", ToPath: []URI{bob}, FromPath: []URI{alice}, MessageID: "m"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Message{
		"no From-Path":        {Request: true, Method: "SEND", TransactionID: "abcd", ToPath: []URI{bob}, MessageID: "m"},
		"SEND without id":     {Request: true, Method: "SEND", TransactionID: "abcd", ToPath: []URI{bob}, FromPath: []URI{alice}},
		"REPORT w/o Status":   {Request: true, Method: "REPORT", TransactionID: "abcd", ToPath: []URI{bob}, FromPath: []URI{alice}, MessageID: "m"},
		"body without type":   {Request: true, Method: "AUTH", TransactionID: "abcd", ToPath: []URI{bob}, FromPath: []URI{alice}, Body: []byte("x")},
		"response no To-Path": {TransactionID: "abcd", StatusCode: 200, FromPath: []URI{alice}},
	} {
		var pe *ProtocolError
		if err := m.Validate(); !errors.As(err, &pe) || pe.Code != 400 || pe.TransactionID != "abcd" {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
}

func TestNewResponseAndReport(t *testing.T) {
	req := &Message{Request: true, Method: "SEND", TransactionID: "t1", ToPath: []URI{relay, bob}, FromPath: []URI{alice, relay},
		MessageID: "m", ByteRange: ByteRange{1, 5, 10}}
	resp := NewResponse(req, StatusStopSending, "")
	if resp.Request || resp.TransactionID != "t1" || resp.StatusCode != 413 || resp.Comment != "Stop Sending Message" ||
		len(resp.ToPath) != 1 || !resp.ToPath[0].Equal(alice) || len(resp.FromPath) != 1 || !resp.FromPath[0].Equal(relay) {
		t.Errorf("NewResponse: %+v", resp)
	}
	if r := NewResponse(req, 299, "Custom"); r.Comment != "Custom" {
		t.Errorf("comment %q", r.Comment)
	}
	rep := NewReport(req, ByteRange{1, 5, 10}, Status{Code: 200, Comment: "OK"})
	if !rep.Request || rep.Method != "REPORT" || rep.MessageID != "m" || len(rep.ToPath) != 2 || !rep.ToPath[0].Equal(alice) ||
		len(rep.FromPath) != 1 || !rep.FromPath[0].Equal(relay) || rep.Status.String() != "000 200 OK" || rep.ByteRange.String() != "1-5/10" {
		t.Errorf("NewReport: %+v", rep)
	}
	rep.ToPath[0] = bob
	if !req.FromPath[0].Equal(alice) {
		t.Error("NewReport shares the SEND's From-Path")
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tid, mid := NewTransactionID(), NewMessageID()
		if len(tid) < 8 || len(tid) > 32 || !validTransactionID(tid) || len(mid) < 8 || len(mid) > 32 || !validIdent(mid, 32) {
			t.Fatalf("ids %q %q", tid, mid)
		}
		for _, c := range tid + mid {
			if !isAlnum(byte(c)) {
				t.Fatalf("non-alphanumeric %q", c)
			}
		}
		if seen[tid] || seen[mid] {
			t.Fatal("repeated id")
		}
		seen[tid], seen[mid] = true, true
	}
}

func TestByteRangeAndStatus(t *testing.T) {
	for _, s := range []string{"1-25/25", "1-*/8", "1-*/*", "5-8/8", "1-0/0", "138-148/148", "2049-4385/4385", "3-2/*"} {
		r, err := ParseByteRange(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseByteRange(%q) = %v, %v", s, r, err)
		}
	}
	for _, s := range []string{"", "1", "1-2", "0-1/1", "a-1/1", "1-a/1", "1-2/a", "1-3/2", "3-1/5", "-1-2/3", "1-2/3/4", "1--2/5", "1-*/-1", "5-*/3"} {
		if r, err := ParseByteRange(s); err == nil {
			t.Errorf("ParseByteRange(%q) = %v, want an error", s, r)
		}
	}
	for _, s := range []string{"000 200 OK", "000 413", "001 500 with  spaces"} {
		st, err := ParseStatus(s)
		if err != nil || st.String() != s {
			t.Errorf("ParseStatus(%q) = %v, %v", s, st, err)
		}
	}
	for _, s := range []string{"", "200 OK", "000 20 OK", "000 200OK", "0a0 200", "000 2x0"} {
		if st, err := ParseStatus(s); err == nil {
			t.Errorf("ParseStatus(%q) = %v, want an error", s, st)
		}
	}
	if r := (&Message{}).Range(); r != (ByteRange{1, -1, -1}) {
		t.Errorf("Range of a message without Byte-Range: %v", r)
	}
}

// TestReadSkipThenEOF: the stream ends while the rest of a frame is being
// discarded after a limit: fatal, with the tid.
func TestReadSkipThenEOF(t *testing.T) {
	head := "MSRP big SEND\r\nTo-Path: msrp://b;tcp\r\nFrom-Path: msrp://a;tcp\r\n"
	for _, c := range []struct {
		opts ReaderOptions
		in   string
	}{
		{ReaderOptions{MaxBody: 10}, head + "Content-Type: a/b\r\n\r\n" + strings.Repeat("x", 100)},
		{ReaderOptions{MaxHeaders: 2}, head + "A: 1\r\nB: 2\r\n"},
		{ReaderOptions{MaxHeaderBytes: 70}, head + "X: " + strings.Repeat("y", 100)},
	} {
		r := NewReader(strings.NewReader(c.in), c.opts)
		var pe *ProtocolError
		if _, err := r.Read(); !errors.As(err, &pe) || pe.Fatal {
			t.Fatalf("%q: first Read = %v, want a non-fatal limit error", c.in, err)
		}
		_, err := r.Read()
		if !errors.As(err, &pe) || !pe.Fatal || pe.TransactionID != "big" || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%q: second Read = %v, want a fatal unexpected EOF for big", c.in, err)
		}
		if _, err2 := r.Read(); err2 != err {
			t.Fatalf("not sticky: %v", err2)
		}
	}
}

// A body of CRLF-terminated lines that arrives in small reads (the
// reader catching up with the network) still goes to the BodyWriter in
// large pieces, not line by line.
func TestReadBodyWriterCRLFLines(t *testing.T) {
	body := bytes.Repeat([]byte("a line of text, as in a CSV or mail file\r\n"), 50000) // 2.1 MB, 50,000 lines
	b, err := (&Message{Request: true, Method: "SEND", TransactionID: "crlf", ToPath: []URI{bob}, FromPath: []URI{alice},
		MessageID: "file", ContentType: "text/plain", Body: body, Flag: '$'}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w := new(countingWriter)
	r := NewReader(iotest.HalfReader(bytes.NewReader(b)), ReaderOptions{MaxBody: 1024,
		BodyWriter: func(*Message) io.Writer { return w }})
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.buf.Bytes(), body) {
		t.Fatalf("body: %d octets, want %d", w.buf.Len(), len(body))
	}
	if w.writes > 5000 {
		t.Errorf("50,000 lines in %d writes: given line by line", w.writes)
	}
}
