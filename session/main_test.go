package session_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that stopped Applications leave no goroutine behind
// (RTP sessions, mixers, timers, observers).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
