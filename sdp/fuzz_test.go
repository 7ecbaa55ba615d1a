package sdp

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, and that whatever it accepts
// marshals into text that parses back into an equal Description, and
// marshals the same way again.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.sdp"))
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "shared", "rfc-corpus", "sdp", "*.sdp"))
	for _, p := range append(seeds, corpus...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"v=0\no=- 1 1 in ip4 0.0.0.0\nm=audio 0 RTP/AVP\n",
		"v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=\r\nt=0 0\r\na=sendonly\r\nm=audio 1 RTP/AVP 0 96\r\na=fmtp:96 x\r\na=rtpmap:0 PCMU/8000/2\r\n",
		"v=0\ro=- 1 2 IN IP6 ::\rc=IN IP6 ::1\rm=message 9 TCP/MSRP *\ra=path:msrp://h:9/x;tcp\ra=inactive\r",
		"v=0\no=- 1 2 IN IP4 h\nm=audio 5/2 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32 KDR=1\na=rtcp:9 IN IP4 h\na=ptime:20\na=maxptime:40\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			if d != nil {
				t.Fatal("Parse returned a description with an error")
			}
			return
		}
		out := d.Marshal()
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)): %v\ninput  %q\noutput %q", err, b, out)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip changed the description\ninput  %q\noutput %q\nbefore %#v\nafter  %#v", b, out, d, d2)
		}
		if out2 := d2.Marshal(); string(out2) != string(out) {
			t.Fatalf("Marshal not stable\n%q\n%q", out, out2)
		}
		c := d.Clone()
		if !reflect.DeepEqual(c, d) {
			t.Fatal("Clone differs")
		}
	})
}
