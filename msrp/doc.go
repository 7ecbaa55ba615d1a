// Package msrp implements the Message Session Relay Protocol (MSRP, RFC
// 4975): the wire layer (MSRP URIs, the message model, a writer that
// produces the exact wire form, a streaming frame reader, and the
// chunking and reassembly of large messages), usable on its own by
// anything that has a byte stream carrying MSRP, and the connection and
// session layer built on it (TCP and TLS connections, sessions,
// transactions and reports).
//
// What it covers:
//
//   - [URI], [ParseURI] and URI equality (RFC 4975 sections 6 and 6.1),
//     msrp: and msrps: schemes, userinfo, IPv6 literals, the transport
//     and any further URI parameters.
//   - [Message]: requests (SEND, REPORT, AUTH of RFC 4976, and any other
//     method) and responses with their header fields, body and
//     continuation flag; [Message.Marshal] and [Message.AppendTo] write
//     the wire form and refuse a body that contains its own end-line
//     (RFC 4975 section 7.1); [NewResponse] and [NewReport] build the
//     answers of sections 7.2 and 7.1.2.
//   - [Reader]: reads one frame at a time from any io.Reader, framing by
//     the end-line only (never by Byte-Range), with limits on the header
//     block and on buffered bodies, and a hook ([ReaderOptions].BodyWriter)
//     that streams a chunk body out as it arrives instead of buffering it.
//     Malformed input yields a [*ProtocolError] that says which status
//     code to answer and whether framing was lost.
//   - [Chunker] splits a body into SEND chunks with Byte-Range; the
//     [Reassembler] puts chunks of interleaved messages back together, in
//     memory or into an io.WriterAt (a file), within limits.
//
// On top of the wire layer, the connection and session layer:
//
//   - [Session]: one MSRP session with its own URI (random session-id)
//     and one TCP or TLS connection, set up per RFC 4975 section 8 and
//     RFC 6135: the active side calls [Session.Connect] (it dials the
//     remote path's first hop and binds with an empty SEND), the passive
//     side, created on a [Listener], calls [Session.Accept].
//     [Session.Send] queues a message without blocking, chunks it, tracks
//     each chunk's transaction (30 s timeout, 408) and reports exactly one
//     outcome per message, [Delivered] or [NotDelivered], on the [Session.Events]
//     channel, along with [Connected], [Received] (reassembled, 200 and
//     success REPORTs sent as asked, 415 for types not accepted, 501 for
//     unknown methods) and [Closed]. A slow event consumer never blocks
//     the network goroutines: past a bound, the session closes with
//     [ErrEventOverflow], still reporting every outcome.
//   - Large messages (file transfer, RFC 5547) both ways with memory
//     independent of their size: an [OutgoingMessage] streams from an
//     io.Reader, one chunk in memory at a time, in chunks as large as
//     its ChunkSize (64 KiB or more for files; the default 2048 suits
//     chat); an incoming message goes, when [SessionConfig].Storage
//     gives an io.WriterAt for it (a file), from the connection to the
//     WriterAt as its chunk bodies arrive, never held whole, bounded by
//     MaxStoredMessageSize (MaxMessageSize bounds messages in memory),
//     and comes as [Received] with Storage and Size, or, when its sender
//     aborts it or the session ends first, as [ReceiveAborted] with
//     what arrived (to resume or delete it). A Storage error refuses
//     the message with 413 (or the code of a [*StatusError]).
//     [SendProgress] and [ReceiveProgress] report progress at most every
//     ProgressInterval per message, in room of their own in the event
//     queue: dropped, never causing an overflow.
//   - [Listener]: accepts connections and binds each to the session its
//     first request's To-Path names, answering 481 to unknown sessions
//     and closing connections that do not bind in time.
//   - Relays (RFC 4976): [Session.ConnectRelay] connects to a relay and
//     reserves a session there with AUTH (digest with the [Relay]'s
//     credentials, Expires, renewed before it ends); [Session.Path] is
//     then the relay's Use-Path and the session's URI, for the SDP, and
//     Connect or Accept send every request through the relay, in chunks
//     of at most [RelayChunkSize].
//   - Keep-alives: with SessionConfig.KeepAlive, an empty SEND over a
//     connection idle that long; no answer ends the session.
//   - Resume: OutgoingMessage.Offset sends a message from where the
//     receiver stopped, whose [ResumedStorage] already holds the first
//     octets; [Session.Request] and SessionConfig.OnRequest carry
//     extension requests such as python-sipsimple's FILE_OFFSET, which
//     tells the sender that offset.
//   - SessionConfig.Check vets complete messages before they are
//     answered, so that content the application cannot use is refused
//     (400, failure REPORT) rather than acknowledged and dropped.
//
// Each connection has a reader and a writer goroutine, each connected
// session a sender and a timer goroutine (and a keep-alive and a relay
// renewal goroutine when used); Close stops them all. A connection a
// Listener accepted carries every session the peer binds over it (RFC
// 4975 section 8.1: a relay sends the requests of many sessions over its
// one connection to us); it closes when its last session does. Not
// covered yet: reusing a connection we dialled for another session we
// start (a MAY in section 8.1: each Connect dials its own), more than one
// relay of our own per session, failure REPORTs from the
// receiving side, interleaving the chunks of several outgoing messages
// (the sender sends one message after the other, so a chat message
// waits behind a file sent on the same session), a timeout for incoming
// messages whose chunks stop coming on a live connection.
//
// What it must not know about: SIP, SDP offer/answer (the a=path and
// a=accept-types attributes are the sdp package's business; the session
// takes them as []URI and []string), and the sessions of the middleware.
//
// Why the package is ours: no maintained Go MSRP library is good enough.
// What exists is abandoned or incomplete: it frames by Byte-Range or
// buffers whole messages, cannot stream a chunk body to disk, has no
// limits against a hostile peer, or does not reassemble interleaved and
// aborted messages. MSRP's wire format is small enough that owning it
// costs less than working around someone else's.
package msrp
