package configuration

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileFormatVersion is the version of the configuration file format this
// package writes. Files stating a newer version are refused, never
// overwritten.
const FileFormatVersion = 1

const versionComment = "# sipsimple-go configuration, format "

// FileError reports a configuration file that cannot be read or parsed. The
// file is left as it is.
type FileError struct {
	Path string
	Line int // 0 when the error is not about one line
	Err  error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("configuration file %s, line %d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("configuration file %s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// ErrUnknownVersion is wrapped by the FileError for a file written in a
// newer format than this package knows.
var ErrUnknownVersion = errors.New("unknown configuration file format version")

// FileBackend stores the tree in one human-readable text file, in the
// format of python-sipsimple's FileBackend, so that an existing
// ~/.sipclient/config can be read:
//
//	SIPSimpleSettings:
//	    user_agent = "sipsimple-go 0.1"
//	    rtp:
//	        audio_codec_list = opus, G722, PCMU, PCMA
//	        port_range = 50000-50500
//
// Each setting is "name = value"; a group is "name:" with its children
// indented by four spaces; settings come before groups, each sorted by name.
// Lists are comma separated (a one-item list ends with a comma, an empty
// list is a lone comma); an empty value means no value; "" is the empty
// string; values with white space or any of , " ' = : # \ are quoted with
// backslash escapes. '#' starts a comment.
//
// Save writes a temporary file in the same directory with mode 0600, syncs
// it, renames it over the old file and syncs the directory, so a crash at
// any moment leaves either the old or the new file.
type FileBackend struct {
	path string

	// beforeRename, when set (tests), runs after the temporary file is
	// written and synced and before it replaces the old file.
	beforeRename func(tmp string) error
}

// NewFileBackend returns a backend storing the tree in the file at path.
func NewFileBackend(path string) *FileBackend { return &FileBackend{path: path} }

// Path returns the file's path.
func (b *FileBackend) Path() string { return b.path }

// Load reads and parses the file; a missing file is an empty tree. Leftover
// temporary files of an interrupted Save are removed.
func (b *FileBackend) Load() (Tree, error) {
	b.removeStaleTemps()
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Tree{}, nil
	}
	if err != nil {
		return nil, &FileError{Path: b.path, Err: err}
	}
	t, line, err := ParseFile(data)
	if err != nil {
		return nil, &FileError{Path: b.path, Line: line, Err: err}
	}
	return t, nil
}

func (b *FileBackend) tempPattern() string { return "." + filepath.Base(b.path) + ".tmp-*" }

func (b *FileBackend) removeStaleTemps() {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(b.path), b.tempPattern()))
	for _, m := range matches {
		os.Remove(m)
	}
}

