// Package application provides Application, the Go form of the SIP SIMPLE
// client SDK's SIPApplication: it owns the notification center, the
// configuration manager, the global settings and the subsystems added on
// top of them, and starts and stops them in order.
//
// The python SDK makes SIPApplication a process singleton; here every
// Application is independent, so several (alice and bob in one test) run
// side by side. The package must not know about the internals of the
// subsystems it runs: each is started and stopped through the Subsystem
// interface.
package application

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/uuid"

	"github.com/sipsimple-go/sipsimple/account"
	"github.com/sipsimple-go/sipsimple/configuration"
	"github.com/sipsimple-go/sipsimple/configuration/settings"
	"github.com/sipsimple-go/sipsimple/core"
	"github.com/sipsimple-go/sipsimple/notification"
	"github.com/sipsimple-go/sipsimple/session"
)

// Notification names posted by an Application (the sender is the Application).
const (
	WillStart = "SIPApplicationWillStart"
	DidStart  = "SIPApplicationDidStart"
	WillEnd   = "SIPApplicationWillEnd"
	DidEnd    = "SIPApplicationDidEnd"
	DidFail   = "SIPApplicationDidFail"
)

// DidFailData is the data of SIPApplicationDidFail: the error of the
// subsystem that failed to start, after the ones already started were
// stopped again.
type DidFailData struct {
	Subsystem string
	Error     error
}

// State is the lifecycle state of an Application.
type State string

// The states of an Application. A failed Start returns it to StateNew, so
// it can be started again; after Stop it is StateEnded for good.
const (
	StateNew      State = "new"
	StateStarting State = "starting"
	StateStarted  State = "started"
	StateStopping State = "stopping"
	StateEnded    State = "ended"
)

// Errors returned for calls in the wrong state; the returned errors wrap
// them and name the state.
var (
	ErrWrongState = errors.New("application is in the wrong state")
)

// Subsystem is a part of the application that is started and stopped in
// order: the built-in ones (configuration, the SIP engine, the accounts,
// the sessions) and any the caller adds through Options.Subsystems.
type Subsystem interface {
	Name() string
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Options configure Start.
type Options struct {
	// ConfigDir is the directory of the configuration file "config". The
	// default is the user's configuration directory plus "sipsimple".
	ConfigDir string
	// Backend, when set, stores the configuration instead of the file in
	// ConfigDir; configuration.NewMemoryBackend(nil) keeps it in memory.
	Backend configuration.Backend
	// Listen, when set, overrides the engine's UDP and TCP listen address
	// ("HOST:PORT"; TLS listens on PORT+1), like the CLI's --listen.
	Listen string
	// Resolver finds registration routes; nil means the default resolver.
	Resolver account.Resolver
	// Media, when set, configures the audio of the session manager; its
	// zero fields take the settings (rtp.port_range, rtp.audio_codec_list,
	// audio.sample_rate, audio.recordings_directory).
	Media *session.MediaConfig
	// Subsystems are started after the built-in ones, in order, and
	// stopped before them, in reverse order.
	Subsystems []Subsystem
	// Logger receives the application's logs; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfigDir returns the default configuration directory.
func DefaultConfigDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no default configuration directory (set one explicitly): %w", err)
	}
	return filepath.Join(dir, "sipsimple"), nil
}

// Application owns and runs the SDK's subsystems. Create it with New;
// methods are safe for concurrent use, including from notification
// handlers.
type Application struct {
	center *notification.Center

	opMu sync.Mutex // serialises Start and Stop

	mu       sync.Mutex // guards the fields below
	state    State
	log      *slog.Logger
	config   *configuration.Manager
	settings *settings.SIPSimpleSettings
	engine   *core.Engine
	accounts *account.Manager
	sessions *session.Manager
	running  []Subsystem // started subsystems, in start order
}

// New returns an application in StateNew with its notification center, so
// that observers can be added before Start.
func New(opts ...notification.Option) *Application {
	return &Application{center: notification.NewCenter(opts...), state: StateNew, log: slog.Default()}
}

// Notifications returns the application's notification center.
func (a *Application) Notifications() *notification.Center { return a.center }

// State returns the current state.
func (a *Application) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Settings returns the global settings; nil before the first Start.
func (a *Application) Settings() *settings.SIPSimpleSettings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.settings
}

// Configuration returns the configuration manager; nil before the first Start.
func (a *Application) Configuration() *configuration.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.config
}

// Engine returns the SIP engine; nil before the first Start.
func (a *Application) Engine() *core.Engine {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.engine
}

// Accounts returns the account manager; nil before the first Start.
func (a *Application) Accounts() *account.Manager {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.accounts
}

// Logger returns the application's logger.
func (a *Application) Logger() *slog.Logger {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log
}

