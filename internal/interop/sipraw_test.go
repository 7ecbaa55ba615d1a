package interop

import (
	"bufio"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file holds a deliberately tiny, hand-written SIP client used to prove
// the harness against the real peers independently of the SDK.

// sipMessage is a parsed SIP request or response.
type sipMessage struct {
	startLine string
	headers   [][2]string
	body      string
}

func parseSIP(raw string) (*sipMessage, error) {
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		return nil, fmt.Errorf("no end of headers in %q", raw)
	}
	lines := strings.Split(head, "\r\n")
	m := &sipMessage{startLine: lines[0], body: body}
	for _, l := range lines[1:] {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(m.headers) > 0 {
			m.headers[len(m.headers)-1][1] += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", l)
		}
		m.headers = append(m.headers, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return m, nil
}

// get returns the first value of header name (case-insensitive, long or
// compact form).
func (m *sipMessage) get(name string) string {
	for _, h := range m.headers {
		if strings.EqualFold(h[0], name) || strings.EqualFold(h[0], compactForm[strings.ToLower(name)]) {
			return h[1]
		}
	}
	return ""
}

var compactForm = map[string]string{"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m", "content-length": "l", "content-type": "c"}

// all returns every value of header name.
func (m *sipMessage) all(name string) []string {
	var vs []string
	for _, h := range m.headers {
		if strings.EqualFold(h[0], name) || strings.EqualFold(h[0], compactForm[strings.ToLower(name)]) {
			vs = append(vs, h[1])
		}
	}
	return vs
}

func (m *sipMessage) isResponse() bool { return strings.HasPrefix(m.startLine, "SIP/2.0 ") }

func (m *sipMessage) status() int {
	if !m.isResponse() {
		return 0
	}
	code, _ := strconv.Atoi(strings.Fields(m.startLine)[1])
	return code
}

func (m *sipMessage) method() string { return strings.Fields(m.startLine)[0] }

// request builds a SIP request. Headers are given in order, without
// Content-Length, which is added.
func request(method, ruri string, headers []string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// response builds a response to req with the given status line tail
// ("200 OK"), copying Via, From, To (adding a tag), Call-ID and CSeq.
func response(req *sipMessage, status string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %s\r\n", status)
	for _, v := range req.all("Via") {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	for _, v := range req.all("Record-Route") {
		fmt.Fprintf(&b, "Record-Route: %s\r\n", v)
	}
	fmt.Fprintf(&b, "From: %s\r\n", req.get("From"))
	to := req.get("To")
	if !strings.Contains(to, ";tag=") {
		to += ";tag=" + randomToken()
	}
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", req.get("Call-ID"))
	fmt.Fprintf(&b, "CSeq: %s\r\n", req.get("CSeq"))
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// digestParams parses the parameters of a WWW-/Proxy-Authenticate value.
func digestParams(challenge string) map[string]string {
	p := map[string]string{}
	rest := strings.TrimSpace(challenge)
	if scheme, r, ok := strings.Cut(rest, " "); ok && strings.EqualFold(scheme, "Digest") {
		rest = r
	}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		name, r, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		name = strings.ToLower(strings.TrimSpace(name))
		r = strings.TrimLeft(r, " ")
		var val string
		if strings.HasPrefix(r, `"`) {
			end := strings.IndexByte(r[1:], '"')
			if end < 0 {
				val, rest = r[1:], ""
			} else {
				val, rest = r[1:1+end], r[2+end:]
			}
		} else {
			val, rest, _ = strings.Cut(r, ",")
			val = strings.TrimSpace(val)
		}
		p[name] = val
	}
	return p
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// digestAuthorization computes the Authorization (or Proxy-Authorization)
// value answering challenge for method and uri (RFC 2617, MD5, qop=auth when
// offered).
func digestAuthorization(challenge, user, password, method, uri string) string {
	p := digestParams(challenge)
	ha1 := md5hex(user + ":" + p["realm"] + ":" + password)
	ha2 := md5hex(method + ":" + uri)
	auth := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5`,
		user, p["realm"], p["nonce"], uri)
	if qops := p["qop"]; qops != "" && containsToken(qops, "auth") {
		cnonce, nc := randomToken(), "00000001"
		resp := md5hex(ha1 + ":" + p["nonce"] + ":" + nc + ":" + cnonce + ":auth:" + ha2)
		auth += fmt.Sprintf(`, response="%s", qop=auth, nc=%s, cnonce="%s"`, resp, nc, cnonce)
	} else {
		auth += fmt.Sprintf(`, response="%s"`, md5hex(ha1+":"+p["nonce"]+":"+ha2))
	}
	if op, ok := p["opaque"]; ok {
		auth += fmt.Sprintf(`, opaque="%s"`, op)
	}
	return auth
}

func containsToken(list, tok string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// udpEndpoint is a raw SIP endpoint on a UDP socket bound to 127.0.0.1.
type udpEndpoint struct {
	t    testing.TB
	conn *net.UDPConn
}

func newUDPEndpoint(t testing.TB) *udpEndpoint {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(Loopback)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpEndpoint{t: t, conn: c}
}

func (e *udpEndpoint) addr() string { return e.conn.LocalAddr().String() }

func (e *udpEndpoint) port() int { return e.conn.LocalAddr().(*net.UDPAddr).Port }

func (e *udpEndpoint) send(to, msg string) {
	e.t.Helper()
	raddr, err := net.ResolveUDPAddr("udp4", to)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.conn.WriteToUDP([]byte(msg), raddr); err != nil {
		e.t.Fatalf("send to %s: %v", to, err)
	}
}

// recv returns the next message received within timeout, and its source.
func (e *udpEndpoint) recv(timeout time.Duration) (*sipMessage, string) {
	e.t.Helper()
	buf := make([]byte, 65535)
	_ = e.conn.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := e.conn.ReadFromUDP(buf)
	if err != nil {
		e.t.Fatalf("no SIP message on %s within %v: %v", e.addr(), timeout, err)
	}
	m, err := parseSIP(string(buf[:n]))
	if err != nil {
		e.t.Fatalf("bad SIP message from %s: %v", from, err)
	}
	return m, from.String()
}

// finalResponse waits for the final response whose CSeq is cseq, skipping
// provisional responses and anything else.
func (e *udpEndpoint) finalResponse(cseq string, timeout time.Duration) *sipMessage {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			e.t.Fatalf("no final response for CSeq %q within %v", cseq, timeout)
		}
		m, _ := e.recv(left)
		if m.isResponse() && m.status() >= 200 && m.get("CSeq") == cseq {
			return m
		}
	}
}

// transact sends msg to addr and returns the final response for cseq.
func (e *udpEndpoint) transact(addr, msg, cseq string) *sipMessage {
	e.t.Helper()
	e.send(addr, msg)
	return e.finalResponse(cseq, 5*time.Second)
}

// readSIPStream reads one SIP message from a stream connection.
func readSIPStream(r *bufio.Reader) (*sipMessage, error) {
	var head strings.Builder
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == "\r\n" {
			if head.Len() == 0 {
				continue // keepalive CRLF
			}
			break
		}
		head.WriteString(line)
		if name, v, ok := strings.Cut(line, ":"); ok &&
			(strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return parseSIP(strings.TrimSuffix(head.String(), "\r\n") + "\r\n\r\n" + string(body))
}

// tlsDialer dials stream connections to 127.0.0.1 with a timeout.
type tlsDialer struct{ timeout time.Duration }

func (d *tlsDialer) dialTCP(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp4", addr, d.timeout)
}

func (d *tlsDialer) dialTLS(addr string, cfg *tls.Config) (net.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: d.timeout}, "tcp4", addr, cfg)
}
