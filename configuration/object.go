package configuration

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

type objectState int

const (
	stateNew     objectState = iota // never saved
	stateActive                     // loaded from or saved to storage
	stateDeleted                    // deleted; unusable
)

// ErrDeleted is wrapped by errors from objects that were deleted.
var ErrDeleted = errors.New("settings object was deleted")

// Object is a settings object (python-sipsimple's SettingsObject): a tree
// of typed settings with an identity, persisted under a key of the
// configuration tree. The global SIPSimpleSettings is one object; every
// account is another.
//
// Settings are changed in memory with their Set methods (which validate the
// value at once) and become effective with Save, which validates the whole
// object again, persists it atomically and posts CFGSettingsObjectDidChange
// listing every modified setting. An Object is safe for concurrent use.
type Object struct {
	mgr    *Manager
	key    []string
	static bool
	owner  any

	saveMu sync.Mutex // serialises Save and Delete

	mu         sync.RWMutex // guards everything below and the settings' values
	nodes      []node
	byName     map[string]node
	groups     map[string]bool
	stored     Tree                  // the object's stored subtree (unknown keys are kept)
	saved      map[string]savedValue // values as of the last load or save
	validators []func() error
	state      objectState
}

type savedValue struct {
	text  string
	isNil bool
	typed any
}

// ObjectOption modifies an object created by Manager.NewObject.
type ObjectOption func(*Object)

// StaticID marks an object whose id never changes and which cannot be
// deleted, like the global SIPSimpleSettings.
func StaticID() ObjectOption { return func(o *Object) { o.static = true } }

// Owner sets the sender of the object's notifications (for example the
// *account.Account that embeds the object); by default it is the Object.
func Owner(owner any) ObjectOption { return func(o *Object) { o.owner = owner } }

// ID returns the object's id (the last component of its key).
func (o *Object) ID() string { return o.key[len(o.key)-1] }

// Key returns the object's key in the configuration tree, for example
// ["Accounts", "alice@example.com"].
func (o *Object) Key() []string { return append([]string(nil), o.key...) }

// Root returns the root group, to which settings and subgroups are added.
func (o *Object) Root() Group { return Group{obj: o} }

// SetOwner sets the sender of the object's notifications.
func (o *Object) SetOwner(owner any) {
	o.mu.Lock()
	o.owner = owner
	o.mu.Unlock()
}

func (o *Object) sender() any {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.owner != nil {
		return o.owner
	}
	return o
}

// IsNew reports whether the object has never been saved.
func (o *Object) IsNew() bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.state == stateNew
}

// AddValidator adds a rule spanning several settings (python-sipsimple's
// CorrelatedSetting), checked by Save after every setting's own rule. It
// should return a *ValidationError.
func (o *Object) AddValidator(f func() error) {
	o.mu.Lock()
	o.validators = append(o.validators, f)
	o.mu.Unlock()
}

// Lookup returns the setting with the given dotted name.
func (o *Object) Lookup(name string) (Node, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	n, ok := o.byName[name]
	return n, ok
}

// Settings returns every setting in definition order.
func (o *Object) Settings() []Node {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]Node, len(o.nodes))
	for i, n := range o.nodes {
		out[i] = n
	}
	return out
}

// usable is called with o.mu held.
func (o *Object) usable() error {
	if o.state == stateDeleted {
		return fmt.Errorf("settings object %s: %w", o.ID(), ErrDeleted)
	}
	return nil
}

func (o *Object) addGroup(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, clash := o.byName[name]; clash {
		panic(fmt.Sprintf("configuration: group %s clashes with a setting of %s", name, o.ID()))
	}
	o.groups[name] = true
}

func (o *Object) add(n node) {
	o.mu.Lock()
	name := n.Name()
	if _, dup := o.byName[name]; dup || o.groups[name] {
		o.mu.Unlock()
		panic(fmt.Sprintf("configuration: setting %s of %s is defined twice", name, o.ID()))
	}
	o.nodes = append(o.nodes, n)
	o.byName[name] = n
	var loadErr error
	if v, ok := o.stored.Lookup(strings.Split(name, ".")...); ok && !n.Runtime() {
		loadErr = n.loadLocked(v)
	}
	o.saved[name] = savedOf(n)
	o.mu.Unlock()
	if loadErr != nil {
		o.mgr.loadFailed(name, strings.Join(o.key, "."), loadErr)
	}
}

// savedOf is called with o.mu held.
func savedOf(n node) savedValue {
	stored, typed := n.snapshotLocked()
	sv := savedValue{typed: typed, isNil: stored == nil}
	switch x := stored.(type) {
	case string:
		sv.text = x
	case []string:
		sv.text = strings.Join(x, "\x00") + "\x01"
	}
	return sv
}

