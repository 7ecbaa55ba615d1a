package payloads_test

import (
	"fmt"

	"github.com/sipsimple-go/sipsimple/payloads"
)

func ExampleMarshalPIDF() {
	doc, _ := payloads.MarshalPIDF(payloads.Presence{Entity: "sip:alice@example.com", Online: true, Note: "at my desk"})
	p, _ := payloads.ParsePIDF(doc)
	fmt.Println(p.Entity, p.Online, p.Note)
	// Output: sip:alice@example.com true at my desk
}
