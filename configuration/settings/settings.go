// Package settings defines SIPSimpleSettings, the global settings object of
// an application (python-sipsimple's configuration/settings.py), with the
// defaults of python-sipsimple and PJSUA where the seeds are silent.
//
// It knows the configuration framework and nothing else: subsystems read
// these settings and observe CFGSettingsObjectDidChange to apply changes.
package settings

import (
	"fmt"
	"time"

	"github.com/sipsimple-go/sipsimple"
	cfg "github.com/sipsimple-go/sipsimple/configuration"
)

// ID is the id under which the global settings are stored.
const ID = "SIPSimpleSettings"

// DefaultUserAgent is the default User-Agent header (also the SDP s= line).
var DefaultUserAgent = "sipsimple-go " + sipsimple.Version

// SIPSimpleSettings is the global settings object. Create it with New after
// the configuration manager has started; there is one per application.
type SIPSimpleSettings struct {
	*cfg.Object

	// DefaultAccount is the id of the default account.
	DefaultAccount *cfg.Optional[cfg.SIPAddress]
	// UserAgent is sent in User-Agent and Server headers.
	UserAgent *cfg.Setting[string]
	// InstanceID is the +sip.instance URN; filled with a random UUID URN
	// on the application's first start.
	InstanceID *cfg.Setting[string]

	Audio        AudioSettings
	FileTransfer FileTransferSettings
	Logs         LogsSettings
	MSRP         MSRPSettings
	RTP          RTPSettings
	Ringtone     RingtoneSettings
	SIP          SIPSettings
	TLS          TLSSettings
}

// AudioSettings is the "audio" group.
type AudioSettings struct {
	// AlertDevice, InputDevice and OutputDevice name sound devices;
	// "system_default" follows the system, no value means the null device.
	AlertDevice  *cfg.Optional[string]
	InputDevice  *cfg.Optional[string]
	OutputDevice *cfg.Optional[string]
	// SampleRate is the mixer's sample rate in Hz.
	SampleRate *cfg.Setting[int]
	// Muted mutes the input; it is a runtime setting, never persisted.
	Muted *cfg.Setting[bool]
	// Silent silences alerts (ringtones).
	Silent *cfg.Setting[bool]
	// RecordingsDirectory is where session recordings are written.
	RecordingsDirectory *cfg.Setting[string]
}

// FileTransferSettings is the "file_transfer" group.
type FileTransferSettings struct {
	// Directory receives incoming files.
	Directory *cfg.Setting[string]
}

// LogsSettings is the "logs" group.
type LogsSettings struct {
	Directory          *cfg.Setting[string]
	Level              *cfg.Setting[string]
	TraceSIP           *cfg.Setting[bool]
	TraceMSRP          *cfg.Setting[bool]
	TraceNotifications *cfg.Setting[bool]
}

// MSRPSettings is the "msrp" group: seed 001's MSRPConfiguration, the
// parameters of the MSRP connections of chat and file-transfer streams.
// Each account's msrp.transport and msrp.connection_model choose TLS or
// TCP and a relay (RFC 4976) or direct connections (RFC 6135).
type MSRPSettings struct {
	// LocalAddress is the IP address put in the local MSRP URI; no value
	// means the address of the SIP transport the session uses.
	LocalAddress *cfg.Optional[string]
	// LocalPort is the local MSRP port; 0 picks one.
	LocalPort *cfg.Setting[int]
	// LocalUseTLS puts msrps: (TLS) in the local MSRP URI.
	LocalUseTLS *cfg.Setting[bool]
	// UseRelayIncoming and UseRelayOutgoing reserve a session at the MSRP
	// relay for incoming and outgoing sessions.
	UseRelayIncoming *cfg.Setting[bool]
	UseRelayOutgoing *cfg.Setting[bool]
	// RelayHost, RelayPort and RelayUseTLS name the relay; no host means
	// DNS SRV discovery (_msrps._tcp, _msrp._tcp) in the account's domain.
	RelayHost   *cfg.Optional[string]
	RelayPort   *cfg.Setting[int]
	RelayUseTLS *cfg.Setting[bool]
}

// RTPSettings is the "rtp" group.
type RTPSettings struct {
	// PortRange bounds the local RTP (and RTCP) ports.
	PortRange *cfg.Setting[cfg.PortRange]
	// Timeout is how long without RTP before a stream times out; 0 disables.
	Timeout *cfg.Setting[time.Duration]
	// AudioCodecList is the audio codec preference order.
	AudioCodecList *cfg.Setting[[]string]
	// LocalAddress is the IP address RTP binds to and announces (seed
	// 001's RTPConfiguration.local_rtp_address); no value means the
	// address of the SIP transport each call uses.
	LocalAddress *cfg.Optional[string]
	// UseSRTP and SRTPForced are RTPConfiguration's use_srtp and
	// srtp_forced: when UseSRTP is false each account's rtp.srtp decides.
	UseSRTP    *cfg.Setting[bool]
	SRTPForced *cfg.Setting[bool]
	// UseICE, ICESTUNAddress and ICESTUNPort configure ICE (a later
	// issue; stored but not used yet).
	UseICE         *cfg.Setting[bool]
	ICESTUNAddress *cfg.Optional[string]
	ICESTUNPort    *cfg.Setting[int]
}

