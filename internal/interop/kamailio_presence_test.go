package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// These tests prove KamailioConfig.Presence with the raw SIP client of
// sipraw_test.go: PUBLISH (RFC 3903) and SUBSCRIBE/NOTIFY (RFC 3856).

// pidf returns a minimal PIDF document (RFC 3863) for entity with the given
// basic status ("open" or "closed").
func pidf(entity, basic string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\r\n" +
		`<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="` + entity + `">` + "\r\n" +
		`<tuple id="t1"><status><basic>` + basic + `</basic></status></tuple>` + "\r\n" +
		`</presence>` + "\r\n"
}

// publication is one PUBLISH to send; empty strings are left out.
type publication struct {
	aor     string // Request-URI and To; default the user's own AOR
	from    string // From URI; default the user's own AOR
	event   string // default "presence"
	expires int    // -1: no Expires header
	ifMatch string
	body    string
	auth    string // Proxy-Authorization value
}

// publish sends a PUBLISH with Event: presence (by default for the user's
// own AOR) and returns the final response.
func (u *sipUA) publish(p publication) *sipMessage {
	u.t.Helper()
	u.cseq++
	cseq := fmt.Sprintf("%d PUBLISH", u.cseq)
	aor := p.aor
	if aor == "" {
		aor = u.k.AOR(u.user)
	}
	from := p.from
	if from == "" {
		from = u.k.AOR(u.user)
	}
	hdrs := []string{
		fmt.Sprintf("Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s", u.ep.addr(), randomToken()),
		"Max-Forwards: 70",
		fmt.Sprintf("From: <%s>;tag=%s", from, u.tag),
		fmt.Sprintf("To: <%s>", aor),
		"Call-ID: " + u.callID,
		"CSeq: " + cseq,
	}
	if p.event == "" {
		p.event = "presence"
	}
	hdrs = append(hdrs, "Event: "+p.event)
	if p.expires >= 0 {
		hdrs = append(hdrs, fmt.Sprintf("Expires: %d", p.expires))
	}
	if p.ifMatch != "" {
		hdrs = append(hdrs, "SIP-If-Match: "+p.ifMatch)
	}
	if p.body != "" {
		hdrs = append(hdrs, "Content-Type: application/pidf+xml")
	}
	if p.auth != "" {
		hdrs = append(hdrs, "Proxy-Authorization: "+p.auth)
	}
	return u.ep.transact(u.k.UDPAddr(), request("PUBLISH", aor, hdrs, p.body), cseq)
}

// publishAuth returns the Proxy-Authorization value answering challenge (a
// 407 to a PUBLISH for the user's own AOR) with password.
func (u *sipUA) publishAuth(challenge *sipMessage, password string) string {
	u.t.Helper()
	if challenge.status() != 407 {
		u.t.Fatalf("PUBLISH without credentials: got %q, want 407", challenge.startLine)
	}
	return digestAuthorization(challenge.get("Proxy-Authenticate"), u.user, password, "PUBLISH", u.k.AOR(u.user))
}

// collect receives messages until done reports true for the final
// responses and NOTIFYs received so far, answering every NOTIFY with 200
// OK; it fails the test at the deadline.
func (u *sipUA) collect(timeout time.Duration, done func(resps, notifies []*sipMessage) bool) (resps, notifies []*sipMessage) {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for !done(resps, notifies) {
		left := time.Until(deadline)
		if left <= 0 {
			u.t.Fatalf("%s: timed out after %v with %d responses and %d NOTIFYs", u.user, timeout, len(resps), len(notifies))
		}
		m, from := u.ep.recv(left)
		switch {
		case m.isResponse():
			if m.status() >= 200 {
				resps = append(resps, m)
			}
		case m.method() == "NOTIFY":
			u.ep.send(from, response(m, "200 OK"))
			u.t.Logf("%s <- NOTIFY CSeq %q, Subscription-State %q, basic %q", u.user, m.get("CSeq"),
				m.get("Subscription-State"), pidfBasic(m.body))
			notifies = append(notifies, m)
		default:
			u.t.Fatalf("%s: unexpected request %q", u.user, m.startLine)
		}
	}
	return resps, notifies
}

