// Package sipcheck holds the message checks the SIP Engine runs in front of
// sipgo, so that it copes with malformed or hostile SIP messages (the RFC 4475
// and RFC 5118 torture tests) and never drops bad requests without an answer.
//
// sipgo's parser (github.com/emiago/sipgo/sip) logs and drops messages it
// cannot parse, so a client never hears why its request went unanswered, and
// it accepts some messages that RFC 3261 calls invalid. This package closes
// both gaps in two stages:
//
//   - [Datagram] runs on every received UDP datagram before sipgo sees it. It
//     ignores keep-alives, frames the message by Content-Length (RFC 3261
//     18.3), checks the rules that can only be seen in the raw bytes (bare LF
//     line ends, display names, unbracketed URIs with '?', conflicting
//     Content-Length) and tries sipgo's parser. A request that fails gets a
//     ready-made stateless error response to send back; a response that
//     fails, or anything not answerable, is dropped. It rewrites the From
//     and To header parameters of valid messages sipgo would mishandle (LWS
//     around '=', an RFC 2543 From without tag; [RestoreFromTag] undoes
//     the latter after parsing).
//   - [Request] runs on every request sipgo parsed, before it reaches a
//     handler, and returns the error status RFC 3261 section 8.2 prescribes
//     (400, 405, 415, 416, 420, 501, 505, ...); [ErrorResponse] builds that
//     response with the headers the RFC requires (Allow, Unsupported,
//     Accept). [Response] tells which received responses to discard.
//
// The package is stateless and knows nothing of accounts, registrations,
// dialogs or sessions: what the element supports (methods, option tags,
// content types) is passed in [RequestOptions]. All functions are safe for
// concurrent use and never panic, whatever the input.
//
// # Wiring into sipgo
//
// sipgo does not let a caller inject an already parsed message into its
// transport or transaction layer (TransportLayer.handleMessage and
// TransactionLayer.handleMessage are unexported, and the transport layer
// takes a concrete *sip.Parser), so the bytes [Datagram] accepts are parsed a
// second time by sipgo. Datagram therefore returns bytes, not a parsed
// message. Two ways to put it in front of sipgo's UDP transport:
//
//   - wrap the net.PacketConn given to TransportLayer.ServeUDP: ReadFrom
//     loops on the inner connection, calls Datagram, writes the reply with
//     WriteTo to the source on [Reply], and returns msg (copied into the
//     caller's buffer, which is sip.TransportBufferReadSize = 32768 bytes) on
//     [Accept];
//   - or use sip.WithTransportLayerReadFilter (sipgo >= 1.7): the filter gets
//     the datagram and the remote address and returns the bytes to parse (nil
//     or empty drops them). The filter also sees TCP/TLS/WS reads, which are
//     arbitrary stream chunks: it must only apply Datagram when
//     info.Transport == "UDP". It must never return an error: sipgo stops
//     reading the socket when a filter fails.
package sipcheck
