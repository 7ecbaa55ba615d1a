package cpim_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/sipsimple-go/sipsimple/cpim"
)

func ExampleMessage_Marshal() {
	m := &cpim.Message{
		From:       cpim.Address{DisplayName: "Alice", URI: "sip:alice@example.com"},
		To:         []cpim.Address{{URI: "sip:bob@example.com"}},
		DateTime:   time.Date(2009, 6, 1, 12, 0, 0, 500_000_000, time.UTC),
		Subject:    []cpim.Subject{{Value: "lunch?"}, {Lang: "fr", Value: "déjeuner ?"}},
		Namespaces: map[string]string{"imdn": "urn:ietf:params:imdn"},
		Headers: []cpim.Header{
			{Namespace: "imdn", Name: "Message-ID", Value: "34jk324j"},
			{Namespace: "imdn", Name: "Disposition-Notification", Value: "positive-delivery"},
		},
		ContentType: "text/plain; charset=utf-8",
		Body:        []byte("Shall we?"),
	}
	b, err := m.Marshal()
	if err != nil {
		fmt.Println(err)
		return
	}
	// Lines end with CRLF on the wire; shown here with LF.
	fmt.Println(strings.ReplaceAll(string(b), "\r\n", "\n"))
	// Output:
	// From: "Alice" <sip:alice@example.com>
	// To: <sip:bob@example.com>
	// DateTime: 2009-06-01T12:00:00.5Z
	// Subject: lunch?
	// Subject:;lang=fr déjeuner ?
	// NS: imdn <urn:ietf:params:imdn>
	// imdn.Message-ID: 34jk324j
	// imdn.Disposition-Notification: positive-delivery
	//
	// Content-Type: text/plain; charset=utf-8
	//
	// Shall we?
}

func ExampleParse() {
	body := "From: MR SANDERS <im:piglet@100akerwood.com>\r\n" +
		"To: Depressed Donkey <im:eeyore@100akerwood.com>\r\n" +
		"DateTime: 2000-12-13T13:40:00-08:00\r\n" +
		"Subject: the weather will be fine today\r\n" +
		"Subject:;lang=fr beau temps prevu pour aujourd'hui\r\n" +
		"NS: MyFeatures <mid:MessageFeatures@id.foo.com>\r\n" +
		"Require: MyFeatures.VitalMessageOption\r\n" +
		"MyFeatures.VitalMessageOption: Confirmation-requested\r\n" +
		"\r\n" +
		"Content-type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Here is the text of my message."
	m, err := cpim.Parse([]byte(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("From:", m.From.DisplayName, m.From.URI)
	fmt.Println("To:", m.To[0])
	fmt.Println("DateTime:", m.DateTime.UTC())
	for _, s := range m.Subject {
		fmt.Printf("Subject [%s]: %s\n", s.Lang, s.Value)
	}
	for _, h := range m.Headers {
		fmt.Printf("header %q %q = %q\n", h.Namespace, h.Name, h.Value)
	}
	v, _ := m.Lookup("mid:MessageFeatures@id.foo.com", "VitalMessageOption")
	fmt.Println("VitalMessageOption:", v)
	fmt.Println("Content-Type:", m.ContentType)
	fmt.Printf("Body: %s\n", m.Body)
	// Output:
	// From: MR SANDERS im:piglet@100akerwood.com
	// To: "Depressed Donkey" <im:eeyore@100akerwood.com>
	// DateTime: 2000-12-13 21:40:00 +0000 UTC
	// Subject []: the weather will be fine today
	// Subject [fr]: beau temps prevu pour aujourd'hui
	// header "" "Require" = "MyFeatures.VitalMessageOption"
	// header "MyFeatures" "VitalMessageOption" = "Confirmation-requested"
	// VitalMessageOption: Confirmation-requested
	// Content-Type: text/plain; charset=utf-8
	// Body: Here is the text of my message.
}

func ExampleParseAddress() {
	a, err := cpim.ParseAddress(`"Alice \"Al\" Smith" <sip:alice@example.com>`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.DisplayName)
	fmt.Println(a.URI)
	fmt.Println(a)
	// Output:
	// Alice "Al" Smith
	// sip:alice@example.com
	// "Alice \"Al\" Smith" <sip:alice@example.com>
}
