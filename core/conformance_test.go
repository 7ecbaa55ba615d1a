package core

import (
	"bytes"
	"fmt"
	"github.com/sipsimple-go/sipsimple/internal/corpus"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/notification"
)

// sentResponses collects the responses the engine sends, by Call-ID, and
// their bytes.
type sentResponses struct {
	mu    sync.Mutex
	byID  map[string][]*sip.Response
	raw   map[string][][]byte
	added chan struct{}
}

func newSentResponses() *sentResponses {
	return &sentResponses{byID: map[string][]*sip.Response{}, raw: map[string][][]byte{}, added: make(chan struct{}, 1)}
}

func (s *sentResponses) HandleNotification(n notification.Notification) {
	d, _ := notification.Data[SIPTraceData](n)
	if d.Received {
		return
	}
	if !bytes.HasPrefix(d.Data, []byte("SIP/2.0 ")) {
		return
	}
	// Parsed by hand: some answers copy defects of the request (multi01's
	// two Call-IDs) that a full parse would refuse.
	res := &sip.Response{}
	status, _, _ := strings.Cut(string(d.Data), "\r\n")
	fmt.Sscanf(status, "SIP/2.0 %d", &res.StatusCode)
	_, res.Reason, _ = strings.Cut(strings.TrimPrefix(status, "SIP/2.0 "), " ")
	key := rawCallID(d.Data)
	s.mu.Lock()
	s.byID[key] = append(s.byID[key], res)
	s.raw[key] = append(s.raw[key], d.Data)
	s.mu.Unlock()
	select {
	case s.added <- struct{}{}:
	default:
	}
}

func (s *sentResponses) get(callID string) []*sip.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[callID]
}

func (s *sentResponses) getRaw(callID string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw[callID]
}

// waitFor waits until a final response for one of the Call-IDs was sent
// (provisional ones are skipped) and returns the first.
func (s *sentResponses) waitFor(t *testing.T, callIDs ...string) *sip.Response {
	t.Helper()
	return s.waitForN(t, 1, callIDs...)
}

// waitForN waits until n final responses for one of the Call-IDs were sent
// and returns the first.
func (s *sentResponses) waitForN(t *testing.T, n int, callIDs ...string) *sip.Response {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		for _, id := range callIDs {
			var final []*sip.Response
			for _, r := range s.get(id) {
				if r.StatusCode >= 200 {
					final = append(final, r)
				}
			}
			if len(final) >= n {
				return final[0]
			}
		}
		select {
		case <-s.added:
		case <-deadline:
			t.Fatalf("no response sent for Call-ID %q", callIDs)
			return nil
		}
	}
}

// rawCallID extracts the (first) Call-ID of a raw message, or
// "cseq:<CSeq>" for a message without one.
func rawCallID(data []byte) string { return rawCallIDs(data)[0] }

// rawCallIDs extracts every Call-ID of a raw message (multi01.dat has two;
// an answer may echo either), or "cseq:<CSeq>" for a message without one.
func rawCallIDs(data []byte) []string {
	cseq := ""
	var ids []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		l := strings.TrimRight(string(line), "\r")
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		if ok && (strings.EqualFold(name, "Call-ID") || strings.EqualFold(name, "i")) {
			ids = append(ids, strings.TrimSpace(value))
		}
		if ok && strings.EqualFold(name, "CSeq") {
			cseq = strings.Join(strings.Fields(value), " ")
		}
	}
	if len(ids) == 0 {
		return []string{"cseq:" + cseq}
	}
	return ids
}

