package msrp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// prefixFile is a Storage that already holds the first n octets.
type prefixFile struct {
	*os.File
	n int64
}

func (p prefixFile) StoredPrefix() int64 { return p.n }

// A transfer cut short is resumed: the receiver tells how much it has
// (an extension request answered by OnRequest, as python-sipsimple's
// FILE_OFFSET), the sender sends from there (Offset), and the receiver's
// ResumedStorage makes the message complete with the octets it held.
func TestSessionResume(t *testing.T) {
	content := make([]byte, 1<<20+123)
	rand.Read(content)
	have := int64(400_000)
	path := filepath.Join(t.TempDir(), "partial")
	if err := os.WriteFile(path, content[:have], 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bobCfg := SessionConfig{
		Storage: func(*Message) (io.WriterAt, error) { return prefixFile{f, have}, nil },
		OnRequest: func(req *Message) *Message {
			if req.Method != "FILE_OFFSET" {
				return nil
			}
			r := NewResponse(req, StatusOK, "")
			r.AddHeader("Offset", strconv.FormatInt(have, 10))
			return r
		},
	}
	alice, bob := pair(t, SessionConfig{}, bobCfg, nil)

	if _, err := alice.Request(testCtx(t), "NOPE", nil); err != nil {
		t.Fatalf("an unknown extension request: %v, want its 501 response", err)
	} else if r, _ := alice.Request(testCtx(t), "NOPE", nil); r.StatusCode != StatusUnknownMethod {
		t.Fatalf("an unknown extension request answered %d, want 501", r.StatusCode)
	}
	resp, err := alice.Request(testCtx(t), "FILE_OFFSET", nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := resp.Header("Offset")
	off, err := strconv.ParseInt(v, 10, 64)
	if resp.StatusCode != StatusOK || err != nil || off != have {
		t.Fatalf("FILE_OFFSET: %d, Offset %q", resp.StatusCode, v)
	}

	id, err := alice.Send(OutgoingMessage{ContentType: "application/octet-stream", Reader: bytes.NewReader(content[off:]),
		Size: int64(len(content)), Offset: off, SuccessReport: true, ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	got := waitEvent[Received](t, bob)
	if got.Size != int64(len(content)) || got.MessageID != id {
		t.Fatalf("bob received %d octets of %s, want %d of %s", got.Size, got.MessageID, len(content), id)
	}
	waitEvent[Delivered](t, alice)
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(b, content) {
		t.Fatalf("the resumed file differs from the original (%d octets, %v)", len(b), err)
	}

	if _, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("x"), Offset: 1}); err == nil {
		t.Error("Send accepted an Offset without a Reader")
	}
}

// Check refuses a complete message before it is answered: the sender's
// message is not delivered (400), nothing is reported at the receiver,
// and the next message goes through.
func TestSessionCheckRefuses(t *testing.T) {
	bobCfg := SessionConfig{Check: func(first *Message, body []byte) error {
		if string(body) == "bad" {
			return &StatusError{Code: 415, Comment: "not that"}
		}
		if string(body) == "worse" {
			return errors.New("plain error")
		}
		return nil
	}}
	alice, bob := pair(t, SessionConfig{}, bobCfg, nil)
	for _, tc := range []struct {
		body string
		code int
	}{{"bad", 415}, {"worse", 400}} {
		id, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte(tc.body), SuccessReport: true})
		if err != nil {
			t.Fatal(err)
		}
		nd := waitEvent[NotDelivered](t, alice)
		if nd.MessageID != id || nd.Code != tc.code {
			t.Errorf("%q: NotDelivered %+v, want code %d", tc.body, nd, tc.code)
		}
	}
	if _, err := alice.Send(OutgoingMessage{ContentType: "text/plain", Body: []byte("good")}); err != nil {
		t.Fatal(err)
	}
	if got := waitEvent[Received](t, bob); string(got.Body) != "good" {
		t.Fatalf("bob's first reported message is %q, want the good one", got.Body)
	}
}

// On the wire, a message Check refuses gets its error response and, as
// it asked for failure reports, a failure REPORT with the same code;
// no success REPORT.
func TestSessionCheckRefusesOnWire(t *testing.T) {
	s, p := connectRaw(t, SessionConfig{Check: func(*Message, []byte) error {
		return &StatusError{Code: 415, Comment: "not that"}
	}})
	send := &Message{Request: true, Method: MethodSEND, TransactionID: NewTransactionID(), ToPath: []URI{s.LocalURI()},
		FromPath: []URI{p.uri()}, MessageID: "refused", ContentType: "text/plain", SuccessReport: "yes",
		ByteRange: ByteRange{Start: 1, End: 3, Total: 3}, Flag: FlagComplete, Body: []byte("bad")}
	p.write(t, send)
	var resp, report *Message
	for resp == nil || report == nil {
		m := p.read(t)
		if m == nil {
			t.Fatal("the connection ended")
		}
		switch {
		case !m.Request && m.TransactionID == send.TransactionID:
			resp = m
		case m.Request && m.Method == MethodREPORT && m.MessageID == "refused":
			report = m
		}
	}
	if resp.StatusCode != 415 {
		t.Errorf("response %d, want 415", resp.StatusCode)
	}
	if report.Status == nil || report.Status.Code != 415 {
		t.Errorf("REPORT status %+v, want 415", report.Status)
	}
}
