package application

import (
	"context"
	"net/netip"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/rtp"
	"github.com/sipsimple-go/sipsimple/session"
)

// sessionsSubsystem runs the session manager (seed 000's SessionManager),
// with its audio configured from the global settings.
type sessionsSubsystem struct {
	app   *Application
	media *session.MediaConfig
	// resolver is Options.Resolver: MSRP relay discovery uses its DNS
	// resolver when it is an account.LookupResolver.
	resolver account.Resolver
}

func (s *sessionsSubsystem) Name() string { return "sessions" }

// mediaConfig maps the settings (rtp.port_range, rtp.audio_codec_list,
// rtp.local_address, rtp.use_srtp, rtp.srtp_forced, rtp.use_ice,
// rtp.ice_stun_*, audio.sample_rate, audio.recordings_directory) onto the
// fields of the given MediaConfig that are not set.
func (s *sessionsSubsystem) mediaConfig() session.MediaConfig {
	var c session.MediaConfig
	if s.media != nil {
		c = *s.media
	}
	st := s.app.Settings()
	if c.PortRange.IsZero() {
		pr := st.RTP.PortRange.Get()
		c.PortRange = rtp.PortRange{Min: uint16(pr.Start), Max: uint16(pr.End)}
	}
	if len(c.Codecs) == 0 {
		c.Codecs = st.RTP.AudioCodecList.Get()
	}
	if c.SampleRate == 0 {
		c.SampleRate = st.Audio.SampleRate.Get()
	}
	if !c.RTP.LocalRTPAddress.IsValid() {
		if ip, ok := st.RTP.LocalAddress.Get(); ok {
			c.RTP.LocalRTPAddress, _ = netip.ParseAddr(ip)
		}
	}
	if !c.RTP.UseSRTP {
		c.RTP.UseSRTP, c.RTP.SRTPForced = st.RTP.UseSRTP.Get(), st.RTP.SRTPForced.Get()
	}
	if !c.RTP.UseICE {
		c.RTP.UseICE = st.RTP.UseICE.Get()
	}
	if c.RTP.ICESTUNAddress == "" {
		c.RTP.ICESTUNAddress, _ = st.RTP.ICESTUNAddress.Get()
	}
	if c.RTP.ICESTUNPort == 0 {
		c.RTP.ICESTUNPort = st.RTP.ICESTUNPort.Get()
	}
	if c.RecordingsDirectory == "" {
		c.RecordingsDirectory = configuration.ExpandPath(st.Audio.RecordingsDirectory.Get())
	}
	if c.DownloadsDirectory == "" {
		c.DownloadsDirectory = configuration.ExpandPath(st.FileTransfer.Directory.Get())
	}
	// Seed 001's MSRPConfiguration: where chat streams listen, and TLS
	// (msrps:) when msrp.local_use_tls is on and tls.certificate gives a
	// certificate (without one, TCP); relays per msrpRelays.
	if c.MSRP.TLS == nil && st.MSRP.LocalUseTLS.Get() {
		conf, err := tlsConfig(st)
		switch {
		case err != nil:
			s.app.Logger().Warn("MSRP over TLS off: the TLS settings do not load", "error", err)
		case len(conf.Certificates) > 0:
			c.MSRP.TLS = conf
		}
	}
	if !c.MSRP.LocalAddress.IsValid() {
		if ip, ok := st.MSRP.LocalAddress.Get(); ok {
			c.MSRP.LocalAddress, _ = netip.ParseAddr(ip)
		}
	}
	if c.MSRP.Port == 0 {
		c.MSRP.Port = st.MSRP.LocalPort.Get()
	}
	if c.MSRP.Relay == nil {
		rel := &msrpRelays{app: s.app}
		if lr, ok := s.resolver.(*account.LookupResolver); ok && lr.R != nil {
			rel.resolver = lr.R
		}
		c.MSRP.Relay = rel.relay
	}
	return c
}

func (s *sessionsSubsystem) Start(ctx context.Context) error {
	a := s.app
	m := session.NewManager(session.Config{Center: a.center, Engine: a.Engine(), Accounts: a.Accounts(),
		Media: s.mediaConfig(), InviteTimeout: a.Settings().SIP.InviteTimeout.Get(), Logger: a.Logger()})
	if err := m.Start(ctx); err != nil {
		return err
	}
	st := a.Settings()
	if f, ok := st.Ringtone.Inbound.Get(); ok {
		m.Ringtones().SetDefaultInboundRingtone(configuration.ExpandPath(f))
	}
	if f, ok := st.Ringtone.Outbound.Get(); ok {
		m.Ringtones().SetOutboundRingtone(configuration.ExpandPath(f))
	}
	a.mu.Lock()
	a.sessions = m
	a.mu.Unlock()
	return nil
}

func (s *sessionsSubsystem) Stop(ctx context.Context) error {
	if m := s.app.Sessions(); m != nil {
		return m.Stop(ctx)
	}
	return nil
}

// Sessions returns the session manager; nil before the first Start.
func (a *Application) Sessions() *session.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions
}