// pidfBasic returns the first <basic> status of a PIDF body, or "".
func pidfBasic(body string) string {
	_, rest, ok := strings.Cut(body, "<basic>")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "</basic>")
	return v
}

// findNotify returns the first of notifies with a CSeq number above after
// and a body containing substr, or nil.
func findNotify(notifies []*sipMessage, after int, substr string) *sipMessage {
	for _, n := range notifies {
		if cseqNum(n) > after && strings.Contains(n.body, substr) {
			return n
		}
	}
	return nil
}

func cseqNum(m *sipMessage) int {
	var n int
	fmt.Sscan(m.get("CSeq"), &n)
	return n
}

// subscription is a presence subscription of a raw UA (the watcher) to
// target; after the initial 200 it holds the dialog.
type subscription struct {
	ua     *sipUA
	target string
	ruri   string   // Request-URI: target, then the remote Contact
	toTag  string   // remote tag once established
	routes []string // route set from the 200's Record-Route
}

func newSubscription(ua *sipUA, target string) *subscription {
	return &subscription{ua: ua, target: target, ruri: target}
}

// send sends a SUBSCRIBE (Event: presence) with the given Expires and
// Proxy-Authorization ("" for none) and returns its CSeq value.
func (s *subscription) send(expires int, auth string) string {
	s.ua.t.Helper()
	u := s.ua
	u.cseq++
	cseq := fmt.Sprintf("%d SUBSCRIBE", u.cseq)
	to := "<" + s.target + ">"
	if s.toTag != "" {
		to += ";tag=" + s.toTag
	}
	hdrs := []string{
		fmt.Sprintf("Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK%s", u.ep.addr(), randomToken()),
		"Max-Forwards: 70",
	}
	for _, r := range s.routes {
		hdrs = append(hdrs, "Route: "+r)
	}
	hdrs = append(hdrs,
		fmt.Sprintf("From: <%s>;tag=%s", u.k.AOR(u.user), u.tag),
		"To: "+to,
		"Call-ID: "+u.callID,
		"CSeq: "+cseq,
		"Contact: "+u.contact(),
		"Event: presence",
		"Accept: application/pidf+xml",
		fmt.Sprintf("Expires: %d", expires),
	)
	if auth != "" {
		hdrs = append(hdrs, "Proxy-Authorization: "+auth)
	}
	u.ep.send(u.k.UDPAddr(), request("SUBSCRIBE", s.ruri, hdrs, ""))
	return cseq
}

// established records the dialog from the 200 to the initial SUBSCRIBE.
func (s *subscription) established(resp *sipMessage) {
	s.ua.t.Helper()
	if _, s.toTag, _ = strings.Cut(resp.get("To"), ";tag="); s.toTag == "" {
		s.ua.t.Fatalf("200 to SUBSCRIBE has no To tag: %q", resp.get("To"))
	}
	if c := resp.get("Contact"); c != "" {
		s.ruri = strings.Trim(c, "<>")
	}
	rr := resp.all("Record-Route")
	for i := len(rr) - 1; i >= 0; i-- {
		s.routes = append(s.routes, rr[i])
	}
}

