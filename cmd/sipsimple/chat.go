package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

func newChatCommand(g *globals) *cobra.Command {
	var accountID, route, message string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "chat URI",
		Short: "Chat with URI over MSRP: type a line to send it; incoming messages and delivery marks are printed",
		Long: `Start a chat session (MSRP, RFC 4975) with URI and print its notifications:
incoming messages (SIPSessionGotMessage with sender and time), and for each
message sent, SIPSessionDidDeliverMessage or SIPSessionDidNotDeliverMessage.

Without --message, every line read from stdin is sent as a text/plain message
(without its leading and trailing blanks; an empty line is skipped); "/quit" or the end of stdin ends the chat. With
--message TEXT, the chat sends TEXT once it is established, waits for its
delivery report and ends: exit 0 when it was delivered, 1 otherwise.

Exit codes: 0 the chat was established (and, with --message, the message
delivered); 1 it failed; 2 a bad argument.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runChat(cmd, g, args[0], accountID, route, message, timeout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&accountID, "account", "", "account to chat from (default: the one matching URI, else the default, else a local account)")
	f.StringVar(&route, "route", "", "send the INVITE to this proxy (a SIP URI or HOST[:PORT][;transport=T]) instead of looking URI up")
	f.StringVar(&message, "message", "", "send this one message, wait for its delivery report and end the chat")
	f.DurationVar(&timeout, "timeout", 32*time.Second, "give up when the chat is not established, or the message not reported, within this long")
	return cmd
}

func runChat(cmd *cobra.Command, g *globals, target, accountID, route, message string, timeout time.Duration) error {
	callee, routes, err := parseTarget(target, route)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		return usageError(fmt.Errorf("--timeout %v: must be positive", timeout))
	}
	ctx, stop := runContext(cmd.Context(), 0)
	defer stop()
	app, _, s, c, end, err := outgoingCall(cmd, g, callee, accountID)
	if err != nil {
		return err
	}
	defer end()
	errOut := cmd.ErrOrStderr()
	// The outcome of each message we send, by message id.
	outcomes := make(chan notification.Notification, 64)
	stopOutcomes := app.Notifications().Observe(notification.Any, s, func(n notification.Notification) {
		if n.Name == session.DidDeliverMessage || n.Name == session.DidNotDeliverMessage {
			select {
			case outcomes <- n:
			default:
			}
		}
	})
	defer stopOutcomes()

	if err := s.Connect(ctx, callee, routes, false, true); err != nil {
		return failure(fmt.Errorf("chat with %s: %v", callee, err))
	}
	select {
	case <-c.established:
	case <-c.done:
		return c.failure("chat with "+callee.String(), "it ended before it was established")
	case <-time.After(timeout):
		c.hangUp()
		return failure(fmt.Errorf("chat with %s: not established within %v", callee, timeout))
	case <-ctx.Done():
		c.hangUp()
		return failure(fmt.Errorf("chat with %s: cancelled before it was established", callee))
	}

	if message != "" {
		id, err := s.SendMessage(message, "text/plain", nil, time.Time{})
		if err != nil {
			c.hangUp()
			return failure(fmt.Errorf("send: %v", err))
		}
		deadline := time.After(timeout)
		for {
			select {
			case n := <-outcomes:
				d, _ := notification.Data[session.ChatDeliveryData](n)
				if d.MessageID != id {
					continue
				}
				c.hangUp()
				if n.Name == session.DidNotDeliverMessage {
					return failure(fmt.Errorf("message not delivered: %d %s", d.Code, d.Reason))
				}
				return nil
			case <-c.done:
				return failure(fmt.Errorf("chat with %s ended before the message was reported", callee))
			case <-deadline:
				c.hangUp()
				return failure(fmt.Errorf("message not reported within %v", timeout))
			case <-ctx.Done():
				c.hangUp()
				return failure(fmt.Errorf("cancelled before the message was reported"))
			}
		}
	}

	lines := readCommands(os.Stdin) // trimmed, empty lines skipped
	fmt.Fprintln(errOut, "chat: type a line to send it, /quit to end")
	for {
		select {
		case line, ok := <-lines:
			if !ok || line == "/quit" {
				c.hangUp()
				return nil
			}
			if _, err := s.SendMessage(line, "text/plain", nil, time.Time{}); err != nil {
				fmt.Fprintf(errOut, "send: %v\n", err)
			}
		case <-c.done:
			return nil
		case <-ctx.Done():
			c.hangUp()
			return nil
		}
	}
}

// outgoingCall starts the application and prepares a session of the
// account for callee whose notifications are printed: what chat and
// send-file share. end stops the application.
func outgoingCall(cmd *cobra.Command, g *globals, callee core.SIPURI, accountID string) (app *application.Application,
	ph *phone, s *session.Session, c *call, end func(), err error) {
	app, err = startApp(cmd.Context(), g)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	end = func() {
		app.Notifications().PurgeObserver(ph)
		sctx, cancel := context.WithTimeout(context.Background(), endTimeout)
		defer cancel()
		app.Stop(sctx)
	}
	fail := func(err error) (*application.Application, *phone, *session.Session, *call, func(), error) {
		end()
		return nil, nil, nil, nil, nil, err
	}
	a, err := outgoingAccount(app.Accounts(), accountID, callee)
	if err != nil {
		return fail(err)
	}
	ph = newPhone(app, newPrinter(cmd.OutOrStdout(), g.json), cmd.ErrOrStderr(), mediaOptions{})
	if s, err = app.Sessions().NewSession(a); err != nil {
		return fail(failure(err))
	}
	c = ph.add(s)
	if err := ph.observeCalls(s, false); err != nil {
		return fail(failure(err))
	}
	return app, ph, s, c, end, nil
}
