package main

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sipsimple-go/sipsimple/notification"
)

// printer writes notifications as readable lines or, with --json, as one
// JSON object per line: name, sender, timestamp, data.
type printer struct {
	mu   sync.Mutex
	out  io.Writer
	json bool
	// bar draws file-transfer progress as a bar (a terminal).
	bar      bool
	barShown bool
	bars     map[any]*barState
}

func (p *printer) print(n notification.Notification) {
	data := plain(reflect.ValueOf(n.Data), 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearBarLocked()
	if p.json {
		b, err := json.Marshal(map[string]any{"name": n.Name, "sender": describe(n.Sender),
			"timestamp": n.Timestamp.Format(time.RFC3339Nano), "data": data})
		if err != nil {
			b, _ = json.Marshal(map[string]any{"name": n.Name, "error": err.Error()})
		}
		fmt.Fprintln(p.out, string(b))
		return
	}
	line := n.Timestamp.Format("15:04:05.000") + " " + n.Name
	if s := describe(n.Sender); s != "" {
		line += " [" + s + "]"
	}
	line += fields(data)
	fmt.Fprintln(p.out, line)
}

// fields formats notification data for a readable line: " key=value"
// for each field with a value, sorted by key (the timestamp left out: the
// line starts with it).
func fields(data any) string {
	m, ok := data.(map[string]any)
	if !ok {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if k == "timestamp" {
			continue
		}
		if v := m[k]; v != nil && v != "" {
			fmt.Fprintf(&b, " %s=%v", k, v)
		}
	}
	return b.String()
}

// describe names a sender: its ID() or String() when it has one.
func describe(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case string:
		return s
	case interface{ ID() string }:
		return s.ID()
	case fmt.Stringer:
		return s.String()
	}
	return fmt.Sprintf("%T", v)
}

// plain turns notification data into JSON-friendly values: structs become
// maps with snake_case keys (the seeds' data attribute names), Stringers
// and errors become text, durations seconds.
func plain(v reflect.Value, depth int) any {
	if !v.IsValid() || depth > 4 {
		return nil
	}
	if v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case time.Duration:
			return x.Seconds()
		case time.Time:
			return x.Format(time.RFC3339Nano)
		case error:
			return x.Error()
		case interface{ ID() string }:
			return x.ID()
		case fmt.Stringer:
			if v.Kind() != reflect.Struct || v.NumField() > 0 {
				return x.String()
			}
		case []byte:
			return string(x)
		}
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		return plain(v.Elem(), depth+1)
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.IsExported() {
				m[snake(f.Name)] = plain(v.Field(i), depth+1)
			}
		}
		return m
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i), depth+1)
		}
		return out
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[fmt.Sprint(k.Interface())] = plain(v.MapIndex(k), depth+1)
		}
		return m
	}
	if v.CanInterface() {
		return v.Interface()
	}
	return nil
}

// snake converts a Go field name to the seeds' attribute style:
// ContactURIList -> contact_uri_list.
func snake(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		upper := c >= 'A' && c <= 'Z'
		if upper && i > 0 {
			prevLower := r[i-1] >= 'a' && r[i-1] <= 'z'
			nextLower := i+1 < len(r) && r[i+1] >= 'a' && r[i+1] <= 'z'
			if prevLower || (nextLower && r[i-1] >= 'A' && r[i-1] <= 'Z') {
				b.WriteByte('_')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}
