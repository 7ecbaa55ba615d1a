package notification

import (
	"sync"
	"sync/atomic"
)

// index holds the registrations of a Center, indexed by name first and
// sender second. Post normally reads it without locking; AddObserver,
// RemoveObserver and PurgeObserver change it under the Center's mutex.
//
// It is built so that changing the registrations of one (name, sender) key
// costs time in proportion to the observers of that key only, whatever the
// number of other names and senders:
//
//   - names maps each name (possibly Any) that has registrations to its
//     entry. It is copy-on-write, but is copied only when a name gains its
//     first registration or loses its last one, and names are few.
//   - An entry is changed in place, but every field a reader may see is
//     safe for concurrent use: the list of the nil sender wildcard is an
//     atomic pointer to an immutable slice, and the lists of specific
//     senders are immutable slices held in a sync.Map keyed by sender. A
//     change copies the one slice it affects.
//
// Post looks up to four keys, which it must see as one snapshot, as it did
// when the whole index was copy-on-write: otherwise an observer moved from
// one matching key to another (added under the new one, then removed from
// the old one) could miss a notification posted meanwhile. seq is a sequence
// lock that makes the lookups consistent: a writer makes it odd while it
// changes the index and even again when it is done, and a reader whose
// lookups did not start and end at the same even value looks again under
// the Center's mutex, which excludes writers (see Center.Post). Readers never
// wait for a writer otherwise, and since all the fields they read are atomic
// or immutable, a lookup that overlaps a change is merely discarded.
type index struct {
	seq   atomic.Uint64                     // odd while a change is under way
	names atomic.Pointer[map[string]*entry] // copy-on-write; never nil
}

// entry holds the registrations for one name (possibly Any).
type entry struct {
	any      atomic.Pointer[[]*observer] // registered with the nil sender wildcard; nil when none
	senders  atomic.Int64                // number of keys in bySender
	bySender sync.Map                    // sender -> []*observer registered with it, never empty
}

// regKey is one registration of an observer.
type regKey struct {
	name   string
	sender any
}

func newIndex() *index {
	x := &index{}
	x.names.Store(&map[string]*entry{})
	return x
}

// match stores in lists the non-empty observer lists registered under the
// keys (name, nil), (name, sender), (Any, nil) and (Any, sender), and
// returns how many it stored. Each list is immutable, and never holds an
// observer twice, but an observer may be in several of them. match takes no
// lock: the caller either holds the Center's mutex or checks that seq was
// even before the call and unchanged after it, and otherwise discards the
// result.
func (x *index) match(name string, sender any, lists *[4][]*observer) int {
	names := *x.names.Load()
	k := 0
	hashable := 0 // 0 unknown, 1 yes, -1 no
	e := names[name]
	for i := 0; i < 2; i++ {
		if i == 1 {
			if name == Any {
				break
			}
			e = names[Any]
		}
		if e == nil {
			continue
		}
		if l := e.any.Load(); l != nil {
			lists[k] = *l
			k++
		}
		if sender != nil && e.senders.Load() > 0 {
			if hashable == 0 {
				hashable = -1
				if isComparable(sender) {
					hashable = 1
				}
			}
			if hashable > 0 {
				if l, ok := e.bySender.Load(sender); ok {
					lists[k] = l.([]*observer)
					k++
				}
			}
		}
	}
	return k
}

// add registers ob under k, where it is not registered yet. The Center's
// mutex must be held.
func (x *index) add(k regKey, ob *observer) {
	x.seq.Add(1)
	defer x.seq.Add(1)
	names := *x.names.Load()
	e := names[k.name]
	if e == nil {
		e = &entry{}
		m := make(map[string]*entry, len(names)+1)
		for n, v := range names {
			m[n] = v
		}
		m[k.name] = e
		x.names.Store(&m)
	}
	if k.sender == nil {
		var old []*observer
		if l := e.any.Load(); l != nil {
			old = *l
		}
		l := appendCopy(old, ob)
		e.any.Store(&l)
		return
	}
	var old []*observer
	if l, ok := e.bySender.Load(k.sender); ok {
		old = l.([]*observer)
	} else {
		e.senders.Add(1)
	}
	e.bySender.Store(k.sender, appendCopy(old, ob))
}

// remove removes the registrations of ob under keys, all of which exist, at
// once. The Center's mutex must be held.
func (x *index) remove(keys []regKey, ob *observer) {
	x.seq.Add(1)
	defer x.seq.Add(1)
	var emptied []string
	names := *x.names.Load()
	for _, k := range keys {
		e := names[k.name]
		if e == nil {
			continue // cannot happen: k exists
		}
		if k.sender == nil {
			if l := e.any.Load(); l != nil {
				if n := without(*l, ob); n != nil {
					e.any.Store(&n)
				} else {
					e.any.Store(nil)
				}
			}
		} else if l, ok := e.bySender.Load(k.sender); ok {
			if n := without(l.([]*observer), ob); n != nil {
				e.bySender.Store(k.sender, n)
			} else {
				e.bySender.Delete(k.sender)
				e.senders.Add(-1)
			}
		}
		if e.any.Load() == nil && e.senders.Load() == 0 {
			emptied = append(emptied, k.name)
		}
	}
	if len(emptied) == 0 {
		return
	}
	m := make(map[string]*entry, len(names))
	for n, v := range names {
		m[n] = v
	}
	for _, n := range emptied {
		delete(m, n)
	}
	x.names.Store(&m)
}

// appendCopy returns a new slice holding l followed by ob.
func appendCopy(l []*observer, ob *observer) []*observer {
	n := make([]*observer, len(l), len(l)+1)
	copy(n, l)
	return append(n, ob)
}

// without returns a new slice holding l less ob, or nil when that is empty.
func without(l []*observer, ob *observer) []*observer {
	var n []*observer
	for _, x := range l {
		if x != ob {
			n = append(n, x)
		}
	}
	return n
}
