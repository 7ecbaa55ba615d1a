package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipsimple-go/sipsimple/internal/interop"
)

var binary string

// TestMain builds the sipsimple binary once: these tests run it the way a
// user does and read its output and exit code.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sipsimple-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sipsimple")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building sipsimple: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "sipsimple 0.") {
		t.Fatalf("version: %+v", r)
	}
}

func TestSettingsShowDefaults(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, "--config-dir", dir, "settings", "show")
	if r.code != 0 {
		t.Fatalf("settings show: %+v", r)
	}
	for _, want := range []string{
		"rtp.port_range = 50000-50500\n",
		"rtp.audio_codec_list = opus, G722, PCMU, PCMA\n",
		"sip.udp_port = 0\n",
		"sip.transport_list = tls, tcp, udp\n",
		"tls.verify_server = true\n",
		"tls.ca_list = None\n",
		"user_agent = sipsimple-go 0.",
		"audio.sample_rate = 32000\n",
		"sip.register_interval = 300\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("settings show lacks %q:\n%s", want, r.stdout)
		}
	}
	// Showing does not create the file.
	if _, err := os.Stat(filepath.Join(dir, "config")); !os.IsNotExist(err) {
		t.Errorf("settings show wrote a config file: %v", err)
	}
	r = runCLI(t, "--config-dir", dir, "settings", "show", "rtp")
	if r.code != 0 || strings.Count(r.stdout, "\n") < 3 || !strings.Contains(r.stdout, "rtp.timeout = 30") {
		t.Errorf("settings show rtp: %+v", r)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.HasPrefix(l, "rtp.") {
			t.Errorf("settings show rtp printed %q", l)
		}
	}
	r = runCLI(t, "--config-dir", dir, "--json", "settings", "show", "sip")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) < 5 {
		t.Fatalf("--json settings show sip: %+v", r)
	}
	for _, l := range lines {
		var v settingJSON
		if err := json.Unmarshal([]byte(l), &v); err != nil || !strings.HasPrefix(v.Name, "sip.") {
			t.Errorf("bad JSON line %q: %v", l, err)
		}
	}
}

func TestSettingsSet(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	r := runCLI(t, "--config-dir", dir, "settings", "set", "sip.udp_port", "5070")
	if r.code != 0 || !strings.Contains(r.stdout, "sip.udp_port = 5070  (default: 0)") {
		t.Fatalf("set sip.udp_port: %+v", r)
	}
	data, err := os.ReadFile(cfgFile)
	if err != nil || !strings.Contains(string(data), "        udp_port = 5070\n") {
		t.Fatalf("config file after set: %q %v", data, err)
	}
	r = runCLI(t, "--config-dir", dir, "settings", "show", "sip.udp_port")
	if r.stdout != "sip.udp_port = 5070  (default: 0)\n" {
		t.Fatalf("show after set: %+v", r)
	}
	r = runCLI(t, "--config-dir", dir, "settings", "set", "rtp.audio_codec_list", "pcma,PCMU")
	if r.code != 0 || !strings.Contains(r.stdout, "rtp.audio_codec_list = PCMA, PCMU") {
		t.Fatalf("set codec list: %+v", r)
	}
	r = runCLI(t, "--config-dir", dir, "settings", "set", "tls.ca_list", "/etc/ssl/ca.pem")
	if r.code != 0 {
		t.Fatalf("set ca_list: %+v", r)
	}
	r = runCLI(t, "--config-dir", dir, "settings", "set", "tls.ca_list", "None")
	if r.code != 0 || !strings.Contains(r.stdout, "tls.ca_list = None") {
		t.Fatalf("clear ca_list: %+v", r)
	}
	r = runCLI(t, "--config-dir", dir, "settings", "reset", "sip.udp_port")
	if r.code != 0 || r.stdout != "sip.udp_port = 0\n" {
		t.Fatalf("reset: %+v", r)
	}
}

