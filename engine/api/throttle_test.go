package api

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmplatform/crm/engine/store"
	"github.com/crmplatform/crm/engine/store/storetest"
	"github.com/crmplatform/crm/internal/platform"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// signIn is a login scenario from a client (an X-Forwarded-For address
// behind the trusted test proxy; "" for the proxy itself).
func signIn(name, client, user, password string, status int, more ...string) scenario {
	sc := scenario{name: name, method: "POST", path: "/api/auth/login", status: status,
		body: fmt.Sprintf(`{"username": %q, "password": %q}`, user, password), contains: more}
	if client != "" {
		sc.header = map[string]string{"X-Forwarded-For": client}
	}
	switch status {
	case 429:
		sc.code = "throttled"
	case 401:
		sc.code = "invalid_credentials"
	}
	return sc
}

func TestAPILoginThrottle(t *testing.T) {
	t.Parallel()
	storetest.DialectsFrom(t, fixtureSeed, func(t *testing.T, db *store.DB) {
		clk := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		// app.Test connections come from 0.0.0.0: make it the trusted proxy.
		proxy, _ := ParseTrustedProxies([]string{"0.0.0.0"})
		f := newFixtureWith(t, db, platform.Config{Now: clk.now}, Config{TrustedProxies: proxy})
		var scs []scenario
		for i := 1; i <= ThrottleFree; i++ {
			scs = append(scs, signIn(fmt.Sprintf("wrong password %d answers at once", i), "198.51.100.7", "rep1", "guess", 401))
		}
		scs = append(scs,
			withRetryAfter(signIn("then the attacker waits, even with the right password", "198.51.100.7", "rep1", "rep1-password", 429, "try again in 1 seconds"), time.Second),
			signIn("the right user from another client is let in", "203.0.113.9", "rep1", "rep1-password", 200, `"token"`),
			signIn("the attacker's client still waits on its own count", "198.51.100.7", "rep2", "rep2-password", 429),
		)
		f.run(t, scs)
		clk.add(time.Second)
		// The delay doubles with each failure, and is bounded.
		for i := 0; i < 15; i++ {
			wait := min(ThrottleBase<<(i+1), ThrottleMax)
			f.run(t, []scenario{
				signIn(fmt.Sprintf("guess %d", ThrottleFree+1+i), "198.51.100.7", "rep2", "guess", 401),
				withRetryAfter(signIn(fmt.Sprintf("then wait %s", wait), "198.51.100.7", "rep2", "guess", 429), wait),
			})
			clk.add(wait)
		}
		f.run(t, []scenario{
			signIn("rep2 from its own client meanwhile", "203.0.113.20", "rep2", "rep2-password", 200),
			signIn("X-Forwarded-For written by the client is not believed", "203.0.113.20, 198.51.100.7", "rep2", "rep2-password", 200),
		})
		// Without a trusted proxy the header is ignored: the attacker cannot
		// claim to be someone else.
		g := newFixtureWith(t, storetest.SQLiteFrom(t, fixtureSeed), platform.Config{Now: clk.now}, Config{})
		scs = nil
		for i := 0; i < ThrottleFree; i++ {
			scs = append(scs, signIn("guess", "", "admin", "guess", 401))
		}
		scs = append(scs, signIn("a forged X-Forwarded-For does not help", "192.0.2.1", "admin", "guess", 429))
		g.run(t, scs)
		// Spraying many accounts from one client holds the client back.
		h := newFixtureWith(t, storetest.SQLiteFrom(t, fixtureSeed), platform.Config{Now: clk.now}, Config{TrustedProxies: proxy})
		scs = nil
		for i := 0; i < ThrottleFree; i++ {
			scs = append(scs, signIn("spray", "198.51.100.99", fmt.Sprintf("user%d", i), "guess", 401))
		}
		scs = append(scs,
			signIn("the sprayer waits", "198.51.100.99", "manager", "manager-password", 429),
			signIn("others do not", "203.0.113.30", "manager", "manager-password", 200),
		)
		h.run(t, scs)
		clk.add(ThrottleForget + time.Second)
		h.run(t, []scenario{signIn("counts are forgotten after an hour", "198.51.100.99", "manager", "manager-password", 200)})
	})
}

func TestAPIPasswordChangeThrottle(t *testing.T) {
	t.Parallel()
	clk := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f := newFixtureWith(t, storetest.SQLiteFrom(t, fixtureSeed), platform.Config{Now: clk.now}, Config{})
	var scs []scenario
	for i := 0; i < ThrottleFree; i++ {
		scs = append(scs, scenario{name: "wrong current password", method: "PUT", path: "/api/users/rep1/password", user: "rep1", body: `{"password": "new-password-1", "current_password": "guess"}`, status: 403, code: "forbidden"})
	}
	scs = append(scs,
		scenario{name: "a stolen session cannot keep guessing", method: "PUT", path: "/api/users/rep1/password", user: "rep1", body: `{"password": "new-password-1", "current_password": "rep1-password"}`, status: 429, code: "throttled"},
		scenario{name: "the password is unchanged", method: "POST", path: "/api/auth/login", body: `{"username": "rep1", "password": "rep1-password"}`, status: 429, code: "throttled"},
	)
	f.run(t, scs)
	clk.add(ThrottleBase)
	f.run(t, []scenario{{name: "after the wait", method: "PUT", path: "/api/users/rep1/password", user: "rep1", body: `{"password": "new-password-1", "current_password": "rep1-password"}`, status: 204}})
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	ps, err := ParseTrustedProxies([]string{" 10.0.0.0/8", "192.0.2.1", "", "2001:db8::/32"})
	if err != nil || len(ps) != 3 {
		t.Fatalf("%v %v", ps, err)
	}
	s := &Server{proxies: ps}
	for addr, want := range map[string]bool{"10.1.2.3": true, "192.0.2.1": true, "192.0.2.2": false, "2001:db8::1": true, "::ffff:10.0.0.1": false} {
		if got := s.trustedProxy(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s trusted: %v, want %v", addr, got, want)
		}
	}
	if _, err := ParseTrustedProxies([]string{"proxy.local"}); err == nil || !strings.Contains(err.Error(), "proxy.local") {
		t.Errorf("a name must be refused: %v", err)
	}
}

// withRetryAfter makes sc expect a Retry-After of d.
func withRetryAfter(sc scenario, d time.Duration) scenario {
	sc.respHeader = map[string]string{"Retry-After": fmt.Sprint(int(d.Seconds()))}
	return sc
}
