package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/session"
)

// endTimeout bounds the wait for a call to end once hung up; cancelWait
// that for a call not answered yet.
const (
	endTimeout = 10 * time.Second
	cancelWait = 2 * time.Second
)

func newCallCommand(g *globals) *cobra.Command {
	var accountID, route, srtp string
	var media mediaOptions
	var duration, timeout time.Duration
	cmd := &cobra.Command{
		Use:   "call URI",
		Short: "Call URI with audio and print the call's notifications (exit 0 when it was established and ended normally)",
		Long: `Call URI (a SIP URI such as sip:alice@example.com or sip:127.0.0.1:5060) with audio
and print every notification of the call. The call ends when the remote party
hangs up, after --duration once established, on 'q' in interactive mode, or
on SIGINT/SIGTERM (BYE, or CANCEL before it is answered).

Exit codes: 0 the call was established and ended normally; 1 it failed (the
code and reason are printed, e.g. "486 Busy Here"); 2 a bad argument.

--account defaults to the account matching URI, else the default account;
with none configured, a userless local account on the engine's transport.
--srtp off makes the account not use SRTP for this call only (the account's
settings are not saved); optional offers SRTP, mandatory requires it.

` + interactiveHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCall(cmd, g, args[0], accountID, route, srtp, media, duration, timeout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&accountID, "account", "", "account to call from (default: the one matching URI, else the default, else a local account)")
	f.StringVar(&route, "route", "", "send the INVITE to this proxy (a SIP URI or HOST[:PORT][;transport=T]) instead of looking URI up")
	f.StringVar(&media.play, "play", "", "play this WAV file to the remote party once the call is established")
	f.BoolVar(&media.record, "record", false, "record the call (to the recordings directory, default file name)")
	f.StringVar(&media.dtmf, "dtmf", "", "send these DTMF digits (0-9 * # A-D) once the call is established")
	f.DurationVar(&duration, "duration", 0, "hang up this long after the call is established (e.g. 30s)")
	f.DurationVar(&timeout, "timeout", 0, "give up when the call is not answered within this long (default: the sip.invite_timeout setting)")
	f.StringVar(&srtp, "srtp", "", "SRTP: off, optional or mandatory (default: the account's rtp.srtp)")
	addInteractiveFlag(cmd)
	return cmd
}

func runCall(cmd *cobra.Command, g *globals, target, accountID, route, srtp string, media mediaOptions, duration, timeout time.Duration) error {
	callee, routes, err := parseTarget(target, route)
	if err != nil {
		return err
	}
	if duration < 0 {
		return usageError(fmt.Errorf("--duration %v: must not be negative", duration))
	}
	if timeout < 0 {
		return usageError(fmt.Errorf("--timeout %v: must not be negative", timeout))
	}
	rc, err := parseSRTP(srtp)
	if err != nil {
		return err
	}
	if err := media.validate(); err != nil {
		return err
	}
	inter, _ := cmd.Flags().GetBool("interactive")
	inter = interactive(cmd, inter)

	ctx, stop := runContext(cmd.Context(), 0)
	defer stop()
	app, err := startAppMedia(cmd.Context(), g, &session.MediaConfig{RTP: rc})
	if err != nil {
		return err
	}
	stopTimeout := endTimeout
	defer func() {
		sctx, c := context.WithTimeout(context.Background(), stopTimeout)
		defer c()
		app.Stop(sctx)
	}()
	a, err := outgoingAccount(app.Accounts(), accountID, callee)
	if err != nil {
		return err
	}
	if srtp == "off" {
		if app.Settings().RTP.UseSRTP.Get() {
			// The session manager took it at start: a MediaConfig cannot
			// say "no SRTP" (its zero value defers to the settings).
			return usageError(errors.New("--srtp off: the setting rtp.use_srtp offers SRTP on every call " +
				"('sipsimple settings set rtp.use_srtp false' turns it off)"))
		}
		restore, err := disableSRTP(a)
		if err != nil {
			return err
		}
		defer restore()
	}

	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ph := newPhone(app, newPrinter(out, g.json), errOut, media)
	s, err := app.Sessions().NewSession(a)
	if err != nil {
		return failure(err)
	}
	c := ph.add(s)
	if err := ph.observeCalls(s, false); err != nil {
		return failure(err)
	}
	defer app.Notifications().PurgeObserver(ph)
	var cmds <-chan string
	if inter {
		fmt.Fprintln(errOut, "interactive mode: '?' lists the commands")
		cmds = readCommands(os.Stdin)
	}
	if err := s.Connect(ctx, callee, routes, true, false); err != nil {
		select { // a failure after the INVITE was built is also notified
		case <-c.done:
		case <-time.After(time.Second):
		}
		return failure(fmt.Errorf("call to %s: %v", callee, err))
	}

	established := c.established
	interrupted := ctx.Done()
	var hangUpTimer, answerTimer, endDeadline <-chan time.Time
	if timeout > 0 {
		answerTimer = time.After(timeout)
	}
	var noAnswer, cancelled bool
	hangUp := func() {
		if endDeadline == nil {
			// A call not answered ends at once on CANCEL; one that got no
			// response at all may not end before the INVITE transaction
			// times out (32 s): do not wait for that.
			d := cancelWait
			if established == nil {
				d = endTimeout
			}
			endDeadline = time.After(d)
		}
		if st := s.State(); st != session.StateTerminating && st != session.StateTerminated {
			if err := s.End(false); err != nil {
				fmt.Fprintf(errOut, "hang up: %v\n", err)
			}
		}
	}
	// notAnswered names why a call that was never established ended.
	notAnswered := func(cause string) error {
		if noAnswer {
			return failure(fmt.Errorf("call to %s: no answer within %v%s", callee, timeout, cause))
		}
		if cancelled {
			return failure(fmt.Errorf("call to %s: cancelled before it was answered%s", callee, cause))
		}
		return nil
	}
wait:
	for {
		select {
		case <-c.done:
			break wait
		case <-established:
			established, answerTimer = nil, nil
			if duration > 0 {
				hangUpTimer = time.After(duration)
			}
		case <-answerTimer:
			answerTimer, noAnswer = nil, true
			hangUp()
		case <-hangUpTimer:
			hangUpTimer = nil
			hangUp()
		case <-interrupted:
			interrupted = nil
			cancelled = established != nil
			hangUp()
		case line, ok := <-cmds:
			if !ok {
				cmds = nil
				continue
			}
			if line == "q" { // hang up, bounded like the other ways
				cancelled = established != nil
				hangUp()
				continue
			}
			ph.command(line)
		case <-endDeadline:
			stopTimeout = time.Second // the INVITE transaction would hold the stop up
			if err := notAnswered(""); err != nil {
				return err
			}
			return failure(fmt.Errorf("call to %s: it did not end within %v of hanging up", callee, endTimeout))
		}
	}
	switch {
	case c.wasEstablished:
		return nil
	case c.failed && c.code != 0:
		if err := notAnswered(fmt.Sprintf(" (%d %s)", c.code, c.reason)); err != nil {
			return err
		}
		return failure(fmt.Errorf("call to %s failed: %d %s", callee, c.code, c.reason))
	case c.failed:
		if err := notAnswered(" (" + c.reason + ")"); err != nil {
			return err
		}
		return failure(fmt.Errorf("call to %s failed: %s", callee, c.reason))
	}
	return failure(fmt.Errorf("call to %s ended before it was established", callee))
}

// outgoingAccount picks the account of a call or request to target: id
// when given, else the account matching target (or the default one), else
// a userless local account on the transport target needs.
func outgoingAccount(mgr *account.Manager, id string, target core.SIPURI) (*account.Account, error) {
	if id != "" {
		a, err := mgr.Account(id)
		if err != nil {
			return nil, usageError(fmt.Errorf("--account: %w ('sipsimple account list' shows them)", err))
		}
		if !a.Enabled.Get() {
			return nil, usageError(fmt.Errorf("--account %s: the account is disabled ('sipsimple account set %s enabled true')", id, id))
		}
		return a, nil
	}
	a := mgr.FindForOutgoing(target.String())
	if a != nil && !a.IsBonjour() {
		return a, nil
	}
	transport := target.Transport()
	if transport == "" {
		transport = "udp"
	}
	a, err := mgr.AddLocal(transport)
	if err != nil {
		if errors.Is(err, core.ErrEngineNotRunning) {
			return nil, failure(err)
		}
		return nil, usageError(fmt.Errorf("URI %s: %v", target, err))
	}
	return a, nil
}

// parseTarget parses the URI argument and the --route option of call and
// chat (usage errors).
func parseTarget(target, route string) (core.SIPURI, []core.Route, error) {
	callee, err := core.ParseSIPURI(target)
	if err != nil {
		return callee, nil, usageError(fmt.Errorf("URI %q: %v", target, err))
	}
	if route == "" {
		return callee, nil, nil
	}
	r, err := core.ParseRoute(route)
	if err != nil {
		return callee, nil, usageError(fmt.Errorf("--route %q: %v", route, err))
	}
	return callee, []core.Route{r}, nil
}
