package account

import (
	"time"

	cfg "github.com/sipsimple-go/sipsimple/configuration"
)

// Group is the configuration group under which accounts are stored.
const Group = "Accounts"

// BonjourID is the id of the BonjourAccount.
const BonjourID = "bonjour@local"

// Settings are an account's settings (python-sipsimple's Account settings
// mapped together with PJSUA's pjsua_acc_config). Unset optional settings
// fall back to the global settings where one exists.
type Settings struct {
	// Enabled activates the account when the engine runs.
	Enabled *cfg.Setting[bool]
	// DisplayName goes into From headers.
	DisplayName *cfg.Optional[string]
	// Priority orders accounts for matching (PJSUA: higher first; local
	// accounts are one below their base).
	Priority *cfg.Setting[int]

	Auth struct {
		// Username is the digest user name; none means the id's user part.
		Username *cfg.Optional[string]
		Password *cfg.Setting[string]
	}
	SIP struct {
		// Register enables registration.
		Register *cfg.Setting[bool]
		// Registrar is the REGISTER Request-URI (PJSUA reg_uri); none
		// means sip:<domain>.
		Registrar *cfg.Optional[string]
		// OutboundProxy is the first route of every request (a route set
		// of one); none means requests go to the target's domain.
		OutboundProxy *cfg.Optional[string]
		// RegisterInterval is the requested expiry; none means the
		// global sip.register_interval (300 s).
		RegisterInterval *cfg.Optional[time.Duration]
		// RetryInterval is the wait after every route failed (PJSUA
		// reg_retry_interval, 300 s), plus up to RetryRandomInterval.
		RetryInterval       *cfg.Setting[time.Duration]
		RetryRandomInterval *cfg.Setting[time.Duration]
		// Transport binds the account to one transport; none lets
		// lookups choose.
		Transport *cfg.Optional[string]
		// Outbound adds +sip.instance and reg-id to the Contact (RFC 5626).
		Outbound *cfg.Setting[bool]
		// ContactRewrite re-registers with the address the registrar
		// saw (PJSUA allow_contact_rewrite).
		ContactRewrite *cfg.Setting[bool]
		// Require100rel requires reliable provisional responses.
		Require100rel *cfg.Setting[bool]
		// UnknownMessageResponse answers MESSAGE from strangers when no
		// handler takes it: 200 (accept and drop) or 480.
		UnknownMessageResponse *cfg.Setting[int]
	}
	RTP struct {
		// SRTP is disabled, optional or mandatory.
		SRTP *cfg.Setting[string]
		// UseICE enables ICE (a later issue).
		UseICE *cfg.Setting[bool]
	}
	MSRP struct {
		// Transport is tls (msrps:, the default) or tcp.
		Transport *cfg.Setting[string]
		// ConnectionModel is relay (RFC 4976) or acm (RFC 6135: direct
		// connections, a=setup).
		ConnectionModel *cfg.Setting[string]
	}
	Presence struct {
		Enabled *cfg.Setting[bool]
		// Publish enables PUBLISH of the online status, every
		// PublishInterval (PJSUA publish_enabled, 600 s).
		Publish         *cfg.Setting[bool]
		PublishInterval *cfg.Setting[time.Duration]
	}
	DialogEvent struct {
		Enabled *cfg.Setting[bool]
	}
	MessageSummary struct {
		Enabled      *cfg.Setting[bool]
		VoicemailURI *cfg.Optional[string]
	}
}

// define adds the account settings to obj.
func (s *Settings) define(obj *cfg.Object, enabledDefault bool) {
	r := obj.Root()
	s.Enabled = cfg.Define(r, "enabled", cfg.Bool, enabledDefault)
	s.DisplayName = cfg.DefineOptional(r, "display_name", cfg.String, "", false)
	s.Priority = cfg.Define(r, "priority", cfg.Integer, 0)

	auth := r.Group("auth")
	s.Auth.Username = cfg.DefineOptional(auth, "username", cfg.NonEmptyString, "", false)
	s.Auth.Password = cfg.Define(auth, "password", cfg.String, "")

	sip := r.Group("sip")
	s.SIP.Register = cfg.Define(sip, "register", cfg.Bool, true)
	s.SIP.Registrar = cfg.DefineOptional(sip, "registrar", cfg.SIPURIKind, "", false)
	s.SIP.OutboundProxy = cfg.DefineOptional(sip, "outbound_proxy", cfg.SIPURIKind, "", false)
	s.SIP.RegisterInterval = cfg.DefineOptional(sip, "register_interval", cfg.Duration, 0, false)
	s.SIP.RetryInterval = cfg.Define(sip, "retry_interval", cfg.Duration, 300*time.Second)
	s.SIP.RetryRandomInterval = cfg.Define(sip, "retry_random_interval", cfg.Duration, 10*time.Second)
	s.SIP.Transport = cfg.DefineOptional(sip, "transport", cfg.Choice("transport", "udp", "tcp", "tls"), "", false)
	s.SIP.Outbound = cfg.Define(sip, "outbound", cfg.Bool, false)
	s.SIP.ContactRewrite = cfg.Define(sip, "contact_rewrite", cfg.Bool, true)
	s.SIP.Require100rel = cfg.Define(sip, "require_100rel", cfg.Bool, false)
	s.SIP.UnknownMessageResponse = cfg.Define(sip, "unknown_message_response", cfg.IntChoice("response code", 200, 480), 200)

	rtp := r.Group("rtp")
	s.RTP.SRTP = cfg.Define(rtp, "srtp", cfg.Choice("SRTP mode", "disabled", "optional", "mandatory"), "optional")
	s.RTP.UseICE = cfg.Define(rtp, "use_ice", cfg.Bool, false)

	msrp := r.Group("msrp")
	s.MSRP.Transport = cfg.Define(msrp, "transport", cfg.Choice("MSRP transport", "tls", "tcp"), "tls")
	s.MSRP.ConnectionModel = cfg.Define(msrp, "connection_model", cfg.Choice("MSRP connection model", "relay", "acm"), "relay")

	pres := r.Group("presence")
	s.Presence.Enabled = cfg.Define(pres, "enabled", cfg.Bool, false)
	s.Presence.Publish = cfg.Define(pres, "publish", cfg.Bool, false)
	s.Presence.PublishInterval = cfg.Define(pres, "publish_interval", cfg.Duration, 600*time.Second)

	s.DialogEvent.Enabled = cfg.Define(r.Group("dialog_event"), "enabled", cfg.Bool, false)

	mwi := r.Group("message_summary")
	s.MessageSummary.Enabled = cfg.Define(mwi, "enabled", cfg.Bool, false)
	s.MessageSummary.VoicemailURI = cfg.DefineOptional(mwi, "voicemail_uri", cfg.SIPURIKind, "", false)
}
