package configuration

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFileFormatRoundTrip(t *testing.T) {
	tree := Tree{
		"SIPSimpleSettings": Tree{
			"user_agent":      "sipsimple-go 0.1",
			"instance_id":     "",
			"default_account": nil,
			"odd":             `a "quoted", back\slash: x=y # not a comment` + "\nnext\rline",
			"rtp": Tree{
				"audio_codec_list": []string{"opus", "G722", "PCMU", "PCMA"},
				"single":           []string{"PCMU"},
				"empty":            []string{},
				"port_range":       "50000-50500",
				"tricky_list":      []string{"a, b", "", `c"d`},
			},
			"sip": Tree{"udp_port": "5060", "deep": Tree{"deeper": Tree{"x": "1"}}},
		},
		"Accounts": Tree{"alice@example.com": Tree{"enabled": "true", "empty_group": Tree{}}},
	}
	data := FormatFile(tree)
	got, line, err := ParseFile(data)
	if err != nil {
		t.Fatalf("parse of formatted tree failed at line %d: %v\n%s", line, err, data)
	}
	if !reflect.DeepEqual(got, tree) {
		t.Fatalf("round trip differs:\n got %#v\nwant %#v\nfile:\n%s", got, tree, data)
	}
	text := string(data)
	for _, want := range []string{
		"    user_agent = \"sipsimple-go 0.1\"\n",
		"        audio_codec_list = opus, G722, PCMU, PCMA\n",
		"        single = PCMU,\n",
		"        empty = ,\n",
		"    default_account =\n",
		"    instance_id = \"\"\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("formatted file lacks %q:\n%s", want, text)
		}
	}
	// Settings come before groups, each sorted by name.
	if strings.Index(text, "    user_agent") > strings.Index(text, "    rtp:") {
		t.Errorf("settings must precede groups:\n%s", text)
	}
}

// A file written by python-sipsimple's FileBackend (no version comment,
// comments, blank lines) loads.
func TestParsePythonFile(t *testing.T) {
	src := `# written by sip-settings
Accounts:
    alice@example.com:
        enabled = true
        auth:
            password = "se cret"

        sip:
            outbound_proxy = proxy.example.com:5060;transport=tcp   # trailing comment
SIPSimpleSettings:
    rtp:
        audio_codec_list = G722, PCMU,
    default_account = alice@example.com
`
	got, line, err := ParseFile([]byte(src))
	if err != nil {
		t.Fatalf("line %d: %v", line, err)
	}
	want := Tree{
		"Accounts": Tree{"alice@example.com": Tree{
			"enabled": "true",
			"auth":    Tree{"password": "se cret"},
			"sip":     Tree{"outbound_proxy": "proxy.example.com:5060;transport=tcp"},
		}},
		"SIPSimpleSettings": Tree{
			"rtp":             Tree{"audio_codec_list": []string{"G722", "PCMU"}},
			"default_account": "alice@example.com",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
}

func TestParseFileErrors(t *testing.T) {
	cases := []struct {
		src  string
		line int
		hint string
	}{
		{"a = 1\n  b = 2\n", 2, "indentation"},
		{"g:\n    a = 1\n  b = 2\n", 3, "indentation"},
		{"a = \"unterminated\n", 1, "unterminated"},
		{"just words\n", 1, `"name = value"`},
		{"a = 1\na = 2\n", 2, "twice"},
		{"g:\n\ta = 1\n", 2, "tabs"},
		{"a = \"x\"y\n", 1, "after a quoted"},
		{"a = x\"y\"\n", 1, "quote"},
		{"# sipsimple-go configuration, format 99\na = 1\n", 1, "unknown configuration file format version"},
		{"# sipsimple-go configuration, format x\n", 1, "malformed"},
		{"bad name = 1\n", 1, "white space"},
	}
	for _, c := range cases {
		_, line, err := ParseFile([]byte(c.src))
		if err == nil {
			t.Errorf("%q: parsed, want error", c.src)
			continue
		}
		if line != c.line || !strings.Contains(err.Error(), c.hint) {
			t.Errorf("%q: error %q at line %d, want %q at line %d", c.src, err, line, c.hint, c.line)
		}
	}
}

// A corrupt file is reported with its path and line, and a manager that
// failed to start never writes it.
func TestCorruptFileIsKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	corrupt := "SIPSimpleSettings:\n    user_agent = \"oops\n"
	if err := os.WriteFile(path, []byte(corrupt), 0o600); err != nil {
		t.Fatal(err)
	}
	m := NewManager(NewFileBackend(path), nil, nil)
	err := m.Start()
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != path || fe.Line != 2 {
		t.Fatalf("Start error = %v, want a FileError for %s line 2", err, path)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error text %q must name the path and line", err)
	}
	if _, err := m.NewObject([]string{"X"}); !errors.Is(err, ErrNotStarted) {
		t.Errorf("NewObject on a failed manager: %v, want ErrNotStarted", err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != corrupt {
		t.Fatalf("corrupt file was modified: %q", data)
	}
}

func TestUnknownVersionIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	content := "# sipsimple-go configuration, format 2\nSIPSimpleSettings:\n    user_agent = x\n"
	os.WriteFile(path, []byte(content), 0o600)
	err := NewManager(NewFileBackend(path), nil, nil).Start()
	if !errors.Is(err, ErrUnknownVersion) {
		t.Fatalf("Start error = %v, want ErrUnknownVersion", err)
	}
	if data, _ := os.ReadFile(path); string(data) != content {
		t.Fatal("file of unknown version was modified")
	}
}

// A failure between writing the temporary file and renaming it (a crash
// simulated in-process) leaves the old content; the leftover temporary file
// is removed by the next Load.
func TestInterruptedSaveKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	b := NewFileBackend(path)
	old := Tree{"a": "old"}
	if err := b.Save(old); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("simulated crash")
	b.beforeRename = func(tmp string) error {
		if _, err := os.Stat(tmp); err != nil {
			t.Errorf("temporary file missing before rename: %v", err)
		}
		return crash
	}
	if err := b.Save(Tree{"a": "new"}); !errors.Is(err, crash) {
		t.Fatalf("Save error = %v, want the simulated crash", err)
	}
	got, err := b.Load()
	if err != nil || !reflect.DeepEqual(got, old) {
		t.Fatalf("after interrupted save: %v, %v; want old content", got, err)
	}
	// Leave a stale temporary file as a killed process would.
	stale := filepath.Join(dir, ".config.tmp-123")
	os.WriteFile(stale, []byte("half"), 0o600)
	b.beforeRename = nil
	if _, err := b.Load(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file not removed: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("config file mode = %v, %v; want 0600", info.Mode(), err)
	}
}
