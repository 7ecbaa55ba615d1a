package configuration

import (
	"fmt"
	"strings"
)

// Node is the untyped view of a setting, used by tools that address
// settings by their dotted name (the command line's "settings set").
type Node interface {
	// Name is the dotted name, for example "sip.udp_port".
	Name() string
	// KindName describes the value type, for example "port".
	KindName() string
	// Value returns the current value (nil when an optional setting has none).
	Value() any
	// Text returns the current value as text ("" when it has none).
	Text() string
	// DefaultText returns the default value as text.
	DefaultText() string
	// IsDefault reports whether the setting has not been set explicitly.
	IsDefault() bool
	// Optional reports whether the setting may have no value.
	Optional() bool
	// Runtime reports whether the setting is never persisted.
	Runtime() bool
	// SetText parses and validates text and sets the value. For an
	// optional setting, "none" (any case) or the empty string clears it.
	SetText(text string) error
	// Reset returns the setting to its default.
	Reset()
}

// ValidationError reports a value that breaks its setting's rule.
type ValidationError struct {
	Setting string // dotted name, prefixed with the object id for object rules
	Value   string // the offending value as text
	Rule    string // what the value must satisfy
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid value %q for setting %s: %s", e.Value, e.Setting, e.Rule)
}

// SettingOption modifies a setting definition.
type SettingOption func(*settingOptions)

type settingOptions struct{ runtime bool }

// RuntimeOnly marks a setting that is never persisted (python-sipsimple's
// RuntimeSetting, for example audio.muted).
func RuntimeOnly() SettingOption { return func(o *settingOptions) { o.runtime = true } }

// setting is the shared implementation of Setting and Optional. Its mutable
// fields are guarded by obj.mu.
type setting[T any] struct {
	obj      *Object
	name     string
	kind     Kind[T]
	def      T
	defNil   bool
	nillable bool
	runtime  bool

	value T
	isNil bool
	set   bool // explicitly set: persisted even when equal to the default
}

func (s *setting[T]) Name() string     { return s.name }
func (s *setting[T]) KindName() string { return s.kind.Name() }
func (s *setting[T]) Optional() bool   { return s.nillable }
func (s *setting[T]) Runtime() bool    { return s.runtime }

func (s *setting[T]) get() (T, bool) {
	s.obj.mu.RLock()
	defer s.obj.mu.RUnlock()
	return s.value, !s.isNil
}

func (s *setting[T]) Value() any {
	v, ok := s.get()
	if !ok {
		return nil
	}
	return v
}

func (s *setting[T]) Text() string {
	v, ok := s.get()
	if !ok {
		return ""
	}
	return s.kind.Format(v)
}

func (s *setting[T]) DefaultText() string {
	if s.defNil {
		return ""
	}
	return s.kind.Format(s.def)
}

func (s *setting[T]) IsDefault() bool {
	s.obj.mu.RLock()
	defer s.obj.mu.RUnlock()
	return !s.set
}

func (s *setting[T]) check(v T) error {
	if err := s.kind.Validate(v); err != nil {
		return &ValidationError{Setting: s.name, Value: s.kind.Format(v), Rule: err.Error()}
	}
	return nil
}

func (s *setting[T]) store(v T, isNil bool) error {
	if !isNil {
		if err := s.check(v); err != nil {
			return err
		}
	}
	s.obj.mu.Lock()
	defer s.obj.mu.Unlock()
	if err := s.obj.usable(); err != nil {
		return err
	}
	s.value, s.isNil, s.set = v, isNil, true
	return nil
}

func (s *setting[T]) SetText(text string) error {
	if s.nillable && (text == "" || strings.EqualFold(strings.TrimSpace(text), "none")) {
		var zero T
		return s.store(zero, true)
	}
	v, err := s.kind.Parse(text)
	if err != nil {
		return &ValidationError{Setting: s.name, Value: text, Rule: err.Error()}
	}
	return s.store(v, false)
}

func (s *setting[T]) Reset() {
	s.obj.mu.Lock()
	defer s.obj.mu.Unlock()
	s.value, s.isNil, s.set = s.def, s.defNil, false
}

// validate checks the current value (called by Save with obj.mu held).
func (s *setting[T]) validateLocked() error {
	if s.isNil {
		if !s.nillable {
			return &ValidationError{Setting: s.name, Value: "", Rule: "must have a value"}
		}
		return nil
	}
	return s.check(s.value)
}

// snapshotLocked returns the value as stored (nil, string or []string) and
// as a typed value for notifications.
func (s *setting[T]) snapshotLocked() (stored any, typed any) {
	if s.isNil {
		return nil, nil
	}
	if lk, ok := s.kind.(ListKind[T]); ok {
		return lk.Items(s.value), s.value
	}
	return s.kind.Format(s.value), s.value
}

func (s *setting[T]) isSetLocked() bool { return s.set }

