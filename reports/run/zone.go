package run

import (
	"strconv"
	"sync"
	"time"

	"github.com/crmplatform/crm/metadata"
)

// zoneWindow bounds the offset changes a report follows: instants before
// its start take the offset in force then, and no zone is expected to
// change its rules after its end.
var zoneWindow = [2]time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}

// offsetChange is an offset from UTC (whole minutes) in force from an
// instant on (the first one from the start of time).
type offsetChange struct {
	from    time.Time
	minutes int
}

// zones caches the offset changes of time zones by name.
type zones struct{ m sync.Map }

// changes returns the offsets of loc over the window, oldest first: one
// for a zone without summer time, two a year for most with it.
func (z *zones) changes(loc *time.Location) []offsetChange {
	if v, ok := z.m.Load(loc.String()); ok {
		return v.([]offsetChange)
	}
	t := zoneWindow[0].In(loc)
	_, off := t.Zone()
	out := []offsetChange{{minutes: off / 60}}
	for t.Before(zoneWindow[1]) {
		_, end := t.ZoneBounds()
		if end.IsZero() {
			break
		}
		if !end.After(t) {
			// Past the zone's last listed change its rule is computed a
			// year at a time, and a year's end may be given as a bound.
			end = t.Add(time.Minute)
		}
		t = end.In(loc)
		if _, off := t.Zone(); off/60 != out[len(out)-1].minutes {
			out = append(out, offsetChange{from: end.UTC(), minutes: off / 60})
		}
	}
	z.m.Store(loc.String(), out)
	return out
}

// localTime returns the SQL of a datetime column col moved to the wall
// clock of a zone with offset changes ch (more than one), for
// metadata.GroupSQL with a zero offset: each value takes the offset in
// force at its own instant, found by a balanced CASE over the changes
// (a handful of comparisons per value).
func localTime(dialect, col string, ch []offsetChange) string {
	if dialect == metadata.DialectPostgres {
		return "(" + col + " + (" + offsetTree(dialect, col, ch) + ") * INTERVAL '1 minute')"
	}
	return "datetime(" + col + ", (" + offsetTree(dialect, col, ch) + ") || ' minutes')"
}

// offsetTree is a CASE giving the offset in minutes of the value of col
// among the changes ch, by halves.
func offsetTree(dialect, col string, ch []offsetChange) string {
	if len(ch) == 1 {
		return strconv.Itoa(ch[0].minutes)
	}
	mid := len(ch) / 2
	at := "'" + metadata.DBValue(metadata.DialectSQLite, ch[mid].from).(string) + "'"
	if dialect == metadata.DialectPostgres {
		at += "::timestamptz"
	}
	return "CASE WHEN " + col + " < " + at + " THEN " + offsetTree(dialect, col, ch[:mid]) + " ELSE " + offsetTree(dialect, col, ch[mid:]) + " END"
}
