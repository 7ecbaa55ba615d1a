package interop

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
)

// recordingTB records Fatalf/Skipf and ends the calling goroutine, like
// the real ones; use it through run.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recordingTB) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with r on a goroutine of its own (so that Fatalf/Skipf can
// end it) and waits for it.
func (r *recordingTB) run(f func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}

func TestRequireMissingProgram(t *testing.T) {
	const prog = "no-such-interop-peer"
	t.Run("CI", func(t *testing.T) {
		t.Setenv("CI", "true")
		r := &recordingTB{TB: t}
		r.run(func(tb testing.TB) { Require(tb, prog) })
		if want := prog + " not installed; .ci/run installs it"; r.fatal != want || r.skip != "" {
			t.Fatalf("under CI: fatal %q, skip %q; want fatal %q", r.fatal, r.skip, want)
		}
	})
	t.Run("local", func(t *testing.T) {
		t.Setenv("CI", "")
		r := &recordingTB{TB: t}
		r.run(func(tb testing.TB) { Require(tb, prog) })
		if r.fatal != "" || !strings.Contains(r.skip, prog+" not installed") {
			t.Fatalf("without CI: fatal %q, skip %q; want a skip", r.fatal, r.skip)
		}
	})
}

func TestRequireFindsSbin(t *testing.T) {
	// kamailio is in /usr/sbin, which is searched even when not on $PATH.
	if _, err := LookPath("kamailio"); err != nil {
		if InCI() {
			t.Fatal("kamailio not installed; .ci/run installs it")
		}
		t.Skip("kamailio not installed")
	}
	t.Setenv("PATH", "/nonexistent")
	if p := Require(t, "kamailio"); !strings.HasSuffix(p, "/kamailio") {
		t.Fatalf("Require(kamailio) = %q", p)
	}
}

func TestFreePort(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		p := FreePort(t, network)
		if p <= 0 || p > 65535 {
			t.Fatalf("FreePort(%s) = %d", network, p)
		}
	}
	p := FreeUDPTCPPort(t)
	// Both must be bindable right now (nobody else races us in this test).
	c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
