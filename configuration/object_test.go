package configuration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipsimple-go/sipsimple/notification"
)

// testObject is a small settings object with every shape of setting.
type testObject struct {
	*Object
	Name    *Setting[string]
	Port    *Setting[int]
	Codecs  *Setting[[]string]
	Proxy   *Optional[string]
	Muted   *Setting[bool]
	Range   *Setting[PortRange]
	Timeout *Setting[time.Duration]
	Deep    *Setting[bool]
}

func newTestObject(t testing.TB, m *Manager, key ...string) *testObject {
	t.Helper()
	obj, err := m.NewObject(key)
	if err != nil {
		t.Fatal(err)
	}
	o := &testObject{Object: obj}
	obj.SetOwner(o)
	r := obj.Root()
	o.Name = Define(r, "name", NonEmptyString, "default-name")
	sip := r.Group("sip")
	o.Port = Define(sip, "port", Port, 5060)
	o.Proxy = DefineOptional(sip, "proxy", SIPURIKind, "", false)
	o.Codecs = Define[[]string](r.Group("rtp"), "codecs", AudioCodecList, []string{"PCMU", "PCMA"})
	o.Range = Define(r.Group("rtp"), "range", PortRangeKind, PortRange{50000, 50500})
	o.Timeout = Define(sip, "timeout", Duration, 90*time.Second)
	o.Muted = Define(r, "muted", Bool, false, RuntimeOnly())
	o.Deep = Define(r.Group("a").Group("b").Group("c"), "flag", Bool, false)
	return o
}

func startManager(t testing.TB, b Backend) (*Manager, *notification.Center) {
	t.Helper()
	c := notification.NewCenter()
	t.Cleanup(c.Close)
	m := NewManager(b, c, nil)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	return m, c
}

func waitData[T any](t *testing.T, w *notification.Waiter) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := w.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := notification.Data[T](n)
	return d
}

