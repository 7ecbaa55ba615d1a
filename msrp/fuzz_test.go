package msrp

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"
)

// corpusMSRPFiles returns the MSRP frames of the RFC corpus (derived/
// included), or nothing when the corpus is not there: fuzzing also runs
// without it.
func corpusMSRPFiles() [][]byte {
	dir := filepath.Join("..", "..", "shared", "rfc-corpus", "msrp")
	if p := os.Getenv("SIPSIMPLE_RFC_CORPUS"); p != "" {
		dir = filepath.Join(p, "msrp")
	}
	a, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	d, _ := filepath.Glob(filepath.Join(dir, "derived", "*.txt"))
	var out [][]byte
	for _, p := range append(a, d...) {
		if b, err := os.ReadFile(p); err == nil && bytes.HasPrefix(b, []byte("MSRP ")) {
			out = append(out, b)
		}
	}
	return out
}

// readTrace reads every frame of r: the messages and the errors, in
// order. Every Read consumes input or ends the stream, so more calls than
// there are input octets means a loop.
func readTrace(t *testing.T, r *Reader, n int, streamed map[*Message]*bytes.Buffer) []any {
	t.Helper()
	var trace []any
	for range n + 2 {
		m, err := r.Read()
		if err == io.EOF {
			return trace
		}
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("Read: %v is not a *ProtocolError", err)
			}
			if pe.Fatal && pe.Code != 400 {
				t.Fatalf("fatal error with code %d", pe.Code)
			}
			trace = append(trace, err.Error())
			if pe.Fatal {
				if _, err2 := r.Read(); err2 != err {
					t.Fatalf("fatal error not sticky: %v then %v", err, err2)
				}
				return trace
			}
			continue
		}
		if w, ok := streamed[m]; ok {
			if m.Body != nil {
				t.Fatal("streamed body also buffered")
			}
			m.Body = w.Bytes()
			delete(streamed, m)
		}
		if !isFlag(m.Flag) || !validTransactionID(m.TransactionID) {
			t.Fatalf("message with flag %q tid %q", m.Flag, m.TransactionID)
		}
		trace = append(trace, m)
		checkRemarshal(t, m)
	}
	t.Fatalf("Read did not reach the end of %d octets", n)
	return nil
}

// checkRemarshal: a message the writer accepts reads back equal and
// marshals the same again.
func checkRemarshal(t *testing.T, m *Message) {
	t.Helper()
	out, err := m.Marshal()
	if err != nil {
		return
	}
	r := NewReader(bytes.NewReader(out), ReaderOptions{MaxBody: 1 << 30})
	m2, err := r.Read()
	if err != nil {
		t.Fatalf("re-reading %q: %v", out, err)
	}
	if !equalMessages(m, m2) {
		t.Fatalf("re-read differs\n%q\n%+v\n%+v", out, m, m2)
	}
	if out2, err := m2.Marshal(); err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("Marshal not stable: %v\n%q\n%q", err, out, out2)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("re-reading %q: more than one frame: %v", out, err)
	}
}

// FuzzReader: Read never panics nor loops, reads the same whole or one
// octet at a time, streams the same bodies it buffers, and what it reads
// re-marshals and re-reads equal where the writer accepts it.
func FuzzReader(f *testing.F) {
	for _, b := range corpusMSRPFiles() {
		f.Add(b)
	}
	for _, m := range sampleMessages() {
		if b, err := m.Marshal(); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"\r\n",
		"MSRP a SEND\r\n-------a$\r\n",
		"MSRP abcd SEND\r\nContent-Type: a/b\r\n\r\n-------abcd+\r\nMSRP b 200\r\n-------b$\r\n",
		"MSRP abcd SEND\r\nX\r\n\r\n\r\r\n\r\n-------abcd#\r\n",
		"MSRP abcd 200 OK\nTo-Path: msrp://[::1];tcp\n-------abcd$\n",
		"MSRP abcd SEND\r\nByte-Range: 1-*/*\r\n" + string(bytes.Repeat([]byte("H: v\r\n"), 40)) + "-------abcd$\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		small := ReaderOptions{MaxHeaderBytes: 512, MaxHeaders: 8, MaxBody: 64}
		whole := readTrace(t, NewReader(bytes.NewReader(data), small), len(data), nil)
		oneByte := readTrace(t, NewReader(iotest.OneByteReader(bytes.NewReader(data)), small), len(data), nil)
		if !reflect.DeepEqual(whole, oneByte) {
			t.Fatalf("one-byte reads differ:\n%v\n%v", whole, oneByte)
		}

		buffered := readTrace(t, NewReader(bytes.NewReader(data), ReaderOptions{MaxBody: 1 << 30}), len(data), nil)
		streamed := map[*Message]*bytes.Buffer{}
		opts := ReaderOptions{MaxBody: 1, BodyWriter: func(m *Message) io.Writer {
			w := new(bytes.Buffer)
			streamed[m] = w
			return w
		}}
		viaWriter := readTrace(t, NewReader(iotest.HalfReader(bytes.NewReader(data)), opts), len(data), streamed)
		for _, x := range viaWriter {
			// A message streamed with an empty body has Body
			// []byte{} rather than nil: equalMessages does not care.
			if m, ok := x.(*Message); ok && len(m.Body) == 0 {
				m.Body = nil
			}
		}
		for _, x := range buffered {
			if m, ok := x.(*Message); ok && len(m.Body) == 0 {
				m.Body = nil
			}
		}
		if !reflect.DeepEqual(buffered, viaWriter) {
			t.Fatalf("streamed bodies differ from buffered ones:\n%v\n%v", buffered, viaWriter)
		}
	})
}

// FuzzParseURI: ParseURI never panics, and what it accepts prints into a
// string that parses back to the same URI, equal to itself.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"msrp://atlanta.example.com:7654/jshA7weztas;tcp",
		"msrps://alice@intra.example.com;tcp",
		"msrps://extra.example.com;tcp",
		"msrp://[2001:db8::1]:9/a/b+c=d;tcp;foo;bar=baz",
		"MSRP://us;er:pw%20@192.0.2.1:65535/s;TCP",
		"msrp://h:007/s;tcp",
		"msrp://[::ffff:1.2.3.4]/s;tcp",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			return
		}
		if err := u.Validate(); err != nil {
			t.Fatalf("ParseURI(%q) = %#v, which Validate refuses: %v", s, u, err)
		}
		out := u.String()
		u2, err := ParseURI(out)
		if err != nil {
			t.Fatalf("ParseURI(%q) -> %q: %v", s, out, err)
		}
		if !reflect.DeepEqual(u, u2) || !u.Equal(u2) || u2.String() != out {
			t.Fatalf("round trip of %q: %#v -> %q -> %#v", s, u, out, u2)
		}
	})
}
