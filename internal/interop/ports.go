package interop

import (
	"fmt"
	"net"
	"testing"
)

// Loopback is the only address the peers bind to and are reached on.
const Loopback = "127.0.0.1"

// FreePort returns a port on 127.0.0.1 that was free for network ("udp" or
// "tcp") a moment ago.
//
// The port is found by binding port 0 and closing the socket again, so it is
// inherently racy: another process (or a parallel test) may take it before
// the caller binds it. Prefer letting the program under test bind port 0 and
// report its address; where a peer needs its port on the command line, the
// Start functions of this package pick a port with FreePort and retry with a
// new one when the peer fails with "address already in use".
func FreePort(t testing.TB, network string) int {
	t.Helper()
	port, err := freePort(network)
	if err != nil {
		t.Fatalf("interop: free %s port: %v", network, err)
	}
	return port
}

// FreeUDPTCPPort returns a port on 127.0.0.1 that was free for both UDP and
// TCP a moment ago (SIP servers conventionally listen on the same port for
// both). The same race as for FreePort applies.
func FreeUDPTCPPort(t testing.TB) int {
	t.Helper()
	port, err := freeUDPTCPPort()
	if err != nil {
		t.Fatalf("interop: free UDP+TCP port: %v", err)
	}
	return port
}

func freePort(network string) (int, error) {
	switch network {
	case "udp", "udp4":
		c, err := net.ListenPacket("udp4", net.JoinHostPort(Loopback, "0"))
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	case "tcp", "tcp4":
		l, err := net.Listen("tcp4", net.JoinHostPort(Loopback, "0"))
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	return 0, fmt.Errorf("unsupported network %q (want udp or tcp)", network)
}

func freeUDPTCPPort() (int, error) {
	var lastErr error
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp4", net.JoinHostPort(Loopback, "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.ListenPacket("udp4", net.JoinHostPort(Loopback, fmt.Sprint(port)))
		l.Close()
		if err != nil {
			lastErr = err
			continue
		}
		c.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both UDP and TCP after 50 tries: %v", lastErr)
}
