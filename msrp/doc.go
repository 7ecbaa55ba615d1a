// Package msrp is the wire layer of the Message Session Relay Protocol
// (MSRP, RFC 4975): MSRP URIs, the message model, a writer that produces
// the exact wire form, a streaming frame reader, and the chunking and
// reassembly of large messages. It is usable on its own, by anything that
// has a byte stream carrying MSRP.
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
// What it must not know about: SIP, SDP offer/answer (the a=path and
// a=accept-types attributes are the sdp package's business), and the
// sessions of the middleware. Connections (TCP, TLS), the connection
// setup roles of RFC 6135, relays and AUTH (RFC 4976), transaction
// timeouts, and deciding which report or response to send belong to the
// transport and session layers built on top of these types.
//
// Why the package is ours: no maintained Go MSRP library is good enough.
// What exists is abandoned or incomplete: it frames by Byte-Range or
// buffers whole messages, cannot stream a chunk body to disk, has no
// limits against a hostile peer, or does not reassemble interleaved and
// aborted messages. MSRP's wire format is small enough that owning it
// costs less than working around someone else's.
package msrp
