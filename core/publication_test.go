package core

import (
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/notification"
)

// A publication against a SIPp presence server (RFC 3903): 423 is retried
// with Min-Expires, the state is refreshed before it expires with
// SIP-If-Match and no body, a modification answered 412 is published
// afresh, and Unpublish removes it. The scenario checks every PUBLISH.
func TestPublication(t *testing.T) {
	s, route := runRegistrar(t, "publish_server.xml")
	e, c := startEngine(t, EngineConfig{})
	p, err := e.NewPublication(PublicationConfig{AOR: MustParseSIPURI("sip:alice@example.test"), Expires: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	events := make(chan notification.Notification, 16)
	c.Observe("", p, func(n notification.Notification) { events <- n })
	next := func(name string) notification.Notification {
		t.Helper()
		for {
			select {
			case n := <-events:
				if n.Name == name {
					return n
				}
				if n.Name == PublicationDidFail || n.Name == PublicationDidNotEnd {
					t.Fatalf("%s %+v while waiting for %s", n.Name, n.Data, name)
				}
			case <-testCtx(t).Done():
				t.Fatalf("no %s", name)
			}
		}
	}
	if err := p.Publish(route, nil); err == nil {
		t.Fatal("Publish with an empty body accepted")
	}
	if err := p.Publish(route, []byte(`<presence><basic>open</basic></presence>`)); err != nil {
		t.Fatal(err)
	}
	if d, _ := notification.Data[PublicationDidSucceedData](next(PublicationDidSucceed)); d.Expires != 2*time.Second || p.ETag() != "e1" {
		t.Fatalf("first DidSucceed %+v, etag %q", d, p.ETag())
	}
	next(PublicationWillExpire)
	if d, _ := notification.Data[PublicationDidSucceedData](next(PublicationDidSucceed)); d.Expires != 60*time.Second || p.ETag() != "e2" {
		t.Fatalf("refresh DidSucceed %+v, etag %q", d, p.ETag())
	}
	if err := p.Publish(route, []byte(`<presence><basic>closed</basic></presence>`)); err != nil {
		t.Fatal(err)
	}
	next(PublicationDidSucceed)
	if p.ETag() != "e3" || !p.Published() {
		t.Fatalf("after the 412, etag %q, published %v", p.ETag(), p.Published())
	}
	if err := p.Unpublish(); err != nil {
		t.Fatal(err)
	}
	if d, _ := notification.Data[PublicationDidEndData](next(PublicationDidEnd)); d.Expired || p.Published() {
		t.Fatalf("DidEnd %+v, published %v", d, p.Published())
	}
	waitSIPp(t, s)
}
