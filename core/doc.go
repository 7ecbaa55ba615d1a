// Package core is the SIP layer of the SDK (python-sipsimple's core): the
// Engine, which owns the transports and transactions of one application,
// and the SIP value types (SIPURI, Route, Credentials) that the layers above
// pass around.
//
// It is built on github.com/emiago/sipgo for parsing, transports,
// transactions and digest authentication. Its own parts are those sipgo
// lacks: screening of malformed input (answered 400 or dropped, never a
// panic), per-application listeners and request dispatch, the OPTIONS
// answer, and the SIP trace (SIPEngineSIPTrace notifications and a trace
// file).
//
// The package knows nothing of accounts, sessions or settings: the
// application maps its settings onto an EngineConfig. Note that sipgo's
// transaction timers (T1, T2, T4) are package globals shared by every
// Engine in a process.
package core
