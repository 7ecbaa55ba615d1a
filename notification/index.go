package notification

// index is an immutable snapshot of the registrations of a Center, indexed
// by name first and sender second. Post reads the current snapshot through
// an atomic pointer without locking; AddObserver and RemoveObserver build a
// new snapshot under the Center's mutex, copying only what they change.
type index struct {
	names map[string]*entry
}

// entry holds the registrations for one name (possibly Any).
type entry struct {
	any      []*observer         // registered with the nil sender wildcard
	bySender map[any][]*observer // registered with a specific sender
}

// regKey is one registration of an observer.
type regKey struct {
	name   string
	sender any
}

// txn builds a new index from an old one by copy-on-write. Entries, maps and
// slices shared with the old index are never modified in place.
type txn struct {
	names      map[string]*entry
	freshEntry map[*entry]bool // entries created by this txn
	freshMap   map[*entry]bool // entries whose bySender map was copied by this txn
}

func newTxn(old *index) *txn {
	names := make(map[string]*entry, len(old.names)+1)
	for k, v := range old.names {
		names[k] = v
	}
	return &txn{names: names, freshEntry: map[*entry]bool{}, freshMap: map[*entry]bool{}}
}

func (t *txn) commit() *index { return &index{names: t.names} }

// entry returns a mutable copy of the entry for name, creating it if needed.
func (t *txn) entry(name string) *entry {
	e := t.names[name]
	if e != nil && t.freshEntry[e] {
		return e
	}
	ne := &entry{}
	if e != nil {
		*ne = *e
	}
	t.freshEntry[ne] = true
	t.names[name] = ne
	return ne
}

// ownMap makes sure e.bySender is a map private to this txn.
func (t *txn) ownMap(e *entry) {
	if t.freshMap[e] {
		return
	}
	m := make(map[any][]*observer, len(e.bySender)+1)
	for k, v := range e.bySender {
		m[k] = v
	}
	e.bySender = m
	t.freshMap[e] = true
}

func (t *txn) add(k regKey, ob *observer) {
	e := t.entry(k.name)
	if k.sender == nil {
		e.any = appendCopy(e.any, ob)
		return
	}
	t.ownMap(e)
	e.bySender[k.sender] = appendCopy(e.bySender[k.sender], ob)
}

func (t *txn) remove(k regKey, ob *observer) {
	e := t.entry(k.name)
	if k.sender == nil {
		e.any = without(e.any, ob)
	} else {
		t.ownMap(e)
		if l := without(e.bySender[k.sender], ob); len(l) > 0 {
			e.bySender[k.sender] = l
		} else {
			delete(e.bySender, k.sender)
		}
	}
	if len(e.any) == 0 && len(e.bySender) == 0 {
		delete(t.names, k.name)
	}
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
