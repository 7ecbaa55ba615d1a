package msrp

import (
	"testing"
)

// loopReader repeats data forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

func benchSEND() *Message {
	return &Message{Request: true, Method: "SEND", TransactionID: "a786hjs2", ToPath: []URI{bob}, FromPath: []URI{alice},
		MessageID: "87652491", ByteRange: ByteRange{1, 23, 23}, ContentType: "text/plain",
		Body: []byte("Hey Bob, are you there?"), Flag: '$'}
}

// BenchmarkReadSEND reads a small text SEND (RFC 4975 Figure 2) from a
// stream of them.
func BenchmarkReadSEND(b *testing.B) {
	wire, err := benchSEND().Marshal()
	if err != nil {
		b.Fatal(err)
	}
	r := NewReader(&loopReader{data: wire}, ReaderOptions{})
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := r.Read()
		if err != nil || len(m.Body) != 23 {
			b.Fatal(m, err)
		}
	}
}

// BenchmarkMarshalSEND writes the same SEND: into a new slice (Marshal)
// and into a reused one (AppendTo).
func BenchmarkMarshalSEND(b *testing.B) {
	m := benchSEND()
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Marshal(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendTo", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			var err error
			if buf, err = m.AppendTo(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
