package sdp_test

import (
	"fmt"
	"strings"

	"github.com/sipsimple-go/sipsimple/sdp"
)

// An offer as python-sipsimple sends it: audio and an MSRP chat stream.
const offer = "v=0\r\n" +
	"o=- 3816522240 3816522240 IN IP4 192.0.2.5\r\n" +
	"s=SIP SIMPLE Client\r\n" +
	"c=IN IP4 192.0.2.5\r\n" +
	"t=0 0\r\n" +
	"m=audio 50010 RTP/AVP 113 9 0 8 101\r\n" +
	"a=rtpmap:113 opus/48000/2\r\n" +
	"a=fmtp:113 useinbandfec=1\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-16\r\n" +
	"a=sendrecv\r\n" +
	"m=message 2855 TCP/MSRP *\r\n" +
	"a=path:msrp://192.0.2.5:2855/f6a8e5b1d2c3;tcp\r\n" +
	"a=accept-types:message/cpim text/plain\r\n" +
	"a=accept-wrapped-types:*\r\n"

func ExampleParse() {
	d, err := sdp.Parse([]byte(offer))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range d.Media {
		fmt.Println(m.Type, m.Port, m.Proto, m.Address, m.Direction)
		for _, c := range m.Codecs {
			fmt.Printf("  %d %s", c.PayloadType, c)
			if c.Fmtp != "" {
				fmt.Print(" ", c.Fmtp)
			}
			fmt.Println()
		}
		if path, ok := m.Attribute("path"); ok {
			fmt.Println("  path", path)
		}
	}
	// Output:
	// audio 50010 RTP/AVP 192.0.2.5 sendrecv
	//   113 opus/48000/2 useinbandfec=1
	//   9 G722/8000
	//   0 PCMU/8000
	//   8 PCMA/8000
	//   101 telephone-event/8000 0-16
	// message 2855 TCP/MSRP 192.0.2.5 sendrecv
	//   path msrp://192.0.2.5:2855/f6a8e5b1d2c3;tcp
}

