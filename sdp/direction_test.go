package sdp

import "testing"

func TestDirectionNames(t *testing.T) {
	tests := []struct {
		d          Direction
		name       string
		send, recv bool
	}{
		{SendRecv, "sendrecv", true, true},
		{SendOnly, "sendonly", true, false},
		{RecvOnly, "recvonly", false, true},
		{Inactive, "inactive", false, false},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.name {
			t.Errorf("String() = %q, want %q", got, tt.name)
		}
		if got, ok := ParseDirection(tt.name); !ok || got != tt.d {
			t.Errorf("ParseDirection(%q) = %v %v", tt.name, got, ok)
		}
		if tt.d.Sends() != tt.send || tt.d.Receives() != tt.recv {
			t.Errorf("%v: Sends %v Receives %v", tt.d, tt.d.Sends(), tt.d.Receives())
		}
	}
	if _, ok := ParseDirection("sendrcv"); ok {
		t.Error("ParseDirection accepted a typo")
	}
	if got := Direction(9).String(); got != "Direction(9)" {
		t.Errorf("unknown direction String() = %q", got)
	}
	var m Media
	if m.Direction != SendRecv {
		t.Error("the zero Direction is not SendRecv")
	}
}

func TestAnswerDirection(t *testing.T) {
	tests := []struct {
		offered, local, want Direction
	}{
		{SendRecv, SendRecv, SendRecv},
		{SendRecv, SendOnly, SendOnly},
		{SendRecv, RecvOnly, RecvOnly},
		{SendRecv, Inactive, Inactive},

		{SendOnly, SendRecv, RecvOnly},
		{SendOnly, RecvOnly, RecvOnly},
		{SendOnly, SendOnly, Inactive},
		{SendOnly, Inactive, Inactive},

		{RecvOnly, SendRecv, SendOnly},
		{RecvOnly, SendOnly, SendOnly},
		{RecvOnly, RecvOnly, Inactive},
		{RecvOnly, Inactive, Inactive},

		{Inactive, SendRecv, Inactive},
		{Inactive, SendOnly, Inactive},
		{Inactive, RecvOnly, Inactive},
		{Inactive, Inactive, Inactive},
	}
	for _, tt := range tests {
		if got := AnswerDirection(tt.offered, tt.local); got != tt.want {
			t.Errorf("AnswerDirection(%v, %v) = %v, want %v", tt.offered, tt.local, got, tt.want)
		}
	}
}

func TestHoldAndRejected(t *testing.T) {
	tests := []struct {
		name           string
		m              Media
		hold, rejected bool
	}{
		{"sendrecv", Media{Port: 4000, Address: "192.0.2.1"}, false, false},
		{"sendonly", Media{Port: 4000, Address: "192.0.2.1", Direction: SendOnly}, true, false},
		{"inactive", Media{Port: 4000, Address: "192.0.2.1", Direction: Inactive}, true, false},
		{"recvonly is not hold", Media{Port: 4000, Address: "192.0.2.1", Direction: RecvOnly}, false, false},
		{"c=0.0.0.0 (RFC 2543)", Media{Port: 4000, Address: "0.0.0.0"}, true, false},
		{"c=0.0.0.0 with ttl", Media{Port: 4000, Address: "0.0.0.0/127"}, true, false},
		{"c=::", Media{Port: 4000, Address: "::"}, true, false},
		{"host name", Media{Port: 4000, Address: "host.example.com"}, false, false},
		{"port 0 is rejected, not hold", Media{Port: 0, Address: "0.0.0.0", Direction: SendOnly}, false, true},
	}
	for _, tt := range tests {
		if got := tt.m.Hold(); got != tt.hold {
			t.Errorf("%s: Hold() = %v", tt.name, got)
		}
		if got := tt.m.Rejected(); got != tt.rejected {
			t.Errorf("%s: Rejected() = %v", tt.name, got)
		}
	}
}

func TestHoldFromParsedSDP(t *testing.T) {
	base := []string{"v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "t=0 0"}
	tests := []struct {
		name  string
		lines []string
		hold  bool
	}{
		{"sendonly", []string{"c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0", "a=sendonly"}, true},
		{"session-level inactive", []string{"c=IN IP4 192.0.2.1", "a=inactive", "m=audio 4000 RTP/AVP 0"}, true},
		{"session-level sendonly overridden", []string{"c=IN IP4 192.0.2.1", "a=sendonly", "m=audio 4000 RTP/AVP 0", "a=sendrecv"}, false},
		{"session c=0.0.0.0", []string{"c=IN IP4 0.0.0.0", "m=audio 4000 RTP/AVP 0"}, true},
		{"media c=0.0.0.0", []string{"c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0", "c=IN IP4 0.0.0.0"}, true},
		{"media address overrides session 0.0.0.0", []string{"c=IN IP4 0.0.0.0", "m=audio 4000 RTP/AVP 0", "c=IN IP4 192.0.2.1"}, false},
		{"active", []string{"c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0", "a=sendrecv"}, false},
	}
	for _, tt := range tests {
		d := mustParse(t, crlf(append(append([]string{}, base...), tt.lines...)...))
		if got := d.Media[0].Hold(); got != tt.hold {
			t.Errorf("%s: Hold() = %v", tt.name, got)
		}
	}
}
