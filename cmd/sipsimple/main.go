// Command sipsimple is the command-line client of sipsimple-go, built only
// on the SDK's public API.
//
// Exit codes: 0 success, 1 the operation failed, 2 usage or validation
// error (the message names the bad argument or setting).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries an exit code with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks an error as a usage or validation error (exit code 2).
func usageError(err error) error { return &exitError{code: 2, err: err} }

// failure marks an error as an operation failure (exit code 1).
func failure(err error) error { return &exitError{code: 1, err: err} }

// globals are the global flags of the DESIGN.md command-line contract.
type globals struct {
	configDir string
	listen    string
	json      bool
	// regs holds the registration notifications of the application
	// started last (see registrations).
	regs *registrations
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "sipsimple",
		Short:         "SIP SIMPLE client: settings, accounts, calls, chat and file transfer",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configDir, "config-dir", "", "configuration directory (default: the user config dir + /sipsimple)")
	root.PersistentFlags().StringVar(&g.listen, "listen", "", "SIP listen address HOST:PORT for UDP and TCP (TLS on PORT+1)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON, one object per line")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(newVersionCommand(), newSettingsCommand(g), newAccountCommand(g), newRegisterCommand(g), newOptionsCommand(g),
		newCallCommand(g), newChatCommand(g), newSendFileCommand(g), newListenCommand(g), newDemoCommand(g))
	return root
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "sipsimple:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Errors cobra produces itself (unknown command, wrong argument count)
	// are usage errors.
	return 2
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
