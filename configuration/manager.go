package configuration

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/sipsimple-go/sipsimple/notification"
)

// Notification names posted by the configuration framework.
const (
	SettingsObjectWasCreated   = "CFGSettingsObjectWasCreated"
	SettingsObjectWasActivated = "CFGSettingsObjectWasActivated"
	SettingsObjectWasDeleted   = "CFGSettingsObjectWasDeleted"
	SettingsObjectDidChange    = "CFGSettingsObjectDidChange"
	ManagerLoadFailed          = "CFGManagerLoadFailed"
	ManagerSaveFailed          = "CFGManagerSaveFailed"
)

// SettingsObjectDidChangeData is the data of CFGSettingsObjectDidChange:
// every modified setting's dotted name with its old and new value.
type SettingsObjectDidChangeData struct {
	Modified map[string]ModifiedValue
}

// ManagerLoadFailedData is the data of CFGManagerLoadFailed, posted when a
// stored value cannot be loaded into a setting (the setting keeps its
// default and the stored value is left in storage).
type ManagerLoadFailedData struct {
	Attribute string // dotted setting name
	Container string // the object's key, dotted
	Error     error
}

// ManagerSaveFailedData is the data of CFGManagerSaveFailed.
type ManagerSaveFailedData struct {
	Object    any    // the object's owner
	Operation string // "save" or "delete"
	Modified  map[string]ModifiedValue
	Error     error
}

// ErrNotStarted is wrapped by errors from a Manager that is not started.
var ErrNotStarted = errors.New("configuration manager is not started")

// Manager is python-sipsimple's ConfigurationManager: it loads the whole
// configuration tree from a Backend when started and persists the objects
// created through it. One Manager belongs to one application; several can
// exist in one process.
type Manager struct {
	backend Backend
	center  *notification.Center
	log     *slog.Logger

	writeMu sync.Mutex // one backend write at a time

	mu      sync.Mutex // guards the fields below
	started bool
	tree    Tree // the desired tree, including changes not yet written
	gen     uint64
	written uint64 // the newest gen known to be on storage
	objects map[string]*Object
}

// NewManager returns a stopped manager over backend that posts its
// notifications to center. A nil logger means slog.Default().
func NewManager(backend Backend, center *notification.Center, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	return &Manager{backend: backend, center: center, log: log, objects: map[string]*Object{}}
}

// Backend returns the manager's storage backend.
func (m *Manager) Backend() Backend { return m.backend }

// Start loads the configuration tree. A file that cannot be read or parsed
// is reported (a *FileError with its path and line) and left untouched: the
// manager stays stopped and never writes it.
func (m *Manager) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("configuration manager is already started")
	}
	t, err := m.backend.Load()
	if err != nil {
		return err
	}
	m.tree, m.started = t, true
	return nil
}

// Stop stops the manager; objects can no longer be created or saved.
func (m *Manager) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		return fmt.Errorf("stop: %w", ErrNotStarted)
	}
	m.started = false
	m.objects = map[string]*Object{}
	return nil
}

// Names returns the sorted names of the groups stored under path, for
// example the ids of the accounts under "Accounts".
func (m *Manager) Names(path ...string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, _ := m.tree.Lookup(path...)
	t, _ := v.(Tree)
	var names []string
	for k, v := range t {
		if _, ok := v.(Tree); ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// Get returns a copy of the stored value at path.
func (m *Manager) Get(path ...string) (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.tree.Lookup(path...)
	if t, isTree := v.(Tree); isTree {
		return t.Clone(), ok
	}
	return v, ok
}

// NewObject creates the settings object stored at key (for example
// ["SIPSimpleSettings"] or ["Accounts", "alice@example.com"]). The caller
// then defines its settings on Root(); stored values are loaded as each
// setting is defined. An object whose key is already in use by a live
// object is refused.
func (m *Manager) NewObject(key []string, opts ...ObjectOption) (*Object, error) {
	if len(key) == 0 {
		return nil, errors.New("settings object key must not be empty")
	}
	for _, k := range key {
		if err := validKey(k); err != nil {
			return nil, fmt.Errorf("settings object id %q: %w", k, err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		return nil, fmt.Errorf("new settings object %s: %w", strings.Join(key, "."), ErrNotStarted)
	}
	id := strings.Join(key, "\x00")
	if _, dup := m.objects[id]; dup {
		return nil, fmt.Errorf("settings object %s already exists", strings.Join(key, "."))
	}
	o := &Object{mgr: m, key: append([]string(nil), key...), byName: map[string]node{},
		groups: map[string]bool{}, saved: map[string]savedValue{}, stored: Tree{}}
	for _, f := range opts {
		f(o)
	}
	if v, ok := m.tree.Lookup(key...); ok {
		if t, isTree := v.(Tree); isTree {
			o.stored = t.Clone()
			o.state = stateActive
		}
	}
	m.objects[id] = o
	return o, nil
}

func (m *Manager) forget(o *Object) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := strings.Join(o.key, "\x00")
	if m.objects[id] == o {
		delete(m.objects, id)
	}
}

// commit applies mutate to the desired tree and makes sure a tree containing
// the change reaches the backend. Concurrent commits are grouped into one
// write (group commit), so many objects saved at once cost few writes.
func (m *Manager) commit(mutate func(Tree)) error {
	m.mu.Lock()
	if !m.started {
		m.mu.Unlock()
		return fmt.Errorf("save: %w", ErrNotStarted)
	}
	mutate(m.tree)
	m.gen++
	mine := m.gen
	m.mu.Unlock()

	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	m.mu.Lock()
	if m.written >= mine {
		m.mu.Unlock()
		return nil // a write that included this change already succeeded
	}
	snapshot, gen := m.tree.Clone(), m.gen
	m.mu.Unlock()
	if err := m.backend.Save(snapshot); err != nil {
		return err
	}
	m.mu.Lock()
	if gen > m.written {
		m.written = gen
	}
	m.mu.Unlock()
	return nil
}

func (m *Manager) post(name string, sender, data any) {
	if m.center != nil {
		m.center.Post(name, sender, data)
	}
}

func (m *Manager) loadFailed(attribute, container string, err error) {
	m.log.Error("configuration: cannot load stored value, using the default", "setting", attribute, "object", container, "error", err)
	m.post(ManagerLoadFailed, m, ManagerLoadFailedData{Attribute: attribute, Container: container, Error: err})
}

func (m *Manager) saveFailed(sender any, op string, modified map[string]ModifiedValue, err error) {
	m.log.Error("configuration: cannot persist settings", "operation", op, "error", err)
	m.post(ManagerSaveFailed, m, ManagerSaveFailedData{Object: sender, Operation: op, Modified: modified, Error: err})
}
