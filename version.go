// Package sipsimple is the root of sipsimple-go, a Go SDK for SIP user
// agents with the middleware API of the SIP SIMPLE client SDK and the
// account model of PJSUA.
//
// The SDK is split into packages by domain: notification (the notification
// bus), configuration (typed settings and their storage), application (the
// Application that owns and starts everything). This package only holds the
// version.
package sipsimple

// Version is the SDK's version, used in the default User-Agent.
const Version = "0.1.0"
