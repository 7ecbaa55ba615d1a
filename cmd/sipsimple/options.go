package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/core"
)

func newOptionsCommand(g *globals) *cobra.Command {
	var accountID string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "options URI",
		Short: "Send OPTIONS to URI and print the status line, Allow and User-Agent/Server (exit 0 on a 2xx)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := core.ParseSIPURI(args[0]); err != nil {
				return usageError(fmt.Errorf("URI %q: %v", args[0], err))
			}
			app, err := startApp(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				app.Stop(ctx)
			}()
			mgr := app.Accounts()
			var a *account.Account
			switch {
			case accountID != "":
				if a, err = mgr.Account(accountID); err != nil {
					return usageError(err)
				}
			default:
				a = mgr.FindForOutgoing(args[0])
				if a == nil || a.IsBonjour() {
					// No account for it: a userless account on the
					// transport the URI needs (PJSUA's local account).
					t, _ := core.ParseSIPURI(args[0])
					transport := t.Transport()
					if transport == "" {
						transport = "udp"
					}
					if a, err = mgr.AddLocal(transport); err != nil {
						return failure(err)
					}
				}
			}
			req, err := a.CreateRequest("OPTIONS", args[0])
			if err != nil {
				return usageError(err)
			}
			req.AppendHeader(sipHeader("Accept", "application/sdp"))
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := a.SendRequest(ctx, req)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					return failure(fmt.Errorf("OPTIONS %s: no answer within %s", args[0], timeout))
				}
				return failure(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "SIP/2.0 %d %s\n", res.StatusCode, res.Reason)
			for _, name := range []string{"Allow", "User-Agent", "Server", "Supported", "Accept"} {
				if h := res.GetHeader(name); h != nil {
					fmt.Fprintf(out, "%s: %s\n", name, h.Value())
				}
			}
			if res.StatusCode < 200 || res.StatusCode > 299 {
				return failure(fmt.Errorf("OPTIONS %s: %d %s", args[0], res.StatusCode, res.Reason))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&accountID, "account", "", "account to send from (default: the one matching URI, else a local account)")
	cmd.Flags().DurationVar(&timeout, "timeout", 32*time.Second, "give up after this long")
	return cmd
}
