package sdp

import (
	"bytes"
	"errors"
	"github.com/sipsimple-go/sipsimple/internal/corpus"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fragmentHeader completes the RFC 4733 fragments (media sections only) into
// descriptions.
const fragmentHeader = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

type corpusEntry struct {
	file, validity string
	sessionAddr    string
	media          []corpusMedia
}

type corpusMedia struct {
	typ, proto string
	port       int
	formats    string
	dir        Direction
}

var (
	indexRowRE  = regexp.MustCompile("^\\| `([^`]+)` \\|[^|]*\\| ([^|]*) \\|")
	factAddrRE  = regexp.MustCompile(`\d+ lines; (?:missing [^;]*; )?c=IN IP[46] (\S+);`)
	factMediaRE = regexp.MustCompile(`m=(\S+) port (\d+) (\S+) \[([^\]]*)\] (sendrecv|sendonly|recvonly|inactive)`)
)

// readCorpusIndex reads the per-file facts of sdp/INDEX.md.
func readCorpusIndex(t *testing.T, dir string) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "INDEX.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusEntry
	for row := range strings.SplitSeq(string(b), "\n") {
		m := indexRowRE.FindStringSubmatch(row)
		if m == nil {
			continue
		}
		e := corpusEntry{file: m[1], validity: m[2]}
		if a := factAddrRE.FindStringSubmatch(row); a != nil {
			e.sessionAddr = a[1]
		}
		for _, fm := range factMediaRE.FindAllStringSubmatch(row, -1) {
			port, _ := strconv.Atoi(fm[2])
			dir, _ := ParseDirection(fm[5])
			e.media = append(e.media, corpusMedia{typ: fm[1], port: port, proto: fm[3], formats: fm[4], dir: dir})
		}
		out = append(out, e)
	}
	if len(out) < 70 {
		t.Fatalf("INDEX.md: read %d rows, want 74", len(out))
	}
	return out
}

// TestCorpusFacts parses every SDP of the RFC corpus and compares the
// result with the facts INDEX.md computed from the bytes: m= lines (type,
// port, protocol, formats), effective directions, connection address; and
// checks the round trip.
func TestCorpusFacts(t *testing.T) {
	dir := corpus.Dir(t, "sdp")
	for _, e := range readCorpusIndex(t, dir) {
		if !strings.HasSuffix(e.file, ".sdp") {
			continue
		}
		t.Run(e.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, e.file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(e.validity, "fragment") {
				if _, err := Parse(b); !errors.Is(err, ErrInvalid) {
					t.Errorf("fragment without v=/o=: Parse error %v, want ErrInvalid", err)
				}
				b = append([]byte(fragmentHeader), b...)
			}
			d, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(d.Media) != len(e.media) {
				t.Fatalf("%d m= lines, INDEX says %d", len(d.Media), len(e.media))
			}
			for i, want := range e.media {
				m := d.Media[i]
				if m.Type != want.typ || m.Port != want.port || m.Proto != want.proto ||
					strings.Join(m.Formats, " ") != want.formats || m.Direction != want.dir {
					t.Errorf("m= line %d: %s %d %s [%s] %v, INDEX says %s %d %s [%s] %v", i+1,
						m.Type, m.Port, m.Proto, strings.Join(m.Formats, " "), m.Direction,
						want.typ, want.port, want.proto, want.formats, want.dir)
				}
			}
			if e.sessionAddr != "" && d.Address != e.sessionAddr {
				t.Errorf("session address %q, INDEX says %q", d.Address, e.sessionAddr)
			}
			checkRoundTrip(t, d)
		})
	}
}

func parseCorpusFile(t *testing.T, dir, name string) *Description {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("v=")) {
		b = append([]byte(fragmentHeader), b...)
	}
	d, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// TestCorpusDetails checks the "Expected" column of INDEX.md for the files