func TestSettingsSetRejects(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	runCLI(t, "--config-dir", dir, "settings", "set", "sip.tcp_port", "5080")
	before, _ := os.ReadFile(cfgFile)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"sip.udp_port", "70000"}, []string{"sip.udp_port", `"70000"`, "between 0 and 65535"}},
		{[]string{"rtp.port_range", "600-500"}, []string{"rtp.port_range", "start <= end"}},
		{[]string{"rtp.audio_codec_list", "PCMU,G729"}, []string{"rtp.audio_codec_list", "G729"}},
		{[]string{"sip.transport_list", "udp,sctp"}, []string{"sip.transport_list", "sctp"}},
		{[]string{"tls.verify_server", "perhaps"}, []string{"tls.verify_server", "true or false"}},
		{[]string{"sip.tls_port", "5080"}, []string{"sip.tls_port", "must differ from sip.tcp_port"}},
		{[]string{"no.such.setting", "1"}, []string{`unknown setting "no.such.setting"`}},
		{[]string{"udp_port", "1"}, []string{"did you mean sip.udp_port"}},
		{[]string{"user_agent", ""}, []string{"user_agent", "empty"}},
	}
	for _, c := range cases {
		r := runCLI(t, append([]string{"--config-dir", dir, "settings", "set"}, c.args...)...)
		if r.code != 2 {
			t.Errorf("set %v: exit %d, want 2 (%+v)", c.args, r.code, r)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("set %v: stderr %q lacks %q", c.args, r.stderr, w)
			}
		}
	}
	after, _ := os.ReadFile(cfgFile)
	if !bytes.Equal(before, after) {
		t.Errorf("rejected values changed the file:\n%s\n---\n%s", before, after)
	}
	if r := runCLI(t, "--config-dir", dir, "settings", "set", "sip.udp_port"); r.code != 2 {
		t.Errorf("missing argument: %+v", r)
	}
	if r := runCLI(t, "no-such-command"); r.code != 2 {
		t.Errorf("unknown command: %+v", r)
	}
	if r := runCLI(t, "--no-such-flag", "version"); r.code != 2 {
		t.Errorf("unknown flag: %+v", r)
	}
}

func TestSettingsCorruptFile(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	os.WriteFile(cfgFile, []byte("SIPSimpleSettings:\n    sip:\n        udp_port = \"5060\n"), 0o600)
	r := runCLI(t, "--config-dir", dir, "settings", "set", "sip.udp_port", "1")
	if r.code != 1 || !strings.Contains(r.stderr, cfgFile) || !strings.Contains(r.stderr, "line 3") {
		t.Fatalf("corrupt file: %+v", r)
	}
	if data, _ := os.ReadFile(cfgFile); !strings.Contains(string(data), "\"5060\n") {
		t.Fatal("corrupt file was overwritten")
	}
}

