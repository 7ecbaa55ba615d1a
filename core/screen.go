package core

import (
	"bytes"
	"net"
)

// screenDatagram decides what happens to a received UDP datagram before
// sipgo parses it. It returns the length of the message to hand to sipgo
// and true, or false when the datagram was dropped or answered here.
func (e *Engine) screenDatagram(b []byte, from net.Addr, c *packetConn) (int, bool) {
	if len(bytes.Trim(b, "\r\n")) == 0 {
		return 0, false // keep-alive
	}
	return len(b), true
}
