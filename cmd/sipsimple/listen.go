package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/notification"
)

func newListenCommand(g *globals) *cobra.Command {
	var accountID string
	var local, autoAnswer bool
	var media mediaOptions
	var maxCalls int
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Wait for calls and print them (caller, streams, end); --auto-answer accepts them with audio",
		Long: `Wait for incoming calls and print every notification of each call: the caller
and the streams offered, its progress and its end.

With --local, calls are taken by userless accounts on the engine's own
transports (no registration): call this process at the address printed in
the CLIListening line (set it with --listen). With --account ID (default: the
default account, if one is configured), the account registers first; exit 1
when its first registration fails.

--auto-answer accepts every call with audio. Without it, calls are answered
in interactive mode ('a'), else declined by the SDK with 480 Temporarily
Unavailable (printed as CLIIncomingCallDeclined).

It stops on SIGINT/SIGTERM (hanging up and unregistering), after --duration,
or after --max-calls calls ended (declined ones included); exit 0.

` + interactiveHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if accountID != "" && local {
				return usageError(errors.New("--account and --local exclude each other"))
			}
			if maxCalls < 0 {
				return usageError(fmt.Errorf("--max-calls %d: must not be negative", maxCalls))
			}
			if duration < 0 {
				return usageError(fmt.Errorf("--duration %v: must not be negative", duration))
			}
			if err := media.validate(); err != nil {
				return err
			}
			inter, _ := cmd.Flags().GetBool("interactive")
			return runListen(cmd, g, accountID, local, autoAnswer, interactive(cmd, inter), media, maxCalls, duration)
		},
	}
	f := cmd.Flags()
	f.StringVar(&accountID, "account", "", "register this account and take its calls (default: the default account)")
	f.BoolVar(&local, "local", false, "take calls on the engine's transports with userless accounts, without registering")
	f.BoolVar(&autoAnswer, "auto-answer", false, "accept every incoming call with audio")
	f.StringVar(&media.play, "play", "", "play this WAV file to each caller once the call is established")
	f.BoolVar(&media.record, "record", false, "record each call (to the recordings directory, default file name)")
	f.StringVar(&media.acceptFiles, "accept-files", "", "receive the files callers send (sipsimple send-file) into this directory")
	f.IntVar(&maxCalls, "max-calls", 0, "exit after this many calls ended (0: no limit)")
	f.DurationVar(&duration, "duration", 0, "stop after this long (e.g. 10m)")
	addInteractiveFlag(cmd)
	return cmd
}

func runListen(cmd *cobra.Command, g *globals, accountID string, local, autoAnswer, inter bool, media mediaOptions, maxCalls int, duration time.Duration) error {
	ctx, stop := runContext(cmd.Context(), duration)
	defer stop()
	app, err := startApp(cmd.Context(), g)
	if err != nil {
		return err
	}
	stopApp := func() {
		sctx, c := context.WithTimeout(context.Background(), endTimeout)
		defer c()
		app.Stop(sctx)
	}
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ph := newPhone(app, newPrinter(out, g.json), errOut, media)
	ph.answer, ph.prompt, ph.tracked = autoAnswer, inter && !autoAnswer, true
	if media.acceptFiles != "" {
		stopFiles := printFileTransfers(app.Notifications(), ph.pr, nil)
		defer stopFiles()
	}

	mgr := app.Accounts()
	var a *account.Account
	switch {
	case accountID != "":
		if a, err = mgr.Account(accountID); err != nil {
			stopApp()
			return usageError(fmt.Errorf("--account: %w ('sipsimple account list' shows them)", err))
		}
	case !local:
		if d := mgr.DefaultAccount(); d != nil && !d.IsBonjour() {
			a = d
		}
	}
	if a != nil && (!a.Enabled.Get() || !a.SIP.Register.Get()) {
		stopApp()
		return usageError(fmt.Errorf("account %s has registration disabled (settings enabled and sip.register); use --local to listen without registering", a.ID()))
	}

	if err := ph.observeCalls(nil, autoAnswer || inter || media.acceptFiles != ""); err != nil {
		stopApp()
		return failure(err)
	}
	var registration *registrationWatch
	if a == nil {
		if err := listenLocal(app, ph); err != nil {
			stopApp()
			return err
		}
	} else {
		registration = watchRegistration(g.regs, a, ph)
		if err := registration.first(ctx); err != nil {
			stopApp()
			registration.waitEnd()
			return err
		}
		ph.info("CLIListening", a.ID(), map[string]any{"uri": a.URI().String()})
	}

	var cmds <-chan string
	if inter {
		fmt.Fprintln(errOut, "interactive mode: '?' lists the commands")
		cmds = readCommands(os.Stdin)
	}
	ended := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-ph.ended:
			ended++
			if maxCalls > 0 && ended >= maxCalls {
				break loop
			}
		case line, ok := <-cmds:
			if !ok {
				cmds = nil
				continue
			}
			if ph.command(line) {
				break loop
			}
		}
	}
	ph.hangUpAll(endTimeout)
	stopApp()
	if registration != nil {
		registration.waitEnd()
	}
	return nil
}

// listenLocal adds the userless account of each engine transport and
// prints where calls are taken.
func listenLocal(app *application.Application, ph *phone) error {
	for _, l := range app.Engine().Listeners() {
		a, err := app.Accounts().AddLocal(l.Transport)
		if err != nil {
			return failure(err)
		}
		ph.info("CLIListening", a.ID(), map[string]any{"uri": a.URI().String(), "transport": l.Transport})
	}
	return nil
}

// registrationWatch prints an account's registration notifications and
// reports the outcome of its first registration.
type registrationWatch struct {
	outcome chan error
	ended   chan struct{}
	a       *account.Account
	cancel  func()
	// registered is set once a registration succeeded: only then is an
	// unregistration to wait for.
	registered atomic.Bool
}

func watchRegistration(regs *registrations, a *account.Account, ph *phone) *registrationWatch {
	w := &registrationWatch{outcome: make(chan error, 1), ended: make(chan struct{}, 1), a: a}
	w.cancel = regs.subscribe(a, func(n notification.Notification) {
		ph.pr.print(n)
		switch n.Name {
		case account.RegistrationDidSucceed:
			w.registered.Store(true)
			w.report(nil)
		case account.RegistrationDidFail:
			w.report(failure(fmt.Errorf("registration of %s failed", a.ID())))
		case account.RegistrationDidEnd:
			select {
			case w.ended <- struct{}{}:
			default:
			}
		}
	})
	return w
}

func (w *registrationWatch) report(err error) {
	select {
	case w.outcome <- err:
	default:
	}
}

// first waits for the first registration's outcome.
func (w *registrationWatch) first(ctx context.Context) error {
	select {
	case err := <-w.outcome:
		return err
	case <-ctx.Done():
		return failure(fmt.Errorf("stopped before %s registered", w.a.ID()))
	}
}

// waitEnd lets the unregistration be printed (after the application
// stopped), then stops printing.
func (w *registrationWatch) waitEnd() {
	if w.registered.Load() {
		select {
		case <-w.ended:
		case <-time.After(5 * time.Second):
		}
	}
	w.cancel()
}
