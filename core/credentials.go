package core

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Credentials are what an account authenticates with (RFC 3261 section
// 22, digest authentication), like python-sipsimple's
// sipsimple.core.Credentials.
//
// String, GoString, Format (every fmt verb but %p, which vet rejects for a
// value that is not a pointer) and LogValue print the password as "***", so
// logging a Credentials value does not leak it. Encoders that read the
// fields directly, such as encoding/json (and so slog's JSON handler for a
// struct that contains a Credentials), do see it.
type Credentials struct {
	// DisplayName is the name shown to people; it plays no part in
	// authentication.
	DisplayName string
	// Username is the digest user name; it must not be empty.
	Username string
	// Password is the digest password.
	Password string
	// Realm is the realm these credentials are for. "" and "*" mean any
	// realm.
	Realm string
}

// redacted replaces the password wherever Credentials are printed.
const redacted = "***"

// Matches reports whether the credentials are to be used for a challenge
// from realm: true when Realm is "" or "*" (any realm), or when Realm equals
// realm without regard to case, as PJSIP (and so python-sipsimple) matches
// realms.
func (c Credentials) Matches(realm string) bool {
	return c.Realm == "" || c.Realm == "*" || strings.EqualFold(c.Realm, realm)
}

// Validate reports whether the credentials are usable: Username is not
// empty, and Username, Realm and DisplayName are valid UTF-8 without control
// characters, which could not be sent in a header. The password is not
// checked, since it is never sent.
func (c Credentials) Validate() error {
	if c.Username == "" {
		return fmt.Errorf("core: invalid Credentials: empty username")
	}
	for _, f := range [...]struct{ name, value string }{
		{"username", c.Username}, {"realm", c.Realm}, {"display name", c.DisplayName},
	} {
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("core: invalid Credentials: %s is not valid UTF-8", f.name)
		}
		for i := 0; i < len(f.value); i++ {
			if b := f.value[i]; b < 0x20 && b != '\t' || b == 0x7f {
				return fmt.Errorf("core: invalid Credentials: control character 0x%02X in %s", b, f.name)
			}
		}
	}
	return nil
}

// realmText returns the realm for printing, "*" for any realm.
func (c Credentials) realmText() string {
	if c.Realm == "" {
		return "*"
	}
	return c.Realm
}

// String describes the credentials without the password, for example
// Credentials(username="alice", realm="*", password=***).
func (c Credentials) String() string {
	var b strings.Builder
	b.WriteString("Credentials(")
	if c.DisplayName != "" {
		b.WriteString("display_name=")
		b.WriteString(strconv.Quote(c.DisplayName))
		b.WriteString(", ")
	}
	b.WriteString("username=")
	b.WriteString(strconv.Quote(c.Username))
	b.WriteString(", realm=")
	b.WriteString(strconv.Quote(c.realmText()))
	b.WriteString(", password=" + redacted + ")")
	return b.String()
}

// GoString implements fmt.GoStringer (the %#v verb) with the password
// replaced by "***".
func (c Credentials) GoString() string {
	return fmt.Sprintf("core.Credentials{DisplayName:%q, Username:%q, Password:%q, Realm:%q}",
		c.DisplayName, c.Username, redacted, c.Realm)
}

// Format implements fmt.Formatter so that no verb prints the password: %#v
// prints GoString, %q the quoted String, and every other verb String.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, c.GoString())
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(c.String()))
	default:
		fmt.Fprint(f, c.String())
	}
}

// LogValue implements slog.LogValuer: a group of the fields with the
// password replaced by "***".
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("display_name", c.DisplayName),
		slog.String("username", c.Username),
		slog.String("realm", c.realmText()),
		slog.String("password", redacted),
	)
}