func TestKamailioPresencePublish(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{
		Users:              map[string]string{"alice": "secret", "bob": "hunter2"},
		Presence:           true,
		PresenceMinExpires: 30,
		PresenceMaxExpires: 600,
		DisableTLS:         true,
		// One worker: a request is only read once Kamailio is done with
		// the previous one (it answers a removal before deleting).
		Children: 1,
	})
	alice := newSipUA(t, k, "alice")
	body := pidf(k.AOR("alice"), "open")

	// No credentials: 407, like any request of a local user other than
	// REGISTER, with realm Domain.
	resp := alice.publish(publication{expires: 60, body: body})
	if p := digestParams(resp.get("Proxy-Authenticate")); resp.status() != 407 || p["realm"] != k.Domain || p["nonce"] == "" {
		t.Fatalf("PUBLISH without credentials: got %q, Proxy-Authenticate %q; want 407 for realm %s",
			resp.startLine, resp.get("Proxy-Authenticate"), k.Domain)
	}
	auth := alice.publishAuth(resp, "secret")

	// Initial publication: 200 with an entity tag and the granted expiry.
	resp = alice.publish(publication{expires: 60, body: body, auth: auth})
	etag := resp.get("SIP-ETag")
	if resp.status() != 200 || etag == "" || resp.get("Expires") != "60" {
		t.Fatalf("initial PUBLISH: got %q, SIP-ETag %q, Expires %q; want 200 with SIP-ETag and Expires: 60",
			resp.startLine, etag, resp.get("Expires"))
	}

	// Refresh: SIP-If-Match and no body; a new entity tag.
	resp = alice.publish(publication{expires: 120, ifMatch: etag, auth: auth})
	if resp.status() != 200 || resp.get("SIP-ETag") == "" || resp.get("Expires") != "120" {
		t.Fatalf("refresh PUBLISH: got %q, SIP-ETag %q, Expires %q; want 200 with SIP-ETag and Expires: 120",
			resp.startLine, resp.get("SIP-ETag"), resp.get("Expires"))
	}
	t.Logf("initial SIP-ETag %s, after refresh %s", etag, resp.get("SIP-ETag"))
	old := etag
	etag = resp.get("SIP-ETag")

	// Entity tags the server did not issue, in its format or not, or no
	// longer knows (replaced by the refresh): 412.
	if etag == old {
		t.Fatalf("refresh kept the entity tag %q", etag)
	}
	for _, tag := range []string{"no-such-etag-" + randomToken(), "a.1.2.3.4", old} {
		resp = alice.publish(publication{expires: 60, ifMatch: tag, auth: auth})
		if resp.status() != 412 {
			t.Fatalf("PUBLISH with unknown SIP-If-Match %q: got %q, want 412", tag, resp.startLine)
		}
	}

	// Below PresenceMinExpires: 423 with Min-Expires; above
	// PresenceMaxExpires the expiry is lowered.
	resp = alice.publish(publication{expires: 5, ifMatch: etag, auth: auth})
	if resp.status() != 423 || resp.get("Min-Expires") != "30" {
		t.Fatalf("PUBLISH with Expires: 5: got %q, Min-Expires %q; want 423 with Min-Expires: 30",
			resp.startLine, resp.get("Min-Expires"))
	}
	resp = alice.publish(publication{expires: 7200, ifMatch: etag, auth: auth})
	if resp.status() != 200 || resp.get("Expires") != "600" {
		t.Fatalf("PUBLISH with Expires: 7200: got %q, Expires %q; want 200 with Expires: 600",
			resp.startLine, resp.get("Expires"))
	}
	etag = resp.get("SIP-ETag")

	// No Expires: the default (presence_xml default_expires 3600), lowered
	// to PresenceMaxExpires.
	resp = alice.publish(publication{expires: -1, ifMatch: etag, auth: auth})
	if resp.status() != 200 || resp.get("Expires") != "600" {
		t.Fatalf("PUBLISH without Expires: got %q, Expires %q; want 200 with Expires: 600",
			resp.startLine, resp.get("Expires"))
	}
	etag = resp.get("SIP-ETag")

	// Nobody publishes for someone else, and foreign users (not challenged)
	// do not publish at all.
	resp = alice.publish(publication{aor: k.AOR("bob"), expires: 60, body: body, auth: auth})
	if resp.status() != 403 {
		t.Fatalf("alice publishing for bob: got %q, want 403", resp.startLine)
	}
	resp = alice.publish(publication{from: "sip:alice@elsewhere.test", expires: 60, body: body})
	if resp.status() != 403 {
		t.Fatalf("PUBLISH from sip:alice@elsewhere.test: got %q, want 403", resp.startLine)
	}

	// SUBSCRIBE below PresenceMinExpires: 423 from the presence module.
	bob := newSipUA(t, k, "bob")
	sub := newSubscription(bob, k.AOR("alice"))
	cseq := sub.send(5, "")
	resps, _ := bob.collect(5*time.Second, func(r, _ []*sipMessage) bool { return len(r) == 1 })
	if resps[0].status() != 407 || resps[0].get("CSeq") != cseq {
		t.Fatalf("SUBSCRIBE without credentials: got %q, want 407", resps[0].startLine)
	}
	cseq = sub.send(5, digestAuthorization(resps[0].get("Proxy-Authenticate"), "bob", "hunter2", "SUBSCRIBE", sub.target))
	resps, _ = bob.collect(5*time.Second, func(r, _ []*sipMessage) bool { return len(r) == 1 })
	if resp = resps[0]; resp.status() != 423 || resp.get("Min-Expires") != "30" || resp.get("CSeq") != cseq {
		t.Fatalf("SUBSCRIBE with Expires: 5: got %q, Min-Expires %q; want 423 with Min-Expires: 30",
			resp.startLine, resp.get("Min-Expires"))
	}

	// Removal: Expires: 0 with SIP-If-Match; the tag is gone afterwards.
	resp = alice.publish(publication{expires: 0, ifMatch: etag, auth: auth})
	if resp.status() != 200 {
		t.Fatalf("removing PUBLISH: got %q, want 200", resp.startLine)
	}
	t.Logf("removal answered %q, SIP-ETag %q, Expires %q", resp.startLine, resp.get("SIP-ETag"), resp.get("Expires"))
	if resp = alice.publish(publication{expires: 60, ifMatch: etag, auth: auth}); resp.status() != 412 {
		t.Fatalf("refresh of a removed publication: got %q, want 412", resp.startLine)
	}
}

