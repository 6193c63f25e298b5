package sales

import (
	"sync"
	"time"
)

// limiter counts requests per key in fixed one-minute windows, in this
// server's memory: each server of a cluster limits on its own (the daily
// caps of web forms, which must hold across servers, are counted in the
// database instead).
type limiter struct {
	mu   sync.Mutex
	wins map[string]*window
}

// window is the count of one key in the current minute.
type window struct {
	start time.Time
	n     int
}

// maxKeys bounds the keys a limiter remembers before it forgets those
// whose window is over.
const maxKeys = 10000

func newLimiter() *limiter { return &limiter{wins: map[string]*window{}} }

// allow counts a request of key at now and reports whether it is within
// limit per minute; when not, retry says how long until the window ends.
func (l *limiter) allow(key string, limit int, now time.Time) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.wins[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if len(l.wins) >= maxKeys {
			for k, old := range l.wins {
				if now.Sub(old.start) >= time.Minute {
					delete(l.wins, k)
				}
			}
		}
		w = &window{start: now}
		l.wins[key] = w
	}
	w.n++
	if w.n > limit {
		return false, w.start.Add(time.Minute).Sub(now)
	}
	return true, 0
}
