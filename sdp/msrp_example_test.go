package sdp_test

import (
	"fmt"

	"github.com/sipsimple-go/sipsimple/sdp"
)

// Answering an RFC 5547 file transfer offer: read the offered stream, decide
// who connects, and build the answer's m= section.
func ExampleParseMSRP() {
	offer := "v=0\r\n" +
		"o=alice 2890844526 2890844526 IN IP4 192.0.2.5\r\n" +
		"s=-\r\n" +
		"c=IN IP4 192.0.2.5\r\n" +
		"t=0 0\r\n" +
		"m=message 2855 TCP/TLS/MSRP *\r\n" +
		"a=sendonly\r\n" +
		"a=path:msrps://192.0.2.5:2855/kjhd37s2s20w2a;tcp\r\n" +
		"a=accept-types:*\r\n" +
		"a=setup:actpass\r\n" +
		"a=file-selector:name:\"holiday 100%25.jpg\" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E\r\n" +
		"a=file-transfer-id:vBnG916bdberum2fFEABR1FR3ExZMUrd\r\n"

	d, err := sdp.Parse([]byte(offer))
	if err != nil {
		fmt.Println(err)
		return
	}
	in, err := sdp.ParseMSRP(d.Media[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	fs := in.FileSelector
	fmt.Printf("%q %s %d bytes %s\n", fs.Name, fs.Type, fs.Size, fs.Hash.Algorithm)
	fmt.Println("peer:", in.Path[len(in.Path)-1])

	setup, weConnect := sdp.AnswerSetup(in.Setup)
	fmt.Println("setup:", setup, "we connect:", weConnect)

	out := sdp.MSRPMedia{
		Path:           []string{"msrps://192.0.2.9:2856/9di4ea;tcp"},
		AcceptTypes:    []string{"*"},
		Setup:          setup,
		Secure:         in.Secure,
		FileSelector:   fs,
		FileTransferID: in.FileTransferID,
	}
	m := out.Media(2856, "192.0.2.9", sdp.AnswerDirection(d.Media[0].Direction, sdp.RecvOnly))
	for _, a := range m.Attributes {
		fmt.Println("a=" + a.String())
	}
	// Output:
	// "holiday 100%.jpg" image/jpeg 32349 bytes sha-1
	// peer: msrps://192.0.2.5:2855/kjhd37s2s20w2a;tcp
	// setup: active we connect: true
	// a=path:msrps://192.0.2.9:2856/9di4ea;tcp
	// a=accept-types:*
	// a=setup:active
	// a=file-selector:name:"holiday 100%25.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E
	// a=file-transfer-id:vBnG916bdberum2fFEABR1FR3ExZMUrd
}