// Save formats t and atomically replaces the file.
func (b *FileBackend) Save(t Tree) error {
	if err := t.validate(""); err != nil {
		return &FileError{Path: b.path, Err: err}
	}
	if err := writeFileAtomic(b.path, FormatFile(t), b.beforeRename); err != nil {
		return &FileError{Path: b.path, Err: err}
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and
// renames it over path, then syncs the directory.
func writeFileAtomic(path string, data []byte, beforeRename func(string) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if beforeRename != nil {
		if err = beforeRename(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: some file systems refuse to sync directories
		d.Close()
	}
	return nil
}

// FormatFile renders t in the file format described at FileBackend.
func FormatFile(t Tree) []byte {
	var buf bytes.Buffer
	buf.WriteString(versionComment + strconv.Itoa(FileFormatVersion) + "\n")
	formatTree(&buf, t, 0)
	return buf.Bytes()
}

func formatTree(buf *bytes.Buffer, t Tree, depth int) {
	indent := strings.Repeat("    ", depth)
	keys := sortedKeys(t)
	for _, k := range keys {
		if _, isGroup := t[k].(Tree); isGroup {
			continue
		}
		buf.WriteString(indent + k + " =")
		switch v := t[k].(type) {
		case string:
			buf.WriteString(" " + quoteValue(v))
		case []string:
			buf.WriteString(" " + formatList(v))
		}
		buf.WriteByte('\n')
	}
	for _, k := range keys {
		if sub, isGroup := t[k].(Tree); isGroup {
			buf.WriteString(indent + k + ":\n")
			formatTree(buf, sub, depth+1)
		}
	}
}

func formatList(v []string) string {
	switch len(v) {
	case 0:
		return ","
	case 1:
		return quoteValue(v[0]) + ","
	}
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = quoteValue(s)
	}
	return strings.Join(q, ", ")
}

func quoteValue(s string) string {
	if s != "" && strings.TrimSpace(s) == s && !strings.ContainsAny(s, ",\"'=:#\\ \t\r\n\f\v") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ { // bytes, not runes: invalid UTF-8 must survive
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// validKey reports whether a key can be written in the file format.
func validKey(k string) error {
	if k == "" {
		return errors.New("empty name")
	}
	if strings.ContainsAny(k, ",\"'=:#\\ \t\r\n\f\v") {
		return errors.New(`name must not contain white space or any of , " ' = : # \`)
	}
	return nil
}

// ParseFile parses the file format described at FileBackend. On error it
// returns the 1-based number of the offending line.
func ParseFile(data []byte) (Tree, int, error) {
	root := Tree{}
	type level struct {
		indent int // -1 until the group's first entry fixes it
		tree   Tree
	}
	stack := []level{{0, root}}
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		lineNo := i + 1
		line := strings.TrimRight(raw, "\r")
		if lineNo == 1 && strings.HasPrefix(line, versionComment) {
			v, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, versionComment)))
			if err != nil || v < 1 {
				return nil, lineNo, fmt.Errorf("malformed format version comment %q", line)
			}
			if v > FileFormatVersion {
				return nil, lineNo, fmt.Errorf("%w %d (this program reads up to %d)", ErrUnknownVersion, v, FileFormatVersion)
			}
			continue
		}
		content, err := stripComment(line)
		if err != nil {
			return nil, lineNo, err
		}
		if strings.TrimSpace(content) == "" {
			continue
		}
		body := strings.TrimLeft(content, " ")
		if strings.HasPrefix(body, "\t") {
			return nil, lineNo, errors.New("indentation must use spaces, not tabs")
		}
		indent := len(content) - len(body)
		body = strings.TrimRight(body, " \t")
		if top := &stack[len(stack)-1]; top.indent < 0 {
			if indent > stack[len(stack)-2].indent {
				top.indent = indent // first entry of a new group
			} else {
				stack = stack[:len(stack)-1] // the group was empty
			}
		}
		for len(stack) > 1 && indent < stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
		}
		if indent != stack[len(stack)-1].indent {
			return nil, lineNo, errors.New("indentation does not match any enclosing group")
		}
		cur := stack[len(stack)-1].tree
		name, value, isSetting := strings.Cut(body, "=")
		if !isSetting {
			if !strings.HasSuffix(body, ":") {
				return nil, lineNo, fmt.Errorf(`expected "name = value" or "name:", got %q`, body)
			}
			name = strings.TrimSuffix(body, ":")
		}
		name = strings.TrimSpace(name)
		if err := validKey(name); err != nil {
			return nil, lineNo, err
		}
		if _, dup := cur[name]; dup {
			return nil, lineNo, fmt.Errorf("%q is defined twice", name)
		}
		if isSetting {
			v, err := parseValue(strings.TrimSpace(value))
			if err != nil {
				return nil, lineNo, fmt.Errorf("value of %q: %w", name, err)
			}
			cur[name] = v
			continue
		}
		sub := Tree{}
		cur[name] = sub
		stack = append(stack, level{-1, sub})
	}
	return root, 0, nil
}

// stripComment removes a '#' comment that is not inside quotes.
func stripComment(line string) (string, error) {
	inQuote, esc := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == '#' && !inQuote:
			return line[:i], nil
		}
	}
	if inQuote {
		return "", errors.New("unterminated quoted value")
	}
	return line, nil
}

// parseValue parses a value: empty (nil), a scalar, or a comma-separated list.
func parseValue(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	var items []string
	var cur strings.Builder
	quotedItem, sawComma, inQuote, esc := false, false, false, false
	flush := func() {
		item := cur.String()
		if !quotedItem {
			item = strings.TrimSpace(item)
		}
		items = append(items, item)
		cur.Reset()
		quotedItem = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			switch c {
			case 'n':
				cur.WriteByte('\n')
			case 'r':
				cur.WriteByte('\r')
			default:
				cur.WriteByte(c)
			}
			esc = false
		case inQuote && c == '\\':
			esc = true
		case inQuote && c == '"':
			inQuote = false
		case inQuote:
			cur.WriteByte(c)
		case c == '"':
			if strings.TrimSpace(cur.String()) != "" || quotedItem {
				return nil, errors.New("a quote may only start a value")
			}
			cur.Reset()
			inQuote, quotedItem = true, true
		case c == ',':
			sawComma = true
			flush()
		case quotedItem && c != ' ' && c != '\t':
			return nil, errors.New("unexpected text after a quoted value")
		case quotedItem:
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, errors.New("unterminated quoted value")
	}
	if !sawComma {
		if !quotedItem {
			return strings.TrimSpace(cur.String()), nil
		}
		return cur.String(), nil
	}
	// The item after the last comma is dropped when empty and unquoted
	// ("a," is a one-item list, "," the empty list).
	if quotedItem || strings.TrimSpace(cur.String()) != "" {
		flush()
	}
	if len(items) == 1 && items[0] == "" && s == "," {
		return []string{}, nil
	}
	return items, nil
}
