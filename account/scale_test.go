package account_test

import (
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/bench"
)

// TestScaleRegister1000 registers 1,000 accounts at once against Kamailio:
// every account must post SIPAccountRegistrationDidSucceed, and stopping
// the Manager must unregister every one (SIPAccountRegistrationDidEnd with
// code 200). It runs in CI (Kamailio missing fails it under CI=true); the
// figures for 1,000 and 10,000 accounts are in docs/benchmarks.md
// ("Registration at scale", commands in bench/README.md).
func TestScaleRegister1000(t *testing.T) {
	res := bench.RunRegistrationScale(t, bench.ScaleConfig{Accounts: 1000, Deadline: 90 * time.Second})
	t.Log(res)
}

// TestRegistrationsQueueForASlot registers 30 accounts with room for one
// REGISTER in flight: they queue for the slot, and every registration and
// unregistration still succeeds.
func TestRegistrationsQueueForASlot(t *testing.T) {
	res := bench.RunRegistrationScale(t, bench.ScaleConfig{Accounts: 30, MaxInFlight: 1, Deadline: 60 * time.Second})
	t.Log(res)
}
