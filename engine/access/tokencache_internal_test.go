package access

import (
	"testing"
	"time"
)

// TestTokenCacheLookup: a cached token answers only while it is younger
// than the time to live, read no later than now, and not expired; the
// answer is a copy the caller may change.
func TestTokenCacheLookup(t *testing.T) {
	read := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		now     time.Time
		expires time.Time
		hit     bool
	}{
		{"just read", read, time.Time{}, true},
		{"within the time to live", read.Add(time.Second - time.Nanosecond), time.Time{}, true},
		{"at the time to live", read.Add(time.Second), time.Time{}, false},
		{"the clock went back", read.Add(-time.Millisecond), time.Time{}, false},
		{"expires later", read.Add(time.Millisecond), read.Add(time.Hour), true},
		{"expired meanwhile", read.Add(time.Millisecond), read.Add(time.Millisecond), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc := &tokenCache{}
			if !tc.store("h", &Principal{UserID: "u", Roles: []string{"sales_rep"}}, c.expires, read) {
				t.Fatal("an empty cache is full")
			}
			p := tc.lookup("h", c.now, time.Second)
			if (p != nil) != c.hit {
				t.Fatalf("hit %v, want %v", p != nil, c.hit)
			}
			if p == nil {
				return
			}
			p.Roles[0] = "admin"
			if again := tc.lookup("h", c.now, time.Second); again.Roles[0] != "sales_rep" || again.UserID != "u" {
				t.Fatalf("a caller's change reached the cache: %+v", again)
			}
			if tc.lookup("other", c.now, time.Second) != nil {
				t.Fatal("another token's hash answered")
			}
		})
	}
}

// TestTokenCacheBounded: a full cache starts over instead of growing, and
// storing a token again does not count twice.
func TestTokenCacheBounded(t *testing.T) {
	s := &Service{tokenTTL: time.Second}
	s.forgetTokens()
	c := s.tokens.Load()
	now := time.Now()
	for i := 0; i < maxCachedTokens; i++ {
		s.remember(c, string(rune(i)), &Principal{UserID: "u"}, time.Time{}, now)
	}
	s.remember(c, string(rune(0)), &Principal{UserID: "u"}, time.Time{}, now)
	if s.tokens.Load() != c || c.n.Load() != maxCachedTokens {
		t.Fatalf("the cache started over at %d tokens", c.n.Load())
	}
	s.remember(c, "one more", &Principal{UserID: "u"}, time.Time{}, now)
	if s.tokens.Load() == c {
		t.Fatal("a full cache kept growing")
	}
	if s.tokens.Load().lookup("one more", now, time.Second) != nil {
		t.Fatal("the new cache holds what the full one was given")
	}
}