// RingtoneSettings is the "ringtone" group: seed 001's
// RingtoneConfiguration defaults (per-URI ringtones are set through the
// session manager's RingtoneConfiguration at run time).
type RingtoneSettings struct {
	// Inbound is played on incoming sessions (a .wav file).
	Inbound *cfg.Optional[string]
	// Outbound is played when an outgoing session rings.
	Outbound *cfg.Optional[string]
}

// SIPSettings is the "sip" group.
type SIPSettings struct {
	// LocalIP is the address the engine listens on; no value means every
	// interface.
	LocalIP *cfg.Optional[string]
	// UDPPort, TCPPort and TLSPort are the listening ports; 0 lets the
	// system choose a free port.
	UDPPort *cfg.Setting[int]
	TCPPort *cfg.Setting[int]
	TLSPort *cfg.Setting[int]
	// TransportList is the transport preference for lookups and registration.
	TransportList *cfg.Setting[[]string]
	// InviteTimeout bounds an outgoing INVITE without final answer.
	InviteTimeout *cfg.Setting[time.Duration]
	// RegisterInterval is the default registration expiry (PJSUA_REG_INTERVAL).
	RegisterInterval *cfg.Setting[time.Duration]
	// SubscribeInterval is the default subscription expiry.
	SubscribeInterval *cfg.Setting[time.Duration]
	// PublishInterval is the default publication expiry.
	PublishInterval *cfg.Setting[time.Duration]
}

// TLSSettings is the "tls" group.
type TLSSettings struct {
	// CAList is a PEM bundle of trusted CAs; no value means the system pool.
	CAList *cfg.Optional[string]
	// Certificate is a PEM file with the local certificate chain and key.
	Certificate *cfg.Optional[string]
	// VerifyServer makes TLS clients verify the server certificate. Unlike
	// python-sipsimple (false) it defaults to true.
	VerifyServer *cfg.Setting[bool]
	// Timeout bounds TLS handshakes.
	Timeout *cfg.Setting[time.Duration]
}

