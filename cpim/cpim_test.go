package cpim

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/internal/corpus"
)

// ---------------------------------------------------------------------------
// Helpers

// diffMessage describes how got differs from want, "" if they are equal.
// Nil and empty slices, maps and bodies are equal; times are equal when they
// are the same instant in the same UTC offset.
func diffMessage(got, want *Message) string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %#v, want %#v", field, g, w)) }
	if got.From != want.From {
		add("From", got.From, want.From)
	}
	if !slices.Equal(got.To, want.To) {
		add("To", got.To, want.To)
	}
	if !slices.Equal(got.CC, want.CC) {
		add("CC", got.CC, want.CC)
	}
	if !sameTime(got.DateTime, want.DateTime) {
		add("DateTime", got.DateTime.String(), want.DateTime.String())
	}
	if !slices.Equal(got.Subject, want.Subject) {
		add("Subject", got.Subject, want.Subject)
	}
	if !maps.Equal(got.Namespaces, want.Namespaces) {
		add("Namespaces", got.Namespaces, want.Namespaces)
	}
	if !slices.Equal(got.Headers, want.Headers) {
		add("Headers", got.Headers, want.Headers)
	}
	if got.ContentType != want.ContentType {
		add("ContentType", got.ContentType, want.ContentType)
	}
	if got.ContentID != want.ContentID {
		add("ContentID", got.ContentID, want.ContentID)
	}
	if !slices.Equal(got.ContentHeaders, want.ContentHeaders) {
		add("ContentHeaders", got.ContentHeaders, want.ContentHeaders)
	}
	if !bytes.Equal(got.Body, want.Body) {
		add("Body", string(got.Body), string(want.Body))
	}
	return strings.Join(d, "\n")
}

func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

func mustParse(t testing.TB, b []byte) *Message {
	t.Helper()
	m, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v\ninput:\n%s", err, b)
	}
	return m
}

func readFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------------
// Corpus (shared/rfc-corpus/im, see its INDEX.md)

// indexRow is one row of the corpus INDEX.md table.
type indexRow struct {
	file, validity, expected, facts string
	size                            int
	sha16                           string
}

func readIndex(t *testing.T, dir string) map[string]indexRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "INDEX.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := make(map[string]indexRow)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) != 9 {
			t.Fatalf("INDEX.md: %d cells in %q", len(cells), line)
		}
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		size, err := strconv.Atoi(cells[6])
		if err != nil {
			t.Fatalf("INDEX.md: size of %s: %v", cells[1], err)
		}
		rows[cells[1]] = indexRow{file: cells[1], validity: cells[3], expected: cells[4], facts: cells[5], size: size, sha16: cells[7]}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Fatalf("INDEX.md: only %d rows", len(rows))
	}
	return rows
}

