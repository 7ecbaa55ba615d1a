package interop

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

// kamailioTemplate is the Kamailio configuration StartKamailio fills in.
//
//go:embed testdata/kamailio.cfg.tmpl
var kamailioTemplate string

// DefaultDomain is the SIP domain (and digest realm) of a Kamailio started
// with an empty KamailioConfig.Domain.
const DefaultDomain = "example.test"

// KamailioConfig configures the Kamailio started by StartKamailio. The zero
// value is a registrar/proxy for DefaultDomain without users. Everything
// listens on 127.0.0.1 only, and the digest realm of every challenge is
// Domain (DefaultDomain, "example.test", by default).
type KamailioConfig struct {
	// Domain is the SIP domain served and the digest realm of every
	// challenge; default DefaultDomain. Requests addressed to 127.0.0.1
	// are local as well, so clients may use either in their URIs.
	Domain string

	// Users maps user names to their passwords. They are kept in the
	// in-memory htable "users"; no database is involved.
	Users map[string]string

	// MinExpires, MaxExpires and DefaultExpires are the registrar's
	// min_expires, max_expires and default_expires in seconds. Zero
	// MinExpires or MaxExpires disables that check (Kamailio semantics),
	// so tests may register with very short expiries; zero
	// DefaultExpires means 3600.
	MinExpires, MaxExpires, DefaultExpires int

	// RejectBriefExpires makes a REGISTER with an expiry below MinExpires
	// fail with 423 Interval Too Brief (and Min-Expires) instead of
	// having its expiry raised to MinExpires (registrar min_expires_mode).
	RejectBriefExpires bool

	// NonceExpire is the lifetime of a digest nonce in seconds (auth
	// module nonce_expire); zero means 30. A request with an expired
	// nonce is challenged again with stale=true.
	NonceExpire int

	// RejectWrongPassword makes a wrong password (or unknown user) fail
	// with 403 Forbidden. By default Kamailio does what its stock
	// configuration does: it challenges again with a fresh nonce and
	// without stale=true (401 for REGISTER, 407 otherwise).
	RejectWrongPassword bool

	// SkipProxyAuth relays requests other than REGISTER from local users
	// without a 407 challenge. By default they must authenticate.
	SkipProxyAuth bool

	// Presence makes Kamailio also a presence server (RFC 3903 PUBLISH,
	// RFC 3856 SUBSCRIBE/NOTIFY) for the local users, with its presence
	// and presence_xml modules (package kamailio-presence-modules; when
	// they or db_text are missing the test fails under CI and is skipped
	// otherwise). Like the registrar and proxy it listens on 127.0.0.1
	// only, and its digest realm is Domain.
	//
	//   - PUBLISH: only from a local user (From in Domain) for its own AOR
	//     (Request-URI user = From user), else 403. It is challenged like
	//     every request but REGISTER: 407 with Proxy-Authenticate, realm
	//     Domain, answered with the REGISTER password (no challenge with
	//     SkipProxyAuth). Event: presence with an application/pidf+xml
	//     body gets 200 OK with SIP-ETag and Expires (the granted expiry:
	//     at most PresenceMaxExpires, 3600 without an Expires header). A
	//     refresh (no body) or modification carries SIP-If-Match and gets
	//     200 with a new SIP-ETag; a removal (Expires: 0, SIP-If-Match)
	//     gets 200 with Expires: 0; an entity tag Kamailio does not know
	//     gets 412 Conditional Request Failed; 0 < Expires <
	//     PresenceMinExpires gets 423 Interval Too Brief with Min-Expires;
	//     events other than presence get 489 Bad Event.
	//   - SUBSCRIBE to a local user's AOR with Event: presence (or
	//     presence.winfo), initial or in-dialog, is handled by the presence
	//     server (challenged like PUBLISH when from a local user): 200 OK
	//     with Expires and a Contact of the server, then NOTIFYs with the
	//     published PIDF; 423 with Min-Expires below PresenceMinExpires.
	//     Every watcher is authorised (presence_xml force_active=1, no
	//     XCAP). SUBSCRIBEs for other events are proxied to the user's
	//     registered contacts as without Presence.
	//
	// The presentity, active_watchers, watchers and xcap tables are
	// db_text files in Dir/presence-db.
	//
	// Kamailio answers a PUBLISH before it has notified the watchers (and,
	// for Expires: 0, before it has deleted the state): with more than one
	// worker (Children) a request sent right after that 200 may still see
	// the old state, and a watcher subscribing right after a PUBLISH may
	// get a second NOTIFY with the same state. Children: 1 makes Kamailio
	// handle the requests strictly one after the other.
	Presence bool

	// PresenceMinExpires and PresenceMaxExpires bound the Expires of
	// PUBLISH and SUBSCRIBE in seconds (presence module min_expires and
	// max_expires; the module checks the minimum for SUBSCRIBE only, the
	// configuration does it for PUBLISH). Zero PresenceMinExpires means no
	// minimum; zero PresenceMaxExpires means 3600. A larger Expires is
	// lowered to the maximum, a smaller non-zero one gets 423. Only used
	// with Presence.
	PresenceMinExpires, PresenceMaxExpires int

	// NoQop makes challenges carry no qop (RFC 2069 style digest). By
	// default they offer qop="auth".
	NoQop bool

	// LogLevel is Kamailio's debug level: "error", "warn", "notice",
	// "info" (default; one line per request received) or "debug". The
	// environment variable INTEROP_KAMAILIO_LOG overrides the default.
	LogLevel string

	// DisableTLS turns the TLS listener off. Otherwise TLS is enabled
	// whenever Kamailio's tls module is installed (package
	// kamailio-tls-modules), with a certificate generated at run time.
	DisableTLS bool

	// Children is the number of worker processes per listener; default 2.
	Children int

	// MSRPRelay makes Kamailio also an MSRP relay (RFC 4976) with its
	// msrp module (in Debian's kamailio package; when it is missing
	// the test fails under CI=true and is skipped otherwise), listening
	// on its own TCP port (Kamailio.MSRPPort, URI Kamailio.MSRPRelayURI)
	// and, with TLS, on Kamailio.MSRPTLSPort:
	//   - AUTH is challenged (401, digest, realm Domain, qop=auth) and
	//     checked against Users; a wrong password gets 403. Accepted, it
	//     gets 200 with Use-Path (this relay and a new session-id) and
	//     Expires: 3600 without an Expires header; outside [60, 3600],
	//     423 with Min-Expires or Max-Expires.
	//   - SEND (answered 200 hop by hop) and REPORT are forwarded by their
	//     To-Path; those for the client that reserved the session go over
	//     its connection; a session-id not reserved here gets 481.
	MSRPRelay bool

	// UsersFile keeps Users in a db_text table (Dir/db/users) that the
	// htable module loads at start-up, instead of one statement per user
	// in kamailio.cfg. Use it for thousands of users: the configuration
	// stays small and the start fast. It needs Kamailio's db_text module.
	// Either way the htable gets at least one slot per four users (256 at
	// least, 65536 at most).
	UsersFile bool

	// SharedMemoryMB and PrivateMemoryMB are Kamailio's shared memory
	// (-m) and private memory per process (-M) in MB; default 64 and 8.
	SharedMemoryMB, PrivateMemoryMB int

	// StartTimeout bounds the wait until Kamailio answers; default 20s.
	StartTimeout time.Duration
}

