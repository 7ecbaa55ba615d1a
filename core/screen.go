package core

import (
	"net"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/internal/sipcheck"
)

// screenDatagram decides what happens to a received UDP datagram before
// sipgo parses it (sipgo drops what it cannot parse without an answer). It
// moves the message to hand to sipgo to the start of b and returns its
// length and true; or it answers malformed requests with a stateless error
// (400, 416, 501) or drops the datagram, and returns false.
func (e *Engine) screenDatagram(b []byte, from net.Addr, c *packetConn) (int, bool) {
	msg, reply, verdict := sipcheck.Datagram(b)
	switch verdict {
	case sipcheck.Accept:
		n := copy(b, msg)
		return n, true
	case sipcheck.Reply:
		if _, err := c.WriteTo(reply, from); err != nil {
			e.log.Debug("stateless error reply failed", "to", from.String(), "error", err)
		}
		e.log.Debug("malformed request answered", "from", from.String(), "reply", firstLine(reply))
	case sipcheck.Drop:
		e.log.Debug("malformed message dropped", "from", from.String(), "first_line", firstLine(b))
	}
	return 0, false
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\r' || c == '\n' || i >= 120 {
			return string(b[:i])
		}
	}
	return string(b)
}

// checkRequest applies the semantic checks to a parsed request and
// answers it when it fails them; it reports whether the request may be
// dispatched.
func (e *Engine) checkRequest(req *sip.Request, tx sip.ServerTransaction) bool {
	opts := sipcheck.RequestOptions{
		Supported:            supportedOptionTags,
		AllowedMethods:       e.allowedMethods(),
		AcceptedContentTypes: []string{"application/sdp"},
	}
	code, reason := sipcheck.Request(req, opts)
	if code == 0 {
		return true
	}
	if tx != nil && req.Method != sip.ACK {
		e.respond(tx, sipcheck.ErrorResponse(req, code, reason, opts))
	}
	return false
}

// supportedOptionTags are the SIP extensions the engine supports (Supported
// header, and the check of Require).
var supportedOptionTags = []string{"path", "gruu", "outbound"}