func TestAccountCommands(t *testing.T) {
	dir := t.TempDir()
	cd := []string{"--config-dir", dir}
	run := func(args ...string) result { return runCLI(t, append(cd, args...)...) }
	if r := run("account", "add", "alice@example.test", "--password", "pw", "--display-name", "Alice Liddell",
		"--registrar", "sip:127.0.0.1:5999", "--default"); r.code != 0 || !strings.Contains(r.stdout, "added account alice@example.test") {
		t.Fatalf("account add: %+v", r)
	}
	if r := run("account", "add", "bob@example.test"); r.code != 0 {
		t.Fatalf("account add bob: %+v", r)
	}
	r := run("account", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "* alice@example.test (enabled)") || !strings.Contains(r.stdout, "  bob@example.test (enabled)") ||
		!strings.Contains(r.stdout, "bonjour@local (enabled)") {
		t.Fatalf("account list: %+v", r)
	}
	r = run("account", "show", "alice@example.test")
	for _, want := range []string{"auth.password = ***", "display_name = Alice Liddell", "sip.registrar = sip:127.0.0.1:5999", "sip.register = true"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("account show lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run("account", "set", "alice@example.test", "sip.register_interval", "120"); r.code != 0 || !strings.Contains(r.stdout, "sip.register_interval = 120") {
		t.Fatalf("account set: %+v", r)
	}
	for _, bad := range [][]string{
		{"account", "set", "alice@example.test", "sip.outbound_proxy", "http://x"},
		{"account", "set", "alice@example.test", "no.such", "1"},
		{"account", "set", "nobody@example.test", "enabled", "true"},
		{"account", "add", "not-an-address"},
		{"account", "add", "alice@example.test"},
		{"account", "default", "nobody@example.test"},
		{"account", "delete", "bonjour@local"},
	} {
		if r := run(bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
	if r := run("account", "default", "bob@example.test"); r.code != 0 {
		t.Fatalf("account default: %+v", r)
	}
	if r := run("account", "delete", "bob@example.test"); r.code != 0 {
		t.Fatalf("account delete: %+v", r)
	}
	r = run("account", "list")
	if strings.Contains(r.stdout, "bob@") || !strings.Contains(r.stdout, "* alice@example.test") {
		t.Fatalf("after deleting the default: %+v", r)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "config")); !strings.Contains(string(data), "alice@example.test:") || strings.Contains(string(data), "bob@") {
		t.Fatalf("config file:\n%s", data)
	}
}

// register --once against a real registrar: exit 0 with the success and
// end lines; a wrong password exits 1 with the failure (code 401).
func TestRegisterOnce(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{Users: map[string]string{"alice": "secret"}, DisableTLS: true})
	dir := t.TempDir()
	cd := []string{"--config-dir", dir, "--listen", "127.0.0.1:0"}
	run := func(args ...string) result { return runCLI(t, append(cd, args...)...) }
	registrar := "sip:" + k.UDPAddr()
	if r := run("account", "add", "alice@"+k.Domain, "--password", "secret", "--registrar", registrar, "--default"); r.code != 0 {
		t.Fatalf("account add: %+v", r)
	}
	run("settings", "set", "sip.transport_list", "udp")
	r := run("register", "--once")
	if r.code != 0 || !strings.Contains(r.stdout, "SIPAccountRegistrationDidSucceed [alice@"+k.Domain+"]") ||
		!strings.Contains(r.stdout, "code=200") || !strings.Contains(r.stdout, "SIPAccountRegistrationDidEnd") {
		t.Fatalf("register --once: %+v", r)
	}
	r = run("--json", "register", "--once", "alice@"+k.Domain)
	var sawSuccess bool
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var v struct {
			Name   string         `json:"name"`
			Sender string         `json:"sender"`
			Data   map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		if v.Name == "SIPAccountRegistrationDidSucceed" {
			sawSuccess = v.Data["code"] == float64(200) && v.Data["expires"] != nil && v.Data["contact_uri"] != nil && v.Sender == "alice@"+k.Domain
		}
	}
	if r.code != 0 || !sawSuccess {
		t.Fatalf("--json register --once: %+v", r)
	}
	run("account", "set", "alice@"+k.Domain, "auth.password", "wrong")
	r = run("register", "--once")
	if r.code != 1 || !strings.Contains(r.stdout, "SIPAccountRegistrationDidFail") || !strings.Contains(r.stdout, "code=401") {
		t.Fatalf("register --once with a wrong password: %+v", r)
	}
	if r := run("register", "nobody@example.test", "--once"); r.code != 2 {
		t.Fatalf("register unknown account: %+v", r)
	}
}

// options: 0 and the status line on a 2xx (Kamailio answers itself), 1
// when nobody answers, 2 for a bad URI.
func TestOptions(t *testing.T) {
	k := interop.StartKamailio(t, interop.KamailioConfig{DisableTLS: true})
	dir := t.TempDir()
	cd := []string{"--config-dir", dir, "--listen", "127.0.0.1:0"}
	r := runCLI(t, append(cd, "options", "sip:"+k.UDPAddr())...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "SIP/2.0 200") {
		t.Fatalf("options to Kamailio: %+v", r)
	}
	// Over TCP too (the URI's transport parameter picks it).
	peer := runCLI(t, append(cd, "options", "sip:"+k.TCPAddr()+";transport=tcp")...)
	if peer.code != 0 {
		t.Fatalf("options over TCP: %+v", peer)
	}
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	r = runCLI(t, append(cd, "options", "--timeout", "1s", "sip:"+dead.LocalAddr().String())...)
	if r.code != 1 || !strings.Contains(r.stderr, "no answer") {
		t.Fatalf("options to a silent port: %+v", r)
	}
	if r := runCLI(t, append(cd, "options", "http://example.test")...); r.code != 2 {
		t.Fatalf("options with a bad URI: %+v", r)
	}
	if r := runCLI(t, append(cd, "options", "--account", "nobody@example.test", "sip:"+k.UDPAddr())...); r.code != 2 {
		t.Fatalf("options with an unknown account: %+v", r)
	}
}
