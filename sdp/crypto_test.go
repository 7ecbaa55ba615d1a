package sdp

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

func TestParseCrypto(t *testing.T) {
	tests := []struct {
		in   string
		want Crypto
	}{
		{ // RFC 4568 section 4
			"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
			Crypto{1, "AES_CM_128_HMAC_SHA1_80", "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32", nil},
		},
		{ // RFC 4568 section 7.1.5: two keys, a session parameter
			"2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP",
			Crypto{2, "F8_128_HMAC_SHA1_80", "inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4", []string{"FEC_ORDER=FEC_SRTP"}},
		},
		{
			"0  AES_CM_128_HMAC_SHA1_32\tinline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj KDR=1 UNENCRYPTED_SRTCP",
			Crypto{0, "AES_CM_128_HMAC_SHA1_32", "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj", []string{"KDR=1", "UNENCRYPTED_SRTCP"}},
		},
		{
			"999999999 AEAD_AES_256_GCM inline:x",
			Crypto{999999999, "AEAD_AES_256_GCM", "inline:x", nil},
		},
	}
	for _, tt := range tests {
		got, err := ParseCrypto(tt.in)
		if err != nil {
			t.Errorf("ParseCrypto(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCrypto(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		again, err := ParseCrypto(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("String/ParseCrypto round trip of %q: %#v %v", tt.in, again, err)
		}
	}
}

func TestParseCryptoInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"1",
		"1 AES_CM_128_HMAC_SHA1_80",
		"x AES_CM_128_HMAC_SHA1_80 inline:abc",
		"-1 AES_CM_128_HMAC_SHA1_80 inline:abc",
		"1234567890 AES_CM_128_HMAC_SHA1_80 inline:abc",
		"1 AES-CM-128 inline:abc",
		"1 AES_CM_128_HMAC_SHA1_80 inlineabc",
		"1 AES_CM_128_HMAC_SHA1_80 inline:",
		"1 AES_CM_128_HMAC_SHA1_80 :abc",
		"1 AES_CM_128_HMAC_SHA1_80 inline:abc;",
	} {
		if c, err := ParseCrypto(in); err == nil {
			t.Errorf("ParseCrypto(%q) = %#v, want an error", in, c)
		}
	}
}

