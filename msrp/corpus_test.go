package msrp

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sipsimple-go/sipsimple/internal/corpus"
)

// What the wire layer must do with a corpus file.
type corpusKind int

const (
	// valid: reads as one frame, passes Validate, re-marshals to the
	// same lines (header order aside).
	kValid corpusKind = iota
	// snippet: the RFC left out To-Path/From-Path: the framing must
	// still work (end-line, flag), Validate answers 400.
	kSnippet
	// incomplete: no end-line: a stream reader waits, EOF is a fatal 400.
	kIncomplete
	// notMSRP: SIP or SDP, some other package's corpus.
	kNotMSRP
)

const (
	sipReason = "SIP message: tested by the SIP stack, not the MSRP wire layer"
	sdpReason = "SDP: tested by package sdp (m=message, a=path), not the MSRP wire layer"
)

// corpusTable lists every file of msrp/INDEX.md (and derived/), so that a
// new corpus file fails the test until it is classified here.
var corpusTable = []struct {
	file   string
	kind   corpusKind
	reason string
}{
	{"rfc4975-s4-fig1-invite-fragment.txt", kNotMSRP, sipReason},
	{"rfc4975-s4-fig1-200ok-fragment.txt", kNotMSRP, sipReason},
	{"rfc4975-s4-fig1-ack-fragment.txt", kNotMSRP, sipReason},
	{"rfc4975-s4-fig2-send.txt", kValid, "Byte-Range says 25, content is 23: frame by end-line"},
	{"rfc4975-s4-fig2-200ok.txt", kValid, ""},
	{"rfc4975-s5.1-fig3-chunk1.txt", kSnippet, "To-Path/From-Path omitted by the RFC"},
	{"rfc4975-s5.1-fig3-chunk2.txt", kSnippet, "To-Path/From-Path omitted by the RFC"},
	{"rfc4975-s8.2-fig7-sdp.txt", kNotMSRP, sdpReason},
	{"rfc4975-s8.7-fig9-sdp-offer.txt", kNotMSRP, sdpReason},
	{"rfc4975-s8.7-fig10-sdp-answer.txt", kNotMSRP, sdpReason},
	{"rfc4975-s11.1-step1-sdp-offer.txt", kNotMSRP, sdpReason},
	{"rfc4975-s11.1-step2-sdp-answer.txt", kNotMSRP, sdpReason},
	{"rfc4975-s11.1-step4-send.txt", kValid, "Byte-Range 16, content 14"},
	{"rfc4975-s11.1-step5-200ok.txt", kValid, ""},
	{"rfc4975-s11.1-step6-send.txt", kValid, "Byte-Range 21, content 20"},
	{"rfc4975-s11.1-step7-200ok.txt", kValid, ""},
	{"rfc4975-s11.2-fig13-send-xhtml.txt", kValid, "multi-line body"},
	{"rfc4975-s11.4-fig14-chunk1-cpim.txt", kValid, "first chunk, flag +"},
	{"rfc4975-s11.4-fig15-chunk2-cpim.txt", kValid, "last chunk"},
	{"rfc4975-s11.5-send-system.txt", kValid, "Failure-Report: no"},
	{"rfc4975-s11.6-fig16-send.txt", kValid, "Success-Report: yes"},
	{"rfc4975-s11.6-fig17-report.txt", kValid, "REPORT with Status"},
	{"rfc4975-s14.4-fig19-sdp-fingerprint-fragment.txt", kNotMSRP, sdpReason},
	{"rfc4976-s3-send-6aef.txt", kValid, "3-URI To-Path, Byte-Range 1-*/*"},
	{"rfc4976-s3-200ok-6aef.txt", kValid, "response with Message-ID"},
	{"rfc4976-s3-send-juh76.txt", kValid, ""},
	{"rfc4976-s3-200ok-juh76.txt", kValid, ""},
	{"rfc4976-s3-send-xght6.txt", kValid, ""},
	{"rfc4976-s3-200ok-xght6-no-endline.txt", kIncomplete, "end-line missing in the RFC"},
	{"rfc4976-s3-report-yh67-hop1.txt", kValid, ""},
	{"rfc4976-s3-report-yh67-hop2.txt", kValid, ""},
	{"rfc4976-s3-report-yh67-hop3.txt", kValid, ""},
	{"rfc4976-s5.1-auth-49fh.txt", kValid, "userinfo, no port, no session-id"},
	{"rfc4976-s5.1-401-49fh.txt", kValid, "WWW-Authenticate"},
	{"rfc4976-s5.1-auth-49fi.txt", kValid, "Authorization"},
	{"rfc4976-s5.1-200ok-49fi.txt", kValid, "Use-Path, Expires"},
	{"rfc4976-s5.1-auth-mnbvw.txt", kValid, ""},
	{"rfc4976-s5.1-auth-m2nbvw.txt", kValid, ""},
	{"rfc4976-s5.1-401-m2nbvw.txt", kValid, ""},
	{"rfc4976-s5.1-401-mnbvw.txt", kValid, ""},
	{"rfc4976-s5.1-auth-m3nbvx.txt", kValid, ""},
	{"rfc4976-s5.1-auth-m4nbvx.txt", kValid, ""},
	{"rfc4976-s5.1-200ok-m4nbvx.txt", kValid, "Use-Path with 2 URIs"},
	{"rfc4976-s5.1-200ok-m3nbvx.txt", kValid, "Use-Path URI duplicated in the RFC"},
	{"rfc4976-s11-sdp-offer-fragment.txt", kNotMSRP, sdpReason},
	{"rfc4976-s11-sdp-answer-fragment.txt", kNotMSRP, sdpReason},
	{"rfc5547-s6-fig2-sdp.txt", kNotMSRP, sdpReason},
	{"rfc5547-s9.1-fig8-invite-multipart.txt", kNotMSRP, sipReason},
	{"rfc5547-s9.1-fig9-sdp-answer.txt", kNotMSRP, sdpReason},
	{"rfc5547-s9.1-fig10-send-chunk1.txt", kValid, "placeholder payload: range 2048, content 338"},
	{"rfc5547-s9.1-fig11-send-chunk2.txt", kValid, "placeholder payload"},
	{"rfc5547-s9.1-fig12-200ok.txt", kValid, "response with Byte-Range"},
	{"rfc5547-s9.1-fig13-200ok.txt", kValid, ""},
	{"rfc5547-s9.2-fig15-invite-pull.txt", kNotMSRP, sipReason},
	{"rfc5547-s9.2-fig16-sdp-answer.txt", kNotMSRP, sdpReason},
	{"rfc5547-s9.2-fig17-send.txt", kValid, "placeholder payload"},
	{"rfc5547-s9.2-fig18-200ok.txt", kValid, ""},
	{"rfc5547-s9.2-fig19-reinvite-multipart.txt", kNotMSRP, sipReason},
	{"rfc5547-s9.2-fig20-sdp-answer.txt", kNotMSRP, sdpReason},
	{"rfc5547-s9.2-fig21-send.txt", kValid, "whole range but flag +: flag wins"},
	{"rfc5547-s9.2-fig22-200ok.txt", kValid, ""},
	{"rfc5547-s9.3-fig24-sdp-capabilities.txt", kNotMSRP, sdpReason},
	{"derived/rfc4975-s5.1-fig3-chunk1-ABORTED.txt", kSnippet, "not from an RFC: chunk1 with flag #"},
}