// New creates the global settings object on m (which must be started),
// loading stored values.
func New(m *cfg.Manager) (*SIPSimpleSettings, error) {
	obj, err := m.NewObject([]string{ID}, cfg.StaticID())
	if err != nil {
		return nil, err
	}
	s := &SIPSimpleSettings{Object: obj}
	obj.SetOwner(s)
	root := obj.Root()
	bonjour, _ := cfg.ParseSIPAddress("bonjour@local")
	s.DefaultAccount = cfg.DefineOptional(root, "default_account", cfg.SIPAddressKind, bonjour, true)
	s.UserAgent = cfg.Define(root, "user_agent", cfg.NonEmptyString, DefaultUserAgent)
	s.InstanceID = cfg.Define(root, "instance_id", cfg.String, "")

	audio := root.Group("audio")
	s.Audio.AlertDevice = cfg.DefineOptional(audio, "alert_device", cfg.String, "system_default", true)
	s.Audio.InputDevice = cfg.DefineOptional(audio, "input_device", cfg.String, "system_default", true)
	s.Audio.OutputDevice = cfg.DefineOptional(audio, "output_device", cfg.String, "system_default", true)
	s.Audio.SampleRate = cfg.Define(audio, "sample_rate", cfg.IntChoice("sample rate", 8000, 16000, 32000, 48000), 32000)
	s.Audio.Muted = cfg.Define(audio, "muted", cfg.Bool, false, cfg.RuntimeOnly())
	s.Audio.Silent = cfg.Define(audio, "silent", cfg.Bool, false)
	s.Audio.RecordingsDirectory = cfg.Define(audio, "recordings_directory", cfg.Path, "~/.local/share/sipsimple/recordings")

	ft := root.Group("file_transfer")
	s.FileTransfer.Directory = cfg.Define(ft, "directory", cfg.Path, "~/Downloads")

	logs := root.Group("logs")
	s.Logs.Directory = cfg.Define(logs, "directory", cfg.Path, "~/.local/share/sipsimple/logs")
	s.Logs.Level = cfg.Define(logs, "level", cfg.Choice("log level", "debug", "info", "warn", "error"), "info")
	s.Logs.TraceSIP = cfg.Define(logs, "trace_sip", cfg.Bool, false)
	s.Logs.TraceMSRP = cfg.Define(logs, "trace_msrp", cfg.Bool, false)
	s.Logs.TraceNotifications = cfg.Define(logs, "trace_notifications", cfg.Bool, false)

	msrp := root.Group("msrp")
	s.MSRP.LocalAddress = cfg.DefineOptional(msrp, "local_address", cfg.IPAddress, "", false)
	s.MSRP.LocalPort = cfg.Define(msrp, "local_port", cfg.Port, 0)
	s.MSRP.LocalUseTLS = cfg.Define(msrp, "local_use_tls", cfg.Bool, true)
	s.MSRP.UseRelayIncoming = cfg.Define(msrp, "use_relay_incoming", cfg.Bool, true)
	s.MSRP.UseRelayOutgoing = cfg.Define(msrp, "use_relay_outgoing", cfg.Bool, false)
	s.MSRP.RelayHost = cfg.DefineOptional(msrp, "relay_host", cfg.Host, "", false)
	s.MSRP.RelayPort = cfg.Define(msrp, "relay_port", cfg.Port, 2855)
	s.MSRP.RelayUseTLS = cfg.Define(msrp, "relay_use_tls", cfg.Bool, true)

	rtp := root.Group("rtp")
	s.RTP.PortRange = cfg.Define(rtp, "port_range", cfg.PortRangeKind, cfg.PortRange{Start: 50000, End: 50500})
	s.RTP.Timeout = cfg.Define(rtp, "timeout", cfg.Duration, 30*time.Second)
	s.RTP.AudioCodecList = cfg.Define[[]string](rtp, "audio_codec_list", cfg.AudioCodecList, []string{"opus", "G722", "PCMU", "PCMA"})
	s.RTP.LocalAddress = cfg.DefineOptional(rtp, "local_address", cfg.IPAddress, "", false)
	s.RTP.UseSRTP = cfg.Define(rtp, "use_srtp", cfg.Bool, false)
	s.RTP.SRTPForced = cfg.Define(rtp, "srtp_forced", cfg.Bool, false)
	s.RTP.UseICE = cfg.Define(rtp, "use_ice", cfg.Bool, false)
	s.RTP.ICESTUNAddress = cfg.DefineOptional(rtp, "ice_stun_address", cfg.Host, "", false)
	s.RTP.ICESTUNPort = cfg.Define(rtp, "ice_stun_port", cfg.Port, 3478)

	ringtone := root.Group("ringtone")
	s.Ringtone.Inbound = cfg.DefineOptional(ringtone, "inbound", cfg.Path, "", false)
	s.Ringtone.Outbound = cfg.DefineOptional(ringtone, "outbound", cfg.Path, "", false)

	sip := root.Group("sip")
	s.SIP.LocalIP = cfg.DefineOptional(sip, "local_ip", cfg.IPAddress, "", false)
	s.SIP.UDPPort = cfg.Define(sip, "udp_port", cfg.Port, 0)
	s.SIP.TCPPort = cfg.Define(sip, "tcp_port", cfg.Port, 0)
	s.SIP.TLSPort = cfg.Define(sip, "tls_port", cfg.Port, 0)
	s.SIP.TransportList = cfg.Define[[]string](sip, "transport_list", cfg.TransportList, []string{"tls", "tcp", "udp"})
	s.SIP.InviteTimeout = cfg.Define(sip, "invite_timeout", cfg.Duration, 90*time.Second)
	s.SIP.RegisterInterval = cfg.Define(sip, "register_interval", cfg.Duration, 300*time.Second)
	s.SIP.SubscribeInterval = cfg.Define(sip, "subscribe_interval", cfg.Duration, 600*time.Second)
	s.SIP.PublishInterval = cfg.Define(sip, "publish_interval", cfg.Duration, 600*time.Second)

	tls := root.Group("tls")
	s.TLS.CAList = cfg.DefineOptional(tls, "ca_list", cfg.Path, "", false)
	s.TLS.Certificate = cfg.DefineOptional(tls, "certificate", cfg.Path, "", false)
	s.TLS.VerifyServer = cfg.Define(tls, "verify_server", cfg.Bool, true)
	s.TLS.Timeout = cfg.Define(tls, "timeout", cfg.Duration, 3*time.Second)

	obj.AddValidator(s.validatePorts)
	return s, nil
}

// validatePorts refuses the same non-zero port for TCP and TLS (both are
// TCP listeners).
func (s *SIPSimpleSettings) validatePorts() error {
	if tcp, tls := s.SIP.TCPPort.Get(), s.SIP.TLSPort.Get(); tcp != 0 && tcp == tls {
		return &cfg.ValidationError{Setting: "sip.tls_port", Value: fmt.Sprint(tls),
			Rule: "must differ from sip.tcp_port unless both are 0"}
	}
	return nil
}
