// Package audio is the headless audio engine of the SDK: a conference-bridge
// [Mixer] on one clock, the ports it connects ([NullDevice], [WAVPlayer],
// [WAVRecorder], [ToneGenerator], and any [Port] of the caller's), a
// [Resampler], packet loss concealment ([PLC]) and WAV file I/O. Its codecs
// (G.711 µ-law and A-law, G.722) are in the subpackage audio/codec.
//
// It is for anything that moves PCM audio in real time: a softphone's call
// audio, an IVR playing prompts and recording answers, a test tool checking
// DTMF, a conference. It knows nothing of SIP, SDP, RTP packets, sockets or
// sessions, and must not: the session layer connects an RTP stream to it by
// adding a port whose ReadFrame decodes the payloads received (through a
// codec.Decoder, concealing the lost ones) and whose WriteFrame encodes the
// mix for sending (through a codec.Encoder). Nothing here needs cgo; real
// sound cards implement [Device] behind a build tag.
//
// # Audio model
//
// Audio is mono, signed 16-bit linear PCM, in frames of a fixed duration
// (20 ms by default, the usual RTP packetisation time) at 8000, 16000, 32000
// or 48000 Hz ([Format]). A frame is a []int16 of rate × duration samples.
//
// # Mixer
//
// Each tick of the mixer's clock reads a frame from every [Source] and writes
// to every [Sink] the saturated sum of the sources connected to it
// ([Mixer.Connect], PJSUA's conf_connect; [Mixer.Conference] connects a set
// of ports all to all, python-sipsimple's AudioBridge). A port never hears
// itself. Ports at another rate than the mixer's are resampled both ways.
// Ports can be added, removed and reconnected from any goroutine while the
// mixer runs. The clock is a [Device] (the [NullDevice] when there is no
// sound card, which ticks on the system clock), a [RealTimeClock], or the
// caller calling [Mixer.Tick] (tests step the mixer that way). Port methods
// run on the clock's goroutine and must not block; the built-in ports keep
// their file I/O on their own goroutines behind bounded buffers and drop
// audio, counting it, rather than stall the clock.
//
// # Resampler
//
// [Resampler] is a polyphase windowed-sinc (Kaiser window) converter between
// any two rates whose ratio has a numerator of at most 2048 (so 8, 11.025,
// 16, 22.05, 32, 44.1 and 48 kHz all convert to one another). It keeps 87 dB
// or more of signal-to-noise ratio on a pass-band tone (16-bit resolution)
// and costs 48 multiply-adds per output sample when upsampling
// (48 × the rate ratio when downsampling).
//
// # Loss concealment
//
// [PLC] replaces lost frames by repeating the last pitch period(s) with
// smooth joints and a fade to silence after 60 ms, after ITU-T G.711
// Appendix I; the decoders of audio/codec use it to conceal lost packets. The RTP
// layer reorders packets; it tells the decoder when one is missing.
package audio
