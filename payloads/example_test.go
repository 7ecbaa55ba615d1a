package payloads_test

import (
	"fmt"
	"time"

	"github.com/sipsimple-go/sipsimple/payloads"
)

func ExampleMarshalPIDF() {
	doc, _ := payloads.MarshalPIDF(payloads.Presence{Entity: "sip:alice@example.com", Online: true, Note: "at my desk"})
	p, _ := payloads.ParsePIDF(doc)
	fmt.Println(p.Entity, p.Online, p.Note)
	// Output: sip:alice@example.com true at my desk
}

// An is-composing indication (RFC 3994) sent while the user types, and
// read back by the other party.
func ExampleMarshalIsComposing() {
	b, _ := payloads.MarshalIsComposing(payloads.IsComposing{State: payloads.ComposingActive, ContentType: "text/plain",
		Refresh: 60 * time.Second})
	c, _ := payloads.ParseIsComposing(b)
	fmt.Println(c.State, c.ContentType, c.Refresh)
	// Output:
	// active text/plain 1m0s
}