// it says something specific about.
func TestCorpusDetails(t *testing.T) {
	dir := corpus.Dir(t, "sdp")
	p := func(name string) *Description { return parseCorpusFile(t, dir, name) }

	t.Run("RFC 3264 9: large session id, c= after t=, static 1016", func(t *testing.T) {
		d := p("rfc3264-s9-fig1-capabilities.sdp")
		if d.Origin.SessionID != 28908764872 || d.Address != "192.0.2.4" {
			t.Errorf("origin %+v address %q", d.Origin, d.Address)
		}
		if c := d.Media[0].Codecs[1]; c != (Codec{PayloadType: 1, Name: "1016", ClockRate: 8000, Channels: 1}) {
			t.Errorf("PT 1 = %+v", c)
		}
		if !d.Media[0].Rejected() || !d.Media[1].Rejected() {
			t.Error("port-0 capability streams not Rejected")
		}
	})
	t.Run("RFC 3264 10.1: empty s=, rejected video, added recvonly stream", func(t *testing.T) {
		d := p("rfc3264-s10.1-3-reoffer-add-stream.sdp")
		if d.Name != "" || d.Origin.SessionVersion != 2890844731 {
			t.Errorf("name %q origin %+v", d.Name, d.Origin)
		}
		if !d.Media[1].Rejected() || d.Media[1].Codecs[0].Name != "H261" {
			t.Errorf("rejected video %+v", d.Media[1])
		}
		if m := d.Media[3]; m.Direction != RecvOnly || m.Codecs[0] != (Codec{PayloadType: 110, Name: "telephone-events", ClockRate: 8000, Channels: 1}) {
			t.Errorf("added stream %+v", m)
		}
		ans := p("rfc3264-s10.1-4-answer-add-stream.sdp")
		if got := AnswerDirection(d.Media[3].Direction, SendRecv); got != ans.Media[3].Direction {
			t.Errorf("AnswerDirection(recvonly) = %v, the RFC answers %v", got, ans.Media[3].Direction)
		}
	})
	t.Run("RFC 3264 10.2: one-of-N codecs", func(t *testing.T) {
		offer := p("rfc3264-s10.2-1-offer-inactive.sdp")
		got := NegotiateCodecs(offer.Media[0].Codecs, []Codec{{PayloadType: 0, Name: "PCMU", ClockRate: 8000}, {PayloadType: 4, Name: "G723", ClockRate: 8000}})
		ans := p("rfc3264-s10.2-2-answer-inactive.sdp")
		if len(got) != 2 || got[0] != ans.Media[0].Codecs[0] || got[1] != ans.Media[0].Codecs[1] {
			t.Errorf("negotiated %+v, the RFC answers %+v", got, ans.Media[0].Codecs)
		}
		if AnswerDirection(offer.Media[0].Direction, SendRecv) != ans.Media[0].Direction {
			t.Error("inactive not answered inactive")
		}
	})
	t.Run("RFC 4317 3.1: hold with sendonly, unhold", func(t *testing.T) {
		if !p("rfc4317-s3.1-hold-and-unhold-1-2-answer.sdp").Media[0].Hold() {
			t.Error("sendonly answer is not Hold")
		}
		if p("rfc4317-s3.1-hold-and-unhold-1-3-second-offer.sdp").Media[0].Hold() {
			t.Error("unhold offer is Hold")
		}
	})
	t.Run("RFC 4317 5.2/5.3: hold with c=0.0.0.0", func(t *testing.T) {
		for _, f := range []string{"rfc4317-s5.2-hold-and-unhold-2-1-offer.sdp", "rfc4317-s5.3-hold-and-unhold-3-2-answer.sdp"} {
			if !p(f).Media[0].Hold() {
				t.Errorf("%s: c=0.0.0.0 is not Hold", f)
			}
		}
		if p("rfc4317-s5.2-hold-and-unhold-2-3-second-offer.sdp").Media[0].Hold() {
			t.Error("second offer is Hold")
		}
	})
	t.Run("RFC 4317 2.8: media-level c= overrides", func(t *testing.T) {
		d := p("rfc4317-s2.8-audio-and-video-6-2-answer.sdp")
		if d.Media[0].Address != "host.biloxi.example.com" || d.Media[1].Address != "otherhost.biloxi.example.com" {
			t.Errorf("addresses %q %q", d.Media[0].Address, d.Media[1].Address)
		}
	})
	t.Run("RFC 4566 5: session-level recvonly, multicast ttl, h263-1998", func(t *testing.T) {
		d := p("rfc4566-s5-example.sdp")
		if d.Media[0].Direction != RecvOnly || d.Media[1].Direction != RecvOnly || d.Address != "224.2.17.12/127" {
			t.Errorf("%+v", d)
		}
		if c := d.Media[1].Codecs[0]; c != (Codec{PayloadType: 99, Name: "h263-1998", ClockRate: 90000, Channels: 1}) {
			t.Errorf("PT 99 = %+v", c)
		}
	})
	t.Run("RFC 4568 7.1.5: two crypto lines, two keys, session parameter", func(t *testing.T) {
		m := p("rfc4568-s7.1.5-offer.sdp").Media[0]
		if len(m.Crypto) != 2 || m.Crypto[1].Suite != "F8_128_HMAC_SHA1_80" || strings.Count(m.Crypto[1].KeyParams, "inline:") != 2 ||
			len(m.Crypto[0].SessionParams) != 1 || m.Crypto[0].SessionParams[0] != "FEC_ORDER=FEC_SRTP" {
			t.Fatalf("crypto %+v", m.Crypto)
		}
		for _, c := range m.Crypto {
			if key, salt, err := c.Key(); err != nil || len(key) != 16 || len(salt) != 14 {
				t.Errorf("tag %d: Key() %d %d %v", c.Tag, len(key), len(salt), err)
			}
		}
		ans := p("rfc4568-s7.1.5-answer.sdp").Media[0]
		if len(ans.Crypto) != 1 || ans.Crypto[0].Tag != 1 {
			t.Errorf("answer crypto %+v", ans.Crypto)
		}
	})
	t.Run("RFC 4568 4: attribute line", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, "rfc4568-s4-crypto-attribute-line.txt"))
		if err != nil {
			t.Fatal(err)
		}
		v := strings.TrimPrefix(strings.TrimSpace(string(b)), "a=crypto:")
		c, err := ParseCrypto(v)
		if err != nil || c.Tag != 1 || c.Suite != "AES_CM_128_HMAC_SHA1_80" || c.String() != v {
			t.Errorf("ParseCrypto: %+v %v", c, err)
		}
		if _, _, err := c.Key(); err != nil {
			t.Error(err)
		}
	})
	t.Run("RFC 4568 4.5: udp wb application stream", func(t *testing.T) {
		m := p("rfc4568-s4.5-example.sdp").Media[2]
		if m.Type != "application" || m.Proto != "udp" || m.Formats[0] != "wb" || m.Attributes[0] != (Attribute{"orient", "portrait"}) {
			t.Errorf("%+v", m)
		}
	})
	t.Run("RFC 4733: telephone-event, red, lower-case pcmu, ptime", func(t *testing.T) {
		m := p("rfc4733-s2.4.1-telephone-event-fragment.sdp").Media[0]
		if m.Codecs[0] != telephoneEvent(100, 8000, "0-15,66,70") {
			t.Errorf("%+v", m.Codecs)
		}
		d := p("rfc4733-s2.5.1.1-red-events-fragment.sdp")
		if c := d.Media[0].Codecs[0]; !c.Matches(Codec{Name: "PCMU", ClockRate: 8000}) {
			t.Errorf("pcmu/8000 does not match PCMU: %+v", c)
		}
		if c := d.Media[1].Codecs[0]; c != (Codec{PayloadType: 100, Name: "red", ClockRate: 8000, Channels: 1, Fmtp: "101/101/101"}) {
			t.Errorf("red = %+v", c)
		}
		pt := p("rfc4733-s2.5.1.1-ptime-per-stream-fragment.sdp")
		if pt.Media[0].Ptime != 50 || pt.Media[1].Ptime != 30 {
			t.Errorf("ptime %d %d", pt.Media[0].Ptime, pt.Media[1].Ptime)
		}
	})
}

