// Package interop is test support only: it starts real, independent SIP
// peers on the loopback interface so that tests can check sipsimple-go
// against them. It is not part of the SDK and must only be imported from
// _test.go files.
//
// The peers are:
//
//   - Kamailio (StartKamailio): registrar with digest authentication and a
//     record-routing proxy between registered users, configured from
//     testdata/kamailio.cfg.tmpl without any database.
//   - SIPp (RunSIPp): scenario-driven UAC/UAS for protocol edge cases and
//     load.
//   - baresip (StartBaresip): an independent user agent, controlled over its
//     ctrl_tcp JSON interface.
//
// Every peer binds 127.0.0.1 only, runs in the foreground as a child of the
// test process (in its own process group, so that it and all its children
// are killed on cleanup), and has its output captured and appended to the
// test log when the test fails.
//
// When a program is missing the test is skipped, except under CI=true, where
// it fails: .ci/run installs the peers (see Require).
//
// Ports: Kamailio, SIPp and baresip take their ports on the command line or
// in their configuration, so the harness picks free ports (FreePort) and
// starts again with new ones if a peer reports "address already in use".
// Readiness is observed, never slept for: an OPTIONS answered (Kamailio), a
// socket bound (SIPp), "baresip is ready." plus a control connection
// (baresip).
//
// Debugging: a failing test shows each peer's output; set
// INTEROP_KAMAILIO_LOG=debug for Kamailio's debug log, or SIPpOptions
// TraceMessages for SIPp's message log.
package interop