// Kamailio is a running Kamailio instance. It is stopped by the cleanup of
// the test that started it.
type Kamailio struct {
	// Domain is the served SIP domain and digest realm.
	Domain string
	// Host is the address Kamailio listens on (127.0.0.1).
	Host string
	// UDPPort and TCPPort are the SIP ports (the same number); TLSPort
	// is 0 when TLS is not available or disabled.
	UDPPort, TCPPort, TLSPort int
	// MSRPPort and MSRPTLSPort are the MSRP relay's ports
	// (KamailioConfig.MSRPRelay), 0 without the relay or without TLS.
	MSRPPort, MSRPTLSPort int
	// Users are the configured accounts (user -> password).
	Users map[string]string
	// Certificate is the server certificate of the TLS listener (nil
	// without TLS); trust it with Certificate.Pool().
	Certificate *TestCertificate
	// Dir is the temporary directory holding the configuration.
	Dir string
	// ConfigFile is the generated kamailio.cfg.
	ConfigFile string

	proc *process
}

// kamailioLevels maps LogLevel names to Kamailio debug levels.
var kamailioLevels = map[string]int{"error": -1, "warn": 0, "notice": 1, "info": 2, "debug": 3}

type kamailioUser struct{ Name, Password string }

type kamailioTemplateData struct {
	Debug, Children                        int
	UDPPort, TCPPort, TLSPort              int
	TLS                                    bool
	TLSConfigFile                          string
	Domain                                 string
	Users                                  []kamailioUser
	MinExpires, MinExpiresMode, MaxExpires int
	DefaultExpires, NonceExpire            int
	ChallengeFlags                         int
	RejectWrongPassword, SkipProxyAuth     bool
	// HTableBits is the htable size (2^HTableBits slots); UsersDBURL,
	// when set, is the db_text URL of the directory holding the "users"
	// table (KamailioConfig.UsersFile) and Users is then empty.
	HTableBits int
	UsersDBURL string
	// PresenceDBURL, when set (KamailioConfig.Presence), is the db_text
	// URL of the presence tables and enables the presence server.
	PresenceDBURL                          string
	MSRP                                   bool
	MSRPPort, MSRPTLSPort                  int
	PresenceMinExpires, PresenceMaxExpires int
}

