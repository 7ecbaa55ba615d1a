package session

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/audio/codec"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/rtp"
)

// RTPConfiguration is seed 001's RTPConfiguration: the options of the RTP
// transport of new audio streams. The zero value binds the address the SIP
// engine uses and leaves SRTP to each account's rtp.srtp setting.
type RTPConfiguration struct {
	// LocalRTPAddress is the IP address RTP binds to and announces in SDP;
	// the zero value means the address of the SIP transport the call
	// uses (or the host's outbound address when that one is unspecified).
	LocalRTPAddress netip.Addr
	// UseSRTP offers SRTP (SDES keys, RFC 4568) on every new audio stream,
	// whatever the account says; SRTPForced makes it mandatory (RTP/SAVP:
	// a peer without SRTP cannot connect). With UseSRTP false, the
	// account's rtp.srtp setting (disabled, optional, mandatory) decides.
	UseSRTP    bool
	SRTPForced bool
	// UseICE, ICESTUNAddress and ICESTUNPort configure ICE, which lands in
	// a later issue: they are kept but not used yet.
	UseICE         bool
	ICESTUNAddress string
	ICESTUNPort    int
}

// NewRTPConfiguration returns seed 001's defaults: no SRTP, no ICE, STUN
// port 3478, the local address chosen per call.
func NewRTPConfiguration() RTPConfiguration { return RTPConfiguration{ICESTUNPort: 3478} }

// MediaConfig configures the audio side of a Manager. The zero value is
// usable: PCMU, PCMA and G.722 in the order G722, PCMU, PCMA, RTP ports
// from the system, a 16 kHz mixer on the null device.
type MediaConfig struct {
	// RTP is the seed's RTPConfiguration.
	RTP RTPConfiguration
	// PortRange is where RTP ports are taken (rtp.port_range); the zero
	// value lets the system choose.
	PortRange rtp.PortRange
	// Codecs is the audio codec preference list (rtp.audio_codec_list).
	// Names this build does not implement (opus, speex...) are skipped.
	// Empty means G722, PCMU, PCMA.
	Codecs []string
	// SampleRate is the mixer's rate (audio.sample_rate); 0 means 16000.
	SampleRate int
	// Device is the sound device; nil means a null device (headless).
	Device audio.Device
	// RecordingsDirectory is where StartRecordingAudio puts recordings
	// without a file name, in a subdirectory per account; "" means the
	// system's temporary directory plus "sipsimple-recordings".
	RecordingsDirectory string
	// NoAudioTimeout is how long after an audio stream starts
	// SIPSessionGotNoAudio is posted when nothing was received; 0 means
	// 5 s, negative disables it.
	NoAudioTimeout time.Duration
	// JitterMinDelay and JitterMaxDelay bound the jitter buffer (0: the
	// rtp package's 40 and 200 ms).
	JitterMinDelay, JitterMaxDelay time.Duration
	// MSRP configures the MSRP connections of chat and file-transfer
	// streams.
	MSRP MSRPConfig
	// DownloadsDirectory is where AcceptFileTransfer("") saves received
	// files (the setting file_transfer.directory); "" means the system's
	// temporary directory plus "sipsimple-downloads".
	DownloadsDirectory string
}

// telephoneEventPT is the payload type we offer telephone-event with.
const telephoneEventPT = 101

// mediaEngine is a Manager's audio machinery: one mixer on one device,
// the codec list and the RTP options.
type mediaEngine struct {
	cfg     MediaConfig
	codecs  []codec.Codec
	mixer   *audio.Mixer
	device  audio.Device
	devSlot audio.Slot

	mu     sync.Mutex
	closed bool
}

func newMediaEngine(c MediaConfig) (*mediaEngine, error) {
	if c.SampleRate == 0 {
		c.SampleRate = audio.Rate16000
	}
	if c.NoAudioTimeout == 0 {
		c.NoAudioTimeout = 5 * time.Second
	}
	if c.RTP.ICESTUNPort == 0 {
		c.RTP.ICESTUNPort = 3478
	}
	names := c.Codecs
	if len(names) == 0 {
		names = []string{"G722", "PCMU", "PCMA"}
	}
	var codecs []codec.Codec
	seen := map[string]bool{}
	for _, n := range names {
		for _, cd := range codec.Codecs() {
			if strings.EqualFold(cd.Name(), n) && !seen[cd.Name()] {
				codecs = append(codecs, cd)
				seen[cd.Name()] = true
			}
		}
	}
	if len(codecs) == 0 {
		return nil, fmt.Errorf("audio codec list %v: none of these codecs is available (this build has G722, PCMU, PCMA)", names)
	}
	mixer, err := audio.NewMixer(audio.MixerConfig{SampleRate: c.SampleRate})
	if err != nil {
		return nil, fmt.Errorf("audio sample rate %d: %w", c.SampleRate, err)
	}
	dev := c.Device
	if dev == nil {
		if dev, err = audio.NewNullDevice(c.SampleRate); err != nil {
			return nil, err
		}
	}
	slot, err := mixer.Add(dev)
	if err != nil {
		return nil, err
	}
	if err := mixer.Start(dev); err != nil {
		return nil, err
	}
	return &mediaEngine{cfg: c, codecs: codecs, mixer: mixer, device: dev, devSlot: slot}, nil
}

