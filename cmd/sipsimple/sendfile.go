package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// printFileTransfers prints the file-transfer notifications of every
// transfer on pr (progress as a bar on a terminal) and hands
// MSRPFileTransferDidDeliverFile and DidNotDeliverFile to outcome (when
// not nil) once printed; the returned function stops. One observer does
// both, so a reported outcome was printed before it.
func printFileTransfers(c *notification.Center, pr *printer, outcome func(notification.Notification)) func() {
	return c.Observe(notification.Any, nil, func(n notification.Notification) {
		switch n.Name {
		case session.FileTransferProgress:
			pr.progress(n)
			return
		case session.FileTransferDidStart:
		case session.FileTransferGotFile, session.FileTransferDidDeliverFile,
			session.FileTransferDidNotDeliverFile, session.FileTransferDidFail:
			pr.endProgress(n.Sender)
		default:
			return
		}
		sender := n.Sender
		n.Sender = "file"
		pr.print(n)
		if outcome != nil && (n.Name == session.FileTransferDidDeliverFile || n.Name == session.FileTransferDidNotDeliverFile) {
			n.Sender = sender
			outcome(n)
		}
	})
}

func newSendFileCommand(g *globals) *cobra.Command {
	var accountID, route string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "send-file URI PATH",
		Short: "Send the file at PATH to URI over MSRP (RFC 5547) with progress; exit 0 when it was delivered",
		Long: `Start a session with URI whose one stream sends the file at PATH (file-selector
with its name, type, size and SHA-1; the receiver checks the hash), print the
session's and the transfer's notifications (progress included), and end once
the file is delivered. A listener takes files with 'sipsimple listen
--accept-files DIR'.

Exit codes: 0 the file was delivered; 1 it was not (the reason is printed);
2 a bad argument.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSendFile(cmd, g, args[0], args[1], accountID, route, timeout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&accountID, "account", "", "account to send from (default: the one matching URI, else the default, else a local account)")
	f.StringVar(&route, "route", "", "send the INVITE to this proxy (a SIP URI or HOST[:PORT][;transport=T]) instead of looking URI up")
	f.DurationVar(&timeout, "timeout", 32*time.Second, "give up when the transfer has not started within this long")
	return cmd
}

func runSendFile(cmd *cobra.Command, g *globals, target, path, accountID, route string, timeout time.Duration) error {
	callee, routes, err := parseTarget(target, route)
	if err != nil {
		return err
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return usageError(fmt.Errorf("%s: not a regular, non-empty file", path))
	}
	if timeout <= 0 {
		return usageError(fmt.Errorf("--timeout %v: must be positive", timeout))
	}
	ctx, stop := runContext(cmd.Context(), 0)
	defer stop()
	app, ph, s, c, end, err := outgoingCall(cmd, g, callee, accountID)
	if err != nil {
		return err
	}
	defer end()
	// Observed before the INVITE goes out: no line is missed.
	outcome := make(chan notification.Notification, 1)
	stopPrint := printFileTransfers(app.Notifications(), ph.pr, func(n notification.Notification) {
		select {
		case outcome <- n:
		default: // one file, one outcome
		}
	})
	defer stopPrint()
	if err := s.SendFile(ctx, callee, routes, path); err != nil {
		return failure(fmt.Errorf("send %s to %s: %v", path, callee, err))
	}
	reported := func(n notification.Notification) error {
		c.hangUp() // the session ends by itself once the file is reported
		if n.Name == session.FileTransferDidNotDeliverFile {
			d, _ := notification.Data[session.FileData](n)
			return failure(fmt.Errorf("%s not delivered: %d %s", path, d.Code, d.Reason))
		}
		return nil
	}
	notStarted, established := time.After(timeout), c.established
	for {
		select {
		case n := <-outcome:
			return reported(n)
		case <-established:
			notStarted, established = nil, nil
		case <-notStarted:
			c.hangUp()
			return failure(fmt.Errorf("send %s to %s: not started within %v", path, callee, timeout))
		case <-c.done:
			// The session's end and the transfer's outcome reach us
			// through different observers: an outcome posted before the
			// end may still be on its way.
			if c.wasEstablished {
				select {
				case n := <-outcome:
					return reported(n)
				case <-time.After(time.Second):
				}
			}
			return c.failure("send "+path+" to "+callee.String(), "the session ended before the file was delivered")
		case <-ctx.Done():
			c.hangUp()
			return failure(fmt.Errorf("send %s: cancelled", path))
		}
	}
}