// factList returns the comma-separated list that follows label in facts
// ("CPIM header block: From, To; ..." -> [From To]).
func factList(facts, label string) []string {
	_, rest, ok := strings.Cut(facts, label)
	if !ok {
		return nil
	}
	rest, _, _ = strings.Cut(rest, ";")
	var out []string
	for _, s := range strings.Split(rest, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// factBytes returns N from "label=N B" in facts, or -1.
func factBytes(facts, label string) int {
	_, rest, ok := strings.Cut(facts, label+"=")
	if !ok {
		return -1
	}
	n, _, _ := strings.Cut(rest, " B")
	v, err := strconv.Atoi(n)
	if err != nil {
		return -1
	}
	return v
}

// cpimHeaderNames lists, sorted, the CPIM header names a Message stands for.
func cpimHeaderNames(m *Message) []string {
	var names []string
	if m.From != (Address{}) {
		names = append(names, "From")
	}
	for range m.To {
		names = append(names, "To")
	}
	for range m.CC {
		names = append(names, "cc")
	}
	if !m.DateTime.IsZero() {
		names = append(names, "DateTime")
	}
	for range m.Subject {
		names = append(names, "Subject")
	}
	for range m.Namespaces {
		names = append(names, "NS")
	}
	for _, h := range m.Headers {
		if h.Namespace != "" {
			names = append(names, h.Namespace+"."+h.Name)
		} else {
			names = append(names, h.Name)
		}
	}
	slices.Sort(names)
	return names
}

// mimeHeaderNames lists, sorted and lower-cased, the MIME headers of the
// content.
func mimeHeaderNames(m *Message) []string {
	var names []string
	if m.ContentType != "" {
		names = append(names, "content-type")
	}
	if m.ContentID != "" {
		names = append(names, "content-id")
	}
	for _, h := range m.ContentHeaders {
		names = append(names, strings.ToLower(h.Name))
	}
	slices.Sort(names)
	return names
}

// TestCorpusIndexFacts checks every CPIM file of the corpus against the facts
// INDEX.md computed from its bytes: size and hash, the headers of the CPIM
// header block (CPIM headers, and the MIME headers RFC 5438 mixes into it),
// the MIME headers of the content, and the size of the content.
func TestCorpusIndexFacts(t *testing.T) {
	dir := corpus.Dir(t, "im")
	rows := readIndex(t, dir)
	checked := 0
	for _, row := range rows {
		if !strings.HasSuffix(row.file, ".txt") || !(strings.HasPrefix(row.file, "rfc3862-") || strings.HasPrefix(row.file, "rfc5438-")) {
			continue
		}
		t.Run(row.file, func(t *testing.T) {
			b := readFile(t, dir, row.file)
			sum := sha256.Sum256(b)
			if len(b) != row.size || hex.EncodeToString(sum[:8]) != row.sha16 {
				t.Fatalf("file is %d B sha256 %x, INDEX says %d B %s: corpus changed", len(b), sum[:8], row.size, row.sha16)
			}
			block := factList(row.facts, "CPIM header block:")
			if block == nil {
				return // fragments and the multipart: dedicated tests below
			}
			checked++
			m := mustParse(t, b)
			var wantCPIM, wantMIME []string
			for _, name := range block {
				if isMIMEName(name) {
					wantMIME = append(wantMIME, strings.ToLower(name))
				} else {
					wantCPIM = append(wantCPIM, name)
				}
			}
			for _, name := range factList(row.facts, "MIME headers:") {
				wantMIME = append(wantMIME, strings.ToLower(name))
			}
			slices.Sort(wantCPIM)
			slices.Sort(wantMIME)
			if got := cpimHeaderNames(m); !slices.Equal(got, wantCPIM) {
				t.Errorf("CPIM headers %v, INDEX says %v", got, wantCPIM)
			}
			if got := mimeHeaderNames(m); !slices.Equal(got, wantMIME) {
				t.Errorf("MIME headers %v, INDEX says %v", got, wantMIME)
			}
			want := factBytes(row.facts, "content")
			if want < 0 {
				want = factBytes(row.facts, "remaining body")
			}
			if want < 0 {
				t.Fatalf("no content size in INDEX facts %q", row.facts)
			}
			if len(m.Body) != want {
				t.Errorf("content is %d B, INDEX says %d B", len(m.Body), want)
			}
			// Whatever the layout of the input, the message survives a
			// Marshal/Parse round trip.
			out, err := m.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if d := diffMessage(mustParse(t, out), m); d != "" {
				t.Errorf("round trip:\n%s", d)
			}
		})
	}
	if checked != 7 && !t.Failed() {
		t.Errorf("checked %d files with a CPIM header block, want 7 (2 of RFC 3862, 5 of RFC 5438)", checked)
	}
}

// rfc3862Example is the message of RFC 3862 section 5.1.
func rfc3862Example() *Message {
	return &Message{
		From:     Address{"MR SANDERS", "im:piglet@100akerwood.com"},
		To:       []Address{{"Depressed Donkey", "im:eeyore@100akerwood.com"}},
		DateTime: time.Date(2000, 12, 13, 13, 40, 0, 0, time.FixedZone("", -8*3600)),
		Subject: []Subject{
			{"", "the weather will be fine today"},
			{"fr", "beau temps prevu pour aujourd'hui"},
		},
		Namespaces: map[string]string{"MyFeatures": "mid:MessageFeatures@id.foo.com"},
		Headers: []Header{
			{"", "Require", "MyFeatures.VitalMessageOption"},
			{"MyFeatures", "VitalMessageOption", "Confirmation-requested"},
			{"MyFeatures", "WackyMessageOption", "Use-silly-font"},
		},
		ContentType: "text/xml; charset=utf-8",
		ContentID:   "<1234567890@foo.com>",
		Body:        []byte("<body>\r\nHere is the text of my message.\r\n</body>\r\n"),
	}
}

// TestCorpusCPIMBody: rfc3862-s5.1-cpim-body.txt parses into From, To,
// DateTime, both Subjects, the NS declaration, Require and the two
// MyFeatures.* headers (resolved through NS), the inner Content-type and
// Content-ID and the 50-octet content. Header names are case-sensitive.
func TestCorpusCPIMBody(t *testing.T) {
	dir := corpus.Dir(t, "im")
	b := readFile(t, dir, "rfc3862-s5.1-cpim-body.txt")
	m := mustParse(t, b)
	if d := diffMessage(m, rfc3862Example()); d != "" {
		t.Fatalf("Parse:\n%s", d)
	}
	if v, ok := m.Lookup("mid:MessageFeatures@id.foo.com", "VitalMessageOption"); !ok || v != "Confirmation-requested" {
		t.Errorf("Lookup VitalMessageOption = %q, %v", v, ok)
	}
	if v, ok := m.Lookup(StandardNamespace, "Require"); !ok || v != "MyFeatures.VitalMessageOption" {
		t.Errorf("Lookup Require = %q, %v", v, ok)
	}

	// Header names are case-sensitive: "from" is an extension header.
	lower := bytes.Replace(b, []byte("From:"), []byte("from:"), 1)
	m = mustParse(t, lower)
	if m.From != (Address{}) {
		t.Errorf("from: parsed as From %v", m.From)
	}
	if m.Headers[0] != (Header{"", "from", "MR SANDERS <im:piglet@100akerwood.com>"}) {
		t.Errorf("first extension header %#v", m.Headers[0])
	}
}

// TestCorpusOuterMIMEHeader: the same message preceded by its outer MIME
// header ("Content-type: Message/CPIM", blank line) parses into the same
// Message: the outer block is recognized and skipped.
func TestCorpusOuterMIMEHeader(t *testing.T) {
	dir := corpus.Dir(t, "im")
	m := mustParse(t, readFile(t, dir, "rfc3862-s5.1-cpim-with-outer-mime-header.txt"))
	if d := diffMessage(m, rfc3862Example()); d != "" {
		t.Fatalf("Parse:\n%s", d)
	}
}

// TestCorpusHeaderExamples: the section 2.2 fragment is a CPIM header block
// alone. Parse reports the missing blank line; completed with the two blank
// lines it yields To "Pooh Bear", From without display name and the DateTime.
func TestCorpusHeaderExamples(t *testing.T) {
	dir := corpus.Dir(t, "im")
	b := readFile(t, dir, "rfc3862-s2.2-header-examples.txt")
	if _, err := Parse(b); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "missing blank line after the CPIM message headers") {
		t.Errorf("Parse(fragment) error = %v, want ErrMalformed about the missing blank line", err)
	}
	m := mustParse(t, append(b, "\r\n\r\n"...))
	want := &Message{
		To:       []Address{{"Pooh Bear", "im:pooh@100akerwood.com"}},
		From:     Address{"", "im:piglet@100akerwood.com"},
		DateTime: time.Date(2001, 2, 2, 10, 48, 54, 0, time.FixedZone("", -5*3600)),
	}
	if d := diffMessage(m, want); d != "" {
		t.Fatalf("Parse:\n%s", d)
	}
}

// TestCorpusContentExample: the section 2.4 fragment is the encapsulated MIME
// object alone. Parse refuses it as a message (it starts with MIME headers of
// a text/plain entity); preceded by an empty CPIM header block it yields the
// Content-Type, Content-ID and text.
func TestCorpusContentExample(t *testing.T) {
	dir := corpus.Dir(t, "im")
	b := readFile(t, dir, "rfc3862-s2.4-content-example.txt")
	if _, err := Parse(b); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "text/plain") {
		t.Errorf("Parse(fragment) error = %v, want ErrMalformed naming text/plain", err)
	}
	m := mustParse(t, append([]byte("\r\n"), b...))
	want := &Message{
		ContentType: "text/plain; charset=utf-8",
		ContentID:   "<1234567890@foo.com>",
		Body:        []byte("This is my encapsulated text message content\r\n"),
	}
	if d := diffMessage(m, want); d != "" {
		t.Fatalf("Parse:\n%s", d)
	}
}