// StartKamailio writes a kamailio.cfg generated from
// testdata/kamailio.cfg.tmpl into t.TempDir() and runs
// "kamailio -DD -E -f kamailio.cfg" in the foreground, listening on
// 127.0.0.1 over UDP and TCP (one port) and, when the tls module is
// installed, TLS. It returns once Kamailio answers an OPTIONS over UDP and
// accepts TCP connections. Kamailio is stopped (SIGTERM, then SIGKILL of its
// process group) by t.Cleanup, and its log is appended to the test output
// if the test failed.
//
// If kamailio is not installed the test fails under CI=true and is skipped
// otherwise.
func StartKamailio(t testing.TB, cfg KamailioConfig) *Kamailio {
	t.Helper()
	bin := Require(t, "kamailio")

	data := kamailioTemplateData{
		Domain:              cfg.Domain,
		Children:            cfg.Children,
		MinExpires:          cfg.MinExpires,
		MaxExpires:          cfg.MaxExpires,
		DefaultExpires:      cfg.DefaultExpires,
		NonceExpire:         cfg.NonceExpire,
		RejectWrongPassword: cfg.RejectWrongPassword,
		SkipProxyAuth:       cfg.SkipProxyAuth,
		ChallengeFlags:      1, // qop=auth
	}
	if data.Domain == "" {
		data.Domain = DefaultDomain
	}
	if data.Children <= 0 {
		data.Children = 2
	}
	if data.DefaultExpires <= 0 {
		data.DefaultExpires = 3600
	}
	if data.NonceExpire <= 0 {
		data.NonceExpire = 30
	}
	if cfg.RejectBriefExpires {
		data.MinExpiresMode = 1
	}
	if cfg.NoQop {
		data.ChallengeFlags = 0
	}
	level := cfg.LogLevel
	if level == "" {
		level = os.Getenv("INTEROP_KAMAILIO_LOG")
	}
	if level == "" {
		level = "info"
	}
	debug, ok := kamailioLevels[strings.ToLower(level)]
	if !ok {
		t.Fatalf("interop: unknown Kamailio LogLevel %q", level)
	}
	data.Debug = debug
	if !validConfigToken(data.Domain) {
		t.Fatalf("interop: invalid Kamailio domain %q", data.Domain)
	}
	users := make(map[string]string, len(cfg.Users))
	for name, pw := range cfg.Users {
		if !validConfigToken(name) || !validConfigString(pw) {
			t.Fatalf("interop: Kamailio user %q: user names must be SIP tokens and passwords must not contain quotes, backslashes, $ or control characters", name)
		}
		users[name] = pw
		data.Users = append(data.Users, kamailioUser{name, pw})
	}
	sort.Slice(data.Users, func(i, j int) bool { return data.Users[i].Name < data.Users[j].Name })
	data.HTableBits = 8
	for data.HTableBits < 16 && 4<<data.HTableBits < len(users) {
		data.HTableBits++
	}
	shm, pkg := cfg.SharedMemoryMB, cfg.PrivateMemoryMB
	if shm <= 0 {
		shm = 64
	}
	if pkg <= 0 {
		pkg = 8
	}

	dir := configSafeDir(t)
	if cfg.UsersFile {
		if !kamailioModuleAvailable(bin, "db_text") {
			unavailable(t, "kamailio db_text module not installed (KamailioConfig.UsersFile needs it)")
			return nil
		}
		dbDir := filepath.Join(dir, "db")
		if err := writeKamailioUsersTable(dbDir, data.Users); err != nil {
			t.Fatalf("interop: %v", err)
		}
		data.UsersDBURL = "text://" + dbDir
		data.Users = nil
	}
	if cfg.Presence {
		for _, mod := range []string{"presence", "presence_xml", "db_text"} {
			if !kamailioModuleAvailable(bin, mod) {
				unavailable(t, "kamailio %s module not installed (KamailioConfig.Presence needs kamailio-presence-modules); .ci/run installs it", mod)
				return nil
			}
		}
		if cfg.PresenceMinExpires < 0 || cfg.PresenceMaxExpires < 0 ||
			(cfg.PresenceMaxExpires > 0 && cfg.PresenceMinExpires > cfg.PresenceMaxExpires) {
			t.Fatalf("interop: invalid Kamailio presence expires range [%d, %d]", cfg.PresenceMinExpires, cfg.PresenceMaxExpires)
		}
		dbDir := filepath.Join(dir, "presence-db")
		if err := writeKamailioPresenceTables(dbDir); err != nil {
			t.Fatalf("interop: %v", err)
		}
		data.PresenceDBURL = "text://" + dbDir
		data.PresenceMinExpires = cfg.PresenceMinExpires
		data.PresenceMaxExpires = cfg.PresenceMaxExpires
		if data.PresenceMaxExpires == 0 {
			data.PresenceMaxExpires = 3600
		}
	}
	if cfg.MSRPRelay {
		if !kamailioModuleAvailable(bin, "msrp") {
			unavailable(t, "kamailio msrp module not installed (KamailioConfig.MSRPRelay needs the kamailio package's msrp.so); .ci/run installs it")
			return nil
		}
		data.MSRP = true
	}
	k := &Kamailio{
		Domain:     data.Domain,
		Host:       Loopback,
		Users:      users,
		Dir:        dir,
		ConfigFile: filepath.Join(dir, "kamailio.cfg"),
	}
	if !cfg.DisableTLS && kamailioModuleAvailable(bin, "tls") {
		data.TLS = true
		k.Certificate = GenerateTestCertificate(t, dir, data.Domain)
		data.TLSConfigFile = filepath.Join(dir, "tls.cfg")
		tlsCfg := fmt.Sprintf(`# Generated by internal/interop for a test Kamailio.
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = %s
private_key = %s

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`, k.Certificate.CertFile, k.Certificate.KeyFile)
		if err := os.WriteFile(data.TLSConfigFile, []byte(tlsCfg), 0o644); err != nil {
			t.Fatalf("interop: %v", err)
		}
	}
	tmpl, err := template.New("kamailio.cfg").Option("missingkey=error").Parse(kamailioTemplate)
	if err != nil {
		t.Fatalf("interop: parse Kamailio template: %v", err)
	}

	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	const attempts = 5
	for attempt := 1; ; attempt++ {
		data.UDPPort = FreeUDPTCPPort(t)
		data.TCPPort = data.UDPPort
		data.TLSPort = 0
		if data.TLS {
			data.TLSPort = FreePort(t, "tcp")
		}
		data.MSRPPort, data.MSRPTLSPort = 0, 0
		if data.MSRP {
			data.MSRPPort = FreePort(t, "tcp")
			if data.TLS {
				data.MSRPTLSPort = FreePort(t, "tcp")
			}
		}
		var cfgText bytes.Buffer
		if err := tmpl.Execute(&cfgText, data); err != nil {
			t.Fatalf("interop: render Kamailio config: %v", err)
		}
		if err := os.WriteFile(k.ConfigFile, cfgText.Bytes(), 0o644); err != nil {
			t.Fatalf("interop: %v", err)
		}
		k.UDPPort, k.TCPPort, k.TLSPort = data.UDPPort, data.TCPPort, data.TLSPort
		k.MSRPPort, k.MSRPTLSPort = data.MSRPPort, data.MSRPTLSPort

		out := newOutput()
		cmd := exec.Command(bin, "-DD", "-E", "-f", k.ConfigFile,
			"-Y", dir, "-w", dir, "-m", strconv.Itoa(shm), "-M", strconv.Itoa(pkg))
		cmd.Dir = dir
		proc, err := startProcess("kamailio", cmd, out)
		if err != nil {
			t.Fatalf("interop: %v", err)
		}
		k.proc = proc
		proc.registerCleanup(t)

		err = k.waitReady(timeout)
		if err == nil {
			t.Logf("interop: kamailio %s up: udp/tcp %s:%d, tls port %d (config %s)",
				k.Domain, k.Host, k.UDPPort, k.TLSPort, k.ConfigFile)
			return k
		}
		_ = proc.stop()
		if attempt < attempts && proc.exited() && strings.Contains(out.String(), "Address already in use") {
			t.Logf("interop: kamailio ports %d/%d taken, retrying with new ports", k.UDPPort, k.TLSPort)
			continue
		}
		t.Fatalf("interop: kamailio did not start: %v (its output follows)", err)
	}
}