// ModifiedValue is the old and new value of a modified setting.
type ModifiedValue struct {
	Old, New any
}

// Save validates every setting and the object's rules, persists the object
// atomically and posts CFGSettingsObjectDidChange with each modified
// setting's dotted name, old and new value. Nothing is posted when nothing
// changed. The first save of a new object posts CFGSettingsObjectWasActivated
// and CFGSettingsObjectWasCreated instead. When validation fails, nothing is
// written and the error names the setting, the value and the rule.
func (o *Object) Save() error {
	o.saveMu.Lock()
	defer o.saveMu.Unlock()

	o.mu.RLock()
	if err := o.usable(); err != nil {
		o.mu.RUnlock()
		return err
	}
	for _, n := range o.nodes {
		if err := n.validateLocked(); err != nil {
			o.mu.RUnlock()
			return err
		}
	}
	validators := append([]func() error(nil), o.validators...)
	o.mu.RUnlock()
	for _, v := range validators {
		if err := v(); err != nil {
			return err
		}
	}

	o.mu.RLock()
	wasNew := o.state == stateNew
	subtree := o.stored.Clone()
	modified := map[string]ModifiedValue{}
	now := make(map[string]savedValue, len(o.nodes))
	for _, n := range o.nodes {
		name := n.Name()
		sv := savedOf(n)
		now[name] = sv
		if old := o.saved[name]; old.text != sv.text || old.isNil != sv.isNil {
			modified[name] = ModifiedValue{Old: old.typed, New: sv.typed}
		}
		if n.Runtime() {
			continue
		}
		path := strings.Split(name, ".")
		if n.isSetLocked() {
			stored, _ := n.snapshotLocked()
			subtree.set(path, stored, false)
		} else {
			subtree.set(path, nil, true)
		}
	}
	pruneEmpty(subtree)
	storageChanged := wasNew || !treesEqual(subtree, o.stored)
	o.mu.RUnlock()

	if !storageChanged && len(modified) == 0 {
		return nil
	}
	if storageChanged {
		if err := o.mgr.commit(func(t Tree) { t.set(o.key, subtree.Clone(), false) }); err != nil {
			o.mgr.saveFailed(o.sender(), "save", modified, err)
			return err
		}
	}
	o.mu.Lock()
	o.stored = subtree
	o.saved = now
	if wasNew {
		o.state = stateActive
	}
	o.mu.Unlock()

	sender := o.sender()
	if wasNew {
		o.mgr.post(SettingsObjectWasActivated, sender, nil)
		o.mgr.post(SettingsObjectWasCreated, sender, nil)
	} else if len(modified) > 0 {
		o.mgr.post(SettingsObjectDidChange, sender, SettingsObjectDidChangeData{Modified: modified})
	}
	return nil
}

// Delete removes the object from storage and posts
// CFGSettingsObjectWasDeleted. Objects with a static id cannot be deleted.
// A deleted object refuses further changes.
func (o *Object) Delete() error {
	if o.static {
		return fmt.Errorf("settings object %s has a static id and cannot be deleted", o.ID())
	}
	o.saveMu.Lock()
	defer o.saveMu.Unlock()
	o.mu.RLock()
	err, wasNew := o.usable(), o.state == stateNew
	o.mu.RUnlock()
	if err != nil {
		return err
	}
	if !wasNew {
		if err := o.mgr.commit(func(t Tree) { t.set(o.key, nil, true); pruneEmpty(t) }); err != nil {
			o.mgr.saveFailed(o.sender(), "delete", nil, err)
			return err
		}
	}
	o.mu.Lock()
	o.state = stateDeleted
	o.mu.Unlock()
	o.mgr.forget(o)
	o.mgr.post(SettingsObjectWasDeleted, o.sender(), nil)
	return nil
}

// pruneEmpty removes groups left empty.
func pruneEmpty(t Tree) {
	for k, v := range t {
		if sub, ok := v.(Tree); ok {
			pruneEmpty(sub)
			if len(sub) == 0 {
				delete(t, k)
			}
		}
	}
}

func treesEqual(a, b Tree) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok {
			return false
		}
		switch x := av.(type) {
		case nil:
			if bv != nil {
				return false
			}
		case string:
			if y, ok := bv.(string); !ok || x != y {
				return false
			}
		case []string:
			y, ok := bv.([]string)
			if !ok || len(x) != len(y) {
				return false
			}
			for i := range x {
				if x[i] != y[i] {
					return false
				}
			}
		case Tree:
			if y, ok := bv.(Tree); !ok || !treesEqual(x, y) {
				return false
			}
		}
	}
	return true
}
