package codec_test

import (
	"fmt"
	"log"

	"github.com/sipsimple-go/sipsimple/audio"
	"github.com/sipsimple-go/sipsimple/audio/codec"
)

func Example() {
	for _, c := range codec.Codecs() {
		enc, dec := c.NewEncoder(), c.NewDecoder()
		pcm := make([]int16, c.SampleRate()/50) // 20 ms
		payload, err := enc.Encode(nil, pcm)
		if err != nil {
			log.Fatal(err)
		}
		out, _ := dec.Decode(nil, payload)
		fmt.Printf("%s/%d (PT %d): %d samples at %d Hz -> %d bytes -> %d samples\n",
			c.Name(), c.ClockRate(), c.PayloadType(), len(pcm), c.SampleRate(), len(payload), len(out))
	}
	// Output:
	// PCMU/8000 (PT 0): 160 samples at 8000 Hz -> 160 bytes -> 160 samples
	// PCMA/8000 (PT 8): 160 samples at 8000 Hz -> 160 bytes -> 160 samples
	// G722/8000 (PT 9): 320 samples at 16000 Hz -> 160 bytes -> 320 samples
}

func ExampleLookup() {
	c, ok := codec.Lookup("g722", 8000) // from an SDP rtpmap "G722/8000"
	fmt.Println(c.Name(), ok, c.SampleRate())
	// Output: G722 true 16000
}

// A decoder replaces a lost packet with concealment; the RTP layer tells it
// how many samples the packet held.
func ExampleDecoder_Conceal() {
	dec := codec.PCMU.NewDecoder()
	frame, _ := dec.Decode(nil, make([]byte, 160))
	frame = dec.Conceal(frame[:0], 160)
	fmt.Println(len(frame))
	// Output: 160
}

func ExampleEncodeULaw() {
	fmt.Printf("%#02x %#02x %d\n", codec.EncodeULaw(0), codec.EncodeALaw(0), codec.DecodeALaw(0xD5))
	// Output: 0xff 0xd5 8
}

// streamPort sketches the port the session layer adds to the mixer for an
// RTP stream: WriteFrame encodes the mix for sending, ReadFrame decodes the
// payload due this tick (or conceals it when it is missing). Here the
// "network" is a slice of payloads, some of them lost (nil).
type streamPort struct {
	enc      codec.Encoder
	dec      codec.Decoder
	rate     int
	incoming [][]byte
	sent     int
}

func (p *streamPort) SampleRate() int { return p.rate }

func (p *streamPort) ReadFrame(frame []int16) bool {
	if len(p.incoming) == 0 {
		return false
	}
	payload := p.incoming[0]
	p.incoming = p.incoming[1:]
	if payload == nil {
		p.dec.Conceal(frame[:0], len(frame)) // decodes into frame's array
		return true
	}
	p.dec.Decode(frame[:0], payload)
	return true
}

func (p *streamPort) WriteFrame(frame []int16) {
	payload, err := p.enc.Encode(nil, frame) // then: RTP packet, send
	if err == nil {
		p.sent += len(payload)
	}
}

func Example_streamPort() {
	m, _ := audio.NewMixer(audio.MixerConfig{SampleRate: 16000})
	c := codec.PCMU
	silence, _ := c.NewEncoder().Encode(nil, make([]int16, 160))
	call := &streamPort{enc: c.NewEncoder(), dec: c.NewDecoder(), rate: c.SampleRate(),
		incoming: [][]byte{silence, nil, silence}}
	dev, _ := audio.NewNullDevice(16000)
	sc, _ := m.Add(call)
	sd, _ := m.Add(dev)
	m.Conference(sc, sd)
	for i := 0; i < 3; i++ {
		m.Tick()
	}
	fmt.Println(call.sent, "bytes sent,", dev.Played(), "frames played")
	// Output: 480 bytes sent, 3 frames played
}
