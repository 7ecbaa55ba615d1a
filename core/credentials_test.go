package core

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestCredentialsMatches(t *testing.T) {
	tests := []struct {
		realm, challenge string
		want             bool
	}{
		{"", "example.com", true},
		{"", "", true},
		{"*", "anything", true},
		{"example.com", "example.com", true},
		{"example.com", "EXAMPLE.com", true},
		{"example.com", "example.org", false},
		{"example.com", "", false},
		{"example.com", "*", false},
	}
	for _, tt := range tests {
		c := Credentials{Username: "alice", Password: "pw", Realm: tt.realm}
		if got := c.Matches(tt.challenge); got != tt.want {
			t.Errorf("Credentials{Realm: %q}.Matches(%q) = %v, want %v", tt.realm, tt.challenge, got, tt.want)
		}
	}
}

func TestCredentialsValidate(t *testing.T) {
	good := []Credentials{
		{Username: "alice"},
		{DisplayName: "Zoë\tX", Username: "zoë", Password: "\x00\r\n any bytes \xff", Realm: "*"},
	}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
	bad := []struct {
		c      Credentials
		reason string
	}{
		{Credentials{Password: "pw"}, "empty username"},
		{Credentials{Username: "al\r\nice"}, "control character 0x0D in username"},
		{Credentials{Username: "alice", Realm: "x\x00"}, "control character 0x00 in realm"},
		{Credentials{Username: "alice", DisplayName: "A\x7f"}, "control character 0x7F in display name"},
		{Credentials{Username: "al\xffice"}, "username is not valid UTF-8"},
	}
	for _, tt := range bad {
		if err := tt.c.Validate(); err == nil || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%v: Validate() = %v, want %q", tt.c, err, tt.reason)
		}
	}
}

func TestCredentialsDoNotPrintPassword(t *testing.T) {
	const secret = "s3cr3t-passw0rd"
	c := Credentials{DisplayName: "Alice", Username: "alice", Password: secret, Realm: "example.com"}
	if got, want := c.String(), `Credentials(display_name="Alice", username="alice", realm="example.com", password=***)`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Credentials{Username: "bob"}).String(), `Credentials(username="bob", realm="*", password=***)`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("%#v", c), `core.Credentials{DisplayName:"Alice", Username:"alice", Password:"***", Realm:"example.com"}`; got != want {
		t.Errorf("%%#v = %q, want %q", got, want)
	}
	type wrapper struct {
		C  Credentials
		P  *Credentials
		Cs []Credentials
		M  map[string]Credentials
		A  any
	}
	w := wrapper{C: c, P: &c, Cs: []Credentials{c}, M: map[string]Credentials{"k": c}, A: c}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10.3v", "%T"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, w), fmt.Sprintf(verb, []any{c}))
	}
	out = append(out, fmt.Sprint(c, &c, w), fmt.Sprintln(c, w), fmt.Errorf("login %v: %w", c, fmt.Errorf("x")).Error())
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "creds", c, "ptr", &c, "any", slog.AnyValue(c), "wrapped", w)
	// The JSON handler encodes other values with encoding/json, which sees
	// the password of a Credentials inside a struct (as documented).
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("login", "creds", c, "ptr", &c, "any", slog.AnyValue(c))
	out = append(out, buf.String())
	for _, s := range out {
		if strings.Contains(s, secret) || strings.Contains(s, fmt.Sprintf("%x", secret)) {
			t.Errorf("password printed: %s", s)
		}
	}
	if !strings.Contains(buf.String(), `"password":"***"`) || !strings.Contains(buf.String(), "creds.password=***") {
		t.Errorf("slog output lacks the redacted password:\n%s", buf.String())
	}
}
