package core

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// ErrAuthRejected means the server challenged again credentials it had
// already been given for the same nonce: the password is wrong. It is not
// retried, so a wrong password never causes a request storm.
var ErrAuthRejected = errors.New("credentials rejected")

// authorizer answers digest challenges (RFC 3261 section 22, RFC 7616
// algorithms MD5 and SHA-256, qop=auth) for the successive requests of one
// registration or dialog. It keeps the last challenge of each realm to
// authorize later requests without a round trip, and counts nonce uses.
//
// Rejection rule: when a request answered challenges that had just been
// received and the server challenges again without stale=true, the
// credentials are wrong (ErrAuthRejected; servers such as Kamailio send a
// fresh nonce in that case). When the request answered a cached challenge
// (a refresh), a new challenge is answered once more: the nonce expired.
type authorizer struct {
	creds      Credentials
	challenges map[string]*authChallenge // by answer header and realm
	// justChallenged: challenges arrived since the last authorize.
	justChallenged bool
	// answeredFresh: the last request answered just-received challenges.
	answeredFresh bool
}

type authChallenge struct {
	header string // "Authorization" or "Proxy-Authorization"
	chal   *digest.Challenge
	count  int // nonce count used so far
}

func newAuthorizer(c Credentials) *authorizer {
	return &authorizer{creds: c, challenges: map[string]*authChallenge{}}
}

// challenged records the challenges of a 401 or 407 response. It returns
// ErrAuthRejected per the rejection rule, and an error naming the realm
// when no credentials match it or no challenge can be answered.
func (a *authorizer) challenged(res *sip.Response) error {
	name, answer := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, answer = "Proxy-Authenticate", "Proxy-Authorization"
	}
	headers := res.GetHeaders(name)
	if len(headers) == 0 {
		return fmt.Errorf("%d response without %s", res.StatusCode, name)
	}
	usable := 0
	var lastErr error
	// A server offering several algorithms for a realm sends one challenge
	// per algorithm in order of preference (RFC 8760 section 2.4): answer
	// the first one we support and ignore the others.
	answered := map[string]bool{}
	for _, h := range headers {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			lastErr = fmt.Errorf("%s %q: %w", name, h.Value(), err)
			continue
		}
		if !digest.CanDigest(chal) {
			lastErr = fmt.Errorf("%s: unsupported algorithm %q or qop %v", name, chal.Algorithm, chal.QOP)
			continue
		}
		if !a.creds.Matches(chal.Realm) {
			lastErr = fmt.Errorf("no credentials for realm %q (ours are for %q)", chal.Realm, a.creds.Realm)
			continue
		}
		key := answer + "\x00" + strings.ToLower(chal.Realm)
		if answered[key] {
			continue
		}
		if a.answeredFresh && !chal.Stale {
			return fmt.Errorf("realm %q: %w", chal.Realm, ErrAuthRejected)
		}
		a.challenges[key] = &authChallenge{header: answer, chal: chal}
		answered[key] = true
		usable++
	}
	if usable == 0 {
		return lastErr
	}
	a.justChallenged = true
	return nil
}

// authorize adds an answer to every known challenge to req.
func (a *authorizer) authorize(req *sip.Request) error {
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	a.answeredFresh = a.justChallenged && len(a.challenges) > 0
	a.justChallenged = false
	for _, c := range a.challenges {
		c.count++
		cred, err := digest.Digest(c.chal, digest.Options{
			Method:   string(req.Method),
			URI:      req.Recipient.String(),
			Username: a.creds.Username,
			Password: a.creds.Password,
			Count:    c.count,
		})
		if err != nil {
			return fmt.Errorf("answering the challenge of realm %q: %w", c.chal.Realm, err)
		}
		req.AppendHeader(sip.NewHeader(c.header, cred.String()))
	}
	return nil
}

// succeeded notes that the last request was accepted.
func (a *authorizer) succeeded() { a.answeredFresh, a.justChallenged = false, false }