// TestRFC4475Torture sends every RFC 4475 message to a running engine over
// UDP and checks the answer the INDEX asks for: valid requests reach their
// handler (INVITE answered 486 by the test handler, MESSAGE 200, OPTIONS 200
// by the engine, REGISTER 405 at an endpoint), invalid ones get their
// error code, malformed responses and garbage are dropped. After each
// message the engine must still answer an OPTIONS probe (no crash, no
// stuck reader).
func TestRFC4475Torture(t *testing.T) {
	dir := corpus.Dir(t, "rfc4475")
	want := map[string]int{
		"intmeth.dat": 501, "esc01.dat": 486, "escnull.dat": 405, "esc02.dat": 501,
		"lwsdisp.dat": 200, "dblreq.dat": 405, "semiuri.dat": 200, "transports.dat": 200,
		"mpart01.dat": 200, "unreason.dat": 0, "noreason.dat": 0,
		"badinv01.dat": 400, "clerr.dat": 400, "ncl.dat": 400, "scalar02.dat": 400, "scalarlg.dat": 0,
		"quotbal.dat": 400, "ltgtruri.dat": 400, "lwsruri.dat": 400, "lwsstart.dat": 400, "trws.dat": 400,
		"escruri.dat": 400, "baddate.dat": 486, "regbadct.dat": 400, "badaspec.dat": 400, "baddn.dat": 400,
		"badvers.dat": 505, "mismatch01.dat": 400, "mismatch02.dat": 501, "bigcode.dat": 0,
		"badbranch.dat": 200, "insuf.dat": 400, "unkscm.dat": 416, "novelsc.dat": 416, "unksm2.dat": 405,
		"bext01.dat": 420, "invut.dat": 415, "regaut01.dat": 405, "multi01.dat": 400, "mcl01.dat": 400,
		"bcast.dat": 0, "zeromf.dat": 200, "cparam01.dat": 405, "cparam02.dat": 405, "regescrt.dat": 405,
		"sdp01.dat": 406, "test.dat": 0, "inv2543.dat": 486, "longreq.dat": 486, "wsinv.dat": 486,
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.dat"))
	if len(files) != 50 {
		t.Fatalf("found %d corpus files, want 50", len(files))
	}
	runCorpus(t, files, want)
}

// TestRFC5118IPv6 sends the RFC 5118 IPv6 torture messages: no crash, and
// each is answered or dropped as sipcheck decides (its own tests check the
// codes); the engine keeps answering.
func TestRFC5118IPv6(t *testing.T) {
	dir := corpus.Dir(t, "rfc5118")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".md") && !strings.Contains(p, "SHA256") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 12 {
		t.Fatalf("found %d RFC 5118 files", len(files))
	}
	runCorpus(t, files, nil)
}

// runCorpus sends each file to a fresh engine (RFC 4475's examples reuse
// branches, which on one engine would rightly match earlier transactions)
// and checks the answer.
func runCorpus(t *testing.T, files []string, want map[string]int) {
	for _, f := range files {
		name := filepath.Base(f)
		rel, _ := filepath.Rel(filepath.Dir(filepath.Dir(f)), f)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			code, ok := want[name]
			if want != nil && !ok {
				t.Fatalf("%s: no expectation", name)
			}
			sendAndCheck(t, [][]byte{data}, code, want != nil)
		})
	}
}

