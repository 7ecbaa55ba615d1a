package session

import "time"

// Notification names posted by a Session (the sender), as in seed 000.
const (
	ChangedState            = "SIPSessionChangedState"
	NewIncoming             = "SIPSessionNewIncoming"
	NewOutgoing             = "SIPSessionNewOutgoing"
	GotRingIndication       = "SIPSessionGotRingIndication"
	WillStart               = "SIPSessionWillStart"
	DidStart                = "SIPSessionDidStart"
	DidFail                 = "SIPSessionDidFail"
	WillEnd                 = "SIPSessionWillEnd"
	DidEnd                  = "SIPSessionDidEnd"
	GotHoldRequest          = "SIPSessionGotHoldRequest"
	GotUnholdRequest        = "SIPSessionGotUnholdRequest"
	WillStartRecordingAudio = "SIPSessionWillStartRecordingAudio"
	DidStartRecordingAudio  = "SIPSessionDidStartRecordingAudio"
	WillStopRecordingAudio  = "SIPSessionWillStopRecordingAudio"
	DidStopRecordingAudio   = "SIPSessionDidStopRecordingAudio"
	GotNoAudio              = "SIPSessionGotNoAudio"
	GotDTMF                 = "SIPSessionGotDTMF"
	GotStreamProposal       = "SIPSessionGotStreamProposal"
	AcceptedStreamProposal  = "SIPSessionAcceptedStreamProposal"
	RejectedStreamProposal  = "SIPSessionRejectedStreamProposal"
	GotStreamUpdate         = "SIPSessionGotStreamUpdate"
	GotMessage              = "SIPSessionGotMessage"
	DidDeliverMessage       = "SIPSessionDidDeliverMessage"
	DidNotDeliverMessage    = "SIPSessionDidNotDeliverMessage"
	ManagerDidStart         = "SIPSessionManagerDidStart"
	ManagerDidEnd           = "SIPSessionManagerDidEnd"
)

const (
	originatorLocal = "local"
	origRemote      = "remote"
)

// State is a Session's state (seed 000).
type State string

// The states of a Session.
const (
	StateNull        State = "NULL"
	StateCalling     State = "CALLING"
	StateIncoming    State = "INCOMING"
	StateAccepting   State = "ACCEPTING"
	StateEstablished State = "ESTABLISHED"
	StateProposing   State = "PROPOSING"
	StateProposed    State = "PROPOSED"
	StateTerminating State = "TERMINATING"
	StateTerminated  State = "TERMINATED"
)

// Every notification's data carries the time it was posted, as the seed's
// timestamp attribute.

// ChangedStateData is the data of SIPSessionChangedState.
type ChangedStateData struct {
	Timestamp time.Time
	PrevState State
	State     State
}

// StreamsData is the data of SIPSessionNewIncoming and NewOutgoing: the
// stream types proposed ("audio", "chat").
type StreamsData struct {
	Timestamp time.Time
	Streams   []string
}

// TimestampData is the data of notifications that carry only the time
// (GotRingIndication, WillStart, DidStart, WillEnd, GotNoAudio).
type TimestampData struct {
	Timestamp time.Time
}

// DidFailData is the data of SIPSessionDidFail. Code 0 is an internal
// error; it is always followed by SIPSessionDidEnd.
type DidFailData struct {
	Timestamp  time.Time
	Originator string
	Code       int
	Reason     string
}

// OriginatorData is the data of SIPSessionDidEnd, GotHoldRequest and
// GotUnholdRequest.
type OriginatorData struct {
	Timestamp  time.Time
	Originator string
}

// RecordingData is the data of the recording notifications.
type RecordingData struct {
	Timestamp time.Time
	FileName  string
}

// DTMFData is the data of SIPSessionGotDTMF.
type DTMFData struct {
	Timestamp time.Time
	Digit     rune
}

// ProposalData is the data of SIPSessionGotStreamProposal.
type ProposalData struct {
	Timestamp time.Time
	Proposer  string
	Streams   []string
}

// ProposalResultData is the data of SIPSessionAcceptedStreamProposal and
// RejectedStreamProposal.
type ProposalResultData struct {
	Timestamp time.Time
	Proposer  string
	Reason    string // rejected only
}