// loadLocked sets the value from stored data (called with obj.mu held).
func (s *setting[T]) loadLocked(stored any) error {
	var v T
	var err error
	switch x := stored.(type) {
	case nil:
		if !s.nillable {
			return fmt.Errorf("setting %s must have a value", s.name)
		}
		var zero T
		s.value, s.isNil, s.set = zero, true, true
		return nil
	case []string:
		lk, ok := s.kind.(ListKind[T])
		if !ok {
			return fmt.Errorf("setting %s holds a list, expected a %s", s.name, s.kind.Name())
		}
		v, err = lk.ParseItems(x)
	case string:
		v, err = s.kind.Parse(x)
	default:
		return fmt.Errorf("setting %s holds a group, expected a %s", s.name, s.kind.Name())
	}
	if err == nil {
		err = s.check(v)
	} else {
		err = &ValidationError{Setting: s.name, Value: fmt.Sprint(stored), Rule: err.Error()}
	}
	if err != nil {
		return err
	}
	s.value, s.isNil, s.set = v, false, true
	return nil
}

// node is the internal interface of settings held by an Object.
type node interface {
	Node
	validateLocked() error
	snapshotLocked() (stored any, typed any)
	isSetLocked() bool
	loadLocked(stored any) error
}

// Setting is a typed setting that always has a value.
type Setting[T any] struct{ s *setting[T] }

// Get returns the current value.
func (s *Setting[T]) Get() T { v, _ := s.s.get(); return v }

// Set validates v and makes it the current value. The change is persisted
// and announced by the object's Save.
func (s *Setting[T]) Set(v T) error { return s.s.store(v, false) }

// Reset returns the setting to its default value.
func (s *Setting[T]) Reset() { s.s.Reset() }

// IsDefault reports whether the setting has not been set explicitly.
func (s *Setting[T]) IsDefault() bool { return s.s.IsDefault() }

// Default returns the default value.
func (s *Setting[T]) Default() T { return s.s.def }

// Node returns the untyped view of the setting.
func (s *Setting[T]) Node() Node { return s.s }

// Optional is a typed setting that may have no value (python-sipsimple's
// nillable settings).
type Optional[T any] struct{ s *setting[T] }

// Get returns the current value and whether there is one.
func (o *Optional[T]) Get() (T, bool) { return o.s.get() }

// Set validates v and makes it the current value.
func (o *Optional[T]) Set(v T) error { return o.s.store(v, false) }

// Clear removes the value.
func (o *Optional[T]) Clear() error {
	var zero T
	return o.s.store(zero, true)
}

// Reset returns the setting to its default.
func (o *Optional[T]) Reset() { o.s.Reset() }

// IsDefault reports whether the setting has not been set explicitly.
func (o *Optional[T]) IsDefault() bool { return o.s.IsDefault() }

// Node returns the untyped view of the setting.
func (o *Optional[T]) Node() Node { return o.s }

// Define adds a setting that always has a value to group g. It panics when
// the name is taken or def breaks the kind's rule: definitions are program
// text, not input.
func Define[T any](g Group, name string, kind Kind[T], def T, opts ...SettingOption) *Setting[T] {
	s := define(g, name, kind, def, false, false, opts)
	return &Setting[T]{s}
}

// DefineOptional adds a setting that may have no value to group g. When
// hasDefault is false the default is "no value" and def is ignored.
func DefineOptional[T any](g Group, name string, kind Kind[T], def T, hasDefault bool, opts ...SettingOption) *Optional[T] {
	s := define(g, name, kind, def, !hasDefault, true, opts)
	return &Optional[T]{s}
}

func define[T any](g Group, name string, kind Kind[T], def T, defNil, nillable bool, opts []SettingOption) *setting[T] {
	var o settingOptions
	for _, f := range opts {
		f(&o)
	}
	if err := validKey(name); err != nil || strings.Contains(name, ".") {
		panic(fmt.Sprintf("configuration: invalid setting name %q", name))
	}
	s := &setting[T]{obj: g.obj, name: g.prefix + name, kind: kind, def: def, defNil: defNil,
		nillable: nillable, runtime: o.runtime, value: def, isNil: defNil}
	if !defNil {
		if err := s.check(def); err != nil {
			panic(fmt.Sprintf("configuration: default of %s: %v", s.name, err))
		}
	}
	g.obj.add(s)
	return s
}

// Group is a named group of settings inside an Object; groups nest to any
// depth and give settings their dotted names.
type Group struct {
	obj    *Object
	prefix string
}

// Group returns the subgroup called name, creating it.
func (g Group) Group(name string) Group {
	if err := validKey(name); err != nil || strings.Contains(name, ".") {
		panic(fmt.Sprintf("configuration: invalid group name %q", name))
	}
	full := g.prefix + name
	g.obj.addGroup(full)
	return Group{g.obj, full + "."}
}

// Name returns the group's dotted name ("" for the root group).
func (g Group) Name() string { return strings.TrimSuffix(g.prefix, ".") }