// traceUDP collects the responses e sends and dials its UDP listener.
func traceUDP(t *testing.T, e *Engine, c *notification.Center) (*sentResponses, net.Conn, Listener) {
	t.Helper()
	sent := newSentResponses()
	c.AddObserver(sent, EngineSIPTrace, e)
	t.Cleanup(func() { c.PurgeObserver(sent) })
	udp, _ := e.Listener("udp")
	conn, err := net.Dial("udp", udp.Addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return sent, conn, udp
}

// sendAndCheck sends messages to a new engine, then an OPTIONS probe (the
// engine must still answer), and checks the answer to the last message.
func sendAndCheck(t *testing.T, msgs [][]byte, code int, check bool) {
	e, c := startEngine(t, EngineConfig{Trace: true})
	e.Handle("INVITE", func(req *sip.Request, tx sip.ServerTransaction) {
		e.Respond(tx, sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	e.Handle("MESSAGE", func(req *sip.Request, tx sip.ServerTransaction) {
		e.Respond(tx, sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	sent, conn, udp := traceUDP(t, e, c)
	for _, m := range msgs {
		if _, err := conn.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	// The probe is answered after the messages were screened: a message
	// the engine drops has no answer by then.
	conn.Write([]byte(rawRequest("OPTIONS", "UDP", udp.Addr.String(), conn.LocalAddr().String(), "probe")))
	if res := sent.waitFor(t, "probe@test"); res.StatusCode != 200 {
		t.Fatalf("probe answered %d", res.StatusCode)
	}
	if !check {
		return
	}
	ids := rawCallIDs(msgs[len(msgs)-1])
	if code == 0 {
		for _, id := range ids {
			if r := sent.get(id); len(r) > 0 {
				t.Errorf("answered %d, want no answer", r[0].StatusCode)
			}
		}
		return
	}
	if res := sent.waitFor(t, ids...); res.StatusCode != code {
		t.Errorf("answered %d %q, want %d", res.StatusCode, res.Reason, code)
	}
}

// cparam02.dat has cparam01.dat's Via branch and sent-by: on one engine,
// RFC 3261 17.2.3 matches it to cparam01's server transaction, whose
// response is sent again, and it is not processed as a new request.
func TestSameBranchIsRetransmission(t *testing.T) {
	dir := corpus.Dir(t, "rfc4475")
	first, _ := os.ReadFile(filepath.Join(dir, "cparam01.dat"))
	second, _ := os.ReadFile(filepath.Join(dir, "cparam02.dat"))
	e, c := startEngine(t, EngineConfig{Trace: true})
	sent := newSentResponses()
	c.AddObserver(sent, EngineSIPTrace, e)
	defer c.PurgeObserver(sent)
	udp, _ := e.Listener("udp")
	conn, _ := net.Dial("udp", udp.Addr.String())
	defer conn.Close()
	conn.Write(first)
	sent.waitFor(t, rawCallID(first))
	conn.Write(second)
	deadline := time.After(5 * time.Second)
	for len(sent.get(rawCallID(first))) < 2 {
		select {
		case <-sent.added:
		case <-deadline:
			t.Fatal("cparam01's response was not sent again")
		}
	}
	if r := sent.get(rawCallID(second)); len(r) > 0 {
		t.Errorf("cparam02 answered as a new transaction (%d)", r[0].StatusCode)
	}
}

// fromValue returns the value of the From header of a raw message.
func fromValue(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\r\n")) {
		if len(line) == 0 {
			break
		}
		name, value, ok := strings.Cut(string(line), ":")
		if name = strings.TrimSpace(name); ok && (strings.EqualFold(name, "From") || strings.EqualFold(name, "f")) {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// TestRFC4475Rewrites checks what the screen's From/To rewrites leave
// visible: inv2543.dat (RFC 2543, From without tag) reaches the handler and
// is answered with its From exactly as sent, and its retransmission is
// absorbed by the transaction; wsinv.dat's tags (LWS around "=") are read;
// longreq.dat's 486 is sent although it is longer than 1300 octets.
func TestRFC4475Rewrites(t *testing.T) {
	dir := corpus.Dir(t, "rfc4475")
	type seen struct {
		from, fromTag string
		hasFromTag    bool
	}
	run := func(t *testing.T, name string, sends int) (*sentResponses, []seen, []byte) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		e, c := startEngine(t, EngineConfig{Trace: true})
		calls := make(chan seen, 4)
		e.Handle("INVITE", func(req *sip.Request, tx sip.ServerTransaction) {
			tag, ok := req.From().Params.Get("tag")
			calls <- seen{req.From().Value(), tag, ok}
			e.Respond(tx, sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		})
		sent := newSentResponses()
		c.AddObserver(sent, EngineSIPTrace, e)
		t.Cleanup(func() { c.PurgeObserver(sent) })
		udp, _ := e.Listener("udp")
		conn, err := net.Dial("udp", udp.Addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for i := 1; i <= sends; i++ {
			conn.Write(data)
			sent.waitForN(t, i, rawCallID(data))
		}
		var got []seen
		for len(calls) > 0 {
			got = append(got, <-calls)
		}
		return sent, got, data
	}

	t.Run("inv2543", func(t *testing.T) {
		sent, calls, data := run(t, "inv2543.dat", 2)
		if len(calls) != 1 {
			t.Fatalf("handler called %d times, want 1 (the retransmission matches the transaction)", len(calls))
		}
		want := fromValue(data)
		if calls[0].hasFromTag || calls[0].from != want {
			t.Errorf("handler saw From %q (tag %v), want %q", calls[0].from, calls[0].hasFromTag, want)
		}
		raw := sent.getRaw(rawCallID(data))
		codes := []int{}
		for _, r := range sent.get(rawCallID(data)) {
			codes = append(codes, r.StatusCode)
		}
		if len(codes) != 3 || codes[0] != 100 || codes[1] != 486 || codes[2] != 486 {
			t.Fatalf("responses %v, want 100 486 486", codes)
		}
		for i, r := range raw {
			if got := fromValue(r); got != want {
				t.Errorf("response %d From %q, want %q", codes[i], got, want)
			}
		}
		to1, _ := sip.ParseMessage(raw[1])
		to2, _ := sip.ParseMessage(raw[2])
		if to1 == nil || to2 == nil || to1.To().Value() != to2.To().Value() {
			t.Errorf("retransmitted 486 differs:\n%s\n%s", raw[1], raw[2])
		}
	})
	t.Run("wsinv", func(t *testing.T) {
		sent, calls, data := run(t, "wsinv.dat", 1)
		if len(calls) != 1 || calls[0].fromTag != "98asjd8" {
			t.Fatalf("handler saw %+v, want From tag 98asjd8", calls)
		}
		res, err := sip.ParseMessage(sent.getRaw(rawCallID(data))[0])
		if err != nil {
			t.Fatal(err)
		}
		if tag, _ := res.To().Params.Get("tag"); tag != "1918181833n" {
			t.Errorf("486 To %q, want the request's tag 1918181833n", res.To().Value())
		}
		if tag, _ := res.From().Params.Get("tag"); tag != "98asjd8" {
			t.Errorf("486 From %q, want tag 98asjd8", res.From().Value())
		}
	})
	t.Run("longreq", func(t *testing.T) {
		sent, _, data := run(t, "longreq.dat", 1)
		if raw := sent.getRaw(rawCallID(data)); len(raw[0]) <= 1300 {
			t.Errorf("486 is %d octets; the test needs one over 1300", len(raw[0]))
		}
	})
}

// An ACK that matches no transaction and no dialog (the late ACK of a 2xx
// whose dialog ended) is never answered: not 405, nothing. An OPTIONS sent
// after it on the same Call-ID gets the only response.
func TestStrayAckUnanswered(t *testing.T) {
	e, c := startEngine(t, EngineConfig{Trace: true})
	// An INVITE handler puts ACK among the allowed methods.
	e.Handle("INVITE", func(req *sip.Request, tx sip.ServerTransaction) {})
	sent, conn, udp := traceUDP(t, e, c)
	local := conn.LocalAddr().String()
	msg := func(method string, seq int, branch string) string {
		return method + " sip:bob@" + udp.Addr.String() + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + branch + "\r\n" +
			"From: <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>;tag=b1\r\n" +
			"Call-ID: stray-ack-1\r\nCSeq: " + strconv.Itoa(seq) + " " + method + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	}
	conn.Write([]byte(msg("ACK", 1, "stray1")))
	conn.Write([]byte(msg("OPTIONS", 2, "stray2")))
	if r := sent.waitFor(t, "stray-ack-1"); r.StatusCode != 200 {
		t.Fatalf("first response %d, want the OPTIONS' 200", r.StatusCode)
	}
	if r := sent.get("stray-ack-1"); len(r) != 1 {
		t.Fatalf("%d responses sent, want only the OPTIONS' one", len(r))
	}
}
