package rtp

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// talk sends audio both ways every 5 ms until cond holds.
func talk(t *testing.T, a, b *Session, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testTimeout)
	for i := 0; !cond(); i++ {
		for _, s := range []*Session{a, b} {
			if err := s.WritePayload(Payload{Samples: 40, Data: frame(i)}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; a %+v b %+v", what, a.Stats(), b.Stats())
		}
	}
}

func TestRTCPReportsAndRTT(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "plain"
		var ca, cb Config
		if secure {
			name = "srtp"
			ca.SRTP, cb.SRTP = srtpPair(ProfileAESCM128HMACSHA1_32)
		}
		t.Run(name, func(t *testing.T) {
			ca.RTCPInterval, cb.RTCPInterval = 30*time.Millisecond, 30*time.Millisecond
			ca.CNAME = "alice@example.com"
			a, b := pair(t, ca, cb)
			talk(t, a, b, "RTT on both sides", func() bool {
				return a.Stats().RTT > 0 && b.Stats().RTT > 0
			})
			for _, tc := range []struct {
				s, other *Session
			}{{a, b}, {b, a}} {
				st := tc.s.Stats()
				if st.RTT > time.Second {
					t.Errorf("RTT %v on loopback", st.RTT)
				}
				if st.RTCPSent == 0 || st.RTCPReceived == 0 {
					t.Errorf("RTCP sent %d received %d", st.RTCPSent, st.RTCPReceived)
				}
				if st.RemoteCNAME != tc.other.CNAME() {
					t.Errorf("RemoteCNAME %q, want %q", st.RemoteCNAME, tc.other.CNAME())
				}
				if st.RemotePacketsLost != 0 || st.RemoteFractionLost != 0 || st.RemoteJitter > 100*time.Millisecond {
					t.Errorf("remote view: lost %d fraction %v jitter %v", st.RemotePacketsLost, st.RemoteFractionLost,
						st.RemoteJitter)
				}
				if st.AuthFailures != 0 {
					t.Errorf("AuthFailures %d", st.AuthFailures)
				}
			}
			if b.Stats().RemoteCNAME != "alice@example.com" {
				t.Errorf("configured CNAME not sent")
			}
		})
	}
}

func TestRTCPIntervalRandomised(t *testing.T) {
	s := open(t, Config{RTCPInterval: time.Second})
	lo, hi := time.Hour, time.Duration(0)
	for range 200 {
		d := s.rtcpInterval()
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 500*time.Millisecond || hi > 1500*time.Millisecond || hi-lo < 500*time.Millisecond {
		t.Errorf("intervals in [%v, %v], want spread over [0.5s, 1.5s]", lo, hi)
	}
}

// TestRTCPMuxReceived: RTCP arriving on the RTP port (RFC 5761) is
// processed as RTCP.
func TestRTCPMuxReceived(t *testing.T) {
	s := open(t, Config{})
	peer := newRawPeer(t, s.LocalAddr())
	raw, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 77},
		rtcp.NewCNAMESourceDescription(77, "bob@example.com"),
		&rtcp.Goodbye{Sources: []uint32{77}, Reason: "done"},
	})
	if err != nil {
		t.Fatal(err)
	}
	peer.sendRaw(raw)
	ev := nextEvent[ByeReceived](t, s)
	if ev.SSRC != 77 || ev.Reason != "done" {
		t.Errorf("BYE %+v", ev)
	}
	if st := s.Stats(); st.RTCPReceived != 1 || st.RemoteCNAME != "bob@example.com" || st.PacketsReceived != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestNTPTime(t *testing.T) {
	tm := time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	n := ntpTime(tm)
	if secs := n >> 32; secs != uint64(tm.Unix())+ntpEpochOffset {
		t.Errorf("seconds %d", secs)
	}
	if frac := uint32(n); frac != 1<<31 {
		t.Errorf("fraction %#x, want 0x80000000", frac)
	}
}
