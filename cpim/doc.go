// Package cpim builds and parses Message/CPIM bodies (RFC 3862), the
// envelope SIP SIMPLE chat clients wrap around instant messages: MSRP chat
// sessions (RFC 4975) and SIP MESSAGE requests carry them with the content
// type "message/cpim" ([MediaType]).
//
// A message/cpim body has three parts, separated by blank lines:
//
//	From: "Alice" <sip:alice@example.com>     CPIM message headers
//	To: <sip:bob@example.com>
//	DateTime: 2009-06-01T12:00:00Z
//	NS: imdn <urn:ietf:params:imdn>
//	imdn.Message-ID: 34jk324j
//
//	Content-Type: text/plain; charset=utf-8   MIME headers of the content
//
//	Hello                                     content (opaque bytes)
//
// [Message] holds such a body as Go values. [Message.Marshal] writes it in
// the layout above, with CRLF line ends; [Parse] reads it back. The package
// knows nothing about MSRP, SIP transactions, sessions or accounts: it turns
// bytes into a Message and back, and the transport that carries the bytes
// (chunking, reports, Content-Type of the request) is someone else's job. Nor
// does it interpret the content: is-composing (RFC 3994), IMDN (RFC 5438) or
// multipart documents are left to their own packages.
//
// # Header values
//
// The CPIM headers From, To, cc, DateTime, Subject and NS have their own
// fields; every other CPIM header (Require, extension headers such as
// imdn.Message-ID) is kept in [Message.Headers] in order, with its namespace
// prefix. Values in a Message are the logical (unescaped) text: Marshal
// applies the backslash escapes of RFC 3862 (a backslash, control
// characters and, in quoted display names, a double quote) and Parse decodes
// them. Marshal refuses, with an error naming the header, anything that could
// break the framing: CR or LF in any value (even though RFC 3862 could
// escape them, they are treated as header injection), header names outside
// the RFC 3862 NAMECHAR set, a namespace prefix with no NS declaration, and
// MIME headers placed among the CPIM headers. Such errors wrap [ErrInvalid].
//
// # Parsing
//
// Parse accepts CRLF or bare LF line ends and unfolds folded header lines. It
// is tolerant of the deviations found in the RFCs and in deployed clients:
//
//   - an outer MIME header block ("Content-Type: message/cpim", blank line)
//     in front of the CPIM headers, as RFC 3862 section 5 prints it, is
//     skipped;
//   - MIME headers (Content-*, MIME-Version) inside the CPIM header block,
//     with no blank line between the CPIM and MIME headers, as printed by
//     RFC 5438 and RFC 4975: they are taken as the content's MIME headers
//     and everything after the blank line is the content;
//   - a missing space after the colon, lower-case "t" and "z" in DateTime.
//
// Everything else that is malformed is an error wrapping [ErrMalformed] that
// names the line and the header: a header with no colon, an address without
// <URI>, an unparsable DateTime, a repeated From or DateTime, a missing blank
// line. Parse never panics, and bounds its work: at most [MaxHeaders] headers
// and lines of at most [MaxLineLength] octets.
//
// This package is hand-written because no maintained Go library implements
// Message/CPIM; it follows RFC 3862 and stays wire compatible with
// python-sipsimple's CPIMPayload.
package cpim
