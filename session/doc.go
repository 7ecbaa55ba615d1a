// Package session is seed 000's Session and SessionManager: calls between
// SIP user agents with an audio stream (RTP/SRTP) and, later, a chat stream
// (MSRP), their offer/answer (RFC 3264), hold, DTMF, recording and stream
// proposals, reported through the SIPSession* notifications.
//
// A Session sits on a core.Invitation (the INVITE dialog usage) and an
// account.Account (identity, routes, credentials); its streams sit on the
// rtp and audio packages. The package knows nothing of the command line or
// of how the application presents calls: it posts notifications and takes
// method calls, from any goroutine.
package session