func TestSaveLifecycle(t *testing.T) {
	backend := NewMemoryBackend(nil)
	m, c := startManager(t, backend)
	o := newTestObject(t, m, "Things", "one")
	if !o.IsNew() {
		t.Fatal("object without stored data must be new")
	}
	activated := c.Expect(SettingsObjectWasActivated, o)
	created := c.Expect(SettingsObjectWasCreated, o)
	if err := o.Save(); err != nil {
		t.Fatal(err)
	}
	waitData[any](t, activated)
	waitData[any](t, created)

	// A save with nothing changed posts nothing: the next DidChange we
	// see must be the one of the following real change.
	changed := c.Expect(SettingsObjectDidChange, o)
	if err := o.Save(); err != nil {
		t.Fatal(err)
	}
	if err := o.Port.Set(5070); err != nil {
		t.Fatal(err)
	}
	if err := o.Codecs.Set([]string{"PCMA"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Proxy.Set("sip:proxy.example.com"); err != nil {
		t.Fatal(err)
	}
	o.Deep.Set(true)
	o.Muted.Set(true)
	o.Name.Set("default-name") // explicitly set to the default value: stored, not modified
	if err := o.Save(); err != nil {
		t.Fatal(err)
	}
	d := waitData[SettingsObjectDidChangeData](t, changed)
	want := map[string]ModifiedValue{
		"sip.port":   {Old: 5060, New: 5070},
		"rtp.codecs": {Old: []string{"PCMU", "PCMA"}, New: []string{"PCMA"}},
		"sip.proxy":  {Old: nil, New: "sip:proxy.example.com"},
		"a.b.c.flag": {Old: false, New: true},
		"muted":      {Old: false, New: true},
	}
	if !reflect.DeepEqual(d.Modified, want) {
		t.Fatalf("modified = %#v\nwant %#v", d.Modified, want)
	}
	stored, _ := backend.Load()
	wantTree := Tree{"Things": Tree{"one": Tree{
		"name": "default-name",
		"sip":  Tree{"port": "5070", "proxy": "sip:proxy.example.com"},
		"rtp":  Tree{"codecs": []string{"PCMA"}},
		"a":    Tree{"b": Tree{"c": Tree{"flag": "true"}}},
	}}}
	if !reflect.DeepEqual(stored, wantTree) {
		t.Fatalf("stored %#v\nwant %#v (runtime settings and defaults are not stored)", stored, wantTree)
	}

	// Reset and Clear are changes too.
	changed = c.Expect(SettingsObjectDidChange, o)
	o.Port.Reset()
	o.Proxy.Clear()
	if err := o.Save(); err != nil {
		t.Fatal(err)
	}
	d = waitData[SettingsObjectDidChangeData](t, changed)
	if len(d.Modified) != 2 || d.Modified["sip.port"] != (ModifiedValue{5070, 5060}) || d.Modified["sip.proxy"].New != nil {
		t.Fatalf("modified after reset = %#v", d.Modified)
	}

	// Delete.
	deleted := c.Expect(SettingsObjectWasDeleted, o)
	if err := o.Delete(); err != nil {
		t.Fatal(err)
	}
	waitData[any](t, deleted)
	if stored, _ := backend.Load(); len(stored) != 0 {
		t.Fatalf("after delete the store holds %#v", stored)
	}
	if err := o.Port.Set(1); !errors.Is(err, ErrDeleted) {
		t.Errorf("Set on deleted object: %v, want ErrDeleted", err)
	}
	if err := o.Save(); !errors.Is(err, ErrDeleted) {
		t.Errorf("Save on deleted object: %v, want ErrDeleted", err)
	}
	// The key is free again.
	if _, err := m.NewObject([]string{"Things", "one"}); err != nil {
		t.Errorf("key not released after delete: %v", err)
	}
}

func TestLoadStoredValues(t *testing.T) {
	backend := NewMemoryBackend(Tree{"Things": Tree{"one": Tree{
		"name":    "stored",
		"sip":     Tree{"port": "99999", "timeout": "1m", "unknown": "kept"},
		"rtp":     Tree{"codecs": []string{"PCMA", "PCMU"}, "range": "100-200"},
		"removed": Tree{"x": "1"},
	}}})
	m, c := startManager(t, backend)
	loadFailed := c.Expect(ManagerLoadFailed, m)
	o := newTestObject(t, m, "Things", "one")
	if o.IsNew() {
		t.Fatal("stored object must not be new")
	}
	if o.Name.Get() != "stored" || o.Timeout.Get() != time.Minute || o.Range.Get() != (PortRange{100, 200}) {
		t.Fatalf("loaded values: %q %v %v", o.Name.Get(), o.Timeout.Get(), o.Range.Get())
	}
	if got := o.Codecs.Get(); !reflect.DeepEqual(got, []string{"PCMA", "PCMU"}) {
		t.Fatalf("codecs = %v", got)
	}
	d := waitData[ManagerLoadFailedData](t, loadFailed)
	if d.Attribute != "sip.port" || d.Container != "Things.one" || d.Error == nil {
		t.Fatalf("load failure data = %#v", d)
	}
	if o.Port.Get() != 5060 {
		t.Fatalf("a value that fails to load must leave the default, got %d", o.Port.Get())
	}
	// Unknown stored keys survive a save.
	o.Name.Set("changed")
	if err := o.Save(); err != nil {
		t.Fatal(err)
	}
	stored, _ := backend.Load()
	if v, _ := stored.Lookup("Things", "one", "sip", "unknown"); v != "kept" {
		t.Fatalf("unknown key lost: %#v", stored)
	}
	if v, _ := stored.Lookup("Things", "one", "removed", "x"); v != "1" {
		t.Fatalf("unknown group lost: %#v", stored)
	}
}

func TestValidationErrors(t *testing.T) {
	m, _ := startManager(t, NewMemoryBackend(nil))
	o := newTestObject(t, m, "Things", "one")
	err := o.Port.Set(70000)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Setting != "sip.port" || ve.Value != "70000" || !strings.Contains(ve.Rule, "65535") {
		t.Fatalf("Set(70000) = %v", err)
	}
	if o.Port.Get() != 5060 {
		t.Fatal("a rejected value must not be stored")
	}
	n, ok := o.Lookup("sip.proxy")
	if !ok {
		t.Fatal("Lookup(sip.proxy) failed")
	}
	if err := n.SetText("http://x"); err == nil || !strings.Contains(err.Error(), "sip.proxy") {
		t.Fatalf("SetText error = %v", err)
	}
	if err := n.SetText("none"); err != nil || n.Value() != nil {
		t.Fatalf("SetText(none) on an optional setting: %v %v", err, n.Value())
	}
	if err := n.SetText("sip:a.example.com"); err != nil || n.Text() != "sip:a.example.com" {
		t.Fatalf("SetText: %v %q", err, n.Text())
	}
	pn, _ := o.Lookup("sip.port")
	if err := pn.SetText("abc"); err == nil || !strings.Contains(err.Error(), `"abc"`) {
		t.Fatalf("SetText(abc) = %v", err)
	}

	// An object rule: Save validates everything first and writes nothing.
	o.AddValidator(func() error {
		if o.Port.Get() == 5070 {
			return &ValidationError{Setting: "sip.port", Value: "5070", Rule: "must not be 5070 in this test"}
		}
		return nil
	})
	o.Port.Set(5070)
	if err := o.Save(); err == nil || !strings.Contains(err.Error(), "must not be 5070") {
		t.Fatalf("Save with a broken rule = %v", err)
	}
	if stored, _ := m.Get("Things"); stored != nil {
		t.Fatalf("an invalid object was written: %#v", stored)
	}
}

func TestDuplicateAndStaticObjects(t *testing.T) {
	m, _ := startManager(t, NewMemoryBackend(nil))
	if _, err := m.NewObject([]string{"Global"}, StaticID()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.NewObject([]string{"Global"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate object: %v", err)
	}
	g, _ := m.NewObject([]string{"G2"}, StaticID())
	if err := g.Delete(); err == nil || !strings.Contains(err.Error(), "static") {
		t.Fatalf("deleting a static object: %v", err)
	}
	if _, err := m.NewObject([]string{"bad key"}); err == nil {
		t.Fatal("a key with white space must be refused")
	}
	if names := m.Names(); len(names) != 0 {
		t.Fatalf("Names() on empty store = %v", names)
	}
}

// Many goroutines change and save objects at once; the file ends up with
// every object's final state and every save returns nil.
func TestConcurrentSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	m, _ := startManager(t, NewFileBackend(path))
	const objects, rounds = 8, 20
	objs := make([]*testObject, objects)
	for i := range objs {
		objs[i] = newTestObject(t, m, "Things", fmt.Sprintf("obj%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, objects*rounds*2)
	for i, o := range objs {
		for w := 0; w < 2; w++ { // two writers per object as well
			wg.Add(1)
			go func(i, w int, o *testObject) {
				defer wg.Done()
				for r := 0; r < rounds; r++ {
					if err := o.Port.Set(1000 + i*100 + r); err != nil {
						errs <- err
					}
					if err := o.Save(); err != nil {
						errs <- err
					}
					_ = o.Port.Get()
				}
			}(i, w, o)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A fresh manager reads what the objects hold now.
	m2, _ := startManager(t, NewFileBackend(path))
	for i, o := range objs {
		o2 := newTestObject(t, m2, "Things", fmt.Sprintf("obj%d", i))
		if o2.Port.Get() != o.Port.Get() {
			t.Errorf("obj%d: file has %d, memory has %d", i, o2.Port.Get(), o.Port.Get())
		}
	}
}

// The crash helper saves ever-newer trees until killed; each tree's values
// all carry the same generation number.
func TestMain(m *testing.M) {
	if path := os.Getenv("CFG_CRASH_HELPER_PATH"); path != "" {
		crashHelper(path)
		return
	}
	os.Exit(m.Run())
}

func generationTree(gen int) Tree {
	g := Tree{}
	for i := 0; i < 2000; i++ {
		g[fmt.Sprintf("key%04d", i)] = fmt.Sprintf("generation %d", gen)
	}
	return Tree{"Data": g}
}

func crashHelper(path string) {
	b := NewFileBackend(path)
	out := bufio.NewWriter(os.Stdout)
	for gen := 1; gen < 100000; gen++ {
		if err := b.Save(generationTree(gen)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintln(out, gen)
		out.Flush()
	}
	os.Exit(0)
}

// A process killed (SIGKILL) while it saves leaves a file that is entirely
// one generation: the old or the new content, never a mix or a truncation.
func TestKilledDuringSave(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	path := filepath.Join(t.TempDir(), "config")
	for round := 0; round < 12; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CFG_CRASH_HELPER_PATH="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		lastDone := 0
		for i := 0; i <= round%4 && sc.Scan(); i++ {
			lastDone, _ = strconv.Atoi(sc.Text())
		}
		cmd.Process.Kill() // in the middle of the next save (or between saves)
		cmd.Wait()
		tree, err := NewFileBackend(path).Load()
		if err != nil {
			t.Fatalf("round %d: file unreadable after kill: %v", round, err)
		}
		data, _ := tree["Data"].(Tree)
		if len(data) != 2000 {
			t.Fatalf("round %d: file holds %d keys, want 2000", round, len(data))
		}
		first := data["key0000"]
		for k, v := range data {
			if v != first {
				t.Fatalf("round %d: mixed content: %s=%v but key0000=%v", round, k, v, first)
			}
		}
		gen, _ := strconv.Atoi(strings.TrimPrefix(first.(string), "generation "))
		if gen < lastDone { // the child may have finished more saves than we read
			t.Fatalf("round %d: file has generation %d, but save %d had completed", round, gen, lastDone)
		}
	}
}
