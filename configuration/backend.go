package configuration

import (
	"fmt"
	"sort"
	"sync"
)

// Tree is the data a Backend stores: a nested map whose values are nil (no
// value), string, []string or Tree.
type Tree map[string]any

// Backend stores the whole configuration tree. Implementations must make
// Save atomic: after a crash, Load returns either the old or the new tree.
type Backend interface {
	// Load returns the stored tree; an empty tree when nothing is stored yet.
	Load() (Tree, error)
	// Save replaces the stored tree.
	Save(Tree) error
}

// Clone returns a deep copy of t.
func (t Tree) Clone() Tree {
	if t == nil {
		return nil
	}
	c := make(Tree, len(t))
	for k, v := range t {
		switch v := v.(type) {
		case Tree:
			c[k] = v.Clone()
		case []string:
			c[k] = append([]string(nil), v...)
		default:
			c[k] = v
		}
	}
	return c
}

// Lookup returns the value at path.
func (t Tree) Lookup(path ...string) (any, bool) {
	var cur any = t
	for _, p := range path {
		m, ok := cur.(Tree)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// set stores v at path, creating groups as needed; a nil v removes the key.
func (t Tree) set(path []string, v any, remove bool) {
	cur := t
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(Tree)
		if !ok {
			if remove {
				return
			}
			next = Tree{}
			cur[p] = next
		}
		cur = next
	}
	if remove {
		delete(cur, path[len(path)-1])
	} else {
		cur[path[len(path)-1]] = v
	}
}

// validate checks that t only holds the value types a Tree may hold.
func (t Tree) validate(prefix string) error {
	for _, k := range sortedKeys(t) {
		if err := validKey(k); err != nil {
			return fmt.Errorf("key %q: %w", prefix+k, err)
		}
		switch v := t[k].(type) {
		case nil, string, []string:
		case Tree:
			if err := v.validate(prefix + k + "."); err != nil {
				return err
			}
		default:
			return fmt.Errorf("key %q: unsupported value type %T", prefix+k, v)
		}
	}
	return nil
}

func sortedKeys(t Tree) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MemoryBackend keeps the tree in memory; it is meant for tests and for
// applications that do not persist settings.
type MemoryBackend struct {
	mu   sync.Mutex
	tree Tree
}

// NewMemoryBackend returns a backend holding a copy of initial (which may be nil).
func NewMemoryBackend(initial Tree) *MemoryBackend {
	if initial == nil {
		initial = Tree{}
	}
	return &MemoryBackend{tree: initial.Clone()}
}

// Load returns a copy of the stored tree.
func (b *MemoryBackend) Load() (Tree, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tree.Clone(), nil
}

// Save stores a copy of t.
func (b *MemoryBackend) Save(t Tree) error {
	if err := t.validate(""); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tree = t.Clone()
	return nil
}