func (a *Application) setState(s State) {
	a.mu.Lock()
	a.state = s
	a.mu.Unlock()
}

// Start starts the configuration manager, loads the global settings and
// starts every subsystem in order, posting SIPApplicationWillStart and then
// SIPApplicationDidStart. When a subsystem fails, the ones already started
// are stopped in reverse order, SIPApplicationDidFail is posted with the
// error, the application returns to StateNew and the error is returned.
func (a *Application) Start(ctx context.Context, opts Options) error {
	a.opMu.Lock()
	defer a.opMu.Unlock()
	a.mu.Lock()
	if a.state != StateNew {
		st := a.state
		a.mu.Unlock()
		return fmt.Errorf("start: %w: it is %s", ErrWrongState, st)
	}
	a.state = StateStarting
	if opts.Logger != nil {
		a.log = opts.Logger
	}
	a.mu.Unlock()

	a.center.Post(WillStart, a, nil)
	backend := opts.Backend
	if backend == nil {
		dir := opts.ConfigDir
		if dir == "" {
			d, err := DefaultConfigDir()
			if err != nil {
				return a.fail(ctx, "configuration", err)
			}
			dir = d
		}
		backend = configuration.NewFileBackend(filepath.Join(dir, "config"))
	}
	subsystems := append([]Subsystem{
		&configSubsystem{app: a, backend: backend},
		&engineSubsystem{app: a, listen: opts.Listen},
		&accountsSubsystem{app: a, resolver: opts.Resolver},
		&sessionsSubsystem{app: a, media: opts.Media, resolver: opts.Resolver},
	}, opts.Subsystems...)
	for _, s := range subsystems {
		if err := ctx.Err(); err != nil {
			return a.fail(ctx, s.Name(), err)
		}
		if err := s.Start(ctx); err != nil {
			return a.fail(ctx, s.Name(), err)
		}
		a.mu.Lock()
		a.running = append(a.running, s)
		a.mu.Unlock()
	}
	a.setState(StateStarted)
	a.center.Post(DidStart, a, nil)
	return nil
}

// fail stops what was started, posts SIPApplicationDidFail and returns the
// application to StateNew.
func (a *Application) fail(ctx context.Context, name string, err error) error {
	err = fmt.Errorf("start %s: %w", name, err)
	a.log.Error("application failed to start", "subsystem", name, "error", err)
	if stopErr := a.stopRunning(context.WithoutCancel(ctx)); stopErr != nil {
		a.log.Error("stopping after a failed start", "error", stopErr)
	}
	a.center.Post(DidFail, a, DidFailData{Subsystem: name, Error: err})
	a.setState(StateNew)
	return err
}

// stopRunning stops the started subsystems in reverse order.
func (a *Application) stopRunning(ctx context.Context) error {
	a.mu.Lock()
	running := a.running
	a.running = nil
	a.mu.Unlock()
	var errs []error
	for i := len(running) - 1; i >= 0; i-- {
		if err := running[i].Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", running[i].Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Stop stops every subsystem in reverse order, posting
// SIPApplicationWillEnd and SIPApplicationDidEnd. An Application cannot be
// started again after Stop. Stop returns once every subsystem has stopped;
// errors of individual subsystems are joined.
func (a *Application) Stop(ctx context.Context) error {
	a.opMu.Lock()
	defer a.opMu.Unlock()
	a.mu.Lock()
	if a.state != StateStarted {
		st := a.state
		a.mu.Unlock()
		return fmt.Errorf("stop: %w: it is %s", ErrWrongState, st)
	}
	a.state = StateStopping
	a.mu.Unlock()
	a.center.Post(WillEnd, a, nil)
	err := a.stopRunning(ctx)
	a.setState(StateEnded)
	a.center.Post(DidEnd, a, nil)
	return err
}

// configSubsystem starts the configuration manager and the global settings.
type configSubsystem struct {
	app     *Application
	backend configuration.Backend
}

func (c *configSubsystem) Name() string { return "configuration" }

func (c *configSubsystem) Start(ctx context.Context) error {
	a := c.app
	m := configuration.NewManager(c.backend, a.center, a.Logger())
	if err := m.Start(); err != nil {
		return err
	}
	s, err := settings.New(m)
	if err != nil {
		m.Stop()
		return err
	}
	if s.InstanceID.Get() == "" {
		s.InstanceID.Set("urn:uuid:" + uuid.NewString())
	}
	if err := s.Save(); err != nil {
		m.Stop()
		return err
	}
	a.mu.Lock()
	a.config, a.settings = m, s
	a.mu.Unlock()
	return nil
}

func (c *configSubsystem) Stop(ctx context.Context) error {
	return c.app.Configuration().Stop()
}
