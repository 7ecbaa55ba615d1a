package sdp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// RejectMedia returns the answer's m= section for an offered stream the
// answerer declines (RFC 3264 section 6): port 0, the offer's media type and
// protocol, and the offer's format list (an m= line needs at least one
// format; which ones does not matter). It has no codecs, address or
// attributes.
func RejectMedia(offered Media) Media {
	return Media{
		Type:    offered.Type,
		Proto:   offered.Proto,
		Formats: slices.Clone(offered.formatList()),
	}
}

// RemoveMedia removes stream i from a description that is to be re-offered:
// m= lines are never deleted from a dialog's descriptions, the stream keeps
// its slot as a port-0 line ([RejectMedia]) so that the other streams keep
// their positions (RFC 3264 section 8.2). It reports false if i is out of
// range.
func (d *Description) RemoveMedia(i int) bool {
	if i < 0 || i >= len(d.Media) {
		return false
	}
	d.Media[i] = RejectMedia(d.Media[i])
	return true
}

// AddMedia appends a stream to a description that is to be re-offered and
// returns its index. New streams go after the existing ones (RFC 3264
// section 8.1); port-0 slots are not reused, which RFC 3264 allows but some
// implementations get wrong.
func (d *Description) AddMedia(m Media) int {
	d.Media = append(d.Media, m)
	return len(d.Media) - 1
}

// ValidateAnswer checks the structural rules an answer must follow with
// respect to its offer (RFC 3264 section 6): the same number of m= lines,
// each with the offered media type, and a stream offered with port 0 answered
// with port 0.
func ValidateAnswer(offer, answer *Description) error {
	if len(answer.Media) != len(offer.Media) {
		return fmt.Errorf("sdp: answer has %d m= lines, offer has %d", len(answer.Media), len(offer.Media))
	}
	for i := range offer.Media {
		o, a := &offer.Media[i], &answer.Media[i]
		if !strings.EqualFold(o.Type, a.Type) {
			return fmt.Errorf("sdp: answer m= line %d is %q, offer's is %q", i+1, a.Type, o.Type)
		}
		if o.Port == 0 && a.Port != 0 {
			return fmt.Errorf("sdp: answer m= line %d accepts a stream the offer disabled (port 0)", i+1)
		}
	}
	return nil
}

// ValidateReoffer checks the rules a new offer in an existing dialog must
// follow with respect to the previous description of the same party
// (RFC 3264 section 8): the same o= username, session id and address, no
// m= line removed (a removed stream is a port-0 line), and each stream that
// stays active keeps its media type (a port-0 slot may be reused for a new
// type).
func ValidateReoffer(previous, next *Description) error {
	po, no := previous.Origin, next.Origin
	if po.Username != no.Username || po.SessionID != no.SessionID || po.Address != no.Address {
		return fmt.Errorf("sdp: o= line changed from %q %d %q to %q %d %q",
			po.Username, po.SessionID, po.Address, no.Username, no.SessionID, no.Address)
	}
	if len(next.Media) < len(previous.Media) {
		return fmt.Errorf("sdp: new offer has %d m= lines, fewer than the %d before", len(next.Media), len(previous.Media))
	}
	for i := range previous.Media {
		p, n := &previous.Media[i], &next.Media[i]
		if p.Port != 0 && n.Port != 0 && !strings.EqualFold(p.Type, n.Type) {
			return fmt.Errorf("sdp: m= line %d changed media type from %q to %q", i+1, p.Type, n.Type)
		}
	}
	return nil
}

// Local keeps our o= line across a dialog (RFC 3264 section 8, RFC 4566
// section 5.2): the username, session id and address stay fixed, and the
// version is incremented only when the description actually changed. It is
// safe for concurrent use.
type Local struct {
	mu      sync.Mutex
	origin  Origin
	last    []byte // the last description returned, marshalled without o=
	started bool
}

// NewLocal returns a Local for the given o= username ("" for "-") and
// address. The session id is random (below 2^62, so that the version can be
// incremented without overflow and peers that read it as a signed number
// are fine); the first version equals the session id.
func NewLocal(username, address string) *Local {
	var buf [8]byte
	_, _ = rand.Read(buf[:])
	id := binary.BigEndian.Uint64(buf[:]) >> 2
	if id == 0 {
		id = 1
	}
	if username == "" {
		username = "-"
	}
	return &Local{origin: Origin{Username: username, SessionID: id, SessionVersion: id, Address: address}}
}

// Origin returns the o= line of the last description Next returned (before
// the first call, the one the first description will get).
func (l *Local) Origin() Origin {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.origin
}

// Next returns a copy of d with our o= line: the first call gives the
// initial version, later calls increment the version when the description
// differs from the previous one returned (d's own Origin is ignored in the
// comparison) and repeat it otherwise, as a re-INVITE or an answer to a
// session refresh that changes nothing must. d is not modified.
func (l *Local) Next(d *Description) *Description {
	c := d.Clone()
	if c == nil {
		c = &Description{}
	}
	c.Origin = Origin{}
	body := c.Marshal()

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started && !bytes.Equal(body, l.last) {
		l.origin.SessionVersion++
	}
	l.started = true
	l.last = body
	c.Origin = l.origin
	return c
}