// writeKamailioUsersTable writes the users as the db_text table "users" in
// dir, in the columns the htable module loads (key_name, key_type,
// value_type, key_value, expires; type 0 is a plain key and a string value).
func writeKamailioUsersTable(dir string, users []kamailioUser) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("id(int,auto) key_name(str) key_type(int) value_type(int) key_value(str) expires(int)\n")
	for i, u := range users {
		// validConfigString already keeps out backslashes and control
		// characters; ':' separates db_text columns.
		fmt.Fprintf(&b, "%d:%s:0:0:%s:0\n", i+1, u.Name, strings.ReplaceAll(u.Password, ":", `\:`))
	}
	return os.WriteFile(filepath.Join(dir, "users"), b.Bytes(), 0o644)
}

// kamailioPresenceTables are the empty db_text tables of the presence and
// presence_xml modules (Kamailio 5.6 schema, as in
// /usr/share/kamailio/dbtext/kamailio), with the "version" table the
// modules check at start-up.
var kamailioPresenceTables = map[string]string{
	"version": "id(int,auto) table_name(string) table_version(int)\n" +
		"0:presentity:5\n0:active_watchers:12\n0:watchers:3\n0:xcap:4\n",
	"presentity": "id(int,auto) username(string) domain(string) event(string) etag(string) " +
		"expires(int) received_time(int) body(string) sender(string) priority(int) ruid(string,null)\n",
	"active_watchers": "id(int,auto) presentity_uri(string) watcher_username(string) " +
		"watcher_domain(string) to_user(string) to_domain(string) event(string) " +
		"event_id(string,null) to_tag(string) from_tag(string) callid(string) local_cseq(int) " +
		"remote_cseq(int) contact(string) record_route(string,null) expires(int) status(int) " +
		"reason(string,null) version(int) socket_info(string) local_contact(string) " +
		"from_user(string) from_domain(string) updated(int) updated_winfo(int) flags(int) " +
		"user_agent(string,null)\n",
	"watchers": "id(int,auto) presentity_uri(string) watcher_username(string) " +
		"watcher_domain(string) event(string) status(int) reason(string,null) inserted_time(int)\n",
	"xcap": "id(int,auto) username(string) domain(string) doc(string) doc_type(int) " +
		"etag(string) source(int) doc_uri(string) port(int)\n",
}

