package rtp

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/pion/srtp/v3"
)

// Profile is an SRTP crypto suite, named as in the a=crypto attribute of
// SDES (RFC 4568 section 6.2, RFC 6188, RFC 7714), so that a session layer
// can convert the suite it negotiated with Profile(suite).
type Profile string

// The crypto suites the session supports.
const (
	ProfileAESCM128HMACSHA1_80 Profile                = "AES_CM_128_HMAC_SHA1_80"
	ProfileAESCM128HMACSHA1_32 Profile                = "AES_CM_128_HMAC_SHA1_32"
	ProfileAES256CMHMACSHA1_80 Profile                = "AES_256_CM_HMAC_SHA1_80"
	ProfileAES256CMHMACSHA1_32 Profile                = "AES_256_CM_HMAC_SHA1_32"
	ProfileAEADAES128GCM       Profile                = "AEAD_AES_128_GCM"
	ProfileAEADAES256GCM       Profile                = "AEAD_AES_256_GCM"
	profileDefault                                    = ProfileAESCM128HMACSHA1_80
	replayWindowRTP                                   = 128
	replayWindowRTCP                                  = 64
	srtpOverhead                                      = 16 + 4 // largest tag (GCM) + SRTCP index
	srtpMaxPacket                                     = 12 + 15*4 + MaxPayloadSize + srtpOverhead
	errTextDuplicated                                 = "duplicated"
	pionProfileUnknown         srtp.ProtectionProfile = 0
)

// pion maps p to pion's protection profile (0 when unknown).
func (p Profile) pion() srtp.ProtectionProfile {
	switch Profile(strings.ToUpper(string(p))) {
	case ProfileAESCM128HMACSHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80
	case ProfileAESCM128HMACSHA1_32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32
	case ProfileAES256CMHMACSHA1_80:
		return srtp.ProtectionProfileAes256CmHmacSha1_80
	case ProfileAES256CMHMACSHA1_32:
		return srtp.ProtectionProfileAes256CmHmacSha1_32
	case ProfileAEADAES128GCM:
		return srtp.ProtectionProfileAeadAes128Gcm
	case ProfileAEADAES256GCM:
		return srtp.ProtectionProfileAeadAes256Gcm
	}
	return pionProfileUnknown
}

// KeyLen returns the master key length of p in bytes, or 0 for an unknown
// suite.
func (p Profile) KeyLen() int {
	n, err := p.pion().KeyLen()
	if err != nil {
		return 0
	}
	return n
}

// SaltLen returns the master salt length of p in bytes, or 0 for an
// unknown suite.
func (p Profile) SaltLen() int {
	n, err := p.pion().SaltLen()
	if err != nil {
		return 0
	}
	return n
}

// SRTPConfig holds the SDES keys of one SRTP session. In RFC 4568 terms the
// local key is the one our a=crypto line carries (we encrypt with it) and
// the remote key the one of the peer's line (we decrypt with it); the
// inline key of an a=crypto line is key||salt, which the caller splits.
type SRTPConfig struct {
	// Profile is the negotiated crypto suite; empty means
	// AES_CM_128_HMAC_SHA1_80.
	Profile Profile
	// LocalKey and LocalSalt are the master key and salt we send with.
	LocalKey, LocalSalt []byte
	// RemoteKey and RemoteSalt are the master key and salt the peer sends
	// with.
	RemoteKey, RemoteSalt []byte
}

func (c *SRTPConfig) profile() Profile {
	if c.Profile == "" {
		return profileDefault
	}
	return Profile(strings.ToUpper(string(c.Profile)))
}

func (c *SRTPConfig) validate() error {
	p := c.profile()
	if p.pion() == pionProfileUnknown {
		return fmt.Errorf("rtp: unsupported SRTP profile %q", c.Profile)
	}
	for _, f := range []struct {
		name string
		b    []byte
		want int
	}{
		{"local key", c.LocalKey, p.KeyLen()},
		{"local salt", c.LocalSalt, p.SaltLen()},
		{"remote key", c.RemoteKey, p.KeyLen()},
		{"remote salt", c.RemoteSalt, p.SaltLen()},
	} {
		if len(f.b) != f.want {
			return fmt.Errorf("rtp: SRTP %s is %d bytes, %s needs %d", f.name, len(f.b), p, f.want)
		}
	}
	return nil
}