// indexFacts are the facts INDEX.md computed from the bytes of an MSRP file.
type indexFacts struct {
	request               bool
	method                string
	code                  int
	comment               string
	tid                   string
	toPath, fromPath      int // -1: ABSENT
	messageID, byteRange  string
	contentType, status   string
	successRep, failRep   string
	usePath, expires      string
	content               int
	flag                  byte // 0: no end-line
	validity, expectation string
}

var (
	indexRowRE   = regexp.MustCompile("^\\| `([^`]+)` \\|[^|]*\\| ([^|]*) \\| ([^|]*) \\| ([^|]*) \\|")
	factStartRE  = regexp.MustCompile(`^(request|response) (\S+)(?: "([^"]*)")?;`)
	factPathRE   = regexp.MustCompile(`(To|From)-Path(?:: (\d+) URI\(s\)| ABSENT)`)
	factFieldRE  = regexp.MustCompile(`(tid|message-id|byte-range|content-type|status|success-report|failure-report|expires)=([^;]+)`)
	factUsePath  = regexp.MustCompile(`use-path=(.*?); (?:expires=|flag )`)
	factContent  = regexp.MustCompile(`content=(\d+) B`)
	factFlagRE   = regexp.MustCompile(`flag '(.)'`)
	derivedFacts = indexFacts{
		request: true, method: "SEND", tid: "dkei38sd", toPath: -1, fromPath: -1,
		messageID: "4564dpWd", byteRange: "1-*/8", contentType: "text/plain", content: 4, flag: '#',
		validity: "derived", expectation: "flag # = message aborted by the sender",
	}
)

