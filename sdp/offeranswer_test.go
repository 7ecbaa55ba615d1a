package sdp

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestRejectMedia(t *testing.T) {
	d, err := Parse(readTestdata(t, "sipsimple-audio-chat.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		offered Media
		want    Media
		line    string
	}{
		{"audio keeps the offered formats", d.Media[0],
			Media{Type: "audio", Proto: "RTP/AVP", Formats: []string{"113", "9", "0", "8", "101"}},
			"m=audio 0 RTP/AVP 113 9 0 8 101\r\n"},
		{"MSRP", d.Media[1],
			Media{Type: "message", Proto: "TCP/TLS/MSRP", Formats: []string{"*"}},
			"m=message 0 TCP/TLS/MSRP *\r\n"},
		{"codecs only (built, not parsed)",
			Media{Type: "audio", Port: 4000, Proto: "RTP/AVP", Codecs: []Codec{{PayloadType: 8}, {PayloadType: 0}}},
			Media{Type: "audio", Proto: "RTP/AVP", Formats: []string{"8", "0"}},
			"m=audio 0 RTP/AVP 8 0\r\n"},
		{"T.38", Media{Type: "image", Port: 4390, Proto: "udptl", Formats: []string{"t38"}, Attributes: []Attribute{{Key: "T38FaxVersion", Value: "0"}}},
			Media{Type: "image", Proto: "udptl", Formats: []string{"t38"}},
			"m=image 0 udptl t38\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RejectMedia(tt.offered)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("RejectMedia = %#v\nwant %#v", got, tt.want)
			}
			if !got.Rejected() || got.Hold() {
				t.Error("rejected media not Rejected, or on Hold")
			}
			ans := &Description{Origin: Origin{Username: "-", SessionID: 1, SessionVersion: 1, Address: "192.0.2.2"}, Address: "192.0.2.2", Media: []Media{got}}
			out := string(ans.Marshal())
			if !strings.Contains(out, "\r\n"+tt.line) {
				t.Errorf("answer lacks %q:\n%s", tt.line, out)
			}
			back := mustParse(t, out)
			if !back.Media[0].Rejected() || back.Media[0].Type != tt.offered.Type {
				t.Errorf("parsed back: %+v", back.Media[0])
			}
		})
	}
	// The offer is not modified.
	d2, _ := Parse(readTestdata(t, "sipsimple-audio-chat.sdp"))
	if !reflect.DeepEqual(d, d2) {
		t.Error("RejectMedia modified the offer")
	}
}

func TestRemoveAndAddMedia(t *testing.T) {
	d, err := Parse(readTestdata(t, "linphone.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	next := d.Clone()
	if !next.RemoveMedia(1) {
		t.Fatal("RemoveMedia(1) = false")
	}
	if next.RemoveMedia(2) || next.RemoveMedia(-1) {
		t.Error("RemoveMedia out of range = true")
	}
	if len(next.Media) != 2 || !next.Media[1].Rejected() || next.Media[1].Type != "video" {
		t.Fatalf("removed stream: %+v", next.Media)
	}
	if d.Media[1].Port != 9078 {
		t.Error("RemoveMedia on the clone changed the original")
	}
	i := next.AddMedia(Media{Type: "message", Port: 2855, Proto: "TCP/MSRP", Formats: []string{"*"}})
	if i != 2 || len(next.Media) != 3 {
		t.Fatalf("AddMedia = %d, %d streams", i, len(next.Media))
	}
	if err := ValidateReoffer(d, next); err != nil {
		t.Errorf("ValidateReoffer: %v", err)
	}
	out := string(next.Marshal())
	if !strings.Contains(out, "m=video 0 RTP/AVP 96 97\r\n") || !strings.HasSuffix(out, "m=message 2855 TCP/MSRP *\r\na=sendrecv\r\n") {
		t.Errorf("re-offer:\n%s", out)
	}
}

func TestValidateAnswer(t *testing.T) {
	offer := &Description{Media: []Media{
		{Type: "audio", Port: 4000, Proto: "RTP/AVP"},
		{Type: "video", Port: 0, Proto: "RTP/AVP"},
		{Type: "message", Port: 2855, Proto: "TCP/MSRP"},
	}}
	answer := func(edit func(d *Description)) *Description {
		d := offer.Clone()
		edit(d)
		return d
	}
	tests := []struct {
		name    string
		answer  *Description
		errPart string
	}{
		{"same streams", answer(func(*Description) {}), ""},
		{"stream rejected", answer(func(d *Description) { d.Media[2] = RejectMedia(d.Media[2]) }), ""},
		{"type case differs", answer(func(d *Description) { d.Media[0].Type = "AUDIO" }), ""},
		{"m= line missing", answer(func(d *Description) { d.Media = d.Media[:2] }), "2 m= lines, offer has 3"},
		{"m= line added", answer(func(d *Description) { d.AddMedia(Media{Type: "audio", Port: 1}) }), "4 m= lines"},
		{"order changed", answer(func(d *Description) { d.Media[0], d.Media[2] = d.Media[2], d.Media[0] }), "m= line 1"},
		{"disabled stream accepted", answer(func(d *Description) { d.Media[1].Port = 5000 }), "port 0"},
	}
	for _, tt := range tests {
		err := ValidateAnswer(offer, tt.answer)
		if tt.errPart == "" && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.errPart != "" && (err == nil || !strings.Contains(err.Error(), tt.errPart)) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.errPart)
		}
	}
}

