package interop

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

const (
	// stopGrace is how long a peer gets to exit after SIGTERM.
	stopGrace = 5 * time.Second
	// killWait bounds the wait after SIGKILL.
	killWait = 5 * time.Second
)

// process is a peer program running in the foreground as our child, in its
// own process group.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *Output
	done chan struct{} // closed when cmd.Wait has returned
	err  error         // cmd.Wait's error, valid after done
}

// startProcess starts cmd with stdout and stderr going to out.
//
// The child gets its own process group, so that stop can kill it together
// with any processes it forked (Kamailio forks its workers), and
// PR_SET_PDEATHSIG=SIGTERM, so that it is told to exit even if the test
// binary dies without running its cleanups (for instance on a go test
// timeout). Linux ties PDEATHSIG to the thread that forked the child, so the
// child is started and waited for on a goroutine locked to its thread for
// the child's whole life.
func startProcess(name string, cmd *exec.Cmd, out *Output) (*process, error) {
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	// If a grandchild keeps the output pipe open after the child exited,
	// don't let Wait hang for ever.
	cmd.WaitDelay = 2 * time.Second
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, which is
		// after the child has been reaped.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitCode returns the exit code once the process has exited (-1 if it was
// killed by a signal), and false while it is running.
func (p *process) exitCode() (int, bool) {
	if !p.exited() {
		return 0, false
	}
	if p.cmd.ProcessState == nil {
		return -1, true
	}
	return p.cmd.ProcessState.ExitCode(), true
}

// signal sends sig to the process (not its group).
func (p *process) signal(sig syscall.Signal) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM (repeated every 250ms, to the process group), waits up
// to stopGrace, then SIGKILLs the whole process group and waits again. It is idempotent and always bounded in time.
func (p *process) stop() error {
	if !p.exited() {
		// SIGTERM goes to the main process first, then every 250ms to
		// the whole process group: Kamailio's main process acts on a
		// signal in its pause() loop, so a SIGTERM that arrives while it
		// is still forking its workers (just after start-up) waits for
		// the next signal; and a worker that was forked too late to get
		// main's SIGTERM would keep main waiting for it.
		grace := time.NewTimer(stopGrace)
		defer grace.Stop()
		resend := time.NewTicker(250 * time.Millisecond)
		defer resend.Stop()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	wait:
		for {
			select {
			case <-p.done:
				break wait
			case <-grace.C:
				break wait
			case <-resend.C:
				_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
			}
		}
	}
	pgid := p.cmd.Process.Pid
	// Kill what is left of the group: the main process if it ignored
	// SIGTERM, and any worker that outlived it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(killWait):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
	}
	return nil
}

// waitErr returns the error of cmd.Wait, without the exec.ExitError noise
// for a process we stopped ourselves.
func (p *process) waitErr() error {
	<-p.done
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return nil
	}
	return p.err
}

// registerCleanup stops the process at the end of the test and, if the
// test failed, appends the process output to the test log.
func (p *process) registerCleanup(t testing.TB) {
	t.Cleanup(func() {
		start := time.Now()
		if err := p.stop(); err != nil {
			t.Errorf("interop: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("interop: %s (pid %d) took %v to stop", p.name, p.cmd.Process.Pid, d.Round(time.Millisecond))
		}
		if t.Failed() {
			t.Logf("---- %s output (pid %d) ----\n%s\n---- end of %s output ----",
				p.name, p.cmd.Process.Pid, p.out.Tail(256<<10), p.name)
		}
	})
}
