package engine

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/crmplatform/crm/engine/query"
	"github.com/crmplatform/crm/metadata"
)

// maxCachedReads bounds readCache: past it, the cache starts again.
const maxCachedReads = 2048

// maxCachedReadText is the longest filter and sort (together, in bytes)
// readCache keeps, so that it holds at most a few megabytes however long
// the filters it is sent.
const maxCachedReadText = 1024

// compiledRead is what a list or count compiles from its request for one
// principal: the filter, the sort and the record rule of read with its
// branches as they are while its probes have not answered. It is shared
// by the requests that compile the same way and never changed.
type compiledRead struct {
	filter   query.Predicate
	keys     []query.SortKey
	rule     readRule
	branches []query.Branch
	// counts keeps the count statements (with the probes) by bound.
	counts sync.Map // int → countStmt
	// first keeps the first read of a first page (firstPage) for the
	// page size asked last.
	first atomic.Pointer[pageStmt]
}

// pageStmt is the first read of a list's first page for one page size:
// the segments of the sorted rows without a cursor (query.Segments) and
// the statement reading the first of them, with the probes.
type pageStmt struct {
	limit int
	segs  []query.Predicate
	sql   string
	args  []any
}

// firstPage returns the first read of p, a first page (no cursor, no
// Where beyond the compiled filter, the probes asked) of p.Limit rows of
// obj: the same for every first page of the read at that size, so it is
// built once and kept for the size asked last (a client pages with one
// size). Its arguments are shared: never change them.
func (cr *compiledRead) firstPage(p query.Page, obj *metadata.Object, dialect string) (*pageStmt, error) {
	if ps := cr.first.Load(); ps != nil && ps.limit == p.Limit {
		return ps, nil
	}
	segs, err := query.Segments(p.Keys, "", obj, query.Options{Dialect: dialect})
	if err != nil {
		return nil, err
	}
	p.Segments = segs[:min(1, len(segs))]
	stmt, args := p.SQL()
	ps := &pageStmt{limit: p.Limit, segs: segs, sql: stmt, args: args}
	cr.first.Store(ps)
	return ps, nil
}

// countStmt is a count statement with its arguments.
type countStmt struct {
	sql  string
	args []any
}

// countSQL returns the statement counting the records of table the read
// selects up to bound (0: all), with the rule's probes (query.Count),
// built once per bound.
func (cr *compiledRead) countSQL(table string, bound int) (string, []any) {
	if c, ok := cr.counts.Load(bound); ok {
		cs := c.(countStmt)
		return cs.sql, cs.args
	}
	stmt, args := query.Count(table, cr.branches, cr.filter, bound, cr.rule.probes...)
	cr.counts.Store(bound, countStmt{stmt, args})
	return stmt, args
}

// readKey is everything a compiledRead depends on besides the decision
// and snapshot: the principal's identity as the record rule and the field
// levels read it, the user's time zone (date and time values in a filter
// are read in it), the object and the request's filter and sort. The time
// of the request is not in it: a filter that reads it is never cached.
type readKey struct {
	user, department, roles  string
	object, filter, sort, tz string
}

// readCache keeps compiledReads under the newest decision and snapshot, as
// fieldCache keeps field levels: a list or count of the same filter by the
// same user (page after page, a dashboard's counts) compiles once.
type readCache = decisionCache[readKey, *compiledRead]

// compileRead compiles the filter and, when sorted, the sort of a list or
// count for s's principal, with the record rule of read, or takes them
// from the cache: the same principal (id, department, roles), decision,
// snapshot, time zone, object, filter and sort always compile the same
// way, unless the filter reads the time of the request (today(), a date
// range), which is compiled anew every time, as is a filter longer than
// maxCachedReadText.
func (e *Engine) compileRead(ctx context.Context, s *Scope, filter, sort string, sorted bool) (*compiledRead, error) {
	r := s.r
	loc := e.location(ctx)
	key := readKey{user: r.p.UserID, department: r.p.Department, roles: who(r.p), object: s.obj.Name, filter: filter, sort: sort, tz: loc.String()}
	if !sorted {
		key.sort = "\x00unsorted"
	}
	if cr := e.reads.get(r.d, r.snap, key); cr != nil {
		return cr, nil
	}
	qo := s.QueryOptions(ctx)
	cr := &compiledRead{}
	var timed bool
	var err error
	if cr.filter, timed, err = query.CompileFilterNow(filter, s.obj, qo); err != nil {
		return nil, err
	}
	if sorted {
		if cr.keys, err = query.ParseSort(sort, s.obj, qo); err != nil {
			return nil, err
		}
	}
	if cr.rule, err = s.readRule(ctx, metadata.ActionRead); err != nil {
		return nil, err
	}
	cr.branches = cr.rule.branches(nil)
	if !timed && len(filter)+len(sort) <= maxCachedReadText {
		e.reads.put(r.d, r.snap, key, cr, maxCachedReads)
	}
	return cr, nil
}