// TestCorpusMultipartSigned: the section 5.2 example is a multipart/signed
// entity, not a message/cpim body. Parse returns a clear error (no panic);
// once the caller has split the multipart with mime/multipart, the first part
// parses as the CPIM message (To "Dopey Donkey").
func TestCorpusMultipartSigned(t *testing.T) {
	dir := corpus.Dir(t, "im")
	b := readFile(t, dir, "rfc3862-s5.2-cpim-multipart-signed.txt")
	_, err := Parse(b)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "multipart/signed") {
		t.Fatalf("Parse error = %v, want ErrMalformed naming multipart/signed", err)
	}

	outer, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// The RFC leaves protocol=application/pkcs7-signature unquoted, which
	// is not a MIME token, so mime.ParseMediaType returns only the type.
	ct := outer.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if mt != "multipart/signed" || !errors.Is(err, mime.ErrInvalidMediaParameter) || !strings.Contains(ct, "boundary=next;") {
		t.Fatalf("outer Content-Type %q: %s %v", ct, mt, err)
	}
	mr := multipart.NewReader(outer.Body, "next")
	part, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct := part.Header.Get("Content-Type"); !strings.EqualFold(ct, MediaType) {
		t.Fatalf("part 1 Content-Type %q", ct)
	}
	body, err := io.ReadAll(part)
	if err != nil {
		t.Fatal(err)
	}
	m := mustParse(t, body)
	want := rfc3862Example()
	want.To = []Address{{"Dopey Donkey", "im:eeyore@100akerwood.com"}}
	// The CRLF before the next boundary belongs to the delimiter.
	want.Body = bytes.TrimSuffix(want.Body, []byte("\r\n"))
	if d := diffMessage(m, want); d != "" {
		t.Fatalf("part 1:\n%s", d)
	}
	part, err = mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct := part.Header.Get("Content-Type"); ct != "application/pkcs7-signature" {
		t.Errorf("part 2 Content-Type %q", ct)
	}
}

// TestCorpusRFC5438 checks the IMDN examples, which put the content's MIME
// headers in the CPIM header block: the payload is still found, the imdn.*
// headers resolve through NS, Content-length (wrong or "...") is kept as it
// is, and the outer MIME header of the processing notification is skipped.
func TestCorpusRFC5438(t *testing.T) {
	dir := corpus.Dir(t, "im")
	imdn := map[string]string{"imdn": "urn:ietf:params:imdn"}
	alice := Address{"Alice", "im:alice@example.com"}
	bob := Address{"Bob", "im:bob@example.com"}

	m := mustParse(t, readFile(t, dir, "rfc5438-s7.1.1.3-im-requesting-delivery-notifications.txt"))
	want := &Message{
		From:       alice,
		To:         []Address{bob},
		Namespaces: imdn,
		DateTime:   time.Date(2006, 4, 4, 12, 16, 49, 0, time.FixedZone("", -5*3600)),
		Headers: []Header{
			{"imdn", "Message-ID", "34jk324j"},
			{"imdn", "Disposition-Notification", "positive-delivery, negative-delivery"},
		},
		ContentType:    "text/plain",
		ContentHeaders: []Header{{"", "Content-length", "12"}},
		Body:           []byte("Hello World\r\n"),
	}
	if d := diffMessage(m, want); d != "" {
		t.Errorf("s7.1.1.3:\n%s", d)
	}
	if v, _ := m.Lookup("urn:ietf:params:imdn", "Disposition-Notification"); v != "positive-delivery, negative-delivery" {
		t.Errorf("Lookup Disposition-Notification = %q", v)
	}

	for file, id := range map[string]string{
		"rfc5438-s7.2.1.1-delivery-notification.txt": "d834jied93rf",
		"rfc5438-s7.2.1.2-display-notification.txt":  "dfjkleriou432333",
	} {
		m := mustParse(t, readFile(t, dir, file))
		if m.From != bob || !slices.Equal(m.To, []Address{alice}) || m.ContentType != "message/imdn+xml" ||
			!slices.Equal(m.ContentHeaders, []Header{{"", "Content-Disposition", "notification"}, {"", "Content-length", "..."}}) ||
			!bytes.HasPrefix(m.Body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
			t.Errorf("%s: %+v", file, m)
		}
		if v, ok := m.Lookup("urn:ietf:params:imdn", "Message-ID"); v != id || !ok {
			t.Errorf("%s: imdn Message-ID %q, want %q", file, v, id)
		}
	}

	m = mustParse(t, readFile(t, dir, "rfc5438-s8.1-processing-notification.txt"))
	if m.From != bob || m.Namespaces != nil || m.ContentType != "message/imdn+xml" || !bytes.Contains(m.Body, []byte("<processed/>")) {
		t.Errorf("s8.1: %+v", m)
	}

	// The folded multipart Content-type is unfolded; the missing close
	// delimiter is the multipart reader's business, not ours.
	m = mustParse(t, readFile(t, dir, "rfc5438-s8.3-aggregated-imdn-multipart.txt"))
	mt, params, err := mime.ParseMediaType(m.ContentType)
	if err != nil || mt != "multipart/mixed" || params["boundary"] != "imdn-boundary" {
		t.Errorf("s8.3 Content-type %q: %s %v %v", m.ContentType, mt, params, err)
	}
}

// msrpContent returns the content of an MSRP SEND request of the corpus: what
// lies between the blank line after the MSRP headers and the CRLF before the
// end-line. It is enough for the RFC examples; MSRP framing is another
// package's job.
func msrpContent(t *testing.T, b []byte) []byte {
	t.Helper()
	_, rest, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	end := bytes.LastIndex(rest, []byte("\r\n-------"))
	if !ok || end < 0 {
		t.Fatal("not an MSRP request with content")
	}
	return rest[:end]
}

