package core

import (
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/sipsimple-go/sipsimple/internal/sipcheck"
)

// screenDatagram decides what happens to a received UDP datagram before
// sipgo parses it (sipgo drops what it cannot parse without an answer). It
// moves the message to hand to sipgo to the start of b and returns its
// length and true; or it answers malformed requests with a stateless error
// (400, 416, 501) or drops the datagram, and returns false.
//
// b is the datagram at the start of the buffer ReadFrom was given: a
// message sipcheck rewrote may be a few bytes longer than the datagram, and
// is moved into b up to its capacity.
func (e *Engine) screenDatagram(b []byte, from net.Addr, c *packetConn) (int, bool) {
	msg, reply, verdict := sipcheck.Datagram(b)
	switch verdict {
	case sipcheck.Accept:
		if len(msg) > cap(b) {
			e.log.Debug("rewritten message does not fit the read buffer, dropped", "from", from.String(), "first_line", firstLine(b))
			return 0, false
		}
		n := copy(b[:cap(b)], msg)
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
//
// Inside a known dialog the method is not checked here: the dialog usage
// answers the methods it does not handle.
func (e *Engine) checkRequest(req *sip.Request, tx sip.ServerTransaction, inDialog bool) bool {
	// An RFC 2543 request whose From has no tag got an empty one from
	// sipcheck.Datagram, only so that sipgo could build its transaction key;
	// handlers and every response built from req must see the From as sent.
	restored := strings.EqualFold(req.Transport(), "UDP") && sipcheck.RestoreFromTag(req)
	opts := sipcheck.RequestOptions{
		Supported:            supportedOptionTags,
		AllowedMethods:       e.allowedMethods(),
		AcceptedContentTypes: []string{"application/sdp"},
	}
	if inDialog {
		opts.AllowedMethods = nil
	}
	code, reason := sipcheck.Request(req, opts)
	if code == 0 {
		if restored && tx != nil && req.Method == sip.INVITE {
			// req is also the origin of sipgo's INVITE server transaction,
			// whose Timer_1xx builds a 100 Trying from it in a goroutine of
			// its own when no response is sent within 200 ms
			// (sip/transaction_server_tx.go, Init): nothing would order that
			// read after the change above, a data race with a handler that
			// takes longer. Sending the 100 now stops the timer (RFC 3261
			// 17.2.1 allows it at any time). A CANCEL's 487 also reads the
			// origin, after locking the transaction, as Respond has just
			// done here.
			e.respond(tx, sip.NewResponseFromRequest(req, 100, "Trying", nil))
		}
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

// maxUDPMessage is the largest SIP message the Engine sends over UDP: the
// largest UDP payload over IPv4 (65535 - 20 - 8 octets).
const maxUDPMessage = 65507

// init lifts sipgo's limit on UDP writes. sipgo refuses to write any UDP
// message longer than sip.UDPMTUSize-200 octets (1300 by default; sipgo
// v1.7.2 sip/transport_udp.go:331, UDPConnection.WriteMsg, its only use),
// requests and responses alike, and the response to a long but valid
// request (RFC 4475 3.1.1.7) would never be sent: RFC 3261 18.2.2 sends a
// response where the request came from, whatever its size. sipgo has no
// per-message or per-transport setting, so the package global is raised
// once, here, before any Engine or other sipgo user of the process runs
// (so no write of it races with sipgo's reads); it is the same for every
// Engine.
//
// The consequence for requests: one longer than 1300 octets sent over UDP
// now goes out (fragmented by IP) instead of failing with
// sip.ErrUDPMTUCongestion. RFC 3261 18.1.1 says such a request MUST be sent
// over a congestion-controlled transport (TCP); sipgo does not switch
// (transport_layer.go WriteMsgTo and request.go Transport leave it as a
// TODO), so that choice falls to whoever picks a request's transport.
func init() {
	sip.UDPMTUSize = maxUDPMessage + 200
}
