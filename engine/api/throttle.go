package api

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmplatform/crm/engine/access"
	"github.com/gofiber/fiber/v2"
)

// Login throttling. Failed sign-ins are counted per account, per client
// (its IP address) and per pair of both, in the memory of each server
// (several servers each keep their own counts; a restart forgets them).
// After ThrottleFree failures a key waits ThrottleBase, doubling with each
// further failure up to ThrottleMax; a key's failures are forgotten
// ThrottleForget after its last one, and a successful sign-in clears those
// of its account. While a key waits, a sign-in is answered 429 with
// Retry-After without looking at the password.
//
// The account's wait holds back only the clients that have failed on that
// account: a client that never failed there, such as the right user on
// another device, can always try (held back only by its own count), so
// nobody can lock a user out by failing on purpose.
const (
	ThrottleFree   = 5
	ThrottleBase   = time.Second
	ThrottleMax    = 15 * time.Minute
	ThrottleForget = time.Hour
	// throttleKeys bounds the memory of the counts.
	throttleKeys = 100_000
)

// throttle holds the failure counts of one server.
type throttle struct {
	mu   sync.Mutex
	keys map[string]*strikes
}

// strikes are a key's failures and the time of the last.
type strikes struct {
	n    int
	last time.Time
}

// newThrottle returns an empty throttle.
func newThrottle() *throttle { return &throttle{keys: map[string]*strikes{}} }

// signInKeys names the counts of a sign-in to account from client.
func signInKeys(account, client string) (acc, cli, pair string) {
	account = strings.ToLower(strings.TrimSpace(account))
	return "a\x00" + account, "c\x00" + client, "p\x00" + client + "\x00" + account
}

// wait returns how long a sign-in to account from client must wait, zero
// when it may go ahead.
func (t *throttle) wait(account, client string, now time.Time) time.Duration {
	acc, cli, pair := signInKeys(account, client)
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.waitOf(cli, now)
	if s := t.live(pair, now); s != nil {
		w = max(w, t.waitOf(acc, now))
	}
	return w
}

// fail counts a failed sign-in.
func (t *throttle) fail(account, client string, now time.Time) {
	acc, cli, pair := signInKeys(account, client)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{acc, cli, pair} {
		s := t.live(k, now)
		if s == nil {
			t.prune(now)
			s = &strikes{}
			t.keys[k] = s
		}
		s.n++
		s.last = now
	}
}

// succeed clears the counts of the account (the right user signed in).
// The client's own count stays: one valid account must not let a client
// wipe the failures it made on others.
func (t *throttle) succeed(account, client string) {
	acc, _, pair := signInKeys(account, client)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, acc)
	delete(t.keys, pair)
}

// live returns the strikes of k unless forgotten.
func (t *throttle) live(k string, now time.Time) *strikes {
	s := t.keys[k]
	if s == nil || now.Sub(s.last) > ThrottleForget {
		return nil
	}
	return s
}

// waitOf is how long key k waits from now.
func (t *throttle) waitOf(k string, now time.Time) time.Duration {
	s := t.live(k, now)
	if s == nil {
		return 0
	}
	return max(0, s.last.Add(throttleDelay(s.n)).Sub(now))
}

// throttleDelay is the wait after n failures.
func throttleDelay(n int) time.Duration {
	if n < ThrottleFree {
		return 0
	}
	if n-ThrottleFree >= 30 {
		return ThrottleMax
	}
	return min(ThrottleBase<<(n-ThrottleFree), ThrottleMax)
}

// prune makes room for a new key when the table is full: forgotten keys
// go first, then keys that make nobody wait, then any.
func (t *throttle) prune(now time.Time) {
	if len(t.keys) < throttleKeys {
		return
	}
	for _, keep := range []func(*strikes) bool{
		func(s *strikes) bool { return now.Sub(s.last) <= ThrottleForget },
		func(s *strikes) bool { return s.last.Add(throttleDelay(s.n)).After(now) },
		func(*strikes) bool { return false },
	} {
		for k, s := range t.keys {
			if len(t.keys) < throttleKeys*9/10 {
				return
			}
			if !keep(s) {
				delete(t.keys, k)
			}
		}
	}
}

// throttledCheck runs verify, a check of account's password, under the
// sign-in throttle: 429 while the account or the client waits, a wrong
// password (access.ErrInvalidCredentials) counted, a right one clearing
// the account's count. Failures of the database count for nothing.
func (s *Server) throttledCheck(c *fiber.Ctx, account string, verify func() error) error {
	client := s.clientIP(c)
	if wait := s.signIns.wait(account, client, s.eng.Now()); wait > 0 {
		return throttled(c, wait)
	}
	err := verify()
	switch {
	case errors.Is(err, access.ErrInvalidCredentials):
		s.signIns.fail(account, client, s.eng.Now())
	case err == nil:
		s.signIns.succeed(account, client)
	}
	return err
}

// ThrottledSignIn runs verify, a check of account's password, under the
// sign-in throttle of the API's login (shared with it): while the account
// or the client waits it answers 429 throttled with Retry-After without
// calling verify. Other sign-in forms (the web UI's) call it.
func (s *Server) ThrottledSignIn(c *fiber.Ctx, account string, verify func() error) error {
	return s.throttledCheck(c, account, verify)
}

// throttled is the 429 answer, with Retry-After in whole seconds.
func throttled(c *fiber.Ctx, wait time.Duration) error {
	secs := int64(math.Ceil(wait.Seconds()))
	c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(secs, 10))
	return &apiError{status: fiber.StatusTooManyRequests, code: "throttled", message: fmt.Sprintf("too many failed sign-ins: try again in %d seconds", secs)}
}

// ParseTrustedProxies reads the addresses (192.0.2.1) and networks
// (10.0.0.0/8) of the proxies in front of the server, whose
// X-Forwarded-For header is believed.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address nor a network such as 10.0.0.0/8", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// clientIP is the address of the request's client: the connection's peer,
// or, when that peer is a trusted proxy, the last address in
// X-Forwarded-For that is not one (proxies append the address they saw,
// so addresses a client wrote itself come before it).
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	if !s.trustedProxy(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !s.trustedProxy(a) {
			return a.String()
		}
	}
	return peer.String()
}

// trustedProxy reports whether a is a trusted proxy.
func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
