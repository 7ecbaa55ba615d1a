package msrp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sipsimple-go/sipsimple/msrp"
)

// Reading frames from a stream and answering a SEND.
func ExampleReader() {
	stream := "MSRP a786hjs2 SEND\r\n" +
		"To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n" +
		"From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n" +
		"Message-ID: 87652491\r\n" +
		"Byte-Range: 1-25/25\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\n" +
		"Hey Bob, are you there?\r\n" +
		"-------a786hjs2$\r\n"
	r := msrp.NewReader(strings.NewReader(stream), msrp.ReaderOptions{})
	for {
		m, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *msrp.ProtocolError
		if errors.As(err, &pe) {
			fmt.Println("answer", pe.Code, "to", pe.TransactionID, "close:", pe.Fatal)
			continue
		}
		fmt.Printf("%s %s %q flag %c\n", m.Method, m.MessageID, m.Body, m.Flag)
		resp, _ := msrp.NewResponse(m, msrp.StatusOK, "").Marshal()
		fmt.Print(strings.ReplaceAll(string(resp), "\r\n", "\n")) // CRLF shown as LF
	}
	// Output:
	// SEND 87652491 "Hey Bob, are you there?" flag $
	// MSRP a786hjs2 200 OK
	// To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
	// From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
	// -------a786hjs2$
}

// Parsing and comparing MSRP URIs (RFC 4975 section 6.1).
func ExampleParseURI() {
	u, err := msrp.ParseURI("msrps://alice@[2001:db8::1]:9000/jui787s2f;tcp")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Secure, u.User, u.Host, u.Port, u.SessionID, u.Transport)
	v, _ := msrp.ParseURI("MSRPS://[2001:DB8:0::1]:9000/jui787s2f;TCP")
	fmt.Println(u.Equal(v), v)
	// Output:
	// true alice 2001:db8::1 9000 jui787s2f tcp
	// true msrps://[2001:DB8:0::1]:9000/jui787s2f;TCP
}

// Splitting a body into chunks and putting them back together.
func ExampleChunker() {
	to, _ := msrp.ParsePath("msrp://bob.example.com:8888/9di4eae923wzd;tcp")
	from, _ := msrp.ParsePath("msrp://alicepc.example.com:7777/iau39soe2843z;tcp")
	c := msrp.NewChunker(&msrp.Message{ToPath: to, FromPath: from, MessageID: "4564dpWd", ContentType: "text/plain"},
		strings.NewReader("abcdEFGH"), -1, 4)
	ra := msrp.NewReassembler(msrp.ReassemblerOptions{})
	for {
		m, err := c.Next()
		if err == io.EOF {
			break
		}
		fmt.Println("Byte-Range:", m.ByteRange, "flag", string(m.Flag))
		a, _ := ra.Add(m)
		if a.State == msrp.AssemblyComplete {
			fmt.Printf("%s: %s\n", a.MessageID, a.Body)
		}
	}
	// Output:
	// Byte-Range: 1-4/* flag +
	// Byte-Range: 5-8/8 flag $
	// 4564dpWd: abcdEFGH
}

// The writer refuses a body that contains its own end-line.
func ExampleMessage_Marshal() {
	to, _ := msrp.ParsePath("msrp://b.example.com:1/s;tcp")
	from, _ := msrp.ParsePath("msrp://a.example.com:1/s;tcp")
	m := &msrp.Message{Request: true, Method: msrp.MethodSEND, TransactionID: "abcd", ToPath: to, FromPath: from,
		MessageID: "m1", ContentType: "text/plain", Body: []byte("quoting:\r\n-------abcd$\r\n")}
	_, err := m.Marshal()
	fmt.Println(errors.Is(err, msrp.ErrEndLineInBody))
	m.TransactionID = "efgh"
	b, _ := m.Marshal()
	fmt.Println(bytes.HasSuffix(b, []byte("\r\n-------efgh$\r\n")))
	// Output:
	// true
	// true
}

// A REPORT for a SEND that asked for one.
func ExampleNewReport() {
	to, _ := msrp.ParsePath("msrp://bob.example.com:8888/9di4eae923wzd;tcp")
	from, _ := msrp.ParsePath("msrp://alicepc.example.com:7777/iau39soe2843z;tcp")
	send := &msrp.Message{Request: true, Method: msrp.MethodSEND, ToPath: to, FromPath: from, MessageID: "12339sdqwer", SuccessReport: "yes"}
	rep := msrp.NewReport(send, msrp.ByteRange{Start: 1, End: 106, Total: 106}, msrp.Status{Code: 200, Comment: "OK"})
	rep.TransactionID = "dkei38sd" // normally the random one NewReport chose
	b, _ := rep.Marshal()
	fmt.Print(strings.ReplaceAll(string(b), "\r\n", "\n")) // CRLF shown as LF
	// Output:
	// MSRP dkei38sd REPORT
	// To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp
	// From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp
	// Message-ID: 12339sdqwer
	// Byte-Range: 1-106/106
	// Status: 000 200 OK
	// -------dkei38sd$
}
