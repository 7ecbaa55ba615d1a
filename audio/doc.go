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
// mix for sending (through a codec.Encoder). Nothing here needs cgo except
// the sound card support, which is behind the malgo build tag (see Sound
// devices below).
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
// # Sound devices
//
// Which device a build has depends on the malgo build tag:
//
//   - Default build (no tag, no cgo needed, CGO_ENABLED=0 works): the only
//     device is the [NullDevice], the default and the device of headless
//     use. [OpenDevice] and [ListDevices] exist, with the same signatures, but
//     return [ErrNoSoundDevice] ("this build has no sound device support:
//     build with -tags malgo"), so that programs compile either way.
//   - go build -tags malgo (needs cgo and a C compiler, but no system
//     packages: miniaudio is vendored by github.com/gen2brain/malgo and loads
//     the platform's sound libraries at run time): [OpenDevice] opens a real
//     sound card as a [SoundDevice] (ALSA, PulseAudio or JACK on Linux, Core
//     Audio on macOS, WASAPI on Windows, ... or miniaudio's "null" backend,
//     [DeviceConfig].Backend), and [ListDevices] lists microphones and
//     speakers. The [NullDevice] is still there and still the default.
//
// A [SoundDevice] is a [Device] like the null one: add it to a mixer and
// [Mixer.Start] the mixer on it, and the sound card's clock paces the mixer.
// Its audio callback only moves samples between the hardware and two bounded
// buffers and counts the samples played; the mixer is ticked on the mixer's
// goroutine, once per frame's worth of samples the speaker consumed, kept
// [DeviceConfig].Latency ahead of it. Underruns and overflows give silence or
// drop audio, counted in [SoundDevice.Stats]; they never block.
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