// TestCorpusOfferAnswerRules runs ValidateAnswer on every offer/answer pair
// of the corpus, and checks the o= rules of RFC 3264 section 8 on every
// second offer and answer: ValidateReoffer against the same party's previous
// description, and a version incremented by one when the description
// changed.
func TestCorpusOfferAnswerRules(t *testing.T) {
	dir := corpus.Dir(t, "sdp")
	files, _ := filepath.Glob(filepath.Join(dir, "rfc4317-*-1-offer.sdp"))
	files2, _ := filepath.Glob(filepath.Join(dir, "rfc3264-s10.?-1-offer*.sdp"))
	files = append(files, files2...)
	if len(files) < 10 {
		t.Fatalf("found %d scenarios", len(files))
	}
	for _, first := range files {
		prefix := strings.TrimSuffix(filepath.Base(first), filepath.Base(first)[strings.LastIndex(filepath.Base(first), "-1-"):])
		steps, _ := filepath.Glob(filepath.Join(dir, prefix+"-[1234]-*.sdp"))
		t.Run(prefix, func(t *testing.T) {
			var ds []*Description
			for _, f := range steps {
				ds = append(ds, parseCorpusFile(t, dir, filepath.Base(f)))
			}
			for i := 0; i+1 < len(ds); i += 2 {
				if err := ValidateAnswer(ds[i], ds[i+1]); err != nil {
					t.Errorf("%s -> %s: %v", filepath.Base(steps[i]), filepath.Base(steps[i+1]), err)
				}
			}
			for i := 2; i < len(ds); i++ {
				// The same party's previous description.
				var prev *Description
				for j := i - 1; j >= 0; j-- {
					if ds[j].Origin.Username == ds[i].Origin.Username && ds[j].Origin.SessionID == ds[i].Origin.SessionID {
						prev = ds[j]
						break
					}
				}
				if prev == nil {
					continue
				}
				if i == 2 {
					if err := ValidateReoffer(prev, ds[i]); err != nil {
						t.Errorf("%s: %v", filepath.Base(steps[i]), err)
					}
				}
				a, b := prev.Clone(), ds[i].Clone()
				a.Origin, b.Origin = Origin{}, Origin{}
				// RFC 3264 section 8: a changed description has the
				// version incremented by one; one with the same version
				// must be identical. (Incrementing an unchanged one is
				// allowed, and RFC 4317 section 3.2 does it; Local does
				// not.)
				changed := !bytes.Equal(a.Marshal(), b.Marshal())
				pv, v := prev.Origin.SessionVersion, ds[i].Origin.SessionVersion
				if changed && v != pv+1 || !changed && v != pv && v != pv+1 {
					t.Errorf("%s: version %d after %d, changed=%v", filepath.Base(steps[i]), v, pv, changed)
				}
			}
		})
	}
}
