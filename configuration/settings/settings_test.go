package settings

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	cfg "github.com/sipsimple-go/sipsimple/configuration"
)

func newSettings(t *testing.T, stored cfg.Tree) (*SIPSimpleSettings, *cfg.MemoryBackend) {
	t.Helper()
	b := cfg.NewMemoryBackend(stored)
	m := cfg.NewManager(b, nil, nil)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	s, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// The defaults are python-sipsimple's (or PJSUA's where noted in the
// field docs); this table is the contract.
func TestDefaults(t *testing.T) {
	s, _ := newSettings(t, nil)
	want := map[string]string{
		"default_account":            "bonjour@local",
		"user_agent":                 DefaultUserAgent,
		"instance_id":                "",
		"audio.input_device":         "system_default",
		"audio.output_device":        "system_default",
		"audio.alert_device":         "system_default",
		"audio.sample_rate":          "32000",
		"audio.muted":                "false",
		"audio.silent":               "false",
		"audio.recordings_directory": "~/.local/share/sipsimple/recordings",
		"file_transfer.directory":    "~/Downloads",
		"logs.level":                 "info",
		"logs.directory":             "~/.local/share/sipsimple/logs",
		"logs.trace_notifications":   "false",
		"logs.trace_sip":             "false",
		"logs.trace_msrp":            "false",
		"msrp.local_address":         "",
		"msrp.local_port":            "0",
		"msrp.local_use_tls":         "true",
		"msrp.use_relay_incoming":    "true",
		"msrp.use_relay_outgoing":    "false",
		"msrp.relay_host":            "",
		"msrp.relay_port":            "2855",
		"msrp.relay_use_tls":         "true",
		"rtp.port_range":             "50000-50500",
		"rtp.timeout":                "30",
		"rtp.audio_codec_list":       "opus, G722, PCMU, PCMA",
		"rtp.local_address":          "",
		"rtp.use_srtp":               "false",
		"rtp.srtp_forced":            "false",
		"rtp.use_ice":                "false",
		"rtp.ice_stun_address":       "",
		"rtp.ice_stun_port":          "3478",
		"ringtone.inbound":           "",
		"ringtone.outbound":          "",
		"sip.local_ip":               "",
		"sip.udp_port":               "0",
		"sip.tcp_port":               "0",
		"sip.tls_port":               "0",
		"sip.transport_list":         "tls, tcp, udp",
		"sip.invite_timeout":         "90",
		"sip.register_interval":      "300",
		"sip.subscribe_interval":     "600",
		"sip.publish_interval":       "600",
		"tls.ca_list":                "",
		"tls.certificate":            "",
		"tls.verify_server":          "true",
		"tls.timeout":                "3",
	}
	seen := map[string]bool{}
	for _, n := range s.Settings() {
		seen[n.Name()] = true
		w, ok := want[n.Name()]
		if !ok {
			t.Errorf("setting %s has no expected default in this test", n.Name())
			continue
		}
		if n.Text() != w || !n.IsDefault() {
			t.Errorf("%s = %q (default %v), want %q", n.Name(), n.Text(), n.IsDefault(), w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("setting %s is missing", name)
		}
	}
	if got := s.RTP.PortRange.Get(); got != (cfg.PortRange{Start: 50000, End: 50500}) {
		t.Errorf("typed port range %v", got)
	}
	if s.SIP.InviteTimeout.Get() != 90*time.Second {
		t.Errorf("typed invite timeout %v", s.SIP.InviteTimeout.Get())
	}
	if a, ok := s.DefaultAccount.Get(); !ok || a.Username != "bonjour" || a.Domain != "local" {
		t.Errorf("default account %v %v", a, ok)
	}
}

func TestTCPAndTLSPortsMustDiffer(t *testing.T) {
	s, b := newSettings(t, nil)
	s.SIP.TCPPort.Set(5060)
	s.SIP.TLSPort.Set(5060)
	err := s.Save()
	var ve *cfg.ValidationError
	if !errors.As(err, &ve) || ve.Setting != "sip.tls_port" || !strings.Contains(err.Error(), "sip.tcp_port") {
		t.Fatalf("Save = %v", err)
	}
	if stored, _ := b.Load(); len(stored) != 0 {
		t.Fatalf("invalid settings were stored: %v", stored)
	}
	s.SIP.TLSPort.Set(5061)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	// Both 0 is fine.
	s.SIP.TCPPort.Set(0)
	s.SIP.TLSPort.Set(0)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadAndPersist(t *testing.T) {
	s, b := newSettings(t, cfg.Tree{ID: cfg.Tree{
		"rtp":   cfg.Tree{"audio_codec_list": []string{"PCMA", "PCMU"}},
		"audio": cfg.Tree{"muted": "true"}, // runtime settings are never loaded from storage either
	}})
	if got := s.RTP.AudioCodecList.Get(); !reflect.DeepEqual(got, []string{"PCMA", "PCMU"}) {
		t.Fatalf("codecs %v", got)
	}
	if s.Audio.Muted.Get() {
		t.Fatal("a runtime setting was loaded from storage")
	}
	s.Audio.Muted.Set(true)
	s.SIP.UDPPort.Set(5070)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	stored, _ := b.Load()
	if v, _ := stored.Lookup(ID, "sip", "udp_port"); v != "5070" {
		t.Fatalf("stored %v", stored)
	}
	if v, _ := stored.Lookup(ID, "audio", "muted"); v != "true" {
		// The stored unknown-to-storage value stays as it was loaded; the
		// runtime setting itself is not written.
		t.Fatalf("stored audio.muted = %v", v)
	}
}
