// Package rtp is the RTP/RTCP media transport of one audio stream of a
// call: it binds the RTP and RTCP sockets, sends and receives codec
// payloads in RTP packets (RFC 3550), protects them with SRTP (RFC 3711,
// SDES keys of RFC 4568), reorders what arrives in an adaptive jitter
// buffer, sends and recognises DTMF as RFC 4733 telephone-events, follows
// the remote to where its packets really come from (symmetric RTP,
// RFC 4961), exchanges RTCP reports and keeps the statistics.
//
// It moves payloads, not PCM: encoding, decoding, concealment and mixing
// belong to the audio engine. And it knows nothing of SIP, SDP, sessions or
// accounts: the session layer reads ports, payload types, telephone-event
// format and crypto keys from the negotiated SDP and hands them over as
// plain values ([Config], [Session.SetRemote], [Session.SetPayloadTypes],
// [Session.UpdateSRTP]). Like pion's packages, it is usable alone.
//
// # Sending
//
// [Session.WritePayload] sends one encoded frame; the session keeps the
// random SSRC, sequence number and timestamp of RFC 3550, advancing the
// timestamp by the frame's duration in samples. [Session.WritePayloadAt]
// sends with an explicit timestamp. [Session.SendDTMF] queues a digit and
// returns at once; the session's goroutine sends it paced by a timer (start
// packet with the marker bit, an update every ptime, three end packets),
// and suppresses the audio of WritePayload meanwhile, as PJSIP does.
//
// # Receiving and the jitter buffer
//
// Received packets are validated (version, SRTP authentication, payload
// type), counted, and queued in a jitter buffer ordered by sequence
// number (extended across wrap-around; duplicates and packets arriving
// after their slot are dropped and counted). Each packet's playout time is
// its RTP timestamp mapped onto the local clock through the fastest transit
// seen recently, plus a playout delay. The delay follows the spread of
// transit times over the last one to two windows of 100 packets (how much
// later than the fastest packet the slowest came: jitter and reordering
// alike), clamped to [Config.MinDelay, Config.MaxDelay] (40-200 ms by
// default): it grows at once when packets come later, and shrinks by about
// 3% of real time when they stop doing so, a frame being dropped each time
// a whole frame of delay has been shed.
//
// Because playout is defined by time and not by calls, two consumers work:
//
//   - a mixer with its own 20 ms clock calls [Session.Pop] every frame
//     until it has the frame's audio: Pop returns the oldest packet due, or
//     false when nothing is (still buffering, waiting for a late packet,
//     silence), in which case the mixer conceals or plays silence;
//   - a consumer without a clock (tests, a recorder, a relay) calls
//     [Session.ReadPayload], which blocks until the next packet is due.
//
// A gap is waited for until the packet after it is due; a due packet more
// than one and a half frames late is dropped when a newer one is due too
// (the consumer fell behind). The packets given up on are reported in
// [Received.LostBefore] of the next packet, so the audio side knows how
// many frames to conceal. A new remote SSRC (confirmed
// by two consecutive packets) or a sequence restart (RFC 3550 appendix A.1)
// resets the buffer and the reception statistics. Packets of payload types
// not in [Config.PayloadTypes] are dropped (a nil map accepts all, and
// [Received.PayloadType] says which). [Config.DisableJitterBuffer] hands
// packets out in arrival order at once, for a consumer with its own buffer.
//
// # Symmetric RTP
//
// With [Config.Symmetric] on (the default), once RTP packets come from an
// address other than the signalled one, the session sends there instead
// and reports [RemoteSourceChanged]. To resist a third party hijacking the
// stream with a stray packet, plain RTP latches after three consecutive
// in-sequence packets from the new address; SRTP, whose packets are
// authenticated, latches at once, and so does a session that has no
// signalled address yet (comedia). The RTCP destination follows RTCP
// packets the same way (or the latched RTP port plus one until RTCP
// arrives). [Session.ReceivedFrom] tells where the audio really comes from.
//
// # RTCP
//
// Sender or receiver reports with an SDES CNAME go out every
// [Config.RTCPInterval] on average (5 s, randomised in [0.5, 1.5] times as
// RFC 3550 section 6.3 asks); received reports give the round-trip time
// and the remote's view of our stream ([Stats]). Close sends a BYE.
// RTCP multiplexed on the RTP port (RFC 5761) is understood on reception.
//
// # Concurrency
//
// A session runs one receive goroutine per socket and one control
// goroutine (RTCP timer, DTMF pacing); [Session.Close] stops them all
// before it returns. No user code runs on them: events (DTMF digits, the
// first packet, latching, SSRC changes, BYE) are delivered on the bounded
// channel of [Session.Events], dropped and counted when the consumer falls
// behind, so a slow consumer never stalls reception. [Session.FirstPacket]
// is closed on the first packet, for "audio was received" and "no audio
// for N seconds" logic together with [Stats].
package rtp
