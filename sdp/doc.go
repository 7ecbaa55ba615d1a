// Package sdp holds session descriptions (SDP, RFC 4566) as Go values and
// the offer/answer rules of RFC 3264 that a softphone needs to negotiate
// audio (RTP) and chat (MSRP) streams.
//
// It knows nothing of SIP, sessions or accounts: it turns bytes into a
// [Description] and back, and answers the questions an offer/answer exchange
// asks (which codecs do we have in common, which direction do we answer,
// did the peer put us on hold, how is a stream declined, when does our o=
// version change). The session layer above decides what to do with the
// answers.
//
// The grammar is github.com/pion/sdp/v3's. [Parse] puts a tolerant pre-pass in
// front of it for what real phones send: LF-only or CR-only line ends,
// trailing blanks, blank lines, a missing s= or t= line, session-level lines
// out of order (c= after t=), lower-case "in"/"ip4", media types and
// transport protocols pion does not list (m=image ... udptl t38, m=application
// ... udp wb). Unknown attributes and media types are kept as they are, in
// order, so an m=message ... TCP/MSRP * stream with its a=path, a=accept-types
// and a=accept-wrapped-types survives a Parse/Marshal round trip.
//
// What Parse models: o=, s=, c= (session and media), b=, m= and a= lines;
// for RTP streams the payload types resolved into [Codec] values from
// a=rtpmap, a=fmtp and the static table of RFC 3551, the direction
// (a=sendrecv, a=sendonly, a=recvonly, a=inactive), a=ptime, a=maxptime,
// a=rtcp (RFC 3605) and a=crypto (SDES, RFC 4568). The i=, u=, e=, p=, r=,
// z= and k= lines are accepted and dropped; t= is accepted and always
// written back as "t=0 0", which is what SIP uses (RFC 3264 section 5).
//
// Offer/answer helpers: [NegotiateCodecs] (the answer keeps the offerer's
// payload type numbers), [AnswerDirection], [Media.Hold], [Media.Rejected],
// [RejectMedia], [Description.RemoveMedia], [Description.AddMedia],
// [ValidateAnswer], [ValidateReoffer], and [Local], which keeps our o= line
// across a dialog and bumps its version only when the description changed.
//
// For MSRP streams (m=message ... TCP/MSRP or TCP/TLS/MSRP, RFC 4975),
// [ParseMSRP] reads a=path, a=accept-types, a=accept-wrapped-types,
// a=max-size, a=setup and the RFC 5547 file-transfer attributes
// (a=file-selector via [ParseFileSelector], a=file-transfer-id,
// a=file-disposition, a=file-date, a=file-icon, a=file-range) into an
// [MSRPMedia], [MSRPMedia.Media] builds the m= section back, and
// [AnswerSetup] picks the TCP connection roles (RFC 4145, RFC 6135). MSRP
// URIs stay strings here: the sdp package does not import msrp.
package sdp
