// Package payloads builds and parses the bodies SIP SIMPLE carries: PIDF
// presence documents (RFC 3863) with the RPID activities and note of
// RFC 4480, content type application/pidf+xml, and is-composing
// indications (RFC 3994), application/im-iscomposing+xml.
//
// It knows nothing of accounts, sessions or the SIP stack: it turns Go
// values into bytes and back, so it can be used on its own.
package payloads