func TestValidateReoffer(t *testing.T) {
	prev := &Description{
		Origin: Origin{Username: "-", SessionID: 10, SessionVersion: 10, Address: "192.0.2.1"},
		Media: []Media{
			{Type: "audio", Port: 4000, Proto: "RTP/AVP"},
			{Type: "video", Port: 0, Proto: "RTP/AVP"},
		},
	}
	next := func(edit func(d *Description)) *Description {
		d := prev.Clone()
		d.Origin.SessionVersion++
		edit(d)
		return d
	}
	tests := []struct {
		name    string
		next    *Description
		errPart string
	}{
		{"unchanged", next(func(*Description) {}), ""},
		{"stream added at the end", next(func(d *Description) { d.AddMedia(Media{Type: "message", Port: 2855}) }), ""},
		{"stream removed with port 0", next(func(d *Description) { d.RemoveMedia(0) }), ""},
		{"port-0 slot reused for another type", next(func(d *Description) { d.Media[1] = Media{Type: "message", Port: 2855} }), ""},
		{"m= line deleted", next(func(d *Description) { d.Media = d.Media[:1] }), "fewer"},
		{"active stream changes type", next(func(d *Description) { d.Media[0].Type = "video" }), "media type"},
		{"session id changed", next(func(d *Description) { d.Origin.SessionID++ }), "o= line changed"},
		{"origin address changed", next(func(d *Description) { d.Origin.Address = "192.0.2.9" }), "o= line changed"},
	}
	for _, tt := range tests {
		err := ValidateReoffer(prev, tt.next)
		if tt.errPart == "" && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.errPart != "" && (err == nil || !strings.Contains(err.Error(), tt.errPart)) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.errPart)
		}
	}
}

func TestLocalVersion(t *testing.T) {
	l := NewLocal("alice", "192.0.2.1")
	o := l.Origin()
	if o.Username != "alice" || o.Address != "192.0.2.1" || o.SessionID == 0 || o.SessionID >= 1<<62 || o.SessionVersion != o.SessionID {
		t.Fatalf("initial origin %+v", o)
	}
	offer := &Description{
		Name:    "-",
		Address: "192.0.2.1",
		Media:   []Media{{Type: "audio", Port: 4000, Proto: "RTP/AVP", Codecs: []Codec{{PayloadType: 0, Name: "PCMU", ClockRate: 8000}}}},
	}
	hold := offer.Clone()
	hold.Media[0].Direction = SendOnly

	steps := []struct {
		name  string
		d     *Description
		delta uint64 // expected version minus session id
	}{
		{"initial offer", offer, 0},
		{"same offer again (session refresh)", offer, 0},
		{"hold", hold, 1},
		{"hold again", hold, 1},
		{"unhold", offer, 2},
		{"same content with another o= line", func() *Description {
			c := offer.Clone()
			c.Origin = Origin{Username: "x", SessionID: 1, SessionVersion: 99, Address: "10.0.0.1"}
			return c
		}(), 2},
		{"port change", func() *Description { c := offer.Clone(); c.Media[0].Port = 4002; return c }(), 3},
		{"stream added", func() *Description {
			c := offer.Clone()
			c.Media[0].Port = 4002
			c.AddMedia(Media{Type: "message", Port: 2855, Proto: "TCP/MSRP", Formats: []string{"*"}})
			return c
		}(), 4},
	}
	for _, s := range steps {
		before := s.d.Clone()
		got := l.Next(s.d)
		want := Origin{Username: "alice", SessionID: o.SessionID, SessionVersion: o.SessionID + s.delta, Address: "192.0.2.1"}
		if got.Origin != want {
			t.Errorf("%s: origin %+v, want version id+%d", s.name, got.Origin, s.delta)
		}
		if l.Origin() != want {
			t.Errorf("%s: Local.Origin() = %+v", s.name, l.Origin())
		}
		if !reflect.DeepEqual(s.d, before) {
			t.Errorf("%s: Next modified its argument", s.name)
		}
		got.Origin = s.d.Origin
		if !reflect.DeepEqual(got, s.d) {
			t.Errorf("%s: Next changed more than the origin", s.name)
		}
	}
	if got := l.Next(nil); got == nil || len(got.Media) != 0 {
		t.Errorf("Next(nil) = %+v", got)
	}
	if NewLocal("", "h").Origin().Username != "-" {
		t.Error("empty username not written as -")
	}
	if NewLocal("a", "h").Origin().SessionID == NewLocal("a", "h").Origin().SessionID {
		t.Error("two Locals got the same session id")
	}
}

func TestLocalConcurrent(t *testing.T) {
	l := NewLocal("-", "192.0.2.1")
	a := &Description{Media: []Media{{Type: "audio", Port: 1, Proto: "RTP/AVP", Formats: []string{"0"}}}}
	b := &Description{Media: []Media{{Type: "audio", Port: 2, Proto: "RTP/AVP", Formats: []string{"0"}}}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				d := a
				if (i+j)%2 == 0 {
					d = b
				}
				if got := l.Next(d); got.Origin.SessionID != l.Origin().SessionID {
					t.Error("session id changed")
					return
				}
			}
		}()
	}
	wg.Wait()
	if v := l.Origin().SessionVersion - l.Origin().SessionID; v > 800 {
		t.Errorf("version moved by %d after 800 calls", v)
	}
}
