package access

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// AccessChannel is the PostgreSQL notification channel on which a change
// of users or tokens (a revocation, a deactivation, new roles) is
// announced to every server, so each forgets the tokens it trusted.
const AccessChannel = "crm_access"

// DefaultTokenCacheTTL is how long Authenticate trusts a token it read
// from the database before reading it again (WithTokenCache).
const DefaultTokenCacheTTL = time.Second

// maxCachedTokens bounds the tokens a server trusts at once; a full cache
// starts over empty.
const maxCachedTokens = 10000

// tokenCache is the set of tokens Authenticate read and found valid, by
// the hash of the token. A change of users or tokens replaces the whole
// cache (Service.forgetTokens): an Authenticate that read the database
// before the change stores its answer in the cache it loaded first, which
// nobody reads any more.
type tokenCache struct {
	entries sync.Map // token hash → *cachedToken
	n       atomic.Int64
}

// cachedToken is a valid token as Authenticate read it, with its user.
type cachedToken struct {
	p       Principal // never handed out: Authenticate returns copies
	expires time.Time // zero when the token does not expire
	read    time.Time // when it was read from the database
}

// lookup returns the principal of the token hashed h when the cache holds
// it, read less than ttl before now and not expired; otherwise nil.
func (c *tokenCache) lookup(h string, now time.Time, ttl time.Duration) *Principal {
	v, ok := c.entries.Load(h)
	if !ok {
		return nil
	}
	t := v.(*cachedToken)
	if age := now.Sub(t.read); age < 0 || age >= ttl || (!t.expires.IsZero() && !now.Before(t.expires)) {
		return nil
	}
	p := t.p
	p.Roles = slices.Clone(t.p.Roles)
	return &p
}

// store remembers the principal p of the valid token hashed h, read at
// now; it reports false when the cache is full and was not changed.
func (c *tokenCache) store(h string, p *Principal, expires, now time.Time) bool {
	t := &cachedToken{p: *p, expires: expires, read: now}
	t.p.Roles = slices.Clone(p.Roles) // p goes to the caller, who may change it
	if _, loaded := c.entries.Swap(h, t); !loaded && c.n.Add(1) > maxCachedTokens {
		return false
	}
	return true
}

// remember puts the principal of a token just read into the current
// cache c (loaded before the read), starting a new cache when c is full.
func (s *Service) remember(c *tokenCache, h string, p *Principal, expires, now time.Time) {
	if s.tokenTTL <= 0 {
		return
	}
	if !c.store(h, p, expires, now) {
		s.tokens.CompareAndSwap(c, &tokenCache{})
	}
}

// forgetTokens drops every trusted token on this server. Changes of users
// and tokens call it once committed, through tokensChanged.
func (s *Service) forgetTokens() { s.tokens.Store(&tokenCache{}) }

// tokensChanged is called once a change of users or tokens committed (or
// failed): this server forgets the tokens it trusted, and the others
// sharing a PostgreSQL database are told to (Watch). A notification that
// cannot be sent leaves them to their cache's time to live.
func (s *Service) tokensChanged() {
	s.forgetTokens()
	if err := s.db.Notify(context.Background(), s.db.SQL(), AccessChannel, ""); err != nil {
		slog.Warn("access: could not tell the other servers of a change of users or tokens", "err", err)
	}
}

// Watch makes this server forget the tokens it trusted whenever another
// server sharing the database changes users or tokens, until ctx ends. On
// PostgreSQL it listens for their notification, listening again retry
// after a lost connection; on SQLite, with no notifications, it returns at
// once and a change made by another process (the crm command) holds here
// once the cached token is older than its time to live.
func (s *Service) Watch(ctx context.Context, retry time.Duration) {
	s.db.Follow(ctx, AccessChannel, retry, slog.Default(), func(string) { s.forgetTokens() })
}