// TestKamailioPresenceSubscribe has bob watch alice: the NOTIFYs carry
// alice's published PIDF, and in-dialog SUBSCRIBEs (refresh, unsubscribe)
// reach the presence server too.
func TestKamailioPresenceSubscribe(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{
		Users:      map[string]string{"alice": "secret", "bob": "hunter2"},
		Presence:   true,
		DisableTLS: true,
	})
	alice := newSipUA(t, k, "alice")
	resp := alice.publish(publication{expires: 300, body: pidf(k.AOR("alice"), "open")})
	auth := alice.publishAuth(resp, "secret")
	if resp = alice.publish(publication{expires: 300, body: pidf(k.AOR("alice"), "open"), auth: auth}); resp.status() != 200 {
		t.Fatalf("alice PUBLISH: got %q, want 200", resp.startLine)
	}
	etag := resp.get("SIP-ETag")

	// Initial SUBSCRIBE: 407, then 200 and a NOTIFY with alice's state (in
	// either order over UDP).
	//
	// Kamailio sends the 200 to a PUBLISH before it notifies the watchers,
	// so a SUBSCRIBE right after it may get a second NOTIFY with the same
	// state from that notification pass: the checks below look for the
	// NOTIFY with the expected content rather than count NOTIFYs.
	const open, closed = "<basic>open</basic>", "<basic>closed</basic>"
	bob := newSipUA(t, k, "bob")
	sub := newSubscription(bob, k.AOR("alice"))
	cseq := sub.send(60, "")
	resps, _ := bob.collect(5*time.Second, func(r, _ []*sipMessage) bool { return len(r) == 1 })
	if resps[0].status() != 407 || resps[0].get("CSeq") != cseq {
		t.Fatalf("SUBSCRIBE without credentials: got %q, want 407", resps[0].startLine)
	}
	cseq = sub.send(60, digestAuthorization(resps[0].get("Proxy-Authenticate"), "bob", "hunter2", "SUBSCRIBE", sub.target))
	resps, notifies := bob.collect(5*time.Second, func(r, n []*sipMessage) bool { return len(r) == 1 && len(n) >= 1 })
	resp = resps[0]
	if resp.status() != 200 || resp.get("CSeq") != cseq || resp.get("Expires") != "60" {
		t.Fatalf("SUBSCRIBE: got %q (CSeq %q, Expires %q), want 200 with Expires: 60", resp.startLine, resp.get("CSeq"), resp.get("Expires"))
	}
	t.Logf("SUBSCRIBE 200: Expires %q, Contact %q, Record-Route %q", resp.get("Expires"), resp.get("Contact"), resp.all("Record-Route"))
	n := notifies[0]
	if !strings.HasPrefix(n.get("Subscription-State"), "active") || n.get("Event") != "presence" ||
		!strings.Contains(n.get("Content-Type"), "application/pidf+xml") || !strings.Contains(n.body, open) {
		t.Fatalf("first NOTIFY: Subscription-State %q, Event %q, Content-Type %q, body:\n%s",
			n.get("Subscription-State"), n.get("Event"), n.get("Content-Type"), n.body)
	}
	t.Logf("first NOTIFY: %s; CSeq %q, Subscription-State %q, Contact %q", n.startLine, n.get("CSeq"), n.get("Subscription-State"), n.get("Contact"))
	sub.established(resp)

	// alice changes her state: bob is notified.
	if resp = alice.publish(publication{expires: 300, ifMatch: etag, body: pidf(k.AOR("alice"), "closed"), auth: auth}); resp.status() != 200 {
		t.Fatalf("alice PUBLISH closed: got %q, want 200", resp.startLine)
	}
	_, notifies = bob.collect(5*time.Second, func(_, ns []*sipMessage) bool { return findNotify(ns, cseqNum(n), closed) != nil })
	n = findNotify(notifies, cseqNum(n), closed)

	// In-dialog refresh (no new challenge): 200 and a NOTIFY with the
	// current state.
	cseq = sub.send(60, "")
	resps, notifies = bob.collect(5*time.Second, func(r, ns []*sipMessage) bool {
		return len(r) == 1 && findNotify(ns, cseqNum(n), closed) != nil
	})
	if resps[0].status() != 200 || resps[0].get("CSeq") != cseq {
		t.Fatalf("refreshing SUBSCRIBE: got %q, want 200", resps[0].startLine)
	}
	n = findNotify(notifies, cseqNum(n), closed)

	// Unsubscribe: 200 and a final NOTIFY.
	terminated := func(ns []*sipMessage) *sipMessage {
		for _, m := range ns {
			if cseqNum(m) > cseqNum(n) && strings.HasPrefix(m.get("Subscription-State"), "terminated") {
				return m
			}
		}
		return nil
	}
	cseq = sub.send(0, "")
	resps, notifies = bob.collect(5*time.Second, func(r, ns []*sipMessage) bool { return len(r) == 1 && terminated(ns) != nil })
	if resps[0].status() != 200 || resps[0].get("CSeq") != cseq {
		t.Fatalf("unsubscribing SUBSCRIBE: got %q, want 200", resps[0].startLine)
	}
	n = terminated(notifies)
	t.Logf("last NOTIFY: Subscription-State %q", n.get("Subscription-State"))
}

