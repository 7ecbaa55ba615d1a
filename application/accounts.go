package application

import (
	"context"

	"github.com/sipsimple-go/sipsimple/account"
)

// accountsSubsystem starts the account manager once the engine runs, so
// accounts activate with the engine (seed 000).
type accountsSubsystem struct {
	app      *Application
	resolver account.Resolver
}

func (s *accountsSubsystem) Name() string { return "accounts" }

func (s *accountsSubsystem) Start(ctx context.Context) error {
	a := s.app
	m := account.NewManager(account.Config{Center: a.center, Configuration: a.Configuration(),
		Settings: a.Settings(), Engine: a.Engine(), Resolver: s.resolver})
	if err := m.Start(ctx); err != nil {
		return err
	}
	a.mu.Lock()
	a.accounts = m
	a.mu.Unlock()
	return nil
}

func (s *accountsSubsystem) Stop(ctx context.Context) error {
	if m := s.app.Accounts(); m != nil {
		return m.Stop(ctx)
	}
	return nil
}
