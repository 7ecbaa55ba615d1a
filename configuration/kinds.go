package configuration

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kind describes the value type of a setting: how a value is parsed from
// text (the command line, the configuration file), how it is formatted back
// into text that Parse accepts, and the rule a value must satisfy.
//
// Kinds are immutable and safe for concurrent use; the package provides one
// for every data type the settings trees need, and applications may write
// their own.
type Kind[T any] interface {
	// Name describes the type in error messages, for example "port range".
	Name() string
	// Parse converts text into a value. It does not need to call Validate.
	Parse(text string) (T, error)
	// Format converts a value into text that Parse accepts.
	Format(v T) string
	// Validate returns an error describing the rule v breaks, or nil.
	Validate(v T) error
}

// ListKind is implemented by kinds whose values are lists. Backends that
// support lists (the file backend) store such values item by item instead of
// as one string.
type ListKind[T any] interface {
	Kind[T]
	// Items returns the text of each item of v.
	Items(v T) []string
	// ParseItems builds a value from the text of its items.
	ParseItems(items []string) (T, error)
}

// kind is a Kind built from functions.
type kind[T any] struct {
	name     string
	parse    func(string) (T, error)
	format   func(T) string
	validate func(T) error
}

func (k kind[T]) Name() string                 { return k.name }
func (k kind[T]) Parse(text string) (T, error) { return k.parse(text) }
func (k kind[T]) Format(v T) string            { return k.format(v) }
func (k kind[T]) Validate(v T) error           { return k.validate(v) }
func noRule[T any](T) error                    { return nil }
func formatString(s string) string             { return s }
func parseString(s string) (string, error)     { return s, nil }
func formatInt(v int) string                   { return strconv.Itoa(v) }
func identityKind(name string) kind[string] {
	return kind[string]{name, parseString, formatString, noRule[string]}
}
func ruleError(format string, args ...any) error { return fmt.Errorf(format, args...) }

// String accepts any string.
var String Kind[string] = identityKind("string")

// NonEmptyString accepts any string except the empty one.
var NonEmptyString Kind[string] = kind[string]{"non-empty string", parseString, formatString, func(s string) error {
	if s == "" {
		return ruleError("must not be empty")
	}
	return nil
}}

// Bool accepts true/false (and, when parsing, yes/no, on/off, 1/0).
var Bool Kind[bool] = kind[bool]{"boolean", parseBool, strconv.FormatBool, noRule[bool]}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, ruleError("must be true or false")
}

// IntRange returns a kind of integers between min and max inclusive.
func IntRange(name string, min, max int) Kind[int] {
	return kind[int]{name, parseInt, formatInt, func(v int) error {
		if v < min || v > max {
			return ruleError("must be between %d and %d", min, max)
		}
		return nil
	}}
}

func parseInt(s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, ruleError("must be an integer")
	}
	return v, nil
}

// Integer accepts any int.
var Integer Kind[int] = kind[int]{"integer", parseInt, formatInt, noRule[int]}

// NonNegativeInt accepts integers >= 0.
var NonNegativeInt = IntRange("non-negative integer", 0, int(^uint(0)>>1))

// PositiveInt accepts integers > 0.
var PositiveInt = IntRange("positive integer", 1, int(^uint(0)>>1))

// Port accepts 0-65535; 0 means "any free port" where the setting says so.
var Port = IntRange("port", 0, 65535)

// IntChoice returns a kind of integers restricted to the given values.
func IntChoice(name string, values ...int) Kind[int] {
	return kind[int]{name, parseInt, formatInt, func(v int) error {
		for _, a := range values {
			if v == a {
				return nil
			}
		}
		return ruleError("must be one of %s", joinInts(values))
	}}
}

func joinInts(values []int) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

// Choice returns a kind of strings restricted to the given values (compared
// case-insensitively; the canonical spelling is stored).
func Choice(name string, values ...string) Kind[string] {
	return kind[string]{name, func(s string) (string, error) {
		s = strings.TrimSpace(s)
		for _, a := range values {
			if strings.EqualFold(s, a) {
				return a, nil
			}
		}
		return s, nil
	}, formatString, func(v string) error {
		for _, a := range values {
			if v == a {
				return nil
			}
		}
		return ruleError("must be one of %s", strings.Join(values, ", "))
	}}
}

// Duration accepts non-negative durations. Text is either a whole number of
// seconds ("90", the python-sipsimple form) or a Go duration ("1m30s",
// "500ms"); whole seconds are formatted as a plain number.
var Duration Kind[time.Duration] = kind[time.Duration]{"duration", parseDuration, formatDuration, func(d time.Duration) error {
	if d < 0 {
		return ruleError("must not be negative")
	}
	return nil
}}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		const max = int64(1<<63-1) / int64(time.Second)
		if n > max || n < -max {
			return 0, ruleError("is out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, ruleError(`must be a number of seconds or a duration such as "1m30s"`)
	}
	return d, nil
}

