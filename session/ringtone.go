package session

import (
	"strings"
	"sync"

	"github.com/sipsimple-go/sipsimple/core"
)

// RingtoneConfiguration is seed 001's registry of ringtones: a default for
// incoming sessions, one for outgoing sessions that ring, and one per
// remote SIP URI. Ringtones are paths of .wav files; "" means none. It is
// safe for concurrent use.
type RingtoneConfiguration struct {
	mu             sync.Mutex
	defaultInbound string
	outbound       string
	byURI          map[string]string // key: scheme, user and host:port (host in lower case)
}

// NewRingtoneConfiguration returns a configuration with no ringtone.
func NewRingtoneConfiguration() *RingtoneConfiguration {
	return &RingtoneConfiguration{byURI: map[string]string{}}
}

// DefaultInboundRingtone is played for incoming sessions from URIs without
// a ringtone of their own.
func (r *RingtoneConfiguration) DefaultInboundRingtone() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.defaultInbound
}

// SetDefaultInboundRingtone sets it ("" for none).
func (r *RingtoneConfiguration) SetDefaultInboundRingtone(file string) {
	r.mu.Lock()
	r.defaultInbound = file
	r.mu.Unlock()
}

// OutboundRingtone is played when an outgoing session rings.
func (r *RingtoneConfiguration) OutboundRingtone() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outbound
}

// SetOutboundRingtone sets it ("" for none).
func (r *RingtoneConfiguration) SetOutboundRingtone(file string) {
	r.mu.Lock()
	r.outbound = file
	r.mu.Unlock()
}

func uriKey(u core.SIPURI) string {
	k := core.SIPURI{Scheme: u.Scheme, User: u.User, Host: strings.ToLower(u.Host), Port: u.Port}
	if k.Scheme == "" {
		k.Scheme = "sip"
	}
	return k.String()
}

// AddRingtoneForSIPURI registers the ringtone for incoming sessions from
// uri (replacing any earlier one).
func (r *RingtoneConfiguration) AddRingtoneForSIPURI(uri core.SIPURI, file string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byURI[uriKey(uri)] = file
}

// RemoveSIPURI removes the ringtone of uri.
func (r *RingtoneConfiguration) RemoveSIPURI(uri core.SIPURI) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byURI, uriKey(uri))
}

// RingtoneForSIPURI returns the ringtone for incoming sessions from uri:
// its own, or the default inbound one.
func (r *RingtoneConfiguration) RingtoneForSIPURI(uri core.SIPURI) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.byURI[uriKey(uri)]; ok {
		return f
	}
	return r.defaultInbound
}
