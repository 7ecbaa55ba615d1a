package sdp

import (
	"reflect"
	"testing"
)

func TestNegotiateCodecs(t *testing.T) {
	var (
		pcmu  = Codec{PayloadType: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}
		pcma  = Codec{PayloadType: 8, Name: "PCMA", ClockRate: 8000, Channels: 1}
		g722  = Codec{PayloadType: 9, Name: "G722", ClockRate: 8000, Channels: 1}
		opus  = Codec{PayloadType: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"}
		te101 = telephoneEvent(101, 8000, "0-16")
	)
	// What we support, with our own payload type numbers.
	supported := []Codec{
		{PayloadType: 96, Name: "opus", ClockRate: 48000, Channels: 2},
		pcma,
		pcmu,
		{PayloadType: 100, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-15"},
	}
	tests := []struct {
		name             string
		offered, support []Codec
		want             []Codec
	}{
		{
			name:    "offer order and offer payload types kept",
			offered: []Codec{pcmu, g722, pcma, opus, te101},
			support: supported,
			want: []Codec{pcmu, pcma,
				{PayloadType: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"},
				{PayloadType: 101, Name: "telephone-event", ClockRate: 8000, Channels: 1, Fmtp: "0-15"}},
		},
		{
			name:    "telephone-event 101 kept with the offer's fmtp when ours is empty",
			offered: []Codec{pcma, te101},
			support: []Codec{pcma, {PayloadType: 96, Name: "telephone-event", ClockRate: 8000, Channels: 1}},
			want:    []Codec{pcma, te101},
		},
		{
			name:    "dynamic payload type numbers from the offer",
			offered: []Codec{{PayloadType: 97, Name: "opus", ClockRate: 48000, Channels: 2}, telephoneEvent(120, 8000, "")},
			support: supported,
			want:    []Codec{{PayloadType: 97, Name: "opus", ClockRate: 48000, Channels: 2}, telephoneEvent(120, 8000, "0-15")},
		},
		{
			name:    "encoding names are case-insensitive",
			offered: []Codec{{PayloadType: 0, Name: "pcmu", ClockRate: 8000, Channels: 1}},
			support: supported,
			want:    []Codec{{PayloadType: 0, Name: "pcmu", ClockRate: 8000, Channels: 1}},
		},
		{
			name:    "clock rate must match (telephone-event/48000 vs /8000)",
			offered: []Codec{telephoneEvent(101, 48000, "0-16"), pcmu},
			support: supported,
			want:    []Codec{pcmu},
		},
		{
			name:    "channels must match; 0 reads as 1",
			offered: []Codec{{PayloadType: 96, Name: "opus", ClockRate: 48000, Channels: 1}, {PayloadType: 8, Name: "PCMA", ClockRate: 8000}},
			support: supported,
			want:    []Codec{{PayloadType: 8, Name: "PCMA", ClockRate: 8000}},
		},
		{
			name:    "unnamed dynamic payload type matches nothing",
			offered: []Codec{{PayloadType: 96}},
			support: []Codec{{PayloadType: 96}},
			want:    nil,
		},
		{
			name:    "no common codec",
			offered: []Codec{g722, {PayloadType: 18, Name: "G729", ClockRate: 8000, Channels: 1}},
			support: supported,
			want:    nil,
		},
		{
			name:    "nothing offered",
			offered: nil,
			support: supported,
			want:    nil,
		},
		{
			name:    "nothing supported",
			offered: []Codec{pcmu},
			support: nil,
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NegotiateCodecs(tt.offered, tt.support)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NegotiateCodecs = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNegotiateCodecsFromParsedOffer(t *testing.T) {
	d, err := Parse(readTestdata(t, "pjsip.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	supported := []Codec{
		{PayloadType: 0, Name: "PCMU", ClockRate: 8000},
		{PayloadType: 9, Name: "G722", ClockRate: 8000},
		{PayloadType: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"},
	}
	got := NegotiateCodecs(d.Media[0].Codecs, supported)
	want := []Codec{
		{PayloadType: 9, Name: "G722", ClockRate: 8000, Channels: 1},
		{PayloadType: 0, Name: "PCMU", ClockRate: 8000, Channels: 1},
		telephoneEvent(102, 8000, "0-16"), // pjsip's number for te/8000 is 102
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestCodecString(t *testing.T) {
	tests := []struct {
		c    Codec
		want string
	}{
		{Codec{Name: "PCMU", ClockRate: 8000, Channels: 1}, "PCMU/8000"},
		{Codec{Name: "PCMU", ClockRate: 8000}, "PCMU/8000"},
		{Codec{Name: "opus", ClockRate: 48000, Channels: 2}, "opus/48000/2"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestParseRtpmap(t *testing.T) {
	tests := []struct {
		in   string
		want Codec
		ok   bool
	}{
		{"0 PCMU/8000", Codec{0, "PCMU", 8000, 1, ""}, true},
		{"96 opus/48000/2", Codec{96, "opus", 48000, 2, ""}, true},
		{"100 red/8000/1", Codec{100, "red", 8000, 1, ""}, true},
		{"101  telephone-event/8000", Codec{101, "telephone-event", 8000, 1, ""}, true},
		{"97 L16/16000/0", Codec{97, "L16", 16000, 1, ""}, true},
		{"96 opus", Codec{}, false},
		{"96 opus/0", Codec{}, false},
		{"96 opus/x", Codec{}, false},
		{"96 opus/48000/2/1", Codec{}, false},
		{"96 /8000", Codec{}, false},
		{"96 a b/8000", Codec{}, false},
		{"128 x/8000", Codec{}, false},
		{"x PCMU/8000", Codec{}, false},
		{"96", Codec{}, false},
		{"", Codec{}, false},
	}
	for _, tt := range tests {
		got, ok := parseRtpmap(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseRtpmap(%q) = %+v %v, want %+v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
