package interop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// pingInterval is how often PingUDP retransmits its OPTIONS.
const pingInterval = 200 * time.Millisecond

// PingUDP sends an out-of-dialog OPTIONS request for requestURI to addr
// (host:port) over UDP from 127.0.0.1 and waits for a final or provisional
// response, retransmitting every 200ms until ctx is done. It returns the
// response status code and the raw response. It is used to wait until a
// peer is up, without fixed sleeps.
func PingUDP(ctx context.Context, addr, requestURI string) (int, string, error) {
	raddr, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return 0, "", err
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(Loopback)})
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	laddr := conn.LocalAddr().(*net.UDPAddr)
	msg := buildOptions(requestURI, laddr)

	buf := make([]byte, 65535)
	var lastErr error
	for {
		if _, err := conn.WriteToUDP([]byte(msg), raddr); err != nil {
			lastErr = err
		}
		deadline := time.Now().Add(pingInterval)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = conn.SetReadDeadline(deadline)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					lastErr = err
				}
				break
			}
			if code, ok := parseStatusCode(string(buf[:n])); ok {
				return code, string(buf[:n]), nil
			}
		}
		if err := ctx.Err(); err != nil {
			if lastErr != nil {
				return 0, "", fmt.Errorf("no answer to OPTIONS from %s: %w (last error: %v)", addr, err, lastErr)
			}
			return 0, "", fmt.Errorf("no answer to OPTIONS from %s: %w", addr, err)
		}
	}
}

func buildOptions(requestURI string, laddr *net.UDPAddr) string {
	tag, branch, callID := randomToken(), "z9hG4bK"+randomToken(), randomToken()
	host := laddr.String()
	var b strings.Builder
	fmt.Fprintf(&b, "OPTIONS %s SIP/2.0\r\n", requestURI)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", host, branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:interop-ping@%s>;tag=%s\r\n", host, tag)
	fmt.Fprintf(&b, "To: <%s>\r\n", requestURI)
	fmt.Fprintf(&b, "Call-ID: %s@%s\r\n", callID, laddr.IP)
	b.WriteString("CSeq: 1 OPTIONS\r\n")
	fmt.Fprintf(&b, "Contact: <sip:interop-ping@%s>\r\n", host)
	b.WriteString("Accept: application/sdp\r\n")
	b.WriteString("User-Agent: sipsimple-go-interop-ping\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// parseStatusCode returns the status code of a SIP response.
func parseStatusCode(msg string) (int, bool) {
	line, _, _ := strings.Cut(msg, "\r\n")
	if !strings.HasPrefix(line, "SIP/2.0 ") {
		return 0, false
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, false
	}
	return code, true
}

func randomToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