// TestKamailioPresenceSkipProxyAuth checks Presence together with
// SkipProxyAuth (PUBLISH without a challenge) and UsersFile (db_text loaded
// for both the users and the presence tables).
func TestKamailioPresenceSkipProxyAuth(t *testing.T) {
	k := StartKamailio(t, KamailioConfig{
		Users:         map[string]string{"alice": "secret"},
		UsersFile:     true,
		SkipProxyAuth: true,
		Presence:      true,
		DisableTLS:    true,
		Children:      1,
	})
	alice := newSipUA(t, k, "alice")
	resp := alice.publish(publication{expires: 60, body: pidf(k.AOR("alice"), "open")})
	if resp.status() != 200 || resp.get("SIP-ETag") == "" || resp.get("Expires") != "60" {
		t.Fatalf("PUBLISH with SkipProxyAuth: got %q, SIP-ETag %q, Expires %q; want 200 with SIP-ETag and Expires: 60",
			resp.startLine, resp.get("SIP-ETag"), resp.get("Expires"))
	}
	// An event the presence modules do not handle.
	if resp = alice.publish(publication{event: "dialog", expires: 60, body: "<dialog-info/>"}); resp.status() != 489 {
		t.Fatalf("PUBLISH Event: dialog: got %q, want 489", resp.startLine)
	}
	// REGISTER is still challenged, against the users table.
	if _, resp = alice.registerWithAuth(60, "secret"); resp.status() != 200 {
		t.Fatalf("REGISTER: got %q, want 200", resp.startLine)
	}
}
