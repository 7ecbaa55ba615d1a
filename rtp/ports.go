package rtp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
)

// anyPortAttempts bounds the retries when the system picks the port and it
// is odd or its neighbour is taken.
const anyPortAttempts = 64

// network returns the UDP network for binding addr: an unspecified IPv6
// address binds both families.
func network(addr netip.Addr) string {
	switch {
	case addr.Is4():
		return "udp4"
	case addr.IsUnspecified():
		return "udp"
	}
	return "udp6"
}

func listen(addr netip.Addr, port uint16) (*net.UDPConn, error) {
	return net.ListenUDP(network(addr), net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, port)))
}

// fatalBindError reports whether err means no port of addr can be bound
// (the address is not local), so trying further ports is pointless.
func fatalBindError(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

// listenPair binds an even RTP port and the RTCP port above it on addr,
// within r (or anywhere when r is zero), skipping ports in use.
func listenPair(addr netip.Addr, r PortRange) (rtpConn, rtcpConn *net.UDPConn, err error) {
	if r.IsZero() {
		return listenAnyPair(addr)
	}
	first := int(r.Min) + int(r.Min)%2
	n := (int(r.Max)-1-first)/2 + 1 // even ports p with p+1 <= Max
	start := rand.IntN(n)
	var last error
	for i := range n {
		p := uint16(first + 2*((start+i)%n))
		c1, err := listen(addr, p)
		if err != nil {
			if fatalBindError(err) {
				return nil, nil, fmt.Errorf("rtp: binding %v: %w", netip.AddrPortFrom(addr, p), err)
			}
			last = err
			continue
		}
		c2, err := listen(addr, p+1)
		if err != nil {
			c1.Close()
			last = err
			continue
		}
		return c1, c2, nil
	}
	return nil, nil, fmt.Errorf("rtp: no free even port pair in range %s on %v: %w", r, addr, last)
}

// listenAnyPair lets the system choose the RTP port, retrying until it is
// even and the next port is free.
func listenAnyPair(addr netip.Addr) (rtpConn, rtcpConn *net.UDPConn, err error) {
	var last error
	for range anyPortAttempts {
		c1, err := listen(addr, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("rtp: binding %v: %w", addr, err)
		}
		p := c1.LocalAddr().(*net.UDPAddr).AddrPort().Port()
		if p%2 != 0 {
			c1.Close()
			last = fmt.Errorf("port %d is odd", p)
			continue
		}
		c2, err := listen(addr, p+1)
		if err != nil {
			c1.Close()
			last = err
			continue
		}
		return c1, c2, nil
	}
	return nil, nil, fmt.Errorf("rtp: no free even port pair on %v after %d attempts: %w", addr, anyPortAttempts, last)
}
