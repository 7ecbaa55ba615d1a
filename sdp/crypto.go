package sdp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Crypto is an a=crypto attribute (SDES, RFC 4568 section 4): the offer of
// one SRTP crypto suite with its master key.
type Crypto struct {
	// Tag identifies the line within its m= section; the answer repeats
	// the tag of the line it accepts. 0-999999999.
	Tag int
	// Suite is the crypto suite, e.g. "AES_CM_128_HMAC_SHA1_80".
	Suite string
	// KeyParams is the key parameter text as written:
	// "inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>]", several
	// separated by ";".
	KeyParams string
	// SessionParams holds the optional session parameters in order
	// ("KDR=1", "UNENCRYPTED_SRTCP", "FEC_ORDER=FEC_SRTP", ...).
	SessionParams []string
}

// suiteKeyLengths gives the master key and master salt lengths in bytes of
// the SRTP crypto suites (RFC 4568 section 6.2, RFC 6188, RFC 7714).
var suiteKeyLengths = map[string][2]int{
	"AES_CM_128_HMAC_SHA1_80": {16, 14},
	"AES_CM_128_HMAC_SHA1_32": {16, 14},
	"F8_128_HMAC_SHA1_80":     {16, 14},
	"AES_192_CM_HMAC_SHA1_80": {24, 14},
	"AES_192_CM_HMAC_SHA1_32": {24, 14},
	"AES_256_CM_HMAC_SHA1_80": {32, 14},
	"AES_256_CM_HMAC_SHA1_32": {32, 14},
	"AEAD_AES_128_GCM":        {16, 12},
	"AEAD_AES_256_GCM":        {32, 12},
}

func keyLengths(suite string) (key, salt int, ok bool) {
	l, ok := suiteKeyLengths[strings.ToUpper(suite)]
	return l[0], l[1], ok
}

const maxCryptoTag = 999999999

// ParseCrypto parses the value of an a=crypto attribute (what follows
// "a=crypto:"): "<tag> <crypto-suite> <key-params> [<session-params>]".
// It checks the syntax only; [Crypto.Key] decodes and checks the key.
func ParseCrypto(value string) (Crypto, error) {
	f := strings.Fields(value)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("sdp: crypto %q: want \"<tag> <suite> <key-params>\"", value)
	}
	if len(f[0]) > 9 {
		return Crypto{}, fmt.Errorf("sdp: crypto %q: tag %q longer than 9 digits", value, f[0])
	}
	tag, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return Crypto{}, fmt.Errorf("sdp: crypto %q: tag %q is not a number", value, f[0])
	}
	for _, r := range f[1] {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return Crypto{}, fmt.Errorf("sdp: crypto %q: invalid suite %q", value, f[1])
		}
	}
	for kp := range strings.SplitSeq(f[2], ";") {
		method, info, ok := strings.Cut(kp, ":")
		if !ok || method == "" || info == "" {
			return Crypto{}, fmt.Errorf("sdp: crypto %q: invalid key parameter %q", value, kp)
		}
	}
	c := Crypto{Tag: int(tag), Suite: f[1], KeyParams: f[2]}
	if len(f) > 3 {
		c.SessionParams = f[3:]
	}
	return c, nil
}

// String returns the a=crypto value (without "a=crypto:").
func (c Crypto) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Tag))
	b.WriteByte(' ')
	b.WriteString(c.Suite)
	b.WriteByte(' ')
	b.WriteString(c.KeyParams)
	for _, p := range c.SessionParams {
		b.WriteByte(' ')
		b.WriteString(p)
	}
	return b.String()
}

// NewCrypto returns a Crypto for suite with a fresh random master key and
// salt from crypto/rand, e.g. 30 bytes (16 key + 14 salt) for
// AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32. The key has no
// lifetime and no MKI. Known suites: AES_CM_128_HMAC_SHA1_80/_32,
// F8_128_HMAC_SHA1_80, AES_192_CM_HMAC_SHA1_80/_32,
// AES_256_CM_HMAC_SHA1_80/_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM.
func NewCrypto(tag int, suite string) (Crypto, error) {
	if tag < 0 || tag > maxCryptoTag {
		return Crypto{}, fmt.Errorf("sdp: crypto tag %d out of range 0-%d", tag, maxCryptoTag)
	}
	kl, sl, ok := keyLengths(suite)
	if !ok {
		return Crypto{}, fmt.Errorf("sdp: unknown crypto suite %q", suite)
	}
	buf := make([]byte, kl+sl)
	if _, err := rand.Read(buf); err != nil {
		return Crypto{}, fmt.Errorf("sdp: generating SRTP key: %w", err)
	}
	return Crypto{
		Tag:       tag,
		Suite:     suite,
		KeyParams: "inline:" + base64.StdEncoding.EncodeToString(buf),
	}, nil
}

// Key decodes the master key and master salt of the first inline key
// parameter. The base64 text may be padded or not. It fails for an unknown
// suite, a key parameter that is not inline, invalid base64, or a decoded
// length that is not the suite's key plus salt length.
func (c Crypto) Key() (key, salt []byte, err error) {
	kl, sl, ok := keyLengths(c.Suite)
	if !ok {
		return nil, nil, fmt.Errorf("sdp: unknown crypto suite %q", c.Suite)
	}
	first, _, _ := strings.Cut(c.KeyParams, ";")
	method, info, ok := strings.Cut(first, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return nil, nil, fmt.Errorf("sdp: crypto key parameter %q is not inline", first)
	}
	b64, _, _ := strings.Cut(info, "|")
	raw, err := decodeBase64(b64)
	if err != nil {
		return nil, nil, fmt.Errorf("sdp: crypto key %q: %w", b64, err)
	}
	if len(raw) != kl+sl {
		return nil, nil, fmt.Errorf("sdp: crypto key for %s is %d bytes, want %d", c.Suite, len(raw), kl+sl)
	}
	return raw[:kl:kl], raw[kl:], nil
}

var errEmptyKey = errors.New("empty key")

func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, errEmptyKey
	}
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