func TestCryptoKey(t *testing.T) {
	rfcKey, _ := base64.StdEncoding.DecodeString("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
	tests := []struct {
		name      string
		c         Crypto
		key, salt []byte
		errPart   string
	}{
		{"RFC 4568 example with lifetime and MKI",
			Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", KeyParams: "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32"},
			rfcKey[:16], rfcKey[16:], ""},
		{"no lifetime, suite in lower case",
			Crypto{Suite: "aes_cm_128_hmac_sha1_32", KeyParams: "INLINE:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"},
			rfcKey[:16], rfcKey[16:], ""},
		{"first of two keys",
			Crypto{Suite: "F8_128_HMAC_SHA1_80", KeyParams: "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4"},
			rfcKey[:16], rfcKey[16:], ""},
		{"unknown suite", Crypto{Suite: "NULL_HMAC_SHA1_80", KeyParams: "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"}, nil, nil, "unknown crypto suite"},
		{"not inline", Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", KeyParams: "uri:http://example.com/key"}, nil, nil, "not inline"},
		{"bad base64", Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", KeyParams: "inline:PS1uQCVe!!FCanVmcjkpPywjNWhcYD0mXXtxaVBR"}, nil, nil, "crypto key"},
		{"empty key", Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", KeyParams: "inline:|2^20"}, nil, nil, "empty"},
		{"too short", Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", KeyParams: "inline:" + base64.StdEncoding.EncodeToString(make([]byte, 29))}, nil, nil, "29 bytes, want 30"},
		{"AES-256 key on AES-128 suite", Crypto{Suite: "AES_CM_128_HMAC_SHA1_80", KeyParams: "inline:" + base64.StdEncoding.EncodeToString(make([]byte, 46))}, nil, nil, "want 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, salt, err := tt.c.Key()
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("Key() error = %v, want one containing %q", err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(key, tt.key) || !bytes.Equal(salt, tt.salt) {
				t.Errorf("Key() = %x %x, want %x %x", key, salt, tt.key, tt.salt)
			}
		})
	}
}

func TestCryptoKeyUnpaddedBase64(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, 46) // AES-256: 46 bytes, base64 needs padding
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		c := Crypto{Suite: "AES_256_CM_HMAC_SHA1_80", KeyParams: "inline:" + enc.EncodeToString(raw)}
		key, salt, err := c.Key()
		if err != nil || len(key) != 32 || len(salt) != 14 {
			t.Errorf("%s: %d %d %v", c.KeyParams, len(key), len(salt), err)
		}
	}
}

func TestNewCrypto(t *testing.T) {
	tests := []struct {
		suite         string
		keyLen, total int
	}{
		{"AES_CM_128_HMAC_SHA1_80", 16, 30},
		{"AES_CM_128_HMAC_SHA1_32", 16, 30},
		{"F8_128_HMAC_SHA1_80", 16, 30},
		{"AES_192_CM_HMAC_SHA1_80", 24, 38},
		{"AES_256_CM_HMAC_SHA1_80", 32, 46},
		{"AES_256_CM_HMAC_SHA1_32", 32, 46},
		{"AEAD_AES_128_GCM", 16, 28},
		{"AEAD_AES_256_GCM", 32, 44},
	}
	for _, tt := range tests {
		c, err := NewCrypto(1, tt.suite)
		if err != nil {
			t.Fatalf("NewCrypto(%s): %v", tt.suite, err)
		}
		if c.Tag != 1 || c.Suite != tt.suite || !strings.HasPrefix(c.KeyParams, "inline:") || c.SessionParams != nil {
			t.Errorf("NewCrypto(%s) = %+v", tt.suite, c)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(c.KeyParams, "inline:"))
		if err != nil || len(raw) != tt.total {
			t.Errorf("%s: key is %d bytes (%v), want %d", tt.suite, len(raw), err, tt.total)
		}
		key, salt, err := c.Key()
		if err != nil || len(key) != tt.keyLen || len(salt) != tt.total-tt.keyLen {
			t.Errorf("%s: Key() = %d+%d bytes, %v", tt.suite, len(key), len(salt), err)
		}
		parsed, err := ParseCrypto(c.String())
		if err != nil || !reflect.DeepEqual(parsed, c) {
			t.Errorf("%s: ParseCrypto(String()) = %+v %v", tt.suite, parsed, err)
		}
	}

	a, _ := NewCrypto(1, "AES_CM_128_HMAC_SHA1_80")
	b, _ := NewCrypto(1, "AES_CM_128_HMAC_SHA1_80")
	if a.KeyParams == b.KeyParams {
		t.Error("two generated keys are equal")
	}
	if _, err := NewCrypto(1, "AES_CM_64_HMAC_MD5"); err == nil {
		t.Error("NewCrypto accepted an unknown suite")
	}
	for _, tag := range []int{-1, 1000000000} {
		if _, err := NewCrypto(tag, "AES_CM_128_HMAC_SHA1_80"); err == nil {
			t.Errorf("NewCrypto accepted tag %d", tag)
		}
	}
}

func TestCryptoInMedia(t *testing.T) {
	d := mustParse(t, crlf("v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
		"m=audio 4000 RTP/SAVP 0",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
		"a=crypto:bad",
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"))
	m := d.Media[0]
	if len(m.Crypto) != 2 || m.Crypto[0].Tag != 1 || m.Crypto[1].Tag != 2 {
		t.Errorf("crypto = %+v", m.Crypto)
	}
	if !reflect.DeepEqual(m.Attributes, []Attribute{{Key: "crypto", Value: "bad"}}) {
		t.Errorf("invalid crypto line not kept: %v", m.Attributes)
	}
	checkRoundTrip(t, d)
}