// readIndex returns the facts of the MSRP rows of INDEX.md and the names
// of all its rows.
func readIndex(t *testing.T, dir string) (map[string]indexFacts, []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "INDEX.md"))
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]indexFacts{}
	var names []string
	for row := range strings.SplitSeq(string(b), "\n") {
		m := indexRowRE.FindStringSubmatch(row)
		if m == nil {
			continue
		}
		names = append(names, m[1])
		fs := strings.TrimSpace(m[4])
		if !strings.Contains(fs, "tid=") {
			continue
		}
		f := indexFacts{validity: m[2], expectation: m[3], toPath: -1, fromPath: -1}
		st := factStartRE.FindStringSubmatch(fs)
		if st == nil {
			t.Fatalf("INDEX row %s: facts %q do not start with request/response", m[1], fs)
		}
		f.request = st[1] == "request"
		if f.request {
			f.method = st[2]
		} else {
			f.code, _ = strconv.Atoi(st[2])
			f.comment = st[3]
		}
		for _, p := range factPathRE.FindAllStringSubmatch(fs, -1) {
			n := -1
			if p[2] != "" {
				n, _ = strconv.Atoi(p[2])
			}
			if p[1] == "To" {
				f.toPath = n
			} else {
				f.fromPath = n
			}
		}
		for _, kv := range factFieldRE.FindAllStringSubmatch(fs, -1) {
			v := strings.TrimSpace(kv[2])
			switch kv[1] {
			case "tid":
				f.tid = v
			case "message-id":
				f.messageID = v
			case "byte-range":
				f.byteRange = v
			case "content-type":
				f.contentType = v
			case "status":
				f.status = v
			case "success-report":
				f.successRep = v
			case "failure-report":
				f.failRep = v
			case "expires":
				f.expires = v
			}
		}
		if u := factUsePath.FindStringSubmatch(fs); u != nil {
			f.usePath = u[1]
		}
		if c := factContent.FindStringSubmatch(fs); c != nil {
			f.content, _ = strconv.Atoi(c[1])
		}
		if fl := factFlagRE.FindStringSubmatch(fs); fl != nil {
			f.flag = fl[1][0]
		}
		facts[m[1]] = f
	}
	if len(names) < 60 {
		t.Fatalf("INDEX.md: read %d rows, want 62", len(names))
	}
	return facts, names
}

func readCorpusFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorpus reads every MSRP file of the RFC corpus and checks it against
// the facts and expectations of INDEX.md.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t, "msrp")
	facts, names := readIndex(t, dir)
	facts["derived/rfc4975-s5.1-fig3-chunk1-ABORTED.txt"] = derivedFacts

	listed := map[string]bool{}
	for _, c := range corpusTable {
		listed[c.file] = true
	}
	for _, n := range names {
		if !listed[n] {
			t.Errorf("INDEX.md lists %s, which corpusTable does not classify", n)
		}
	}
	for _, c := range corpusTable {
		if !strings.HasPrefix(c.file, "derived/") && !slices.Contains(names, c.file) {
			t.Errorf("corpusTable lists %s, which INDEX.md does not", c.file)
		}
	}

	for _, c := range corpusTable {
		t.Run(c.file, func(t *testing.T) {
			if c.kind == kNotMSRP {
				t.Skip(c.reason)
			}
			f, ok := facts[c.file]
			if !ok {
				t.Fatalf("INDEX.md has no MSRP facts for %s", c.file)
			}
			b := readCorpusFile(t, dir, c.file)
			if c.kind == kIncomplete {
				checkIncomplete(t, b, f)
				return
			}
			// Whole file, and one byte at a time: same result.
			m := readOne(t, NewReader(bytes.NewReader(b), ReaderOptions{}))
			m1 := readOne(t, NewReader(iotest.OneByteReader(bytes.NewReader(b)), ReaderOptions{}))
			if !equalMessages(m, m1) {
				t.Errorf("one-byte reader read %+v, whole reader %+v", m1, m)
			}
			checkFacts(t, m, f)
			switch c.kind {
			case kValid:
				if err := m.Validate(); err != nil {
					t.Errorf("Validate: %v", err)
				}
				out, err := m.Marshal()
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				if got, want := sortedLines(out), sortedLines(b); got != want {
					t.Errorf("Marshal lost or changed lines:\n got %q\nfile %q", out, b)
				}
				m2 := readOne(t, NewReader(bytes.NewReader(out), ReaderOptions{}))
				if !equalMessages(m, m2) {
					t.Errorf("re-read differs:\n%+v\n%+v", m, m2)
				}
			case kSnippet:
				err := m.Validate()
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != 400 || pe.TransactionID != f.tid {
					t.Errorf("Validate = %v, want a 400 for transaction %s (To-Path/From-Path missing)", err, f.tid)
				}
			}
		})
	}
}

// readOne reads a stream that holds exactly one frame.
func readOne(t *testing.T, r *Reader) *Message {
	t.Helper()
	m, err := r.Read()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if m2, err := r.Read(); err != io.EOF {
		t.Fatalf("second Read = %v, %v; want io.EOF", m2, err)
	}
	return m
}

func checkFacts(t *testing.T, m *Message, f indexFacts) {
	t.Helper()
	if m.Request != f.request || m.Method != f.method || m.StatusCode != f.code || m.Comment != f.comment {
		t.Errorf("start line: request=%v %q %d %q; INDEX says request=%v %q %d %q",
			m.Request, m.Method, m.StatusCode, m.Comment, f.request, f.method, f.code, f.comment)
	}
	if m.TransactionID != f.tid {
		t.Errorf("tid %q, INDEX says %q", m.TransactionID, f.tid)
	}
	for _, p := range []struct {
		name string
		got  []URI
		want int
	}{{"To-Path", m.ToPath, f.toPath}, {"From-Path", m.FromPath, f.fromPath}} {
		if want := max(p.want, 0); len(p.got) != want {
			t.Errorf("%s: %d URIs, INDEX says %d", p.name, len(p.got), want)
		}
	}
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s %q, INDEX says %q", name, got, want)
		}
	}
	check("Message-ID", m.MessageID, f.messageID)
	br := ""
	if !m.ByteRange.IsZero() {
		br = m.ByteRange.String()
	}
	check("Byte-Range", br, f.byteRange)
	check("Content-Type", m.ContentType, f.contentType)
	check("Success-Report", m.SuccessReport, f.successRep)
	check("Failure-Report", m.FailureReport, f.failRep)
	st := ""
	if m.Status != nil {
		st = m.Status.String()
	}
	check("Status", st, f.status)
	up, _ := m.Header("Use-Path")
	check("Use-Path", up, f.usePath)
	if f.usePath != "" {
		path, err := m.UsePath()
		if err != nil || len(path) != len(strings.Fields(f.usePath)) {
			t.Errorf("UsePath() = %v, %v", path, err)
		}
	}
	ex, _ := m.Header("Expires")
	check("Expires", ex, f.expires)
	if len(m.Body) != f.content {
		t.Errorf("content %d octets, INDEX says %d", len(m.Body), f.content)
	}
	if m.Flag != f.flag {
		t.Errorf("flag %q, INDEX says %q", m.Flag, f.flag)
	}
}

