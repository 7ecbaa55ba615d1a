package application

import (
	"context"

	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/rtp"
	"github.com/sipsimple-go/sipsimple/session"
)

// sessionsSubsystem runs the session manager (seed 000's SessionManager),
// with its audio configured from the global settings.
type sessionsSubsystem struct {
	app   *Application
	media *session.MediaConfig
}

func (s *sessionsSubsystem) Name() string { return "sessions" }

// mediaConfig maps the settings (rtp.port_range, rtp.audio_codec_list,
// audio.sample_rate, audio.recordings_directory) onto the fields of base
// that are not set.
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
	if c.RecordingsDirectory == "" {
		c.RecordingsDirectory = configuration.ExpandPath(st.Audio.RecordingsDirectory.Get())
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