// TestCorpusMSRPChunks parses the CPIM bodies that RFC 4975 and RFC 5547 send
// over MSRP (msrp/ corpus), which also lack the blank line between the CPIM
// and the MIME headers. The two chunks of RFC 4975 section 11.4 are
// reassembled first.
func TestCorpusMSRPChunks(t *testing.T) {
	dir := corpus.Dir(t, "msrp")
	body := msrpContent(t, readFile(t, dir, "rfc4975-s11.4-fig14-chunk1-cpim.txt"))
	body = append(body, msrpContent(t, readFile(t, dir, "rfc4975-s11.4-fig15-chunk2-cpim.txt"))...)
	m := mustParse(t, body)
	want := &Message{
		To:          []Address{{"Bob", "sip:bob@example.com"}},
		From:        Address{"Alice", "sip:alice@example.com"},
		DateTime:    time.Date(2006, 5, 15, 15, 2, 31, 0, time.FixedZone("", -3*3600)),
		ContentType: "text/plain",
		Body:        []byte("ABCD1234567890"),
	}
	if d := diffMessage(m, want); d != "" {
		t.Errorf("RFC 4975 figures 14+15:\n%s", d)
	}

	for _, file := range []string{"rfc5547-s9.1-fig10-send-chunk1.txt", "rfc5547-s9.2-fig17-send.txt"} {
		m := mustParse(t, msrpContent(t, readFile(t, dir, file)))
		if m.ContentType != "image/jpeg" || len(m.ContentHeaders) != 1 || m.ContentHeaders[0].Name != "Content-Disposition" {
			t.Errorf("%s: %+v", file, m)
			continue
		}
		_, params, err := mime.ParseMediaType(m.ContentHeaders[0].Value)
		if err != nil || !strings.HasPrefix(params["filename"], "My cool") {
			t.Errorf("%s: folded Content-Disposition %q: %v %v", file, m.ContentHeaders[0].Value, params, err)
		}
	}
}

// ---------------------------------------------------------------------------
// Marshal