func (e *mediaEngine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.mixer.Stop()
	if e.cfg.Device == nil {
		e.device.Close()
	}
}

// localAddress picks the address RTP binds to for a call whose SIP
// signalling uses sipHost.
func (e *mediaEngine) localAddress(sipHost string) netip.Addr {
	if a := e.cfg.RTP.LocalRTPAddress; a.IsValid() && !a.IsUnspecified() {
		return a
	}
	if a, err := netip.ParseAddr(strings.Trim(sipHost, "[]")); err == nil && !a.IsUnspecified() {
		return a.Unmap()
	}
	// The host's outbound address: a connected UDP socket sends nothing.
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		defer c.Close()
		if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
			if a, ok := netip.AddrFromSlice(ua.IP); ok {
				return a.Unmap()
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// srtpMode resolves the SRTP policy of a stream of account settings mode.
func (e *mediaEngine) srtpMode(accountMode string) string {
	switch {
	case e.cfg.RTP.UseSRTP && e.cfg.RTP.SRTPForced:
		return "mandatory"
	case e.cfg.RTP.UseSRTP:
		return "optional"
	case accountMode == "":
		return "disabled"
	}
	return accountMode
}

// Mixer returns the manager's audio mixer (nil when it is not started):
// applications add their own ports (players, recorders, tone generators)
// and connect them to a stream's slot (AudioStream.Slot) or to the device
// (DeviceSlot).
func (m *Manager) Mixer() *audio.Mixer {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.media == nil {
		return nil
	}
	return m.media.mixer
}

// DeviceSlot returns the mixer slot of the sound device (the null device
// by default); false when the manager is not started.
func (m *Manager) DeviceSlot() (audio.Slot, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.media == nil {
		return 0, false
	}
	return m.media.devSlot, true
}

// defaultRecordingName is seed 000's default: YYYYmmdd-HHMMSS-user@host-
// direction.wav in the recordings directory, under the account's id.
func (m *Manager) defaultRecordingName(s *Session) string {
	dir := m.cfg.Media.RecordingsDirectory
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "sipsimple-recordings")
	}
	remote := s.RemoteURI()
	party := remote.Host
	if remote.User != "" {
		party = remote.User + "@" + remote.Host
	}
	party = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == 0 {
			return '_'
		}
		return r
	}, party)
	name := fmt.Sprintf("%s-%s-%s.wav", time.Now().Format("20060102-150405"), party, s.Direction())
	return filepath.Join(dir, safeDirName(s.account.Address().String()), name)
}

func safeDirName(id string) string {
	// A local (userless) account's address is "@host:port": drop the
	// empty user part rather than start the folder name with "@".
	id = strings.TrimPrefix(id, "@")
	if id == "" {
		return "local"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == 0 {
			return '_'
		}
		return r
	}, id)
}

// playRingtone loops file into the device until the returned stop is
// called; a missing file is logged and nothing plays.
func (m *Manager) playRingtone(file string) (stop func()) {
	m.mu.Lock()
	media := m.media
	m.mu.Unlock()
	if file == "" || media == nil {
		return func() {}
	}
	p, err := audio.OpenWAVPlayer(file, media.mixer.Format().SampleRate, &audio.WAVPlayerOptions{Loop: true})
	if err != nil {
		m.log.Warn("ringtone not played", "file", file, "error", err)
		return func() {}
	}
	slot, err := media.mixer.Add(p)
	if err == nil {
		err = media.mixer.Connect(slot, media.devSlot)
	}
	if err != nil {
		p.Close()
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			media.mixer.Remove(slot)
			p.Close()
		})
	}
}

var errNotStarted = errors.New("the session manager is not started")

// sipHostOf returns the host of a contact, for localAddress.
func sipHostOf(u core.SIPURI) string { return u.Host }
