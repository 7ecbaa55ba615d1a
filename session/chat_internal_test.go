package session

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sipsimple-go/sipsimple/msrp"
)

// A chat message received would drop is refused with 400 before the 200:
// a malformed CPIM wrapper, or a malformed is-composing (bare or wrapped).
func TestCheckChat(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		ok       bool
	}{
		{"text/plain", "hi", true},
		{"message/cpim", "From: <sip:a@example.org>\r\n\r\nContent-Type: text/plain\r\n\r\nhi", true},
		{"message/cpim", "no headers at all", false},
		{"application/im-iscomposing+xml", "<not xml", false},
		{"message/cpim", "From: <sip:a@example.org>\r\n\r\nContent-Type: application/im-iscomposing+xml\r\n\r\n<x", false},
	} {
		err := checkChat(&msrp.Message{ContentType: tc.ct}, []byte(tc.body))
		var se *msrp.StatusError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s %q refused: %v", tc.ct, tc.body, err)
		case !tc.ok && (!errors.As(err, &se) || se.Code != 400):
			t.Errorf("%s %q: %v, want a 400", tc.ct, tc.body, err)
		}
	}
}

func TestSafeFileName(t *testing.T) {
	long := strings.Repeat("é", 200) + ".txt" // 404 octets
	for in, want := range map[string]string{
		"photo.jpg":                 "photo.jpg",
		"../../etc/passwd":          "passwd",
		`..\..\boot.ini`:            "boot.ini",
		".sipsimple-0123.part":      "sipsimple-0123.part",
		"...":                       "file",
		"..":                        "file",
		"/":                         "file",
		"":                          "file",
		"a\x00b\x1fc\x7fd.txt":      "abcd.txt",
		"bad\xffutf8.txt":           "badutf8.txt",
		" .hidden":                  "hidden",
		"dir/sub/ report final.pdf": "report final.pdf",
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
	got := safeFileName(long)
	if len(got) > maxNameLen || !utf8.ValidString(got) || !strings.HasSuffix(got, ".txt") {
		t.Errorf("long name: %d octets %q", len(got), got)
	}
}