func TestMarshalGolden(t *testing.T) {
	m := &Message{
		From:     Address{`Alice "Al" \ Smith`, "sip:alice@example.com"},
		To:       []Address{{"", "sip:bob@example.com"}, {"Carol", "sip:carol@example.com"}},
		CC:       []Address{{"Dave", "sip:dave@example.com"}},
		DateTime: time.Date(2009, 6, 1, 12, 0, 0, 250_000_000, time.UTC),
		Subject:  []Subject{{"", "hi\tthere \\o/"}, {"fr", "salut"}, {"", ";-)"}},
		Namespaces: map[string]string{
			"imdn": "urn:ietf:params:imdn",
			"a":    "urn:example:a",
		},
		Headers: []Header{
			{"imdn", "Message-ID", "34jk324j"},
			{"", "Require", "imdn.Message-ID"},
			{"a", "X", ";p=1 v"},
		},
		ContentType:    "text/plain; charset=utf-8",
		ContentID:      "<1@example.com>",
		ContentHeaders: []Header{{"", "Content-Transfer-Encoding", "8bit"}},
		Body:           []byte("Hello\r\n"),
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "From: \"Alice \\\"Al\\\" \\\\ Smith\" <sip:alice@example.com>\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"To: \"Carol\" <sip:carol@example.com>\r\n" +
		"cc: \"Dave\" <sip:dave@example.com>\r\n" +
		"DateTime: 2009-06-01T12:00:00.25Z\r\n" +
		"Subject: hi\\tthere \\\\o/\r\n" +
		"Subject:;lang=fr salut\r\n" +
		"Subject: \\u003b-)\r\n" +
		"NS: a <urn:example:a>\r\n" +
		"NS: imdn <urn:ietf:params:imdn>\r\n" +
		"imdn.Message-ID: 34jk324j\r\n" +
		"Require: imdn.Message-ID\r\n" +
		"a.X:;p=1 v\r\n" +
		"\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-ID: <1@example.com>\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"\r\n" +
		"Hello\r\n"
	if string(got) != want {
		t.Errorf("Marshal:\n%q\nwant\n%q", got, want)
	}
	if d := diffMessage(mustParse(t, got), m); d != "" {
		t.Errorf("round trip:\n%s", d)
	}
}

func TestMarshalDateTime(t *testing.T) {
	lmt := time.FixedZone("LMT", 19*60+32) // +00:19:32, not whole minutes
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2009, 1, 2, 3, 4, 5, 0, time.UTC), "2009-01-02T03:04:05Z"},
		{time.Date(2009, 1, 2, 3, 4, 5, 120_000_000, time.FixedZone("", 5*3600+1800)), "2009-01-02T03:04:05.12+05:30"},
		{time.Date(2009, 1, 2, 3, 4, 5, 1, time.FixedZone("", -8*3600)), "2009-01-02T03:04:05.000000001-08:00"},
		{time.Date(1900, 1, 1, 0, 19, 32, 0, lmt), "1900-01-01T00:00:00Z"},
	} {
		b, err := (&Message{DateTime: tc.t}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if want := "DateTime: " + tc.want + "\r\n"; !strings.HasPrefix(string(b), want) {
			t.Errorf("%v: %q, want %q", tc.t, b, want)
		}
		if m := mustParse(t, b); !m.DateTime.Equal(tc.t) {
			t.Errorf("%v: parsed back as %v", tc.t, m.DateTime)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	ns := map[string]string{"p": "urn:p"}
	for _, tc := range []struct {
		name   string
		m      Message
		header string // the error must name it
		reason error  // the error must wrap it, if not nil
	}{
		{"CRLF in display name", Message{From: Address{"Eve\r\nTo: <sip:victim@x>", "sip:eve@x"}}, "From", errCRLF},
		{"LF in display name", Message{To: []Address{{"a\nb", "sip:a@x"}}}, "To", errCRLF},
		{"CR in URI", Message{CC: []Address{{"", "sip:a@x\r"}}}, "cc", errCRLF},
		{"space in URI", Message{From: Address{"", "sip:a b@x"}}, "From", nil},
		{"angle in URI", Message{From: Address{"", "sip:a>@x"}}, "From", nil},
		{"display name without URI", Message{From: Address{"Alice", ""}}, "From", nil},
		{"CRLF in Subject", Message{Subject: []Subject{{"", "hi\r\nFrom: <sip:eve@x>"}}}, "Subject", errCRLF},
		{"bad lang", Message{Subject: []Subject{{"f r", "x"}}}, "Subject", nil},
		{"invalid UTF-8 in Subject", Message{Subject: []Subject{{"", "\xff"}}}, "Subject", nil},
		{"CRLF in extension value", Message{Namespaces: ns, Headers: []Header{{"p", "X", "a\r\n\r\nbody"}}}, "p.X", errCRLF},
		{"LF in NS URN", Message{Namespaces: map[string]string{"p": "urn:p\n"}}, "NS", errCRLF},
		{"bad NS prefix", Message{Namespaces: map[string]string{"a.b": "urn:p"}}, "NS", nil},
		{"undeclared prefix", Message{Headers: []Header{{"q", "X", "v"}}}, "q.X", errUndeclared},
		{"space in header name", Message{Headers: []Header{{"", "Bad Name", "v"}}}, `"Bad Name"`, nil},
		{"dot in header name", Message{Namespaces: ns, Headers: []Header{{"p", "a.b", "v"}}}, `"p.a.b"`, nil},
		{"colon in header name", Message{Headers: []Header{{"", "X:Y", "v"}}}, `"X:Y"`, nil},
		{"empty header name", Message{Headers: []Header{{"", "", "v"}}}, `""`, nil},
		{"From in Headers", Message{Headers: []Header{{"", "From", "<sip:eve@x>"}}}, "From", nil},
		{"Content-Type in Headers", Message{Headers: []Header{{"", "content-type", "text/html"}}}, "content-type", nil},
		{"CRLF in Content-Type", Message{ContentType: "text/plain\r\n\r\nevil"}, "Content-Type", errCRLF},
		{"CRLF in Content-ID", Message{ContentID: "<a>\nX: y"}, "Content-ID", errCRLF},
		{"CRLF in content header", Message{ContentHeaders: []Header{{"", "Content-Disposition", "inline\r\nX: y"}}}, "Content-Disposition", errCRLF},
		{"NUL in content header", Message{ContentHeaders: []Header{{"", "X-Y", "a\x00"}}}, "X-Y", nil},
		{"bad content header name", Message{ContentHeaders: []Header{{"", "X Y", "v"}}}, `"X Y"`, nil},
		{"Content-Type in ContentHeaders", Message{ContentHeaders: []Header{{"", "Content-Type", "text/plain"}}}, "Content-Type", nil},
		{"Content-ID in ContentHeaders", Message{ContentHeaders: []Header{{"", "content-id", "<x>"}}}, "content-id", nil},
		{"prefixed content header", Message{ContentHeaders: []Header{{"p", "X", "v"}}}, "p.X", nil},
		{"year 10000", Message{DateTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "DateTime", nil},
		{"line too long", Message{Subject: []Subject{{"", strings.Repeat("\x00", MaxLineLength/6+1)}}}, "Subject", errTooLong},
		{"too many headers", Message{To: slices.Repeat([]Address{{"", "sip:a@x"}}, MaxHeaders+1)}, "To", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.m.Marshal()
			if err == nil {
				t.Fatalf("Marshal succeeded:\n%q", b)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if tc.reason != nil && !errors.Is(err, tc.reason) {
				t.Errorf("error %v does not wrap %v", err, tc.reason)
			}
			if !strings.Contains(err.Error(), tc.header+" header") {
				t.Errorf("error %q does not name the %s header", err, tc.header)
			}
			if b != nil {
				t.Errorf("Marshal returned bytes with its error")
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Round trip

func roundTripMessages() map[string]*Message {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	return map[string]*Message{
		"empty":   {},
		"minimal": {From: Address{"", "sip:a@example.com"}, To: []Address{{"", "sip:b@example.com"}}, ContentType: "text/plain", Body: []byte("hi")},
		"display names": {
			From: Address{`Alice "Al" \ Smith`, "sip:alice@example.com"},
			To: []Address{
				{`\"`, "sip:b@example.com"},
				{"Zoë 山田 🎉", "sip:zoe@example.com"},
				{"tab\there, nul\x00, bel\a, del\x7f, bs\b", "sip:ctl@example.com"},
				{" padded ", "sip:pad@example.com"},
				{`back\slash\u0041`, "sip:bs@example.com"},
				{"<angles> and ;semi", "sip:angle@example.com"},
			},
			CC:          []Address{{"Carol", "sip:carol@example.com"}, {"", "im:dave@example.com"}},
			ContentType: "text/plain",
		},
		"subjects": {
			Subject: []Subject{
				{"", "plain"},
				{"en-GB", "with lang"},
				{"", ";-) leading semicolon"},
				{"fr", ";lang=xx not a parameter"},
				{"", " leading space"},
				{"", ""},
				{"de", ""},
				{"", `C:\new\table "quoted"`},
				{"", "\x01\x1f"},
			},
			ContentType: "text/plain",
		},
		"namespaces": {
			Namespaces: map[string]string{"imdn": "urn:ietf:params:imdn", "x": "http://example.com/x", "": "urn:example:default"},
			Headers: []Header{
				{"imdn", "Message-ID", "34jk324j"},
				{"imdn", "Disposition-Notification", "positive-delivery, display"},
				{"", "Require", "imdn.Disposition-Notification"},
				{"x", "Params", ";a=1;b=\"two\" value"},
				{"x", "Empty", ""},
				{"x", "Escaped", `\ "q" \u00e9 ` + "\t"},
				{"", "from", "lower-case from is an extension header"},
				{"", "X-Custom", "  spaces  "},
			},
			ContentType: "text/plain",
		},
		"date times": {
			DateTime:    time.Date(2009, 3, 4, 12, 34, 56, 123456000, time.FixedZone("", 5*3600+30*60)),
			ContentType: "text/plain",
		},
		"date time UTC nanos": {DateTime: time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		"binary body": {
			ContentType:    "application/octet-stream",
			ContentHeaders: []Header{{"", "Content-Transfer-Encoding", "binary"}},
			Body:           append(append([]byte{}, allBytes...), "\r\n\r\nFrom: <sip:x@y>\r\n\r\n"...),
		},
		"empty body":      {From: Address{"A", "sip:a@x"}, ContentType: "text/plain"},
		"CRLF body":       {ContentType: "text/plain", Body: []byte("\r\n")},
		"no content type": {From: Address{"", "sip:a@x"}, Body: []byte("text")},
		"content headers only": {
			ContentHeaders: []Header{{"", "Content-Disposition", "render; filename=\"a b.jpg\";\tsize=3"}, {"", "MIME-Version", "1.0"}, {"", "X-Other", "é"}},
			Body:           []byte("abc"),
		},
		"nested cpim": {
			From:        Address{"Outer", "sip:outer@x"},
			ContentType: MediaType,
			Body:        []byte("From: <sip:inner@x>\r\n\r\nContent-Type: text/plain\r\n\r\ninner"),
		},
		"odd URI": {From: Address{"", `sip:"odd"\@example.com;p=1?h=v`}},
	}
}

func TestRoundTrip(t *testing.T) {
	for name, m := range roundTripMessages() {
		t.Run(name, func(t *testing.T) {
			b, err := m.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got := mustParse(t, b)
			if d := diffMessage(got, m); d != "" {
				t.Fatalf("Parse(Marshal(m)) differs:\n%s\nwire:\n%q", d, b)
			}
			// Marshal is deterministic.
			b2, err := got.Marshal()
			if err != nil || !bytes.Equal(b, b2) {
				t.Errorf("second Marshal: %v\n%q\n%q", err, b, b2)
			}
			// The wire form is CRLF-only: no bare LF or CR in the headers.
			hdr, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
			if bytes.Count(hdr, []byte("\n")) != bytes.Count(hdr, []byte("\r\n")) || bytes.Count(hdr, []byte("\r")) != bytes.Count(hdr, []byte("\r\n")) {
				t.Errorf("bare CR or LF in headers: %q", hdr)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Parse

func TestParseTolerance(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want *Message
	}{
		{
			name: "LF line ends",
			in:   "From: Alice <sip:alice@x>\nTo: <sip:bob@x>\n\nContent-Type: text/plain\n\nhi\n",
			want: &Message{From: Address{"Alice", "sip:alice@x"}, To: []Address{{"", "sip:bob@x"}}, ContentType: "text/plain", Body: []byte("hi\n")},
		},
		{
			// python-sipsimple: CPIM headers with CRLF, MIME part
			// generated by the email package with LF.
			name: "python-sipsimple mixed line ends",
			in: "From: Alice Smith <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\n" +
				"DateTime: 2009-03-04T12:34:56.123456+00:00\r\nNS: imdn <urn:ietf:params:imdn>\r\n" +
				"imdn.Message-ID: a1b2\r\n\r\nContent-Type: text/plain; charset=\"utf8\"\n\nHello",
			want: &Message{
				From:        Address{"Alice Smith", "sip:alice@example.com"},
				To:          []Address{{"", "sip:bob@example.com"}},
				DateTime:    time.Date(2009, 3, 4, 12, 34, 56, 123456000, time.UTC),
				Namespaces:  map[string]string{"imdn": "urn:ietf:params:imdn"},
				Headers:     []Header{{"imdn", "Message-ID", "a1b2"}},
				ContentType: `text/plain; charset="utf8"`,
				Body:        []byte("Hello"),
			},
		},
		{
			name: "no space after colon, lower-case t and z, spaces around address",
			in:   "From:<sip:a@x>\r\nTo:   \"B\"   <sip:b@x>  \r\nDateTime:2001-02-03t04:05:06z\r\n\r\n\r\n",
			want: &Message{From: Address{"", "sip:a@x"}, To: []Address{{"B", "sip:b@x"}}, DateTime: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)},
		},
		{
			name: "subject parameters",
			in: "Subject: ;lang=fr bonjour\r\nSubject:;lang=\"de\";x=1 hallo\r\nSubject: ;-)\r\nSubject:;lang=fr\r\n" +
				"Subject:;lang=!! x\r\nSubject:  two spaces\r\n\r\n\r\n",
			want: &Message{Subject: []Subject{{"fr", "bonjour"}, {"de", "hallo"}, {"", ";-)"}, {"fr", ""}, {"", ";lang=!! x"}, {"", " two spaces"}}},
		},
		{
			name: "escapes",
			in: `Subject: \u00e9\u00E9 \uD83D\uDE00 \uD800x \q \\ \" \' \b\t\u0000 \u12` + "\r\n" +
				`From: "A \"q\" \\ \u00e9" <sip:a@x>` + "\r\n" + `To: B\u0020C <sip:b@x>` + "\r\n\r\n\r\n",
			want: &Message{
				Subject: []Subject{{"", "éé 😀 \uFFFDx \\q \\ \" ' \b\t\x00 \\u12"}},
				From:    Address{`A "q" \ é`, "sip:a@x"},
				To:      []Address{{"B C", "sip:b@x"}},
			},
		},
		{
			name: "folded headers",
			in:   "From: <sip:a@x>\r\n\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"b\"\r\nContent-Disposition: render;\r\n  size=1\r\n\r\nx",
			want: &Message{From: Address{"", "sip:a@x"}, ContentType: "multipart/mixed;\tboundary=\"b\"", ContentHeaders: []Header{{"", "Content-Disposition", "render;  size=1"}}, Body: []byte("x")},
		},
		{
			name: "outer MIME header with parameters and LF",
			in:   "content-TYPE: Message/CPIM; charset=utf-8\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8BIT\n\nFrom: <sip:a@x>\n\n\nbody",
			want: &Message{From: Address{"", "sip:a@x"}, Body: []byte("body")},
		},
		{
			name: "standard header parameters are dropped",
			in:   "From:;x=1 <sip:a@x>\r\nNS:;y=\"z\" p <urn:p>\r\np.A: 1\r\n\r\n\r\n",
			want: &Message{From: Address{"", "sip:a@x"}, Namespaces: map[string]string{"p": "urn:p"}, Headers: []Header{{"p", "A", "1"}}},
		},
		{
			name: "undeclared prefix kept, NS redeclared with the same URN",
			in:   "q.X: 1\r\nNS: p <urn:p>\r\nNS: p <urn:p>\r\nNS:<urn:default>\r\n\r\n\r\n",
			want: &Message{Namespaces: map[string]string{"p": "urn:p", "": "urn:default"}, Headers: []Header{{"q", "X", "1"}}},
		},
		{
			name: "MIME headers in the CPIM block",
			in:   "From: <sip:a@x>\r\nContent-Type: text/plain\r\nMIME-Version: 1.0\r\n\r\nContent-Type: not a header\r\n",
			want: &Message{From: Address{"", "sip:a@x"}, ContentType: "text/plain", ContentHeaders: []Header{{"", "MIME-Version", "1.0"}}, Body: []byte("Content-Type: not a header\r\n")},
		},
		{
			name: "empty header blocks",
			in:   "\r\n\r\n",
			want: &Message{},
		},
		{
			name: "MIME block has non-Content headers",
			in:   "\r\nX-Foo: bar\r\nFrom: <not@cpim>\r\n\r\n",
			want: &Message{ContentHeaders: []Header{{"", "X-Foo", "bar"}, {"", "From", "<not@cpim>"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, []byte(tc.in))
			if d := diffMessage(m, tc.want); d != "" {
				t.Fatalf("Parse:\n%s", d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", MaxLineLength)
	for _, tc := range []struct {
		name, in string
		want     string // substring of the error
	}{
		{"empty input", "", "missing blank line after the CPIM message headers"},
		{"no blank line", "From: <sip:a@x>\r\nTo: <sip:b@x>\r\n", "missing blank line after the CPIM message headers"},
		{"no MIME blank line", "From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\nhello", "line 4: no colon"},
		{"MIME block unterminated", "From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\n", "missing blank line after the MIME headers"},
		{"nothing after CPIM headers", "From: <sip:a@x>\r\n\r\n", "missing blank line after the MIME headers"},
		{"outer header only", "Content-Type: message/cpim\r\n\r\n", "missing blank line after the CPIM message headers"},
		{"outer header of another type", "Content-Type: text/plain\r\n\r\nFrom: <sip:a@x>\r\n\r\n\r\n", "MIME headers (text/plain)"},
		{"encoded outer entity", "Content-Type: message/cpim\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTo=\r\n", "outer Content-Transfer-Encoding \"base64\""},
		{"MIME block first without Content-Type", "Content-ID: <x>\r\n\r\n\r\n\r\n", "no Content-Type"},
		{"header without colon", "From\r\n\r\n\r\n", "line 1: no colon"},
		{"colon only in the URI", "From <sip:a@x>\r\n\r\n\r\n", "line 1: invalid header name \"From <sip\""},
		{"From without URI", "From: Alice\r\n\r\n\r\n", "From header: missing <URI>"},
		{"From not closed", "From: <sip:a@x\r\n\r\n\r\n", "From header: URI not closed"},
		{"empty URI", "To: <>\r\n\r\n\r\n", "To header: empty URI"},
		{"space in URI", "cc: <sip:a b@x>\r\n\r\n\r\n", "cc header"},
		{"unterminated display name", "From: \"Alice <sip:a@x>\r\n\r\n\r\n", "unterminated quoted string"},
		{"text after display name", "From: \"Alice\" x <sip:a@x>\r\n\r\n\r\n", "want <URI> after the quoted display name"},
		{"repeated From", "From: <sip:a@x>\r\nFrom: <sip:b@x>\r\n\r\n\r\n", "line 2: From header: repeated"},
		{"bad DateTime", "DateTime: yesterday\r\n\r\n\r\n", "line 1: DateTime header: \"yesterday\" is not an RFC 3339 date-time"},
		{"DateTime without offset", "DateTime: 2000-12-13T13:40:00\r\n\r\n\r\n", "DateTime header"},
		{"repeated DateTime", "DateTime: 2000-12-13T13:40:00Z\r\nDateTime: 2000-12-13T13:40:00Z\r\n\r\n\r\n", "DateTime header: repeated"},
		{"bad NS", "NS: urn:x\r\n\r\n\r\n", "NS header: want [prefix] <URN>"},
		{"bad NS prefix", "NS: a.b <urn:x>\r\n\r\n\r\n", "invalid namespace prefix"},
		{"NS redeclared", "NS: p <urn:a>\r\nNS: p <urn:b>\r\n\r\n\r\n", "prefix \"p\" redeclared"},
		{"invalid header name", "Bad Name: x\r\n\r\n\r\n", "invalid header name \"Bad Name\""},
		{"two dots", "a.b.c: x\r\n\r\n\r\n", "invalid header name \"a.b.c\""},
		{"empty header name", ": x\r\n\r\n\r\n", "invalid header name \"\""},
		{"invalid MIME header name", "\r\nContent-Type: a\r\nX Y: b\r\n\r\n", "invalid MIME header name"},
		{"repeated Content-Type", "\r\nContent-Type: a\r\ncontent-type: b\r\n\r\n", "content-type header: repeated"},
		{"repeated Content-ID", "\r\nContent-ID: a\r\nContent-ID: b\r\n\r\n", "Content-ID header: repeated"},
		{"continuation first", " From: <sip:a@x>\r\n\r\n\r\n", "continuation line without a header"},
		{"control character", "Subject: a\x00b\r\n\r\n\r\n", "control character 0x00"},
		{"bare CR", "Subject: a\rFrom: <sip:eve@x>\r\n\r\n\r\n", "control character 0x0d"},
		{"invalid UTF-8", "Subject: \xff\r\n\r\n\r\n", "not valid UTF-8"},
		{"line too long", "Subject: " + long + "\r\n\r\n\r\n", "longer than"},
		{"folded line too long", "Subject: x\r\n " + long[:MaxLineLength/2] + "\r\n " + long[:MaxLineLength/2] + "\r\n\r\n\r\n", "longer than"},
		{"too many headers", strings.Repeat("To: <sip:a@x>\r\n", MaxHeaders+1) + "\r\n\r\n", "more than 1000 headers"},
		{"too many headers across blocks", strings.Repeat("To: <sip:a@x>\r\n", MaxHeaders) + "\r\nX: y\r\n\r\n", "more than 1000 headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", m)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestParseCopiesBody: the Message does not alias the input.
func TestParseCopiesBody(t *testing.T) {
	in := []byte("\r\nContent-Type: text/plain\r\n\r\nhello")
	m := mustParse(t, in)
	copy(in[len(in)-5:], "XXXXX")
	if string(m.Body) != "hello" {
		t.Errorf("Body changed with the input: %q", m.Body)
	}
}

// ---------------------------------------------------------------------------
// Address and Lookup

func TestAddress(t *testing.T) {
	for _, tc := range []struct {
		a    Address
		wire string
	}{
		{Address{"", "sip:a@x"}, "<sip:a@x>"},
		{Address{"Alice", "sip:a@x"}, `"Alice" <sip:a@x>`},
		{Address{`Al "the" \ Pal`, "sip:a@x"}, `"Al \"the\" \\ Pal" <sip:a@x>`},
		{Address{"a\tb\x01", "sip:a@x"}, `"a\tb\u0001" <sip:a@x>`},
		{Address{"Zoë", "im:zoe@x"}, `"Zoë" <im:zoe@x>`},
	} {
		if got := tc.a.String(); got != tc.wire {
			t.Errorf("%#v.String() = %s, want %s", tc.a, got, tc.wire)
		}
		got, err := ParseAddress(tc.wire)
		if err != nil || got != tc.a {
			t.Errorf("ParseAddress(%s) = %#v, %v", tc.wire, got, err)
		}
	}
	// Unquoted formal names (RFC 3862 "1*( Token SP )").
	if got, err := ParseAddress("Winnie the Pooh <im:pooh@100akerwood.com>"); err != nil || got != (Address{"Winnie the Pooh", "im:pooh@100akerwood.com"}) {
		t.Errorf("unquoted: %#v, %v", got, err)
	}
	// String escapes CR and LF (Marshal refuses them).
	if got := (Address{"a\r\nb", "sip:x"}).String(); got != `"a\r\nb" <sip:x>` {
		t.Errorf("String with CRLF = %s", got)
	}
	for _, bad := range []string{"", "Alice", "<sip:a@x", `"Alice <sip:a@x>`, "<sip:a<b@x>", "<>"} {
		if _, err := ParseAddress(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseAddress(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestLookup(t *testing.T) {
	m := &Message{
		Namespaces: map[string]string{"i": "urn:ietf:params:imdn", "j": "urn:ietf:params:imdn"},
		Headers: []Header{
			{"", "Require", "i.Message-ID"},
			{"j", "Message-ID", "first"},
			{"i", "Message-ID", "second"},
			{"u", "Message-ID", "undeclared"},
		},
	}
	if v, ok := m.Lookup("urn:ietf:params:imdn", "Message-ID"); !ok || v != "first" {
		t.Errorf("Lookup imdn Message-ID = %q, %v", v, ok)
	}
	if v, ok := m.Lookup(StandardNamespace, "Require"); !ok || v != "i.Message-ID" {
		t.Errorf("Lookup Require = %q, %v", v, ok)
	}
	if _, ok := m.Lookup("urn:ietf:params:imdn", "message-id"); ok {
		t.Error("Lookup is case-insensitive")
	}
	m.Namespaces[""] = "urn:other"
	if _, ok := m.Lookup(StandardNamespace, "Require"); ok {
		t.Error("Lookup ignores the redeclared default namespace")
	}
	if v, ok := m.Lookup("urn:other", "Require"); !ok || v != "i.Message-ID" {
		t.Errorf("Lookup in redeclared default namespace = %q, %v", v, ok)
	}
}

// ---------------------------------------------------------------------------
// Fuzzing

// FuzzParse: Parse never panics and reports every error as ErrMalformed. When
// it succeeds, Marshal either succeeds or refuses for one of the reasons a
// parsed message can carry (a CR or LF decoded from an escape, a prefix with
// no NS declaration, a line that escaping made too long); when Marshal
// succeeds, parsing its output gives back the same Message and marshalling
// that gives the same bytes.
func FuzzParse(f *testing.F) {
	for _, m := range roundTripMessages() {
		if b, err := m.Marshal(); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"From: \"a\\\"b\" <sip:a@x>\r\nSubject:;lang=fr \\u00e9\\r\\n\r\nq.X: 1\r\n\r\n\r\n",
		"Content-Type: message/cpim\n\nFrom: <a>\nContent-Type: text/plain\n\nbody",
		"NS: <urn:d>\r\nX:;a=\"b\" c\r\n\r\nContent-Type: a;\r\n b\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	dir := corpus.Dir(f, "im")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "rfc3862-") || strings.HasPrefix(e.Name(), "rfc5438-") {
			f.Add(readFile(f, dir, e.Name()))
		}
	}

	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v does not wrap ErrMalformed", err)
			}
			return
		}
		out, err := m.Marshal()
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Marshal error %v does not wrap ErrInvalid", err)
			}
			if !errors.Is(err, errCRLF) && !errors.Is(err, errUndeclared) && !errors.Is(err, errTooLong) {
				t.Fatalf("Marshal refused a parsed message: %v\ninput %q\nmessage %+v", err, in, m)
			}
			return
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(m)): %v\ninput %q\nmarshalled %q", err, in, out)
		}
		if d := diffMessage(m2, m); d != "" {
			t.Fatalf("Parse(Marshal(m)) differs:\n%s\ninput %q\nmarshalled %q", d, in, out)
		}
		out2, err := m2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable: %v\n%q\n%q", err, out, out2)
		}
	})
}