func (c *SRTPConfig) clone() *SRTPConfig {
	return &SRTPConfig{
		Profile:    c.profile(),
		LocalKey:   bytes.Clone(c.LocalKey),
		LocalSalt:  bytes.Clone(c.LocalSalt),
		RemoteKey:  bytes.Clone(c.RemoteKey),
		RemoteSalt: bytes.Clone(c.RemoteSalt),
	}
}

// lockedContext is an SRTP context used from more than one goroutine.
type lockedContext struct {
	mu  sync.Mutex
	ctx *srtp.Context
}

// cryptoState is the set of SRTP contexts in use. It is replaced as a whole
// by UpdateSRTP; contexts whose keys did not change are carried over so
// that their rollover counters and replay windows survive a re-INVITE.
//
// Ownership: rtpOut is used under Session.smu, rtcpOut only by the control
// goroutine, rtpIn only by the RTP receive goroutine, rtcpIn by both
// receive goroutines under its own lock.
type cryptoState struct {
	cfg     *SRTPConfig
	rtpOut  *srtp.Context
	rtcpOut *srtp.Context
	rtpIn   *srtp.Context
	rtcpIn  *lockedContext
}

// newCryptoState builds the contexts for cfg, reusing those of old whose
// profile and keys are unchanged.
func newCryptoState(cfg *SRTPConfig, old *cryptoState) (*cryptoState, error) {
	p := cfg.profile().pion()
	cs := &cryptoState{cfg: cfg}
	sameLocal := old != nil && old.cfg.profile() == cfg.profile() &&
		bytes.Equal(old.cfg.LocalKey, cfg.LocalKey) && bytes.Equal(old.cfg.LocalSalt, cfg.LocalSalt)
	sameRemote := old != nil && old.cfg.profile() == cfg.profile() &&
		bytes.Equal(old.cfg.RemoteKey, cfg.RemoteKey) && bytes.Equal(old.cfg.RemoteSalt, cfg.RemoteSalt)
	var err error
	if sameLocal {
		cs.rtpOut, cs.rtcpOut = old.rtpOut, old.rtcpOut
	} else {
		if cs.rtpOut, err = srtp.CreateContext(cfg.LocalKey, cfg.LocalSalt, p); err != nil {
			return nil, fmt.Errorf("rtp: SRTP local context: %w", err)
		}
		if cs.rtcpOut, err = srtp.CreateContext(cfg.LocalKey, cfg.LocalSalt, p); err != nil {
			return nil, fmt.Errorf("rtp: SRTCP local context: %w", err)
		}
	}
	if sameRemote {
		cs.rtpIn, cs.rtcpIn = old.rtpIn, old.rtcpIn
	} else {
		if cs.rtpIn, err = srtp.CreateContext(cfg.RemoteKey, cfg.RemoteSalt, p,
			srtp.SRTPReplayProtection(replayWindowRTP)); err != nil {
			return nil, fmt.Errorf("rtp: SRTP remote context: %w", err)
		}
		in, err := srtp.CreateContext(cfg.RemoteKey, cfg.RemoteSalt, p,
			srtp.SRTCPReplayProtection(replayWindowRTCP))
		if err != nil {
			return nil, fmt.Errorf("rtp: SRTCP remote context: %w", err)
		}
		cs.rtcpIn = &lockedContext{ctx: in}
	}
	return cs, nil
}

// isReplay reports whether err is pion's replay-detector rejection (its
// error type is unexported, so the text is all there is).
func isReplay(err error) bool {
	return err != nil && strings.Contains(err.Error(), errTextDuplicated)
}
