package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// fileTransferNotifications are the notifications of a file transfer
// printed by send-file and listen --accept-files.
var fileTransferNotifications = []string{session.FileTransferDidStart, session.FileTransferDidFail,
	session.FileTransferGotFile, session.FileTransferDidDeliverFile, session.FileTransferDidNotDeliverFile,
	session.FileTransferProgress}

// printFileTransfers prints the file-transfer notifications of sender
// (nil: every transfer) on pr; the returned function stops.
func printFileTransfers(c *notification.Center, pr *printer, sender any) func() {
	var stops []func()
	for _, name := range fileTransferNotifications {
		stops = append(stops, c.Observe(name, sender, func(n notification.Notification) {
			if n.Name == session.FileTransferProgress {
				pr.progress(n) // a bar on a terminal
				return
			}
			n.Sender = "file"
			pr.print(n)
		}))
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
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
	pr := ph.pr
	outcome := make(chan notification.Notification, 2)
	app.Notifications().Observe(session.FileTransferDidDeliverFile, nil, func(n notification.Notification) { outcome <- n })
	app.Notifications().Observe(session.FileTransferDidNotDeliverFile, nil, func(n notification.Notification) { outcome <- n })
	if err := s.SendFile(ctx, callee, routes, path); err != nil {
		return failure(fmt.Errorf("send %s to %s: %v", path, callee, err))
	}
	stopPrint := printFileTransfers(app.Notifications(), pr, s.FileTransfer())
	defer stopPrint()
	notStarted, established := time.After(timeout), c.established
	for {
		select {
		case n := <-outcome:
			<-c.done // the session ends by itself once the file is reported
			if n.Name == session.FileTransferDidNotDeliverFile {
				d, _ := notification.Data[session.FileData](n)
				return failure(fmt.Errorf("%s not delivered: %d %s", path, d.Code, d.Reason))
			}
			return nil
		case <-established:
			notStarted, established = nil, nil
		case <-notStarted:
			s.End(false)
			<-c.done
			return failure(fmt.Errorf("send %s to %s: not started within %v", path, callee, timeout))
		case <-c.done:
			if c.failed && c.code != 0 {
				return failure(fmt.Errorf("send %s to %s failed: %d %s", path, callee, c.code, c.reason))
			}
			return failure(fmt.Errorf("send %s to %s: the session ended before the file was delivered", path, callee))
		case <-ctx.Done():
			s.End(false)
			<-c.done
			return failure(fmt.Errorf("send %s: cancelled", path))
		}
	}
}