func ExampleParse_invalid() {
	_, err := sdp.Parse([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio 70000 RTP/AVP 0\r\n"))
	fmt.Println(err)
	// Output:
	// sdp: invalid session description: line 3 "m=audio 70000 RTP/AVP 0": invalid port "70000"
}

// Answering an offer: accept the audio with the codecs in common, decline
// the chat stream.
func Example_answer() {
	o, err := sdp.Parse([]byte(offer))
	if err != nil {
		fmt.Println(err)
		return
	}
	supported := []sdp.Codec{
		{PayloadType: 8, Name: "PCMA", ClockRate: 8000},
		{PayloadType: 0, Name: "PCMU", ClockRate: 8000},
		{PayloadType: 96, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-15"},
	}
	answer := &sdp.Description{
		Origin:  sdp.Origin{Username: "-", SessionID: 42, SessionVersion: 42, Address: "198.51.100.7"},
		Name:    "-",
		Address: "198.51.100.7",
	}
	for _, m := range o.Media {
		codecs := sdp.NegotiateCodecs(m.Codecs, supported)
		if m.Type != "audio" || len(codecs) == 0 {
			answer.Media = append(answer.Media, sdp.RejectMedia(m))
			continue
		}
		answer.Media = append(answer.Media, sdp.Media{
			Type:      "audio",
			Port:      40000,
			Proto:     m.Proto,
			Codecs:    codecs,
			Ptime:     20,
			Direction: sdp.AnswerDirection(m.Direction, sdp.SendRecv),
		})
	}
	if err := sdp.ValidateAnswer(o, answer); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(answer.Marshal()), "\r\n", "\n"))
	// Output:
	// v=0
	// o=- 42 42 IN IP4 198.51.100.7
	// s=-
	// c=IN IP4 198.51.100.7
	// t=0 0
	// m=audio 40000 RTP/AVP 0 8 101
	// a=rtpmap:0 PCMU/8000
	// a=rtpmap:8 PCMA/8000
	// a=rtpmap:101 telephone-event/8000
	// a=fmtp:101 0-15
	// a=ptime:20
	// a=sendrecv
	// m=message 0 TCP/MSRP *
	// a=sendrecv
}

func ExampleNegotiateCodecs() {
	offered := []sdp.Codec{
		{PayloadType: 9, Name: "G722", ClockRate: 8000, Channels: 1},
		{PayloadType: 0, Name: "PCMU", ClockRate: 8000, Channels: 1},
		{PayloadType: 97, Name: "telephone-event", ClockRate: 8000, Channels: 1, Fmtp: "0-16"},
	}
	supported := []sdp.Codec{
		{PayloadType: 0, Name: "PCMU", ClockRate: 8000},
		{PayloadType: 101, Name: "telephone-event", ClockRate: 8000},
	}
	for _, c := range sdp.NegotiateCodecs(offered, supported) {
		fmt.Println(c.PayloadType, c)
	}
	// Output:
	// 0 PCMU/8000
	// 97 telephone-event/8000
}

func ExampleAnswerDirection() {
	// The peer puts us on hold (sendonly): we answer recvonly.
	fmt.Println(sdp.AnswerDirection(sdp.SendOnly, sdp.SendRecv))
	// Both sides on hold.
	fmt.Println(sdp.AnswerDirection(sdp.SendOnly, sdp.SendOnly))
	// A normal offer, we hold.
	fmt.Println(sdp.AnswerDirection(sdp.SendRecv, sdp.SendOnly))
	// Output:
	// recvonly
	// inactive
	// sendonly
}

func ExampleMedia_Hold() {
	d, _ := sdp.Parse([]byte("v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0\r\n" +
		"m=audio 4002 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\na=sendonly\r\n" +
		"m=audio 4004 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\n" +
		"m=audio 0 RTP/AVP 0\r\n"))
	for _, m := range d.Media {
		fmt.Println(m.Port, m.Hold(), m.Rejected())
	}
	// Output:
	// 4000 true false
	// 4002 true false
	// 4004 false false
	// 0 false true
}

func ExampleRejectMedia() {
	offered := sdp.Media{Type: "video", Port: 51372, Proto: "RTP/AVP", Formats: []string{"31", "34"}}
	d := &sdp.Description{Media: []sdp.Media{sdp.RejectMedia(offered)}}
	_, media, _ := strings.Cut(string(d.Marshal()), "t=0 0\r\n")
	fmt.Print(strings.ReplaceAll(media, "\r\n", "\n"))
	// Output:
	// m=video 0 RTP/AVP 31 34
	// a=sendrecv
}

// Removing a stream in a re-offer keeps its m= line with port 0.
func ExampleDescription_RemoveMedia() {
	d, _ := sdp.Parse([]byte(offer))
	next := d.Clone()
	next.RemoveMedia(1) // stop the chat
	fmt.Println(len(next.Media), next.Media[1].Type, next.Media[1].Port)
	fmt.Println(sdp.ValidateReoffer(d, next))
	// Output:
	// 2 message 0
	// <nil>
}

func ExampleLocal() {
	l := sdp.NewLocal("alice", "192.0.2.1")
	d := &sdp.Description{Address: "192.0.2.1", Media: []sdp.Media{
		{Type: "audio", Port: 4000, Proto: "RTP/AVP", Codecs: []sdp.Codec{{PayloadType: 0, Name: "PCMU", ClockRate: 8000}}},
	}}
	first := l.Next(d)
	again := l.Next(d) // a session refresh: nothing changed
	d.Media[0].Direction = sdp.SendOnly
	hold := l.Next(d)
	fmt.Println(again.Origin.SessionVersion-first.Origin.SessionVersion, hold.Origin.SessionVersion-first.Origin.SessionVersion)
	fmt.Println(hold.Origin.SessionID == first.Origin.SessionID)
	// Output:
	// 0 1
	// true
}

func ExampleNewCrypto() {
	c, err := sdp.NewCrypto(1, "AES_CM_128_HMAC_SHA1_80")
	if err != nil {
		fmt.Println(err)
		return
	}
	key, salt, _ := c.Key()
	fmt.Println(c.Tag, c.Suite, len(c.KeyParams), len(key), len(salt))
	// Output:
	// 1 AES_CM_128_HMAC_SHA1_80 47 16 14
}

func ExampleParseCrypto() {
	c, err := sdp.ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32")
	if err != nil {
		fmt.Println(err)
		return
	}
	key, salt, err := c.Key()
	fmt.Printf("%d %s key %x salt %x %v\n", c.Tag, c.Suite, key[:4], salt[:4], err)
	// Output:
	// 1 AES_CM_128_HMAC_SHA1_80 key 3d2d6e40 salt 2c233568 <nil>
}
