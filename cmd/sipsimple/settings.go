package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipsimple-go/sipsimple"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "sipsimple %s (%s, %s/%s)\n", sipsimple.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// openSettings loads the global settings from the configuration directory
// without starting an application (no SIP engine, no ports).
func openSettings(g *globals) (*settings.SIPSimpleSettings, string, error) {
	dir, err := configDir(g)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "config")
	m := configuration.NewManager(configuration.NewFileBackend(path), nil, nil)
	if err := m.Start(); err != nil {
		return nil, path, failure(err)
	}
	s, err := settings.New(m)
	if err != nil {
		return nil, path, failure(err)
	}
	return s, path, nil
}

func lookupSetting(s *settings.SIPSimpleSettings, name string) (configuration.Node, error) {
	n, ok := s.Lookup(name)
	if ok {
		return n, nil
	}
	var near []string
	for _, c := range s.Settings() {
		if strings.Contains(c.Name(), name) {
			near = append(near, c.Name())
		}
	}
	msg := fmt.Sprintf("unknown setting %q", name)
	if len(near) > 0 {
		sort.Strings(near)
		msg += " (did you mean " + strings.Join(near, ", ") + "?)"
	}
	return nil, usageError(errors.New(msg + "; 'sipsimple settings show' lists them"))
}

type settingJSON struct {
	Name    string `json:"name"`
	Value   any    `json:"value"`
	Text    string `json:"text"`
	Default string `json:"default"`
	Kind    string `json:"kind"`
	IsSet   bool   `json:"set"`
}

func printSetting(cmd *cobra.Command, g *globals, n configuration.Node) {
	out := cmd.OutOrStdout()
	if g.json {
		b, _ := json.Marshal(settingJSON{Name: n.Name(), Value: n.Value(), Text: n.Text(), Default: n.DefaultText(),
			Kind: n.KindName(), IsSet: !n.IsDefault()})
		fmt.Fprintln(out, string(b))
		return
	}
	text := n.Text()
	if n.Value() == nil {
		text = "None"
	}
	if n.IsDefault() {
		fmt.Fprintf(out, "%s = %s\n", n.Name(), text)
	} else {
		fmt.Fprintf(out, "%s = %s  (default: %s)\n", n.Name(), text, orNone(n.DefaultText(), n))
	}
}

func orNone(text string, n configuration.Node) string {
	if text == "" && n.Optional() {
		return "None"
	}
	return text
}

func newSettingsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show and change the global settings",
	}
	show := &cobra.Command{
		Use:   "show [PREFIX]",
		Short: "Print every setting (or those under PREFIX) as name = value",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, _, err := openSettings(g)
			if err != nil {
				return err
			}
			found := false
			for _, n := range s.Settings() {
				if len(args) == 1 && n.Name() != args[0] && !strings.HasPrefix(n.Name(), args[0]+".") {
					continue
				}
				found = true
				printSetting(cmd, g, n)
			}
			if !found {
				return usageError(fmt.Errorf("no setting is called %q or starts with %q", args[0], args[0]+"."))
			}
			return nil
		},
	}
	set := &cobra.Command{
		Use:   "set NAME VALUE",
		Short: "Set a setting (lists comma separated; None clears an optional setting) and save",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, path, err := openSettings(g)
			if err != nil {
				return err
			}
			n, err := lookupSetting(s, args[0])
			if err != nil {
				return err
			}
			if err := n.SetText(args[1]); err != nil {
				return usageError(err)
			}
			return saveSettings(cmd, g, s, path, n)
		},
	}
	reset := &cobra.Command{
		Use:   "reset NAME",
		Short: "Return a setting to its default and save",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, path, err := openSettings(g)
			if err != nil {
				return err
			}
			n, err := lookupSetting(s, args[0])
			if err != nil {
				return err
			}
			n.Reset()
			return saveSettings(cmd, g, s, path, n)
		},
	}
	cmd.AddCommand(show, set, reset)
	return cmd
}

func saveSettings(cmd *cobra.Command, g *globals, s *settings.SIPSimpleSettings, path string, n configuration.Node) error {
	if err := s.Save(); err != nil {
		var ve *configuration.ValidationError
		if errors.As(err, &ve) {
			return usageError(err)
		}
		return failure(fmt.Errorf("saving %s: %w", path, err))
	}
	printSetting(cmd, g, n)
	return nil
}