func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return d.String()
}

// Path accepts a non-empty file system path. A leading "~" stands for the
// user's home directory; see ExpandPath. Paths are cleaned when parsed.
var Path Kind[string] = kind[string]{"path", func(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	return filepath.Clean(s), nil
}, formatString, func(s string) error {
	if s == "" {
		return ruleError("must not be empty")
	}
	if strings.ContainsRune(s, 0) {
		return ruleError("must not contain NUL")
	}
	return nil
}}

var hostnameRE = regexp.MustCompile(`^(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?))*\.?$`)

// ValidHost reports whether s is an IPv4 address, an IPv6 address (without
// brackets) or a DNS host name.
func ValidHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	return len(s) <= 253 && hostnameRE.MatchString(s) && !allDigitsAndDots(s)
}

func allDigitsAndDots(s string) bool {
	return strings.Trim(s, "0123456789.") == ""
}

// Host accepts a host name or an IP address (IPv6 without brackets).
var Host Kind[string] = kind[string]{"host", func(s string) (string, error) {
	return strings.Trim(strings.TrimSpace(s), "[]"), nil
}, formatString, func(s string) error {
	if !ValidHost(s) {
		return ruleError("must be a host name or an IP address")
	}
	return nil
}}

// IPAddress accepts an IPv4 or IPv6 address.
var IPAddress Kind[string] = kind[string]{"IP address", func(s string) (string, error) {
	s = strings.Trim(strings.TrimSpace(s), "[]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String(), nil
	}
	return s, nil
}, formatString, func(s string) error {
	if _, err := netip.ParseAddr(s); err != nil {
		return ruleError("must be an IPv4 or IPv6 address")
	}
	return nil
}}

// PortRangeKind accepts a PortRange written "start-end".
var PortRangeKind Kind[PortRange] = kind[PortRange]{"port range", ParsePortRange, PortRange.String, PortRange.Validate}

// SIPAddressKind accepts a SIPAddress written "user@domain".
var SIPAddressKind Kind[SIPAddress] = kind[SIPAddress]{"SIP address", ParseSIPAddress, SIPAddress.String, SIPAddress.Validate}

// SIPURIKind accepts a SIP or SIPS URI such as "sip:proxy.example.com:5061;transport=tls".
var SIPURIKind Kind[string] = kind[string]{"SIP URI", func(s string) (string, error) {
	return strings.TrimSpace(s), nil
}, formatString, ValidateSIPURI}

// list is a ListKind whose items are of one item kind; duplicates are refused.
type list[E comparable] struct {
	name     string
	item     Kind[E]
	nonEmpty bool
}

func (l list[E]) Name() string { return l.name }

func (l list[E]) Parse(text string) ([]E, error) {
	var items []string
	for _, it := range strings.Split(text, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	return l.ParseItems(items)
}

func (l list[E]) ParseItems(items []string) ([]E, error) {
	out := make([]E, 0, len(items))
	for _, it := range items {
		v, err := l.item.Parse(strings.TrimSpace(it))
		if err != nil {
			return nil, fmt.Errorf("item %q: %w", it, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func (l list[E]) Items(v []E) []string {
	s := make([]string, len(v))
	for i, e := range v {
		s[i] = l.item.Format(e)
	}
	return s
}

func (l list[E]) Format(v []E) string { return strings.Join(l.Items(v), ", ") }

func (l list[E]) Validate(v []E) error {
	if l.nonEmpty && len(v) == 0 {
		return ruleError("must not be empty")
	}
	seen := make(map[E]bool, len(v))
	for _, e := range v {
		if err := l.item.Validate(e); err != nil {
			return fmt.Errorf("item %q %w", l.item.Format(e), err)
		}
		if seen[e] {
			return ruleError("must not repeat %q", l.item.Format(e))
		}
		seen[e] = true
	}
	return nil
}

// List returns a list kind whose items are of kind item; repeated items
// are refused, and when nonEmpty is set so is the empty list.
func List[E comparable](name string, item Kind[E], nonEmpty bool) ListKind[[]E] {
	return list[E]{name, item, nonEmpty}
}

// Transports are the SIP transports a transport list may name.
var Transports = []string{"udp", "tcp", "tls", "ws", "wss"}

// TransportList accepts a non-empty list of distinct SIP transports (udp,
// tcp, tls, ws, wss); the order is the order of preference.
var TransportList = List("transport list", Choice("transport", Transports...), true)

// AudioCodecs are the audio codecs an audio codec list may name.
var AudioCodecs = []string{"opus", "G722", "PCMU", "PCMA"}

// AudioCodecList accepts a non-empty list of distinct audio codecs from
// AudioCodecs; the order is the order of preference.
var AudioCodecList = List("audio codec list", Choice("audio codec", AudioCodecs...), true)

// StringList accepts any list of distinct strings.
var StringList = List("string list", String, false)
