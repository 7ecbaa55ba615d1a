package rtp

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// keys returns a deterministic key and salt of the profile's sizes.
func keys(p Profile, seed byte) (key, salt []byte) {
	key, salt = make([]byte, p.KeyLen()), make([]byte, p.SaltLen())
	for i := range key {
		key[i] = seed + byte(i)
	}
	for i := range salt {
		salt[i] = seed ^ byte(i*7)
	}
	return key, salt
}

// srtpPair returns the SRTP configurations of two peers.
func srtpPair(p Profile) (a, b *SRTPConfig) {
	ka, sa := keys(p, 1)
	kb, sb := keys(p, 100)
	return &SRTPConfig{Profile: p, LocalKey: ka, LocalSalt: sa, RemoteKey: kb, RemoteSalt: sb},
		&SRTPConfig{Profile: p, LocalKey: kb, LocalSalt: sb, RemoteKey: ka, RemoteSalt: sa}
}

func TestSRTPExchange(t *testing.T) {
	for _, p := range []Profile{ProfileAESCM128HMACSHA1_80, ProfileAESCM128HMACSHA1_32,
		ProfileAES256CMHMACSHA1_80, ProfileAEADAES128GCM} {
		t.Run(string(p), func(t *testing.T) {
			ca, cb := srtpPair(p)
			// The jitter buffer is off: this test is about SRTP, and a
			// playout deadline missed on a starved CI machine would count
			// packets as lost (the buffer has tests of its own).
			a, b := pair(t, Config{SRTP: ca, DisableJitterBuffer: true}, Config{SRTP: cb, DisableJitterBuffer: true})
			exchange(t, a, b, 20)
			if st := b.Stats(); st.AuthFailures != 0 || st.PacketsReceived != 20 || st.PacketsLost != 0 {
				t.Errorf("b stats: %+v", st)
			}
		})
	}
}

func TestSRTPOnTheWireIsEncrypted(t *testing.T) {
	ca, _ := srtpPair(ProfileAESCM128HMACSHA1_80)
	a := open(t, Config{SRTP: ca})
	peer := newRawPeer(t, a.LocalAddr())
	if err := a.SetRemote(peer.addr(), rtcpSink(t)); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("secret audio "), 10)
	if err := a.WritePayload(Payload{Samples: 160, Data: payload}); err != nil {
		t.Fatal(err)
	}
	pkt := peer.recv()
	if bytes.Contains(pkt.Payload, []byte("secret")) {
		t.Fatal("payload sent in clear")
	}
	if len(pkt.Payload) != len(payload)+10 {
		t.Fatalf("SRTP payload %d bytes, want %d + 10-byte tag", len(pkt.Payload), len(payload))
	}
}

func TestSRTPWrongKey(t *testing.T) {
	for _, p := range []Profile{ProfileAESCM128HMACSHA1_80, ProfileAESCM128HMACSHA1_32} {
		t.Run(string(p), func(t *testing.T) {
			ca, cb := srtpPair(p)
			cb.RemoteKey = bytes.Clone(cb.RemoteKey)
			cb.RemoteKey[0] ^= 0xff // b expects another key from a
			a, b := pair(t, Config{SRTP: ca, RTCPInterval: 20 * time.Millisecond},
				Config{SRTP: cb, RTCPInterval: 20 * time.Millisecond})
			for i := range 10 {
				if err := a.WritePayload(Payload{Samples: 160, Data: frame(i)}); err != nil {
					t.Fatal(err)
				}
			}
			// RTP and SRTCP from a both fail at b.
			eventually(t, "auth failures", func() bool {
				st := b.Stats()
				return st.AuthFailures >= 10+1
			})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if r, err := b.ReadPayload(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("ReadPayload delivered %+v, %v", r, err)
			}
			st := b.Stats()
			if st.PacketsReceived != 0 || st.RTCPReceived != 0 || !st.FirstReceived.IsZero() {
				t.Errorf("unauthenticated packets counted as received: %+v", st)
			}
			if _, ok := b.ReceivedFrom(); ok {
				t.Error("ReceivedFrom set by unauthenticated packets")
			}
		})
	}
}

func TestUpdateSRTP(t *testing.T) {
	ca, cb := srtpPair(ProfileAESCM128HMACSHA1_80)
	a, b := pair(t, Config{SRTP: ca, MaxDelay: time.Second}, Config{SRTP: cb, MaxDelay: time.Second})
	exchange(t, a, b, 5)

	// A re-INVITE: a offers a new key; the suite changes to _32.
	na, nb := srtpPair(ProfileAESCM128HMACSHA1_32)
	if err := a.UpdateSRTP(na); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateSRTP(nb); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, 5)

	// Turning SRTP off on both sides.
	if err := a.UpdateSRTP(nil); err != nil {
		t.Fatal(err)
	}
	if err := b.UpdateSRTP(nil); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, 5)

	bad := &SRTPConfig{Profile: ProfileAESCM128HMACSHA1_80, LocalKey: make([]byte, 16), LocalSalt: make([]byte, 14),
		RemoteKey: make([]byte, 16), RemoteSalt: make([]byte, 13)}
	if err := a.UpdateSRTP(bad); err == nil || !strings.Contains(err.Error(), "remote salt is 13 bytes") {
		t.Errorf("UpdateSRTP with a short salt: %v", err)
	}
}

func TestProfileLengths(t *testing.T) {
	for _, tc := range []struct {
		p         Profile
		key, salt int
	}{
		{ProfileAESCM128HMACSHA1_80, 16, 14},
		{ProfileAESCM128HMACSHA1_32, 16, 14},
		{ProfileAES256CMHMACSHA1_80, 32, 14},
		{ProfileAES256CMHMACSHA1_32, 32, 14},
		{ProfileAEADAES128GCM, 16, 12},
		{ProfileAEADAES256GCM, 32, 12},
		{"aes_cm_128_hmac_sha1_80", 16, 14},
		{"F8_128_HMAC_SHA1_80", 0, 0},
	} {
		if k, s := tc.p.KeyLen(), tc.p.SaltLen(); k != tc.key || s != tc.salt {
			t.Errorf("%s: key %d salt %d, want %d %d", tc.p, k, s, tc.key, tc.salt)
		}
	}
}
