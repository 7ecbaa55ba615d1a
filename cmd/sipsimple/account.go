package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/application"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// accountStore is the configuration and account manager, without an engine
// (accounts do not activate): enough to edit accounts.
type accountStore struct {
	center *notification.Center
	global *settings.SIPSimpleSettings
	mgr    *account.Manager
}

func openAccounts(cmd *cobra.Command, g *globals) (*accountStore, error) {
	dir, err := configDir(g)
	if err != nil {
		return nil, err
	}
	center := notification.NewCenter()
	m := configuration.NewManager(configuration.NewFileBackend(filepath.Join(dir, "config")), center, nil)
	if err := m.Start(); err != nil {
		center.Close()
		return nil, failure(err)
	}
	s, err := settings.New(m)
	if err != nil {
		center.Close()
		return nil, failure(err)
	}
	mgr := account.NewManager(account.Config{Center: center, Configuration: m, Settings: s})
	if err := mgr.Start(cmd.Context()); err != nil {
		center.Close()
		return nil, failure(err)
	}
	return &accountStore{center, s, mgr}, nil
}

func (s *accountStore) close(ctx context.Context) {
	s.mgr.Stop(ctx)
	s.center.Close()
}

func (s *accountStore) account(id string) (*account.Account, error) {
	a, err := s.mgr.Account(id)
	if err != nil {
		return nil, usageError(fmt.Errorf("%w ('sipsimple account list' shows them)", err))
	}
	return a, nil
}

// withAccount opens the account store and runs f with the account id.
func withAccount(cmd *cobra.Command, g *globals, id string, f func(st *accountStore, a *account.Account) error) error {
	st, err := openAccounts(cmd, g)
	if err != nil {
		return err
	}
	defer st.close(cmd.Context())
	a, err := st.account(id)
	if err != nil {
		return err
	}
	return f(st, a)
}

func configDir(g *globals) (string, error) {
	if g.configDir != "" {
		return g.configDir, nil
	}
	d, err := application.DefaultConfigDir()
	if err != nil {
		return "", usageError(err)
	}
	return d, nil
}

func saveAccount(a *account.Account) error {
	if err := a.Save(); err != nil {
		var ve *configuration.ValidationError
		if errors.As(err, &ve) {
			return usageError(err)
		}
		return failure(err)
	}
	return nil
}

func newAccountCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Add, list, change and delete SIP accounts"}

	var password, displayName, authUser, registrar, proxy string
	var makeDefault bool
	add := &cobra.Command{
		Use:   "add USER@DOMAIN",
		Short: "Add an enabled account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := configuration.ParseSIPAddress(args[0])
			if err == nil {
				err = id.Validate()
			}
			if err != nil {
				return usageError(fmt.Errorf("account id %q %v", args[0], err))
			}
			st, err := openAccounts(cmd, g)
			if err != nil {
				return err
			}
			defer st.close(cmd.Context())
			a, err := st.mgr.NewAccount(id.String())
			if err != nil {
				return usageError(err)
			}
			for name, value := range map[string]string{"auth.password": password, "display_name": displayName,
				"auth.username": authUser, "sip.registrar": registrar, "sip.outbound_proxy": proxy} {
				if value == "" {
					continue
				}
				n, _ := a.Lookup(name)
				if err := n.SetText(value); err != nil {
					return usageError(err)
				}
			}
			a.Enabled.Set(true)
			if err := saveAccount(a); err != nil {
				return err
			}
			if makeDefault {
				if err := st.mgr.SetDefaultAccount(a); err != nil {
					return failure(err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added account %s\n", a.ID())
			return nil
		},
	}
	add.Flags().StringVar(&password, "password", "", "digest password")
	add.Flags().StringVar(&displayName, "display-name", "", "display name")
	add.Flags().StringVar(&authUser, "auth-username", "", "digest user name (default: the user part)")
	add.Flags().StringVar(&registrar, "registrar", "", "registrar URI (default: sip:DOMAIN)")
	add.Flags().StringVar(&proxy, "outbound-proxy", "", "outbound proxy URI")
	add.Flags().BoolVar(&makeDefault, "default", false, "make it the default account")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the accounts (* marks the default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openAccounts(cmd, g)
			if err != nil {
				return err
			}
			defer st.close(cmd.Context())
			def := st.mgr.DefaultAccount()
			for _, a := range st.mgr.Accounts() {
				mark := " "
				if a == def {
					mark = "*"
				}
				state := "disabled"
				if a.Enabled.Get() {
					state = "enabled"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s (%s)\n", mark, a.ID(), state)
			}
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Print an account's settings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd, g, args[0], func(st *accountStore, a *account.Account) error {
				for _, n := range a.Object.Settings() {
					if n.Name() == "auth.password" && n.Text() != "" && !g.json {
						fmt.Fprintln(cmd.OutOrStdout(), "auth.password = ***")
						continue
					}
					printSetting(cmd, g, n)
				}
				return nil
			})
		},
	}
	set := &cobra.Command{
		Use:   "set ID SETTING VALUE",
		Short: "Change an account setting and save",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd, g, args[0], func(st *accountStore, a *account.Account) error {
				n, ok := a.Lookup(args[1])
				if !ok {
					return usageError(fmt.Errorf("unknown account setting %q ('sipsimple account show %s' lists them)", args[1], args[0]))
				}
				if err := n.SetText(args[2]); err != nil {
					return usageError(err)
				}
				if err := saveAccount(a); err != nil {
					return err
				}
				printSetting(cmd, g, n)
				return nil
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd, g, args[0], func(st *accountStore, a *account.Account) error {
				if a.IsBonjour() {
					return usageError(errors.New("the Bonjour account cannot be deleted (disable it instead)"))
				}
				if err := a.Delete(cmd.Context()); err != nil {
					return failure(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted account %s\n", args[0])
				return nil
			})
		},
	}
	def := &cobra.Command{
		Use:   "default ID",
		Short: "Make an account the default",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccount(cmd, g, args[0], func(st *accountStore, a *account.Account) error {
				if err := st.mgr.SetDefaultAccount(a); err != nil {
					return usageError(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "default account: %s\n", a.ID())
				return nil
			})
		},
	}
	cmd.AddCommand(add, list, show, set, del, def)
	return cmd
}

