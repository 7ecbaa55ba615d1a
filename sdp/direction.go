package sdp

import (
	"strconv"
	"strings"
)

// Direction is a stream's direction attribute (RFC 4566 section 6, RFC 3264
// section 5.1), seen from the party that wrote the description. The zero
// value is SendRecv, the default when a description has no direction
// attribute.
type Direction uint8

// The four directions.
const (
	SendRecv Direction = iota // a=sendrecv: send and receive (the default)
	SendOnly                  // a=sendonly: send only (e.g. music on hold)
	RecvOnly                  // a=recvonly: receive only
	Inactive                  // a=inactive: neither
)

var directionNames = [...]string{
	SendRecv: "sendrecv",
	SendOnly: "sendonly",
	RecvOnly: "recvonly",
	Inactive: "inactive",
}

// String returns the attribute name: "sendrecv", "sendonly", "recvonly" or
// "inactive".
func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// ParseDirection returns the direction named s ("sendrecv", "sendonly",
// "recvonly", "inactive", compared case-insensitively).
func ParseDirection(s string) (Direction, bool) {
	for d, name := range directionNames {
		if strings.EqualFold(s, name) {
			return Direction(d), true
		}
	}
	return SendRecv, false
}

// Sends reports whether the party that wrote d sends media (sendrecv or
// sendonly).
func (d Direction) Sends() bool {
	return d == SendRecv || d == SendOnly
}

// Receives reports whether the party that wrote d receives media (sendrecv or
// recvonly).
func (d Direction) Receives() bool {
	return d == SendRecv || d == RecvOnly
}

// directionOf builds a direction from its two halves.
func directionOf(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	default:
		return Inactive
	}
}

// AnswerDirection returns the direction to put in the answer to a stream
// offered with direction offered, when the local side wants local (RFC 3264
// section 6.1): we send only if the offerer receives and we want to send,
// and receive only if the offerer sends and we want to receive. So an
// offered sendonly is answered recvonly (inactive if local is sendonly or
// inactive), recvonly is answered sendonly (or inactive), inactive is
// answered inactive, and sendrecv is answered with local.
func AnswerDirection(offered, local Direction) Direction {
	return directionOf(offered.Receives() && local.Sends(), offered.Sends() && local.Receives())
}