// checkIncomplete: without an end-line a stream reader keeps waiting, and
// the end of the stream is a fatal 400 for that transaction.
func checkIncomplete(t *testing.T, b []byte, f indexFacts) {
	t.Helper()
	_, err := NewReader(bytes.NewReader(b), ReaderOptions{}).Read()
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Code != 400 || !pe.Fatal || pe.TransactionID != f.tid || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Read = %v, want a fatal 400 for %s wrapping io.ErrUnexpectedEOF", err, f.tid)
	}

	pr, pw := io.Pipe()
	defer pr.Close()
	r := NewReader(pr, ReaderOptions{})
	type result struct {
		m   *Message
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := r.Read()
		done <- result{m, err}
	}()
	if _, err := pw.Write(b); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		t.Fatalf("Read returned %v, %v before the end-line arrived", res.m, res.err)
	case <-time.After(50 * time.Millisecond):
	}
	go pw.Write([]byte("-------" + f.tid + "$\r\n"))
	res := <-done
	if res.err != nil || res.m.TransactionID != f.tid || res.m.StatusCode != f.code || res.m.Flag != '$' {
		t.Fatalf("after the end-line: %+v, %v", res.m, res.err)
	}
}

// sortedLines returns the CRLF lines of b sorted, to compare a message
// with its re-marshalled form whatever the header order.
func sortedLines(b []byte) string {
	lines := strings.Split(string(b), "\r\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestCorpusExpectations checks what the "Expected" column of INDEX.md
// says about particular files and pairs of files.
func TestCorpusExpectations(t *testing.T) {
	dir := corpus.Dir(t, "msrp")
	read := func(name string) *Message {
		t.Helper()
		return readOne(t, NewReader(bytes.NewReader(readCorpusFile(t, dir, name)), ReaderOptions{}))
	}
	marshal := func(m *Message) string {
		t.Helper()
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	file := func(name string) string { return string(readCorpusFile(t, dir, name)) }

	t.Run("fig3 chunk1+chunk2 reassemble to abcdEFGH", func(t *testing.T) {
		ra := NewReassembler(ReassemblerOptions{})
		a, err := ra.Add(read("rfc4975-s5.1-fig3-chunk1.txt"))
		if err != nil || a.State != AssemblyPartial {
			t.Fatalf("chunk1: %+v, %v", a, err)
		}
		a, err = ra.Add(read("rfc4975-s5.1-fig3-chunk2.txt"))
		if err != nil || a.State != AssemblyComplete || string(a.Body) != "abcdEFGH" || a.Total != 8 || a.MessageID != "4564dpWd" {
			t.Fatalf("chunk2: %+v, %v", a, err)
		}
		if ra.Pending() != 0 || ra.Buffered() != 0 {
			t.Errorf("Pending %d Buffered %d after completion", ra.Pending(), ra.Buffered())
		}
	})
	t.Run("fig3 chunks out of order", func(t *testing.T) {
		ra := NewReassembler(ReassemblerOptions{})
		a, _ := ra.Add(read("rfc4975-s5.1-fig3-chunk2.txt"))
		if a.State != AssemblyPartial {
			t.Fatalf("last chunk first: %v", a.State)
		}
		a, _ = ra.Add(read("rfc4975-s5.1-fig3-chunk1.txt"))
		if a.State != AssemblyComplete || string(a.Body) != "abcdEFGH" {
			t.Fatalf("%+v", a)
		}
	})
	t.Run("derived ABORTED: flag # reported as aborted with abcd", func(t *testing.T) {
		ra := NewReassembler(ReassemblerOptions{})
		a, err := ra.Add(read("derived/rfc4975-s5.1-fig3-chunk1-ABORTED.txt"))
		if err != nil || a.State != AssemblyAborted || string(a.Body) != "abcd" || ra.Pending() != 0 {
			t.Fatalf("%+v, %v", a, err)
		}
	})
	t.Run("fig2 SEND: 23 octets delivered although Byte-Range says 25", func(t *testing.T) {
		m := read("rfc4975-s4-fig2-send.txt")
		if string(m.Body) != "Hey Bob, are you there?" {
			t.Errorf("body %q", m.Body)
		}
		a, _ := NewReassembler(ReassemblerOptions{}).Add(m)
		if a.State != AssemblyComplete || a.Size != 23 || a.Total != 25 {
			t.Errorf("%+v", a)
		}
	})
	t.Run("responses built by NewResponse are the RFC's", func(t *testing.T) {
		for _, p := range [][2]string{
			{"rfc4975-s4-fig2-send.txt", "rfc4975-s4-fig2-200ok.txt"},
			{"rfc4975-s11.1-step4-send.txt", "rfc4975-s11.1-step5-200ok.txt"},
			{"rfc4975-s11.1-step6-send.txt", "rfc4975-s11.1-step7-200ok.txt"},
		} {
			if got := marshal(NewResponse(read(p[0]), 200, "")); got != file(p[1]) {
				t.Errorf("response to %s:\n%q\nwant %s:\n%q", p[0], got, p[1], file(p[1]))
			}
		}
		resp := NewResponse(read("rfc4976-s5.1-auth-49fh.txt"), StatusUnauthorized, "")
		resp.AddHeader("WWW-Authenticate", `Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"`)
		if got, want := marshal(resp), file("rfc4976-s5.1-401-49fh.txt"); got != want {
			t.Errorf("401 to AUTH 49fh:\n%q\nwant\n%q", got, want)
		}
		// RFC 4976: relay a answers SEND 6aef to its previous hop.
		resp = NewResponse(read("rfc4976-s3-send-6aef.txt"), 200, "")
		resp.MessageID = "87652"
		if got, want := marshal(resp), file("rfc4976-s3-200ok-6aef.txt"); got != want {
			t.Errorf("200 to SEND 6aef:\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("REPORTs built by NewReport are the RFC's", func(t *testing.T) {
		send := read("rfc4975-s11.6-fig16-send.txt")
		if !send.WantsSuccessReport() || send.FailureReportMode() != "no" {
			t.Errorf("fig16: WantsSuccessReport %v FailureReportMode %q", send.WantsSuccessReport(), send.FailureReportMode())
		}
		rep := NewReport(send, ByteRange{1, 106, 106}, Status{Code: 200, Comment: "OK"})
		if !validTransactionID(rep.TransactionID) || rep.TransactionID == send.TransactionID {
			t.Errorf("REPORT tid %q", rep.TransactionID)
		}
		rep.TransactionID = "dkei38sd"
		if got, want := marshal(rep), file("rfc4975-s11.6-fig17-report.txt"); got != want {
			t.Errorf("REPORT for fig16:\n%q\nwant\n%q", got, want)
		}
		// RFC 4976: Bob reports on SEND xght6 through both relays.
		rep = NewReport(read("rfc4976-s3-send-xght6.txt"), ByteRange{1, 39, 39}, Status{Code: 200, Comment: "OK"})
		rep.TransactionID = "yh67"
		if got, want := marshal(rep), file("rfc4976-s3-report-yh67-hop1.txt"); got != want {
			t.Errorf("REPORT for xght6:\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("s11.5 system message: no reports", func(t *testing.T) {
		m := read("rfc4975-s11.5-send-system.txt")
		if m.WantsSuccessReport() || m.FailureReportMode() != "no" {
			t.Errorf("WantsSuccessReport %v FailureReportMode %q", m.WantsSuccessReport(), m.FailureReportMode())
		}
		if m := read("rfc4975-s4-fig2-send.txt"); m.WantsSuccessReport() || m.FailureReportMode() != "yes" {
			t.Errorf("defaults: WantsSuccessReport %v FailureReportMode %q", m.WantsSuccessReport(), m.FailureReportMode())
		}
	})
	t.Run("fig14+fig15 CPIM chunks: 147 octets, total says 148", func(t *testing.T) {
		ra := NewReassembler(ReassemblerOptions{})
		c1 := read("rfc4975-s11.4-fig14-chunk1-cpim.txt")
		if !bytes.HasPrefix(c1.Body, []byte("To: Bob <sip:bob@example.com>")) {
			t.Errorf("chunk 1 body %q", c1.Body)
		}
		ra.Add(c1)
		a, err := ra.Add(read("rfc4975-s11.4-fig15-chunk2-cpim.txt"))
		if err != nil || a.State != AssemblyComplete || a.Size != 147 || a.Total != 148 ||
			!bytes.HasSuffix(a.Body, []byte("ABCD1234567890")) {
			t.Fatalf("%+v, %v", a, err)
		}
	})
	t.Run("RFC 5547 fig10+fig11 placeholders: never over-read, gap stays open", func(t *testing.T) {
		ra := NewReassembler(ReassemblerOptions{})
		ra.Add(read("rfc5547-s9.1-fig10-send-chunk1.txt"))
		a, err := ra.Add(read("rfc5547-s9.1-fig11-send-chunk2.txt"))
		if err != nil || a.State != AssemblyPartial || a.Received != 338+45 || a.Total != 4385 {
			t.Fatalf("%+v, %v", a, err)
		}
	})
	t.Run("RFC 5547 fig21: whole range with flag +: not complete", func(t *testing.T) {
		m := read("rfc5547-s9.2-fig21-send.txt")
		a, err := NewReassembler(ReassemblerOptions{}).Add(m)
		if err != nil || a.State != AssemblyPartial {
			t.Fatalf("%+v, %v", a, err)
		}
	})
	t.Run("RFC 4976 49fh: userinfo, no port, no session-id", func(t *testing.T) {
		m := read("rfc4976-s5.1-auth-49fh.txt")
		u := m.ToPath[0]
		if !u.Secure || u.User != "alice" || u.Host != "intra.example.com" || u.Port != 0 || u.SessionID != "" || u.Transport != "tcp" {
			t.Errorf("%+v", u)
		}
	})
	t.Run("RFC 4976 m3nbvx: the duplicated Use-Path URIs are equal", func(t *testing.T) {
		path, err := read("rfc4976-s5.1-200ok-m3nbvx.txt").UsePath()
		if err != nil || len(path) != 2 || !path[0].Equal(path[1]) {
			t.Fatalf("%v, %v", path, err)
		}
	})
	t.Run("hops of SEND 6aef/juh76/xght6 carry the same message", func(t *testing.T) {
		var prev *Message
		for _, f := range []string{"rfc4976-s3-send-6aef.txt", "rfc4976-s3-send-juh76.txt", "rfc4976-s3-send-xght6.txt"} {
			m := read(f)
			if prev != nil && (!bytes.Equal(m.Body, prev.Body) || m.MessageID != prev.MessageID) {
				t.Errorf("%s differs from the previous hop", f)
			}
			if !m.ToPath[len(m.ToPath)-1].Equal(mustURI(t, "msrps://bob.example.net:8145/foo;tcp")) {
				t.Errorf("%s: last To-Path URI %v", f, m.ToPath[len(m.ToPath)-1])
			}
			prev = m
		}
	})
	t.Run("SIP in an MSRP stream: framing lost", func(t *testing.T) {
		_, err := NewReader(bytes.NewReader(readCorpusFile(t, dir, "rfc4975-s4-fig1-invite-fragment.txt")), ReaderOptions{}).Read()
		var pe *ProtocolError
		if !errors.As(err, &pe) || !pe.Fatal || pe.Code != 400 || pe.TransactionID != "" {
			t.Fatalf("Read = %v, want a fatal 400", err)
		}
	})
}

func mustURI(t testing.TB, s string) URI {
	t.Helper()
	u, err := ParseURI(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
