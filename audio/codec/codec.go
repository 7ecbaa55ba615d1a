// Package codec holds the audio codecs of the SDK, written in-house with no
// dependency: PCMU and PCMA (ITU-T G.711) and G.722 (64 kbit/s SB-ADPCM).
//
// A [Codec] describes one encoding (its SDP name, RTP clock rate and PCM
// sample rate) and makes stateful [Encoder]s and [Decoder]s, one per
// direction of each stream. Encoders turn mono 16-bit PCM frames into RTP
// payloads; decoders turn payloads back into PCM and conceal lost packets
// ([Decoder.Conceal]) with the pitch-based loss concealment of
// [audio.PLC]. The package knows nothing about RTP packets, SDP or sessions:
// the RTP layer hands it payloads and tells it when one is missing.
//
// G.722 follows the RFC 3551 quirk: its RTP clock rate is 8000 although its
// PCM is sampled at 16000 Hz, so a 20 ms G.722 frame is 320 samples, 160
// bytes and 160 RTP timestamp units.
//
// Opus is not here (see the repository README for builds with Opus).
package codec

import (
	"errors"
	"strings"
)

// Codec is one audio encoding. Implementations are immutable and safe for
// concurrent use; the encoders and decoders they make are not.
type Codec interface {
	// Name returns the encoding name as written in SDP rtpmap lines:
	// "PCMU", "PCMA" or "G722".
	Name() string
	// ClockRate returns the RTP timestamp clock rate in Hz.
	ClockRate() int
	// SampleRate returns the PCM sample rate in Hz of the frames the
	// encoder takes and the decoder produces.
	SampleRate() int
	// PayloadType returns the static RTP payload type assigned by RFC 3551,
	// or -1 when the encoding has none.
	PayloadType() int
	// NewEncoder returns a new encoder, in its initial state.
	NewEncoder() Encoder
	// NewDecoder returns a new decoder, in its initial state.
	NewDecoder() Decoder
}

// Encoder encodes the PCM frames of one stream. It is not safe for
// concurrent use.
type Encoder interface {
	// Encode encodes the samples of pcm (at the codec's SampleRate) and
	// appends the payload to dst, returning the extended slice. It fails,
	// appending nothing, when the number of samples cannot be encoded
	// (G.722 needs an even number).
	Encode(dst []byte, pcm []int16) ([]byte, error)
	// Reset returns the encoder to its initial state.
	Reset()
}

// Decoder decodes the payloads of one stream and conceals lost ones. It is
// not safe for concurrent use.
type Decoder interface {
	// Decode decodes payload and appends the samples to dst, returning the
	// extended slice. Every payload decodes: any length is valid.
	Decode(dst []int16, payload []byte) ([]int16, error)
	// Conceal appends n samples that replace a lost payload (packet loss
	// concealment); n is the number of samples the lost payload would
	// have decoded to. The next Decode cross-fades out of the
	// concealment.
	Conceal(dst []int16, n int) []int16
	// Reset returns the decoder to its initial state.
	Reset()
}

// ErrFrameSize is wrapped by errors about a frame whose number of samples
// the codec cannot encode.
var ErrFrameSize = errors.New("codec: invalid frame size")

// Codecs returns the codecs of this package: PCMU, PCMA and G722.
func Codecs() []Codec { return []Codec{PCMU, PCMA, G722} }

// Lookup returns the codec with the given encoding name (case-insensitive,
// as SDP compares them) and RTP clock rate, or false.
func Lookup(name string, clockRate int) (Codec, bool) {
	for _, c := range Codecs() {
		if strings.EqualFold(c.Name(), name) && c.ClockRate() == clockRate {
			return c, true
		}
	}
	return nil, false
}

// ByPayloadType returns the codec with the given static RTP payload type, or
// false.
func ByPayloadType(pt int) (Codec, bool) {
	for _, c := range Codecs() {
		if c.PayloadType() == pt {
			return c, true
		}
	}
	return nil, false
}