// runContext returns a context ended by SIGINT/SIGTERM or the duration.
func runContext(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	if d <= 0 {
		return ctx, stop
	}
	ctx2, cancel := context.WithTimeout(ctx, d)
	return ctx2, func() { cancel(); stop() }
}

// startApp starts an application on the configuration directory.
func startApp(ctx context.Context, g *globals) (*application.Application, error) {
	return startAppMedia(ctx, g, nil)
}

// startAppMedia starts an application on the configuration directory with
// media overriding the audio settings (nil: the settings alone).
func startAppMedia(ctx context.Context, g *globals, media *session.MediaConfig) (*application.Application, error) {
	dir, err := configDir(g)
	if err != nil {
		return nil, err
	}
	app := application.New()
	g.regs = &registrations{}
	if err := g.regs.observe(app.Notifications()); err != nil {
		return nil, failure(err)
	}
	if err := app.Start(ctx, application.Options{ConfigDir: dir, Listen: g.listen, Media: media}); err != nil {
		if strings.Contains(err.Error(), "listen address") {
			return nil, usageError(err)
		}
		return nil, failure(err)
	}
	return app, nil
}

func newRegisterCommand(g *globals) *cobra.Command {
	var once bool
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "register [ID]",
		Short: "Register an account (the default one without ID) and print its registration notifications",
		Long: "Register an account and print each registration notification. With --once, register, print the " +
			"outcome, unregister and exit (0 on success, 1 on failure); otherwise stay registered until " +
			"SIGINT/SIGTERM or --duration, then unregister.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := runContext(cmd.Context(), duration)
			defer cancel()
			app, err := startApp(cmd.Context(), g)
			if err != nil {
				return err
			}
			stopApp := func() {
				sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
				defer c()
				app.Stop(sctx)
			}
			var a *account.Account
			if len(args) == 1 {
				a, err = app.Accounts().Account(args[0])
				if err != nil {
					stopApp()
					return usageError(err)
				}
			} else if a = app.Accounts().DefaultAccount(); a == nil {
				stopApp()
				return usageError(errors.New("no default account: give an account id or set one with 'sipsimple account default ID'"))
			}
			if !a.Enabled.Get() || !a.SIP.Register.Get() {
				stopApp()
				return usageError(fmt.Errorf("account %s has registration disabled (settings enabled and sip.register)", a.ID()))
			}
			p := &printer{out: cmd.OutOrStdout(), json: g.json}
			var everRegistered atomic.Bool
			outcome := make(chan bool, 8)
			ended := make(chan struct{}, 1)
			cancelObs := g.regs.subscribe(a, func(n notification.Notification) {
				p.print(n)
				switch n.Name {
				case account.RegistrationDidSucceed:
					everRegistered.Store(true)
					select {
					case outcome <- true:
					default:
					}
				case account.RegistrationDidFail:
					select {
					case outcome <- false:
					default:
					}
				case account.RegistrationDidEnd:
					select {
					case ended <- struct{}{}:
					default:
					}
				}
			})
			defer cancelObs()
			if once {
				select {
				case <-outcome:
				case <-ctx.Done():
				}
			} else {
				<-ctx.Done()
			}
			succeeded := everRegistered.Load()
			wasRegistered := a.Registered()
			stopApp()
			if wasRegistered {
				select { // let the DidEnd line be printed
				case <-ended:
				case <-time.After(5 * time.Second):
				}
			}
			if !succeeded {
				return failure(fmt.Errorf("registration of %s failed", a.ID()))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "register, print the outcome, unregister and exit")
	cmd.Flags().DurationVar(&duration, "duration", 0, "stop after this long (e.g. 30s)")
	return cmd
}

func sipHeader(name, value string) sip.Header { return sip.NewHeader(name, value) }