// writeKamailioPresenceTables writes kamailioPresenceTables into dir.
func writeKamailioPresenceTables(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, content := range kamailioPresenceTables {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// waitReady waits until Kamailio answers an OPTIONS over UDP and accepts a
// TCP (and TLS) connection, or exits, or the timeout expires.
func (k *Kamailio) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Stop waiting as soon as the process exits (bad config, busy port).
	go func() {
		select {
		case <-k.proc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if _, _, err := PingUDP(ctx, k.UDPAddr(), "sip:"+k.UDPAddr()); err != nil {
		if k.proc.exited() {
			code, _ := k.proc.exitCode()
			return fmt.Errorf("kamailio exited with code %d", code)
		}
		return err
	}
	for _, port := range []int{k.TCPPort, k.TLSPort} {
		if port == 0 {
			continue
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp4", net.JoinHostPort(k.Host, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("kamailio answers on UDP but not on TCP port %d: %w", port, err)
		}
		c.Close()
	}
	return nil
}

// UDPAddr returns the UDP listening address, "127.0.0.1:port".
func (k *Kamailio) UDPAddr() string { return net.JoinHostPort(k.Host, strconv.Itoa(k.UDPPort)) }

// TCPAddr returns the TCP listening address, "127.0.0.1:port".
func (k *Kamailio) TCPAddr() string { return net.JoinHostPort(k.Host, strconv.Itoa(k.TCPPort)) }

// TLSAddr returns the TLS listening address, or "" without TLS.
func (k *Kamailio) TLSAddr() string {
	if k.TLSPort == 0 {
		return ""
	}
	return net.JoinHostPort(k.Host, strconv.Itoa(k.TLSPort))
}

// RequireTLS fails (under CI) or skips the test if this Kamailio has no TLS
// listener, i.e. if kamailio-tls-modules is not installed.
func (k *Kamailio) RequireTLS(t testing.TB) {
	t.Helper()
	if k.TLSPort == 0 {
		unavailable(t, "kamailio tls module not installed (package kamailio-tls-modules); .ci/run installs it")
	}
}

// ServerURI returns the URI of the server for transport "udp", "tcp" or
// "tls", e.g. "sip:127.0.0.1:5060;transport=tcp" (for an outbound proxy or
// registrar setting).
func (k *Kamailio) ServerURI(transport string) string {
	switch strings.ToLower(transport) {
	case "tcp":
		return "sip:" + k.TCPAddr() + ";transport=tcp"
	case "tls":
		return "sip:" + k.TLSAddr() + ";transport=tls"
	}
	return "sip:" + k.UDPAddr()
}

// AOR returns the address of record of user in the served domain,
// "sip:user@domain".
func (k *Kamailio) AOR(user string) string { return "sip:" + user + "@" + k.Domain }

// MSRPRelayURI is the URI of the MSRP relay (KamailioConfig.MSRPRelay):
// msrp://127.0.0.1:MSRPPort;tcp, or msrps:// on MSRPTLSPort when secure
// ("" when that listener does not exist).
func (k *Kamailio) MSRPRelayURI(secure bool) string {
	if secure {
		if k.MSRPTLSPort == 0 {
			return ""
		}
		return "msrps://" + net.JoinHostPort(k.Host, strconv.Itoa(k.MSRPTLSPort)) + ";tcp"
	}
	if k.MSRPPort == 0 {
		return ""
	}
	return "msrp://" + net.JoinHostPort(k.Host, strconv.Itoa(k.MSRPPort)) + ";tcp"
}

// Output returns the collector of Kamailio's log (stderr), e.g. to wait
// for a log line with WaitForString.
func (k *Kamailio) Output() *Output { return k.proc.out }

// Log returns Kamailio's log (stderr) so far.
func (k *Kamailio) Log() string { return k.proc.out.String() }

// Stop stops Kamailio now (SIGTERM, then SIGKILL of its process group). It
// is called by the test cleanup anyway; calling it twice is harmless.
func (k *Kamailio) Stop() error { return k.proc.stop() }

// kamailioModuleAvailable reports whether Kamailio module name is
// installed, looking in the module directory compiled into bin ("-L path"
// default shown by "kamailio -h") and the usual Debian/RPM locations.
func kamailioModuleAvailable(bin, name string) bool {
	dirs := []string{}
	if out, err := exec.Command(bin, "-h").CombinedOutput(); err == nil || len(out) > 0 {
		for _, line := range strings.Split(string(out), "\n") {
			if _, rest, ok := strings.Cut(line, "Modules search path (default: "); ok {
				dirs = append(dirs, strings.Split(strings.TrimSuffix(strings.TrimSpace(rest), ")"), ":")...)
			}
		}
	}
	prefix := filepath.Dir(filepath.Dir(bin))
	dirs = append(dirs, filepath.Join(prefix, "lib", "kamailio", "modules"),
		filepath.Join(prefix, "lib64", "kamailio", "modules"))
	if m, _ := filepath.Glob(filepath.Join(prefix, "lib", "*", "kamailio", "modules")); m != nil {
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, name+".so")); err == nil {
			return true
		}
	}
	return false
}

// configSafeDir returns t.TempDir(), unless its path contains characters
// that Kamailio's configuration files do not take literally (t.TempDir
// keeps "#" from subtest names like "x#01", and the tls.cfg parser reads
// "#" as the start of a comment): then it returns a fresh directory under
// os.TempDir() that is removed by the test cleanup.
func configSafeDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if !strings.ContainsAny(dir, "#;=\"'\\$ \t") {
		return dir
	}
	dir, err := os.MkdirTemp("", "interop-kamailio-")
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// validConfigToken reports whether s can be put into the configuration as a
// user name or domain: letters, digits and -_.!~*'+ only.
func validConfigToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_.!~*+", r):
		default:
			return false
		}
	}
	return true
}

// validConfigString reports whether s can be put between double quotes in
// the configuration without escaping.
func validConfigString(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '$' {
			return false
		}
	}
	return true
}
